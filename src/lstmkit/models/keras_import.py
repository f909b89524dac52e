"""Moved to ``lstmkit.saving.keras_import``; the old import path names the same module object."""

import sys

from ..saving import keras_import as _moved

sys.modules[__name__] = _moved
