"""Per-id sequences: a long table with one row per (id, time step) as a padded ``(n_groups, T, F)`` array.

``sequences(frame, "breath_id", ...)`` is the library form of the ``x.reshape(-1, 80, F)`` that
competition notebooks write by hand, with the checks that reshape skips (equal group lengths, time
order, missing values) and a way back: ``Sequences.to_frame(predictions)`` puts per-step predictions
back in the original table's rows, e.g. to write a submission file.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from .._lazy import pandas as pd

from .. import _validation
from .checks import check_finite, describe_rows, row_labels, to_numpy

_OWNER = "sequences"


@dataclass
class Sequences:
    """The arrays built by :func:`sequences`, plus what is needed to map predictions back to rows.

    Attributes:
        x: float32 ``(n_groups, T, F)`` features; padded steps hold ``pad_value``.
        y: float32 ``(n_groups, T, n_targets)`` targets, or None when no ``target_cols`` were given.
        mask: bool ``(n_groups, T)``; True where the step is a real row of the table.
        ids: ``(n_groups,)`` group ids, in order of first appearance in the table (ascending when
            ``sort=True``); ``x[i]`` is the group ``ids[i]``.
        lengths: int64 ``(n_groups,)`` real steps per sequence (``mask.sum(axis=1)``).
        feature_cols: the columns of ``x``'s last axis, in order.
        target_cols: the columns of ``y``'s last axis, in order (empty when ``y`` is None).
        positions: int64 ``(n_groups, T)`` position (``iloc``) in the original frame of each step,
            -1 for padding.
        index: the original frame's index, for :meth:`to_frame`.
    """

    x: np.ndarray
    y: np.ndarray | None
    mask: np.ndarray
    ids: np.ndarray
    lengths: np.ndarray
    feature_cols: list = field(default_factory=list)
    target_cols: list = field(default_factory=list)
    positions: np.ndarray | None = None
    index: pd.Index | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def to_frame(self, predictions: Any, name: str | Sequence[str] = "prediction") -> pd.Series | pd.DataFrame:
        """Per-step predictions back as a Series / DataFrame aligned with the original frame's rows.

        Args:
            predictions: ``(n_groups, T)`` or ``(n_groups, T, k)`` array (NumPy, torch or nested
                lists), e.g. ``model.predict(seq.x)``; the values at padded steps are dropped.
            name: the Series name (default ``"prediction"``); for ``k > 1`` either a list of ``k``
                column names or a prefix giving columns ``name_0 ... name_{k-1}``.

        Returns:
            A Series (``k == 1`` or 2-D predictions) or a DataFrame ``(len(frame), k)`` with the
            original frame's index and row order, so ``frame[name] = seq.to_frame(pred)`` works.
            Rows dropped by truncation get NaN.

        Example:
            >>> seq = sequences(train, "breath_id", "time_step", target_cols="pressure")
            >>> train["pred"] = seq.to_frame(model.predict(seq.x))
        """
        owner = "Sequences.to_frame"
        values = to_numpy(predictions, owner, "predictions")
        n_groups, steps = self.mask.shape
        if values.ndim not in (2, 3) or values.shape[:2] != (n_groups, steps):
            raise _validation.value_error(
                owner, "`predictions`", f"an array of shape ({n_groups}, {steps}) or ({n_groups}, {steps}, k)",
                _validation.describe_array(values),
                "Pass one prediction per step of seq.x (a model with return_sequences=True), in seq.x's order.")
        if not np.issubdtype(values.dtype, np.number) and values.dtype != bool:
            raise _validation.type_error(owner, "`predictions`", "numeric values", f"dtype {values.dtype}")
        if values.ndim == 2:
            values = values[:, :, None]
        k = values.shape[2]
        columns = _prediction_columns(owner, name, k)
        dtype = np.result_type(values.dtype, np.float32)  # NaN for truncated rows needs a float dtype
        out = np.full((len(self.index), k), np.nan, dtype=dtype)
        out[self.positions[self.mask]] = values[self.mask]
        if columns is None:
            return pd.Series(out[:, 0], index=self.index, name=name)
        return pd.DataFrame(out, index=self.index, columns=columns)


def sequences(frame: pd.DataFrame, id_col: Any, time_col: Any = None, feature_cols: Any = None,
              target_cols: Any = None, padding: str | None = None, max_len: int | None = None,
              pad_value: float = 0.0, sort: bool = False, truncating: str | None = None) -> Sequences:
    """Group a long table (one row per id and time step) into ``(n_groups, T, F)`` sequences.

    Args:
        frame: a DataFrame with one row per (group, step).
        id_col: the column naming each row's group (e.g. ``"breath_id"``).
        time_col: optional column (numeric or datetime) whose values must increase within each
            group (default None: the frame's row order is the time order). Excluded from the
            default features.
        feature_cols: column name or list (default None: every numeric or bool column except
            ``id_col``, ``time_col`` and ``target_cols``, in frame order).
        target_cols: column name or list for ``y`` (default None: no ``y``).
        padding: None (default: every group must have the same number of rows), ``"post"`` (pad
            after the real steps) or ``"pre"`` (pad before them, as Keras's ``pad_sequences``).
        max_len: steps per sequence when padding (default None: the longest group's length).
        pad_value: value written at padded steps of ``x`` and ``y`` (default 0.0).
        sort: if True, stably sort rows by ``(id_col, time_col)`` (or by ``id_col`` alone) first;
            the groups are then in ascending id order. Default False: groups in order of first
            appearance, rows of a group in table order.
        truncating: what to do with groups longer than ``max_len``: None (default: raise an
            error, so no rows are dropped silently), ``"pre"`` (keep the last ``max_len`` steps,
            Keras's default) or ``"post"`` (keep the first ``max_len`` steps).

    Returns:
        A :class:`Sequences` with ``x`` float32 ``(n_groups, T, F)``, ``y`` float32
        ``(n_groups, T, n_targets)`` or None, ``mask`` bool ``(n_groups, T)``, ``ids``,
        ``lengths``, and :meth:`Sequences.to_frame` to map predictions back to rows. For a table
        sorted by id with L rows per id, ``x`` equals ``frame[feature_cols].to_numpy().reshape(-1, L, F)``.

    Example:
        >>> seq = sequences(train, "breath_id", "time_step", ["R", "C", "u_in", "u_out"], "pressure")
        >>> seq.x.shape, seq.y.shape
        ((1000, 80, 4), (1000, 80, 1))
    """
    if not isinstance(frame, pd.DataFrame):
        raise _validation.type_error(_OWNER, "`frame`", "a pandas DataFrame with one row per (id, step)",
                                     type(frame).__name__, "Build one with pd.DataFrame(...) or pd.read_csv(...).")
    sort = _validation.boolean(_OWNER, "sort", sort)
    if padding is not None:
        _validation.choice(_OWNER, "padding", padding, (None, "post", "pre"))
    if truncating is not None:
        _validation.choice(_OWNER, "truncating", truncating, (None, "pre", "post"))
    if max_len is not None:
        max_len = _validation.positive_int(_OWNER, "max_len", max_len)
        if padding is None:
            raise _validation.value_error(_OWNER, "`max_len`", "None when padding=None", repr(max_len),
                                          "Pass padding='post' (or 'pre') to pad or truncate to max_len steps.")
    if isinstance(pad_value, bool) or not isinstance(pad_value, numbers.Real):
        raise _validation.type_error(_OWNER, "`pad_value`", "a number", repr(pad_value))
    if len(frame) == 0:
        raise _validation.value_error(_OWNER, "`frame`", "at least one row", "an empty frame")

    check_columns(_OWNER, "id_col", frame, [id_col])
    if time_col is not None:
        check_columns(_OWNER, "time_col", frame, [time_col])
    targets = _column_list(target_cols)
    check_columns(_OWNER, "target_cols", frame, targets)
    features = _resolve_features(frame, id_col, time_col, feature_cols, targets)
    _check_numeric(frame, "target_cols", targets)

    ids_column = frame[id_col]
    _check_no_missing(frame, ids_column, "id_col", id_col)
    order = _row_order(frame, id_col, time_col, sort)
    ordered_ids = ids_column.iloc[order]
    grouped = ordered_ids.groupby(ordered_ids, sort=False)
    codes = grouped.ngroup().to_numpy()
    sizes = grouped.size()
    group_ids, group_sizes = sizes.index.to_numpy(), sizes.to_numpy()

    by_group = np.argsort(codes, kind="stable")  # rows of each group together, order kept within
    rows = order[by_group]                        # frame positions, grouped
    codes = codes[by_group]
    if time_col is not None:
        _check_time_order(frame, time_col, rows, codes, group_ids)

    x_rows = _numeric_values(frame, "feature_cols", features)
    y_rows = _numeric_values(frame, "target_cols", targets) if targets else None

    steps = _sequence_length(group_ids, group_sizes, padding, max_len, truncating)
    starts = np.concatenate(([0], np.cumsum(group_sizes)[:-1]))
    rank = np.arange(len(rows)) - starts[codes]            # step number within the group
    dropped = np.maximum(group_sizes - steps, 0) if truncating == "pre" else np.zeros_like(group_sizes)
    kept = np.minimum(group_sizes, steps)
    lead = steps - kept if padding == "pre" else np.zeros_like(kept)
    keep = (rank >= dropped[codes]) & (rank < dropped[codes] + kept[codes])
    slot = rank - dropped[codes] + lead[codes]

    n_groups = len(group_ids)
    positions = np.full((n_groups, steps), -1, dtype=np.int64)
    positions[codes[keep], slot[keep]] = rows[keep]
    mask = positions >= 0
    x = _fill(x_rows, positions, mask, pad_value)
    y = _fill(y_rows, positions, mask, pad_value) if y_rows is not None else None
    return Sequences(x=x, y=y, mask=mask, ids=group_ids, lengths=kept.astype(np.int64),
                     feature_cols=features, target_cols=targets, positions=positions, index=frame.index)


# --- columns ---------------------------------------------------------------------------------------

def check_columns(owner: str, arg: str, frame: pd.DataFrame, columns: list) -> None:
    """Raise an InputKeyError (a ValueError and KeyError) naming the ``columns`` missing from ``frame`` and listing the available ones."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        available = ", ".join(repr(c) for c in list(frame.columns)[:20])
        more = f" and {len(frame.columns) - 20} more" if len(frame.columns) > 20 else ""
        raise _validation.InputKeyError(_validation.message(
            owner, f"`{arg}`", "columns of the frame", f"missing column(s) {', '.join(repr(c) for c in missing)}",
            f"Available columns: {available}{more}."))


def _column_list(columns: Any) -> list:
    if columns is None:
        return []
    if isinstance(columns, (str, int, tuple)) or not hasattr(columns, "__iter__"):
        return [columns]
    return list(columns)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)


def _resolve_features(frame: pd.DataFrame, id_col: Any, time_col: Any, feature_cols: Any, targets: list) -> list:
    if feature_cols is not None:
        features = _column_list(feature_cols)
        if not features:
            raise _validation.value_error(_OWNER, "`feature_cols`", "at least one column", "an empty list")
        check_columns(_OWNER, "feature_cols", frame, features)
        _check_numeric(frame, "feature_cols", features)
        return features
    excluded = {id_col, time_col, *targets}
    features = [c for c in frame.columns if c not in excluded and _is_numeric(frame[c])]
    if not features:
        raise _validation.value_error(
            _OWNER, "`feature_cols`", "at least one numeric column besides id_col, time_col and target_cols",
            f"none among {list(frame.columns)}", "Pass feature_cols=[...] explicitly.")
    return features


def _check_numeric(frame: pd.DataFrame, arg: str, columns: list) -> None:
    bad = [c for c in columns if not _is_numeric(frame[c])]
    if bad:
        kinds = ", ".join(f"{c!r} ({frame[c].dtype})" for c in bad)
        raise _validation.type_error(
            _OWNER, f"`{arg}`", "numeric or bool columns", f"non-numeric column(s) {kinds}",
            "Encode them first (e.g. pd.get_dummies(frame, columns=[...]) or series.astype(float)).")


def _numeric_values(frame: pd.DataFrame, arg: str, columns: list) -> np.ndarray:
    values = frame[columns].to_numpy(dtype=np.float64, na_value=np.nan)
    check_finite(values, _OWNER, arg, source=frame)
    return values


def _check_no_missing(frame: pd.DataFrame, column: pd.Series, arg: str, name: Any) -> None:
    missing = np.flatnonzero(column.isna().to_numpy())
    if len(missing):
        labels = row_labels(frame, missing)
        raise _validation.value_error(
            _OWNER, f"`{arg}` {name!r}", "a value in every row", f"missing values in row(s) {describe_rows(labels)}",
            "Drop or fill those rows first.")


# --- order -----------------------------------------------------------------------------------------

def _row_order(frame: pd.DataFrame, id_col: Any, time_col: Any, sort: bool) -> np.ndarray:
    """Frame positions in the order rows are read: as given, or stably sorted by (id, time)."""
    positions = np.arange(len(frame))
    if not sort:
        return positions
    keys = [id_col] if time_col is None else [id_col, time_col]
    try:
        return frame[keys].assign(_position=positions).sort_values(keys, kind="stable")["_position"].to_numpy()
    except TypeError as error:
        raise _validation.type_error(_OWNER, "`sort=True`", "sortable id/time values",
                                     f"values that cannot be compared ({error})") from None


def _check_time_order(frame: pd.DataFrame, time_col: Any, rows: np.ndarray, codes: np.ndarray,
                      group_ids: np.ndarray) -> None:
    times = frame[time_col]
    if not (pd.api.types.is_numeric_dtype(times.dtype) or pd.api.types.is_datetime64_any_dtype(times.dtype)
            or pd.api.types.is_timedelta64_dtype(times.dtype)):
        raise _validation.type_error(_OWNER, f"`time_col` {time_col!r}", "numeric or datetime values",
                                     f"dtype {times.dtype}", "Convert it first, e.g. pd.to_datetime(frame[time_col]).")
    _check_no_missing(frame, times, "time_col", time_col)
    values = times.to_numpy()[rows]
    same_group = codes[1:] == codes[:-1]
    bad = np.flatnonzero(same_group & ~(values[1:] > values[:-1]))
    if not len(bad):
        return
    first = bad[0]
    group = _show(group_ids[codes[first + 1]])
    before, after = row_labels(frame, rows[[first, first + 1]])
    t_before, t_after = values[first], values[first + 1]
    if t_before == t_after:
        received = (f"duplicate time {t_after} in group {group} at rows {before} and {after} "
                    f"({len(bad)} non-increasing step(s) in all)")
        fix = "Drop duplicates first, e.g. frame.drop_duplicates([id_col, time_col])."
    else:
        received = (f"group {group} where row {after} (time {t_after}) comes after row {before} "
                    f"(time {t_before}) ({len(bad)} non-increasing step(s) in all)")
        fix = "Pass sort=True to sort rows by (id_col, time_col), or sort the frame first."
    raise _validation.value_error(_OWNER, f"`time_col` {time_col!r}",
                                  "strictly increasing times within each group", received, fix)


# --- padding ---------------------------------------------------------------------------------------

def _sequence_length(group_ids: np.ndarray, sizes: np.ndarray, padding: str | None, max_len: int | None,
                     truncating: str | None) -> int:
    if padding is None:
        if (sizes != sizes[0]).any():
            values, counts = np.unique(sizes, return_counts=True)
            common = values[np.argmax(counts)]
            odd = np.flatnonzero(sizes != common)
            shown = ", ".join(f"{_show(group_ids[i])} ({sizes[i]} rows)" for i in odd[:5])
            more = f" and {len(odd) - 5} more" if len(odd) > 5 else ""
            raise _validation.value_error(
                _OWNER, "groups", "the same number of rows in every group when padding=None",
                f"lengths from {sizes.min()} to {sizes.max()} (most often {common}); groups {shown}{more}",
                "Pass padding='post' (or 'pre') to pad shorter groups; seq.mask marks the real steps.")
        return int(sizes[0])
    if max_len is None:
        return int(sizes.max())
    long = np.flatnonzero(sizes > max_len)
    if len(long) and truncating is None:
        shown = ", ".join(f"{_show(group_ids[i])} ({sizes[i]} rows)" for i in long[:5])
        more = f" and {len(long) - 5} more" if len(long) > 5 else ""
        raise _validation.value_error(
            _OWNER, "`max_len`", "groups of at most max_len rows when truncating=None",
            f"max_len={max_len} and {len(long)} longer group(s): {shown}{more}",
            "Pass truncating='pre' (keep the last max_len steps, as Keras) or 'post' (keep the first), "
            "or a larger max_len.")
    return max_len


def _show(value: Any) -> str:
    """``repr`` of a group id without NumPy's ``np.int64(...)`` wrapper."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _fill(values: np.ndarray, positions: np.ndarray, mask: np.ndarray, pad_value: float) -> np.ndarray:
    out = np.full(positions.shape + (values.shape[1],), pad_value, dtype=np.float32)
    out[mask] = values[positions[mask]]
    return out


def _prediction_columns(owner: str, name: Any, k: int) -> list | None:
    """None for a Series (k == 1 and a single name), else the k column names."""
    if isinstance(name, str) or not hasattr(name, "__iter__"):
        return None if k == 1 else [f"{name}_{j}" for j in range(k)]
    names = list(name)
    if len(names) != k:
        raise _validation.value_error(owner, "`name`", f"a name or a list of {k} names (one per output)",
                                      f"{len(names)} names")
    return names
