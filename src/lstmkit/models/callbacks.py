"""Moved to ``lstmkit.callbacks.callbacks``; the old import path names the same module object."""

import sys

from ..callbacks import callbacks as _moved

sys.modules[__name__] = _moved
