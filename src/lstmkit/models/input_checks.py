"""The check of a model's inputs against the shapes its ``Input`` / ``input_shape`` declared.

A model declared ``Input(shape=(5, 2))`` that is fed ``(8, 7, 2)`` arrays would otherwise run: an LSTM takes
any number of steps, so fit / evaluate / predict / ``model(x)`` would quietly use a model on data it was not
built for. Keras 3 is loud here too: ``Layer.__call__`` checks the model's ``input_spec`` (the declared shape
with the batch left free) and raises "Input 0 of layer ... is incompatible with the layer: expected
shape=(None, 5, 2), found shape=(8, 7, 2)" for functional and Sequential models alike (tf.keras 2 only
warned). lstmkit matches Keras 3 and adds what was declared, where, and how to fix it. The batch axis and
``None`` dims stay free; a Sequential model built from its first batch (no declaration) is not checked.
"""

from __future__ import annotations

from typing import Any

from .. import _validation


def _declaration(shape: tuple) -> str:
    return f"Input(shape={tuple(shape[1:])}) or input_shape={tuple(shape[1:])}"


def check_declared(owner: str, declared: list[tuple], names: list[str], values: list[Any]) -> None:
    """Raise a ValueError when a value's rank or a fixed (non-None, non-batch) dim differs from its declaration.

    ``declared``: the batch shapes of the model's inputs (``(None, 5, 2)``); ``values``: the tensors given.
    """
    for shape, name, value in zip(declared, names, values):
        given = tuple(getattr(value, "shape", ()))
        if len(given) != len(shape):
            fix = (f"Add the last axis: x[..., None] gives shape {(*given, 1)}." if len(given) + 1 == len(shape)
                   and shape[-1] == 1 else f"Reshape the data to {len(shape)} dims, or declare the input with "
                   "the shape the data has.")
            raise _validation.value_error(
                owner, f"input '{name}'", f"arrays of rank {len(shape)}, shape {tuple(shape)} (declared by "
                f"{_declaration(shape)}; None is free)", f"a {len(given)}-D array of shape {given}", fix)
        bad = [axis for axis in range(1, len(shape)) if shape[axis] is not None and shape[axis] != given[axis]]
        if bad:
            axes = ", ".join(f"axis {a}: declared {shape[a]}, given {given[a]}" for a in bad)
            time_hint = (" For any number of time steps declare the time axis None, e.g. "
                         f"Input(shape={(None, *shape[2:])})." if 1 in bad and len(shape) >= 3 else "")
            raise _validation.value_error(
                owner, f"input '{name}'", f"shape {tuple(shape)} (declared by {_declaration(shape)}; the batch "
                "and None dims are free)", f"an array of shape {given} ({axes})",
                f"Feed data of the declared shape, or rebuild the model for the data's shape.{time_hint}")
