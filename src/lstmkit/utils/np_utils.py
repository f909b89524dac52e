"""Keras 2's ``keras.utils.np_utils`` import path (``from keras.utils.np_utils import to_categorical``)."""

from .numerical import normalize, to_categorical

__all__ = ["to_categorical", "normalize"]
