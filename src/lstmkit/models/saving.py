"""Moved to ``lstmkit.saving.saving_api``; the old import path names the same module object."""

import sys

from ..saving import saving_api as _moved

sys.modules[__name__] = _moved
