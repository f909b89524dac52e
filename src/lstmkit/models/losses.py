"""Moved to ``lstmkit.losses.losses``; the old import path names the same module object."""

import sys

from ..losses import losses as _moved

sys.modules[__name__] = _moved
