"""The recursive (window) method of ``Forecaster``: a model trained on look-back windows.

Each ``lookback`` rows of a series' features (targets first) are an input and the next ``horizon`` rows
of the targets its output; the last ``validation`` fraction of each series' windows is held out for
scoring. Early stopping sees only the first half of each series' held-out windows; the later half (the
calibration tail) neither trains nor early-stops the network, so the conformal intervals calibrated on it
are not made optimistic by the choice of its weights (it does help choose the combination with baselines,
one of at most five candidates per series: see :mod:`.combination`). Horizon 1 models forecast further by feeding their predictions back into
the last window (``strategies.recursive``, future values of the other features given); horizon H models
predict H steps at once (``strategies.direct``). An ensemble is ``cfg.ensemble`` models from
consecutive seeds, their forecasts averaged in the targets' units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..data.windows import lookback as lookback_pairs
from . import framing, probabilistic, sample_paths, transforms
from .builders import build_model
from .covariates import input_width
from .framing import Series
from .strategies import direct, recursive
from .training import Fitted, TrainOptions, history_record, train, warn_if_few


def fit(cfg: Any, series: list[Series], options: TrainOptions) -> Fitted:
    """Train ``cfg.ensemble`` window models (seeds ``seed``, ``seed + 1``, ...) on ``series``."""
    validation = options.validation
    windows = [framing.window_count(cfg, s) for s in series]
    n_val = [framing.held_out_count(cfg, len(s.values), validation) for s in series]
    fit_rows = [transforms.model_rows(cfg, s)[:w - v - 1 + cfg.lookback + cfg.horizon] for s, w, v in
                zip(series, windows, n_val)]
    scaler = transforms.fit_scaler(cfg, series, fit_rows)
    x_train, y_train, x_val, y_val = [], [], [], []
    for s, w, v in zip(series, windows, n_val):
        scaled = transforms.scale(cfg, scaler, transforms.model_rows(cfg, s), s.id)
        x, y = lookback_pairs(scaled, cfg.lookback, cfg.horizon, targets=list(range(len(cfg.target))))
        x_train.append(x[:w - v])
        y_train.append(y[:w - v])
        stop = w - v + early_stopping_count(v)
        x_val.append(x[w - v:stop])
        y_val.append(y[w - v:stop])
    # the held-out origins: the last input row of each held-out window
    lag = framing.offset(cfg)
    held_out = [(s, lag + i + cfg.lookback - 1) for s, w, v in zip(series, windows, n_val) for i in range(w - v, w)]
    tail = [(s, lag + i + cfg.lookback - 1) for s, w, v in zip(series, windows, n_val)
            for i in range(w - v + early_stopping_count(v), w)]
    x_train, y_train = np.concatenate(x_train), np.concatenate(y_train)
    validation_data = (np.concatenate(x_val), np.concatenate(y_val)) if validation else None
    warn_if_few("windows", len(x_train), int(sum(n_val)), validation, cfg.lookback)
    models, epochs_run, record = [], [], {}
    for member in range(cfg.ensemble):
        torch.manual_seed(options.seed + member)
        np.random.seed(options.seed + member)
        model = build_model(cfg.model, cfg.lookback, input_width(cfg), len(cfg.target), cfg.horizon,
                            probabilistic.n_params(cfg.loss, cfg.quantile_levels))
        loss = (probabilistic.make_loss(cfg.loss, cfg.quantile_levels, cfg.horizon, len(cfg.target))
                if probabilistic.is_probabilistic(cfg) else "mse")
        history = train(model, options, x_train, y_train, validation_data, loss=loss)
        models.append(model)
        epochs_run.append(len(history.epoch))
        if member == 0:
            record = history_record(history)
    metrics = {"train_windows": int(len(x_train)), "validation_windows": int(sum(n_val)),
               "epochs_run": epochs_run[0] if len(epochs_run) == 1 else epochs_run,
               "lookback": cfg.lookback, "horizon": cfg.horizon, "ensemble": cfg.ensemble,
               "validation_fraction": validation,
               "early_stopping_windows": int(sum(early_stopping_count(v) for v in n_val)),
               "calibration_windows": len(tail)}
    return Fitted(models, scaler, record, metrics, held_out, tail)


def early_stopping_count(n_held_out: int) -> int:
    """Of a series' ``n_held_out`` held-out windows, how many early stopping sees: the first half
    (rounded up; all of them when there is just one), the rest being the calibration tail."""
    return n_held_out if n_held_out < 2 else (n_held_out + 1) // 2


def predict(cfg: Any, scaler: Any, models: list, histories: list[tuple[Series, int]], steps: int,
            futures: list) -> np.ndarray:
    """Forecasts ``(n, steps, n_targets)`` in the targets' units, each from the rows up to its anchor,
    averaged over the ensemble's ``models``."""
    n_targets = len(cfg.target)
    x, exogenous = _inputs(cfg, scaler, histories, steps, futures)
    members = []
    for model in models:  # the ensemble's forecasts, averaged in the targets' units
        if probabilistic.is_probabilistic(cfg):
            model = probabilistic.PointModel(cfg, model)  # its median / location
        if cfg.horizon == 1:
            scaled = recursive(model, x, steps, targets=list(range(n_targets)), exogenous=exogenous,
                               window=cfg.lookback)
        else:
            scaled = direct(model, x)[:, :steps]
        members.append(transforms.to_units(cfg, scaler, histories, scaled.reshape(len(histories), steps, n_targets)))
    return np.mean(members, axis=0)


def _inputs(cfg: Any, scaler: Any, histories: list[tuple[Series, int]], steps: int,
            futures: list) -> tuple[np.ndarray, np.ndarray | None]:
    """The scaled last windows ``(n, lookback, F)`` and, for a horizon-1 model with other features, their
    scaled future values ``(n, steps, F - n_targets)`` (else None)."""
    n_targets, n_features = len(cfg.target), input_width(cfg)
    x = np.stack([transforms.history_rows(cfg, scaler, s, anchor)[-cfg.lookback:] for s, anchor in histories])
    if cfg.horizon != 1 or n_features == n_targets:
        return x, None
    # no future rows (only past / static covariates): the last row's repeated, right for the statics
    # (constant); past features are never read (a horizon-1 model with them forecasts one step)
    futures = [np.tile(s.values[anchor, n_targets:], (steps, 1)) if f is None else f
               for f, (s, anchor) in zip(futures, histories)]
    return x, np.stack([transforms.scale_exogenous(cfg, scaler, f, s.id) for f, (s, _) in zip(futures, histories)])


def predict_bands(cfg: Any, scaler: Any, models: list, histories: list[tuple[Series, int]], steps: int,
                  futures: list, levels: list) -> tuple[np.ndarray, dict]:
    """A probabilistic head's point forecasts ``(n, steps, n_targets)`` and ``{level: (lo, hi)}`` of the
    same shape, in the targets' units. Within the horizon: each quantile through the same inverse
    transforms as the point, averaged over the ensemble. A horizon-1 head further ahead: the point fed
    back as in ``predict``; the first step's bands its own quantiles, the later ones from sampled paths
    (``sample_paths``)."""
    if cfg.horizon == 1 and steps > 1:
        n_paths = sample_paths.path_count("Forecaster", levels, len(models))
        _, first = predict_bands(cfg, scaler, models, histories, 1, futures, levels)
        x, exogenous = _inputs(cfg, scaler, histories, steps, futures)
        sampled = sample_paths.paths(cfg, scaler, models, histories, x, exogenous, steps, n_paths)
        banded = sample_paths.bands(sampled, levels)
        for level, (lo, hi) in banded.items():
            lo[:, :1], hi[:, :1] = first[level]
        return predict(cfg, scaler, models, histories, steps, futures), banded
    x, _ = _inputs(cfg, scaler, histories, steps, futures)
    points, members = [], []
    for model in models:
        params = probabilistic.to_params(cfg, model.predict(x, batch_size=len(x), verbose=0))[:, :steps]
        points.append(transforms.to_units(cfg, scaler, histories, probabilistic.point(cfg, params)))
        members.append({level: tuple(transforms.to_units(cfg, scaler, histories, b) for b in pair)
                        for level, pair in probabilistic.bands(cfg, params, levels).items()})
    return np.mean(points, axis=0), {level: (np.mean([m[level][0] for m in members], axis=0),
                                             np.mean([m[level][1] for m in members], axis=0)) for level in levels}
