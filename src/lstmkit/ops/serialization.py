"""Small helpers of Keras's config format: Keras's snake-case names and its key order.

Objects by name (``get`` / ``serialize`` / ``deserialize``) live in ``ops/registry.py``.
"""

from __future__ import annotations

import re
from typing import Any


def snake_case(name: str) -> str:
    """``"GlorotUniform"`` -> ``"glorot_uniform"``; ``"L1L2"`` -> ``"l1_l2"``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def insert_after(config: dict, after: str, key: str, value: Any) -> dict:
    """A copy of ``config`` with ``key`` placed right after ``after`` (to keep Keras's key order)."""
    out: dict = {}
    for k, v in config.items():
        if k != key:
            out[k] = v
        if k == after:
            out[key] = value
    if key not in out:
        out[key] = value
    return out
