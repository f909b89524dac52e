"""Intervals several steps ahead from a horizon-1 probabilistic head, by sampling paths.

A horizon-1 head gives the distribution of the next step only; feeding its point forecast back gives one
path, not a spread. Here each of ``n`` paths per model draws step ``t`` from the head's distribution given
a window that holds that path's own earlier draws (ancestral sampling, as DeepAR forecasts), so the
uncertainty compounds the way the model says it does. The level-``L`` band at step ``t >= 2`` is the
``(100 - L) / 2`` and ``(100 + L) / 2`` percentiles of the paths of every ensemble member pooled, taken in
the targets' units (each path goes through the inverse transforms, exact for any transform); step 1 keeps
the head's own quantiles (``windowed.predict_bands``).

Draws: Normal and Student-t from their parameters; the quantile head by inverting its quantile function,
linear between the trained quantiles and a Normal tail beyond the outermost ones (matched to the median and
that quantile), so a one-level head's spread is not cut at its trained level. Each series draws from its
own generator, seeded from its id and origin: its bands repeat whatever else is forecast with it. Enough
paths are drawn for at least ``TAIL_PATHS`` beyond each asked percentile.
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import numpy as np
import torch
from scipy.special import ndtri  # scipy comes with scikit-learn

from .. import _validation
from . import probabilistic, transforms
from .strategies import recursive

N_PATHS = 500  # per ensemble member, at least
TAIL_PATHS = 5  # paths expected beyond the outermost asked percentile, at least
MAX_PATHS = 10_000  # per ensemble member: a level needing more is refused
PREDICT_BATCH = 4096  # rows per predict call (series x paths)
SEED = 0


def path_count(owner: str, levels: list, n_models: int) -> int:
    """Paths per model for ``levels``: ``N_PATHS``, or more so that ``TAIL_PATHS`` fall beyond the
    outermost percentile; a ValueError for a level that would need more than ``MAX_PATHS``."""
    tail = (100.0 - max(float(v) for v in levels)) / 200.0
    needed = max(N_PATHS, math.ceil(TAIL_PATHS / (tail * n_models)))
    if needed > MAX_PATHS:
        most = 100.0 * (1.0 - 2.0 * TAIL_PATHS / (MAX_PATHS * n_models))
        raise _validation.value_error(owner, "`level`", f"levels up to {most:g} beyond the first step of a "
                                      f"horizon-1 head ({MAX_PATHS} sampled paths per model)", f"level={levels}",
                                      "Ask for a lower level, or train with --horizon H for H-step quantiles.")
    return needed


def generators(histories: list) -> list[np.random.Generator]:
    """One generator per ``(series, origin)``, seeded from the series id and the origin (a stable hash)."""
    return [np.random.default_rng([SEED, zlib.crc32(repr((str(getattr(s, "id", None)), int(anchor))).encode())])
            for s, anchor in histories]


def draw(cfg: Any, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of raw head outputs ``params (n, n_targets, P)`` -> ``(n, n_targets)``, scaled units."""
    t = torch.from_numpy(np.ascontiguousarray(params, dtype=np.float64))
    if cfg.loss == "quantile":
        return _quantile_draw(probabilistic.quantiles(t).numpy(), probabilistic.probabilities(cfg.quantile_levels),
                              np.clip(rng.uniform(size=params.shape[:-1]), 1e-12, 1.0 - 1e-12))
    dist = probabilistic.distribution(cfg.loss, t)
    noise = (rng.standard_normal(size=params.shape[:-1]) if cfg.loss == "normal"
             else rng.standard_t(dist.df.numpy()))
    return dist.loc.numpy() + dist.scale.numpy() * noise


def _quantile_draw(q: np.ndarray, probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The quantile function at ``u``: linear between the quantiles ``q (..., K)`` at ``probs`` (ascending,
    the median in the middle), a Normal tail beyond the outermost ones."""
    upper = np.clip(np.searchsorted(probs, u, side="right"), 1, len(probs) - 1)
    weight = np.clip((u - probs[upper - 1]) / (probs[upper] - probs[upper - 1]), 0.0, 1.0)
    below = np.take_along_axis(q, (upper - 1)[..., None], axis=-1)[..., 0]
    above = np.take_along_axis(q, upper[..., None], axis=-1)[..., 0]
    inside = below + weight * (above - below)
    median = q[..., len(probs) // 2]
    z = ndtri(u)
    low_scale = (median - q[..., 0]) / -ndtri(probs[0])  # the Normal through the median and q[0]
    high_scale = (q[..., -1] - median) / ndtri(probs[-1])
    return np.where(u < probs[0], median + low_scale * z, np.where(u > probs[-1], median + high_scale * z, inside))


class SampledModel(probabilistic.PointModel):
    """A horizon-1 head seen by ``strategies.recursive`` as a model that predicts one draw per row; rows
    come series by series, ``per_series`` of them each, and each series draws from its own generator."""

    def __init__(self, cfg: Any, model: Any, rngs: list[np.random.Generator], per_series: int):
        super().__init__(cfg, model)
        self._rngs, self._per_series = rngs, per_series

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = 0) -> np.ndarray:
        raw = np.asarray(self._model.predict(x, batch_size=batch_size, verbose=verbose))
        params = probabilistic.to_params(self._cfg, raw)[:, 0]
        k = self._per_series
        return np.concatenate([draw(self._cfg, params[i * k:(i + 1) * k], rng) for i, rng in enumerate(self._rngs)])


def paths(cfg: Any, scaler: Any, models: list, histories: list, x: np.ndarray, exogenous: np.ndarray | None,
          steps: int, n_paths: int = N_PATHS) -> np.ndarray:
    """Sampled futures ``(n, len(models) * n_paths, steps, n_targets)`` in the targets' units.

    ``x (n, lookback, F)``: the scaled last windows; ``exogenous (n, steps, F - n_targets)`` or None."""
    n, n_targets = len(x), len(cfg.target)
    rngs = generators(histories)
    x_rep = np.repeat(x, n_paths, axis=0)  # path j of series i is row i * n_paths + j
    exo_rep = None if exogenous is None else np.repeat(exogenous, n_paths, axis=0)
    members = []
    for model in models:
        scaled = recursive(SampledModel(cfg, model, rngs, n_paths), x_rep, steps, targets=list(range(n_targets)),
                           exogenous=exo_rep, window=cfg.lookback, batch_size=min(len(x_rep), PREDICT_BATCH))
        members.append(_to_units(cfg, scaler, histories, scaled.reshape(n, n_paths, steps, n_targets)))
    return np.concatenate(members, axis=1)


def _to_units(cfg: Any, scaler: Any, histories: list, scaled: np.ndarray) -> np.ndarray:
    """``(n, n_paths, steps, k)`` scaled paths in the targets' units, each path as one forecast."""
    n, n_paths, steps, k = scaled.shape
    if cfg.difference or cfg.seasonal_difference:  # the changes add up along each path
        return np.stack([transforms.to_units(cfg, scaler, [h] * n_paths, scaled[i]) for i, h in enumerate(histories)])
    # elementwise maps (scaling, exp): all paths of a series at once
    return transforms.to_units(cfg, scaler, histories, scaled.reshape(n, n_paths * steps, k)).reshape(scaled.shape)


def bands(sampled: np.ndarray, levels: list) -> dict:
    """``{level: (lo, hi)}``, each ``(n, steps, n_targets)``: the percentiles of ``sampled``'s paths (axis 1)."""
    return {level: (np.percentile(sampled, (100.0 - float(level)) / 2.0, axis=1),
                    np.percentile(sampled, (100.0 + float(level)) / 2.0, axis=1)) for level in levels}
