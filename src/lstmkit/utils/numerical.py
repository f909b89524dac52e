"""``to_categorical`` and ``normalize`` with Keras's dtypes and shape rules.

``to_categorical``: labels cast to int64; a trailing axis of 1 is dropped (``(n, 1)`` gives ``(n, C)``);
``C = max + 1`` without ``num_classes``; NumPy / list input gives float64, a torch tensor float32 (as
Keras's backend tensors); a negative label counts from the end, as NumPy indexing does in Keras.
``normalize``: divides by the ``order``-norm along ``axis`` (zero norms become 1), keeping the dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import _validation


class LabelOutOfRange(ValueError, IndexError):
    """A label outside ``[-num_classes, num_classes)`` (an IndexError in Keras, a ValueError by our rules)."""


def to_categorical(x: Any, num_classes: int | None = None) -> Any:
    """One-hot encode integer labels: shape ``x.shape + (num_classes,)`` (a trailing 1 of ``x`` dropped)."""
    tensor_in = torch.is_tensor(x)
    labels = x.detach().cpu().numpy() if tensor_in else x
    try:
        array = np.array(labels, dtype="int64")
    except (TypeError, ValueError) as error:
        raise _validation.type_error("to_categorical", "`x`", "integer class labels", repr(labels)[:80]) from error
    shape = array.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = array.reshape(-1)
    if not num_classes:
        if flat.size == 0:
            raise _validation.value_error("to_categorical", "`num_classes`", "a number when x is empty", "None")
        num_classes = int(flat.max()) + 1
    num_classes = _validation.positive_int("to_categorical", "num_classes", num_classes)
    bad = flat[(flat >= num_classes) | (flat < -num_classes)]
    if bad.size:
        raise LabelOutOfRange(_validation.message(
            "to_categorical", "`x`", f"labels in [0, {num_classes})", f"label {int(bad[0])}",
            f"Pass num_classes > {int(flat.max())}, or map the labels to 0..num_classes-1."))
    out = np.zeros((flat.shape[0], num_classes))
    out[np.arange(flat.shape[0]), flat] = 1
    out = out.reshape(shape + (num_classes,))
    return torch.from_numpy(out.astype(np.float32)) if tensor_in else out


def normalize(x: Any, axis: int | None = -1, order: Any = 2) -> Any:
    """``x`` divided by its ``order``-norm along ``axis`` (a zero norm is left as 1, so zero rows stay zero).

    NumPy in, NumPy out (same dtype); a torch tensor in, a tensor out. ``axis=None`` takes the norm of the
    whole array, as ``np.linalg.norm``.
    """
    if torch.is_tensor(x):
        return torch.from_numpy(normalize(x.detach().cpu().numpy(), axis, order)).to(x.device)
    x = np.asarray(x)
    if axis is not None and not -x.ndim <= axis < x.ndim:
        raise _validation.value_error("normalize", "`axis`", f"an axis of a {x.ndim}-D array", repr(axis))
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, -1 if axis is None else axis)
