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

from typing import Any

import numpy as np
import torch

from .. import _validation
from ..data.batching import StatefulBatches, stateful_batches
from ..trainers.streams import StreamState
from . import framing, transforms
from .builders import recurrent_model
from .framing import Series
from .specs import parse_model_spec
from .stateful import stateful
from .training import Fitted, TrainOptions, history_record, train, warn_if_few


def fit(cfg: Any, series: list[Series], options: TrainOptions) -> Fitted:
    """Train one stateful sequence model on every series in chunks of ``cfg.lookback`` steps, one batch
    slot per series (``batch_size`` slots at most), the state carried from chunk to chunk; the last
    ``validation`` fraction of each series' steps held out."""
    validation = options.validation
    rows = [transforms.model_rows(cfg, s) for s in series]
    n_val = [framing.held_out_count(cfg, len(s.values), validation) for s in series]
    scaler = transforms.fit_scaler(cfg, series, [r[:len(r) - v] for r, v in zip(rows, n_val)])
    scaled = [transforms.scale(cfg, scaler, r, s.id) for r, s in zip(rows, series)]
    slots = min(_validation.positive_int("Forecaster.fit", "batch_size", options.batch_size), len(series))
    torch.manual_seed(options.seed)
    np.random.seed(options.seed)
    layout, validation_layout = training_layouts(scaled, n_val, len(cfg.target), slots, cfg.lookback)
    model = recurrent_model(parse_model_spec(cfg.model), len(cfg.features), len(cfg.target), slots=slots)
    n_train = int(sum(len(r) - 1 - v for r, v in zip(rows, n_val)))
    warn_if_few("steps", n_train, int(sum(n_val)), validation, cfg.lookback)
    history = train(model, options, layout, validation_data=validation_layout)
    model.reset_states()
    metrics = {"train_steps": n_train, "validation_steps": int(sum(n_val)), "epochs_run": len(history.epoch),
               "lookback": cfg.lookback, "horizon": 1, "method": "stateful", "validation_fraction": validation}
    held_out = [(s, len(s.values) - 1 - k) for s, v in zip(series, n_val) for k in range(v, 0, -1)]
    return Fitted([model], scaler, history_record(history), metrics, held_out)


def predict(cfg: Any, scaler: Any, model: Any, histories: list[tuple[Series, int]], steps: int,
            futures: list) -> np.ndarray:
    """Forecasts ``(n, steps, n_targets)`` in the targets' units. One step ahead: one pass over each
    series serves all its anchors (step t's output depends on rows <= t only). Further: per anchor, a
    warm-up over the history, then carried steps."""
    n_targets = len(cfg.target)
    out = np.empty((len(histories), steps, n_targets))
    if steps == 1:
        lag = framing.offset(cfg)
        state, by_series = StreamState(model), {}
        for i, (s, anchor) in enumerate(histories):
            by_series.setdefault(id(s), (s, []))[1].append((i, anchor))
        for s, items in by_series.values():
            rows = transforms.history_rows(cfg, scaler, s, max(anchor for _, anchor in items))
            state.reset([0])
            outputs = state.predict(rows[None].astype(np.float32), [0])[0]
            for i, anchor in items:
                out[i, 0] = outputs[anchor - lag]
    else:
        for i, ((s, anchor), future) in enumerate(zip(histories, futures)):
            rows = transforms.history_rows(cfg, scaler, s, anchor)
            exogenous = None if future is None else transforms.scale_exogenous(cfg, scaler, future, s.id)[None]
            out[i] = stateful(model, rows[None].astype(np.float32), steps, targets=list(range(n_targets)),
                              exogenous=exogenous)[0]
    return transforms.to_units(cfg, scaler, histories, out)


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
