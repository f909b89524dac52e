"""Layers to and from Keras's serialized form ``{"module", "class_name", "config", "build_config"}``."""

from __future__ import annotations

from typing import Any

from .. import _validation
from .base import Layer

_LAYERS: dict[str, type] = {}


def register(cls: type) -> type:
    """Make a layer class known to ``deserialize`` by its class name."""
    _LAYERS[cls.__name__] = cls
    return cls


def serialize(layer: Layer) -> dict:
    """Keras's serialized form of a layer (``build_config`` once it is built)."""
    out = {"module": "keras.layers", "class_name": type(layer).__name__, "config": layer.get_config(),
           "registered_name": None}
    if layer.built and getattr(layer, "_build_shape", None) is not None:
        out["build_config"] = {"input_shape": list(layer._build_shape)}
    return out


def deserialize(obj: dict, custom_objects: dict[str, type] | None = None) -> Layer:
    """Build a layer from Keras's serialized form (``module`` optional), built if it has ``build_config``."""
    if not isinstance(obj, dict) or "class_name" not in obj:
        raise _validation.type_error("layers.deserialize", "its argument",
                                     'a dict with "class_name" and "config"', repr(obj)[:200])
    name = obj["class_name"]
    registry = {**_LAYERS, **(custom_objects or {})}
    if name not in registry:
        raise _validation.value_error("layers.deserialize", "`class_name`",
                                      "a known layer (" + ", ".join(sorted(registry)) + ")", repr(name),
                                      "Pass custom layer classes with custom_objects={name: cls}.")
    layer = registry[name].from_config(dict(obj.get("config") or {}))
    shape = build_shape(obj.get("build_config") or {})
    if shape is not None and not layer.built:
        layer.maybe_build(shape)
    return layer


def build_shape(build_config: dict) -> tuple | None:
    """The input shape in a Keras ``build_config``: ``input_shape``, or the first of ``shapes_dict``
    (Keras writes ``{"sequences_shape": ..., "initial_state_shape": ...}`` for a layer built with
    an initial state)."""
    if "input_shape" in build_config:
        return tuple(build_config["input_shape"])
    shapes = build_config.get("shapes_dict") or {}
    first = shapes.get("sequences_shape", next(iter(shapes.values()), None))
    return tuple(first) if first is not None else None
