"""Moved to ``lstmkit.callbacks.backup_and_restore``; the old import path names the same module object."""

import sys

from ..callbacks import backup_and_restore as _moved

sys.modules[__name__] = _moved
