"""``plot_model`` / ``model_to_dot``: the layer graph as Graphviz DOT through ``pydot``.

Each layer is a box (``name (ClassName)``, with ``show_shapes`` its input and output shapes), an edge per
tensor passed between layers. A ``.dot`` file needs only pydot; an image (``.png``, ``.svg``, ``.pdf``) needs
Graphviz's ``dot`` program as well. When either is missing the error says what to install, as Keras does.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .. import _validation


def _pydot() -> Any:
    try:
        import pydot
    except ImportError:
        raise ImportError("plot_model / model_to_dot need pydot: pip install pydot (or lstmkit[plot]). Images "
                          "also need Graphviz (e.g. apt install graphviz); a .dot file does not.") from None
    return pydot


def _shape_text(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return str(tuple(shape))


def _label(layer: Any, show_shapes: bool, show_layer_names: bool, show_dtype: bool, show_activations: bool,
           show_trainable: bool) -> str:
    kind = type(layer).__name__
    title = f"{layer.name} ({kind})" if show_layer_names else kind
    lines = [title]
    activation = getattr(layer, "activation", None)
    if show_activations and activation is not None:
        lines.append(f"activation: {getattr(activation, '__name__', activation)}")
    if show_trainable:
        lines.append(f"trainable: {'Y' if layer.trainable else 'N'}")
    if show_dtype:
        lines.append(f"dtype: {getattr(layer, 'dtype_name', 'float32')}")
    if show_shapes:
        for what in ("input_shape", "output_shape"):
            try:
                lines.append(f"{what.split('_')[0]}: {_shape_text(getattr(layer, what))}")
            except ValueError:
                lines.append(f"{what.split('_')[0]}: ?")
    return "\n".join(lines)


def _edges(model: Any) -> list[tuple[Any, Any]]:
    """(producer layer, consumer layer) pairs: a functional model's graph, or a Sequential's chain."""
    if getattr(model, "_functional", False):
        return [(tensor.history[0], node.layer) for node in model._nodes for tensor in node.inputs]
    layers = list(model.layers)
    first = getattr(model, "_input_layer", None)
    chain = ([first] if first is not None else []) + layers
    return list(zip(chain, chain[1:]))


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False, **kwargs: Any) -> Any:
    """A ``pydot.Dot`` graph of ``model``'s layers (``rankdir`` "TB" top-down or "LR" left-right)."""
    _validation.choice("model_to_dot", "rankdir", rankdir, ("TB", "LR"))
    if expand_nested or subgraph or kwargs:
        raise _validation.value_error("model_to_dot", "expand_nested / subgraph",
                                      "False (nested models are drawn as one box)",
                                      f"expand_nested={expand_nested}, subgraph={subgraph}, {sorted(kwargs)}")
    if not hasattr(model, "layers"):
        raise _validation.type_error("model_to_dot", "model", "a Model or Sequential", type(model).__name__)
    pydot = _pydot()
    dot = pydot.Dot(graph_type="digraph", rankdir=rankdir, dpi=str(dpi), concentrate="true")
    dot.set_node_defaults(shape="record")
    edges = _edges(model)
    layers: list = []
    for layer in [p for e in edges for p in e] + list(model.layers):
        if all(layer is not seen for seen in layers):
            layers.append(layer)
    ids = {id(layer): str(i) for i, layer in enumerate(layers)}
    for layer in layers:
        label = _label(layer, show_shapes, show_layer_names, show_dtype, show_layer_activations, show_trainable)
        dot.add_node(pydot.Node(ids[id(layer)], label=label.replace("\n", "\\n"), shape="box"))
    for a, b in dict.fromkeys((ids[id(a)], ids[id(b)]) for a, b in edges):
        dot.add_edge(pydot.Edge(a, b))
    return dot


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, **kwargs: Any) -> Any:
    """Draw ``model`` to ``to_file``: ``.dot`` (pydot only) or an image format Graphviz knows (``.png`` ...)."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable, **kwargs)
    path = Path(to_file)
    extension = path.suffix.lstrip(".").lower() or "png"
    if extension == "dot":
        path.write_text(dot.to_string(), encoding="utf-8")
        return None
    if shutil.which("dot") is None:
        raise ImportError(f"plot_model: writing a .{extension} image needs Graphviz's `dot` program, which is not "
                          "installed (e.g. apt install graphviz, brew install graphviz). Save to a .dot file "
                          "instead (plot_model(model, 'model.dot')) and render it elsewhere.")
    path.write_bytes(dot.create(format=extension))
    return None
