"""Sliding windows over time series: Keras's ``timeseries_dataset_from_array``, tf.data-style
``window`` / ``flat_map(batch)``, target-aligned windows and the classic look-back framing.

NumPy / pandas / torch in; NumPy arrays (or batches of torch tensors, for ``timeseries_dataset_from_array``)
out. Axis 0 is always time. Imports nothing from lstmkit's layers or models.
"""

from __future__ import annotations

import itertools
import math
import numbers
from types import SimpleNamespace
from typing import Any, Iterator

import numpy as np
import torch

from .. import _validation
from . import checks

__all__ = ["TimeseriesDataset", "timeseries_dataset_from_array", "windows", "windowed", "lookback"]


# -- shared helpers ------------------------------------------------------------------------------------------
def _series(data: Any, owner: str, name: str) -> np.ndarray:
    """``data`` as a NumPy array with a time axis first (no copy when possible)."""
    array = checks.to_numpy(data, owner, name)
    if array.ndim == 0:
        raise _validation.value_error(owner, f"`{name}`", "an array whose first axis is time", f"a scalar ({array!r})",
                                      "Pass one row per time step.")
    return array


def _numeric(array: np.ndarray, owner: str, name: str) -> np.ndarray:
    """Raise a TypeError unless ``array`` holds integers, floats or booleans."""
    kind = array.dtype
    if not (np.issubdtype(kind, np.integer) or np.issubdtype(kind, np.floating) or kind == np.bool_):
        raise _validation.type_error(owner, f"`{name}`", "numeric values", f"an array of dtype {kind}",
                                     "Keep the numeric columns (frame.select_dtypes('number')) or convert them.")
    return array


def _check_finite_rows(array: np.ndarray, rows: Any, owner: str, name: str, source: Any) -> None:
    """``checks.check_finite`` on ``array[rows]`` (a slice or positions), naming rows as the user knows them."""
    if not np.issubdtype(array.dtype, np.floating):
        return
    index = getattr(source, "index", None) if hasattr(source, "to_numpy") else None  # pandas only
    if index is not None and len(index) == len(array):
        labels = index[rows]  # pandas labels (dates, ids, ...)
    elif isinstance(rows, slice):
        labels = range(len(array))[rows]
    else:
        labels = rows
    checks.check_finite(array[rows], owner, name, SimpleNamespace(index=labels))


def _full_windows(array: np.ndarray, size: int, shift: int, stride: int) -> np.ndarray:
    """Every full window as a read-only view ``(n, size, *array.shape[1:])``; ``n`` may be 0."""
    span = (size - 1) * stride + 1
    if len(array) < span:
        return np.empty((0, size, *array.shape[1:]), dtype=array.dtype)
    view = np.lib.stride_tricks.sliding_window_view(array, span, axis=0)  # (N - span + 1, *rest, span)
    return np.moveaxis(view[::shift, ..., ::stride], -1, 1)


def _span_error(owner: str, n: int, size: int, stride: int, fix: str) -> ValueError:
    span = (size - 1) * stride + 1
    return _validation.value_error(
        owner, "`size`", "a window that fits in the series",
        f"size={size} with stride={stride}, which spans (size-1)*stride+1 = {span} steps, "
        f"but the series has {n} steps", fix)


# -- timeseries_dataset_from_array ----------------------------------------------------------------------------
def _tensor(array: Any) -> torch.Tensor:
    """Integers become int64 (token ids, class labels); floats and booleans become float32 (Keras's floatx)."""
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        return torch.from_numpy(array.astype(np.int64, copy=False))
    return torch.from_numpy(array.astype(np.float32, copy=False))


def _buffered_shuffle(order: np.ndarray, buffer_size: int, rng: np.random.Generator) -> np.ndarray:
    """tf.data's ``shuffle(buffer_size)``: emit a random element of a sliding buffer, refill it from ``order``."""
    out = np.empty_like(order)
    buffer = order[:buffer_size].tolist()
    upcoming = iter(order[buffer_size:].tolist())
    for k, u in enumerate(rng.random(len(order))):
        i = int(u * len(buffer))
        out[k] = buffer[i]
        nxt = next(upcoming, None)
        if nxt is None:
            buffer[i] = buffer[-1]
            buffer.pop()
        else:
            buffer[i] = nxt
    return out


class TimeseriesDataset:
    """Batches of windows over a time series, gathered per batch (what ``timeseries_dataset_from_array`` returns).

    Iterable and re-iterable; ``len()`` is the number of batches (of samples when ``batch_size`` is None).
    Each item is ``(x, y)``, or ``x`` alone when there are no targets, as torch tensors.

    Attributes:
        batch_size: Samples per batch, or None for single samples.
        sequence_length: Steps per window.
        sampling_rate: Rows between two steps of a window.
        shuffle: Whether the order is shuffled (again at every iteration, as Keras).
        seed: The seed in use when shuffling (drawn from NumPy's global RNG when None was passed).
    """

    def __init__(self, data: np.ndarray, targets: np.ndarray | None, start_positions: np.ndarray,
                 sequence_length: int, sampling_rate: int, batch_size: int | None, shuffle: bool,
                 seed: int | None) -> None:
        self._data = data
        self._targets = targets
        self._starts = np.asarray(start_positions, dtype=np.int64)
        self._starts.flags.writeable = False
        self._steps = np.arange(sequence_length, dtype=np.int64) * sampling_rate
        self.sequence_length = sequence_length
        self.sampling_rate = sampling_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self._iterations = 0

    @property
    def start_positions(self) -> np.ndarray:
        """Absolute rows of ``data`` where the windows start, in Keras's order before its per-iteration shuffle."""
        return self._starts

    @property
    def num_samples(self) -> int:
        """The number of windows."""
        return len(self._starts)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_samples
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        order = self._starts
        if self.shuffle:  # Keras: dataset.shuffle(batch_size * 8 or 1024, seed), reshuffled per iteration
            buffer_size = 1024 if self.batch_size is None else 8 * self.batch_size
            order = _buffered_shuffle(order, buffer_size, np.random.default_rng([self.seed, self._iterations]))
        self._iterations += 1
        if self.batch_size is None:
            return (self._gather(start) for start in order)
        return (self._gather(order[i:i + self.batch_size]) for i in range(0, len(order), self.batch_size))

    def take(self, count: int) -> "TakenBatches":
        """tf.data's ``dataset.take(count)``: the first ``count`` items of an iteration (``for x, y in ds.take(1)``)."""
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < -1:
            raise _validation.InputError(f"take: count expects an integer >= 0 (or -1 for all); received {count!r}.")
        return TakenBatches(self, len(self) if count == -1 else int(count))

    def _gather(self, starts: Any) -> Any:
        """The windows (and targets) starting at ``starts`` (one position or a 1-D array of them)."""
        x = _tensor(self._data[np.add.outer(starts, self._steps)])
        if self._targets is None:
            return x
        return x, _tensor(self._targets[starts])

    def __repr__(self) -> str:
        return (f"TimeseriesDataset(num_samples={self.num_samples}, batch_size={self.batch_size}, "
                f"sequence_length={self.sequence_length}, sampling_rate={self.sampling_rate}, "
                f"shuffle={self.shuffle})")


class TakenBatches:
    """The first ``count`` items of a ``TimeseriesDataset`` iteration (what ``take`` returns); re-iterable."""

    def __init__(self, dataset: TimeseriesDataset, count: int) -> None:
        self.dataset, self.count = dataset, count

    def __len__(self) -> int:
        return min(self.count, len(self.dataset))

    def __iter__(self) -> Iterator[Any]:
        return itertools.islice(iter(self.dataset), self.count)


def _index_range(n: int, start_index: Any, end_index: Any, owner: str) -> tuple[int, int]:
    """Keras's checks on ``start_index`` / ``end_index``; returns the rows ``[start, end)`` in use."""
    start = 0
    if start_index is not None:
        start = _validation.non_negative_int(owner, "start_index", start_index)
        if start >= n:
            raise _validation.value_error(
                owner, "`start_index`", f"an integer lower than the length of `data` ({n})", repr(start_index),
                "Rows before start_index are left out; keep some after it.")
    if end_index is None:
        return start, n
    if isinstance(end_index, bool) or not isinstance(end_index, numbers.Integral):
        raise _validation.type_error(owner, "`end_index`", "an integer or None", repr(end_index))
    if end_index <= 0:
        raise _validation.value_error(owner, "`end_index`", "an integer higher than 0", repr(end_index))
    if end_index <= start:
        raise _validation.value_error(
            owner, "`end_index`", f"an integer higher than `start_index` ({start})", repr(end_index),
            "end_index is exclusive: rows [start_index, end_index) are used.")
    if end_index >= n:
        raise _validation.value_error(
            owner, "`end_index`", f"an integer lower than the length of `data` ({n}), as in Keras", repr(end_index),
            "Leave end_index=None to use the data to its end.")
    return start, int(end_index)


def _below_length(owner: str, name: str, value: int, n: int) -> None:
    if value >= n:
        raise _validation.value_error(owner, f"`{name}`", f"an integer lower than the length of `data` ({n})",
                                      repr(value), "Use a smaller value or more data.")


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None) -> TimeseriesDataset:
    """Batches of sliding windows over a time series, with Keras 3's ``timeseries_dataset_from_array`` semantics.

    Windows start at rows ``start_index + p`` for ``p`` in ``range(0, num_seqs, sequence_stride)``, where
    ``num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate``;
    the window starting at row ``s`` holds rows ``s, s + sampling_rate, ..., s + (sequence_length - 1) *
    sampling_rate`` and its target is ``targets[s]`` (so pass targets already shifted, see the example).
    Windows are gathered per batch with fancy indexing; the windows are never all held in memory.

    Shuffling follows Keras's two steps: the start positions are permuted once with
    ``np.random.RandomState(seed).shuffle`` (exactly Keras's permutation, see ``start_positions``), then
    every iteration passes them through a buffered shuffle of ``8 * batch_size`` elements (1024 when
    unbatched), as Keras's ``tf.data`` ``shuffle``. That second step draws from
    ``np.random.default_rng([seed, iteration])`` instead of TensorFlow's generator: the k-th iteration of any
    dataset built with the same seed yields the same batches, and each iteration differs from the last. With
    ``seed=None`` the seed is drawn from NumPy's global generator (as Keras), so ``np.random.seed`` fixes it.

    Args:
        data: Array (NumPy, pandas, torch) of shape ``(steps, *feature_dims)``; axis 0 is time.
        targets: Array with ``targets[i]`` the target of the window starting at row ``i``, or None (the
            dataset then yields ``x`` only). It must hold a row for every window's start (it may be longer).
        sequence_length: Steps per window.
        sequence_stride: Rows between the starts of two consecutive windows. Default 1.
        sampling_rate: Rows between two steps of a window. Default 1.
        batch_size: Windows per batch (the last batch may be smaller), or None to yield single samples.
            Default 128.
        shuffle: Shuffle the windows (see above). Default False.
        seed: Int >= 0 seeding the shuffle. Default None.
        start_index: First row used (rows before it are left out). Default None (0).
        end_index: Rows from ``end_index`` on are left out; as in Keras it must be lower than ``len(data)``.
            Default None (all rows).

    Returns:
        A ``TimeseriesDataset`` yielding ``(x, y)`` with ``x: (batch, sequence_length, *feature_dims)`` and
        ``y: (batch, *target_dims)`` (no batch axis when ``batch_size`` is None; 1-D ``data`` gives
        ``x: (batch, sequence_length)``, as Keras). Floating and boolean arrays become float32 tensors (float64
        is cast down, as Keras's floatx), integer arrays int64 tensors (token ids, class labels).
        ``model.fit(dataset, epochs=...)`` and ``model.predict(dataset)`` take it directly.

    Differences from Keras, on purpose: where no window fits (or ``end_index=0``), or the targets end before
    the windows do, this raises a ValueError saying so, where Keras returns an empty dataset, silently drops
    the windows without a target or fails later while gathering; NaN / inf in the rows used is an error
    naming them.

    Example:
        >>> data = np.arange(20.0)
        >>> ds = timeseries_dataset_from_array(data[:-3], data[3:], sequence_length=3, batch_size=4)
        >>> x, y = next(iter(ds))  # x[0] = [0, 1, 2], y[0] = 3.0
        >>> tuple(x.shape), tuple(y.shape), len(ds)
        ((4, 3), (4,), 4)
    """
    owner = "timeseries_dataset_from_array"
    array = _numeric(_series(data, owner, "data"), owner, "data")
    sequence_length = _validation.positive_int(owner, "sequence_length", sequence_length)
    sequence_stride = _validation.positive_int(owner, "sequence_stride", sequence_stride)
    sampling_rate = _validation.positive_int(owner, "sampling_rate", sampling_rate)
    if batch_size is not None:
        batch_size = _validation.positive_int(owner, "batch_size", batch_size)
    shuffle = _validation.boolean(owner, "shuffle", shuffle)
    if seed is not None:
        seed = _validation.non_negative_int(owner, "seed", seed)
        if seed >= 2**32:
            raise _validation.value_error(owner, "`seed`", "an integer in [0, 2**32)", repr(seed))
    start, end = _index_range(len(array), start_index, end_index, owner)
    _below_length(owner, "sampling_rate", sampling_rate, len(array))
    _below_length(owner, "sequence_stride", sequence_stride, len(array))

    reach = (sequence_length - 1) * sampling_rate  # rows from a window's first step to its last
    num_seqs = end - start - reach
    if num_seqs <= 0:
        raise _validation.value_error(
            owner, "`sequence_length`", "a window that fits in the rows in use",
            f"sequence_length={sequence_length} with sampling_rate={sampling_rate} (a span of {reach + 1} rows) "
            f"for {end - start} rows [{start}, {end})", "Use a shorter sequence_length or sampling_rate, or more rows.")
    starts = np.arange(0, num_seqs, sequence_stride, dtype=np.int64) + start  # absolute rows
    target_array = None
    if targets is not None:
        # Keras caps the windows at len(targets) without a word (num_seqs = min(num_seqs, len(targets))), so a
        # targets array one row short quietly drops the newest window(s); here that is an error.
        target_array = _numeric(_series(targets, owner, "targets"), owner, "targets")
        needed = int(starts[-1]) + 1
        if len(target_array) < needed:
            covered = int(np.searchsorted(starts, len(target_array)))
            raise _validation.value_error(
                owner, "`targets`", f"a target for each of the {len(starts)} windows the data gives, i.e. at "
                f"least {needed} rows (targets[s] is the target of the window starting at row s; the last "
                f"window starts at row {needed - 1})", f"{len(target_array)} rows, enough for {covered} window(s)",
                "Pass one target row per data row (e.g. data[:-k] with targets data[k:])"
                + (f", or end_index={len(target_array) + reach} to keep only the windows that have a target."
                   if covered else "."))

    _check_finite_rows(array, slice(start, int(starts[-1]) + reach + 1), owner, "data", data)
    if target_array is not None:
        _check_finite_rows(target_array, starts, owner, "targets", targets)
    if shuffle:
        if seed is None:
            seed = int(np.random.randint(1e6))  # as Keras
        np.random.RandomState(seed).shuffle(starts)
    return TimeseriesDataset(array, target_array, starts, sequence_length, sampling_rate, batch_size, shuffle,
                             seed)


# -- windows / windowed ---------------------------------------------------------------------------------------
def windows(x: Any, size: int, shift: int = 1, stride: int = 1,
            drop_remainder: bool = True) -> np.ndarray | list[np.ndarray]:
    """Sliding windows over ``x``: tf.data's ``window(size, shift, stride, drop_remainder)`` then ``batch(size)``.

    Window ``k`` starts at row ``k * shift``; inside a window rows are ``stride`` apart, so a full window spans
    ``(size - 1) * stride + 1`` rows. Unlike tf.data, ``shift`` defaults to 1 (not ``size``) and
    ``drop_remainder`` to True.

    Args:
        x: Array (NumPy, pandas, torch) of shape ``(N, *feature_dims)``; axis 0 is time.
        size: Rows per window.
        shift: Rows between the starts of two windows. Default 1.
        stride: Rows between two elements of a window. Default 1.
        drop_remainder: True: only full windows. False: also the shorter trailing windows tf.data emits (one
            for every start ``k * shift < N`` without a full window, holding the rows left, ``stride`` apart).
            Default True.

    Returns:
        With ``drop_remainder=True``: a read-only view of ``x`` (no copy) of shape
        ``(n_windows, size, *feature_dims)``; a 1-D ``x`` gives ``(n_windows, size)`` (no feature axis is
        added). With ``drop_remainder=False``: a list of arrays, the full windows then the shorter ones.

    Example:
        >>> windows(np.arange(7), 3, shift=1, stride=2).tolist()
        [[0, 2, 4], [1, 3, 5], [2, 4, 6]]
        >>> [w.tolist() for w in windows(np.arange(7), 3, shift=3, drop_remainder=False)]
        [[0, 1, 2], [3, 4, 5], [6]]
    """
    owner = "windows"
    array = _series(x, owner, "x")
    size = _validation.positive_int(owner, "size", size)
    shift = _validation.positive_int(owner, "shift", shift)
    stride = _validation.positive_int(owner, "stride", stride)
    drop_remainder = _validation.boolean(owner, "drop_remainder", drop_remainder)
    full = _full_windows(array, size, shift, stride)
    if drop_remainder:
        if len(full) == 0:
            raise _span_error(owner, len(array), size, stride,
                              "Use a smaller size or stride, a longer series, or drop_remainder=False.")
        return full
    tail = []
    for start in range(len(full) * shift, len(array), shift):
        window = array[start::stride]
        window.flags.writeable = False
        tail.append(window)
    return list(full) + tail


def windowed(x: Any, y: Any, size: int, shift: int = 1, stride: int = 1,
             offset: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Full windows of ``x`` with the target of each: ``y`` at ``offset`` rows after the window's last step.

    The window starting at row ``s`` (``s = k * shift``) holds ``x[s], x[s + stride], ...,
    x[s + (size - 1) * stride]`` and its target is ``y[s + (size - 1) * stride + offset]``; windows whose
    target row is past the end of ``y`` are dropped. ``offset=1`` is the step right after the window,
    ``offset=0`` the window's last step. With the defaults this is seed 000's
    ``zip(x.window(size, shift=1, stride=1, drop_remainder=True).flat_map(batch(size)), y[size:])``: window
    ``k`` gets ``y[k + size]`` and the last window, which has no target, is dropped (zip stops early).

    Args:
        x: Inputs, array (NumPy, pandas, torch) of shape ``(N, *feature_dims)``; axis 0 is time.
        y: Targets, one row per time step: shape ``(N, *target_dims)``.
        size: Steps per window.
        shift: Rows between the starts of two windows. Default 1.
        stride: Rows between two steps of a window. Default 1.
        offset: Rows from a window's last step to its target (>= 0). Default 1.

    Returns:
        ``(X, Y)``: ``X`` a read-only view of ``x`` of shape ``(n, size, *feature_dims)`` (``(n, size)`` for 1-D
        ``x``) and ``Y`` a view of ``y`` of shape ``(n, *target_dims)``, with
        ``n = (N - 1 - ((size - 1) * stride + offset)) // shift + 1``.

    Example:
        >>> X, Y = windowed(np.arange(5), np.arange(5) * 10, size=2)  # windows [0,1] [1,2] [2,3]; [3,4] dropped
        >>> X.tolist(), Y.tolist()
        ([[0, 1], [1, 2], [2, 3]], [20, 30, 40])
    """
    owner = "windowed"
    xs = _series(x, owner, "x")
    ys = _series(y, owner, "y")
    if len(xs) != len(ys):
        raise _validation.value_error(owner, "`x` and `y`", "the same number of rows (y[t] is the target at step t)",
                                      f"x with {len(xs)} rows and y with {len(ys)}",
                                      "Align y with x first; windowed shifts the targets itself.")
    size = _validation.positive_int(owner, "size", size)
    shift = _validation.positive_int(owner, "shift", shift)
    stride = _validation.positive_int(owner, "stride", stride)
    offset = _validation.non_negative_int(owner, "offset", offset)
    first_target = (size - 1) * stride + offset
    if first_target >= len(xs):
        span = (size - 1) * stride + 1
        raise _validation.value_error(
            owner, "`size`", "a window with a target inside the series",
            f"size={size}, stride={stride}, offset={offset}: the first target is row (size-1)*stride+offset = "
            f"{first_target} (a window spans {span} rows), but the series has {len(xs)} rows",
            "Use a smaller size, stride or offset, or a longer series.")
    n = (len(xs) - 1 - first_target) // shift + 1
    return _full_windows(xs, size, shift, stride)[:n], ys[first_target::shift][:n]


# -- lookback -------------------------------------------------------------------------------------------------
def _column_names(series: Any) -> list | None:
    if hasattr(series, "columns"):
        return list(series.columns)
    if hasattr(series, "to_numpy") and getattr(series, "name", None) is not None:
        return [series.name]  # a named pandas Series
    return None


def _column_position(column: Any, names: list | None, n_columns: int, owner: str) -> int:
    if isinstance(column, numbers.Integral) and not isinstance(column, bool):
        if not -n_columns <= column < n_columns:
            raise _validation.value_error(owner, "`targets`", f"column positions in [0, {n_columns})", repr(column),
                                          f"The series has {n_columns} column(s).")
        return int(column) % n_columns
    if isinstance(column, str):
        if names is None:
            raise _validation.type_error(owner, "`targets`", "column positions (ints) for an array without names",
                                         repr(column), "Pass a pandas DataFrame to select columns by name.")
        if column not in names:
            listed = ", ".join(repr(name) for name in names)
            raise _validation.value_error(owner, "`targets`", f"columns of the frame ({listed})", repr(column),
                                          "Use one of those names, or an int position.")
        return names.index(column)
    raise _validation.type_error(owner, "`targets`", "None, a column position (int), a column name (str) or a "
                                 "list of them", f"{column!r} of type {type(column).__name__}")


def _target_columns(series: Any, n_columns: int, targets: Any, owner: str) -> list[int]:
    """Positions of the target columns: all of them (None), or those named / numbered by ``targets``."""
    if targets is None:
        return list(range(n_columns))
    if isinstance(targets, (str, numbers.Integral)):
        chosen = [targets]
    elif isinstance(targets, (list, tuple)) or hasattr(targets, "tolist"):
        chosen = list(targets.tolist() if hasattr(targets, "tolist") else targets)
    else:
        chosen = [targets]  # reported as a bad type below
    if not chosen:
        raise _validation.value_error(owner, "`targets`", "at least one column", "an empty list",
                                      "Pass targets=None to use every column.")
    names = _column_names(series)
    return [_column_position(column, names, n_columns, owner) for column in chosen]


@_validation.renamed_keyword("look_back", "lookback")
def lookback(series: Any, lookback: int, horizon: int = 1, targets: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """The look-back framing: each ``lookback`` rows as an input, the ``horizon`` rows after them as its target.

    ``X[i] = series[i : i + lookback]`` and ``y[i] = series[i + lookback : i + lookback + horizon]`` (target
    columns only), for every usable ``i``: ``n = N - lookback - horizon + 1`` pairs.

    It reproduces two framings from the seed tutorials:

    * seed 004's ``create_dataset(dataset, look_back)`` (``X = dataset[i:i+look_back, 0]``,
      ``Y = dataset[i+look_back, 0]`` for ``i in range(len(dataset) - look_back - 1)``): ``lookback(dataset[:, :1],
      look_back)`` gives the same pairs plus one: create_dataset's ``- 1`` drops the last usable pair, which
      ``lookback`` keeps.
    * seed 001's pandas ``shift`` framing (``time_step = 14``: columns ``shifted_01 .. shifted_13`` =
      ``data.shift(13) .. data.shift(1)`` as x and ``data`` as y, after ``dropna()``): exactly
      ``lookback(frame["data"], 13)``.

    Args:
        series: Array (N,) (one feature), (N, F), a pandas Series or DataFrame, or a torch tensor. Must be numeric
            and finite (the rows holding NaN / inf are named, by their index labels for pandas objects).
        lookback: Steps per input window (``look_back=`` still works, deprecated).
        horizon: Steps to predict after each window. Default 1.
        targets: Target columns: None (all columns), an int or a list of ints (positions, even for a frame
            whose column labels are ints) or a str / list of str (DataFrame column names). Default None.

    Returns:
        ``(X, y)``, new arrays in the series' dtype: ``X`` of shape ``(n, lookback, F)`` and ``y`` of shape
        ``(n, n_targets)`` when ``horizon == 1``, ``(n, horizon, n_targets)`` otherwise.

    Example:
        >>> X, y = lookback(np.arange(6.0), 3)
        >>> X[:, :, 0].tolist(), y[:, 0].tolist()
        ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [3.0, 4.0, 5.0])
    """
    owner = "lookback"
    lookback = _validation.positive_int(owner, "lookback", lookback)
    horizon = _validation.positive_int(owner, "horizon", horizon)
    array = _numeric(_series(series, owner, "series"), owner, "series")
    if array.ndim == 1:
        array = array[:, None]
    elif array.ndim != 2:
        raise _validation.value_error(owner, "`series`", "a 1-D (steps,) or 2-D (steps, features) array",
                                      _validation.describe_array(array), "Use windows() for N-D data.")
    columns = _target_columns(series, array.shape[1], targets, owner)
    checks.check_finite(array, owner, "series", series if hasattr(series, "to_numpy") else None)
    n = len(array) - lookback - horizon + 1
    if n <= 0:
        raise _validation.value_error(owner, "`lookback` + `horizon`", f"at most the series length ({len(array)})",
                                      f"lookback={lookback} + horizon={horizon} = {lookback + horizon}",
                                      "Use a shorter lookback or horizon, or a longer series.")
    view = np.lib.stride_tricks.sliding_window_view(array, lookback, axis=0)[:n]  # (n, F, lookback)
    X = np.ascontiguousarray(np.moveaxis(view, -1, 1))
    future = array[lookback:, columns]  # (N - lookback, n_targets)
    if horizon == 1:
        return X, future[:n]
    ahead = np.lib.stride_tricks.sliding_window_view(future, horizon, axis=0)  # (n, n_targets, horizon)
    return X, np.ascontiguousarray(np.moveaxis(ahead, -1, 1))
