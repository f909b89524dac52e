"""Moved to ``lstmkit.layers.rnn.lstm``; the old import path names the same module object."""

import sys

from ..layers.rnn import lstm as _moved

sys.modules[__name__] = _moved
