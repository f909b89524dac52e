"""Layers to and from Keras's serialized form ``{"module", "class_name", "config", "build_config"}``."""

from __future__ import annotations

import inspect

from .. import _validation
from .base import Layer

_LAYERS: dict[str, type] = {}


def register(cls: type, name: str | None = None) -> type:
    """Make a layer class known to ``deserialize`` by its class name (or ``name``, e.g. Keras's
    ``"Functional"`` for models)."""
    _LAYERS[name or cls.__name__] = cls
    return cls


def serialize(layer: Layer) -> dict:
    """Keras's serialized form of a layer (``build_config`` once it is built). Classes that Keras
    files under another module or name (models, ops) say so with ``keras_module`` / ``keras_class_name``."""
    out = {"module": getattr(layer, "keras_module", "keras.layers"),
           "class_name": getattr(layer, "keras_class_name", type(layer).__name__),
           "config": layer.get_config(), "registered_name": getattr(layer, "keras_registered_name", None)}
    shape = getattr(layer, "_build_shape", None)
    custom = getattr(layer, "keras_build_config", None)  # layers Keras builds from named shapes
    if custom is not None:
        if layer.built:
            out["build_config"] = custom()
    elif layer.built and shape is not None and getattr(layer, "writes_build_config", True):
        out["build_config"] = {"input_shape": [list(s) for s in shape] if isinstance(shape, list) else list(shape)}
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
    cls, config = registry[name], dict(obj.get("config") or {})
    if "custom_objects" in inspect.signature(cls.from_config).parameters:  # containers: models, wrappers
        layer = cls.from_config(config, custom_objects=custom_objects)
    else:
        layer = cls.from_config(config)
    shape = build_shape(obj.get("build_config") or {})
    if shape is not None and not layer.built:
        layer.maybe_build(shape)
    return layer


def build_shape(build_config: dict) -> tuple | None:
    """The input shape in a Keras ``build_config``: ``input_shape``, or the first of ``shapes_dict``
    (Keras writes ``{"sequences_shape": ..., "initial_state_shape": ...}`` for a layer built with
    an initial state)."""
    if build_config.get("input_shape") is not None:
        shape = build_config["input_shape"]
        return [tuple(s) for s in shape] if shape and isinstance(shape[0], list) else tuple(shape)
    shapes = build_config.get("shapes_dict") or {}
    if shapes.get("query_shape") is not None and shapes.get("value_shape") is not None:  # attention
        names = ("query_shape", "value_shape", "key_shape")
        return [tuple(shapes[n]) for n in names if shapes.get(n) is not None]
    first = shapes.get("sequences_shape", next(iter(shapes.values()), None))
    return tuple(first) if first is not None else None
