"""Moved to ``lstmkit.export.export``; the old import path names the same module object."""

import sys

from ..export import export as _moved

sys.modules[__name__] = _moved
