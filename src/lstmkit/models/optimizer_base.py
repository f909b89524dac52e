"""Moved to ``lstmkit.optimizers.base_optimizer``; the old import path names the same module object."""

import sys

from ..optimizers import base_optimizer as _moved

sys.modules[__name__] = _moved
