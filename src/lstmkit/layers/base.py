"""``Layer``: a ``torch.nn.Module`` with Keras's contract.

What Keras users rely on and plain modules lack: lazy build on the first input, weights exchanged as
NumPy arrays in Keras's order (``get_weights`` / ``set_weights``), Keras config dicts
(``get_config`` / ``from_config``), Keras-style unique names, regularization penalties on ``losses``
and constraints recorded per parameter (applied by ``lstmkit.constraints.apply_constraints``).
"""

from __future__ import annotations

import collections
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from .. import _validation
from ..ops import constraints as constraints_mod
from ..ops import initializers as initializers_mod
from ..ops import regularizers as regularizers_mod
from ..ops.serialization import snake_case

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

    Args:
        name: unique name; Keras's automatic name (``lstm_2``) when None.
        trainable: whether the weights receive gradients.
        dtype: weight dtype name (``"float32"``) or Keras's ``DTypePolicy`` dict.
        input_shape / batch_input_shape / batch_size / input_dim: Keras's ways of declaring the input,
            which let the layer build at construction instead of on its first call.
    """

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
        self._regularizers: dict[str, Any] = {}
        self._constraints: dict[str, Any] = {}
        self._activity_losses: list[torch.Tensor] = []
        self._batch_input_shape = declared_input_shape(input_shape, batch_input_shape, batch_size,
                                                       input_dim)

    # -- building ---------------------------------------------------------------------------------
    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype_name]

    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of ``input_shape`` (batch included, may be None)."""
        self.built = True

    def maybe_build(self, input_shape: tuple) -> None:
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True
            self._build_shape = tuple(input_shape)

    def add_weight(self, name: str, shape: tuple[int, ...], initializer: Any = "zeros",
                   regularizer: Any = None, constraint: Any = None,
                   trainable: bool = True) -> nn.Parameter:
        """Create, initialize and register a parameter; Keras's order is creation order."""
        init = initializers_mod.get(initializer)
        value = torch.as_tensor(init(tuple(shape), dtype=self.torch_dtype), dtype=self.torch_dtype)
        param = nn.Parameter(value.clone(), requires_grad=trainable and self.trainable)
        self.register_parameter(name, param)
        self._weight_order.append(name)
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


def declared_input_shape(input_shape, batch_input_shape, batch_size, input_dim) -> tuple | None:
    """Combine Keras's input declarations into one ``(batch, ...)`` shape, or None."""
    if batch_input_shape is not None:
        return tuple(batch_input_shape)
    if input_shape is not None:
        return (batch_size, *tuple(input_shape))
    if input_dim is not None:
        return (batch_size, None, int(input_dim))
    return None


