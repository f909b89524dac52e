"""Moved to ``lstmkit.optimizers.schedules``; the old import path names the same module object."""

import sys

from ..optimizers import schedules as _moved

sys.modules[__name__] = _moved
