"""``Input`` and ``InputLayer``: the entry points of a functional model.

``Input(shape=(timesteps, features))`` returns a symbolic tensor of shape ``(None, timesteps, features)``
(``batch_size`` or ``batch_shape`` fix the batch, as stateful layers need). Calling layers on it records
the graph that ``lstmkit.models.Model(inputs, outputs)`` turns into a model.
"""

from __future__ import annotations

from typing import Any, Iterable

from .. import _validation
from .base import Layer, unique_name
from .symbolic import KerasTensor, Node


class InputLayer(Layer):
    """Holds the shape of a model input; produces the symbolic tensor ``output``.

    Args:
        shape: shape without the batch, e.g. ``(timesteps, features)``; ``None`` entries are unknown.
        batch_size: fixed batch size, or None.
        batch_shape: the full shape with the batch first (instead of ``shape`` + ``batch_size``).
        dtype: ``"float32"`` (default), ``"int32"`` / ``"int64"`` for Embedding indices, ...
    """

    def __init__(self, shape: Iterable[int | None] | None = None, batch_size: int | None = None,
                 dtype: Any = None, sparse: bool = False, batch_shape: Iterable[int | None] | None = None,
                 name: str | None = None, ragged: bool = False, optional: bool = False,
                 batch_input_shape: Iterable[int | None] | None = None, **kwargs: Any):
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape  # Keras 2's key
        if shape is None and batch_shape is None:
            raise _validation.value_error("InputLayer", "shape", "shape=(timesteps, features) or batch_shape",
                                          "neither", "E.g. Input(shape=(25, 1)) for 25 steps of 1 feature.")
        if shape is not None and batch_shape is not None:
            raise _validation.value_error("InputLayer", "shape", "only one of shape / batch_shape",
                                          f"shape={shape}, batch_shape={batch_shape}")
        if sparse or ragged:
            raise _validation.value_error("InputLayer", "sparse / ragged", "dense inputs",
                                          f"sparse={sparse}, ragged={ragged}")
        kwargs.pop("trainable", None)
        kwargs.pop("input_dtype", None)
        super().__init__(name=name or unique_name("input_layer"), **kwargs)
        batch_shape = tuple(batch_shape) if batch_shape is not None else (batch_size, *tuple(shape))
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.input_dtype = _dtype_name(dtype)
        self.optional = bool(optional)
        self.built = True
        tensor = KerasTensor(self.batch_shape, self.input_dtype, history=(self, 0, 0), name=self.name)
        self._inbound_nodes.append(Node(self, (), {}, [tensor]))  # its ``output`` (Layer.output)

    def forward(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return self.batch_shape

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": self.input_dtype, "sparse": False,
                "ragged": False, "name": self.name, "optional": self.optional}


def _dtype_name(dtype: Any) -> str:
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):  # a DTypePolicy
        return (dtype.get("config") or {}).get("name", "float32")
    return str(dtype).replace("torch.", "")


def Input(shape: Iterable[int | None] | None = None, batch_size: int | None = None, dtype: Any = None,
          sparse: bool | None = None, batch_shape: Iterable[int | None] | None = None,
          name: str | None = None, tensor: Any = None, optional: bool = False) -> KerasTensor:
    """A symbolic model input of ``(batch_size, *shape)``: call layers on it, then ``Model(inputs, outputs)``."""
    if tensor is not None:
        raise _validation.value_error("Input", "tensor", "None (lstmkit builds inputs from shapes)",
                                      type(tensor).__name__)
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=bool(sparse),
                       batch_shape=batch_shape, name=name, optional=optional)
    return layer.output
