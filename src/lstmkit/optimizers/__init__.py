"""Keras optimizers (`Adam`, `get("adam")`, ...) and their `schedules`; see ``lstmkit.optimizers.optimizers``."""

from .optimizers import *  # noqa: F401,F403
from .optimizers import __all__ as _optimizer_names
from . import schedules

__all__ = [*_optimizer_names, "schedules"]
