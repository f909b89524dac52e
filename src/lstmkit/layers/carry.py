"""Moved to ``lstmkit.layers.rnn.carry``; the old import path names the same module object."""

import sys

from ..layers.rnn import carry as _moved

sys.modules[__name__] = _moved
