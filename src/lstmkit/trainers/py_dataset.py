"""``PyDataset`` (Keras 3) / ``Sequence`` (Keras 2): a dataset of batches by index that ``fit``, ``evaluate``
and ``predict`` accept.

Subclass it with ``__len__`` (the number of batches; or a ``num_batches`` property) and ``__getitem__(i)``
returning ``(x, y)``, ``(x, y, sample_weight)`` or ``x``. Each pass calls ``on_epoch_begin`` first and
``on_epoch_end`` after the last batch (shuffle there). ``workers > 1`` loads batches on that many threads,
at most ``max_queue_size`` ahead, still yielding them in index order; ``use_multiprocessing=True`` is accepted
and also runs on threads (a process pool would have to pickle the dataset and its arrays).
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from .. import _validation


class PyDataset:
    """Base class for datasets of batches by index (see the module docstring).

    Args:
        workers: threads loading batches (1: in the training thread).
        use_multiprocessing: accepted; batches are loaded on threads either way.
        max_queue_size: how many batches may be loaded ahead with ``workers > 1``.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        self._workers = _validation.positive_int(type(self).__name__, "workers", workers)
        self._use_multiprocessing = _validation.boolean(type(self).__name__, "use_multiprocessing",
                                                        use_multiprocessing)
        self._max_queue_size = _validation.positive_int(type(self).__name__, "max_queue_size", max_queue_size)

    @property
    def workers(self) -> int:
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = _validation.positive_int(type(self).__name__, "workers", value)

    @property
    def use_multiprocessing(self) -> bool:
        return getattr(self, "_use_multiprocessing", False)

    @property
    def max_queue_size(self) -> int:
        return getattr(self, "_max_queue_size", 10)

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index) returning the "
                                  "batch at that index, e.g. (x, y).")

    @property
    def num_batches(self) -> int | None:
        """The number of batches: ``len(self)`` where ``__len__`` is defined, else None (until IndexError)."""
        if type(self).__len__ is not PyDataset.__len__:
            return len(self)
        return None

    def __len__(self) -> int:
        raise _validation.InputTypeError(f"{type(self).__name__} defines no __len__ (its number of batches).")

    def on_epoch_begin(self) -> None:
        """Called before each pass over the batches."""

    def on_epoch_end(self) -> None:
        """Called after each pass (shuffle the order for the next one here)."""

    def __iter__(self) -> Iterator[Any]:
        """One pass: ``on_epoch_begin``, the batches in index order, ``on_epoch_end``."""
        self.on_epoch_begin()
        count = self.num_batches
        indices = range(count) if count is not None else _count_up()
        if self.workers > 1:
            yield from self._threaded(indices)
        else:
            for i in indices:
                try:
                    batch = self[i]
                except IndexError:
                    if count is not None:
                        raise
                    break
                yield batch
        self.on_epoch_end()

    def _threaded(self, indices: Any) -> Iterator[Any]:
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            pending: deque = deque()
            source = iter(indices)
            exhausted = False
            while True:
                while not exhausted and len(pending) < self.max_queue_size:
                    try:
                        pending.append(pool.submit(self.__getitem__, next(source)))
                    except StopIteration:
                        exhausted = True
                if not pending:
                    return
                try:
                    yield pending.popleft().result()
                except IndexError:
                    if self.num_batches is not None:
                        raise
                    for future in pending:
                        future.cancel()
                    return


def _count_up() -> Iterator[int]:
    i = 0
    while True:
        yield i
        i += 1


Sequence = PyDataset  # Keras 2's name (Keras 3 keeps it as an alias)
