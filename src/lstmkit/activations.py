"""Keras activations by name (``lstmkit.activations.get("tanh")``); see ``lstmkit.ops.activations``."""

from .ops.activations import *  # noqa: F401,F403
from .ops.activations import __all__  # noqa: F401
