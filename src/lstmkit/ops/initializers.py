"""Keras 3 weight initializers on torch: same class names, config keys, distributions and fan rules.

An initializer is called as ``init(shape, dtype=None)`` and returns a CPU tensor (float32 by default).
Seeding: ``seed=None`` draws from torch's global RNG (``torch.manual_seed`` makes it reproducible);
an int seed uses a private ``torch.Generator`` seeded afresh on every call, so a seeded initializer
returns the same values each time it is called (as Keras 3 documents).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .. import _validation
from .registry import Registry, WrappedFunction
from .serialization import ArgumentConfig

_MODULE = "keras.initializers"
_TRUNCATED_STD = 0.87962566103423978  # std of a standard normal truncated to (-2, 2)


def _shape(owner: str, shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise _validation.type_error(owner, "`shape`", "a tuple of non-negative integers",
                                     repr(shape)) from None
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise _validation.value_error(owner, "`shape`", "a tuple of non-negative integers", repr(shape))
    return tuple(int(d) for d in dims)


def _dtype(owner: str, dtype: Any, floating: bool = True) -> torch.dtype:
    """``None`` -> float32; accepts a ``torch.dtype`` or its name (``"float64"``)."""
    if dtype is None:
        return torch.float32
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None) if not dtype.startswith("_") else None
    if not isinstance(dtype, torch.dtype):
        raise _validation.type_error(owner, "`dtype`", "a torch dtype or its name such as 'float32'",
                                     repr(dtype))
    if floating and not dtype.is_floating_point:
        raise _validation.type_error(owner, "`dtype`", "a floating-point dtype", repr(dtype),
                                     "Random initializers draw real numbers; use e.g. 'float32'.")
    return dtype


def _draw_dtype(dtype: torch.dtype) -> torch.dtype:
    """Draw in float64 when asked for it, else float32 (then cast), so every dtype gets the same stream."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _number(owner: str, name: str, value: Any, nonnegative: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise _validation.type_error(owner, f"`{name}`", "a finite real number",
                                     f"{value!r} of type {type(value).__name__}")
    if nonnegative and value < 0:
        raise _validation.value_error(owner, f"`{name}`", "a non-negative number", repr(value))
    return value


def _seed(owner: str, seed: Any) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise _validation.type_error(owner, "`seed`", "an integer or None",
                                     f"{seed!r} of type {type(seed).__name__}",
                                     "Keras's SeedGenerator objects are not supported; pass an int.")
    return int(seed)


def _axes(owner: str, name: str, axes: Any) -> list[int] | None:
    if axes is None:
        return None
    if isinstance(axes, numbers.Integral) and not isinstance(axes, bool):
        return [int(axes)]
    if not isinstance(axes, (list, tuple)) or not all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
        raise _validation.type_error(owner, f"`{name}`", "None or a list of integer axes", repr(axes))
    return [int(a) for a in axes]


def compute_fans(shape: Sequence[int], input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras's ``compute_fans``.

    With both ``input_axes`` and ``output_axes`` given: products of those axes' sizes. Otherwise
    1-D ``(n,)`` -> ``(n, n)``; 2-D ``(in, out)``; more dims ``(k..., in, out)`` -> both times ``prod(k)``.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        try:
            fan_in = math.prod(shape[a] for a in input_axes)
            fan_out = math.prod(shape[a] for a in output_axes)
        except IndexError:
            raise _validation.value_error(
                "compute_fans", "`input_axes`/`output_axes`", f"axes within a rank-{len(shape)} shape",
                f"input_axes={list(input_axes)}, output_axes={list(output_axes)} for shape {shape}"
            ) from None
        return int(fan_in), int(fan_out)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = math.prod(shape[:-2])
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


def _truncated_standard_normal(shape: tuple[int, ...], dtype: torch.dtype,
                               generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal restricted to (-2, 2): out-of-range draws are redrawn until none remain."""
    x = torch.randn(shape, dtype=dtype, generator=generator)
    bad = x.abs() >= 2.0
    while bool(bad.any()):
        x[bad] = torch.randn(int(bad.sum()), dtype=dtype, generator=generator)
        bad = x.abs() >= 2.0
    return x


class Initializer(ArgumentConfig):
    """Base class: ``__call__(shape, dtype=None) -> torch.Tensor``; configurable like Keras."""

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None).")

    def get_config(self) -> dict:
        return {}

    def clone(self) -> "Initializer":
        return type(self).from_config(self.get_config())


class _RandomInitializer(Initializer):
    """Holds the seed: ``None`` -> torch's global RNG; int -> a generator re-seeded on each call."""

    def __init__(self, seed: int | None = None):
        self.seed = _seed(type(self).__name__, seed)

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(self.seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return torch.zeros(_shape("Zeros", shape), dtype=_dtype("Zeros", dtype, floating=False))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return torch.ones(_shape("Ones", shape), dtype=_dtype("Ones", dtype, floating=False))


class Constant(Initializer):
    """Every entry equal to the scalar ``value``."""

    def __init__(self, value: float = 0.0):
        if isinstance(value, (np.generic, torch.Tensor)) and np.ndim(value) == 0:
            value = value.item()
        if not isinstance(value, numbers.Real):
            raise _validation.type_error("Constant", "`value`", "a real Python scalar",
                                         f"{value!r} of type {type(value).__name__}",
                                         "Keras's Constant only takes scalars.")
        self.value = value

    def __call__(self, shape, dtype=None):
        return torch.full(_shape("Constant", shape), self.value,
                          dtype=_dtype("Constant", dtype, floating=False))

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """``gain * eye(rows, cols)``; 2-D shapes only (Keras also uses ``eye(N, M)`` for non-square)."""

    def __init__(self, gain: float = 1.0):
        self.gain = _number("Identity", "gain", gain)

    def __call__(self, shape, dtype=None):
        shape = _shape("Identity", shape)
        if len(shape) != 2:
            raise _validation.value_error("Identity", "`shape`", "a 2-D shape (rows, cols)",
                                          f"{shape} of rank {len(shape)}",
                                          "Use Orthogonal for kernels of other ranks.")
        return self.gain * torch.eye(*shape, dtype=_dtype("Identity", dtype))

    def get_config(self):
        return {"gain": self.gain}


class RandomNormal(_RandomInitializer):
    """Normal(mean, stddev)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = _number("RandomNormal", "mean", mean)
        self.stddev = _number("RandomNormal", "stddev", stddev, nonnegative=True)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype("RandomNormal", dtype)
        x = torch.randn(_shape("RandomNormal", shape), dtype=_draw_dtype(dtype), generator=self._generator())
        return (x * self.stddev + self.mean).to(dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(_RandomInitializer):
    """Normal(mean, stddev) with draws beyond 2 stddev redrawn; the result's std is ~0.88 stddev."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        self.mean = _number("TruncatedNormal", "mean", mean)
        self.stddev = _number("TruncatedNormal", "stddev", stddev, nonnegative=True)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype("TruncatedNormal", dtype)
        x = _truncated_standard_normal(_shape("TruncatedNormal", shape), _draw_dtype(dtype),
                                       self._generator())
        return (x * self.stddev + self.mean).to(dtype)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(_RandomInitializer):
    """Uniform on ``[minval, maxval)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        self.minval = _number("RandomUniform", "minval", minval)
        self.maxval = _number("RandomUniform", "maxval", maxval)
        if self.minval > self.maxval:
            raise _validation.value_error("RandomUniform", "`minval` and `maxval`", "minval <= maxval",
                                          f"minval={minval!r}, maxval={maxval!r}", "Swap them.")
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        dtype = _dtype("RandomUniform", dtype)
        x = torch.rand(_shape("RandomUniform", shape), dtype=_draw_dtype(dtype), generator=self._generator())
        return (x * (self.maxval - self.minval) + self.minval).to(dtype)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class VarianceScaling(_RandomInitializer):
    """Variance ``scale / n`` with ``n`` = fan_in, fan_out or their mean (``mode``).

    ``truncated_normal``: std ``sqrt(scale / n) / 0.8796...`` before the 2-std cut (so ``sqrt(scale / n)``
    after); ``untruncated_normal``: std ``sqrt(scale / n)``; ``uniform``: ``[-l, l)``, ``l = sqrt(3 scale / n)``.
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        owner = type(self).__name__
        scale = _number(owner, "scale", scale)
        if scale <= 0:
            raise _validation.value_error(owner, "`scale`", "a positive float", repr(scale))
        self.scale = scale
        self.mode = _validation.choice(owner, "mode", mode, self._MODES)
        if isinstance(distribution, str):
            distribution = distribution.lower()
            distribution = "truncated_normal" if distribution == "normal" else distribution  # Keras 2 name
        self.distribution = _validation.choice(owner, "distribution", distribution, self._DISTRIBUTIONS)
        self.input_axes = _axes(owner, "input_axes", input_axes)
        self.output_axes = _axes(owner, "output_axes", output_axes)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        owner = type(self).__name__
        shape, dtype = _shape(owner, shape), _dtype(owner, dtype)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        draw, gen = _draw_dtype(dtype), self._generator()
        if self.distribution == "truncated_normal":
            x = _truncated_standard_normal(shape, draw, gen) * (math.sqrt(scale) / _TRUNCATED_STD)
        elif self.distribution == "untruncated_normal":
            x = torch.randn(shape, dtype=draw, generator=gen) * math.sqrt(scale)
        else:
            limit = math.sqrt(3.0 * scale)
            x = torch.rand(shape, dtype=draw, generator=gen) * (2.0 * limit) - limit
        return x.to(dtype)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset; its config is only ``seed``, ``input_axes``, ``output_axes`` (Keras 3.15)."""

    _PRESET: tuple[float, str, str] = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed: int | None = None, input_axes: Sequence[int] | None = None,
                 output_axes: Sequence[int] | None = None):
        scale, mode, distribution = self._PRESET
        super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform ``[-l, l)``, ``l = sqrt(6 / (fan_in + fan_out))``."""
    _PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with std ``sqrt(2 / (fan_in + fan_out))``."""
    _PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform ``[-l, l)``, ``l = sqrt(6 / fan_in)``."""
    _PRESET = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with std ``sqrt(2 / fan_in)``."""
    _PRESET = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform ``[-l, l)``, ``l = sqrt(3 / fan_in)``."""
    _PRESET = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with std ``sqrt(1 / fan_in)``."""
    _PRESET = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """``gain`` times an orthogonal matrix, reshaped to ``shape`` (rank >= 2).

    Keras 3's algorithm: flatten to ``(prod(shape[:-1]), shape[-1])``, QR-factor a normal matrix of shape
    ``(max, min)`` of those, fix signs by ``sign(diag(r))``, transpose when rows < cols. The result has
    orthonormal rows when rows < cols, orthonormal columns otherwise.
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain = _number("Orthogonal", "gain", gain)
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape("Orthogonal", shape), _dtype("Orthogonal", dtype)
        if len(shape) < 2:
            raise _validation.value_error("Orthogonal", "`shape`", "a shape of rank >= 2",
                                          f"{shape} of rank {len(shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.randn((max(rows, cols), min(rows, cols)), dtype=_draw_dtype(dtype),
                        generator=self._generator())
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(dtype)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


class _CallableInitializer(WrappedFunction, Initializer):
    """Wraps a plain ``fn(shape, dtype) -> array`` so it works where an Initializer is expected."""

    label = "Initializer"

    def __call__(self, shape, dtype=None):
        torch_dtype = _dtype("initializers.get", dtype, floating=False)
        out = self.fn(_shape("initializers.get", shape), dtype)
        if isinstance(out, torch.Tensor):
            return out if dtype is None else out.to(torch_dtype)
        return torch.as_tensor(np.asarray(out), dtype=torch_dtype)


_CLASSES = (Zeros, Ones, Constant, Identity, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling,
            GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, Orthogonal)
REGISTRY = Registry("initializer", _MODULE, Initializer, _CLASSES, wrap=_CallableInitializer, aliases={
    "normal": RandomNormal, "uniform": RandomUniform, "one": Ones, "zero": Zeros,  # Keras 3's aliases
    "IdentityInitializer": Identity, "OrthogonalInitializer": Orthogonal,
})


def get(identifier: Any) -> Initializer | None:
    """An Initializer from None, a name, Keras's serialized dict, an instance, a class or a callable."""
    return REGISTRY.get(identifier, "initializers.get")


def serialize(initializer: Initializer | Callable | None) -> dict | None:
    """Keras's form: ``{"module": "keras.initializers", "class_name", "config", "registered_name": None}``."""
    return REGISTRY.serialize_or_function(initializer, "initializers.serialize")


def deserialize(obj: Any) -> Initializer | None:
    """Inverse of ``serialize`` (also accepts names)."""
    return get(obj)


__all__ = ["Initializer", *[cls.__name__ for cls in _CLASSES], "compute_fans", "get", "serialize",
           "deserialize"]
