"""Input checks shared by the data functions: array conversion and finite-value checks.

Every message names the function, the argument, what was expected and what was given, and the rows
at fault (by position, or by the frame's index labels when a pandas object was given).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validation


def to_numpy(data: Any, owner: str, name: str) -> np.ndarray:
    """``data`` (NumPy, pandas, torch, nested lists) as a NumPy array, without copying when it can."""
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        return data.detach().cpu().numpy()
    if hasattr(data, "to_numpy"):  # pandas Series / DataFrame
        return data.to_numpy()
    try:
        return np.asarray(data)
    except (TypeError, ValueError) as error:
        raise _validation.type_error(owner, f"`{name}`", "an array (NumPy, pandas, torch or nested lists)",
                                     f"{type(data).__name__} ({error})") from None


def row_labels(data: Any, positions: np.ndarray) -> list:
    """The labels of ``positions`` in ``data``'s pandas index, or the positions themselves."""
    index = getattr(data, "index", None)
    index = None if callable(index) else index  # a pandas index, not list.index / ndarray methods
    if index is not None and len(index) > int(positions.max(initial=-1)):
        return [index[int(p)] for p in positions]
    return [int(p) for p in positions]


def describe_rows(labels: list, limit: int = 5) -> str:
    shown = ", ".join(str(label) for label in labels[:limit])
    more = f" and {len(labels) - limit} more" if len(labels) > limit else ""
    return f"{shown}{more}"


def check_finite(array: np.ndarray, owner: str, name: str, source: Any = None) -> np.ndarray:
    """Raise a ValueError naming the rows of ``array`` (axis 0) that hold NaN or inf values.

    ``source`` is the object the user passed (for pandas index labels in the message).
    """
    if not np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.integer):
        return array
    bad = ~np.isfinite(array)
    if array.ndim > 1:
        bad = bad.any(axis=tuple(range(1, array.ndim)))  # (reshape(n, -1) fails for 0 rows)
    if bad.any():
        positions = np.flatnonzero(bad)
        labels = row_labels(source if source is not None else array, positions)
        raise _validation.value_error(
            owner, f"`{name}`", "finite values", f"NaN or inf in {len(positions)} row(s): {describe_rows(labels)}",
            "Drop or fill them first (e.g. frame.dropna() or frame.interpolate()).")
    return array
