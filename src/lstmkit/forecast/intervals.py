"""Split-conformal prediction intervals per horizon step.

At fit time, the forecaster forecasts ``K`` steps from every origin of the calibration tail of each
series (the later half of the held-out windows: the model neither trained nor early-stopped on them) and records each error divided by its series' scale (the
in-sample seasonal naive MAE before the origin), so that series of different sizes pool. For a level
``L`` the half-width at step ``k`` is the conformal quantile of the ``n`` absolute scaled errors at that
step, the ``ceil((n + 1) L / 100)``-th smallest (the largest when ``n`` is too small for ``L``), times
the series' scale. Beyond the calibrated ``K`` steps the step-``K`` width grows like ``sqrt(k / K)`` (a
random-walk extrapolation; said in ``metrics.json`` as ``calibrated_steps``).

Columns follow statsforecast: ``<target>-lo-80``, ``<target>-hi-80``, ...
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import _validation


def parse_levels(owner: str, level: Any) -> list[int | float]:
    """``80`` / ``[80, 95]`` / None -> a sorted list of levels in (0, 100), checked."""
    if level is None:
        return []
    items = [level] if isinstance(level, (int, float)) else list(level)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)):
            raise _validation.type_error(owner, "`level`", "numbers in (0, 100), e.g. [80, 95]", repr(item))
        if not 0 < float(item) < 100:
            raise _validation.value_error(owner, "`level`", "numbers in (0, 100), e.g. [80, 95]", repr(item),
                                          "Levels are percentages of coverage.")
        out.append(int(item) if float(item).is_integer() else float(item))
    return sorted(dict.fromkeys(out))


def calibration_state(errors: Sequence[np.ndarray]) -> dict:
    """``errors[k]`` = the absolute scaled errors at step ``k + 1`` -> the JSON state kept in
    ``forecaster.json`` (at most 2000 per step, the largest kept in proportion)."""
    steps = []
    for e in errors:
        e = np.sort(np.abs(np.asarray(e, dtype=np.float64).ravel()))
        if len(e) > 2000:  # an evenly spaced subsample of the sorted errors keeps every quantile
            e = e[np.linspace(0, len(e) - 1, 2000).round().astype(int)]
        steps.append([float(v) for v in e])
    return {"method": "conformal", "errors": steps}


def half_widths(state: dict, steps: int, levels: Sequence[float]) -> np.ndarray:
    """``(len(levels), steps)`` half-widths in scale units."""
    errors = [np.asarray(e) for e in state["errors"]]
    calibrated = len(errors)
    out = np.empty((len(levels), steps))
    for i, level in enumerate(levels):
        widths = [_conformal_quantile(e, float(level)) for e in errors]
        widths = np.maximum.accumulate(widths)  # a further step is never surer than a nearer one
        for k in range(steps):
            out[i, k] = widths[k] if k < calibrated else widths[-1] * math.sqrt((k + 1) / calibrated)
    return out


def bands(point: np.ndarray, scale: np.ndarray, state: dict, levels: Sequence[float]) -> dict:
    """``{level: (lo, hi)}`` around ``point`` ``(steps, n_targets)``, ``scale`` ``(n_targets,)``."""
    widths = half_widths(state, point.shape[0], levels)
    return {level: (point - widths[i][:, None] * scale, point + widths[i][:, None] * scale)
            for i, level in enumerate(levels)}


def column_names(target: str, level: float) -> tuple[str, str]:
    return f"{target}-lo-{level}", f"{target}-hi-{level}"


def _conformal_quantile(errors: np.ndarray, level: float) -> float:
    n = len(errors)
    if n == 0:
        return float("nan")
    rank = min(n, math.ceil((n + 1) * level / 100.0))
    return float(np.sort(errors)[rank - 1])
