"""Intervals several steps ahead from a horizon-1 probabilistic head, by sampling paths.

A horizon-1 head gives the distribution of the next step only; feeding its point forecast back gives one
path, not a spread. Here each of ``N_PATHS`` paths per model draws step ``t`` from the head's distribution
given a window that holds that path's own earlier draws (ancestral sampling, as DeepAR forecasts), so the
uncertainty compounds the way the model says it does. The level-``L`` band at each step is the
``(100 - L) / 2`` and ``(100 + L) / 2`` percentiles of the paths of every ensemble member pooled, taken in
the targets' units: each path goes through the inverse transforms, which is exact for any transform.

Draws: Normal and Student-t from their parameters; the quantile head by inverting its piecewise-linear
quantile function at a uniform draw, held at the outermost trained quantiles beyond them (so its bands do
not reach past its widest trained level at one step). The generator is seeded, so a forecast repeats.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from . import probabilistic, transforms
from .strategies import recursive

N_PATHS = 500  # per ensemble member: the 2.5 % / 97.5 % percentiles then rest on ~12 paths each
SEED = 0


def draw(cfg: Any, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of raw head outputs ``params (n, n_targets, P)`` -> ``(n, n_targets)``, scaled units."""
    t = torch.from_numpy(np.ascontiguousarray(params, dtype=np.float64))
    if cfg.loss == "quantile":
        q = probabilistic.quantiles(t).numpy()  # (n, k, 2m + 1), ascending
        probs = probabilistic.probabilities(cfg.quantile_levels)
        u = np.clip(rng.uniform(size=q.shape[:-1]), probs[0], probs[-1])  # held at the outermost beyond
        upper = np.clip(np.searchsorted(probs, u, side="right"), 1, len(probs) - 1)
        weight = (u - probs[upper - 1]) / (probs[upper] - probs[upper - 1])
        below = np.take_along_axis(q, (upper - 1)[..., None], axis=-1)[..., 0]
        above = np.take_along_axis(q, upper[..., None], axis=-1)[..., 0]
        return below + weight * (above - below)
    dist = probabilistic.distribution(cfg.loss, t)
    noise = (rng.standard_normal(size=params.shape[:-1]) if cfg.loss == "normal"
             else rng.standard_t(dist.df.numpy()))
    return dist.loc.numpy() + dist.scale.numpy() * noise


class SampledModel(probabilistic.PointModel):
    """A horizon-1 head seen by ``strategies.recursive`` as a model that predicts one draw per row."""

    def __init__(self, cfg: Any, model: Any, rng: np.random.Generator):
        super().__init__(cfg, model)
        self._rng = rng

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = 0) -> np.ndarray:
        raw = np.asarray(self._model.predict(x, batch_size=batch_size, verbose=verbose))
        return draw(self._cfg, probabilistic.to_params(self._cfg, raw)[:, 0], self._rng)


def paths(cfg: Any, scaler: Any, models: list, histories: list, x: np.ndarray, exogenous: np.ndarray | None,
          steps: int, n_paths: int = N_PATHS) -> np.ndarray:
    """Sampled futures ``(n, len(models) * n_paths, steps, n_targets)`` in the targets' units.

    ``x (n, lookback, F)``: the scaled last windows; ``exogenous (n, steps, F - n_targets)`` or None."""
    n, n_targets = len(x), len(cfg.target)
    rng = np.random.default_rng(SEED)
    x_rep = np.repeat(x, n_paths, axis=0)  # path j of series i is row i * n_paths + j
    exo_rep = None if exogenous is None else np.repeat(exogenous, n_paths, axis=0)
    members = []
    for model in models:
        scaled = recursive(SampledModel(cfg, model, rng), x_rep, steps, targets=list(range(n_targets)),
                           exogenous=exo_rep, window=cfg.lookback)
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
