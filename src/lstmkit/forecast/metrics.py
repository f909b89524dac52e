"""Forecast error measures in NumPy: MAE, RMSE, MAPE (percent), sMAPE (percent), MASE.

Every function takes ``y_true`` and ``y_pred`` of the same shape (any shape; all points pooled) and
returns a Python float.

Zeros: MAPE divides by ``|y|``, so points whose truth is exactly 0 are left out with a
``RuntimeWarning`` naming how many; when every truth is 0 the result is ``nan``. sMAPE counts a point
where truth and prediction are both 0 as a perfect 0 (its 0/0 is taken as 0).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _validation

NAMES = ("MAE", "RMSE", "MAPE", "sMAPE")
SCALED_NAMES = NAMES + ("MASE",)


def _pair(owner: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if true.shape != pred.shape:
        raise _validation.value_error(owner, "`y_pred`", f"the shape of `y_true` {true.shape}",
                                      f"shape {pred.shape}", "Reshape one to match the other "
                                      "(e.g. y_pred.reshape(y_true.shape)).")
    if true.size == 0:
        raise _validation.value_error(owner, "`y_true`", "at least one value", "an empty array")
    for name, values in (("y_true", true), ("y_pred", pred)):  # as scikit-learn's metrics: NaN in, error out
        bad = ~np.isfinite(values)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0]) if values.ndim else ()
            raise _validation.value_error(owner, f"`{name}`", "finite values",
                                          f"{int(bad.sum())} NaN/inf value(s), the first at index {first}",
                                          "Drop or fill the missing points in both arrays first.")
    return true, pred


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error ``mean(|y - ŷ|)``.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        A float.

    Example:
        >>> mae([1.0, 2.0], [2.0, 4.0])
        1.5
    """
    true, pred = _pair("mae", y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error ``sqrt(mean((y - ŷ)²))``.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        A float.

    Example:
        >>> rmse([0.0, 0.0], [3.0, 4.0])  # sqrt((9 + 16) / 2)
        3.5355339059327378
    """
    true, pred = _pair("rmse", y_true, y_pred)
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def mape(y_true: Any, y_pred: Any) -> float:
    """Mean absolute percentage error ``100 * mean(|y - ŷ| / |y|)``, in percent.

    Points with ``y == 0`` are left out (with a ``RuntimeWarning``); all-zero truths give ``nan``.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        A float in percent, or ``nan``.

    Example:
        >>> mape([100.0, 200.0], [110.0, 180.0])
        10.0
    """
    true, pred = _pair("mape", y_true, y_pred)
    nonzero = true != 0
    skipped = int(true.size - nonzero.sum())
    if skipped:
        warnings.warn(f"mape: {skipped} of {true.size} true value(s) are 0 and were left out (MAPE divides by "
                      "the truth); use smape or mae for series that reach 0.", RuntimeWarning, stacklevel=2)
    if not nonzero.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs(true[nonzero] - pred[nonzero]) / np.abs(true[nonzero])))


def smape(y_true: Any, y_pred: Any) -> float:
    """Symmetric MAPE ``mean(200 * |y - ŷ| / (|y| + |ŷ|))``, in percent (0 to 200); 0/0 counts as 0.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        A float in percent.

    Example:
        >>> smape([0.0, 1.0], [0.0, 3.0])  # (0 + 200 * 2 / 4) / 2
        50.0
    """
    true, pred = _pair("smape", y_true, y_pred)
    denominator = np.abs(true) + np.abs(pred)
    safe = np.where(denominator == 0, 1.0, denominator)
    terms = np.where(denominator == 0, 0.0, 200.0 * np.abs(true - pred) / safe)
    return float(np.mean(terms))


def forecast_errors(y_true: Any, y_pred: Any) -> dict[str, float]:
    """All four measures at once.

    Args:
        y_true: true values, any shape.
        y_pred: predictions, the same shape.

    Returns:
        ``{"MAE": ..., "RMSE": ..., "MAPE": ..., "sMAPE": ...}`` (floats; MAPE and sMAPE in percent).

    Example:
        >>> forecast_errors([1.0, 2.0], [1.0, 4.0])["MAE"]
        1.0
    """
    true, pred = _pair("forecast_errors", y_true, y_pred)
    return {"MAE": mae(true, pred), "RMSE": rmse(true, pred), "MAPE": mape(true, pred), "sMAPE": smape(true, pred)}


def naive_scale(history: Any, season: int = 1) -> np.ndarray:
    """MASE's denominator: the in-sample mean absolute error of the seasonal naive forecast
    ``y[t - season]`` over ``history`` ``(T,)`` or ``(T, n_targets)``, per column (``season = 1``:
    persistence). Falls back to season 1 when the history is no longer than one season; a constant
    history (scale 0) gets scale 1 so that its errors stay finite and in the data's units.

    Example:
        >>> naive_scale([1.0, 2.0, 4.0, 7.0], season=1)
        array([2.])
    """
    values = np.asarray(history, dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    season = int(season) if len(values) > int(season) else 1
    if len(values) <= season:
        return np.ones(values.shape[1])
    scale = np.mean(np.abs(values[season:] - values[:-season]), axis=0)
    return np.where(scale > 0, scale, 1.0)


def mase(y_true: Any, y_pred: Any, scale: Any) -> float:
    """Mean absolute scaled error ``mean(|y - ŷ| / scale)``: below 1 beats the in-sample (seasonal)
    naive forecast whose mean absolute error ``scale`` is (see ``naive_scale``); ``scale`` broadcasts
    against ``y_true`` (e.g. ``(n_series, 1, n_targets)`` for ``(n_series, steps, n_targets)``).

    Example:
        >>> mase([10.0, 12.0], [11.0, 11.0], scale=2.0)
        0.5
    """
    true, pred = _pair("mase", y_true, y_pred)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), true.shape)
    return float(np.mean(np.abs(true - pred) / scale))
