"""Moved to ``lstmkit.metrics.metrics``; the old import path names the same module object."""

import sys

from ..metrics import metrics as _moved

sys.modules[__name__] = _moved
