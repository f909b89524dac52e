"""History and forecast layouts shared by every forecasting strategy.

``history`` comes as ``(T,)`` (one univariate series), ``(T, F)`` (one series) or ``(n_series, T, F)``;
strategies work on ``(n_series, T, F)`` and hand forecasts back in the caller's layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validation
from ..data.checks import check_finite, to_numpy


def as_series(owner: str, history: Any) -> tuple[np.ndarray, str]:
    """``history`` as float64 ``(n_series, T, F)`` and its layout: ``"1d"``, ``"2d"`` or ``"3d"``."""
    array = to_numpy(history, owner, "history")
    if array.ndim not in (1, 2, 3) or array.size == 0:
        raise _validation.value_error(owner, "`history`", "a non-empty (T,), (T, F) or (n_series, T, F) array",
                                      _validation.describe_array(array))
    array = check_finite(np.asarray(array, dtype=np.float64), owner, "history", history)
    layout = f"{array.ndim}d"
    if array.ndim == 1:
        array = array[None, :, None]
    elif array.ndim == 2:
        array = array[None]
    return array, layout


def restore_layout(layout: str, forecast: np.ndarray) -> np.ndarray:
    """``(n_series, steps, n_targets)`` back in ``history``'s layout."""
    if layout == "3d":
        return forecast
    if layout == "1d" and forecast.shape[2] == 1:
        return forecast[0, :, 0]
    return forecast[0]


def exogenous_array(owner: str, exogenous: Any, layout: str, expected: tuple) -> np.ndarray | None:
    """``exogenous`` as float64 ``(n_series, rows, columns)``, checked against ``expected`` (None = any)."""
    if exogenous is None:
        return None
    array = np.asarray(to_numpy(exogenous, owner, "exogenous"), dtype=np.float64)
    single = layout != "3d"
    if single and array.ndim == 1 and expected[2] == 1:
        array = array[:, None]
    shown = expected[1:] if single else expected
    wanted = "(" + ", ".join("?" if d is None else str(d) for d in shown) + ")"
    if array.ndim != (2 if single else 3):
        raise _validation.value_error(owner, "`exogenous`", f"shape {wanted}", _validation.describe_array(array),
                                      "One row per future step, one column per non-target feature"
                                      + ("." if single else ", per series (first axis)."))
    array = array[None] if single else array
    if any(e is not None and a != e for a, e in zip(array.shape, expected)):
        raise _validation.value_error(owner, "`exogenous`", f"shape {wanted}",
                                      _validation.describe_array(array[0] if single else array),
                                      "One row per future step, one column per non-target feature"
                                      + ("." if single else ", per series (first axis)."))
    return check_finite(array, owner, "exogenous")
