"""The training loop (``fit`` / ``evaluate`` / ``predict``), the data adapter that turns arrays, iterables
and ``PyDataset``s into batches, compiled steps, data-parallel training and per-stream state.

A ``Trainer`` is a mixin of ``Model``: nothing here imports the model classes."""

from .py_dataset import PyDataset, Sequence
from .streams import StreamState
from .trainer import Trainer

__all__ = ["Trainer", "PyDataset", "Sequence", "StreamState"]
