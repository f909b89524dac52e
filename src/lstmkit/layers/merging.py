"""Keras 3's merge layers (``Concatenate``, ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Dot``) and their functional forms (``concatenate``, ``add``, ...): called on a list of tensors.

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


class _Elementwise(_Merge):
    """Elementwise merges of tensors of one shape (``(batch, ...)`` each -> ``(batch, ...)``).

    As Keras: sizes of 1 broadcast, and inputs of lower rank get size-1 axes inserted after the batch
    axis until all ranks match.
    """

    def check_shapes(self, shapes: list[tuple]) -> None:
        self.compute_output_shape(shapes)

    @staticmethod
    def _same_rank(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        rank = max(t.ndim for t in tensors)
        out = []
        for t in tensors:
            while t.ndim < rank:
                t = t.unsqueeze(1)
            out.append(t)
        return out

    def merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        out = None
        for t in self._same_rank(tensors):
            out = t if out is None else self.combine(out, t)
        return out

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

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


class Add(_Elementwise):
    """Elementwise sum of tensors of one shape (``(batch, ...)`` each -> ``(batch, ...)``); sizes of 1
    broadcast and lower-rank inputs get size-1 axes after the batch axis, as in Keras."""

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b


class Subtract(_Elementwise):
    """``inputs[0] - inputs[1]``: exactly two tensors of one (broadcastable) shape."""

    def check_shapes(self, shapes: list[tuple]) -> None:
        if len(shapes) != 2:
            raise _validation.value_error(owner_of(self), "inputs", "exactly 2 tensors",
                                          f"{len(shapes)} tensors", "Call it as Subtract()([a, b]).")
        super().check_shapes(shapes)

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a - b


class Average(_Elementwise):
    """Elementwise mean of the inputs: their sum divided by their number."""

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a + b

    def merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        return super().merge(tensors) / len(tensors)


class _MaskedElementwise(_Elementwise):
    """Merges whose values depend on the input masks (``Maximum``, ``Minimum``, ``Multiply``): a mask
    ``(batch, steps)`` of an input ``(batch, steps, features)`` marks the steps that take part."""

    def forward(self, inputs: Any, mask: Any = None) -> torch.Tensor:
        tensors = self._tensors(inputs)
        shapes = [tuple(t.shape) for t in tensors]
        if self.built:
            self.build(shapes)
        self.maybe_build(shapes)
        tensors = self._same_rank(tensors)
        masks = [None] * len(tensors) if mask is None else self._check_masks(inputs, mask)
        full = []
        for x, m in zip(tensors, masks):
            if m is None:
                full.append(None)
                continue
            m = m.to(x.device)
            if m.ndim != x.ndim - 1:
                raise _validation.value_error(owner_of(self), "mask", f"one axis less than its input "
                                              f"(shape {tuple(x.shape)})", f"shape {tuple(m.shape)}")
            full.append(m.unsqueeze(-1).expand(x.shape))
        return self.masked_merge(tensors, full)

    def masked_merge(self, tensors: list[torch.Tensor], masks: list) -> torch.Tensor:
        """Keras's ``_apply_merge_op_and_or_mask``: a masked value of one input is replaced by the running
        result (and the other way round), so masked steps never win."""
        output, output_mask = tensors[0], masks[0]
        for x, m in zip(tensors[1:], masks[1:]):
            if m is not None:
                x = torch.where(m, x, output)
            if output_mask is not None:
                output = torch.where(output_mask, output, x)
            output_mask = output_mask | m if m is not None and output_mask is not None else None
            output = self.combine(output, x)
        return output


class Maximum(_MaskedElementwise):
    """Elementwise maximum of the inputs (masked steps of an input do not take part)."""

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.maximum(a, b)


class Minimum(_MaskedElementwise):
    """Elementwise minimum of the inputs (masked steps of an input do not take part)."""

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.minimum(a, b)


class Multiply(_MaskedElementwise):
    """Elementwise product of the inputs. As Keras: a masked step of an input counts as 1, and when every
    input has a mask, steps masked everywhere give 0."""

    def combine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * b

    def masked_merge(self, tensors: list[torch.Tensor], masks: list) -> torch.Tensor:
        every = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, m in zip(tensors, masks):
            if m is not None:
                x = torch.where(m, x, torch.ones((), dtype=x.dtype, device=x.device))
                if every:
                    output_mask = m if output_mask is None else output_mask | m
            output = x if output is None else output * x
        if every:
            output = torch.where(output_mask, output, torch.zeros((), dtype=output.dtype, device=output.device))
        return output


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    """Keras's ``ops.normalize(order=2)``: ``x · min(1/sqrt(Σx²), 1/1e-7)``."""
    inv = torch.rsqrt((x * x).sum(dim=axis, keepdim=True))
    return x * torch.clamp(inv, max=1e7)


class Dot(_Merge):
    """Dot product of two tensors along ``axes``, sample by sample (Keras's ``batch_dot``).

    Args:
        axes: an int (the same axis of both inputs) or ``(axis_of_first, axis_of_second)``; never 0.
        normalize: L2-normalize both inputs along their axis first (the result is a cosine similarity).

    ``[(batch, t, d), (batch, s, d)]`` with ``axes=2`` -> ``(batch, t, s)``; two ``(batch, d)`` -> ``(batch, 1)``.
    The output is the first input's other axes followed by the second's. It carries no mask.
    """

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
                raise _validation.value_error(owner, "`axes`", "an int or a pair of ints", repr(axes))
            self.axes: Any = [int(a) for a in axes]
        else:
            self.axes = _axis(owner, axes)
        self.normalize = _validation.boolean(owner, "normalize", normalize)

    def _resolve(self, shapes: list[tuple]) -> list[int]:
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        out = []
        for axis, shape in zip(pair, shapes):
            if len(shape) < 2:
                raise _validation.value_error(owner_of(self), "inputs", "tensors of rank >= 2 (batch, ...)",
                                              f"shapes {shapes}")
            if not -len(shape) <= axis < len(shape):
                raise _validation.value_error(owner_of(self), "`axes`", f"axes inside the inputs' ranks",
                                              f"axes={self.axes} for shapes {shapes}")
            out.append(axis % len(shape))
        if 0 in out:
            raise _validation.value_error(owner_of(self), "`axes`", "axes other than the batch axis 0",
                                          f"axes={self.axes}")
        return out

    def check_shapes(self, shapes: list[tuple]) -> None:
        if len(shapes) != 2:
            raise _validation.value_error(owner_of(self), "inputs", "exactly 2 tensors", f"{len(shapes)}",
                                          "Call it as Dot(axes)([a, b]).")
        a0, a1 = self._resolve(shapes)
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if d0 is not None and d1 is not None and d0 != d1:
            raise _validation.value_error(owner_of(self), "inputs", f"equal sizes on the dot axes {[a0, a1]}",
                                          f"{d0} != {d1} (shapes {shapes})")

    def merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        x, y = tensors
        a0, a1 = self._resolve([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = _l2_normalize(x, a0), _l2_normalize(y, a1)
        x = x.movedim(a0, -1)
        y = y.movedim(a1, 1)
        rest_x, rest_y = x.shape[1:-1], y.shape[2:]
        out = torch.bmm(x.reshape(x.shape[0], -1, x.shape[-1]), y.reshape(y.shape[0], y.shape[1], -1))
        shape = (x.shape[0], *rest_x, *rest_y)
        return out.reshape(shape if len(shape) > 1 else (x.shape[0], 1))

    def compute_output_shape(self, input_shape: list) -> tuple:
        shapes = [tuple(s) for s in self._check_list(input_shape, "input shape")]
        self.check_shapes(shapes)
        a0, a1 = self._resolve(shapes)
        first = [d for i, d in enumerate(shapes[0]) if i != a0]
        second = [d for i, d in enumerate(shapes[1]) if i not in (0, a1)]
        out = first + second
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


# -- Keras's functional forms: keras.layers.add([a, b]) == Add()([a, b]) ---------------------------
def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Any:
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs: list, **kwargs: Any) -> Any:
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list, **kwargs: Any) -> Any:
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list, **kwargs: Any) -> Any:
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list, **kwargs: Any) -> Any:
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list, **kwargs: Any) -> Any:
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list, **kwargs: Any) -> Any:
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def dot(inputs: list, axes: Any = -1, normalize: bool = False, **kwargs: Any) -> Any:
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
