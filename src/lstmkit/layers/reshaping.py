"""Keras 3's reshaping layers: ``Flatten``, ``Reshape``, ``RepeatVector``, ``Permute``, ``ZeroPadding1D``,
``Cropping1D``, ``UpSampling1D``. None has weights; none
passes a mask on (Keras's default for layers that do not override ``compute_mask``)."""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

import torch

from .. import _validation
from .base import Layer, unique_name
from .core import owner_of, to_tensor

DATA_FORMATS = ("channels_last", "channels_first")


def data_format_argument(owner: str, data_format: Any) -> str:
    """Keras's ``standardize_data_format``: None -> ``"channels_last"``; case-insensitive."""
    if data_format is None:
        return "channels_last"
    value = data_format.lower() if isinstance(data_format, str) else data_format
    return _validation.choice(owner, "data_format", value, DATA_FORMATS)


class Flatten(Layer):
    """``(batch, d1, d2, ...)`` -> ``(batch, d1 * d2 * ...)``; ``(batch,)`` -> ``(batch, 1)``.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``; channels-first inputs
            ``(batch, channels, ...)`` are moved to channels-last before flattening, as Keras does.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = data_format_argument(type(self).__name__, data_format)

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        self.maybe_build(tuple(x.shape))
        if x.ndim == 0:
            raise _validation.value_error(owner_of(self), "input", "at least a batch axis",
                                          "a scalar (0-D)")
        if self.data_format == "channels_first" and x.ndim > 2:
            x = x.permute(0, *range(2, x.ndim), 1)
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        rest = tuple(input_shape)[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """``(batch, ...)`` -> ``(batch, *target_shape)``; one entry of ``target_shape`` may be -1 (inferred).

    Args:
        target_shape: the shape without the batch axis; the number of values per sample must match.
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        self.target_shape = _target_shape(type(self).__name__, target_shape)
        self.built = True  # no weights: Keras builds it at construction

    def resolve(self, sample_shape: Sequence[int | None]) -> tuple:
        """``target_shape`` with the -1 worked out for one sample of ``sample_shape`` (None if unknown)."""
        sample_shape = tuple(sample_shape)
        if any(d is None for d in sample_shape):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = math.prod(sample_shape)
        known = math.prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise self._size_error(sample_shape, size, f"a multiple of {known} values")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if size != known:
            raise self._size_error(sample_shape, size, f"{known} values")
        return self.target_shape

    def _size_error(self, sample_shape: tuple, size: int, expected: str) -> ValueError:
        return _validation.value_error(
            owner_of(self), "input", f"{expected} per sample to fill target_shape {self.target_shape}",
            f"{size} values per sample (shape {sample_shape} after the batch axis)",
            "Choose a target_shape whose sizes multiply to the input's, or use -1 for one of them.")

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        return x.reshape(x.shape[0], *self.resolve(x.shape[1:]))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self.resolve(tuple(input_shape)[1:]))

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


def _target_shape(owner: str, target_shape: Any) -> tuple[int, ...]:
    if isinstance(target_shape, (str, bytes)) or not isinstance(target_shape, (list, tuple)):
        raise _validation.type_error(owner, "`target_shape`", "a tuple of integers (without the batch "
                                     "axis)", repr(target_shape), "Use e.g. Reshape((3, 4)).")
    for d in target_shape:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral) or (d <= 0 and d != -1):
            raise _validation.value_error(owner, "`target_shape`", "positive integers and at most one -1",
                                          repr(tuple(target_shape)))
    if list(target_shape).count(-1) > 1:
        raise _validation.value_error(owner, "`target_shape`", "at most one -1 (one inferred size)",
                                      repr(tuple(target_shape)))
    return tuple(int(d) for d in target_shape)


class RepeatVector(Layer):
    """``(batch, features)`` -> ``(batch, n, features)``: the input repeated ``n`` times along a new
    time axis (the bridge from an encoder's last output to a sequence decoder).

    Args:
        n: number of repetitions (time steps of the output).
    """

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.n = _validation.positive_int(type(self).__name__, "n", n)

    def _check_rank(self, shape: tuple, what: str) -> None:
        if len(shape) != 2:
            fix = ("A sequence input (batch, timesteps, features) is already repeated over time; to "
                   "repeat the last step use x[:, -1], or Flatten() first." if len(shape) == 3 else
                   "Reshape the input to (batch, features).")
            raise _validation.value_error(owner_of(self), "input", "shape (batch, features)", what, fix)

    def check_input_shape(self, shape: Any, producers: list) -> None:
        """Symbolic calls: reject a wrong rank before building."""
        self._check_rank(tuple(shape), f"shape {tuple(shape)}")

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        self._check_rank(tuple(x.shape), _validation.describe_array(x))
        self.maybe_build(tuple(x.shape))
        return x.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        self._check_rank(tuple(input_shape), f"shape {tuple(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config


# -- Permute, ZeroPadding1D, Cropping1D, UpSampling1D ----------------------------------------------
def _pair(owner: str, name: str, value: Any) -> tuple[int, int]:
    """Keras's ``standardize_tuple(value, 2, allow_zero=True)``: an int ``n`` -> ``(n, n)``."""
    items = (value, value) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or len(items) != 2 or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0 for v in items):
        raise _validation.value_error(owner, f"`{name}`", "a non-negative integer or a tuple of 2 of them "
                                      "(before, after)", repr(value))
    return int(items[0]), int(items[1])


def _check_rank3(owner: str, shape: tuple, received: str) -> None:
    if len(shape) != 3:
        raise _validation.value_error(owner, "input", "a 3-D input (batch, steps, features)", received)


class Permute(Layer):
    """Reorders the axes after the batch axis: ``dims`` is a permutation of ``1..rank-1``.
    ``Permute((2, 1))``: ``(batch, steps, features)`` -> ``(batch, features, steps)``. Drops the mask."""

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(dims, (str, bytes)) or not isinstance(dims, (list, tuple)) or any(
                isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in dims):
            raise _validation.type_error(owner, "`dims`", "a tuple of integers", repr(dims))
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise _validation.value_error(owner, "`dims`", "a permutation of 1..n (the batch axis 0 stays "
                                          "first)", repr(tuple(dims)), "Use e.g. Permute((2, 1)).")
        self.dims = tuple(int(d) for d in dims)

    def _check(self, shape: tuple) -> None:
        if len(shape) != len(self.dims) + 1:
            raise _validation.value_error(owner_of(self), "input", f"rank {len(self.dims) + 1} (batch + "
                                          f"{len(self.dims)} axes for dims={self.dims})", f"shape {shape}")

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        self._check(tuple(x.shape))
        self.maybe_build(tuple(x.shape))
        return x.permute(0, *self.dims)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        self._check(input_shape)
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class ZeroPadding1D(Layer):
    """Adds zeros before and after the time axis: ``(batch, steps, features)`` ->
    ``(batch, before + steps + after, features)``. Drops the mask.

    Args:
        padding: int (both sides) or ``(before, after)``; default 1.
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` (steps on axis 2).
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name("zero_padding1d")
        super().__init__(**kwargs)
        self.padding = _pair(type(self).__name__, "padding", padding)
        self.data_format = data_format_argument(type(self).__name__, data_format)

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        _check_rank3(owner_of(self), tuple(x.shape), _validation.describe_array(x))
        self.maybe_build(tuple(x.shape))
        if self.data_format == "channels_first":
            return torch.nn.functional.pad(x, self.padding)
        return torch.nn.functional.pad(x, (0, 0, *self.padding))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        out = list(input_shape)
        _check_rank3(owner_of(self), tuple(out), f"shape {tuple(out)}")
        axis = 2 if self.data_format == "channels_first" else 1
        if out[axis] is not None:
            out[axis] += sum(self.padding)
        return tuple(out)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"padding": list(self.padding), "data_format": self.data_format})
        return config


class Cropping1D(Layer):
    """Removes steps from the start and end of the time axis: ``(batch, steps, features)`` ->
    ``(batch, steps - before - after, features)``. Drops the mask.

    Args:
        cropping: int (both sides) or ``(before, after)``; default ``(1, 1)``.
    """

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name("cropping1d")
        super().__init__(**kwargs)
        self.cropping = _pair(type(self).__name__, "cropping", cropping)

    def _length(self, steps: int | None, shape: tuple) -> int | None:
        if steps is None:
            return None
        if steps - sum(self.cropping) <= 0:
            raise _validation.value_error(owner_of(self), "input", f"more than {sum(self.cropping)} steps "
                                          f"(cropping={self.cropping})", f"shape {shape}",
                                          "Crop less, or feed longer sequences.")
        return steps - sum(self.cropping)

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        _check_rank3(owner_of(self), tuple(x.shape), _validation.describe_array(x))
        self._length(x.shape[1], tuple(x.shape))
        self.maybe_build(tuple(x.shape))
        return x[:, self.cropping[0]:x.shape[1] - self.cropping[1], :]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        _check_rank3(owner_of(self), shape, f"shape {shape}")
        return (shape[0], self._length(shape[1], shape), shape[2])

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = list(self.cropping)
        return config


class UpSampling1D(Layer):
    """Repeats each step ``size`` times along the time axis: ``(batch, steps, features)`` ->
    ``(batch, steps * size, features)`` (``[a, b]`` -> ``[a, a, b, b]`` for size 2). Drops the mask.

    Args:
        size: positive int, default 2.
    """

    def __init__(self, size: int = 2, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name("up_sampling1d")
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, numbers.Integral):
            raise _validation.type_error(type(self).__name__, "`size`", "a positive integer", repr(size))
        self.size = _validation.positive_int(type(self).__name__, "size", size)

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        _check_rank3(owner_of(self), tuple(x.shape), _validation.describe_array(x))
        self.maybe_build(tuple(x.shape))
        return torch.repeat_interleave(x, self.size, dim=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = tuple(input_shape)
        _check_rank3(owner_of(self), shape, f"shape {shape}")
        return (shape[0], None if shape[1] is None else shape[1] * self.size, shape[2])

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size
        return config
