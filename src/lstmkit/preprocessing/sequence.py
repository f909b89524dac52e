"""``keras.preprocessing.sequence``: ``pad_sequences`` and Keras 2's ``TimeseriesGenerator``."""

from ..data.padding import pad_sequences
from .timeseries_generator import TimeseriesGenerator

__all__ = ["pad_sequences", "TimeseriesGenerator"]
