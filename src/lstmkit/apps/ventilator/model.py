"""Seed 000's network: stacked ``Bidirectional(LSTM(..., return_sequences=True))`` and a per-step Dense head.

The seed's notebook stacks 4 bidirectional layers (768/512/384/256 units, or 320/305/304/229 in its
tutorial cell) then ``Dense(128, selu)`` (``Dense(100, relu)`` in the cell) and ``Dense(1)``: one pressure
per time step, ``(breaths, 80, 1)``. The defaults here are scaled down for a 2-core CPU; pass
``units=(768, 512, 384, 256), dense=128`` for the seed's sizes.
"""

from __future__ import annotations

from typing import Any, Sequence

from ... import _validation
from ...layers import LSTM, Bidirectional, Dense, Input
from ...models import Model


def build_model(n_features: int, units: Sequence[int] = (64, 32), dense: int = 32, timesteps: int = 80,
                activation: str = "selu", name: str = "ventilator_bilstm") -> Any:
    """The seed's stacked bidirectional LSTM with a Dense head (uncompiled).

    Args:
        n_features: features per time step (``len(FEATURE_COLUMNS)``).
        units: units of each ``Bidirectional(LSTM(u, return_sequences=True))`` layer, first to last
            (default ``(64, 32)``; the seed: ``(768, 512, 384, 256)``). Each layer outputs ``2 u`` features.
        dense: units of the hidden per-step Dense layer (default 32; the seed: 128); 0 or None drops it.
        timesteps: steps per breath (default 80); None accepts any length.
        activation: the hidden Dense layer's activation (default ``"selu"``, as the seed).
        name: the model's name.

    Returns:
        An uncompiled :class:`lstmkit.Model`: ``(batch, timesteps, n_features) -> (batch, timesteps, 1)``.

    Example:
        >>> model = build_model(len(FEATURE_COLUMNS))
        >>> model.compile(optimizer="adam", loss="mae")
    """
    owner = "ventilator.build_model"
    n_features = _validation.positive_int(owner, "n_features", n_features)
    if isinstance(units, int):
        units = (units,)
    units = [_validation.positive_int(owner, "units", u) for u in units]
    if not units:
        raise _validation.value_error(owner, "`units`", "at least one layer size", "an empty sequence",
                                      "Pass e.g. units=(64, 32).")
    if timesteps is not None:
        timesteps = _validation.positive_int(owner, "timesteps", timesteps)
    inputs = Input(shape=(timesteps, n_features), name="features")           # (batch, T, F)
    x = inputs
    for i, u in enumerate(units):
        x = Bidirectional(LSTM(u, return_sequences=True), name=f"bilstm_{i + 1}")(x)   # (batch, T, 2u)
    if dense:
        x = Dense(_validation.positive_int(owner, "dense", dense), activation=activation, name="dense")(x)
    outputs = Dense(1, name="pressure")(x)                                   # (batch, T, 1)
    return Model(inputs=inputs, outputs=outputs, name=name)
