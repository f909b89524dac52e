"""Keras 3's ``BatchNormalization`` and ``LayerNormalization``, with Keras's defaults and update rule.

``BatchNormalization`` (weights, in Keras's order: ``gamma`` if ``scale``, ``beta`` if ``center``, then the
non-trainable ``moving_mean`` and ``moving_variance``, each of shape ``(input_shape[axis],)``):

- training (``training=True`` and the layer trainable): statistics over every axis but ``axis`` (on a
  3-D input with ``axis=-1``: over batch *and* steps), the **biased** variance; then
  ``moving = momentum·moving + (1 - momentum)·batch`` for both statistics (the biased variance too).
  With a mask ``(batch, steps)`` only the kept steps count: ``mean = Σ kept x / (n + 1e-7)``,
  ``var = Σ kept (x - mean)² / (n + 1e-7)`` (Keras's backend epsilon in the denominators).
- inference: the moving statistics.
- output: ``inv = gamma / sqrt(var + epsilon)``, ``y = x·inv + (beta - mean·inv)``.
- defaults ``momentum=0.99``, ``epsilon=1e-3`` (torch: 0.1 with the opposite meaning, 1e-5).

``LayerNormalization``: ``y = gamma·(x - mean)/sqrt(var + epsilon) + beta``, statistics over ``axis``
(default the last) per sample, biased variance, ``epsilon=1e-3``; ``gamma`` / ``beta`` have the shape of
the normalized axes. Both layers pass a mask on unchanged.

Both declare their weights at construction, as ``layers/base.py``'s ``Layer`` describes: uninitialized
(``torch.nn.parameter.UninitializedParameter``, their size is the input's) until the first call or a
``load_state_dict`` materialises them in place, or built at once from a declared ``input_shape``.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import torch

from .. import _validation
from .base import Layer
from .core import owner_of, set_weight_options, to_tensor, weight_options_config

_SCALE_AND_OFFSET = ("beta", "gamma")  # weights with an initializer, a regularizer and a constraint
_MOVING_STATISTICS = ("moving_mean", "moving_variance")  # BatchNormalization's, with an initializer only

KERAS_EPSILON = 1e-7  # keras.backend.epsilon(), used by the masked moments


def _int_axis(owner: str, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise _validation.type_error(owner, "`axis`", "an integer", repr(axis),
                                     "BatchNormalization normalizes one axis, e.g. axis=-1 (the features).")
    return int(axis)


def _number(owner: str, name: str, value: Any, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _validation.type_error(owner, f"`{name}`", "a number", repr(value))
    if value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise _validation.value_error(owner, f"`{name}`", f"a number {span}", repr(value))
    return float(value)


def _shape_with_sizes(axes: list[int], sizes: tuple, batch_free: bool) -> tuple | None:
    """The smallest input shape ``(None, ...)`` (rank >= 2) holding ``sizes`` on ``axes`` (distinct axes,
    never the batch axis when ``batch_free``): what loaded weights of those sizes imply."""
    if len(axes) != len(sizes):
        return None
    for rank in range(2, max(abs(a) for a in axes) + 3):
        if any(a >= rank or a < -rank for a in axes) or len({a % rank for a in axes}) != len(axes):
            continue
        if batch_free and any(a % rank == 0 for a in axes):
            continue
        shape: list = [None] * rank
        for a, size in zip(axes, sizes):
            shape[a] = int(size)
        return tuple(shape)
    return None


def _check_axis(layer: Layer, axes: list[int], rank: int) -> None:
    for axis in axes:
        if axis >= rank or axis < -rank or (axis % rank == 0 and isinstance(layer, BatchNormalization)):
            raise _validation.value_error(owner_of(layer), "`axis`", f"an axis of a rank-{rank} input other "
                                          "than the batch axis", repr(layer.axis),
                                          "Use axis=-1 for the features of (batch, steps, features).")


class BatchNormalization(Layer):
    """Normalizes each channel of ``axis`` with batch statistics in training, moving ones at inference.

    Args:
        axis: the features axis (default -1).
        momentum: weight of the old moving statistics (default 0.99).
        epsilon: added to the variance (default 1e-3).
        center / scale: learn ``beta`` / ``gamma`` (default True).
        beta_initializer / gamma_initializer / moving_mean_initializer / moving_variance_initializer:
            defaults zeros / ones / zeros / ones.
        beta_regularizer / gamma_regularizer / beta_constraint / gamma_constraint: as Dense's.
        renorm / synchronized: accepted at False only (batch renormalization and cross-device
            statistics are not implemented).

    Call: ``layer(x, training=None, mask=None)``; ``training=None`` follows ``train()`` / ``eval()``. A
    frozen layer (``trainable=False``) always uses its moving statistics, as in Keras.
    Input any rank >= 2, output the same shape.
    """

    supports_masking = True
    lazy_input_rank = 2  # weights declared at construction, materialised at the first call

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False, renorm_clipping: Any = None,
                 renorm_momentum: float = 0.99, synchronized: bool = False, **kwargs: Any):
        owner = type(self).__name__
        kwargs.pop("fused", None)  # tf.keras 2 configs: a kernel choice with the same numbers
        for name in ("virtual_batch_size", "adjustment"):  # tf.keras 2 options, default None
            if kwargs.pop(name, None) is not None:
                raise _validation.value_error(owner, f"`{name}`", "None (a tf.keras 2 option lstmkit does not "
                                              "implement)", "a value", f"Drop `{name}`.")
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]  # tf.keras 2 saved the axis as a one-element list
        super().__init__(**kwargs)
        for name, value in (("renorm", renorm), ("synchronized", synchronized)):
            if _validation.boolean(owner, name, value):
                raise _validation.value_error(owner, f"`{name}`", "False (not implemented in lstmkit)",
                                              "True", f"Drop `{name}`.")
        self.axis = _int_axis(owner, axis)
        self.momentum = _number(owner, "momentum", momentum, 0.0, 1.0)
        self.epsilon = _number(owner, "epsilon", epsilon, 0.0)
        self.center = _validation.boolean(owner, "center", center)
        self.scale = _validation.boolean(owner, "scale", scale)
        set_weight_options(self, locals(), _SCALE_AND_OFFSET, _MOVING_STATISTICS)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self._rank: int | None = None

    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        if self._declaring:  # declared uninitialized: the input's size on `axis` is not known yet
            shape: tuple = (None,)
        else:
            _check_axis(self, [self.axis], len(input_shape))
            size = input_shape[self.axis]
            if size is None:
                raise _validation.value_error(owner_of(self), "input", f"a known size on axis {self.axis}",
                                              f"shape {input_shape}")
            shape = (int(size),)
        if self.scale:
            self.add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer, self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self.add_weight("beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint)
        else:
            self.beta = None
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer, trainable=False)
        self._rank = None if self._declaring else len(input_shape)

    def input_shape_from_weights(self, shapes: dict[str, tuple]) -> tuple | None:
        """The smallest input shape whose size on ``axis`` is the loaded weights' length."""
        sizes = {shape for shape in shapes.values() if len(shape) == 1}
        return _shape_with_sizes([self.axis], sizes.pop(), batch_free=True) if len(sizes) == 1 else None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axis(self, [self.axis], len(tuple(input_shape)))
        return tuple(input_shape)

    def _broadcast(self, v: torch.Tensor, rank: int) -> torch.Tensor:
        shape = [1] * rank
        shape[self.axis] = -1
        return v.reshape(shape)

    def _moments(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        axes = [d for d in range(x.ndim) if d != self.axis % x.ndim]
        if mask is None:
            mean = x.mean(dim=axes, keepdim=True)
            return mean, ((x - mean) ** 2).mean(dim=axes, keepdim=True)
        keep = mask.unsqueeze(-1).expand(x.shape)
        zero = torch.zeros((), dtype=x.dtype, device=x.device)
        weight = keep.to(x.dtype).sum(dim=axes, keepdim=True) + KERAS_EPSILON
        mean = torch.where(keep, x, zero).sum(dim=axes, keepdim=True) / weight
        var = (torch.where(keep, x - mean, zero) ** 2).sum(dim=axes, keepdim=True) / weight
        return mean, var

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype, cast_all=True)
        _check_axis(self, [self.axis], x.ndim)
        self.maybe_build(tuple(x.shape))
        if x.shape[self.axis] != self.moving_mean.shape[0]:
            raise _validation.value_error(owner_of(self), "input", f"{self.moving_mean.shape[0]} channels on "
                                          f"axis {self.axis} (it was built for that)",
                                          f"shape {tuple(x.shape)}")
        x = x.to(self.moving_mean.device)
        if mask is not None:
            mask = torch.as_tensor(mask, device=x.device).bool()
            if mask.ndim != x.ndim - 1:
                raise _validation.value_error(owner_of(self), "mask", f"one axis less than the input "
                                              f"(rank {x.ndim - 1})", f"shape {tuple(mask.shape)}")
        training = self.training if training is None else bool(training)
        if training and self.trainable:
            mean, var = self._moments(x, mask)
            with torch.no_grad():
                m = self.momentum
                self.moving_mean.copy_(self.moving_mean * m + mean.detach().reshape(-1) * (1.0 - m))
                self.moving_variance.copy_(self.moving_variance * m + var.detach().reshape(-1) * (1.0 - m))
        else:
            mean = self._broadcast(self.moving_mean, x.ndim)
            var = self._broadcast(self.moving_variance, x.ndim)
        inv = torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            inv = inv * self._broadcast(self.gamma, x.ndim)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._broadcast(self.beta, x.ndim)
        return x * inv + shift

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale,
            **weight_options_config(self, _SCALE_AND_OFFSET, _MOVING_STATISTICS),
            "synchronized": False, "renorm": False, "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        })
        return config


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` (default the last), then scales by ``gamma`` and shifts by
    ``beta``.

    Args:
        axis: an int or a list of ints, the axes normalized together (never the batch axis).
        epsilon: added to the variance (default 1e-3).
        center / scale: learn ``beta`` / ``gamma`` (default True).
        beta_initializer / gamma_initializer / regularizers / constraints: as BatchNormalization's.
        rms_scaling: deprecated Keras option kept for files: ``y = gamma·x/sqrt(var + epsilon)`` (no mean
            subtraction, no beta).

    Input any rank >= 2, output the same shape; weights ``gamma``, ``beta`` of the normalized axes' shape.
    """

    supports_masking = True
    lazy_input_rank = 2  # weights declared at construction, materialised at the first call

    def __init__(self, axis: Any = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 **kwargs: Any):
        rms_scaling = kwargs.pop("rms_scaling", False)
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(axis, (list, tuple)):
            self.axis: Any = [_int_axis(owner, a) for a in axis]
        else:
            self.axis = _int_axis(owner, axis)
        self.epsilon = _number(owner, "epsilon", epsilon, 0.0)
        self.center = _validation.boolean(owner, "center", center)
        self.scale = _validation.boolean(owner, "scale", scale)
        self.rms_scaling = _validation.boolean(owner, "rms_scaling", rms_scaling)
        if self.rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) is deprecated in Keras: it scales by the "
                          "variance, not the root mean square.", DeprecationWarning, stacklevel=2)
        set_weight_options(self, locals(), _SCALE_AND_OFFSET)
        self._rank: int | None = None
        self._sizes: tuple = ()

    def _axes(self) -> list[int]:
        return list(self.axis) if isinstance(self.axis, list) else [self.axis]

    def build(self, input_shape: tuple) -> None:
        input_shape = tuple(input_shape)
        axes = self._axes()
        if self._declaring:  # declared uninitialized: the sizes of the normalized axes are the input's
            self._add_weights(tuple(None for _ in axes))
            return
        _check_axis(self, axes, len(input_shape))
        if len({a % len(input_shape) for a in axes}) != len(axes):
            raise _validation.value_error(owner_of(self), "`axis`", "distinct axes", repr(self.axis))
        self.axis = sorted(axes)  # Keras keeps the list form (sorted) once built
        shape = tuple(input_shape[a] for a in self.axis)
        if any(d is None for d in shape):
            raise _validation.value_error(owner_of(self), "input", f"known sizes on axes {self.axis}",
                                          f"shape {input_shape}")
        self._add_weights(shape)
        self._rank, self._sizes = len(input_shape), tuple(int(d) for d in shape)

    def _add_weights(self, shape: tuple) -> None:
        """``gamma`` then ``beta`` (Keras's order) of the normalized axes' ``shape`` (None: not known yet)."""
        if self.scale or self.rms_scaling:
            self.add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer, self.gamma_constraint)
        else:
            self.gamma = None
        if self.center and not self.rms_scaling:
            self.add_weight("beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint)
        else:
            self.beta = None

    def input_shape_from_weights(self, shapes: dict[str, tuple]) -> tuple | None:
        """The smallest input shape with the loaded weights' sizes on the (sorted) normalized axes."""
        found = {shape for shape in shapes.values()}
        return _shape_with_sizes(sorted(self._axes()), found.pop(), batch_free=False) if len(found) == 1 else None

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: Any) -> None:
        """A layer built here from loaded weights knows its axes' sizes but not the input's rank: the
        first call sets it."""
        unbuilt = not self.built
        super()._load_from_state_dict(state_dict, prefix, *args)
        if unbuilt and self.built:
            self._rank = None

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        _check_axis(self, self._axes(), len(tuple(input_shape)))
        return tuple(input_shape)

    def _broadcast(self, v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.ndim
        for a in self.axis:
            shape[a] = x.shape[a]
        return v.reshape(shape)

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype, cast_all=True)
        _check_axis(self, self._axes(), x.ndim)
        self.maybe_build(tuple(x.shape))
        if self._rank is None:  # built from loaded weights: the first input settles the rank
            self._rank = x.ndim
        if x.ndim != self._rank or tuple(x.shape[a] for a in self.axis) != self._sizes:
            raise _validation.value_error(owner_of(self), "input", f"rank {self._rank} with sizes "
                                          f"{self._sizes} on axes {self.axis} (it was built for that)",
                                          f"shape {tuple(x.shape)}")
        axes = [a % x.ndim for a in self.axis]
        mean = x.mean(dim=axes, keepdim=True)
        var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)
        inv = torch.rsqrt(var + self.epsilon)
        if self.rms_scaling:
            out = x * inv
            return out * self._broadcast(self.gamma, x) if self.gamma is not None else out
        if self.gamma is not None:
            inv = inv * self._broadcast(self.gamma, x)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._broadcast(self.beta, x)
        return x * inv + shift

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
            "rms_scaling": self.rms_scaling,
            **weight_options_config(self, _SCALE_AND_OFFSET),
        })
        return config
