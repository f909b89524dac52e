"""The stateful method of ``Forecaster``: a model that reads each whole series, trained with carried state.

Where the window method trains a model on ``lookback``-step windows and feeds its forecasts back into
the last window, the stateful method (seed 004's many-to-many tanks) trains a ``return_sequences`` model
on every series from its first row, in chunks of ``lookback`` steps laid out by ``stateful_batches`` so
that each chunk starts from the state the previous chunk of the same series left (truncated
back-propagation through time). At step t the model predicts the value at t + 1. Forecasting warms the
state up on the whole history once and then carries (h, c) one step at a time (``forecast.stateful``),
which is exactly how the model was trained: no window is ever re-run.
"""

from __future__ import annotations

import numpy as np

from .. import _validation
from ..data.batching import StatefulBatches, stateful_batches
from ..layers import Dense, Input
from ..models import Sequential


def check_forward(parts: dict) -> None:
    """A carried state runs forward in time: refuse a bidirectional spec (``parts`` from
    ``parse_model_spec``)."""
    if parts["bidirectional"]:
        raise _validation.value_error(
            "Forecaster", "`model`", "forward recurrent layers for method='stateful' (a state carried forward "
            "in time)", "a bidirectional model", "Use 'lstm:...' / 'gru:...', or method='recursive' for bilstm.")


def build_sequence_model(layer: type, parts: dict, slots: int, n_features: int, n_targets: int) -> Sequential:
    """Stacked stateful ``layer`` s (LSTM, GRU, SimpleRNN) returning sequences, then a Dense head:
    ``(slots, T, n_features)`` -> ``(slots, T, n_targets)``; ``parts`` from ``parse_model_spec``."""
    check_forward(parts)
    layers: list = [Input(batch_shape=(slots, None, n_features))]
    for units in parts["units"]:
        layers.append(layer(units, return_sequences=True, stateful=True, dropout=parts["dropout"]))
    layers.append(Dense(n_targets))
    return Sequential(layers)


def next_step_pairs(scaled: np.ndarray, n_targets: int, end: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``(T - 1, F)`` = rows 0 .. T - 2 and targets ``(T - 1, n_targets)`` = the targets of rows
    1 .. T - 1 of ``scaled[:end]``: step t's output is trained to be row t + 1."""
    rows = scaled[:end]
    return rows[:-1].astype(np.float32), rows[1:, :n_targets].astype(np.float32)


def training_layouts(scaled: list[np.ndarray], n_val: list[int], n_targets: int, slots: int,
                     chunk: int) -> tuple[StatefulBatches, StatefulBatches | None]:
    """The training layout (each series without its last ``n_val`` rows) and the validation layout (whole
    series, weight 1 only on the predictions of those last rows, so the state is warmed up on the
    training part first, as at forecast time)."""
    train = [next_step_pairs(s, n_targets, len(s) - v) for s, v in zip(scaled, n_val)]
    layout = stateful_batches([x for x, _ in train], [y for _, y in train], batch_size=slots, chunk=chunk)
    if not any(n_val):
        return layout, None
    whole = [next_step_pairs(s, n_targets) for s in scaled]
    validation = stateful_batches([x for x, _ in whole], [y for _, y in whole], batch_size=slots, chunk=chunk)
    held_out = [np.arange(len(x)) >= len(x) - v for (x, _), v in zip(whole, n_val)]
    marks = stateful_batches([x for x, _ in whole], [m.astype(np.float32) for m in held_out],
                             batch_size=slots, chunk=chunk)  # the same slots and chunks: marks.y lines up
    validation.sample_weight = validation.sample_weight * marks.y
    return layout, validation
