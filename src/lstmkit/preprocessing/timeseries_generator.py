"""Keras 2's ``TimeseriesGenerator`` (``keras.preprocessing.sequence``): batches of ``(window, target)`` by index.

Sample ``j`` ends just before row ``r_j`` (its target is ``targets[r_j]``): the window is
``data[r_j - length : r_j : sampling_rate]``, with ``r_j`` running from ``start_index + length`` to ``end_index``
(inclusive, default the last row) in steps of ``stride``. ``shuffle=True`` draws ``batch_size`` random rows per
batch (NumPy's global generator, as Keras); ``reverse=True`` reverses each window in time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validation
from ..trainers.py_dataset import PyDataset

OWNER = "TimeseriesGenerator"


class TimeseriesGenerator(PyDataset):
    """Windows over ``data`` with the value of ``targets`` at the step after each window.

    Args:
        data: ``(rows, ...)`` array-like; targets: array-like of the same length.
        length: steps of history per window (before ``sampling_rate``).
        sampling_rate: keep every ``sampling_rate``-th step of a window.
        stride: rows between the ends of two consecutive windows.
        start_index / end_index: the first / last rows that can be a target (``start_index + length`` at least).
        shuffle, reverse, batch_size (128): as Keras.
    """

    def __init__(self, data: Any, targets: Any, length: int, sampling_rate: int = 1, stride: int = 1,
                 start_index: int = 0, end_index: int | None = None, shuffle: bool = False,
                 reverse: bool = False, batch_size: int = 128, **kwargs: Any):
        super().__init__(**kwargs)
        if len(data) != len(targets):
            raise _validation.value_error(OWNER, "targets", f"as many rows as data ({len(data)})",
                                          f"{len(targets)} rows")
        self.data, self.targets = data, targets
        self.length = _validation.positive_int(OWNER, "length", length)
        self.sampling_rate = _validation.positive_int(OWNER, "sampling_rate", sampling_rate)
        self.stride = _validation.positive_int(OWNER, "stride", stride)
        self.batch_size = _validation.positive_int(OWNER, "batch_size", batch_size)
        self.start_index = _validation.non_negative_int(OWNER, "start_index", start_index) + self.length
        self.end_index = len(data) - 1 if end_index is None else int(end_index)
        self.shuffle, self.reverse = bool(shuffle), bool(reverse)
        if self.start_index > self.end_index:
            raise _validation.value_error(OWNER, "length", f"start_index + length <= end_index ({self.end_index}) "
                                          "so that some row is left as a target",
                                          f"start_index + length = {self.start_index}",
                                          "Use a shorter length or more data.")

    def __len__(self) -> int:
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"{OWNER}: batch {index} of {len(self)}")
        index %= len(self)
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        return (samples[:, ::-1, ...], targets) if self.reverse else (samples, targets)
