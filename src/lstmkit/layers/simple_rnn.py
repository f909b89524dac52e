"""Moved to ``lstmkit.layers.rnn.simple_rnn``; the old import path names the same module object."""

import sys

from ..layers.rnn import simple_rnn as _moved

sys.modules[__name__] = _moved
