"""Keras 3's noise and regularization layers: ``SpatialDropout1D``, ``GaussianNoise``, ``GaussianDropout``,
``ActivityRegularization``. None has weights; each is the identity outside training and passes a mask on.

In training (``training=True``, or ``training=None`` in ``train()`` mode):

- ``SpatialDropout1D(rate)``: drops whole feature channels: one 0/1 draw per ``(sample, feature)``,
  shared by every step (noise shape ``(batch, 1, features)``), kept values scaled by ``1 / (1 - rate)``.
- ``GaussianNoise(stddev)``: ``x + N(0, stddev²)``.
- ``GaussianDropout(rate)``: ``x · N(1, rate / (1 - rate))`` (multiplicative noise of standard deviation
  ``sqrt(rate / (1 - rate))``).
- ``ActivityRegularization(l1, l2)``: the identity that adds ``l1·Σ|x| + l2·Σx²`` to ``losses``.

``seed`` gives each layer its own generator, so a fresh layer with the same seed draws the same noise.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch

from .. import _validation
from ..ops import regularizers as regularizers_mod
from .base import Layer, unique_name
from .core import Dropout, owner_of, record_activity, seeded_generator, to_tensor


def _rate(owner: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _validation.type_error(owner, f"`{name}`", "a number in [0, 1]", repr(value))
    if not 0.0 <= float(value) <= 1.0:
        raise _validation.value_error(owner, f"`{name}`", "a number in [0, 1]", repr(value))
    return float(value)


class _Noise(Layer):
    """Seeded per-device generators and the training switch shared by the noise layers."""

    supports_masking = True
    writes_build_config = False  # Keras builds these at construction

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = None if seed is None else _validation.non_negative_int(type(self).__name__, "seed", seed)
        self._generators: dict[torch.device, torch.Generator] = {}
        self.built = True

    def _normal(self, x: torch.Tensor) -> torch.Tensor:
        return torch.randn(x.shape, dtype=x.dtype, device=x.device, generator=seeded_generator(self, x.device))

    def _input(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        return x if x.is_floating_point() else x.to(self.torch_dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` in training; identity otherwise.

    Args:
        stddev: in [0, 1], as Keras requires.
        seed: optional seed of the layer's own generator.
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _rate(type(self).__name__, "stddev", stddev)

    def forward(self, inputs: Any, training: bool | None = None) -> torch.Tensor:
        x = self._input(inputs)
        training = self.training if training is None else bool(training)
        if not training or self.stddev == 0:
            return x
        return x + self.stddev * self._normal(x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies by ``N(1, rate / (1 - rate))`` noise in training; identity otherwise.

    Args:
        rate: in [0, 1] (at 1 the noise is infinite, as in Keras: choose < 1).
        seed: optional seed of the layer's own generator.
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, **kwargs)
        self.rate = _rate(type(self).__name__, "rate", rate)

    def forward(self, inputs: Any, training: bool | None = None) -> torch.Tensor:
        x = self._input(inputs)
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0:
            return x
        if self.rate >= 1.0:
            raise _validation.value_error(owner_of(self), "`rate`", "a rate < 1 in training",
                                          repr(self.rate), "rate=1 gives infinite noise; choose e.g. 0.5.")
        return x * (1.0 + math.sqrt(self.rate / (1.0 - self.rate)) * self._normal(x))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class SpatialDropout1D(Dropout):
    """Dropout of whole feature channels of ``(batch, steps, features)`` inputs (the same channels at every
    step), kept values scaled by ``1 / (1 - rate)``; identity outside training.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        seed: optional seed of the layer's own generator.

    Keras's config holds only ``rate``, ``seed``, ``name`` and ``dtype`` (a plain string).
    """

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None,
                 **kwargs: Any):
        super().__init__(rate, seed=seed, name=name or unique_name("spatial_dropout1d"), dtype=dtype, **kwargs)

    def _mask_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        if x.ndim != 3:
            raise _validation.value_error(owner_of(self), "input", "a 3-D input (batch, steps, features)",
                                          _validation.describe_array(x))
        return (x.shape[0], 1, x.shape[2])

    def forward(self, inputs: Any, training: bool | None = None) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        if x.ndim != 3:
            self._mask_shape(x)
        return super().forward(x, training=training)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if len(tuple(input_shape)) != 3:
            raise _validation.value_error(owner_of(self), "input", "a 3-D input (batch, steps, features)",
                                          f"shape {tuple(input_shape)}")
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype_name}


class ActivityRegularization(Layer):
    """The identity, adding ``l1·Σ|x| + l2·Σx²`` of its output to ``losses`` (Keras's L1L2 activity
    regularizer).

    Args:
        l1 / l2: non-negative factors (default 0).
    """

    supports_masking = True
    writes_build_config = False

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        kwargs.pop("activity_regularizer", None)  # Keras's config never carries it; the factors define it
        super().__init__(**kwargs)
        owner = type(self).__name__
        for name, value in (("l1", l1), ("l2", l2)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
                raise _validation.value_error(owner, f"`{name}`", "a number >= 0", repr(value))
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers_mod.get(
            {"class_name": "L1L2", "config": {"l1": self.l1, "l2": self.l2}})
        self.built = True

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        record_activity(self, self.activity_regularizer, x)
        return x

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config
