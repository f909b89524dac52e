"""Moved to ``lstmkit.saving.keras_files``; the old import path names the same module object."""

import sys

from ..saving import keras_files as _moved

sys.modules[__name__] = _moved
