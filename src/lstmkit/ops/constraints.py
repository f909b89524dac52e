"""Keras 3 weight constraints on torch: ``c(w) -> w'``, applied to a weight after each optimizer step.

Norms are taken over ``axis`` (default 0: for a Dense/LSTM kernel ``(input_dim, units)`` that is the
incoming-weight vector of each unit). Formulas and the epsilon (``1e-7``, added to the norm in the
denominator) are Keras's. ``apply_constraints(module)`` is what the training loop calls.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

import torch

from .. import _validation
from .registry import Registry, WeightFunction
from .serialization import ArgumentConfig

_MODULE = "keras.constraints"
_EPSILON = 1e-7  # keras.config.epsilon()


def _real(owner: str, name: str, value: Any, low: float | None = None, high: float | None = None) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise _validation.type_error(owner, f"`{name}`", "a finite real number",
                                     f"{value!r} of type {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"a number in [{low}, {high}]" if high is not None else f"a number >= {low}"
        raise _validation.value_error(owner, f"`{name}`", bounds, repr(value))
    return value


def _axis(owner: str, axis: Any) -> int | list[int]:
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
        return [int(a) for a in axis]
    raise _validation.type_error(owner, "`axis`", "an int or a non-empty list of ints", repr(axis))


def _norms(owner: str, w: torch.Tensor, axis: int | list[int]) -> torch.Tensor:
    """``sqrt(sum(w ** 2, axis, keepdims=True))``, with a clear error for an axis out of range."""
    dims = [axis] if isinstance(axis, int) else list(axis)
    if any(not -w.dim() <= d < w.dim() for d in dims):
        raise _validation.value_error(owner, "`axis`", f"axes of a {w.dim()}-D weight", repr(axis),
                                      "Use axis=0 for a (input_dim, units) kernel.")
    return torch.sqrt(torch.sum(torch.square(w), dim=dims, keepdim=True))


def _tensor(w: Any) -> torch.Tensor:
    return w if isinstance(w, torch.Tensor) else torch.as_tensor(w, dtype=torch.float32)


class Constraint(ArgumentConfig):
    """Base class: ``__call__(w) -> w'`` (same shape); the identity here. Configurable like Keras."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        return {}


class MaxNorm(Constraint):
    """Rescale each slice whose norm over ``axis`` exceeds ``max_value``: ``w * clip(n, 0, m) / (eps + n)``."""

    def __init__(self, max_value: float = 2, axis: int | list[int] = 0):
        self.max_value = _real("MaxNorm", "max_value", max_value, low=0)
        self.axis = _axis("MaxNorm", axis)

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms("MaxNorm", w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """``max(w, 0)``."""

    def __call__(self, w):
        return torch.clamp(_tensor(w), min=0)


class UnitNorm(Constraint):
    """``w / (eps + norm(w, axis))``: unit norm slices over ``axis``."""

    def __init__(self, axis: int | list[int] = 0):
        self.axis = _axis("UnitNorm", axis)

    def __call__(self, w):
        w = _tensor(w)
        return w / (_EPSILON + _norms("UnitNorm", w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move norms over ``axis`` towards ``[min_value, max_value]``.

    ``desired = rate * clip(n, min_value, max_value) + (1 - rate) * n``; ``w * desired / (eps + n)``.
    ``rate=1`` enforces strictly; ``rate < 1`` moves part of the way each step.
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | list[int] = 0):
        self.min_value = _real("MinMaxNorm", "min_value", min_value, low=0)
        self.max_value = _real("MinMaxNorm", "max_value", max_value, low=0)
        if self.min_value > self.max_value:
            raise _validation.value_error("MinMaxNorm", "`min_value` and `max_value`",
                                          "min_value <= max_value",
                                          f"min_value={min_value!r}, max_value={max_value!r}")
        self.rate = _real("MinMaxNorm", "rate", rate, low=0, high=1)
        self.axis = _axis("MinMaxNorm", axis)

    def __call__(self, w):
        w = _tensor(w)
        norms = _norms("MinMaxNorm", w, self.axis)
        desired = (self.rate * torch.clamp(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras's lowercase aliases are the classes themselves.
max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm


class _CallableConstraint(WeightFunction, Constraint):
    """Wraps a plain ``fn(w) -> w'`` so it works where a Constraint is expected."""

    label = "Constraint"


_CLASSES = (MaxNorm, NonNeg, UnitNorm, MinMaxNorm)
REGISTRY = Registry("constraint", _MODULE, Constraint, _CLASSES, wrap=_CallableConstraint)


def get(identifier: Any) -> Constraint | None:
    """A Constraint from None, a name, Keras's serialized dict, an instance, a class or a callable."""
    return REGISTRY.get(identifier, "constraints.get")


def serialize(constraint: Constraint | Callable | None) -> dict | None:
    """Keras's form: ``{"module": "keras.constraints", "class_name", "config", "registered_name": None}``."""
    return REGISTRY.serialize_or_function(constraint, "constraints.serialize")


def deserialize(obj: Any) -> Constraint | None:
    """Inverse of ``serialize`` (also accepts names)."""
    return get(obj)


def constrained_parameters(module: torch.nn.Module) -> list[tuple[torch.nn.Parameter, Any]]:
    """Every ``(parameter, constraint)`` pair in ``module``, found once so a training loop can reuse it.

    A submodule opts in with a dict ``_constraints`` mapping a parameter name (its own, as in
    ``named_parameters(recurse=False)``, or dotted) to a Constraint or callable; ``None`` entries are skipped.
    """
    pairs = []
    for sub in module.modules():
        constraints = getattr(sub, "_constraints", None)
        if not isinstance(constraints, dict):
            continue
        for name, constraint in constraints.items():
            if constraint is None:
                continue
            try:
                pairs.append((sub.get_parameter(name), constraint))
            except AttributeError:
                raise _validation.value_error(
                    "apply_constraints", f"`_constraints` of {type(sub).__name__}",
                    "names of that module's parameters", repr(name),
                    "Key `_constraints` by the parameter's attribute name.") from None
    return pairs


def project(pairs: list[tuple[torch.nn.Parameter, Any]]) -> None:
    """Replace each parameter by its constraint's projection, in place."""
    if not pairs:
        return
    with torch.no_grad():
        for param, constraint in pairs:
            param.copy_(constraint(param))


def apply_constraints(module: torch.nn.Module) -> None:
    """Project every constrained parameter of ``module`` in place (call after each optimizer step)."""
    project(constrained_parameters(module))


__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg",
           "unit_norm", "min_max_norm", "get", "serialize", "deserialize", "apply_constraints",
           "constrained_parameters", "project"]
