"""Moved to ``lstmkit.callbacks.progbar``; the old import path names the same module object."""

import sys

from ..callbacks import progbar as _moved

sys.modules[__name__] = _moved
