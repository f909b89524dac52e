"""The series as the model sees it, and back: log, (seasonal) differencing and scaling of the targets.

``model_rows`` takes a series' rows ``(T, F)`` to the model's units before scaling (targets' logarithms
with ``log``, then their changes with ``difference`` / ``seasonal_difference``; the other features as
they are), ``scale`` applies the fitted ``SeriesScaler`` (one per series with ``scale_per_id``), and
``to_units`` takes scaled model outputs back to the targets' units from each forecast's origin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..data.scaling import SeriesScaler
from .covariates import n_static
from .framing import Series, offset


def model_rows(cfg: Any, s: Series) -> np.ndarray:
    """``(T - offset, F)``: the series before scaling as the model sees it."""
    n = len(cfg.target)
    targets = np.log(s.values[:, :n]) if cfg.log else s.values[:, :n]
    lag = offset(cfg)
    if not lag:
        return np.concatenate([targets, s.values[:, n:]], axis=1)
    return np.concatenate([targets[lag:] - targets[:-lag], s.values[lag:, n:]], axis=1)


def history_rows(cfg: Any, scaler: SeriesScaler, s: Series, anchor: int) -> np.ndarray:
    """The scaled model rows of ``s`` up to and including row ``anchor``."""
    return scale(cfg, scaler, model_rows(cfg, Series(s.id, s.values[:anchor + 1], None)), s.id)


def fit_scaler(cfg: Any, series: list[Series], fit_rows: list[np.ndarray]) -> SeriesScaler:
    """A ``cfg.scaler`` scaler fitted on the training part of each series' model rows (one scaler per
    series with ``scale_per_id``)."""
    scaler = SeriesScaler(cfg.scaler, per_group=cfg.scale_per_id)
    groups = (np.concatenate([[str(s.id)] * len(r) for s, r in zip(series, fit_rows)])
              if cfg.scale_per_id else None)
    rows = np.concatenate(fit_rows)
    scaler.fit(rows[:, :rows.shape[1] - n_static(cfg)], groups=groups)  # the statics are encoded, not scaled
    return scaler


def scale(cfg: Any, scaler: SeriesScaler, rows: np.ndarray, series_id: Any) -> np.ndarray:
    """``rows`` ``(T, F)`` of series ``series_id`` scaled."""
    groups = [str(series_id)] * len(rows) if cfg.scale_per_id else None
    statics = n_static(cfg)
    if not statics:
        return scaler.transform(rows, groups=groups)
    # the encoded statics (last columns) are already on a common scale: a per-series scaler would flatten them
    scaled = np.asarray(scaler.transform(rows[:, :-statics], groups=groups), dtype=np.float64)
    return np.concatenate([scaled, rows[:, -statics:]], axis=1)


def scale_exogenous(cfg: Any, scaler: SeriesScaler, future: np.ndarray, series_id: Any) -> np.ndarray:
    """Future values ``(steps, n_exogenous)`` of the other features, scaled."""
    n_targets = len(cfg.target)
    rows = np.concatenate([np.zeros((len(future), n_targets)), future], axis=1)
    return scale(cfg, scaler, rows, series_id)[:, n_targets:]


def to_units(cfg: Any, scaler: SeriesScaler, histories: list[tuple[Series, int]], scaled: np.ndarray) -> np.ndarray:
    """Scaled model outputs ``(n, steps, n_targets)`` back in the targets' units (inverse scaling, then
    the changes added up from the last observed level with ``difference``, ``exp`` with ``log``)."""
    steps, n_targets = scaled.shape[1], scaled.shape[2]
    out = np.empty_like(scaled)
    for i, (s, anchor) in enumerate(histories):
        groups = [str(s.id)] * steps if cfg.scale_per_id else None
        values = scaler.inverse_transform(scaled[i], columns=list(range(n_targets)), groups=groups)
        values = np.asarray(values).reshape(steps, n_targets)
        if cfg.difference:  # the changes, added up from the last observed level
            last = s.values[anchor, :n_targets]
            values = (np.log(last) if cfg.log else last) + np.cumsum(values, axis=0)
        elif cfg.seasonal_difference:  # each step: the level one season before plus the change
            season = int(cfg.season)
            seen = s.values[anchor + 1 - season:anchor + 1, :n_targets]
            path = list(np.log(seen) if cfg.log else seen)
            for k in range(steps):
                path.append(path[-season] + values[k])
            values = np.asarray(path[season:])
        out[i] = np.exp(values) if cfg.log else values
    return out
