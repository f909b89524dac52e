"""Moved to ``lstmkit.callbacks.tensorboard``; the old import path names the same module object."""

import sys

from ..callbacks import tensorboard as _moved

sys.modules[__name__] = _moved
