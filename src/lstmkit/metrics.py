"""Keras metrics (``lstmkit.metrics``): the public names of ``lstmkit.models.metrics``."""

from .models.metrics import *  # noqa: F401,F403
