"""``Layer``: a ``torch.nn.Module`` with Keras's contract.

What Keras users rely on and plain modules lack: lazy build on the first input, weights exchanged as
NumPy arrays in Keras's order (``get_weights`` / ``set_weights``), Keras config dicts
(``get_config`` / ``from_config``), Keras-style unique names, regularization penalties on ``losses``
and constraints recorded per parameter (applied by ``lstmkit.constraints.apply_constraints``).
"""

from __future__ import annotations

import collections
import inspect
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from .. import _validation
from ..ops import constraints as constraints_mod
from ..ops import initializers as initializers_mod
from ..ops import regularizers as regularizers_mod
from ..ops.serialization import snake_case
from . import symbolic

_NAME_COUNTS: collections.Counter = collections.Counter()
_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
           "bfloat16": torch.bfloat16}


def unique_name(prefix: str) -> str:
    """Keras's naming: ``lstm``, ``lstm_1``, ``lstm_2``... per prefix, per process."""
    count = _NAME_COUNTS[prefix]
    _NAME_COUNTS[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    """Restart automatic naming (Keras's ``clear_session`` does the same)."""
    _NAME_COUNTS.clear()


def dtype_policy(dtype: Any) -> str:
    """Accept ``None``, a name, a torch dtype or Keras's ``DTypePolicy`` dict; return the name."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name", "float32")
    if isinstance(dtype, torch.dtype):
        dtype = str(dtype).replace("torch.", "")
    if dtype not in _DTYPES:
        raise _validation.value_error("Layer", "`dtype`", "one of " + ", ".join(_DTYPES), repr(dtype))
    return dtype


class Layer(nn.Module):
    """Base of every lstmkit layer.

    Calling a layer: on tensors or NumPy it runs ``forward``; on symbolic tensors (``Input(...)``) it
    records a graph node instead (``layers.symbolic``). Masks travel as Keras's do: a layer's
    ``compute_mask(inputs, mask)`` result is attached to its outputs as ``_keras_mask``, and a layer
    whose ``forward`` takes ``mask`` receives its input's mask when none is passed explicitly.

    Args:
        name: unique name; Keras's automatic name (``lstm_2``) when None.
        trainable: whether the weights receive gradients.
        dtype: weight dtype name (``"float32"``) or Keras's ``DTypePolicy`` dict.
        input_shape / batch_input_shape / batch_size / input_dim: Keras's ways of declaring the input,
            which let the layer build at construction instead of on its first call.
    """

    supports_masking = False  # pass an incoming mask through unchanged (compute_mask's default)

    def __init__(self, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: Iterable[int | None] | None = None,
                 batch_input_shape: Iterable[int | None] | None = None,
                 batch_size: int | None = None, input_dim: int | None = None, **kwargs: Any):
        super().__init__()
        kwargs.pop("autocast", None)  # Keras bookkeeping with no meaning here
        kwargs.pop("build_config", None)
        if kwargs:
            raise _validation.type_error(type(self).__name__, "its constructor",
                                         "Keras layer arguments", f"unknown arguments {sorted(kwargs)}",
                                         "Check the spelling against the layer's docstring.")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype_name = dtype_policy(dtype)
        self.built = False
        self._weight_order: list[str] = []  # parameter names in Keras's order
        self._non_trainable: set[str] = set()  # weights created with trainable=False
        self._regularizers: dict[str, Any] = {}
        self._constraints: dict[str, Any] = {}
        self._activity_losses: list[torch.Tensor] = []
        self._inbound_nodes: list[symbolic.Node] = []
        self._batch_input_shape = declared_input_shape(input_shape, batch_input_shape, batch_size,
                                                       input_dim)

    # -- calling ----------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        plain = (len(args) == 1 and torch.is_tensor(args[0])  # the common eager call: no structure to search
                 and all(v is None or isinstance(v, (bool, torch.Tensor)) for v in kwargs.values()))
        if not plain and symbolic.is_symbolic(args, kwargs):
            return symbolic.call_layer(self, args, kwargs)
        if "training" in kwargs and not accepts(self, "training"):
            del kwargs["training"]  # as Keras: every layer takes training=, layers without dropout ignore it
        inputs = args[0] if args else kwargs.get("inputs")
        mask = kwargs.get("mask")
        if mask is None:
            mask = implicit_mask(inputs)
            if mask is not None and accepts(self, "mask"):
                kwargs["mask"] = mask
        outputs = super().__call__(*args, **kwargs)
        attach_mask(outputs, self.compute_mask(inputs, mask))
        return outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs given the inputs' mask: kept when ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for ``input_shape`` (batch first, ``None`` for unknown sizes)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compute_output_shape, "
                                  "so it cannot be called on symbolic inputs (Input(...)).")

    # -- building ---------------------------------------------------------------------------------
    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype_name]

    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of ``input_shape`` (batch included, may be None)."""
        self.built = True

    def maybe_build(self, input_shape: Any) -> None:
        """Build once, for a shape tuple or (layers with several inputs) a list of shape tuples."""
        if not self.built:
            shape = [tuple(s) for s in input_shape] if _several(input_shape) else tuple(input_shape)
            self.build(shape)
            self.built = True
            self._build_shape = shape

    def add_weight(self, name: str, shape: tuple[int, ...], initializer: Any = "zeros",
                   regularizer: Any = None, constraint: Any = None,
                   trainable: bool = True) -> nn.Parameter:
        """Create, initialize and register a parameter; Keras's order is creation order."""
        init = initializers_mod.get(initializer)
        value = torch.as_tensor(init(tuple(shape), dtype=self.torch_dtype), dtype=self.torch_dtype)
        param = nn.Parameter(value.clone(), requires_grad=trainable and self.trainable)
        self.register_parameter(name, param)
        self._weight_order.append(name)
        if not trainable:
            self._non_trainable.add(name)
        if regularizer is not None:
            self._regularizers[name] = regularizers_mod.get(regularizer)
        if constraint is not None:
            self._constraints[name] = constraints_mod.get(constraint)
        return param

    # -- weights ----------------------------------------------------------------------------------
    def sublayers(self) -> list["Layer"]:
        """Direct child layers whose weights follow this layer's own, in registration order."""
        return [m for m in self.children() if isinstance(m, Layer)]

    @property
    def weights(self) -> list[nn.Parameter]:
        """All weights in Keras's ``layer.weights`` order."""
        own = [getattr(self, n) for n in self._weight_order]
        return own + [w for layer in self.sublayers() for w in layer.weights]

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, exactly as Keras's ``get_weights()`` orders and shapes them."""
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Load NumPy arrays (or tensors) in Keras's order; shapes must match exactly."""
        params = self.weights
        owner = f"{type(self).__name__} '{self.name}'"
        if not self.built:
            raise _validation.value_error(owner, "set_weights", "a built layer", "an unbuilt layer",
                                          "Call the layer on an input (or pass input_shape=...) first.")
        if len(weights) != len(params):
            raise _validation.value_error(owner, "set_weights", f"a list of {len(params)} arrays "
                                          f"{[tuple(p.shape) for p in params]}",
                                          f"{len(weights)} arrays")
        for i, (param, value) in enumerate(zip(params, weights)):
            value = torch.as_tensor(np.asarray(value), dtype=param.dtype)
            if tuple(value.shape) != tuple(param.shape):
                raise _validation.value_error(owner, f"set_weights (weight {i})",
                                              f"shape {tuple(param.shape)}", f"shape {tuple(value.shape)}")
            with torch.no_grad():
                param.copy_(value)

    def count_params(self) -> int:
        return int(sum(w.numel() for w in self.weights))

    # -- losses -----------------------------------------------------------------------------------
    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties on the current weights plus activity penalties of the last call."""
        penalties = [reg(getattr(self, name)) for name, reg in self._regularizers.items()]
        for layer in self.sublayers():
            penalties += layer.losses
        return penalties + list(self._activity_losses)

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": self.dtype_name}, "registered_name": None},
        }
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _several(shape: Any) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))


_ACCEPTS: dict[tuple[type, str], bool] = {}


def accepts(layer: nn.Module, argument: str) -> bool:
    """Whether ``layer.forward`` takes ``argument`` (``mask``, ``training``); cached per class."""
    key = (type(layer), argument)
    if key not in _ACCEPTS:
        _ACCEPTS[key] = argument in inspect.signature(layer.forward).parameters
    return _ACCEPTS[key]


def implicit_mask(inputs: Any) -> Any:
    """The ``_keras_mask`` carried by a tensor (or a list of masks for a list of tensors), or None."""
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return None if all(m is None for m in masks) else masks
    return getattr(inputs, "_keras_mask", None)


def attach_mask(outputs: Any, mask: Any) -> None:
    """Attach ``mask`` to tensor outputs, as Keras does: never over a mask an output already has."""
    if mask is None:
        return
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] + [None] * (len(outputs) - 1)
        for out, m in zip(outputs, masks):
            attach_mask(out, m)
    elif torch.is_tensor(outputs) and getattr(outputs, "_keras_mask", None) is None:
        outputs._keras_mask = mask


def declared_input_shape(input_shape, batch_input_shape, batch_size, input_dim) -> tuple | None:
    """Combine Keras's input declarations into one ``(batch, ...)`` shape, or None."""
    if batch_input_shape is not None:
        return tuple(batch_input_shape)
    if input_shape is not None:
        return (batch_size, *tuple(input_shape))
    if input_dim is not None:
        return (batch_size, None, int(input_dim))
    return None


