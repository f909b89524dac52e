"""Season lengths and the seasonal naive forecast.

The season length comes from the time column's frequency when it has one (monthly 12, quarterly 4,
weekly 52, daily 7, hourly 24, ...: the conventions of statsforecast and the M competitions), else from
the data: the lag (2 .. a third of the series) where the autocorrelation of the step-to-step changes
peaks, when that peak is clearly above noise (``2 / sqrt(n)``, the usual 95 % band), else 1.
"""

from __future__ import annotations

import re
import warnings
from typing import Sequence

import numpy as np
import pandas as pd

# the leading letters of a pandas frequency alias -> steps per season
_PERIODS = {"Y": 1, "A": 1, "YS": 1, "AS": 1, "BY": 1, "BYS": 1, "BA": 1, "BAS": 1,
            "Q": 4, "QS": 4, "BQ": 4, "BQS": 4, "QE": 4, "BQE": 4,
            "M": 12, "MS": 12, "ME": 12, "BM": 12, "BMS": 12, "BME": 12, "SM": 24, "SMS": 24, "SME": 24,
            "W": 52, "D": 7, "B": 5, "C": 5, "H": 24, "h": 24, "BH": 24, "T": 60, "min": 60, "S": 60, "s": 60}


def season_from_times(times: pd.Series | None) -> int | None:
    """Steps per season from a datetime column's inferred frequency, or None (no dates, or no regular
    frequency), e.g. month starts -> 12."""
    if times is None or len(times) < 3 or not pd.api.types.is_datetime64_any_dtype(times):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        freq = pd.infer_freq(pd.DatetimeIndex(times))
    if freq is None:
        return None
    match = re.match(r"^\d*([A-Za-z]+)", freq)
    letters = match.group(1) if match else ""
    return _PERIODS.get(letters, _PERIODS.get(letters.upper()))


def season_from_data(series: Sequence[np.ndarray]) -> int:
    """Steps per season from the data alone: the lag of the highest autocorrelation of the changes
    (pooled over ``series``, each ``(T,)``), if clearly above noise; else 1."""
    best_lag, best_value = 1, 0.0
    shortest = min(len(s) for s in series)
    max_lag = (shortest - 1) // 3
    if max_lag < 2:
        return 1
    acfs = []
    for s in series:
        changes = np.diff(np.asarray(s, dtype=np.float64))
        changes = changes - changes.mean()
        denominator = float(np.sum(changes ** 2))
        if denominator == 0:
            continue
        acfs.append([float(np.sum(changes[lag:] * changes[:-lag]) / denominator) for lag in range(1, max_lag + 1)])
    if not acfs:
        return 1
    acf = np.mean(acfs, axis=0)
    noise = 2.0 / np.sqrt(shortest)
    for lag in range(2, max_lag + 1):
        value = acf[lag - 1]
        local_peak = value >= acf[lag - 2] and (lag == max_lag or value >= acf[lag])
        if local_peak and value > max(noise, best_value):
            best_lag, best_value = lag, value
    return best_lag


def season_length(times: Sequence[pd.Series | None], values: Sequence[np.ndarray]) -> tuple[int, str]:
    """The season length for a set of series and where it came from (``"frequency"`` or ``"data"``)."""
    for t in times:
        season = season_from_times(t)
        if season is not None:
            return season, "frequency"
    return season_from_data(values), "data"


def seasonal_naive(history: np.ndarray, steps: int, season: int) -> np.ndarray:
    """``steps`` forecasts ``(steps, ...)`` repeating the last ``season`` values of ``history``
    ``(T, ...)`` (season 1: the last value; a history shorter than a season: the last value)."""
    history = np.asarray(history)
    season = season if len(history) >= season else 1
    ahead = np.arange(1, steps + 1)
    back = ahead - season * np.ceil(ahead / season).astype(int)  # the same phase, last season seen
    return history[len(history) - 1 + back]

