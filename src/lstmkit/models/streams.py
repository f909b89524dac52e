"""Moved to ``lstmkit.trainers.streams``; the old import path names the same module object."""

import sys

from ..trainers import streams as _moved

sys.modules[__name__] = _moved
