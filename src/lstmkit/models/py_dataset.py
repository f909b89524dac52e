"""Moved to ``lstmkit.trainers.py_dataset``; the old import path names the same module object."""

import sys

from ..trainers import py_dataset as _moved

sys.modules[__name__] = _moved
