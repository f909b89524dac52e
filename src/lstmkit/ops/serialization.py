"""Keras's serialized-object form, shared by activations, initializers, regularizers and constraints.

Keras writes a configurable object as
``{"module": "keras.initializers", "class_name": "GlorotUniform", "config": {...}, "registered_name": None}``.
``resolve`` turns any accepted identifier (None, a name, that dict, an instance, a callable) into an object.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from .. import _validation


def snake_case(name: str) -> str:
    """``"GlorotUniform"`` -> ``"glorot_uniform"``; ``"L1L2"`` -> ``"l1_l2"``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def serialize_object(obj: Any, module: str) -> dict:
    """Keras's serialized form of a configurable object (one with ``get_config``)."""
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def serialize_identifier(obj: Any, base: type, wrapper: type, module: str, owner: str, kind: str) -> Any:
    """Keras's serialized form of an initializer/regularizer/constraint; ``None`` stays ``None``.

    A plain callable (wrapped in ``wrapper``) is written in Keras's function form, which names it only.
    """
    if obj is None:
        return None
    fn = obj.fn if isinstance(obj, wrapper) else obj
    if isinstance(fn, base):
        return serialize_object(fn, module)
    if not callable(fn):
        raise _validation.type_error(owner, f"`{kind}`", f"a {base.__name__} or a callable", repr(obj))
    name = getattr(fn, "__name__", type(fn).__name__)
    return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
            "registered_name": name}


def lookup(name: str, registry: dict[str, type]) -> type | None:
    """Find a class by its Keras class name or snake-case alias (``"GlorotUniform"``, ``"glorot_uniform"``)."""
    if name in registry:
        return registry[name]
    key = snake_case(name).replace("_", "")
    for candidate, cls in registry.items():
        if snake_case(candidate).replace("_", "") == key:
            return cls
    return None


def resolve(
    identifier: Any,
    registry: dict[str, type],
    base: type,
    owner: str,
    kind: str,
    wrap_callable: Callable[[Callable], Any] | None = None,
) -> Any:
    """Turn a Keras identifier into an instance of ``base`` (or None).

    Accepts None, an instance of ``base``, a registered name, Keras's serialized dict
    (``module`` optional) or, when ``wrap_callable`` is given, a plain callable.
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        cls = lookup(identifier, registry)
        if cls is None:
            raise unknown(owner, kind, identifier, registry)
        return cls()
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise _validation.value_error(owner, f"a serialized {kind}",
                                          'a dict with "class_name" and "config"', repr(identifier))
        cls = lookup(identifier["class_name"], registry)
        if cls is None:
            raise unknown(owner, kind, identifier["class_name"], registry)
        return cls.from_config(dict(identifier.get("config") or {}))
    if callable(identifier) and wrap_callable is not None:
        return wrap_callable(identifier)
    raise _validation.type_error(owner, kind, f"a name, a serialized dict or a {base.__name__}",
                                 f"{identifier!r} of type {type(identifier).__name__}")


def unknown(owner: str, kind: str, name: str, registry: dict[str, type]) -> ValueError:
    known = sorted({snake_case(n) for n in registry})
    return _validation.value_error(owner, f"`{kind}`", "one of " + ", ".join(known), repr(name),
                                   "Check the spelling.")


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
