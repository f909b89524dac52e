"""Keras constraints by name (``lstmkit.constraints.get("max_norm")``); see ``lstmkit.ops.constraints``."""

from .ops.constraints import *  # noqa: F401,F403
from .ops.constraints import __all__  # noqa: F401
