"""Stateful batch alignment: lay several long sequences out so that slot i of batch k+1 continues slot i
of batch k (seed 004's oil tanks), chunked for truncated back-propagation through time.

A stateful layer carries the final state of batch slot i into slot i of the next batch. Each sequence
therefore owns one slot for as many consecutive batches as it has chunks; when it ends, the next waiting
sequence takes the slot over, and that slot's state must be zeroed first: ``resets[k, i]`` says so.
The last chunk of a sequence is padded to the chunk length, with sample weight 0 on the padding, and
slots with nothing left to run get all-padding chunks (weight 0, reset).

Layout: ``x[k * batch_size + i]`` is slot i of batch k, so ``fit(b.x, b.y, batch_size=b.batch_size,
shuffle=False)`` sees the same order (``fit(b)`` also applies the resets).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import _validation
from .checks import check_finite, to_numpy

OWNER = "stateful_batches"


@dataclass
class StatefulBatches:
    """Chunks of several sequences laid out for a stateful model (see the module docstring).

    Attributes:
        x: ``(n_batches * batch_size, chunk, features)`` float32 inputs.
        y: ``(n_batches * batch_size, chunk, *target_dims)`` targets, or None.
        sample_weight: ``(n_batches * batch_size, chunk)`` float32, 1 on real steps, 0 on padding.
        resets: ``(n_batches, batch_size)`` bool, True where the slot's state must be zeroed before batch k.
        source: ``(n_batches, batch_size, 2)`` int, the (sequence index, first step) each chunk came from,
            ``(-1, -1)`` for an all-padding chunk.
        lengths: the length of each input sequence.
        batch_size, chunk: the layout's sizes.
    """

    x: np.ndarray
    y: np.ndarray | None
    sample_weight: np.ndarray
    resets: np.ndarray
    source: np.ndarray
    lengths: np.ndarray
    batch_size: int
    chunk: int

    def __len__(self) -> int:
        return int(self.resets.shape[0])

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray | None, np.ndarray]]:
        """``(x, y, sample_weight)`` of each batch in order (apply ``resets[k]`` before batch k)."""
        b = self.batch_size
        for k in range(len(self)):
            rows = slice(k * b, (k + 1) * b)
            yield self.x[rows], None if self.y is None else self.y[rows], self.sample_weight[rows]

    def to_sequences(self, outputs: Any) -> list[np.ndarray]:
        """Put per-step outputs ``(n_batches * batch_size, chunk, ...)`` back together, one array
        ``(length_j, ...)`` per input sequence j, padding dropped (the inverse of the layout)."""
        outputs = np.asarray(outputs)
        expected = (len(self) * self.batch_size, self.chunk)
        if outputs.shape[:2] != expected:
            raise _validation.value_error(
                "StatefulBatches.to_sequences", "outputs", f"per-step outputs of shape {expected} + (...)",
                f"shape {outputs.shape}", "Predict with a model that returns sequences (return_sequences=True).")
        pieces: list[list[tuple[int, np.ndarray]]] = [[] for _ in self.lengths]
        flat_source = self.source.reshape(-1, 2)
        for row, (seq, start) in enumerate(flat_source):
            if seq >= 0:
                steps = min(self.chunk, int(self.lengths[seq]) - int(start))
                pieces[seq].append((int(start), outputs[row, :steps]))
        return [np.concatenate([p for _, p in sorted(parts, key=lambda item: item[0])]) for parts in pieces]


def stateful_batches(sequences: Any, targets: Any = None, batch_size: int = 1, chunk: int | None = None,
                     pad_value: float = 0.0) -> StatefulBatches:
    """Lay sequences out so that each continues in the same batch slot from batch to batch.

    Args:
        sequences: a ``(n, T, features)`` array, or a list of ``(T_j, features)`` (or ``(T_j,)``) arrays.
        targets: per-step targets with the same layout (``(T_j, ...)`` each, or an ``(n, T)`` array of one
            value per step), or None.
        batch_size: slots per batch, the stateful model's fixed batch size. Default 1.
        chunk: steps per batch (truncated back-propagation length); None: the longest sequence, so that
            each sequence is one chunk.
        pad_value: the input value on padded steps.

    Pass sequences without their padding (e.g. ``[x[:n] for x, n in zip(seq.x, seq.lengths)]`` for a
    ``data.sequences`` result): every step given here weighs 1 in the loss.

    Returns:
        A ``StatefulBatches``. Sequences take slots in order: sequence j goes to the slot that frees up
        first (the lowest such slot on ties), so with ``n == batch_size`` sequence j is slot j.

    Example:
        >>> b = stateful_batches([tank_a, tank_b], batch_size=2, chunk=2)  # tanks (5, 2) each
        >>> b.x.shape, b.resets[:, 0]                                        # ((6, 2, 2), [True, False, False])
    """
    xs = _as_sequences(sequences, "sequences")
    ys = None if targets is None else _as_sequences(targets, "targets", keep_1d=True)
    batch_size = _validation.positive_int(OWNER, "batch_size", batch_size)
    if ys is not None:
        _check_aligned(xs, ys)
    lengths = np.asarray([len(s) for s in xs], dtype=np.int64)
    chunk = int(lengths.max()) if chunk is None else _validation.positive_int(OWNER, "chunk", chunk)
    plan = _assign_slots(lengths, chunk, batch_size)
    n_batches = max(len(slot) for slot in plan)

    source = np.full((n_batches, batch_size, 2), -1, dtype=np.int64)
    for i, slot in enumerate(plan):
        for k, piece in enumerate(slot):
            source[k, i] = piece
    resets = np.ones((n_batches, batch_size), dtype=bool)
    resets[1:] = (source[1:, :, 1] <= 0)  # a slot resets when a new sequence (or padding) starts in it
    x = _gather(xs, source, chunk, pad_value, np.float32)
    y = None if ys is None else _gather(ys, source, chunk, 0.0, None)
    weight = _gather([np.ones(len(s), np.float32) for s in xs], source, chunk, 0.0, np.float32)
    return StatefulBatches(x, y, weight, resets, source, lengths, batch_size, chunk)


def _assign_slots(lengths: np.ndarray, chunk: int, batch_size: int) -> list[list[tuple[int, int]]]:
    """Per slot, the ``(sequence, first step)`` of each of its chunks in order."""
    plan: list[list[tuple[int, int]]] = [[] for _ in range(batch_size)]
    for seq, length in enumerate(lengths):
        slot = min(range(batch_size), key=lambda i: (len(plan[i]), i))  # the one free first
        plan[slot].extend((seq, start) for start in range(0, int(length), chunk))
    return plan


def _gather(arrays: list[np.ndarray], source: np.ndarray, chunk: int, pad: float, dtype: Any) -> np.ndarray:
    n_batches, batch_size, _ = source.shape
    dtype = dtype or np.result_type(*arrays)  # one sequence of floats makes all targets float
    out = np.full((n_batches * batch_size, chunk, *arrays[0].shape[1:]), pad, dtype=dtype)
    for row, (seq, start) in enumerate(source.reshape(-1, 2)):
        if seq >= 0:
            piece = arrays[seq][start:start + chunk]
            out[row, :len(piece)] = piece
    return out


def _as_sequences(data: Any, name: str, keep_1d: bool = False) -> list[np.ndarray]:
    if isinstance(data, (list, tuple)) and data and not np.isscalar(data[0]):
        arrays = [to_numpy(d, OWNER, f"{name}[{j}]") for j, d in enumerate(data)]
    else:
        array = to_numpy(data, OWNER, name)
        per_step_values = keep_1d and array.ndim == 2  # targets (n, T): one value per step of each sequence
        if array.ndim != 3 and not per_step_values:
            raise _validation.value_error(
                OWNER, f"`{name}`", "a (n_sequences, timesteps, features) array or a list of (timesteps, "
                "features) arrays", _validation.describe_array(array),
                f"For one sequence of shape {array.shape}, pass [{name}]." if array.ndim in (1, 2) else None)
        arrays = list(array)
    if not arrays:
        raise _validation.value_error(OWNER, f"`{name}`", "at least one sequence", "none")
    out = []
    for j, array in enumerate(arrays):
        if array.ndim == 1 and not keep_1d:
            array = array[:, None]
        if array.ndim < 1 or len(array) == 0:
            raise _validation.value_error(OWNER, f"`{name}[{j}]`", "at least one time step",
                                          _validation.describe_array(array))
        check_finite(array, OWNER, f"{name}[{j}]")
        out.append(array)
    if name == "sequences" and len({a.shape[1:] for a in out}) > 1:
        shapes = sorted({a.shape[1:] for a in out})
        raise _validation.value_error(OWNER, "`sequences`", "the same features at every step of every sequence",
                                      f"per-step shapes {shapes}")
    return out


def _check_aligned(xs: Sequence[np.ndarray], ys: Sequence[np.ndarray]) -> None:
    if len(xs) != len(ys):
        raise _validation.value_error(OWNER, "`targets`", f"one target sequence per input sequence ({len(xs)})",
                                      f"{len(ys)}")
    for j, (x, y) in enumerate(zip(xs, ys)):
        if len(x) != len(y):
            raise _validation.value_error(OWNER, f"`targets[{j}]`", f"{len(x)} steps, as sequences[{j}]",
                                          f"{len(y)} steps", "Targets are per step: one row per input row.")
