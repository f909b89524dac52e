"""Moved to ``lstmkit.saving.atomic``; the old import path names the same module object."""

import sys

from ..saving import atomic as _moved

sys.modules[__name__] = _moved
