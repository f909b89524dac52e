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


@FUZZ(120)
@given(name=st.sampled_from(sorted(RECURRENT)), units=st.integers(1, 3), batch=st.integers(1, 3),
       steps=st.integers(1, 3), features=st.integers(1, 2),
       mask=st.sampled_from([None, "ok", "all_false", "wrong_shape", "float"]),
       state=st.sampled_from([None, "ok", "wrong_batch", "wrong_units", "one_too_few", "nan"]),
       return_state=st.booleans(), stateful=st.booleans(), go_backwards=st.booleans())
def test_recurrent_call_arguments(name, units, batch, steps, features, mask, state, return_state, stateful,
                                  go_backwards):
    rng = np.random.default_rng(batch * 7 + steps)
    kwargs = {"batch_input_shape": (batch, steps, features)} if stateful else {}
    layer = RECURRENT[name](units, return_state=return_state, stateful=stateful, go_backwards=go_backwards,
                            **kwargs)
    x = rng.normal(size=(batch, steps, features)).astype("float32")
    n_states = 2 if name == "LSTM" else 1
    call = {}
    if mask is not None:
        call["mask"] = {"ok": rng.random((batch, steps)) > 0.3, "all_false": np.zeros((batch, steps), bool),
                        "wrong_shape": np.ones((batch, steps + 1), bool),
                        "float": rng.random((batch, steps)).astype("float32")}[mask]
    if state is not None:
        rows, width, count = batch + (state == "wrong_batch"), units + (state == "wrong_units"), \
            n_states - (state == "one_too_few")
        states = [torch.zeros(rows, width) for _ in range(count)]
        if state == "nan" and states:
            states[0][0, 0] = float("nan")
        call["initial_state"] = states if count != 1 or name != "LSTM" else states
    case = (name, units, batch, steps, features, mask, state, return_state, stateful, go_backwards)
    out = outcome(lambda: layer(x, **call), shape_mentions(x) + [str(units), str(batch), str(n_states), "mask",
                                                                  "state", "NaN", str(steps + 1), str(units + 1),
                                                                  str(batch + 1), str(n_states - 1)], case)
    if out is ERROR:
        return
    outputs = out if isinstance(out, (list, tuple)) else [out]
    expect(len(outputs) == (1 + n_states if return_state else 1), f"{len(outputs)} outputs", case)
    expect(tuple(outputs[0].shape) == (batch, units), f"output shape {tuple(outputs[0].shape)}", case)
    if state != "nan":
        expect(all(finite(o) for o in outputs), "NaN/inf output for finite input", case)
