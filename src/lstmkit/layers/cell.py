"""Moved to ``lstmkit.layers.rnn.cell``; the old import path names the same module object."""

import sys

from ..layers.rnn import cell as _moved

sys.modules[__name__] = _moved
