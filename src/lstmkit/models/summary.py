"""``model.summary()``: the layer table as Keras prints it (the seeds' format).

One row per layer: ``name (Type)``, output shape with ``None`` for unknown sizes (the batch, or the time
axis when the model was declared with ``input_shape=(None, features)``), parameter count; then the
totals. Functional models that are not a plain chain get Keras's extra "Connected to" column.
"""

from __future__ import annotations

from typing import Any

from ..layers.input_layer import InputLayer
from ..saving.serialization import is_sequential


def render(model: Any, line_length: int | None = None) -> str:
    chain = is_sequential(model) or not model._functional or _is_chain(model)
    line_length = line_length or (65 if chain else 98)
    fractions = [0.45, 0.85, 1.0] if chain else [0.33, 0.55, 0.67, 1.0]
    positions = [int(line_length * f) for f in fractions]
    header = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    lines = [f'Model: "{model.name}"', "_" * line_length, _row(header, positions), "=" * line_length]
    rows = _rows(model, chain)
    for i, fields in enumerate(rows):
        lines += _rows_text(fields, positions)
        lines.append(("=" if i == len(rows) - 1 else "_") * line_length)
    weights = model.weights
    total = sum(w.numel() for w in weights)
    trainable = sum(w.numel() for w in weights if w.requires_grad)
    lines += [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", "_" * line_length]
    return "\n".join(lines)


def type_name(layer: Any) -> str:
    return getattr(layer, "keras_class_name", type(layer).__name__)


def _rows(model: Any, chain: bool) -> list[list[Any]]:
    if is_sequential(model):
        shapes = model._output_shapes or ["?"] * len(model.layers)
        return [[f"{l.name} ({type_name(l)})", _shape_text(s), _params(l)] for l, s in zip(model.layers, shapes)]
    if not model._functional:
        return [[f"{l.name} ({type_name(l)})", "?", _params(l)] for l in model.layers]
    node_ids = {id(n) for n in model._nodes}
    rows = []
    for layer in model.layers:
        nodes = [n for n in layer._inbound_nodes if id(n) in node_ids]
        outputs = nodes[0].outputs
        shape = [t.shape for t in outputs] if len(outputs) > 1 or isinstance(layer, InputLayer) else outputs[0].shape
        fields = [f"{layer.name} ({type_name(layer)})", _shape_text(shape), _params(layer)]
        if not chain:
            fields.append([_connection(t, node_ids) for n in nodes for t in n.inputs] or [""])
        rows.append(fields)
    return rows


def _params(layer: Any) -> int:
    return layer.count_params() if layer.built else 0


def _connection(tensor: Any, node_ids: set) -> str:
    layer, node_index, tensor_index = tensor.history
    model_nodes = [n for n in layer._inbound_nodes if id(n) in node_ids]
    return f"{layer.name}[{model_nodes.index(layer._inbound_nodes[node_index])}][{tensor_index}]"


def _is_chain(model: Any) -> bool:
    """Keras's "sequential-like": each node reads at most one tensor and each layer runs once."""
    layers_seen: set[int] = set()
    consumed: set[int] = set()
    for node in model._nodes:
        if len(node.inputs) > 1 or id(node.layer) in layers_seen:
            return False
        layers_seen.add(id(node.layer))
        for tensor in node.inputs:
            if id(tensor) in consumed:
                return False
            consumed.add(id(tensor))
    return True


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(str(tuple(s)) for s in shape) + "]"
    return str(tuple(shape)) if shape != "?" else "(unbuilt)"


def _row(fields: list[Any], positions: list[int]) -> str:
    """Keras's ``print_row``: each field cut or padded to end at its column position."""
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        line = line[:positions[i]]
        line += " " * (positions[i] - len(line))
    return line


def _rows_text(fields: list[Any], positions: list[int]) -> list[str]:
    """A layer's row, plus continuation lines for extra "Connected to" entries."""
    if len(fields) < 4:
        return [_row(fields, positions)]
    connections = fields[3]
    lines = [_row(fields[:3] + [connections[0]], positions)]
    lines += [_row(["", "", "", c], positions) for c in connections[1:]]
    return lines
