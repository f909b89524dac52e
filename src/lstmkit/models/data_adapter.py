"""Moved to ``lstmkit.trainers.data_adapter``; the old import path names the same module object."""

import sys

from ..trainers import data_adapter as _moved

sys.modules[__name__] = _moved
