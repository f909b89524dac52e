"""Keras metrics (``lstmkit.metrics``): stateful metric classes, functions and names."""

from .metrics import *  # noqa: F401,F403
