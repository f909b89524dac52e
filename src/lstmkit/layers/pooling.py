"""Keras 3's 1-D pooling layers: ``MaxPooling1D``, ``AveragePooling1D``, ``GlobalMaxPooling1D``,
``GlobalAveragePooling1D`` (and Keras's aliases ``MaxPool1D``, ``AvgPool1D``, ``GlobalMaxPool1D``,
``GlobalAvgPool1D``). None has weights; Keras builds them at construction (no ``build_config``).

Semantics (Keras 3.15.1, TensorFlow padding):

- ``strides=None`` means ``strides = pool_size``.
- ``padding="valid"``: windows inside the input only, ``out = floor((L - k) / s) + 1``.
- ``padding="same"``: ``out = ceil(L / s)``, ``total = max((out - 1)·s + k - L, 0)`` split ``total // 2``
  on the left, the rest on the right. Max pooling ignores the padded positions; average pooling divides
  each window by the number of *real* elements in it (padding is not counted).
- ``GlobalAveragePooling1D`` honours a mask: ``sum over kept steps / number of kept steps`` (a fully
  masked row is 0/0 = NaN, as in Keras). ``GlobalMaxPooling1D`` has no mask support: called with
  ``mask=`` it raises a TypeError, and in a model an incoming mask is dropped (padded steps count).
- No pooling layer passes a mask on.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .. import _validation
from .base import Layer, unique_name
from .conv import one_int, output_length, padding_amounts
from .core import owner_of, to_tensor
from .reshaping import data_format_argument

POOL_PADDINGS = ("valid", "same")


def _check_rank3(layer: Layer, shape: tuple, received: str) -> None:
    if len(shape) != 3:
        layout = "(batch, steps, features)" if layer.data_format == "channels_last" else \
            "(batch, features, steps)"
        raise _validation.value_error(owner_of(layer), "input", f"a 3-D input {layout}", received,
                                      "Give the input a time axis and a feature axis.")


class _Pooling1D(Layer):
    """Shared by MaxPooling1D and AveragePooling1D: arguments, shapes, padding, config."""

    writes_build_config = False  # Keras builds pooling layers at construction
    mode = "max"

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(self.keras_prefix)  # Keras keeps "1d" together
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = one_int(owner, "pool_size", pool_size)
        self.strides = one_int(owner, "strides", pool_size if strides is None else strides)
        padding = padding.lower() if isinstance(padding, str) else padding
        self.padding = _validation.choice(owner, "padding", padding, POOL_PADDINGS)
        self.data_format = data_format_argument(owner, data_format)
        self.built = True

    def check_input_shape(self, shape: Any, producers: list) -> None:
        """Symbolic calls: reject a wrong rank before building."""
        _check_rank3(self, tuple(shape), f"shape {tuple(shape)}")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        _check_rank3(self, input_shape, f"shape {input_shape}")
        steps_axis = 1 if self.data_format == "channels_last" else 2
        length = output_length(input_shape[steps_axis], self.pool_size, self.strides, 1, self.padding)
        if length is not None and length < 1:
            raise _validation.value_error(
                owner_of(self), "input", f"at least pool_size={self.pool_size} steps with padding='valid'",
                f"{input_shape[steps_axis]} steps in shape {input_shape}",
                "Use padding='same', a smaller pool_size, or longer inputs.")
        out = list(input_shape)
        out[steps_axis] = length
        return tuple(out)

    def forward(self, inputs: Any) -> torch.Tensor:
        """``(batch, steps, features)`` -> ``(batch, new_steps, features)`` (channels_last)."""
        x = to_tensor(inputs, self.torch_dtype)
        _check_rank3(self, tuple(x.shape), _validation.describe_array(x))
        self.compute_output_shape(tuple(x.shape))
        if not x.is_floating_point():
            x = x.to(self.torch_dtype)
        if self.data_format == "channels_last":
            x = x.transpose(1, 2)  # (batch, features, steps)
        left, right = padding_amounts(x.shape[2], self.pool_size, self.strides, 1, self.padding)
        y = self.pool(x, left, right)
        return y.transpose(1, 2) if self.data_format == "channels_last" else y

    def pool(self, x: torch.Tensor, left: int, right: int) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": [self.pool_size], "padding": self.padding, "strides": [self.strides],
                       "data_format": self.data_format})
        return config


class MaxPooling1D(_Pooling1D):
    """The maximum of each window of ``pool_size`` steps, windows ``strides`` apart.

    Args:
        pool_size: window length (int or 1-tuple), default 2.
        strides: step between windows; None (default) means ``pool_size``.
        padding: ``"valid"`` (default) or ``"same"`` (padded positions never win the max).
        data_format: ``"channels_last"`` (default, ``(batch, steps, features)``) or ``"channels_first"``.
    """

    keras_prefix = "max_pooling1d"

    def pool(self, x: torch.Tensor, left: int, right: int) -> torch.Tensor:
        x = F.pad(x, (left, right), value=float("-inf"))
        return x.unfold(2, self.pool_size, self.strides).amax(dim=-1)


class AveragePooling1D(_Pooling1D):
    """The mean of each window of ``pool_size`` steps, windows ``strides`` apart; with
    ``padding="same"`` each edge window is divided by its number of real (unpadded) steps.

    Args: as ``MaxPooling1D``.
    """

    keras_prefix = "average_pooling1d"

    def pool(self, x: torch.Tensor, left: int, right: int) -> torch.Tensor:
        sums = F.pad(x, (left, right)).unfold(2, self.pool_size, self.strides).sum(dim=-1)
        if left == right == 0:
            return sums / self.pool_size
        ones = torch.ones((1, 1, x.shape[2]), dtype=x.dtype, device=x.device)
        counts = F.pad(ones, (left, right)).unfold(2, self.pool_size, self.strides).sum(dim=-1)
        return sums / counts


class _GlobalPooling1D(Layer):
    """Shared by the global poolings: ``(batch, steps, features)`` -> ``(batch, features)``, or
    ``(batch, 1, features)`` with ``keepdims=True``."""

    writes_build_config = False  # Keras builds pooling layers at construction

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(self.keras_prefix)
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.data_format = data_format_argument(owner, data_format)
        self.keepdims = _validation.boolean(owner, "keepdims", keepdims)
        self.built = True

    @property
    def steps_axis(self) -> int:
        return 1 if self.data_format == "channels_last" else 2

    def check_input_shape(self, shape: Any, producers: list) -> None:
        _check_rank3(self, tuple(shape), f"shape {tuple(shape)}")

    def _input(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        _check_rank3(self, tuple(x.shape), _validation.describe_array(x))
        return x if x.is_floating_point() else x.to(self.torch_dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        _check_rank3(self, input_shape, f"shape {input_shape}")
        channels = input_shape[2] if self.data_format == "channels_last" else input_shape[1]
        if not self.keepdims:
            return (input_shape[0], channels)
        return (input_shape[0], 1, channels) if self.data_format == "channels_last" else \
            (input_shape[0], channels, 1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the time axis. Not mask-aware (as Keras): padded steps take part in the max.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the time axis with size 1.
    """

    keras_prefix = "global_max_pooling1d"

    def forward(self, inputs: Any, **kwargs: Any) -> torch.Tensor:
        if "mask" in kwargs:
            raise _validation.type_error(
                owner_of(self), "the call", "no `mask` argument (GlobalMaxPooling1D does not support "
                "masking, as in Keras)", "mask=...",
                "Zero or drop the padded steps first, or use GlobalAveragePooling1D, which honours masks.")
        if kwargs:
            raise _validation.type_error(owner_of(self), "the call", "only the inputs",
                                         f"arguments {sorted(kwargs)}")
        return self._input(inputs).amax(dim=self.steps_axis, keepdim=self.keepdims)


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the time axis; with a mask ``(batch, steps)`` only the kept steps count.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the time axis with size 1.
    """

    supports_masking = True
    keras_prefix = "global_average_pooling1d"

    def forward(self, inputs: Any, mask: Any = None) -> torch.Tensor:
        x = self._input(inputs)
        if mask is None:
            return x.mean(dim=self.steps_axis, keepdim=self.keepdims)
        mask = torch.as_tensor(mask, device=x.device).bool()
        steps = x.shape[self.steps_axis]
        if tuple(mask.shape) != (x.shape[0], steps):
            raise _validation.value_error(owner_of(self), "mask", f"shape (batch, steps) = "
                                          f"{(x.shape[0], steps)}", f"shape {tuple(mask.shape)}")
        keep = mask.unsqueeze(2 if self.data_format == "channels_last" else 1)
        total = torch.where(keep, x, torch.zeros((), dtype=x.dtype, device=x.device))
        total = total.sum(dim=self.steps_axis, keepdim=self.keepdims)
        return total / keep.to(x.dtype).sum(dim=self.steps_axis, keepdim=self.keepdims)


MaxPool1D = MaxPooling1D  # Keras's aliases
AvgPool1D = AveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
