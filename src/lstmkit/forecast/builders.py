"""Ready-made multi-step forecasting models, returned uncompiled.

* ``direct_model``: recurrent layer(s) → ``Dense(horizon * n_targets)`` → ``Reshape((horizon, n_targets))``,
  for ``strategies.direct``.
* ``seq2seq_model``: encoder → ``RepeatVector(horizon)`` (→ joined with the known future exogenous
  values) → decoder with ``return_sequences=True`` → ``TimeDistributed(Dense(n_targets))``, for
  ``strategies.seq2seq``.
"""

from __future__ import annotations

from typing import Any

from .. import _validation
from ..layers import GRU, LSTM, Concatenate, Dense, Input, RepeatVector, Reshape, TimeDistributed
from ..models import Model, Sequential

CELLS = {"lstm": LSTM, "gru": GRU}


def direct_model(look_back: int, n_features: int, horizon: int, n_targets: int = 1, units: int = 32,
                 stacked: int = 1, cell: str = "lstm") -> Sequential:
    """An uncompiled ``Sequential`` that maps ``look_back`` steps to a whole ``horizon`` in one call.

    Args:
        look_back: input timesteps.
        n_features: features per input step.
        horizon: steps predicted at once.
        n_targets: values predicted per step. Default 1.
        units: units of each recurrent layer. Default 32.
        stacked: number of recurrent layers (all but the last return sequences). Default 1.
        cell: ``"lstm"`` or ``"gru"``. Default ``"lstm"``.

    Returns:
        A ``Sequential`` mapping ``(batch, look_back, n_features)`` to ``(batch, horizon, n_targets)``.

    Example:
        >>> model = direct_model(look_back=24, n_features=1, horizon=6)
        >>> model.compile(optimizer="adam", loss="mse")
    """
    owner = "direct_model"
    look_back, n_features, horizon, n_targets, units, stacked = (
        _validation.positive_int(owner, name, value) for name, value in
        (("look_back", look_back), ("n_features", n_features), ("horizon", horizon),
         ("n_targets", n_targets), ("units", units), ("stacked", stacked)))
    layer = _cell(owner, cell)
    model = Sequential([Input(shape=(look_back, n_features))], name=None)
    for i in range(stacked):
        model.add(layer(units, return_sequences=i < stacked - 1))
    model.add(Dense(horizon * n_targets))
    model.add(Reshape((horizon, n_targets)))
    return model


def seq2seq_model(look_back: int, n_features: int, horizon: int, n_targets: int = 1, units: int = 32,
                  future_features: int = 0, cell: str = "lstm") -> Model:
    """An uncompiled encoder-decoder: encode ``look_back`` steps, decode ``horizon`` steps.

    Args:
        look_back: input timesteps of the history.
        n_features: features per history step.
        horizon: steps decoded.
        n_targets: values predicted per step. Default 1.
        units: units of the encoder and of the decoder. Default 32.
        future_features: known future (exogenous) features per decoded step; when > 0 the model takes
            a second input ``(batch, horizon, future_features)`` joined to the repeated encoding. Default 0.
        cell: ``"lstm"`` or ``"gru"``. Default ``"lstm"``.

    Returns:
        A functional ``Model`` mapping ``(batch, look_back, n_features)`` (and the future input, when
        ``future_features > 0``) to ``(batch, horizon, n_targets)``.

    Example:
        >>> model = seq2seq_model(look_back=24, n_features=3, horizon=6, future_features=2)
        >>> model.compile(optimizer="adam", loss="mse")
    """
    owner = "seq2seq_model"
    look_back, n_features, horizon, n_targets, units = (
        _validation.positive_int(owner, name, value) for name, value in
        (("look_back", look_back), ("n_features", n_features), ("horizon", horizon),
         ("n_targets", n_targets), ("units", units)))
    future_features = _validation.non_negative_int(owner, "future_features", future_features)
    layer = _cell(owner, cell)
    history = Input(shape=(look_back, n_features), name="history")
    decoded = RepeatVector(horizon)(layer(units, name="encoder")(history))
    inputs: Any = history
    if future_features:
        future = Input(shape=(horizon, future_features), name="future")
        decoded = Concatenate(axis=-1)([decoded, future])
        inputs = [history, future]
    decoded = layer(units, return_sequences=True, name="decoder")(decoded)
    outputs = TimeDistributed(Dense(n_targets))(decoded)
    return Model(inputs=inputs, outputs=outputs)


def _cell(owner: str, cell: Any) -> Any:
    key = cell.lower() if isinstance(cell, str) else cell
    if key not in CELLS:
        raise _validation.value_error(owner, "`cell`", "'lstm' or 'gru'", repr(cell))
    return CELLS[key]
