"""Keras 3's merge layers ``Concatenate`` and ``Add``: called on a list of tensors.

Masks follow Keras's ``Merge.compute_mask``: ``Add`` ORs the input masks (and has none unless every
input has one); ``Concatenate`` joins them along the axis, an unmasked input counting as all True.
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from .. import _validation
from .base import Layer
from .core import owner_of, to_tensor


class _Merge(Layer):
    """Shared: list checks, input conversion, batch-size check, Keras's OR of masks."""

    supports_masking = True

    def _check_list(self, items: Any, what: str) -> list:
        if not isinstance(items, (list, tuple)) or not items:
            raise _validation.value_error(owner_of(self), what, "a list of at least one tensor",
                                          f"{type(items).__name__}",
                                          f"Call it on a list: {type(self).__name__}()([a, b]).")
        return list(items)

    def _tensors(self, inputs: Any) -> list[torch.Tensor]:
        tensors = [to_tensor(t, self.torch_dtype) for t in self._check_list(inputs, "input")]
        device = tensors[0].device
        return [t.to(device) for t in tensors]

    def build(self, input_shape: Any) -> None:
        shapes = [tuple(s) for s in self._check_list(input_shape, "input")]
        batches = {s[0] for s in shapes if s} - {None}
        if len(batches) > 1:
            raise _validation.value_error(owner_of(self), "inputs", "the same batch size",
                                          f"shapes {shapes}")
        self.check_shapes(shapes)

    def check_shapes(self, shapes: list[tuple]) -> None:
        """Raise when the inputs cannot be merged."""

    def forward(self, inputs: Any) -> torch.Tensor:
        """A list of tensors -> one tensor."""
        tensors = self._tensors(inputs)
        shapes = [tuple(t.shape) for t in tensors]
        if self.built:
            self.build(shapes)  # no weights: validate every call, not only the first
        self.maybe_build(shapes)
        return self.merge(tensors)

    def merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _check_masks(self, inputs: Any, mask: Any) -> list:
        if not isinstance(mask, (list, tuple)) or len(mask) != len(self._check_list(inputs, "input")):
            raise _validation.value_error(owner_of(self), "mask", "a list with one mask (or None) per input",
                                          repr(type(mask).__name__))
        return [None if m is None else torch.as_tensor(m).bool() for m in mask]

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """Keras's default for elementwise merges: the OR of the masks, None unless all are given."""
        if mask is None:
            return None
        masks = self._check_masks(inputs, mask)
        if any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            out = out | m.to(out.device)
        return out


def _axis(owner: str, axis: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise _validation.type_error(owner, "`axis`", "an integer", repr(axis))
    return int(axis)


class Concatenate(_Merge):
    """Joins tensors along ``axis`` (default -1); every other size must match.

    ``[(batch, t, 3), (batch, t, 5)]`` -> ``(batch, t, 8)``.
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _axis(type(self).__name__, axis)

    def check_shapes(self, shapes: list[tuple]) -> None:
        ranks = {len(s) for s in shapes}
        bad = len(ranks) != 1 or not -len(shapes[0]) <= self.axis < len(shapes[0])
        if not bad:
            axis = self.axis % len(shapes[0])
            for i in range(1, len(shapes[0])):
                sizes = {s[i] for s in shapes} - {None}
                bad = bad or (i != axis and len(sizes) > 1)
        if bad:
            raise _validation.value_error(owner_of(self), "inputs", f"shapes of one rank that match "
                                          f"except on the concatenation axis {self.axis}",
                                          f"shapes {shapes}")

    def merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(tensors, dim=self.axis)

    def compute_output_shape(self, input_shape: list) -> tuple:
        shapes = [tuple(s) for s in self._check_list(input_shape, "input shape")]
        out = list(shapes[0])
        sizes = [s[self.axis] for s in shapes]
        out[self.axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        """Each mask broadcast to its input's shape (all True when missing), concatenated along
        ``axis``, then reduced with ``any`` over the last axis (Keras's rule)."""
        if mask is None:
            return None
        masks = self._check_masks(inputs, mask)
        if all(m is None for m in masks):
            return None
        tensors = self._tensors(inputs)
        full = []
        for x, m in zip(tensors, masks):
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            elif m.ndim < x.ndim:
                full.append(m.to(x.device).unsqueeze(-1).expand(x.shape))
            else:
                full.append(m.to(x.device))
        return torch.any(torch.cat(full, dim=self.axis), dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Add(_Merge):
    """Elementwise sum of tensors of one shape (``(batch, ...)`` each -> ``(batch, ...)``).

    As Keras: sizes of 1 broadcast, and inputs of lower rank get size-1 axes inserted after the batch
    axis until all ranks match.
    """

    def check_shapes(self, shapes: list[tuple]) -> None:
        self.compute_output_shape(shapes)

    def merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        rank = max(t.ndim for t in tensors)
        out = None
        for t in tensors:
            while t.ndim < rank:
                t = t.unsqueeze(1)
            out = t if out is None else out + t
        return out

    def compute_output_shape(self, input_shape: list) -> tuple:
        shapes = [tuple(s) for s in self._check_list(input_shape, "input shape")]
        out: tuple = shapes[0][1:]
        for shape in shapes[1:]:
            out = self._broadcast(out, shape[1:], shapes)
        batches = {s[0] for s in shapes} - {None}
        return ((batches.pop() if len(batches) == 1 else None), *out)

    def _broadcast(self, a: tuple, b: tuple, shapes: list) -> tuple:
        """Keras's ``_compute_elemwise_op_output_shape``: trailing axes aligned, 1 broadcasts."""
        if len(a) < len(b):
            a, b = b, a
        if not b:
            return a
        out = list(a[:len(a) - len(b)])
        for i, j in zip(a[len(a) - len(b):], b):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1:
                out.append(j if i == 1 else i)
            elif i != j:
                raise _validation.value_error(owner_of(self), "inputs", "shapes that match (or are 1) "
                                              "on every axis after the batch", f"shapes {shapes}")
            else:
                out.append(i)
        return tuple(out)
