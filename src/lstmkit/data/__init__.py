"""Time-series data plumbing: windows, look-back framing, per-id sequences, splits, scaling and
stateful batch alignment, and streaming readers for tables larger than memory. A leaf package: NumPy / pandas / torch in, torch-ready arrays out; it
imports nothing from lstmkit's layers or models.
"""

from .batching import StatefulBatches, stateful_batches
from .datasets import load_airline_passengers
from .scaling import SeriesScaler
from .sequences import Sequences, sequences
from .splits import chronological_split, group_kfold, group_split
from .streaming import ColumnStats, SequenceStream, WindowStream, column_stats
from .windows import TimeseriesDataset, lookback, timeseries_dataset_from_array, windowed, windows

__all__ = ["timeseries_dataset_from_array", "TimeseriesDataset", "windows", "windowed", "lookback", "sequences",
           "Sequences", "chronological_split", "group_split", "group_kfold", "SeriesScaler", "stateful_batches",
           "StatefulBatches", "load_airline_passengers", "WindowStream", "SequenceStream", "column_stats",
           "ColumnStats"]
