"""Rolling-origin backtests: forecast from several cut points at the end of a series and score each.

The origins sit at the end of the series, ``step`` apart, the last one ``horizon`` steps before the
end so that its forecast is fully observed: for origin ``t`` the forecaster sees ``series[:t]`` and is
scored against ``series[t:t + horizon]``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from .._lazy import pandas as pd

from .. import _validation
from ..data.checks import check_finite, to_numpy
from .feedback import _check_positions
from .metrics import NAMES, forecast_errors


@dataclass
class BacktestResult:
    """What ``backtest`` returns.

    Attributes:
        origins: ``(n_origins,)`` ints, ascending: the length of the history each forecast saw.
        forecasts: ``(n_origins, horizon)`` for a 1-D series, else ``(n_origins, horizon, n_targets)``.
        truths: the observed values, the same shape as ``forecasts``.
        metrics: a DataFrame indexed by origin plus a final ``"overall"`` row (all points pooled),
            columns ``MAE``, ``RMSE``, ``MAPE``, ``sMAPE`` (the last two in percent).
        by_horizon: a DataFrame indexed by steps ahead ``1..horizon`` (all origins and targets pooled),
            the same columns.
        horizon: steps forecast from each origin.
        targets: the series columns that were scored (``[0]`` for a 1-D series).
    """

    origins: np.ndarray
    forecasts: np.ndarray
    truths: np.ndarray
    metrics: pd.DataFrame
    by_horizon: pd.DataFrame
    horizon: int
    targets: list[int]


def backtest(forecaster: Callable[[np.ndarray], Any], series: Any, horizon: int, n_origins: int = 5,
             step: int | None = None, min_history: int | None = None,
             refit: Callable[[np.ndarray], Any] | None = None, *,
             targets: Sequence[int] | None = None) -> BacktestResult:
    """Rolling-origin evaluation of ``forecaster`` over the last ``n_origins`` cut points of ``series``.

    Args:
        forecaster: ``forecaster(history) -> (horizon,)`` or ``(horizon, n_targets)``, given
            ``history = series[:t]`` (NumPy, ``series``'s layout), e.g.
            ``lambda h: strategies.recursive(model, h, horizon)``.
        series: ``(T,)`` or ``(T, F)`` observed values.
        horizon: steps forecast from each origin.
        n_origins: number of origins. Default 5.
        step: distance between consecutive origins. Default None: ``horizon`` (non-overlapping forecasts).
        min_history: the fewest steps the first origin may see (e.g. the model's look-back). Default
            None: 1.
        refit: optional ``refit(history)`` called with ``series[:t]`` before each origin's forecast
            (retrain on the data known at that time). Default None.
        targets: keyword only; the columns of a ``(T, F)`` series compared with the forecasts.
            Default None: every column when the forecast has F columns, else the first ``n_targets``.

    Returns:
        A ``BacktestResult`` (origins, forecasts, truths, per-origin ``metrics`` with an overall row,
        ``by_horizon`` errors).

    Example:
        >>> result = backtest(lambda h: np.repeat(h[-1:], 3, 0), np.arange(20.0), horizon=3, n_origins=2)
        >>> result.origins
        array([14, 17])
    """
    owner = "backtest"
    if not callable(forecaster):
        raise _validation.type_error(owner, "`forecaster`", "a callable history -> forecast",
                                     type(forecaster).__name__)
    if refit is not None and not callable(refit):
        raise _validation.type_error(owner, "`refit`", "None or a callable history -> None", type(refit).__name__)
    values = to_numpy(series, owner, "series")
    if values.ndim not in (1, 2):
        raise _validation.value_error(owner, "`series`", "a (T,) or (T, F) array", _validation.describe_array(values),
                                      "Backtest one series at a time.")
    values = check_finite(np.asarray(values, dtype=np.float64), owner, "series", series)
    horizon = _validation.positive_int(owner, "horizon", horizon)
    n_origins = _validation.positive_int(owner, "n_origins", n_origins)
    step = horizon if step is None else _validation.positive_int(owner, "step", step)
    min_history = 1 if min_history is None else _validation.positive_int(owner, "min_history", min_history)
    origins = rolling_origins(len(values), horizon, n_origins, step, min_history)

    forecasts, truths = [], []
    columns = None
    for origin in origins:
        history = values[:origin]
        if refit is not None:
            refit(history.copy())
        forecast = _forecast_matrix(owner, forecaster(history.copy()), horizon, origin)
        if columns is None:
            columns = _target_columns(owner, values, forecast.shape[1], targets)
        elif forecast.shape[1] != len(columns):
            raise _validation.value_error(owner, "the forecaster's output", f"({horizon}, {len(columns)}) as at "
                                          f"origin {origins[0]}", f"shape {forecast.shape} at origin {origin}")
        truth = values[origin:origin + horizon]
        truths.append(truth[:, None] if truth.ndim == 1 else truth[:, columns])
        forecasts.append(forecast)
    forecasts_array, truths_array = np.stack(forecasts), np.stack(truths)
    metrics, by_horizon = _tables(origins, forecasts_array, truths_array)
    if values.ndim == 1:
        forecasts_array, truths_array = forecasts_array[:, :, 0], truths_array[:, :, 0]
    return BacktestResult(origins=origins, forecasts=forecasts_array, truths=truths_array, metrics=metrics,
                          by_horizon=by_horizon, horizon=horizon, targets=list(columns))


def rolling_origins(length: int, horizon: int, n_origins: int, step: int, min_history: int, *,
                    allow_fewer: bool = False) -> np.ndarray:
    """The origins ``t`` (ascending) of a rolling-origin backtest, the last at ``length - horizon``.

    ``backtest`` and ``Forecaster.evaluate`` / ``cross_validation`` (origin = rows seen) share them.

    Args:
        length: steps in the series.
        horizon: steps forecast from each origin.
        n_origins: number of origins.
        step: distance between origins.
        min_history: the fewest steps the first origin may see.
        allow_fewer: keyword only; keep only the origins that see ``min_history`` steps (possibly none)
            instead of raising when the series is too short for all ``n_origins``. Default False.

    Returns:
        ``(n_origins,)`` int array (fewer with ``allow_fewer``).

    Example:
        >>> rolling_origins(20, 3, 2, 3, 1)
        array([14, 17])
    """
    needed = min_history + step * (n_origins - 1) + horizon
    last = length - horizon
    if allow_fewer:
        origins = last - step * np.arange(n_origins - 1, -1, -1, dtype=np.int64)
        return origins[origins >= min_history]
    if length < needed:
        raise _validation.value_error(
            "backtest", "`series`", f"at least {needed} steps (min_history {min_history} + {n_origins - 1} "
            f"gap(s) of step {step} + horizon {horizon}) for {n_origins} origin(s)", f"{length} steps",
            "Pass a longer series, or lower n_origins, step, horizon or min_history.")
    return np.arange(last - step * (n_origins - 1), last + 1, step, dtype=np.int64)


def _forecast_matrix(owner: str, forecast: Any, horizon: int, origin: int) -> np.ndarray:
    """The forecaster's output as ``(horizon, n_targets)``."""
    array = np.asarray(to_numpy(forecast, owner, "forecast"), dtype=np.float64)
    if array.ndim not in (1, 2) or array.shape[0] != horizon:
        raise _validation.value_error(owner, "the forecaster's output", f"shape ({horizon},) or ({horizon}, "
                                      "n_targets)", f"{_validation.describe_array(array)} at origin {origin}",
                                      f"Make the forecaster return exactly `horizon` = {horizon} steps.")
    if not np.isfinite(array).all():
        raise _validation.value_error(owner, "the forecaster's output", "finite values",
                                      f"NaN or inf in the forecast from origin {origin}",
                                      "Check the forecaster on the history that ends there.")
    return array[:, None] if array.ndim == 1 else array


def _target_columns(owner: str, values: np.ndarray, n_targets: int, targets: Any) -> list[int]:
    n_features = 1 if values.ndim == 1 else values.shape[1]
    if targets is None:
        if n_targets > n_features:
            raise _validation.value_error(owner, "the forecaster's output", f"at most {n_features} column(s) "
                                          "(the series' features)", f"{n_targets} columns")
        return list(range(n_features)) if n_targets == n_features else list(range(n_targets))
    columns = _check_positions(owner, targets, n_features)
    if len(columns) != n_targets:
        raise _validation.value_error(owner, "`targets`", f"one column per forecast column ({n_targets})",
                                      f"{columns}")
    return columns


def _tables(origins: np.ndarray, forecasts: np.ndarray, truths: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-origin (plus pooled ``overall``) and per-step-ahead error tables."""
    with warnings.catch_warnings():  # MAPE's zero-truth warning: said once below, not once per table cell
        warnings.filterwarnings("ignore", message="mape: ", category=RuntimeWarning)
        rows = [forecast_errors(t, f) for t, f in zip(truths, forecasts)]
        overall = forecast_errors(truths, forecasts)
        per_step = [forecast_errors(truths[:, h], forecasts[:, h]) for h in range(truths.shape[1])]
    zeros = int((truths == 0).sum())
    if zeros:
        warnings.warn(f"backtest: {zeros} true value(s) are 0 and were left out of MAPE.", RuntimeWarning,
                      stacklevel=3)
    index = pd.Index([int(o) for o in origins] + ["overall"], dtype=object, name="origin")
    metrics = pd.DataFrame(rows + [overall], index=index, columns=list(NAMES))
    by_horizon = pd.DataFrame(per_step, index=pd.RangeIndex(1, truths.shape[1] + 1, name="steps_ahead"),
                              columns=list(NAMES))
    return metrics, by_horizon
