"""``set_random_seed``: one call seeds Python's ``random``, NumPy and torch (CPU and every GPU), as Keras
seeds Python, NumPy and its backend, so weights, dropout masks and shuffling repeat."""

from __future__ import annotations

import random

import numpy as np
import torch

from .. import _validation


def set_random_seed(seed: int) -> None:
    """Seed ``random``, ``numpy.random`` and ``torch`` (all devices) with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise _validation.type_error("set_random_seed", "`seed`", "an integer", f"{seed!r} of type "
                                     f"{type(seed).__name__}")
    seed = int(seed)
    if not 0 <= seed < 2 ** 32:
        raise _validation.value_error("set_random_seed", "`seed`", "an integer in [0, 2**32)", seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
