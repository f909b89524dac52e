"""Issue 16: every floating dtype through layers, models, fit/evaluate/predict and saving.

float16 and bfloat16 run on CPU through the reference loop (the dispatch says why), except an LSTM where
oneDNN computes the dtype on this CPU; float64 through the native kernel; ``.double()`` / ``.to(dtype)`` before or after the first call move the layer's policy.
"""

import numpy as np
import pytest
import torch

from lstmkit.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN
from lstmkit.models import Sequential, load_model
from lstmkit.ops import fused

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


ONEDNN_BF16 = fused._onednn_has(torch.bfloat16)


@pytest.mark.parametrize("make, dtype, reason", [
    (LSTM, "float64", None),
    (LSTM, "bfloat16", None if ONEDNN_BF16 else "the native kernel needs float32 or float64"),
    (LSTM, "float16", None if fused._onednn_has(torch.float16) else "the native kernel needs float32 or float64"),
    (GRU, "bfloat16", "PyTorch's native GRU has no oneDNN kernel for it"),
    (SimpleRNN, "float16", "PyTorch's native RNN has no oneDNN kernel for it"),
])
def test_the_dispatch_says_why_the_native_kernel_cannot_take_a_dtype(make, dtype, reason):
    layer = make(3, dtype=dtype)
    x = torch.as_tensor(X).to(getattr(torch, dtype))
    out = layer(x)
    assert out.dtype == getattr(torch, dtype) and layer.last_path == ("fused" if reason is None else "reference")
    got = layer.dispatch(x)[1]
    assert (got is None) if reason is None else f"dtype torch.{dtype} on CPU: {reason}" in got
    if reason is not None:  # the fallback is the reference itself; use_fused=True raises the reason instead
        reference = make(3, dtype=dtype, use_fused=False)
        reference.load_state_dict(layer.state_dict())
        torch.testing.assert_close(out, reference(x), rtol=0, atol=0)
        with pytest.raises(ValueError, match=f"dtype torch.{dtype} on CPU: "):
            make(3, dtype=dtype, use_fused=True)(x)


def test_without_onednn_16_bits_a_16_bit_lstm_runs_the_reference_and_says_why(monkeypatch):
    monkeypatch.setattr(fused, "_onednn_has", lambda dtype: False)
    layer = LSTM(3, dtype="bfloat16")
    out = layer(torch.as_tensor(X).bfloat16())
    assert layer.last_path == "reference" and out.dtype == torch.bfloat16
    assert "or a CPU on which oneDNN computes it (bfloat16: AVX-512 or AMX" in layer.dispatch(out)[1]


def _errors_against_float64(make, x, mask, use_fused, weights, grad):
    """Relative errors ``|a - exact| / |exact|`` (Frobenius norms) of the outputs, input gradient and weight
    gradients of a mixed_bfloat16 layer against the same layer computed in float64."""
    exact = make("float64", False)
    exact(x.double())
    exact.set_weights(weights)
    x64 = x.double().requires_grad_()
    out64 = exact(x64, mask=mask)
    out64.backward(grad.double())
    layer = make("mixed_bfloat16", use_fused)
    layer(x)
    layer.set_weights(weights)
    x16 = x.clone().requires_grad_()
    out = layer(x16, mask=mask)
    out.float().backward(grad)
    pairs = [(out, out64), (x16.grad, x64.grad)]
    pairs += [(p.grad, q.grad) for p, q in zip(layer.parameters(), exact.parameters())]
    return torch.stack([(a.double() - b).norm() / b.norm() for a, b in pairs]).detach(), layer


@pytest.mark.skipif(not ONEDNN_BF16, reason="oneDNN has no bfloat16 LSTM on this CPU")
@pytest.mark.parametrize("case", ["plain", "go_backwards", "right-padded mask", "bidirectional"])
def test_a_bfloat16_lstm_on_onednn_is_as_accurate_as_the_reference_in_bfloat16(case):
    """The fused path computes the reference's math to bfloat16 precision: against float64, the relative
    errors of its outputs and of every gradient are within 4 bfloat16 epsilons (1.6 %) or twice the
    reference loop's in bfloat16 (measured 0.3-1.2 % against the reference's 0.1-0.8 %)."""
    torch.manual_seed(0)
    x = torch.randn(8, 30, 5)
    mask = torch.arange(30)[None] < torch.tensor([30, 20, 10, 5, 30, 1, 2, 29])[:, None] if "mask" in case else None
    if case == "bidirectional":
        # the policy on both directions: a wrapper's own dtype does not reach the layers it wraps
        make = lambda dtype, use_fused: Bidirectional(LSTM(16, return_sequences=True, use_fused=use_fused,  # noqa: E731
                                                           dtype=dtype), dtype=dtype)
    else:
        make = lambda dtype, use_fused: LSTM(16, return_sequences=True, go_backwards=case == "go_backwards",  # noqa: E731
                                             dtype=dtype, use_fused=use_fused)
    source = make("float32", False)
    source(x)
    weights = source.get_weights()
    grad = torch.randn(8, 30, 32 if case == "bidirectional" else 16)
    fused_errors, layer = _errors_against_float64(make, x, mask, True, weights, grad)
    reference_errors, reference = _errors_against_float64(make, x, mask, False, weights, grad)
    paths = [layer.last_path, reference.last_path] if case != "bidirectional" else [
        layer.forward_layer.last_path, reference.forward_layer.last_path]
    assert paths == ["fused", "reference"]
    bound = torch.clamp(2 * reference_errors, min=4 * torch.finfo(torch.bfloat16).eps)
    assert bool((fused_errors <= bound).all()), (fused_errors, reference_errors)


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


def test_to_bfloat16_after_building_computes_in_bfloat16():
    layer = LSTM(3)
    expected = layer(torch.as_tensor(X))
    layer.to(torch.bfloat16)
    out = layer(torch.as_tensor(X))
    assert out.dtype == torch.bfloat16 and layer.last_path == ("fused" if ONEDNN_BF16 else "reference")
    torch.testing.assert_close(out.float(), expected, rtol=0.05, atol=0.02)
    assert layer.get_weights()[0].dtype == np.float32  # NumPy has no bfloat16


def test_a_layer_in_an_unknown_dtype_is_an_error_naming_the_choices():
    with pytest.raises(ValueError, match="`dtype` expects one of float32, float64, float16, bfloat16, "
                                         "mixed_float16, mixed_bfloat16; received 'int32'"):
        LSTM(3, dtype="int32")
