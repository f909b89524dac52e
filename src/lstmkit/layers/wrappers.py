"""Moved to ``lstmkit.layers.rnn.wrappers``; the old import path names the same module object."""

import sys

from ..layers.rnn import wrappers as _moved

sys.modules[__name__] = _moved
