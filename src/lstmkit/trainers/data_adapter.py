"""What ``fit`` / ``evaluate`` / ``predict`` accept, turned into batches of tensors.

Arrays (NumPy, torch, pandas, nested lists / tuples / dicts of them for several inputs or outputs) are
checked once (equal lengths, no NaN / inf, with the position of the first bad value) and sliced into
batches, shuffled per epoch with torch's generator (``torch.manual_seed`` makes it repeatable).
Iterables (a ``torch.utils.data.DataLoader``, a generator, a list of batches) yield ``(x, y)`` or
``(x, y, sample_weight)`` batches as they are.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Iterator

import numpy as np
import torch

from .. import _validation

Batch = tuple[Any, Any, Any]  # (x, y, sample_weight); y and sample_weight may be None


# -- nested structures ----------------------------------------------------------------------------------
def map_leaves(fn: Any, obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_leaves(fn, o) for o in obj)
    if isinstance(obj, dict):
        return {k: map_leaves(fn, v) for k, v in obj.items()}
    return None if obj is None else fn(obj)


def leaves(obj: Any) -> list[Any]:
    if isinstance(obj, (list, tuple)):
        return [leaf for o in obj for leaf in leaves(o)]
    if isinstance(obj, dict):
        return [leaf for o in obj.values() for leaf in leaves(o)]
    return [] if obj is None else [obj]


def is_array_like(obj: Any) -> bool:
    """True for arrays / tensors / DataFrames and lists or dicts of them (not for a DataLoader or generator)."""
    if torch.is_tensor(obj) or isinstance(obj, np.ndarray) or hasattr(obj, "to_numpy"):
        return True
    if isinstance(obj, dict):
        return all(is_array_like(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        if not obj:
            return False
        if all(isinstance(o, (int, float, np.number)) for o in obj):
            return True  # a plain list of numbers
        return all(is_array_like(o) or isinstance(o, (list, tuple)) for o in obj) and not _looks_like_batches(obj)
    return False


def _looks_like_batches(obj: Any) -> bool:
    """A list of (x, y) tuples is a list of batches, not an array."""
    return all(isinstance(o, tuple) and len(o) in (2, 3) and all(is_array_like(p) or p is None for p in o)
               for o in obj) and len(obj) > 0 and isinstance(obj, list) and isinstance(obj[0], tuple)


def _ragged(value: Any) -> str:
    lengths = [len(v) if hasattr(v, "__len__") else "a scalar" for v in value][:6]
    return f"a ragged nested list (row lengths {lengths}{' ...' if len(value) > 6 else ''})"


def as_tensor(value: Any, owner: str = "fit") -> torch.Tensor:
    """One array as a tensor: float64 NumPy becomes float32 (Keras's floatx); integer ids stay integers."""
    if torch.is_tensor(value):
        return value
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    try:
        array = np.asarray(value)
    except ValueError:  # NumPy refuses ragged nesting ("inhomogeneous shape")
        raise _validation.value_error(owner, "the data", "a rectangular array (every sample of one shape)",
                                      _ragged(value), "Pad the sequences to one length first (e.g. "
                                      "lstmkit.data.sequences(..., padding='post') or stateful_batches).") from None
    if array.dtype == object:
        raise _validation.type_error(owner, "the data", "numeric arrays", "an array of Python objects (dtype "
                                     "object)", "Ragged lists must be padded first (see lstmkit.data).")
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    return torch.from_numpy(np.ascontiguousarray(array) if array.ndim else array.copy())  # a 0-D stays 0-D


def tensors(obj: Any, owner: str = "fit") -> Any:
    """Every array in a (nested) structure as a tensor. A list of numbers becomes one tensor."""
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(o, (int, float, np.number)) for o in obj):
        return as_tensor(obj, owner)
    if isinstance(obj, (list, tuple)) and obj and not any(torch.is_tensor(o) or isinstance(o, (np.ndarray, dict))
                                                          or hasattr(o, "to_numpy") for o in obj):
        return as_tensor(obj, owner)  # nested Python lists: one array
    return map_leaves(lambda leaf: as_tensor(leaf, owner), obj)


# -- checks ---------------------------------------------------------------------------------------------
def num_samples(x: Any, y: Any = None, sample_weight: Any = None, owner: str = "fit") -> int:
    """The common first dimension of every array, or a clear error naming the mismatch."""
    sizes = {}
    for what, obj in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for i, leaf in enumerate(leaves(obj)):
            if leaf.dim() == 0:
                raise _validation.value_error(owner, what, "arrays with a first (samples) dimension",
                                              "a scalar")
            name = what if len(leaves(obj)) == 1 else f"{what}[{i}]"
            sizes[name] = int(leaf.shape[0])
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{k} has {v}" for k, v in sizes.items())
        raise _validation.value_error(owner, "x and y", "the same number of samples (first dimension)", detail,
                                      "Make every array of x and y hold one row per sample.")
    if not sizes:
        raise _validation.value_error(owner, "x", "at least one array", f"{type(x).__name__} holding none")
    if 0 in sizes.values():  # Keras fails too ("Empty logs"); an epoch of no batch would train nothing
        shapes = ", ".join(f"{what} of shape {tuple(leaf.shape)}" for what, obj in (("x", x), ("y", y))
                           for leaf in leaves(obj))
        raise _validation.value_error(owner, "x", "at least one sample", f"0 samples ({shapes})",
                                      "Check how the data was filtered or windowed.")
    return next(iter(sizes.values()))


def checked_array(x: np.ndarray | torch.Tensor, owner: str) -> tuple[torch.Tensor, int]:
    """One array as a tensor and its number of samples, converted and checked as ``as_tensor``,
    ``num_samples`` and ``check_finite`` do; a clean float NumPy array (the common case) in a few calls."""
    # exactly ndarray: a subclass such as a masked array hides values from isfinite that torch then reads
    if type(x) is np.ndarray and (x.dtype == np.float32 or x.dtype == np.float64) and x.ndim and len(x):
        array = np.ascontiguousarray(x, dtype=np.float32)  # as as_tensor: float64 becomes Keras's floatx
        if _finite(array):
            return torch.from_numpy(array), len(array)
    x_t = as_tensor(x, owner)
    n = num_samples(x_t, owner=owner)
    check_finite(x_t, "x", owner)
    return x_t, n


def _finite(array: np.ndarray) -> bool:
    """Whether every value of a float NumPy array is finite.

    A small array (one window, what a forecasting loop predicts on) is first summed in plain Python: a
    finite sum means no NaN or inf. Measured inside a ``predict`` call on a (1, 13, 1) window, NumPy's
    ``isfinite(...).all()`` cost ~13 µs (10x what it costs alone) against ~1 µs for the sum. A sum that is
    not finite (a NaN, an inf, or an overflow of large finite values) is settled by ``isfinite``.
    """
    if array.size <= 128 and math.isfinite(sum(array.ravel().tolist())):
        return True
    return bool(np.isfinite(array).all())


def check_finite(obj: Any, what: str, owner: str = "fit") -> None:
    """Raise naming the first NaN / inf position (sample, then the index inside the sample)."""
    for i, leaf in enumerate(leaves(obj)):
        if not leaf.is_floating_point() or _all_finite(leaf):
            continue
        bad = ~torch.isfinite(leaf)
        if bool(bad.any()):
            index = tuple(int(v) for v in torch.nonzero(bad)[0])
            count = int(bad.sum())
            kind = "NaN" if bool(torch.isnan(leaf[index])) else "inf"
            name = what if len(leaves(obj)) == 1 else f"{what}[{i}]"
            raise _validation.value_error(
                owner, name, "finite values", f"{count} NaN/inf values, the first ({kind}) at sample {index[0]}"
                f" (index {index})", "Drop or fill those rows (e.g. pandas dropna() / interpolate()) first.")


def _all_finite(leaf: torch.Tensor) -> bool:
    """One pass for the common, clean case (NumPy's on CPU float tensors: no aten ops)."""
    if leaf.device.type == "cpu" and leaf.dtype in (torch.float32, torch.float64) and not leaf.requires_grad:
        return _finite(leaf.numpy())
    return bool(torch.isfinite(leaf).all())


# -- batching ------------------------------------------------------------------------------------------------
def take(obj: Any, index: Any) -> Any:
    return map_leaves(lambda t: t[index], obj)


def array_batches(x: Any, y: Any, sample_weight: Any, batch_size: int, shuffle: bool | str = False,
                  steps: int | None = None) -> Iterator[Batch]:
    """Batches of consecutive (or per-epoch shuffled) samples; the last may be smaller."""
    n = num_samples(x, y, sample_weight)
    count = math.ceil(n / batch_size)
    if shuffle != "batch" and _plain_tensors(x, y, sample_weight):
        yield from _split_batches((x, y, sample_weight), n, batch_size, shuffle, steps)
        return
    if shuffle == "batch":
        starts = torch.randperm(count).tolist()
        order = None
    else:
        starts = list(range(count))
        order = torch.randperm(n) if shuffle else None
    for step, b in enumerate(starts):
        if steps is not None and step >= steps:
            return
        index = slice(b * batch_size, min(n, (b + 1) * batch_size))
        if order is not None:
            index = order[index]
        yield take(x, index), take(y, index), take(sample_weight, index)


SPLIT_ONCE_BYTES = 256 * 2 ** 20  # shuffled arrays up to this size are gathered once per epoch, not per batch


def _plain_tensors(*arrays: Any) -> bool:
    return all(a is None or torch.is_tensor(a) for a in arrays)


def _split_batches(arrays: tuple, n: int, batch_size: int, shuffle: Any, steps: int | None) -> Iterator[Batch]:
    """``array_batches`` for single tensors: the epoch's batches as views made in one ``split`` per
    array (after one gather per array when shuffling), the same values as slicing batch by batch."""
    if shuffle:
        order = torch.randperm(n)  # the draw the per-batch path makes
        if sum(a.numel() * a.element_size() for a in arrays if a is not None) > SPLIT_ONCE_BYTES:
            for b in range(math.ceil(n / batch_size) if steps is None else min(steps, math.ceil(n / batch_size))):
                index = order[b * batch_size:(b + 1) * batch_size]
                yield tuple(None if a is None else a[index] for a in arrays)
            return
        arrays = tuple(None if a is None else a[order] for a in arrays)
    count = math.ceil(n / batch_size)
    count = count if steps is None else min(steps, count)
    parts = [[None] * count if a is None else a.split(batch_size)[:count] for a in arrays]
    yield from zip(*parts)


def batch_count(source: Any) -> int | None:
    """The number of batches an iterable source holds, None if unknown (a generator, a PyDataset without len)."""
    from .py_dataset import PyDataset

    if isinstance(source, PyDataset):
        return source.num_batches
    return len(source) if hasattr(source, "__len__") else None


def iterable_batches(data: Iterable) -> Iterator[Batch]:
    """Batches from an iterable of ``(x, y)`` / ``(x, y, sample_weight)`` tuples (or bare ``x`` for predict)."""
    for batch in data:
        if isinstance(batch, (tuple, list)) and len(batch) in (1, 2, 3):  # Keras's unpack_x_y_sample_weight
            x, y, sw = (*batch, None, None)[:3]
        elif isinstance(batch, dict) and "x" in batch:
            x, y, sw = batch["x"], batch.get("y"), batch.get("sample_weight")
        else:
            x, y, sw = batch, None, None
        yield tensors(x), tensors(y), tensors(sw)


def split_validation(x: Any, y: Any, sample_weight: Any, fraction: float) -> tuple[tuple, tuple]:
    """Keras's ``validation_split``: the *last* fraction of the samples, taken before any shuffling."""
    n = num_samples(x, y, sample_weight)
    cut = int(n * (1.0 - fraction))
    if cut <= 0 or cut >= n:
        raise _validation.value_error("fit", "validation_split", "a fraction leaving samples on both sides",
                                      f"{fraction} of {n} samples ({n - cut} for validation)",
                                      "Use more data or a different fraction.")
    train = (take(x, slice(0, cut)), take(y, slice(0, cut)), take(sample_weight, slice(0, cut)))
    val = (take(x, slice(cut, n)), take(y, slice(cut, n)), take(sample_weight, slice(cut, n)))
    return train, val


def to_device(obj: Any, device: torch.device) -> Any:
    if torch.is_tensor(obj) and obj.device == device:
        return obj  # the common case, without an op
    return map_leaves(lambda t: t if t.device == device else t.to(device, non_blocking=True), obj)
