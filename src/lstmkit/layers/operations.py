"""The few Keras ops that appear as nodes in saved functional graphs (``keras.src.ops.numpy``).

Keras 3 records a mask computed with ops (``not_equal`` then ``any``, e.g. around ``Masking``) as graph
nodes; these layers let such graphs load and run. Each is a ``Layer`` without weights.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Layer


class _Operation(Layer):
    keras_module = "keras.src.ops.numpy"
    writes_build_config = False  # Keras saves op nodes without one
    output_dtype = "bool"  # the comparisons and reductions here produce masks

    @property
    def keras_registered_name(self) -> str:
        return getattr(self, "keras_class_name", type(self).__name__)

    def get_config(self) -> dict:
        return {"name": self.name}


class NotEqual(_Operation):
    """``x != y`` elementwise (bool), ``y`` a tensor or a number."""

    def forward(self, x: Any, y: Any) -> torch.Tensor:
        return torch.as_tensor(x) != (y if not torch.is_tensor(y) else y.to(torch.as_tensor(x).device))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


class AnyOf(_Operation):
    """``any`` over ``axis`` (bool), Keras's ``ops.any(x, axis, keepdims)`` (Keras's class ``Any``)."""

    keras_class_name = "Any"

    def __init__(self, axis: int | list[int] | None = None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.keepdims = bool(keepdims)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x).bool()
        if self.axis is None:
            out = x.any()
            return out.reshape([1] * x.ndim) if self.keepdims else out
        axes = sorted(a % x.ndim for a in ([self.axis] if isinstance(self.axis, int) else self.axis))
        for a in reversed(axes):
            x = x.any(dim=a, keepdim=self.keepdims)
        return x

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        if self.axis is None:
            return (1,) * len(input_shape) if self.keepdims else ()
        axes = {a % len(input_shape) for a in ([self.axis] if isinstance(self.axis, int) else self.axis)}
        return tuple(1 if i in axes else d for i, d in enumerate(input_shape) if self.keepdims or i not in axes)

    def get_config(self) -> dict:
        return {"name": self.name, "axis": self.axis, "keepdims": self.keepdims}
