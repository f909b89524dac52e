"""Splits that respect time and groups: chronological train/val/test, and splits by group id.

Shuffled row splits leak the future (and a group's own rows) into training; these do not.
``chronological_split`` keeps time order, ``group_split`` and ``group_kfold`` keep every group
(a breath, a sensor, a customer) whole on one side, using scikit-learn's group splitters.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterator

import numpy as np
from .._lazy import pandas as pd

from .. import _validation
from .checks import describe_rows, row_labels, to_numpy
from .sequences import check_columns


def chronological_split(*arrays: Any, test_size: float | int = 0.2, val_size: float | int | None = None,
                        gap: int = 0) -> list:
    """Split aligned arrays / frames in time order: the oldest rows train, the newest test.

    Like ``sklearn.model_selection.train_test_split(*arrays, test_size=..., shuffle=False)`` (the
    same result when ``val_size=None`` and ``gap=0``), plus an optional validation part and a gap.

    Args:
        *arrays: one or more sequences of the same length along axis 0 (NumPy arrays, pandas
            objects, torch tensors or lists), rows in time order.
        test_size: the newest part: a float in (0, 1) (fraction of all rows, rounded up) or an int
            row count (default 0.2).
        val_size: optional middle part, same forms as ``test_size`` (default None: no validation part).
        gap: rows dropped between consecutive parts, e.g. the look-back window length so no
            window straddles two parts (default 0).

    Returns:
        A flat list: for each input, its ``train, test`` parts, or ``train, val, test`` when
        ``val_size`` is given; each part is a slice of the same type (pandas keeps its index).

    Example:
        >>> x_train, x_val, x_test, y_train, y_val, y_test = chronological_split(
        ...     x, y, test_size=0.2, val_size=0.1, gap=24)
    """
    owner = "chronological_split"
    if not arrays:
        raise _validation.value_error(owner, "`*arrays`", "at least one array", "none",
                                      "Pass the arrays to split, e.g. chronological_split(x, y).")
    n = _common_length(owner, arrays)
    n_test = _part_size(owner, "test_size", test_size, n)
    n_val = 0 if val_size is None else _part_size(owner, "val_size", val_size, n)
    gap = _validation.non_negative_int(owner, "gap", gap)
    n_gaps = gap * (2 if val_size is not None else 1)
    n_train = n - n_test - n_val - n_gaps
    if n_train < 1:
        parts = f"{n_test} test + {n_val} val + {n_gaps} gap rows" if val_size is not None \
            else f"{n_test} test + {n_gaps} gap rows"
        raise _validation.value_error(
            owner, "`*arrays`", f"more rows than the {parts} (at least one left to train on)",
            f"{n} rows", "Lower test_size / val_size / gap, or pass more data.")
    bounds = [(0, n_train)]
    if val_size is not None:
        bounds.append((n_train + gap, n_train + gap + n_val))
    bounds.append((n - n_test, n))
    return [_take(array, start, stop) for array in arrays for start, stop in bounds]


def group_split(data: Any, groups: Any = None, test_size: float | int = 0.2,
                seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Split rows by group so that no group has rows on both sides (``GroupShuffleSplit``).

    Args:
        data: a DataFrame, any array of rows, or the group labels themselves (then ``groups=None``).
        groups: a column name of ``data`` (a DataFrame), or an array of one group label per row
            (default None: ``data`` holds the labels, e.g. ``seq.ids`` for one row per sequence).
        test_size: the test groups: a float in (0, 1) (fraction of the groups) or an int count of
            groups (default 0.2). Sizes count groups, not rows.
        seed: random seed for a reproducible split (default None: a different split each call).

    Returns:
        ``(train_idx, test_idx)``: sorted int64 row positions (for ``.iloc`` / NumPy indexing).

    Example:
        >>> train_idx, test_idx = group_split(frame, "breath_id", test_size=0.2, seed=0)
        >>> train, test = frame.iloc[train_idx], frame.iloc[test_idx]
    """
    owner = "group_split"
    labels = _group_labels(owner, data, groups, arg="data" if groups is None else "groups")
    n_groups = len(pd.unique(labels))
    if n_groups < 2:
        raise _validation.value_error(owner, "`groups`", "at least 2 distinct groups", f"{n_groups}",
                                      "A group split needs groups on both sides.")
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        if not 1 <= test_size < n_groups:
            raise _validation.value_error(owner, "`test_size`", f"an int in [1, {n_groups - 1}] (groups)",
                                          repr(test_size), "Or pass a fraction in (0, 1).")
    else:
        _check_fraction(owner, "test_size", test_size)
        if math.ceil(test_size * n_groups) >= n_groups:
            raise _validation.value_error(owner, "`test_size`", f"a fraction leaving a training group of {n_groups}",
                                          repr(test_size), "Lower test_size.")
    seed = _seed(owner, seed)
    from sklearn.model_selection import GroupShuffleSplit  # heavy: imported on first use

    splitter = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    train_idx, test_idx = next(splitter.split(np.zeros(len(labels)), groups=labels))
    return np.sort(train_idx).astype(np.int64), np.sort(test_idx).astype(np.int64)


def group_kfold(ids: Any, n_splits: int = 5, shuffle: bool = False,
                seed: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """K-fold over groups (``GroupKFold``): each group is in exactly one validation fold.

    With one id per sequence (``seq.ids``), ``shuffle=True`` and ``seed=s`` give the same folds as
    ``KFold(n_splits, shuffle=True, random_state=s).split(seq.x)`` when the ids are in ascending
    order (the case of ``sequences(..., sort=True)`` or a table sorted by id).

    Args:
        ids: one group label per row (e.g. ``frame["breath_id"]`` or ``seq.ids``).
        n_splits: number of folds, at least 2 and at most the number of groups (default 5).
        shuffle: False (default): GroupKFold's deterministic folds balanced by rows per group;
            True: groups shuffled by ``seed`` then cut into ``n_splits`` folds.
        seed: random seed when ``shuffle=True`` (default None: a different shuffle each call).

    Returns:
        An iterator of ``n_splits`` pairs ``(train_idx, val_idx)`` of int64 positions into ``ids``.

    Example:
        >>> for fold, (train_idx, val_idx) in enumerate(group_kfold(seq.ids, 5, shuffle=True, seed=2021)):
        ...     model.fit(seq.x[train_idx], seq.y[train_idx], validation_data=(seq.x[val_idx], seq.y[val_idx]))
    """
    owner = "group_kfold"
    labels = _group_labels(owner, ids, None, arg="ids")
    n_splits = _validation.positive_int(owner, "n_splits", n_splits)
    shuffle = _validation.boolean(owner, "shuffle", shuffle)
    n_groups = len(pd.unique(labels))
    if not 2 <= n_splits <= n_groups:
        raise _validation.value_error(owner, "`n_splits`", f"an int in [2, {n_groups}] (the number of groups)",
                                      repr(n_splits), "Use fewer folds or more groups.")
    seed = _seed(owner, seed)
    if seed is not None and not shuffle:
        raise _validation.value_error(owner, "`seed`", "None when shuffle=False", repr(seed),
                                      "Pass shuffle=True for seeded folds, or drop seed.")
    return _kfold_pairs(labels, n_splits, shuffle, seed)


# --- helpers ---------------------------------------------------------------------------------------

def _kfold_pairs(labels: np.ndarray, n_splits: int, shuffle: bool, seed: int | None) -> Iterator:
    from sklearn.model_selection import GroupKFold  # heavy: imported on first use

    try:
        splitter = GroupKFold(n_splits=n_splits, shuffle=shuffle, random_state=seed)
        folds = (val for _, val in splitter.split(np.zeros(len(labels)), groups=labels))
    except TypeError:  # scikit-learn < 1.6: GroupKFold has no shuffle
        folds = _shuffled_group_folds(labels, n_splits, seed) if shuffle else \
            (val for _, val in GroupKFold(n_splits=n_splits).split(np.zeros(len(labels)), groups=labels))
    everything = np.arange(len(labels))
    for val_idx in folds:
        yield np.setdiff1d(everything, val_idx).astype(np.int64), np.asarray(val_idx, dtype=np.int64)


def _shuffled_group_folds(labels: np.ndarray, n_splits: int, seed: int | None) -> Iterator[np.ndarray]:
    """GroupKFold(shuffle=True)'s folds (scikit-learn >= 1.6), for older scikit-learn."""
    rng = np.random.RandomState(seed)
    for fold_groups in np.array_split(rng.permutation(np.unique(labels)), n_splits):
        yield np.flatnonzero(np.isin(labels, fold_groups))


def _group_labels(owner: str, data: Any, groups: Any, arg: str = "groups") -> np.ndarray:
    if groups is None:
        labels, source = to_numpy(data, owner, arg), data
    elif isinstance(data, pd.DataFrame) and isinstance(groups, (str, numbers.Number, tuple)):
        check_columns(owner, "groups", data, [groups])
        labels, source = data[groups].to_numpy(), data
    else:
        labels, source = to_numpy(groups, owner, "groups"), data
        n = _length(owner, "data", data)
        if len(labels) != n:
            raise _validation.value_error(owner, "`groups`", f"one label per row of data ({n})",
                                          f"{len(labels)} labels")
    if labels.ndim != 1:
        raise _validation.value_error(owner, f"`{arg}`", "a 1-D array of group labels (one per row)",
                                      _validation.describe_array(labels),
                                      "Pass a column, e.g. frame['breath_id'], or seq.ids.")
    missing = np.flatnonzero(pd.isna(labels))
    if len(missing):
        raise _validation.value_error(owner, f"`{arg}`", "a group label in every row",
                                      f"missing labels in row(s) {describe_rows(row_labels(source, missing))}",
                                      "Drop or fill those rows first.")
    kinds = sorted({type(label).__name__ for label in labels}) if labels.dtype == object else []
    if len(kinds) > 1:  # NumPy cannot sort (group) labels mixing e.g. str and int
        raise _validation.type_error(owner, f"`{arg}`", "group labels of one type", f"a mix of {', '.join(kinds)}",
                                     "Convert them first, e.g. groups.astype(str).")
    return labels


def _length(owner: str, name: str, array: Any) -> int:
    shape = getattr(array, "shape", None)
    if shape is not None:
        if len(shape) == 0:
            raise _validation.value_error(owner, f"`{name}`", "an array with at least one axis", "a scalar")
        return int(shape[0])
    try:
        return len(array)
    except TypeError:
        raise _validation.type_error(owner, f"`{name}`", "an array, a pandas object or a list",
                                     type(array).__name__) from None


def _common_length(owner: str, arrays: tuple) -> int:
    lengths = [_length(owner, f"arrays[{i}]", array) for i, array in enumerate(arrays)]
    if len(set(lengths)) > 1:
        raise _validation.value_error(owner, "`*arrays`", "arrays of the same length (aligned rows)",
                                      f"lengths {lengths}", "Pass x and y with one row each per time step.")
    return lengths[0]


def _check_fraction(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _validation.type_error(owner, f"`{name}`", "a float in (0, 1) or an int count",
                                     f"{value!r} of type {type(value).__name__}")
    if not 0.0 < float(value) < 1.0:
        raise _validation.value_error(owner, f"`{name}`", "a float in (0, 1) or an int count", repr(value),
                                      f"Use e.g. {name}=0.2 for a fifth.")
    return float(value)


def _part_size(owner: str, name: str, value: Any, n: int) -> int:
    """Rows in a part: ceil(fraction * n) as scikit-learn's test_size, or the int count itself."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 1:
            raise _validation.value_error(owner, f"`{name}`", "a float in (0, 1) or an int count >= 1",
                                          repr(value))
        return int(value)
    return math.ceil(_check_fraction(owner, name, value) * n)


def _seed(owner: str, seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise _validation.type_error(owner, "`seed`", "None or an int >= 0", repr(seed))
    return _validation.non_negative_int(owner, "seed", seed)


def _take(array: Any, start: int, stop: int) -> Any:
    if hasattr(array, "iloc"):
        return array.iloc[start:stop]
    return array[start:stop]
