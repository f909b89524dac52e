"""``lstmkit.backend``: the tensor functions Keras user code writes losses and metrics with (``K.*``).

Seed code such as ``K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))`` runs unchanged with
``from lstmkit import backend as K``. Arguments follow ``keras.backend`` (``axis=``, ``keepdims=``);
inputs may be tensors, NumPy arrays or Python numbers, outputs are torch tensors.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

_EPSILON = 1e-7
_FLOATX = "float32"

__all__ = ["epsilon", "set_epsilon", "floatx", "cast", "constant", "abs", "sqrt", "square", "exp", "log", "pow",
           "sign", "round", "clip", "maximum", "minimum", "mean", "sum", "prod", "max", "min", "std", "var",
           "any", "all", "argmax", "argmin", "equal", "not_equal", "greater", "greater_equal", "less",
           "less_equal", "sigmoid", "tanh", "relu", "softmax", "softplus", "dot", "concatenate", "stack",
           "expand_dims", "squeeze", "reshape", "flatten", "zeros_like", "ones_like", "switch", "shape",
           "int_shape", "ndim", "get_value", "eval"]


def epsilon() -> float:
    """The fuzz factor Keras adds against division by zero (1e-7)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def floatx() -> str:
    return _FLOATX


def _t(x: Any) -> torch.Tensor:
    if torch.is_tensor(x):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64:
        array = array.astype(np.float32)  # Keras's floatx
    return torch.as_tensor(array)


def _dims(x: torch.Tensor, axis: int | Sequence[int] | None) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.dim()))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def cast(x: Any, dtype: str | torch.dtype) -> torch.Tensor:
    return _t(x).to(getattr(torch, dtype) if isinstance(dtype, str) else dtype)


def constant(value: Any, dtype: str | None = None) -> torch.Tensor:
    return cast(value, dtype or _FLOATX)


def abs(x: Any) -> torch.Tensor:  # noqa: A001 - Keras's name
    return torch.abs(_t(x))


def sqrt(x: Any) -> torch.Tensor:
    """Square root; negative inputs are clipped to 0 first, as Keras's backend does."""
    return torch.sqrt(torch.clamp(_t(x), min=0.0))


def square(x: Any) -> torch.Tensor:
    return torch.square(_t(x))


def exp(x: Any) -> torch.Tensor:
    return torch.exp(_t(x))


def log(x: Any) -> torch.Tensor:
    return torch.log(_t(x))


def pow(x: Any, a: Any) -> torch.Tensor:  # noqa: A001
    return torch.pow(_t(x), a)


def sign(x: Any) -> torch.Tensor:
    return torch.sign(_t(x))


def round(x: Any) -> torch.Tensor:  # noqa: A001
    return torch.round(_t(x))


def clip(x: Any, min_value: Any, max_value: Any) -> torch.Tensor:
    return torch.clamp(_t(x), min=min_value, max=max_value)


def maximum(x: Any, y: Any) -> torch.Tensor:
    x = _t(x)
    return torch.maximum(x, _t(y).to(x.dtype))


def minimum(x: Any, y: Any) -> torch.Tensor:
    x = _t(x)
    return torch.minimum(x, _t(y).to(x.dtype))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    return torch.mean(x if x.is_floating_point() else x.float(), dim=_dims(x, axis), keepdim=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    x = _t(x)
    return torch.sum(x, dim=_dims(x, axis), keepdim=keepdims)


def prod(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    return torch.prod(x) if axis is None else torch.prod(x, dim=axis, keepdim=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    x = _t(x)
    return torch.amax(x, dim=_dims(x, axis), keepdim=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    x = _t(x)
    return torch.amin(x, dim=_dims(x, axis), keepdim=keepdims)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance (Keras divides by N, not N - 1)."""
    x = _t(x)
    return torch.var(x, dim=_dims(x, axis), unbiased=False, keepdim=keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return torch.sqrt(var(x, axis, keepdims))


def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    x = _t(x).bool()
    return torch.amax(x, dim=_dims(x, axis), keepdim=keepdims)


def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    x = _t(x).bool()
    return torch.amin(x, dim=_dims(x, axis), keepdim=keepdims)


def argmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.argmax(_t(x), dim=axis)


def argmin(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.argmin(_t(x), dim=axis)


def equal(x: Any, y: Any) -> torch.Tensor:
    return torch.eq(_t(x), _t(y))


def not_equal(x: Any, y: Any) -> torch.Tensor:
    return torch.ne(_t(x), _t(y))


def greater(x: Any, y: Any) -> torch.Tensor:
    return torch.gt(_t(x), _t(y))


def greater_equal(x: Any, y: Any) -> torch.Tensor:
    return torch.ge(_t(x), _t(y))


def less(x: Any, y: Any) -> torch.Tensor:
    return torch.lt(_t(x), _t(y))


def less_equal(x: Any, y: Any) -> torch.Tensor:
    return torch.le(_t(x), _t(y))


def sigmoid(x: Any) -> torch.Tensor:
    return torch.sigmoid(_t(x))


def tanh(x: Any) -> torch.Tensor:
    return torch.tanh(_t(x))


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None) -> torch.Tensor:
    x = _t(x)
    out = torch.where(x > 0, x, alpha * x)
    return out if max_value is None else torch.clamp(out, max=max_value)


def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.softmax(_t(x), dim=axis)


def softplus(x: Any) -> torch.Tensor:
    return torch.nn.functional.softplus(_t(x))


def dot(x: Any, y: Any) -> torch.Tensor:
    return torch.matmul(_t(x), _t(y))


def concatenate(tensors: Sequence[Any], axis: int = -1) -> torch.Tensor:
    return torch.cat([_t(t) for t in tensors], dim=axis)


def stack(tensors: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.stack([_t(t) for t in tensors], dim=axis)


def expand_dims(x: Any, axis: int = -1) -> torch.Tensor:
    return torch.unsqueeze(_t(x), axis)


def squeeze(x: Any, axis: int) -> torch.Tensor:
    return torch.squeeze(_t(x), axis)


def reshape(x: Any, shape: Sequence[int]) -> torch.Tensor:
    return torch.reshape(_t(x), tuple(shape))


def flatten(x: Any) -> torch.Tensor:
    return torch.reshape(_t(x), (-1,))


def zeros_like(x: Any) -> torch.Tensor:
    return torch.zeros_like(_t(x))


def ones_like(x: Any) -> torch.Tensor:
    return torch.ones_like(_t(x))


def switch(condition: Any, then_expression: Any, else_expression: Any) -> torch.Tensor:
    return torch.where(_t(condition).bool(), _t(then_expression), _t(else_expression))


def shape(x: Any) -> tuple[int, ...]:
    return tuple(_t(x).shape)


int_shape = shape


def ndim(x: Any) -> int:
    return _t(x).dim()


def get_value(x: Any) -> np.ndarray:
    """A tensor (or an optimizer's learning rate tensor) as NumPy."""
    return _t(x).detach().cpu().numpy()


eval = get_value  # noqa: A001 - Keras's name


def __getattr__(name: str) -> Any:
    """TensorFlow names reached through the backend (``K.tf``, ``K.get_session()``, ``K.reduce_mean``...) fail
    with an error that says they are TensorFlow's, not Keras's, and what to use instead."""
    from ._tensorflow import tensorflow_name_error

    raise tensorflow_name_error("lstmkit.backend", name)
