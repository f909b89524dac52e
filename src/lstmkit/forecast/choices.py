"""Defaults that choose: the season, per-series scaling, transform and look-back of a Forecaster,
from the training data (``resolve``).

The transform (``none``, ``difference``, ``seasonal-difference``, each optionally after ``log`` when
the targets are positive) is chosen by rolling-origin validation of a fast stand-in for the network:
a ridge autoregression on the same look-back windows of each transformed series, its outputs clipped
to the range the training part spans (the network, trained on min-max scaled data, cannot extrapolate
far beyond it either), forecasting recursively one season (at least 6 steps) from the last 3 origins
of the training part, scored by MASE in the targets' units. The transform whose forecasts score best wins; the network then trains once.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import probabilistic
from .framing import offset
from .metrics import naive_scale
from .seasonality import season_length

TRANSFORMS = ("none", "log", "difference", "log-difference", "seasonal-difference", "log-seasonal-difference")


def transform_flags(name: str) -> dict:
    """A transform name -> the Forecaster's ``log`` / ``difference`` / ``seasonal_difference`` flags."""
    seasonal = "seasonal" in name
    return {"log": name.startswith("log"), "difference": name.endswith("difference") and not seasonal,
            "seasonal_difference": seasonal}


def transform_name(log: bool, difference: bool, seasonal_difference: bool) -> str:
    base = "seasonal-difference" if seasonal_difference else "difference" if difference else "none"
    return base if not log else ("log" if base == "none" else f"log-{base}")


def default_lookback(season: int, shortest: int, offset: int) -> int:
    """Two seasons (8 steps without a season), at most a third of the shortest series' usable rows."""
    wanted = 2 * season if season > 1 else 8
    return int(max(2, min(wanted, (shortest - offset) // 3)))


def choose_transform(series: Sequence[np.ndarray], season: int, lookback: int,
                     allowed: Sequence[str] = TRANSFORMS) -> tuple[str, dict]:
    """The transform (of ``allowed``) with the best rolling-origin MASE of a ridge autoregression, and
    every candidate's score; ``series`` are the training parts ``(T_i,)`` of the first target."""
    positive = all((s > 0).all() for s in series)
    candidates = [t for t in allowed if (positive or not t.startswith("log"))
                  and (season > 1 or "seasonal" not in t)]
    steps = max(season, 6)
    results = {}
    for name in candidates:
        flags = transform_flags(name)
        offset = season if flags["seasonal_difference"] else int(flags["difference"])
        errors = []
        for s in series:
            for origin in (len(s) - steps * k for k in (3, 2, 1)):
                if origin - offset < lookback + 8:
                    continue
                history = s[:origin]
                forecast = _ridge_forecast(history, steps, lookback, flags, season)
                truth = s[origin:origin + steps]
                scale = naive_scale(history, season)[0]
                errors.append(np.mean(np.abs(truth - forecast[:len(truth)])) / scale)
        results[name] = float(np.mean(errors)) if errors else float("nan")
    scored = {k: v for k, v in results.items() if np.isfinite(v)}
    if not scored:
        return "none", results
    return min(scored, key=scored.get), results


def _ridge_forecast(history: np.ndarray, steps: int, lookback: int, flags: dict, season: int) -> np.ndarray:
    level = np.log(history) if flags["log"] else history.astype(np.float64)
    if flags["seasonal_difference"]:
        z = level[season:] - level[:-season]
    elif flags["difference"]:
        z = np.diff(level)
    else:
        z = level
    mean, std = z.mean(), z.std() or 1.0
    u = (z - mean) / std
    x = np.stack([u[i:i + lookback] for i in range(len(u) - lookback)])
    y = u[lookback:]
    design = np.concatenate([x, np.ones((len(x), 1))], axis=1)
    penalty = 1.0 * np.eye(design.shape[1])
    penalty[-1, -1] = 0.0
    weights = np.linalg.solve(design.T @ design + penalty, design.T @ y)
    window = list(u[-lookback:])
    predicted = []
    for _ in range(steps):
        # clipped to the range seen in training, as a network on min-max scaled inputs cannot reach far
        # beyond it: this is what makes levels a poor choice for a trending series
        value = float(np.clip(np.dot(window[-lookback:], weights[:-1]) + weights[-1], u.min(), u.max()))
        predicted.append(value)
        window.append(value)
    z_hat = np.asarray(predicted) * std + mean
    if flags["seasonal_difference"]:
        path = list(level)
        for k in range(steps):
            path.append(path[-season] + z_hat[k])
        out = np.asarray(path[len(level):])
    elif flags["difference"]:
        out = level[-1] + np.cumsum(z_hat)
    else:
        out = z_hat
    return np.exp(out) if flags["log"] else out


def resolve(cfg: Any, asked: dict, series: list, validation: float) -> dict:
    """Resolve, in ``cfg`` (a ``ForecasterConfig``), the season, per-series scaling, transform and
    look-back that ``asked`` (what the user passed) left as None, from the ``series`` (``framing.Series``);
    returns the record of each choice and why (``metrics["choices"]``)."""
    made = {}
    if asked["season"] is None:
        cfg.season, source = season_length([s.times for s in series], [s.values[:, 0] for s in series])
        made["season"] = {"value": cfg.season, "chosen_by": f"the time column's frequency" if source ==
                          "frequency" else "the autocorrelation of the data"}
    else:
        made["season"] = {"value": cfg.season, "chosen_by": "you"}
    if asked["scale_per_id"] is None:
        cfg.scale_per_id = cfg.id_col is not None and len(series) > 1
        made["scale_per_id"] = {"value": cfg.scale_per_id, "chosen_by": "one scaler per series when there "
                                "is an id column"}
    else:
        made["scale_per_id"] = {"value": cfg.scale_per_id, "chosen_by": "you"}
    shortest = min(len(s.values) for s in series)
    if asked["transform"] is None and cfg.method == "recursive":
        train_parts = [s.values[:len(s.values) - int(round(len(s.values) * validation)), 0] for s in series]
        proxy_lookback = asked["lookback"] or default_lookback(cfg.season, shortest, 0)
        # a horizon-H probabilistic head's quantiles go back through increasing maps only: no differencing
        head = not probabilistic.differencing_allowed(cfg)
        name, scores = choose_transform(train_parts, cfg.season, proxy_lookback,
                                        ("none", "log") if head else TRANSFORMS)
        flags = transform_flags(name)
        cfg.log, cfg.difference, cfg.seasonal_difference = (flags["log"], flags["difference"],
                                                            flags["seasonal_difference"])
        made["transform"] = {"value": name, "chosen_by": "rolling-origin validation of a ridge "
                             "autoregression on the training part (MASE per candidate)" + (
                                 f"; no differencing with loss={cfg.loss!r} and horizon={cfg.horizon}" if head else ""), "scores": scores}
    else:
        made["transform"] = {"value": transform_name(cfg.log, cfg.difference, cfg.seasonal_difference),
                             "chosen_by": "you" if asked["transform"] else "the stateful method's default"}
    if asked["lookback"] is None:
        if cfg.method == "stateful":  # the chunk of truncated back-propagation, a few seasons long
            cfg.lookback = int(min(200, max(8, shortest // 4)))
        else:
            cfg.lookback = default_lookback(cfg.season, shortest, offset(cfg))
        made["lookback"] = {"value": cfg.lookback, "chosen_by": "two seasons (8 steps without one), at most "
                            "a third of the shortest series" if cfg.method == "recursive" else
                            "a quarter of the shortest series, 8 to 200"}
    else:
        cfg.lookback = asked["lookback"]
        made["lookback"] = {"value": cfg.lookback, "chosen_by": "you"}
    return made
