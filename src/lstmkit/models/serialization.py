"""Moved to ``lstmkit.saving.serialization``; the old import path names the same module object."""

import sys

from ..saving import serialization as _moved

sys.modules[__name__] = _moved
