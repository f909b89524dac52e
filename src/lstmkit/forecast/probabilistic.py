"""Probabilistic output heads: quantile regression and Normal / Student-t likelihoods.

The alternatives to conformal intervals (``Forecaster(loss=...)``). The network's last ``Dense`` puts
out, per horizon step and target, ``P`` raw numbers (flat: ``(batch, horizon * n_targets * P)``); this
module turns them into distributions, losses and intervals, in the model's scaled units:

* ``"quantile"``: ``P = 1 + 2 m`` for ``m`` trained levels: the median, then ``m`` lower and ``m`` upper
  widths. Each quantile is the median minus (plus) the running sum of softplus widths, from the innermost
  level outwards, so quantiles never cross. Trained by the pinball loss averaged over the quantiles.
* ``"normal"``: ``P = 2``: location and scale (``softplus + SCALE_FLOOR``), trained by the Normal
  negative log-likelihood.
* ``"student_t"``: ``P = 3``: location, scale and learned degrees of freedom ``DF_MIN + softplus(raw +
  DF_SHIFT)`` (at least 2.01, so the variance stays finite even where softplus underflows; 5 at
  initialisation, a common robust default from which the data move it),
  trained by the Student-t negative log-likelihood. Its quantiles come from ``scipy.stats.t.ppf``
  (torch's StudentT has no ``icdf``; scipy comes with scikit-learn, a dependency).

The point forecast is the median (``quantile``) or the location (``normal`` / ``student_t``). The
quantiles are taken back to the targets' units through the same inverse transforms as the point
forecast, which is exact for increasing maps (scaling, ``log``) and for the first differenced step (a
shift by the last known level). Further differenced steps are sums of changes, and a sum of quantiles
is no quantile of the sum: a horizon-1 head gets them from sampled paths, each summed on its own
(``sample_paths``); a horizon-H head, whose outputs are per-step marginals with no joint draw, refuses
differencing.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .. import _validation
from .intervals import parse_levels

LOSSES = ("mse", "quantile", "normal", "student_t")
PROBABILISTIC = ("quantile", "normal", "student_t")
DEFAULT_LEVELS = (80, 95)
METHODS = {"quantile": "quantile regression", "normal": "normal likelihood", "student_t": "student-t likelihood"}
SCALE_FLOOR = 1e-3  # in scaled units: keeps the likelihood finite when a window is fitted exactly
DF_MIN = 2.01  # Student-t degrees of freedom above 2: a finite variance
DF_SHIFT = math.log(math.expm1(5.0 - DF_MIN))  # DF_MIN + softplus(0 + DF_SHIFT) = 5 at initialisation


def is_probabilistic(cfg: Any) -> bool:
    """Whether a ``ForecasterConfig`` trains one of this module's heads."""
    return getattr(cfg, "loss", "mse") in PROBABILISTIC


def default_levels(cfg: Any) -> list:
    """The levels a head is scored at when none are asked for: a quantile head's own, else 80 and 95."""
    return list(cfg.quantile_levels) if cfg.loss == "quantile" else list(DEFAULT_LEVELS)


def n_params(loss: str, levels: Sequence[float]) -> int:
    """Raw outputs per step and target."""
    return {"mse": 1, "quantile": 1 + 2 * len(levels), "normal": 2, "student_t": 3}[loss]


def probabilities(levels: Sequence[float]) -> np.ndarray:
    """The quantile probabilities of ``levels`` and the median, ascending: for ``[80, 95]`` ``[0.025, 0.1,
    0.5, 0.9, 0.975]``."""
    ordered = sorted(float(v) for v in levels)
    lower = [(100.0 - v) / 200.0 for v in reversed(ordered)]
    return np.array(lower + [0.5] + [(100.0 + v) / 200.0 for v in ordered])


def describe(cfg: Any) -> dict:
    """The record of a probabilistic head's intervals in ``metrics["intervals"]``."""
    return {"method": METHODS[cfg.loss], "loss": cfg.loss,
            "levels": list(cfg.quantile_levels) if cfg.loss == "quantile" else "any",
            "steps": cfg.horizon, "point_forecast": "median" if cfg.loss == "quantile" else "location",
            "further_steps": ("sampled paths: each step drawn from the head given the path's earlier draws"
                              if cfg.horizon == 1 else "none (train with a longer horizon)")}


def check_loss(owner: str, loss: Any, levels: Any) -> tuple[str, list]:
    """``loss`` and ``quantile_levels`` checked: ``(loss, levels)``, the levels sorted (the defaults for
    ``"quantile"`` when None, none for the other losses)."""
    _validation.choice(owner, "loss", loss, LOSSES)
    if loss != "quantile":
        if levels is not None:
            raise _validation.value_error(owner, "`quantile_levels`", "levels only with loss='quantile' (the "
                                          "Normal / Student-t heads give any level)",
                                          f"quantile_levels={levels!r} with loss={loss!r}",
                                          "Drop quantile_levels, or use loss='quantile'.")
        return loss, []
    parsed = parse_levels(owner, DEFAULT_LEVELS if levels is None else levels)
    if not parsed:
        raise _validation.value_error(owner, "`quantile_levels`", "at least one level in (0, 100), e.g. [80, 95]",
                                      repr(levels))
    return loss, parsed


def differencing_allowed(cfg: Any) -> bool:
    """Whether ``cfg``'s head may model differences: any mse model, and a probabilistic head of horizon 1
    (its later steps come from sampled paths, summed path by path); not a horizon-H probabilistic head."""
    return not is_probabilistic(cfg) or cfg.horizon == 1


def check_transform(owner: str, cfg: Any) -> None:
    """Refuse differencing with a horizon-H probabilistic head (its per-step quantiles of changes do not
    add up to quantiles of the levels)."""
    if not differencing_allowed(cfg) and (cfg.difference or cfg.seasonal_difference):
        raise _validation.value_error(
            owner, "`transform`", f"'none' or 'log' with loss={cfg.loss!r} and horizon={cfg.horizon} (the "
            "head's per-step quantiles of changes do not add up to quantiles of the levels)",
            "a differencing transform", "Use horizon=1 (its further steps are sampled paths, exact with "
            "differencing), transform='none' or 'log' (or leave it to fit), or loss='mse' for conformal "
            "intervals of a differenced model.")


# -- torch: the head's parameters and the losses -------------------------------------------------------------
def _split(raw: torch.Tensor, horizon: int, n_targets: int, p: int) -> torch.Tensor:
    return raw.reshape(raw.shape[0], horizon, n_targets, p)


def quantiles(params: torch.Tensor) -> torch.Tensor:
    """Raw ``(..., 1 + 2m)`` -> the ``2m + 1`` quantiles ascending (probabilities as ``probabilities``):
    the median minus / plus running sums of softplus widths, so they never cross."""
    m = (params.shape[-1] - 1) // 2
    median = params[..., :1]
    lower = median - torch.cumsum(F.softplus(params[..., 1:1 + m]), dim=-1)  # innermost first
    upper = median + torch.cumsum(F.softplus(params[..., 1 + m:]), dim=-1)
    return torch.cat([torch.flip(lower, dims=[-1]), median, upper], dim=-1)


def distribution(loss: str, params: torch.Tensor) -> torch.distributions.Distribution:
    """The Normal / Student-t of raw ``(..., 2 | 3)`` parameters."""
    loc, scale = params[..., 0], F.softplus(params[..., 1]) + SCALE_FLOOR
    if loss == "normal":
        return torch.distributions.Normal(loc, scale)
    return torch.distributions.StudentT(DF_MIN + F.softplus(params[..., 2] + DF_SHIFT), loc, scale)


def make_loss(loss: str, levels: Sequence[float], horizon: int, n_targets: int):
    """The compile loss ``fn(y_true, y_pred)`` of a head: pinball (``quantile``) or negative
    log-likelihood, per sample (the trainer averages over the batch)."""
    p = n_params(loss, levels)
    probs = torch.tensor(probabilities(levels)) if loss == "quantile" else None

    def pinball_loss(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        q = quantiles(_split(y_pred, horizon, n_targets, p))
        diff = y_true.reshape(q.shape[:-1]).unsqueeze(-1) - q
        tau = probs.to(dtype=q.dtype, device=q.device)
        return torch.maximum(tau * diff, (tau - 1.0) * diff).reshape(q.shape[0], -1).mean(dim=1)

    def negative_log_likelihood(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        params = _split(y_pred, horizon, n_targets, p)
        nll = -distribution(loss, params).log_prob(y_true.reshape(params.shape[:-1]))
        return nll.reshape(params.shape[0], -1).mean(dim=1)

    return pinball_loss if loss == "quantile" else negative_log_likelihood


# -- numpy: forecasts and bands from raw outputs ---------------------------------------------------------------
def to_params(cfg: Any, raw: np.ndarray) -> np.ndarray:
    """A model's flat output ``(n, horizon * n_targets * P)`` -> ``(n, horizon, n_targets, P)``."""
    p = n_params(cfg.loss, cfg.quantile_levels)
    return np.asarray(raw, dtype=np.float64).reshape(len(raw), cfg.horizon, len(cfg.target), p)


def point(cfg: Any, params: np.ndarray) -> np.ndarray:
    """The point forecast (median or location) of ``params`` ``(..., P)`` -> ``(...)``."""
    if cfg.loss == "quantile":
        return quantiles(torch.from_numpy(params))[..., len(cfg.quantile_levels)].numpy()
    return params[..., 0]


def bands(cfg: Any, params: np.ndarray, levels: Sequence[float]) -> dict:
    """``{level: (lo, hi)}`` of ``params`` ``(..., P)``, each ``(...)`` in the model's scaled units."""
    t = torch.from_numpy(np.ascontiguousarray(params))
    if cfg.loss == "quantile":
        q = quantiles(t).numpy()
        trained = sorted(float(v) for v in cfg.quantile_levels)
        m = len(trained)
        out = {}
        for level in levels:
            i = trained.index(float(level))  # checked by check_levels
            out[level] = (q[..., m - 1 - i], q[..., m + 1 + i])
        return out
    dist = distribution(cfg.loss, t)
    out = {}
    for level in levels:
        upper = 0.5 + float(level) / 200.0
        if cfg.loss == "normal":
            z = torch.distributions.Normal(0.0, 1.0).icdf(torch.tensor(upper, dtype=torch.float64)).item()
        else:
            from scipy.stats import t as student_t  # scipy comes with scikit-learn

            z = student_t.ppf(upper, dist.df.numpy())
        half = z * dist.scale.numpy()
        loc = dist.loc.numpy()
        out[level] = (loc - half, loc + half)
    return out


def scale(cfg: Any, params: np.ndarray) -> np.ndarray:
    """The Normal / Student-t scale of ``params`` ``(..., P)`` in scaled units."""
    return (F.softplus(torch.from_numpy(params[..., 1])) + SCALE_FLOOR).numpy()


def check_levels(owner: str, cfg: Any, levels: list) -> None:
    """Levels a probabilistic head can give, else a ValueError saying which it can."""
    if not levels:
        return
    if cfg.loss == "quantile":
        missing = [v for v in levels if float(v) not in [float(t) for t in cfg.quantile_levels]]
        if missing:
            raise _validation.value_error(owner, "`level`", f"levels the quantile head was trained for "
                                          f"({', '.join(str(v) for v in cfg.quantile_levels)})", f"level={missing}",
                                          "Ask for those levels, or train again with --quantile-levels "
                                          f"{' '.join(str(v) for v in sorted(set(cfg.quantile_levels) | set(levels)))}.")


class PointModel:
    """A probabilistic window model seen by ``strategies`` as one that predicts its point forecast
    (median / location): ``(batch, n_targets)`` at horizon 1 (fed back by ``recursive``), else
    ``(batch, horizon, n_targets)`` (``direct``)."""

    def __init__(self, cfg: Any, model: Any):
        self._cfg, self._model = cfg, model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = 0) -> np.ndarray:
        raw = np.asarray(self._model.predict(x, batch_size=batch_size, verbose=verbose))
        predicted = point(self._cfg, to_params(self._cfg, raw))
        return predicted[:, 0] if self._cfg.horizon == 1 else predicted
