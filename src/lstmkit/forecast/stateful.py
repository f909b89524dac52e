"""Stateful multi-step forecasting: warm the state up on the known history once, then generate one step
at a time carrying the recurrent states (h, c) instead of re-running the window (seed 004's many-to-many).

For a model that reads the whole history (``Input((None, F))``, forward recurrent layers, step-wise
layers otherwise) this gives the same numbers as ``recursive(model, history, steps)`` re-running the
growing history every step, at O(1) cost per step instead of O(T). The states live in a
``StreamState`` keyed by series, so the model's own Keras-style slot memory is not touched and the
model needs no fixed batch size.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _validation
from ..trainers.streams import StreamState
from .feedback import StepWriter, last_step_output, next_step, resolve_targets
from .layout import as_series, exogenous_array, restore_layout
from .strategies import model_timesteps


def stateful(model: Any, history: Any, steps: int, targets: Sequence[int] | None = None,
             exogenous: Any = None, state: StreamState | None = None) -> np.ndarray:
    """Forecast ``steps`` ahead: one pass over ``history``, then one carried-state step per forecast.

    Args:
        model: a model mapping ``(batch, T, F)`` to ``(batch, T, n_targets)`` (return_sequences) or
            ``(batch, n_targets)``; its non-recurrent layers must act step by step (no Bidirectional,
            no Conv1D over several steps; a clear error says which layer is in the way).
        history: ``(T,)``, ``(T, F)`` or ``(n_series, T, F)`` observed values (the warm-up).
        steps: how many steps to forecast (>= 1).
        targets: the input features the outputs are fed back into (``feedback.resolve_targets``);
            default: every feature without ``exogenous``, the first ``n_targets`` with it.
        exogenous: known future values of the other features, ``(steps, F - n_targets)`` or
            ``(n_series, steps, F - n_targets)``; row i is the time of forecast i.
        state: a ``StreamState`` to warm up and leave holding each series' state after the last
            forecast, series i under id i (ids 0 .. n_series - 1 are reset first; use a state of its own
            rather than ``model.stream_state`` if those ids mean other streams there); default: a fresh
            one, discarded.

    Returns:
        ``(steps,)``, ``(steps, n_targets)`` or ``(n_series, steps, n_targets)``, in ``history``'s layout.

    Example:
        >>> model = Sequential([Input((None, 1)), LSTM(16, return_sequences=True), Dense(1)])
        >>> stateful(model, np.sin(np.arange(200) / 10), steps=50).shape
        (50,)
    """
    owner = "forecast.stateful"
    series, layout = as_series(owner, history)
    n_series, _, n_features = series.shape
    steps = _validation.positive_int(owner, "steps", steps)
    window = model_timesteps(model)
    if window is not None:
        raise _validation.value_error(
            owner, "`model`", "a model that reads the whole history (Input((None, features)))",
            f"a model built for windows of {window} steps", "Forecast it with forecast.recursive, which feeds it "
            f"the last {window} steps each time, or build the model with Input((None, features)).")
    if exogenous is not None:  # the shape it can check before the warm-up changes any state
        exogenous_array(owner, exogenous, layout, (n_series, steps, None))
    state = StreamState(model) if state is None else state
    ids = tuple(range(n_series))  # one tuple for every step: StreamState reuses its rows
    state.reset(ids)
    prediction = last_step_output(state.predict(series, ids))  # the warm-up: one pass over the history
    targets = resolve_targets(targets, n_features, prediction.shape[1], exogenous is not None)
    future = exogenous_array(owner, exogenous, layout, (n_series, steps, n_features - len(targets)))
    forecast = np.empty((n_series, steps, prediction.shape[1]), dtype=np.float64)
    forecast[:, 0] = prediction
    writer = StepWriter(owner, n_features, targets, prediction.shape)
    for i in range(1, steps):
        exogenous_step = None if future is None else future[:, i - 1]
        if i == 1:  # every check on the first fed-back step; later ones are written into the same array
            step = next_step(prediction, n_features, targets, exogenous_step)
        else:
            writer.write(step[:, 0], prediction, exogenous_step)
        prediction = last_step_output(state.predict(step, ids))  # O(1): one step from the carried states
        writer.check(prediction)
        forecast[:, i] = prediction
    return restore_layout(layout, forecast)
