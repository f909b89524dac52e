"""Fuzz the layer calls (issue 13): random ranks, dims (0 and 1 included), dtypes, NaN / inf, NumPy / torch /
lists, and a second call with other shapes. Every outcome is the right output shape (finite for finite
input) or a clear ValueError / TypeError (see harness)."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from lstmkit import layers

from .harness import ERROR, FUZZ, arrays, as_kind, expect, finite, outcome, shape_mentions

RECURRENT = {"LSTM": layers.LSTM, "GRU": layers.GRU, "SimpleRNN": layers.SimpleRNN}


def recurrent(draw):
    name = draw(st.sampled_from(sorted(RECURRENT)))
    units = draw(st.integers(1, 3))
    seq = draw(st.booleans())
    layer = RECURRENT[name](units, return_sequences=seq)
    def expected(shape):
        return (shape[0], shape[1], units) if seq else (shape[0], units)
    return layer, expected


def bidirectional(draw):
    units = draw(st.integers(1, 3))
    seq = draw(st.booleans())
    mode = draw(st.sampled_from(["concat", "sum", "mul", "ave"]))
    layer = layers.Bidirectional(layers.LSTM(units, return_sequences=seq), merge_mode=mode)
    width = 2 * units if mode == "concat" else units
    return layer, lambda s: (s[0], s[1], width) if seq else (s[0], width)


def time_distributed(draw):
    units = draw(st.integers(1, 3))
    return layers.TimeDistributed(layers.Dense(units)), lambda s: (*s[:-1], units)


def dense(draw):
    units = draw(st.integers(1, 3))
    return layers.Dense(units), lambda s: (*s[:-1], units)


def conv1d(draw):
    filters, kernel = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same", "causal"]))
    layer = layers.Conv1D(filters, kernel, padding=padding)
    return layer, lambda s: (s[0], s[1] - kernel + 1 if padding == "valid" else s[1], filters)


def masking(draw):
    return layers.Masking(mask_value=0.0), lambda s: s


def embedding(draw):
    dim, out = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    return layers.Embedding(dim, out, mask_zero=draw(st.booleans())), lambda s: (*s, out)


BUILDERS = [recurrent, bidirectional, time_distributed, dense, conv1d, masking, embedding]


@st.composite
def layer_cases(draw):
    layer, expected = draw(st.sampled_from(BUILDERS))(draw)
    return layer, expected


def check_call(layer, expected, array, kind):
    x = as_kind(array, kind)
    array = np.asarray(x) if kind == "list" else array  # nested lists lose empty axes: [[], []] is (2, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        case = (type(layer).__name__, array.shape, str(array.dtype), kind)
        out = outcome(lambda: layer(x), shape_mentions(array) + ["indices"], case)
    if out is ERROR:
        return
    expect(torch.is_tensor(out), f"{type(layer).__name__} returned {type(out).__name__}", case)
    expect(tuple(out.shape) == tuple(expected(array.shape)),
           f"{type(layer).__name__} gave shape {tuple(out.shape)}, expected {expected(array.shape)}", case)
    if array.size and finite(array):
        expect(finite(out), f"{type(layer).__name__} gave NaN/inf for finite input", case)


@FUZZ(300)
@given(case=layer_cases(), first=arrays(), second=arrays(), kind=st.sampled_from(["numpy", "torch", "list"]))
def test_layer_call_is_a_result_or_a_clear_error(case, first, second, kind):
    layer, expected = case
    check_call(layer, expected, first, kind)
    check_call(layer, expected, second, "numpy")  # after a build (or a failed one) with another shape


@FUZZ(120)
@given(case=layer_cases(), batch=st.integers(0, 2), steps=st.integers(0, 2), features=st.integers(1, 3),
       dtype=st.sampled_from(["float32", "float64", "float16"]))
def test_well_formed_sequences_with_tiny_batch_and_time(case, batch, steps, features, dtype):
    layer, expected = case
    array = np.random.default_rng(batch * 9 + steps).normal(size=(batch, steps, features)).astype(dtype)
    if isinstance(layer, layers.Embedding):
        array = np.abs(array).astype("int64") % 2
    check_call(layer, expected, array, "numpy")
