"""Moved to ``lstmkit.saving.keras_export``; the old import path names the same module object."""

import sys

from ..saving import keras_export as _moved

sys.modules[__name__] = _moved
