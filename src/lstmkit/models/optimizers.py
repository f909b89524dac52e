"""Moved to ``lstmkit.optimizers.optimizers``; the old import path names the same module object."""

import sys

from ..optimizers import optimizers as _moved

sys.modules[__name__] = _moved
