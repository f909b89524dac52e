"""Keras 2's ``keras.utils.data_utils`` import path (``get_file``, ``Sequence``, ``pad_sequences``)."""

from ..data.padding import pad_sequences
from ..trainers.py_dataset import Sequence
from .files import get_file

__all__ = ["get_file", "Sequence", "pad_sequences"]
