"""Keras 3 weight regularizers on torch: ``reg(weight) -> scalar tensor`` added to the training loss.

Penalties are Keras's: ``L1``: ``l1 * sum(|w|)``; ``L2``: ``l2 * sum(w ** 2)`` (no 1/2 factor, unlike
torch's ``weight_decay``); ``L1L2``: both; ``OrthogonalRegularizer``: mean absolute cosine between
distinct rows (or columns), times ``factor / 2``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import torch

from .. import _validation
from .registry import Registry, WeightFunction
from .serialization import ArgumentConfig

_MODULE = "keras.regularizers"
_EPSILON = 1e-7  # keras.config.epsilon()


def _factor(owner: str, name: str, value: Any, default: float) -> float:
    """A non-negative finite float (None -> ``default``, as Keras)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _validation.type_error(owner, f"`{name}`", "a non-negative float",
                                     f"{value!r} of type {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise _validation.value_error(owner, f"`{name}`", "a non-negative finite float", repr(value),
                                      f"Use e.g. {name}=0.01; 0 disables the penalty.")
    return float(value)


def _tensor(weight: Any) -> torch.Tensor:
    return weight if isinstance(weight, torch.Tensor) else torch.as_tensor(weight, dtype=torch.float32)


class Regularizer(ArgumentConfig):
    """Base class: ``__call__(weight) -> scalar tensor``; configurable like Keras."""

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        return torch.zeros((), dtype=_tensor(weight).dtype)

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``; a zero factor's term is skipped (as Keras)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _factor("L1L2", "l1", l1, 0.0)
        self.l2 = _factor("L1L2", "l2", l2, 0.0)

    def __call__(self, weight):
        w = _tensor(weight)
        penalty = torch.zeros((), dtype=w.dtype, device=w.device)
        if self.l1 != 0.0:
            penalty = penalty + self.l1 * torch.sum(torch.abs(w))
        if self.l2 != 0.0:
            penalty = penalty + self.l2 * torch.sum(torch.square(w))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|w|)``."""

    def __init__(self, l1: float = 0.01):
        self.l1 = _factor("L1", "l1", l1, 0.01)

    def __call__(self, weight):
        return self.l1 * torch.sum(torch.abs(_tensor(weight)))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(w ** 2)``."""

    def __init__(self, l2: float = 0.01):
        self.l2 = _factor("L2", "l2", l2, 0.01)

    def __call__(self, weight):
        return self.l2 * torch.sum(torch.square(_tensor(weight)))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (``mode="rows"``) or columns of a 2-D weight towards orthogonality.

    Rows are L2-normalised as Keras's ``normalize`` (``x * min(rsqrt(sum x^2), 1/eps)``); the penalty is
    ``factor * 0.5 * sum(|P - diag(P)|) / (n (n - 1) / 2)`` for the ``n x n`` Gram matrix ``P``.
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _factor("OrthogonalRegularizer", "factor", factor, 0.01)
        self.mode = _validation.choice("OrthogonalRegularizer", "mode", mode, ("rows", "columns"))

    def __call__(self, weight):
        w = _tensor(weight)
        if w.dim() != 2:
            raise _validation.value_error("OrthogonalRegularizer", "the weight", "a 2-D matrix",
                                          _validation.describe_array(w))
        if self.mode == "columns":
            w = w.T
        inv_norm = torch.clamp(torch.rsqrt(torch.sum(torch.square(w), dim=1, keepdim=True)),
                               max=1.0 / _EPSILON)
        w = w * inv_norm
        size = w.shape[0]
        if size < 2:  # no pairs: Keras divides 0 by 0 (NaN); no penalty is the meaningful answer
            return torch.zeros((), dtype=w.dtype, device=w.device)
        product = w @ w.T
        off_diagonal = product * (1.0 - torch.eye(size, dtype=w.dtype, device=w.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras's lowercase aliases are the classes themselves.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer


class _CallableRegularizer(WeightFunction, Regularizer):
    """Wraps a plain ``fn(weight) -> scalar`` so it works where a Regularizer is expected."""

    label = "Regularizer"


_CLASSES = (L1, L2, L1L2, OrthogonalRegularizer)
REGISTRY = Registry("regularizer", _MODULE, Regularizer, _CLASSES, wrap=_CallableRegularizer)


def get(identifier: Any) -> Regularizer | None:
    """A Regularizer from None, a name, Keras's serialized dict, an instance, a class or a callable.

    The name ``"l1_l2"`` gives ``L1L2(l1=0.01, l2=0.01)`` as Keras documents for string identifiers;
    ``"L1L2"`` gives the class defaults (0, 0), as Keras 3 does.
    """
    if isinstance(identifier, str) and identifier == "l1_l2":
        return L1L2(l1=0.01, l2=0.01)
    return REGISTRY.get(identifier, "regularizers.get")


def serialize(regularizer: Regularizer | Callable | None) -> dict | None:
    """Keras's form: ``{"module": "keras.regularizers", "class_name", "config", "registered_name": None}``."""
    return REGISTRY.serialize_or_function(regularizer, "regularizers.serialize")


def deserialize(obj: Any) -> Regularizer | None:
    """Inverse of ``serialize`` (also accepts names)."""
    return get(obj)


__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
           "orthogonal_regularizer", "get", "serialize", "deserialize"]
