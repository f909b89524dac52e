"""Moved to ``lstmkit.layers.rnn.gru``; the old import path names the same module object."""

import sys

from ..layers.rnn import gru as _moved

sys.modules[__name__] = _moved
