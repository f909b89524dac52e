"""Keras initializers by name (``lstmkit.initializers.get("glorot_uniform")``); see ``lstmkit.ops.initializers``."""

from .ops.initializers import *  # noqa: F401,F403
from .ops.initializers import __all__  # noqa: F401
