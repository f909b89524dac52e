"""Keras activation names -> torch functions, with Keras 3's formulas.

Two hard sigmoids exist: Keras 3's ``hard_sigmoid`` is ``clip(x / 6 + 1/2, 0, 1)``; Keras <= 2.15 and
tf.keras used ``clip(0.2 x + 1/2, 0, 1)``, available here as ``hard_sigmoid_keras2`` (models saved by
Keras 2 need it).
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from .. import _validation
from .registry import Registry

Activation = Callable[[torch.Tensor], torch.Tensor]


def linear(x: torch.Tensor) -> torch.Tensor:
    return x


def tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x)


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3: ``clip(x / 6 + 0.5, 0, 1)`` (torch's hardsigmoid has the same formula)."""
    return F.hardsigmoid(x)


def hard_sigmoid_keras2(x: torch.Tensor) -> torch.Tensor:
    """Keras <= 2.15 / tf.keras: ``clip(0.2 * x + 0.5, 0, 1)``."""
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


def relu(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, 0.0, 6.0)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    """Keras 3's default negative slope is 0.2."""
    return F.leaky_relu(x, negative_slope=0.2)


def elu(x: torch.Tensor) -> torch.Tensor:
    return F.elu(x)


def selu(x: torch.Tensor) -> torch.Tensor:
    return F.selu(x)


def softsign(x: torch.Tensor) -> torch.Tensor:
    return F.softsign(x)


def softplus(x: torch.Tensor) -> torch.Tensor:
    return F.softplus(x)


def exponential(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


def gelu(x: torch.Tensor) -> torch.Tensor:
    """Keras's default is the tanh approximation (``approximate=True``)."""
    return F.gelu(x, approximate="tanh")


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    return x * F.hardsigmoid(x)


def mish(x: torch.Tensor) -> torch.Tensor:
    return F.mish(x)


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=-1)


def log_softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.log_softmax(x, dim=-1)


def _unknown(owner: str, name: str) -> ValueError:
    return _validation.value_error(owner, "`activation`", "one of " + ", ".join(sorted(REGISTRY.builtins)),
                                   repr(name), "Pass a known name or a callable.")


# Names are exact (Keras's activations are snake-case functions); a name lstmkit lacks may be a custom
# activation the caller allowed while loading a file (custom_objects, custom_object_scope).
REGISTRY = Registry("activation", "keras.activations", None, (
    linear, tanh, sigmoid, hard_sigmoid, hard_sigmoid_keras2, relu, relu6, leaky_relu, elu, selu, softsign,
    softplus, exponential, silu, gelu, hard_silu, mish, softmax, log_softmax),
    aliases={"swish": silu, "hard_swish": hard_silu}, fold=None, unknown=_unknown)


def get(identifier: str | Activation | None) -> Activation:
    """Return the activation function for a Keras name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):  # Keras's serialized form of a function (or of a class by name)
        found = identifier.get("config") if identifier.get("class_name") == "function" else None
        if not isinstance(found, str):
            found = identifier.get("class_name") if isinstance(identifier.get("class_name"), str) else None
        if found is None:
            raise _validation.value_error("activations.get", "`activation`", 'a name or {"class_name": ..., '
                                          '"config": ...}', repr(identifier)[:200])
        identifier = found
    if isinstance(identifier, str):
        found = REGISTRY.find(identifier)
        if not callable(found):
            raise REGISTRY.unknown("activations.get", identifier)
        return found
    if callable(identifier):
        return identifier
    raise _validation.type_error("activations.get", "`activation`", "a name, a callable or None",
                                 f"{identifier!r} of type {type(identifier).__name__}")


def serialize(fn: Activation) -> str:
    """Keras writes built-in activations by name; a custom callable is written by its ``__name__``."""
    return REGISTRY.name_of(fn) or getattr(fn, "__name__", repr(fn))


def deserialize(name: str) -> Activation:
    return get(name)


__all__ = sorted(REGISTRY.builtins) + ["get", "serialize", "deserialize"]
