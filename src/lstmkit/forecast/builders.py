"""Forecasting models, returned uncompiled, from one builder of recurrent stacks.

* ``recurrent_model``: the one builder of stacked recurrent layers (a model spec's parts): a window
  model ``(batch, lookback, F)`` -> ``Dense(horizon * n_targets)`` (-> ``Reshape((horizon, n_targets))``),
  or, with ``slots``, a stateful sequence model ``(slots, T, F)`` -> ``(slots, T, n_targets)``.
* ``build_model``: ``recurrent_model`` from a spec string (what ``Forecaster`` trains).
* ``direct_model``: a window model with a ``(horizon, n_targets)`` head, for ``strategies.direct``.
* ``seq2seq_model``: encoder → ``RepeatVector(horizon)`` (→ joined with the known future exogenous
  values) → decoder with ``return_sequences=True`` → ``TimeDistributed(Dense(n_targets))``, for
  ``strategies.seq2seq``.

``lookback`` is the one spelling; ``look_back=`` still works in ``direct_model`` and ``seq2seq_model``
with a DeprecationWarning.
"""

from __future__ import annotations

from typing import Any

from .. import _validation
from ..layers import (GRU, LSTM, Bidirectional, Concatenate, Dense, Input, RepeatVector, Reshape, SimpleRNN,
                      TimeDistributed)
from ..models import Model, Sequential
from .specs import parse_model_spec

KINDS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}
CELLS = {"lstm": LSTM, "gru": GRU}


def recurrent_model(parts: dict, n_features: int, n_targets: int, lookback: int | None = None, horizon: int = 1,
                    *, slots: int | None = None, steps_axis: bool = False, n_params: int = 1) -> Sequential:
    """Stacked recurrent layers as ``parts`` names them (``parse_model_spec``'s dict: kind, bidirectional,
    units per layer, dropout), then a Dense head.

    Args:
        parts: the stack; ``{"kind": "lstm"|"gru"|"rnn", "bidirectional", "units": [...], "dropout"}``.
        n_features: features per input step.
        n_targets: values predicted per step.
        lookback: input timesteps of a window model (ignored with ``slots``).
        horizon: steps a window model predicts at once. Default 1.
        slots: when given, a stateful sequence model: every layer ``stateful`` and ``return_sequences``,
            input ``batch_shape=(slots, None, n_features)``, output ``(slots, T, n_targets)``; a carried
            state runs forward, so ``parts["bidirectional"]`` is refused.
        steps_axis: a window model's output keeps the steps axis even for ``horizon == 1``. Default False.
        n_params: raw outputs per step and target of a window model (a probabilistic head, see
            ``probabilistic``); above 1 the output stays flat, ``(batch, horizon * n_targets * n_params)``.

    Returns:
        An uncompiled ``Sequential``: ``(batch, lookback, n_features)`` -> ``(batch, n_targets)`` (horizon
        1 without ``steps_axis``) or ``(batch, horizon, n_targets)``; with ``slots``, see above.
    """
    layer = KINDS[parts["kind"]]
    units = list(parts["units"])
    if slots is not None:
        check_forward(parts)
        stack: list = [Input(batch_shape=(slots, None, n_features))]
        stack += [layer(u, return_sequences=True, stateful=True, dropout=parts["dropout"]) for u in units]
        stack.append(Dense(n_targets))
        return Sequential(stack)
    stack = [Input((lookback, n_features))]
    for i, u in enumerate(units):
        recurrent = layer(u, return_sequences=i < len(units) - 1, dropout=parts["dropout"])
        stack.append(Bidirectional(recurrent) if parts["bidirectional"] else recurrent)
    stack.append(Dense(n_targets * horizon * n_params))
    if n_params == 1 and (horizon > 1 or steps_axis):
        stack.append(Reshape((horizon, n_targets)))
    return Sequential(stack)


def check_forward(parts: dict) -> None:
    """A carried state runs forward in time: refuse a bidirectional spec (``parts`` from
    ``parse_model_spec``)."""
    if parts["bidirectional"]:
        raise _validation.value_error(
            "Forecaster", "`model`", "forward recurrent layers for method='stateful' (a state carried forward "
            "in time)", "a bidirectional model", "Use 'lstm:...' / 'gru:...', or method='recursive' for bilstm.")


def build_model(spec: str, lookback: int, n_features: int, n_targets: int, horizon: int,
                n_params: int = 1) -> Sequential:
    """The stacked recurrent model a spec names: ``(batch, lookback, n_features)`` ->
    ``(batch, n_targets)`` (horizon 1) or ``(batch, horizon, n_targets)``; with ``n_params > 1`` (a
    probabilistic head) ``(batch, horizon * n_targets * n_params)``."""
    return recurrent_model(parse_model_spec(spec), n_features, n_targets, lookback, horizon, n_params=n_params)




@_validation.renamed_keyword("look_back", "lookback")
def direct_model(lookback: int, n_features: int, horizon: int, n_targets: int = 1, units: int = 32,
                 stacked: int = 1, cell: str = "lstm") -> Sequential:
    """An uncompiled ``Sequential`` that maps ``lookback`` steps to a whole ``horizon`` in one call.

    Args:
        lookback: input timesteps (``look_back=`` still works, deprecated).
        n_features: features per input step.
        horizon: steps predicted at once.
        n_targets: values predicted per step. Default 1.
        units: units of each recurrent layer. Default 32.
        stacked: number of recurrent layers (all but the last return sequences). Default 1.
        cell: ``"lstm"`` or ``"gru"``. Default ``"lstm"``.

    Returns:
        A ``Sequential`` mapping ``(batch, lookback, n_features)`` to ``(batch, horizon, n_targets)``.

    Example:
        >>> model = direct_model(lookback=24, n_features=1, horizon=6)
        >>> model.compile(optimizer="adam", loss="mse")
    """
    owner = "direct_model"
    lookback, n_features, horizon, n_targets, units, stacked = (
        _validation.positive_int(owner, name, value) for name, value in
        (("lookback", lookback), ("n_features", n_features), ("horizon", horizon),
         ("n_targets", n_targets), ("units", units), ("stacked", stacked)))
    kind = _cell(owner, cell)
    parts = {"kind": kind, "bidirectional": False, "units": [units] * stacked, "dropout": 0.0}
    return recurrent_model(parts, n_features, n_targets, lookback, horizon, steps_axis=True)


@_validation.renamed_keyword("look_back", "lookback")
def seq2seq_model(lookback: int, n_features: int, horizon: int, n_targets: int = 1, units: int = 32,
                  future_features: int = 0, cell: str = "lstm") -> Model:
    """An uncompiled encoder-decoder: encode ``lookback`` steps, decode ``horizon`` steps.

    Args:
        lookback: input timesteps of the history (``look_back=`` still works, deprecated).
        n_features: features per history step.
        horizon: steps decoded.
        n_targets: values predicted per step. Default 1.
        units: units of the encoder and of the decoder. Default 32.
        future_features: known future (exogenous) features per decoded step; when > 0 the model takes
            a second input ``(batch, horizon, future_features)`` joined to the repeated encoding. Default 0.
        cell: ``"lstm"`` or ``"gru"``. Default ``"lstm"``.

    Returns:
        A functional ``Model`` mapping ``(batch, lookback, n_features)`` (and the future input, when
        ``future_features > 0``) to ``(batch, horizon, n_targets)``.

    Example:
        >>> model = seq2seq_model(lookback=24, n_features=3, horizon=6, future_features=2)
        >>> model.compile(optimizer="adam", loss="mse")
    """
    owner = "seq2seq_model"
    lookback, n_features, horizon, n_targets, units = (
        _validation.positive_int(owner, name, value) for name, value in
        (("lookback", lookback), ("n_features", n_features), ("horizon", horizon),
         ("n_targets", n_targets), ("units", units)))
    future_features = _validation.non_negative_int(owner, "future_features", future_features)
    layer = CELLS[_cell(owner, cell)]
    history = Input(shape=(lookback, n_features), name="history")
    decoded = RepeatVector(horizon)(layer(units, name="encoder")(history))
    inputs: Any = history
    if future_features:
        future = Input(shape=(horizon, future_features), name="future")
        decoded = Concatenate(axis=-1)([decoded, future])
        inputs = [history, future]
    decoded = layer(units, return_sequences=True, name="decoder")(decoded)
    outputs = TimeDistributed(Dense(n_targets))(decoded)
    return Model(inputs=inputs, outputs=outputs)


def _cell(owner: str, cell: Any) -> str:
    key = cell.lower() if isinstance(cell, str) else cell
    if key not in CELLS:
        raise _validation.value_error(owner, "`cell`", "'lstm' or 'gru'", repr(cell))
    return key

