"""Symbolic tensors and graph nodes: what ``Input(...)`` returns and what calling a layer on it records.

A ``KerasTensor`` carries a shape (``None`` for unknown sizes, the batch first) and where it came from
(``history``: the layer, the node index on that layer, the output index). Calling a layer on one builds
the layer for that shape, computes the output shape with ``compute_output_shape`` and records a
``Node``; ``models.functional`` walks these nodes to build a model. Nothing is computed.
"""

from __future__ import annotations

from typing import Any, Callable

from .. import _validation


class KerasTensor:
    """A placeholder for a tensor of ``shape`` (batch first, ``None`` = unknown) in a layer graph."""

    def __init__(self, shape: tuple, dtype: str = "float32", history: tuple | None = None,
                 name: str | None = None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype
        self.history = history  # (layer, node_index, tensor_index)
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        source = f", from {self.history[0].name!r}" if self.history else ""
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}{source}>"

    def __iter__(self):
        raise _validation.InputTypeError(f"A symbolic tensor of shape {self.shape} cannot be iterated: it holds no values. "
                        "Index a layer's list of outputs instead (e.g. out, h, c = LSTM(..., "
                        "return_state=True)(inputs)).")


class Node:
    """One call of ``layer`` on symbolic inputs: its arguments (with KerasTensors inside) and outputs."""

    def __init__(self, layer: Any, args: tuple, kwargs: dict, outputs: list[KerasTensor]):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.inputs = flatten((args, kwargs))  # the KerasTensors it consumes, in argument order


def map_structure(fn: Callable[[Any], Any], obj: Any) -> Any:
    """Apply ``fn`` to every leaf of nested lists / tuples / dicts."""
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_structure(fn, o) for o in obj)
    if isinstance(obj, dict):
        return {k: map_structure(fn, v) for k, v in obj.items()}
    return fn(obj)


def flatten(obj: Any) -> list[KerasTensor]:
    """Every KerasTensor in a nested structure, in order."""
    found: list[KerasTensor] = []
    map_structure(lambda o: found.append(o) if isinstance(o, KerasTensor) else None, obj)
    return found


def is_symbolic(args: tuple, kwargs: dict) -> bool:
    return bool(flatten((args, kwargs)))


def is_shape(obj: Any) -> bool:
    """A single shape is a tuple of ints / None; a list or tuple of those is several shapes."""
    return isinstance(obj, tuple) and all(d is None or isinstance(d, int) for d in obj)


def _shape_of(obj: Any) -> Any:
    return obj.shape if isinstance(obj, KerasTensor) else obj


def call_layer(layer: Any, args: tuple, kwargs: dict) -> Any:
    """Record ``layer(*args, **kwargs)`` on symbolic inputs; return symbolic outputs of the right shapes."""
    inputs = args[0] if args else kwargs.get("inputs")
    shapes = map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else t, inputs)
    custom = getattr(layer, "symbolic_output_shapes", None)  # layers whose shapes depend on call arguments
    if custom is not None:
        output_shapes = custom(map_structure(_shape_of, args), map_structure(_shape_of, kwargs))
    else:
        producers = [t.history[0] for t in flatten(inputs) if t.history]
        check = getattr(layer, "check_input_shape", None)
        if check is not None:
            check(shapes, producers)
        layer.maybe_build(shapes)
        output_shapes = layer.compute_output_shape(shapes)
    node_index = len(layer._inbound_nodes)
    dtype = getattr(layer, "output_dtype", None) or getattr(layer, "dtype_name", "float32")
    if is_shape(output_shapes):
        outputs = KerasTensor(output_shapes, dtype, history=(layer, node_index, 0))
        flat = [outputs]
    else:
        flat = [KerasTensor(s, dtype, history=(layer, node_index, i)) for i, s in enumerate(output_shapes)]
        outputs = list(flat)
    layer._inbound_nodes.append(Node(layer, args, kwargs, flat))
    return outputs


class NodeAttributes:
    """Keras's graph introspection on a layer: ``input`` / ``output`` (the tensors of its first call on
    symbolic inputs, one tensor or a list) and Keras 2's ``input_shape`` / ``output_shape``.

    Errors are ``ValueError``s, not Keras's AttributeError: torch's ``Module.__getattr__`` would replace an
    AttributeError raised here by a bare "has no attribute" without the reason.
    """

    def _node_attribute(self, attr: str, what: str) -> Any:
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            raise _validation.InputError(f"Layer '{self.name}' has never been called on symbolic inputs (Input(...)) and "
                             f"thus has no defined {what}. Call it in a functional model first, e.g. "
                             f"y = layer(Input(shape=...)).")
        values = getattr(nodes[0], attr) or nodes[0].outputs  # an InputLayer's input is its output (Keras 2)
        return values[0] if len(values) == 1 else list(values)

    @property
    def input(self) -> Any:
        """The symbolic input(s) of the layer's first call (keyword tensors such as ``initial_state`` too)."""
        return self._node_attribute("inputs", "input")

    @property
    def output(self) -> Any:
        """The symbolic output(s) of the layer's first call: e.g. ``[out, h, c]`` for ``return_state=True``."""
        return self._node_attribute("outputs", "output")

    def get_input_at(self, node_index: int) -> Any:
        """The input(s) of the layer's ``node_index``-th call (Keras 2)."""
        return self._at(node_index, "inputs")

    def get_output_at(self, node_index: int) -> Any:
        """The output(s) of the layer's ``node_index``-th call (Keras 2)."""
        return self._at(node_index, "outputs")

    def _at(self, node_index: int, attr: str) -> Any:
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not 0 <= node_index < len(nodes):
            raise _validation.InputError(f"Layer '{self.name}': asked for node {node_index}, but it has been called "
                             f"{len(nodes)} time(s) on symbolic inputs.")
        values = getattr(nodes[node_index], attr) or nodes[node_index].outputs
        return values[0] if len(values) == 1 else list(values)

    def _node_shapes(self, attr: str, what: str) -> Any:
        nodes = self.__dict__.get("_inbound_nodes") or []
        if not nodes:
            self._node_attribute(attr, what)  # raises the never-called error
        shapes = {tuple(tuple(t.shape) for t in (getattr(node, attr) or node.outputs)) for node in nodes}
        if len(shapes) > 1:
            raise _validation.InputError(f"Layer '{self.name}' has been called on inputs of different shapes, so its "
                             f"{what} is ill-defined; use get_{'input' if attr == 'inputs' else 'output'}_at"
                             "(node_index).shape.")
        found = shapes.pop()
        return found[0] if len(found) == 1 else list(found)

    @property
    def input_shape(self) -> Any:
        """Keras 2's ``layer.input_shape``: ``(None, timesteps, features)`` (a list for several inputs)."""
        return self._node_shapes("inputs", "input shape")

    @property
    def output_shape(self) -> Any:
        """Keras 2's ``layer.output_shape``: e.g. ``(None, 32)`` (a list for several outputs)."""
        return self._node_shapes("outputs", "output shape")
