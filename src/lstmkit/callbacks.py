"""Keras callbacks (``lstmkit.callbacks``): the public names of ``lstmkit.models.callbacks``."""

from .models.callbacks import *  # noqa: F401,F403
