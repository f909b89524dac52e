"""Issue 16: every floating dtype through layers, models, fit/evaluate/predict and saving.

float16 and bfloat16 run on CPU through the reference loop (the dispatch says why); float64 through the
native kernel; ``.double()`` / ``.to(dtype)`` before or after the first call move the layer's policy.
"""

import numpy as np
import pytest
import torch

from lstmkit.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN
from lstmkit.models import Sequential, load_model

X = np.random.default_rng(0).random((16, 5, 2)).astype("float32")
Y = np.random.default_rng(1).random((16, 1)).astype("float32")
DTYPES = ["float32", "float64", "bfloat16", "float16"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_model_in_each_dtype_fits_evaluates_predicts_and_reloads(dtype, tmp_path):
    torch.manual_seed(0)
    model = Sequential([LSTM(3, dtype=dtype, return_sequences=True), GRU(2, dtype=dtype), Dense(1, dtype=dtype)])
    model.compile("adam", "mse")
    before = [w.copy() for w in model.get_weights()] if model.built else None
    history = model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.isfinite(model.evaluate(X, Y, verbose=0))
    predicted = model.predict(X, verbose=0)
    # NumPy has no bfloat16: it comes back as float32, as Keras's torch backend returns it
    assert predicted.dtype == np.dtype("float32" if dtype == "bfloat16" else dtype)
    assert all(p.dtype == getattr(torch, dtype) for p in model.parameters())
    assert before is None or any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.layers[0].dtype_name == dtype and loaded.layers[0].cell.kernel.dtype == getattr(torch, dtype)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), predicted)


@pytest.mark.parametrize("dtype, path, reason", [
    ("float64", "fused", None),
    ("bfloat16", "reference", "dtype torch.bfloat16 on CPU"),
    ("float16", "reference", "dtype torch.float16 on CPU"),
])
def test_the_dispatch_says_why_the_native_kernel_cannot_take_a_dtype(dtype, path, reason):
    layer = LSTM(3, dtype=dtype)
    x = torch.as_tensor(X).to(getattr(torch, dtype))
    out = layer(x)
    assert out.dtype == getattr(torch, dtype) and layer.last_path == path
    got = layer.dispatch(x)[1]
    assert (got is None) if reason is None else reason in got
    reference = LSTM(3, dtype=dtype, use_fused=False)
    reference.load_state_dict(layer.state_dict())
    tolerance = {"float64": 1e-12, "bfloat16": 0, "float16": 0}[dtype]
    torch.testing.assert_close(out, reference(x), rtol=tolerance, atol=tolerance)
    if reason is not None:  # use_fused=True raises the reason instead of falling back
        with pytest.raises(ValueError, match="on CPU: the native kernel needs float32 or float64"):
            LSTM(3, dtype=dtype, use_fused=True)(x)


@pytest.mark.parametrize("make", [lambda: LSTM(3), lambda: GRU(3), lambda: SimpleRNN(3),
                                  lambda: Bidirectional(LSTM(3)), lambda: Dense(3)])
@pytest.mark.parametrize("when", ["before", "after"])
def test_double_before_or_after_the_first_call_computes_in_float64(make, when):
    layer = make()
    x32 = torch.as_tensor(X)
    if when == "after":
        expected = layer(x32).double()
    layer.double()
    out = layer(x32.double())
    assert out.dtype == torch.float64 and all(p.dtype == torch.float64 for p in layer.parameters())
    if when == "after":
        torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    layer.to(torch.float32)
    assert layer(x32).dtype == torch.float32 and layer.torch_dtype == torch.float32


def test_to_bfloat16_after_building_runs_the_reference_in_bfloat16():
    layer = LSTM(3)
    expected = layer(torch.as_tensor(X))
    layer.to(torch.bfloat16)
    out = layer(torch.as_tensor(X))
    assert out.dtype == torch.bfloat16 and layer.last_path == "reference"
    torch.testing.assert_close(out.float(), expected, rtol=0.05, atol=0.02)
    assert layer.get_weights()[0].dtype == np.float32  # NumPy has no bfloat16


def test_a_layer_in_an_unknown_dtype_is_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="`dtype` expects one of float32, float64, float16, bfloat16, "
                                         "mixed_float16, mixed_bfloat16; received 'int32'"):
        LSTM(3, dtype="int32")
