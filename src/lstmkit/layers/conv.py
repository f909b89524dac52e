"""``Conv1D``: Keras 3's temporal convolution, computed by ``torch.nn.functional.conv1d``.

Weights keep Keras's layout: ``kernel (kernel_size, in_channels // groups, filters)``, ``bias (filters,)``;
the call permutes a view of the kernel to torch's ``(filters, in_channels // groups, kernel_size)``.
Both are cross-correlations. Padding follows TensorFlow:

- ``"valid"``: none; output length ``floor((L - (k-1)·d - 1) / s) + 1``.
- ``"same"``: ``total = max((ceil(L/s) - 1)·s + (k-1)·d + 1 - L, 0)``, ``left = total // 2``, the rest
  on the right; output length ``ceil(L / s)``.
- ``"causal"``: ``(k-1)·d`` zeros on the left only (``output[t]`` never sees ``input[t+1:]``); output
  length ``ceil(L / s)``.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch
import torch.nn.functional as F

from .. import _validation
from ..ops import activations
from .base import Layer, unique_name
from .core import (owner_of, place_activity_regularizer, record_activity,
                   reject_unsupported, set_weight_options, to_tensor, weight_options_config)
from .reshaping import data_format_argument

PADDINGS = ("valid", "same", "causal")


def one_int(owner: str, name: str, value: Any) -> int:
    """Keras's ``standardize_tuple`` for rank 1: an int or a 1-element tuple/list of a positive int."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise _validation.value_error(owner, f"`{name}`", "an integer or a tuple of 1 integer",
                                          repr(value))
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _validation.type_error(owner, f"`{name}`", "a positive integer (or a tuple of 1)",
                                     f"{value!r} of type {type(value).__name__}")
    return _validation.positive_int(owner, name, value)


def output_length(length: int | None, kernel_size: int, stride: int, dilation: int,
                  padding: str) -> int | None:
    """Keras's ``compute_conv_output_shape`` for one spatial axis (None stays None)."""
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel_size - 1) - 1) // stride + 1
    return (length - 1) // stride + 1  # "same" and "causal": ceil(length / stride)


def padding_amounts(length: int, kernel_size: int, stride: int, dilation: int,
                    padding: str) -> tuple[int, int]:
    """``(left, right)`` zeros added to the time axis before a valid convolution."""
    span = dilation * (kernel_size - 1)
    if padding == "causal":
        return span, 0
    if padding == "same":
        total = max((output_length(length, kernel_size, stride, dilation, "same") - 1) * stride
                    + span + 1 - length, 0)
        return total // 2, total - total // 2
    return 0, 0


class Conv1D(Layer):
    """1-D convolution over time (Keras's ``keras.layers.Conv1D``).

    Args:
        filters: number of output channels.
        kernel_size: window length (int or 1-tuple).
        strides: step between windows (int or 1-tuple); > 1 cannot be combined with dilation_rate > 1.
        padding: ``"valid"`` (default), ``"same"`` or ``"causal"`` (case-insensitive).
        data_format: ``"channels_last"`` (default; inputs ``(batch, steps, channels)``) or
            ``"channels_first"`` (inputs ``(batch, channels, steps)``).
        dilation_rate: spacing between kernel taps (int or 1-tuple).
        groups: split channels into this many independent groups; ``filters`` and the input channels
            must be divisible by it.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as ``Dense``.
        lora_rank / lora_alpha: accepted at None only (not implemented).

    Input ``(batch, steps, channels)`` -> output ``(batch, new_steps, filters)`` (channels_last).
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name("conv1d")  # Keras's snake case keeps "1d" together
        super().__init__(**kwargs)
        owner = type(self).__name__
        reject_unsupported(owner, lora_rank=lora_rank, lora_alpha=lora_alpha)
        self.filters = _validation.positive_int(owner, "filters", filters)
        self.kernel_size = one_int(owner, "kernel_size", kernel_size)
        self.strides = one_int(owner, "strides", strides)
        self.dilation_rate = one_int(owner, "dilation_rate", dilation_rate)
        padding = padding.lower() if isinstance(padding, str) else padding
        self.padding = _validation.choice(owner, "padding", padding, PADDINGS)
        self.data_format = data_format_argument(owner, data_format)
        self.groups = _validation.positive_int(owner, "groups", groups)
        if self.filters % self.groups:
            raise _validation.value_error(owner, "`filters`", f"a multiple of groups={self.groups}",
                                          repr(filters), "Each group gets filters // groups filters.")
        if self.strides > 1 and self.dilation_rate > 1:
            raise _validation.value_error(owner, "`strides` and `dilation_rate`", "at most one of them > 1",
                                          f"strides={self.strides}, dilation_rate={self.dilation_rate}",
                                          "Keras does not support both; set one of them to 1.")
        self.activation = activations.get(activation)
        self.use_bias = _validation.boolean(owner, "use_bias", use_bias)
        set_weight_options(self, locals())
        self._input_channels: int | None = None

    # -- shapes -----------------------------------------------------------------------------------
    def _axes(self) -> tuple[int, int]:
        """(steps axis, channels axis) of a 3-D input."""
        return (1, 2) if self.data_format == "channels_last" else (2, 1)

    def _check_rank(self, shape: tuple, received: str) -> None:
        if len(shape) == 3:
            return
        layout = "(batch, steps, channels)" if self.data_format == "channels_last" else \
            "(batch, channels, steps)"
        fix = "Give the input a time axis and a channel axis."
        if len(shape) == 2 and self.data_format == "channels_last":
            fix = (f"If each row is one sequence of {shape[1]} steps with one channel, use "
                   f"x.reshape({shape[0]}, {shape[1]}, 1).")
        raise _validation.value_error(owner_of(self), "input", f"a 3-D input {layout}", received, fix)

    def check_input_shape(self, shape: Any, producers: list) -> None:
        """Symbolic calls: reject a wrong rank before building."""
        self._check_rank(tuple(shape), f"shape {tuple(shape)}")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        self._check_rank(input_shape, f"shape {input_shape}")
        steps_axis, _ = self._axes()
        length = input_shape[steps_axis]
        out = output_length(length, self.kernel_size, self.strides, self.dilation_rate, self.padding)
        if out is not None and out < 1:
            span = self.dilation_rate * (self.kernel_size - 1) + 1
            raise _validation.value_error(
                owner_of(self), "input", f"at least {span} steps (the kernel spans {span} with "
                f"kernel_size={self.kernel_size}, dilation_rate={self.dilation_rate}, padding='valid')",
                f"{length} steps in shape {input_shape}", "Use padding='same' or 'causal', or longer inputs.")
        if self.data_format == "channels_last":
            return (input_shape[0], out, self.filters)
        return (input_shape[0], self.filters, out)

    lazy_input_rank = 3

    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        self._check_rank(input_shape, f"shape {input_shape}")
        channels = input_shape[self._axes()[1]]
        if self._declaring:  # weights declared uninitialized until the channel count is known
            channels = None
        elif channels is None:
            raise _validation.value_error(owner_of(self), "input", "a known number of channels",
                                          f"shape {input_shape}")
        elif channels == 0:  # torch's conv would return 0 filters instead of `filters` bias-only channels
            raise _validation.value_error(owner_of(self), "input", "at least one channel",
                                          f"shape {input_shape} (0 channels)", "Check how the input was sliced.")
        elif channels % self.groups:
            raise _validation.value_error(owner_of(self), "input", f"a number of channels divisible by "
                                          f"groups={self.groups}", f"{channels} channels")
        self.compute_output_shape(input_shape)
        per_group = None if channels is None else channels // self.groups
        self.add_weight("kernel", (self.kernel_size, per_group, self.filters),
                        self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer,
                            self.bias_constraint)
        else:
            self.bias = None
        self._input_channels = None if channels is None else int(channels)

    def input_shape_from_weights(self, shapes: dict[str, tuple]) -> tuple | None:
        """The input shape a loaded kernel ``(kernel_size, channels // groups, filters)`` implies."""
        if len(shapes.get("kernel", ())) != 3:
            return None
        channels = int(shapes["kernel"][1]) * self.groups
        return (None, None, channels) if self.data_format == "channels_last" else (None, channels, None)

    # -- call -------------------------------------------------------------------------------------
    def forward(self, inputs: Any) -> torch.Tensor:
        """``(batch, steps, channels)`` -> ``(batch, new_steps, filters)`` (channels_last)."""
        x = to_tensor(inputs, self.torch_dtype, cast_all=True)
        self._check_rank(tuple(x.shape), _validation.describe_array(x))
        self.maybe_build(tuple(x.shape))
        steps_axis, channels_axis = self._axes()
        if x.shape[channels_axis] != self._input_channels:
            raise _validation.value_error(
                owner_of(self), "input", f"{self._input_channels} channels (it was built for that)",
                f"{x.shape[channels_axis]} channels in an input of shape {tuple(x.shape)}",
                f"Create a new Conv1D for {x.shape[channels_axis]} channels.")
        self.compute_output_shape(tuple(x.shape))  # validates the length
        x = x.to(self.kernel.device)
        if self.data_format == "channels_last":
            x = x.transpose(1, 2)  # torch wants (batch, channels, steps)
        x = F.pad(x, padding_amounts(x.shape[2], self.kernel_size, self.strides, self.dilation_rate,
                                     self.padding))
        y = F.conv1d(x, self.kernel.permute(2, 1, 0), self.bias, stride=self.strides,
                     dilation=self.dilation_rate, groups=self.groups)
        if self.data_format == "channels_last":
            y = y.transpose(1, 2)
        y = self.activation(y)
        record_activity(self, self.activity_regularizer, y)
        return y

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's keys and order; the size arguments as 1-element lists (Keras's tuples, in JSON)."""
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": [self.kernel_size],
            "strides": [self.strides],
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": [self.dilation_rate],
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, activity=True),
        })
        return place_activity_regularizer(config, self.activity_regularizer, always=True)


Convolution1D = Conv1D  # Keras's alias
