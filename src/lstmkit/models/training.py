"""Moved to ``lstmkit.trainers.trainer``; the old import path names the same module object."""

import sys

from ..trainers import trainer as _moved

sys.modules[__name__] = _moved
