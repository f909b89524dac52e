"""Small helpers of Keras's config format: Keras's snake-case names and its key order.

Objects by name (``get`` / ``serialize`` / ``deserialize``) live in ``ops/registry.py``.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from .. import _validation


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


def config_repr(obj: Any) -> str:
    """``"MaxNorm(max_value=2, axis=0)"``: the class name and ``get_config()`` (bare when it is not implemented)."""
    try:
        args = ", ".join(f"{k}={v!r}" for k, v in obj.get_config().items())
    except NotImplementedError:
        args = ""
    return f"{type(obj).__name__}({args})"


class ArgumentConfig:
    """Base of objects whose Keras config is their constructor's keyword arguments.

    Why: initializers, regularizers and constraints all rebuild as ``cls(**config)``, refuse unknown keys
    with one message, and print as ``Name(key=value, ...)``.
    """

    @classmethod
    def from_config(cls, config: dict) -> Any:
        config = dict(config)
        accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        extra = sorted(set(config) - set(accepted))
        if extra:
            raise _validation.value_error(f"{cls.__name__}.from_config", "`config`",
                                          "only the keys " + (", ".join(accepted) or "(none)"),
                                          f"unknown keys {extra}")
        return cls(**config)

    def __repr__(self) -> str:
        return config_repr(self)
