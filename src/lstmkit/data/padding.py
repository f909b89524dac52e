"""``pad_sequences``: ragged lists of ids (or vectors) to one ``(samples, maxlen, ...)`` array, as Keras.

Keras's rules (``keras.utils.pad_sequences``, checked against Keras 3.15.1's recorded cases): ``padding`` and
``truncating`` default to ``"pre"``, ``maxlen`` to the longest sequence, ``value`` to 0 and ``dtype`` to
``"int32"`` (float sequences are truncated toward zero by the cast); an empty sequence gives a row of ``value``;
a string ``value`` needs a string or ``object`` dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validation

OWNER = "pad_sequences"


def _length(sequence: Any, position: int) -> int:
    try:
        return len(sequence)
    except TypeError:
        raise _validation.value_error(OWNER, "`sequences`", "a list of sequences (lists or arrays)",
                                      f"the non-iterable {sequence!r} at position {position}",
                                      "Wrap single values in lists, e.g. [[3, 1], [2]].") from None


def pad_sequences(sequences: Any, maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pad (or truncate) each sequence to ``maxlen`` steps: returns ``(len(sequences), maxlen, *item_shape)``.

    Args:
        sequences: a list (or array) of sequences; each item a scalar or an array of one shape.
        maxlen: the length of every row; None takes the longest sequence.
        dtype: the array's dtype (``"int32"`` by default, as Keras; pass ``"float32"`` for real values).
        padding: ``"pre"`` (values at the end, padding in front) or ``"post"``.
        truncating: ``"pre"`` drops the first steps of a long sequence, ``"post"`` the last ones.
        value: the padding value.
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise _validation.value_error(OWNER, "`sequences`", "a list of sequences", type(sequences).__name__)
    _validation.choice(OWNER, "padding", padding, ("pre", "post"))
    _validation.choice(OWNER, "truncating", truncating, ("pre", "post"))
    lengths, item_shape, found = [], (), False
    for i, sequence in enumerate(sequences):
        lengths.append(_length(sequence, i))
        if not found and lengths[-1]:
            item_shape, found = np.asarray(sequence).shape[1:], True
    if maxlen is None:
        maxlen = max(lengths) if lengths else 0
    else:
        maxlen = _validation.non_negative_int(OWNER, "maxlen", maxlen)
    try:
        np_dtype = np.dtype(dtype)
    except TypeError:
        raise _validation.type_error(OWNER, "`dtype`", "a NumPy dtype name such as 'int32', 'float32' or "
                                     "object", repr(dtype)) from None
    textual = np.issubdtype(np_dtype, np.str_) or np.issubdtype(np_dtype, np.bytes_)
    if isinstance(value, str) and np_dtype != np.dtype(object) and not textual:
        raise _validation.value_error(OWNER, "`value`", f"a number for dtype {np_dtype}",
                                      f"the string {value!r}", "Pass dtype=object for variable-length strings.")
    out = np.full((len(lengths), maxlen, *item_shape), value, dtype=np_dtype)
    if maxlen == 0:
        return out
    for i, sequence in enumerate(sequences):
        if not lengths[i]:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=np_dtype)
        if kept.shape[1:] != tuple(item_shape):
            raise _validation.value_error(OWNER, f"sequence {i}", f"items of shape {tuple(item_shape)} (the "
                                          "first non-empty sequence's)", f"items of shape {kept.shape[1:]}")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, maxlen - len(kept):] = kept
    return out
