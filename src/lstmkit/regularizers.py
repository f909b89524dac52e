"""Keras regularizers by name (``lstmkit.regularizers.get("l2")``); see ``lstmkit.ops.regularizers``."""

from .ops.regularizers import *  # noqa: F401,F403
from .ops.regularizers import __all__  # noqa: F401
