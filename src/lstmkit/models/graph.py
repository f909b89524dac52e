"""The layer graph behind a functional model: which nodes to run, in which order, with which layers.

Given the symbolic outputs of ``Input(...) -> layer calls``, ``walk`` finds every node that feeds them
(depth-first, inputs before consumers: an order in which running the nodes is always valid) and
``ordered_layers`` lists the layers as Keras does (by depth from the inputs, then discovery order), which
fixes the order of ``model.layers``, ``summary()`` and ``get_weights()``.
"""

from __future__ import annotations

from typing import Any

from .. import _validation
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor, Node


def node_of(tensor: KerasTensor) -> Node:
    layer, node_index, _ = tensor.history
    return layer._inbound_nodes[node_index]


def walk(outputs: list[KerasTensor], inputs: list[KerasTensor]) -> list[Node]:
    """Every node between ``inputs`` and ``outputs``, each after the nodes it consumes."""
    order: list[Node] = []
    seen: set[int] = set()
    allowed = {id(t) for t in inputs}

    def visit(node: Node) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node.layer, InputLayer) and id(node.outputs[0]) not in allowed:
            raise _validation.value_error(
                "Model", "inputs", "every Input that the outputs depend on",
                f"outputs that also depend on Input '{node.layer.name}'",
                "Add it to Model(inputs=[...]) (graph disconnected).")
        for tensor in node.inputs:
            if tensor.history is None:
                raise _validation.value_error("Model", "outputs", "tensors built from Input(...)",
                                              repr(tensor))
            visit(node_of(tensor))
        order.append(node)

    for tensor in outputs:
        if not isinstance(tensor, KerasTensor):
            raise _validation.type_error("Model", "outputs", "symbolic tensors from layer calls on Input(...)",
                                         type(tensor).__name__,
                                         "Build outputs by calling layers on the result of Input(shape=...).")
        visit(node_of(tensor))
    for tensor in inputs:
        if id(node_of(tensor)) not in seen:
            order.insert(0, node_of(tensor))  # an input no output uses still belongs to the model
    return order


def ordered_layers(nodes: list[Node]) -> list[Any]:
    """Layers sorted as Keras sorts them: deepest (closest to the inputs) first, ties by discovery."""
    depth = {id(n): 0 for n in nodes}
    for node in reversed(nodes):  # consumers before producers
        for tensor in node.inputs:
            producer = node_of(tensor)
            depth[id(producer)] = max(depth[id(producer)], depth[id(node)] + 1)
    layer_depth: dict[int, int] = {}
    first_seen: dict[int, int] = {}
    layers: dict[int, Any] = {}
    for i, node in enumerate(nodes):
        key = id(node.layer)
        layers[key] = node.layer
        first_seen.setdefault(key, i)
        layer_depth[key] = max(layer_depth.get(key, 0), depth[id(node)])
    return [layers[k] for k in sorted(layers, key=lambda k: (-layer_depth[k], first_seen[k]))]
