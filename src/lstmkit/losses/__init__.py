"""Keras losses (``lstmkit.losses``): functions, classes, ``get`` / ``serialize`` / ``deserialize``."""

from .losses import *  # noqa: F401,F403
