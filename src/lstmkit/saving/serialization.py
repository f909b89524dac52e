"""Models to and from Keras's JSON: ``to_json()``, ``model_from_json``, ``model_from_config``.

Reads what Keras 3's ``model.to_json()`` writes (``Sequential`` and ``Functional`` configs with
``__keras_tensor__`` references in ``inbound_nodes``) and the older Keras 2 / tf.keras form
(``inbound_nodes`` as ``[[layer, node, tensor, kwargs], ...]``); writes Keras 3's form.
"""

from __future__ import annotations

from typing import Any

from .. import _validation
from ..ops import safe_mode as safety
from .file_limits import parse_json
from ..layers import serialization as layer_serialization
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor, map_structure


def serialize_model(model: Any) -> dict:
    """Keras's serialized form of a model (what ``to_json`` dumps)."""
    if not is_sequential(model) and not model._functional:
        raise _validation.value_error(
            f"{type(model).__name__} '{model.name}'", "to_json / get_config",
            "a Sequential or functional model", "a subclassed model (its structure lives in Python code)",
            "Save its weights (get_weights / state_dict) and rebuild it from your class.")
    out = layer_serialization.serialize(model)
    if model._functional:
        out["build_config"] = {"input_shape": None}
    out["compile_config"] = {}
    return out


def is_sequential(model: Any) -> bool:
    """A ``Sequential`` model, known by its class marker (so this module, which Sequential imports, needs
    no import of it)."""
    return bool(getattr(type(model), "_is_sequential", False))


def model_from_json(json_string: str, custom_objects: dict | None = None, safe_mode: bool = True) -> Any:
    """A model from the JSON of Keras's ``model.to_json()`` (structure only; load weights after).
    ``safe_mode`` and ``custom_objects`` as in ``load_model``; the JSON's size and nesting are bounded."""
    if not isinstance(json_string, (str, bytes)):
        raise _validation.type_error("model_from_json", "json_string", "the JSON text model.to_json() writes",
                                     type(json_string).__name__)
    obj = parse_json(json_string, "model_from_json", "json_string")  # bounded size and nesting
    if not isinstance(obj, dict):
        raise _validation.value_error("model_from_json", "json_string", "a JSON object (a model config)",
                                      f"a JSON {type(obj).__name__}")
    with safety.loading("model_from_json", safe_mode, custom_objects):
        return model_from_config(obj, custom_objects)


def model_from_config(config: dict, custom_objects: dict | None = None) -> Any:
    """A model (or layer) from Keras's serialized form ``{"class_name", "config", ...}``."""
    return layer_serialization.deserialize(config, custom_objects)


# -- Sequential -----------------------------------------------------------------------------------
def sequential_config(model: Any) -> dict:
    entries = [layer_serialization.serialize(model._input_layer)] if model._input_layer is not None else []
    entries += [layer_serialization.serialize(layer) for layer in model.layers]
    shape = model._input_layer.batch_shape if model._input_layer is not None else None
    return {**_base_config(model), "layers": entries, "build_input_shape": list(shape) if shape is not None else None}


def sequential_from_config(config: dict, custom_objects: dict | None, cls: type) -> Any:
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for entry in config.get("layers", []):
        model.add(layer_serialization.deserialize(entry, custom_objects))
    shape = config.get("build_input_shape")
    if not model.built and shape is not None:
        model.build(tuple(shape))
    return model


# -- Functional -----------------------------------------------------------------------------------
def _base_config(model: Any) -> dict:
    return {"name": model.name, "trainable": model.trainable,
            "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": model.dtype_name},
                      "registered_name": None}}


def functional_config(model: Any) -> dict:
    """Keras 3's functional config: layers with their ``inbound_nodes``, then input / output references."""
    node_ids = {id(n) for n in model._nodes}
    model_nodes = {id(layer): [n for n in layer._inbound_nodes if id(n) in node_ids] for layer in model.layers}

    def reference(tensor: KerasTensor) -> list:
        layer, node_index, tensor_index = tensor.history
        node = layer._inbound_nodes[node_index]
        return [layer.name, model_nodes[id(layer)].index(node), tensor_index]

    def encode(obj: Any) -> Any:
        if isinstance(obj, KerasTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(obj.shape), "dtype": obj.dtype, "keras_history": reference(obj)}}
        return obj

    entries = []
    for layer in model.layers:
        entry = layer_serialization.serialize(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [] if isinstance(layer, InputLayer) else [
            {"args": map_structure(encode, list(n.args)), "kwargs": map_structure(encode, dict(n.kwargs))}
            for n in model_nodes[id(layer)]]
        entries.append(entry)
    base = _base_config(model)
    del base["dtype"]
    return {**base, "layers": entries,
            "input_layers": map_structure(reference, _as_lists(model._input_structure)),
            "output_layers": map_structure(reference, _as_lists(model._output_structure))}


def _as_lists(structure: Any) -> Any:
    if isinstance(structure, tuple):
        return list(structure)
    return structure


def functional_from_config(config: dict, custom_objects: dict | None, cls: type) -> Any:
    """Rebuild the graph: create every layer, then replay its calls once their inputs exist."""
    made: dict[tuple[str, int], list[KerasTensor]] = {}
    pending = []
    for entry in config["layers"]:
        layer = layer_serialization.deserialize(entry, custom_objects)
        name = entry.get("name") or layer.name
        if isinstance(layer, InputLayer):
            made[(name, 0)] = [layer.output]
            continue
        for index, node in enumerate(entry.get("inbound_nodes") or []):
            pending.append((layer, name, index, _node_args(node)))

    def decode(obj: Any) -> Any:
        if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
            name, node_index, tensor_index = obj["config"]["keras_history"]
            return made[(name, node_index)][tensor_index]
        return obj

    def ready(args: Any) -> bool:
        refs = []
        _collect_refs(args, refs)
        return all((name, node) in made for name, node, _ in refs)

    while pending:
        waiting = []
        for layer, name, index, (args, kwargs) in pending:
            if not ready((args, kwargs)):
                waiting.append((layer, name, index, (args, kwargs)))
                continue
            outputs = layer(*_decode(decode, args), **_decode(decode, kwargs))
            made[(name, index)] = outputs if isinstance(outputs, list) else [outputs]
        if len(waiting) == len(pending):
            names = sorted({name for _, name, _, _ in waiting})
            raise _validation.value_error("model_from_config", "layers", "inbound nodes that refer to layers "
                                          "of the same config", f"unresolvable inputs for {names}")
        pending = waiting

    def endpoint(spec: Any) -> Any:
        if _is_reference(spec):
            return made[(spec[0], spec[1])][spec[2]]
        if isinstance(spec, dict):
            return {k: endpoint(v) for k, v in spec.items()}
        return [endpoint(s) for s in spec]

    return cls(inputs=endpoint(config["input_layers"]), outputs=endpoint(config["output_layers"]),
               name=config.get("name"), trainable=config.get("trainable", True))


def _decode(decode: Any, obj: Any) -> Any:
    if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
        return decode(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_decode(decode, o) for o in obj)
    if isinstance(obj, dict):
        return {k: _decode(decode, v) for k, v in obj.items()}
    return obj


def _collect_refs(obj: Any, refs: list) -> None:
    if isinstance(obj, dict) and obj.get("class_name") == "__keras_tensor__":
        refs.append(obj["config"]["keras_history"])
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _collect_refs(o, refs)
    elif isinstance(obj, dict):
        for o in obj.values():
            _collect_refs(o, refs)


def _is_reference(spec: Any) -> bool:
    return isinstance(spec, (list, tuple)) and len(spec) == 3 and isinstance(spec[0], str)


def _node_args(node: Any) -> tuple[tuple, dict]:
    """A node's ``(args, kwargs)``: Keras 3's ``{"args", "kwargs"}`` or Keras 2's list of references."""
    if isinstance(node, dict):
        return tuple(node.get("args", [])), dict(node.get("kwargs", {}))
    refs = [{"class_name": "__keras_tensor__", "config": {"keras_history": list(r[:3])}} for r in node]
    kwargs = dict(node[0][3]) if node and len(node[0]) > 3 else {}
    return ((refs[0] if len(refs) == 1 else refs),), kwargs
