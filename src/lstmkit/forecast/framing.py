"""Tables to series: what ``Forecaster`` reads from a DataFrame before any model sees it.

A table holds one series, or many told apart by an id column, ordered by an optional time column;
each :class:`Series` keeps its values ``(T, F)`` in the features' order (targets first), its times,
and the future rows of the other features (empty targets at its end). The checks here say, row by
row, what is wrong with a table (missing columns, text in numeric columns, gaps, duplicates, NaN).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validation
from .._lazy import pandas as pd
from ..data.checks import describe_rows
from . import covariates


@dataclass
class Series:
    """One series: its id, values ``(T, F)`` in the features' order (targets, future-known, past) then
    its encoded statics, times, and future exogenous rows (past columns zero: never read)."""

    id: Any
    values: np.ndarray
    times: pd.Series | None
    future: np.ndarray | None = None  # (steps, n_exogenous): known values of the non-target features


def split_series(cfg: Any, owner: str, frame: Any, allow_future: bool) -> list[Series]:
    """``frame`` as its series (``cfg``: a ``ForecasterConfig``), checked; with ``allow_future`` the
    rows with empty targets at the end of each series are its future (known other features)."""
    if not isinstance(frame, pd.DataFrame):
        raise _validation.type_error(owner, "the data", "a pandas DataFrame", type(frame).__name__)
    wanted = cfg.features + [c for c in (cfg.id_col, cfg.time_col) if c is not None]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise _validation.value_error(owner, "the data", f"the column(s) {missing}",
                                      f"columns {list(frame.columns)}", "Check the spelling, or pass --target/"
                                      "--features/--id/--time with existing column names.")
    bad = [c for c in cfg.features if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        kinds = ", ".join(f"{c!r} ({frame[c].dtype})" for c in bad)
        raise _validation.type_error(owner, "the data", "numeric target and feature columns", kinds,
                                     "Convert or encode them (e.g. pd.to_numeric, one-hot), or leave them out.")
    frame = frame.copy()
    for column, what in ((cfg.id_col, "series id"), (cfg.time_col, "time")):
        if column is not None and frame[column].isna().any():
            rows = describe_rows(list(frame.index[frame[column].isna()]))
            raise _validation.value_error(owner, "the data", f"a {what} in every row of {column!r}",
                                          f"empty values in rows {rows}", "Fill or drop those rows.")
    if cfg.time_col is not None:
        frame[cfg.time_col] = as_time(owner, frame[cfg.time_col])
        unparsed = frame[cfg.time_col].isna()
        if unparsed.any():  # e.g. "NaT" or "" strings pandas read as dates it could not parse
            raise _validation.value_error(owner, "the data", f"a time in every row of {cfg.time_col!r}",
                                          f"missing times in rows {describe_rows(list(frame.index[unparsed]))}",
                                          "Fill or drop those rows.")
        keys = [cfg.id_col, cfg.time_col] if cfg.id_col else [cfg.time_col]
        frame = frame.sort_values(keys, kind="stable")
        dupes = frame.duplicated(keys, keep=False)
        if dupes.any():
            raise _validation.value_error(owner, "the data", f"one row per {' and '.join(keys)}",
                                          f"duplicates in rows {describe_rows(list(frame.index[dupes]))}",
                                          "Aggregate or drop the duplicated rows first.")
    statics = covariates.encoded(owner, cfg, frame)
    groups = frame.groupby(cfg.id_col, sort=False) if cfg.id_col else [(None, frame)]
    return [one_series(cfg, owner, key, part, allow_future, statics.get(key)) for key, part in groups]


def one_series(cfg: Any, owner: str, key: Any, part: pd.DataFrame, allow_future: bool,
               static: np.ndarray | None = None) -> Series:
    """The rows ``part`` of series ``key`` as a :class:`Series`, checked (finite, positive with ``log``)."""
    values = part[cfg.features].to_numpy(dtype=np.float64)
    n_targets = len(cfg.target)
    future = None
    missing_target = np.isnan(values[:, :n_targets]).any(axis=1)
    if allow_future and missing_target.any():
        known = len(values) - int(np.argmin(missing_target[::-1])) if not missing_target.all() else 0
        if missing_target[:known].any() or known == 0:
            raise _validation.value_error(owner, "the data", "empty targets only in the last rows of a series "
                                          "(the future to forecast)", "empty targets in rows "
                                          + describe_rows(list(part.index[:known][missing_target[:known]])),
                                          "Fill or drop those rows.")
        future, values = values[known:, n_targets:], values[:known]
        n_future = covariates.n_future(cfg)
        for j, column in enumerate(cfg.features[n_targets:n_targets + n_future]):
            if cfg.horizon == 1 and not np.isfinite(future[:, j]).all():  # direct models ignore future rows
                raise covariates.missing_future(owner, cfg, column, len(future))
        future[~np.isfinite(future)] = 0.0  # (direct models) never read
        future[:, n_future:] = 0.0  # past features: unknown after the origin, never read (see .covariates)
    if static is not None:  # the encoded statics, the same at every step
        values = np.concatenate([values, np.tile(static, (len(values), 1))], axis=1)
        if future is not None:
            future = np.concatenate([future, np.tile(static, (len(future), 1))], axis=1)
    if future is not None and future.shape[1] == 0:
        future = None
    bad = ~np.isfinite(values).all(axis=1)
    if bad.any():
        raise _validation.value_error(owner, "the data", "finite values in the target and feature columns",
                                      f"NaN or inf in rows {describe_rows(list(part.index[:len(values)][bad]))}"
                                      + ("" if key is None else f" of series {key!r}"),
                                      "Drop or fill them (e.g. frame.dropna() or frame.interpolate()).")
    if cfg.log and (values[:, :n_targets] <= 0).any():
        rows = list(part.index[:len(values)][(values[:, :n_targets] <= 0).any(axis=1)])
        raise _validation.value_error(owner, "the data", "positive targets (log=True takes their logarithm)",
                                      f"zero or negative targets in rows {describe_rows(rows)}"
                                      + ("" if key is None else f" of series {key!r}"),
                                      "Train without --log, or shift the series above zero.")
    times = part[cfg.time_col].iloc[:len(values)].reset_index(drop=True) if cfg.time_col else None
    return Series(key, values, times, future)


def offset(cfg: Any) -> int:
    """Rows the transform consumes at the start of a series (1 differencing, a season seasonal)."""
    if cfg.seasonal_difference:
        return int(cfg.season)
    return 1 if cfg.difference else 0


def check_lengths(cfg: Any, owner: str, series: list[Series], extra: int, training: bool = True) -> None:
    """A ValueError naming the series too short for a window, the horizon and ``extra`` held-out rows."""
    lag = offset(cfg)
    need = lag + cfg.lookback + (cfg.horizon + extra if training else max(extra, 0))
    short = [(s.id, len(s.values)) for s in series if len(s.values) < need]
    if short:
        named = ", ".join(f"{i!r}: {n}" if i is not None else str(n) for i, n in short[:5])
        raise _validation.value_error(
            owner, "the data", f"series of at least {need} rows (lookback {cfg.lookback} + horizon "
            f"{cfg.horizon}{f' + {lag} for differencing' if lag else ''}"
            f"{f' + {extra} held out' if extra else ''})", f"shorter series ({named} rows)",
            "Use a shorter --lookback, or drop the short series.")


def forecast_steps(cfg: Any, owner: str, series: list[Series], steps: int | None) -> int:
    """The steps to forecast: ``steps`` checked against the horizon (direct models) or the future rows
    of the other features (recursive models with exogenous features); the default when None."""
    if cfg.horizon > 1:  # a direct model reads past rows only: future rows are neither needed nor used
        steps = _validation.positive_int(owner, "steps", cfg.horizon if steps is None else steps)
        if steps > cfg.horizon:
            raise _validation.value_error(owner, "`steps`", f"at most the model's horizon ({cfg.horizon})",
                                          repr(steps), "Forecast fewer steps, or train with --horizon 1 "
                                          "(recursive forecasts of any length).")
        return steps
    available = [len(s.future) for s in series if s.future is not None]
    has_exogenous = covariates.n_future(cfg) > 0
    if has_exogenous and len(available) < len(series):
        raise covariates.missing_future(owner, cfg, cfg.features[len(cfg.target)], steps or 1)
    if steps is None:
        steps = min(available) if has_exogenous else cfg.horizon
    steps = covariates.check_steps(owner, cfg, _validation.positive_int(owner, "steps", steps))
    if has_exogenous and steps > min(available):
        raise _validation.value_error(owner, "`steps`", f"at most the {min(available)} future rows given",
                                      repr(steps), "Add future rows, or forecast fewer steps.")
    return steps


def window_count(cfg: Any, s: Series) -> int:
    """Look-back windows (with their horizon) in series ``s`` after the transform."""
    return len(s.values) - offset(cfg) - cfg.lookback - cfg.horizon + 1


def held_out_count(cfg: Any, n_rows: int, validation: float) -> int:
    """How many of a series' training examples ``fit`` holds out: windows (recursive) or steps
    (stateful), the last ``validation`` fraction, at least one."""
    if not validation:
        return 0
    usable = n_rows - offset(cfg) - (1 if cfg.method == "stateful" else cfg.lookback + cfg.horizon - 1)
    return max(1, int(round(usable * validation)))


def known_futures(cfg: Any, anchors: list[tuple[Series, int]], steps: int) -> list:
    """The other features' observed values in the ``steps`` rows after each anchor (None without any)."""
    n_targets = len(cfg.target)
    return [s.values[a + 1:a + 1 + steps, n_targets:] if s.values.shape[1] > n_targets else None
            for s, a in anchors]


def as_time(owner: str, column: pd.Series) -> pd.Series:
    """A time column as numbers or datetimes (dates read from a CSV are text), or a TypeError."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return column
    try:
        return pd.to_datetime(column)
    except (ValueError, TypeError):
        raise _validation.type_error(owner, "the time column", "numbers or dates", f"{column.name!r} holding "
                                     f"e.g. {column.iloc[0]!r}", "Pass a column of numbers or ISO dates.") from None


def future_times(times: pd.Series | None, steps: int) -> list:
    """The ``steps`` times after ``times``: its inferred frequency for dates, else its median step."""
    if times is None or len(times) == 0:
        return [None] * steps
    if pd.api.types.is_datetime64_any_dtype(times):
        with warnings.catch_warnings():  # pandas 3 announces that it will return an offset; both work below
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(times) if len(times) >= 3 else None  # e.g. "MS", "D"
        if freq is not None:
            return list(pd.date_range(times.iloc[-1], periods=steps + 1, freq=freq)[1:])
    delta = times.diff().median() if len(times) > 1 else 1
    if pd.api.types.is_integer_dtype(times) and float(delta).is_integer():
        delta = int(delta)  # step numbers stay integers (the median of integer differences is a float)
    return [times.iloc[-1] + delta * (k + 1) for k in range(steps)]
