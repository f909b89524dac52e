"""ops.infer_loop: the C++ small-batch inference loop computes what the reference recurrence computes
(outputs, final states, carried states, every LSTM option it takes), runs exactly where the dispatch says,
and the dispatch says why it does not run elsewhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.layers import GRU, LSTM, Dense, Dropout, Input
from lstmkit.models import Sequential
from lstmkit.ops import infer_loop, native


@pytest.fixture
def calls(native_library, monkeypatch):
    """Counts ``lstm_infer`` calls, so a test knows the C++ loop is what ran."""
    counted = []

    class Counting:
        def __getattr__(self, name):
            def call(*args):
                counted.append(name)
                return getattr(native_library, name)(*args)
            return call

    monkeypatch.setattr(native, "ops", Counting)
    return counted


def twins(units, features, dtype="float32", seed=0, **options):
    """An LSTM and its reference-loop twin with the same (non-trivial) weights."""
    torch.manual_seed(seed)
    layer = LSTM(units, dtype=dtype, **options)
    reference = LSTM(units, dtype=dtype, use_fused=False, **options)
    x = torch.zeros(1, 2, features, dtype=getattr(torch, dtype))
    with torch.no_grad():  # built by an inference call, so the first call counted is the test's
        layer(x), reference(x)
    weights = [w + np.random.default_rng(seed).normal(0, 0.3, w.shape).astype(w.dtype) for w in layer.get_weights()]
    layer.set_weights(weights), reference.set_weights(weights)
    if layer.stateful:  # the memory of the building call's batch goes
        layer.reset_states(), reference.reset_states()
    return layer, reference


CASES = [  # batch, steps, features, units: vector tails (units 1, 5, 17, 33), row blocks of 4 and a rest
    (1, 1, 1, 1), (3, 7, 3, 5), (4, 5, 2, 17), (5, 6, 4, 33), (9, 3, 2, 8), (2, 40, 3, 64)]
ATOL = {"float32": 3e-6, "float64": 1e-12}


@pytest.mark.parametrize("dtype, batch, steps, features, units",  # LSTM(128) in float64: 512 KiB, not taken
                         [("float32", 1, 13, 1, 128)] + [(dtype, *case) for dtype in ATOL for case in CASES])
@pytest.mark.parametrize("options", [{}, {"go_backwards": True, "return_sequences": True}, {"use_bias": False}],
                         ids=["plain", "go_backwards-sequences", "no-bias"])
def test_the_c_loop_equals_the_reference(calls, batch, steps, features, units, dtype, options):
    atol = ATOL[dtype]
    layer, reference = twins(units, features, dtype, **options)
    x = torch.randn(batch, steps, features, dtype=getattr(torch, dtype))
    with torch.no_grad():
        got, expected = layer(x, training=False), reference(x, training=False)
        fast = layer.eval_call(x)  # Sequential's per-layer inference call takes the same loop
    assert layer.last_path == "native" and calls.count("lstm_infer") == 2
    assert got.shape == expected.shape == fast.shape
    torch.testing.assert_close(got, expected, rtol=0, atol=atol)
    torch.testing.assert_close(fast, got, rtol=0, atol=0)


def test_initial_and_returned_states_equal_the_reference(calls):
    layer, reference = twins(6, 3, return_sequences=True, return_state=True)
    x = torch.randn(3, 5, 3)
    initial = [torch.randn(3, 6), torch.randn(3, 6)]
    with torch.no_grad():
        got = layer(x, initial_state=initial, training=False)
        expected = reference(x, initial_state=initial, training=False)
    assert layer.last_path == "native" and calls == ["lstm_infer"]
    for a, b in zip(got, expected):  # outputs, h, c
        torch.testing.assert_close(a, b, rtol=0, atol=3e-6)


def test_the_initial_states_given_are_not_written(calls):
    layer, _ = twins(6, 3)
    initial = [torch.randn(2, 6), torch.randn(2, 6)]
    before = [s.clone() for s in initial]
    with torch.no_grad():
        layer(torch.randn(2, 4, 3), initial_state=initial, training=False)
    assert calls and all(torch.equal(a, b) for a, b in zip(initial, before))


def test_a_stateful_layer_carries_its_states_across_predict_calls(calls):
    layer, reference = twins(5, 2, stateful=True)
    chunks = [torch.randn(2, 3, 2) for _ in range(4)]
    with torch.no_grad():
        for chunk in chunks:
            torch.testing.assert_close(layer(chunk, training=False), reference(chunk, training=False), rtol=0, atol=3e-6)
    assert layer.last_path == "native" and len(calls) == 4
    for s, t in zip(layer.states, reference.states):
        torch.testing.assert_close(s, t, rtol=0, atol=3e-6)


def test_a_models_predict_runs_the_c_loop_and_equals_the_reference(calls):
    torch.manual_seed(0)
    model = Sequential([Input((13, 1)), LSTM(128, go_backwards=True), Dropout(0.2), Dense(1, activation="relu")])
    model.compile("adam", "mse", device="cpu")
    x = np.random.default_rng(0).random((1, 13, 1)).astype("float32")
    fast = model.predict(x, verbose=0)
    assert model.layers[0].last_path == "native" and calls == ["lstm_infer"]
    model.layers[0].use_fused = False
    np.testing.assert_allclose(fast, model.predict(x, verbose=0), rtol=0, atol=3e-6)


def _reason(layer, x, training=False):
    cell = layer.cell
    return infer_loop.unavailable_reason(cell.math, x, cell.kernel, cell.recurrent_kernel, cell.bias, training)


@pytest.mark.parametrize("make, batch, grad, training, reason", [
    (lambda: LSTM(8), 2, True, False, "a gradient is being recorded: the C++ inference loop is not differentiable"),
    (lambda: LSTM(8), 2, False, True, "training: the C++ inference loop keeps nothing for a backward pass"),
    (lambda: LSTM(128), 33, False, False, "batch 33 x units 128 > 4096: oneDNN's batched matrix products"),
    (lambda: LSTM(256), 1, False, False, "units=256: the recurrent kernel exceeds 256 KiB"),
    (lambda: GRU(8), 1, False, False, "gru: the C++ inference loop computes the LSTM step only"),
])
def test_the_dispatch_says_why_the_c_loop_does_not_run(make, batch, grad, training, reason):
    layer = make()
    x = torch.randn(batch, 4, 3)
    layer(x)
    with torch.set_grad_enabled(grad):
        assert reason in _reason(layer, x, training)
        layer(x, training=training)
    # recording a gradient, an LSTM trains on ops.bptt's C++ loop where it runs (tests/ops/test_native.py)
    assert layer.last_path == ("bptt" if grad and isinstance(layer, LSTM) and native.load() else "fused")


@pytest.mark.parametrize("batch, units, path", [(64, 64, "native"), (128, 64, "native"), (64, 128, "native"),
                                                (512, 64, "fused"), (128, 128, "fused")])
def test_one_step_calls_take_the_c_loop_up_to_a_larger_batch(native_library, batch, units, path):
    """A one-step call (stateful forecasting, streams) is mostly oneDNN's setup: the C++ loop runs up to
    batch x units = 8192 there (measured 0.44-0.79x), against 4096 for longer sequences."""
    layer, reference = LSTM(units), LSTM(units, use_fused=False)
    x = torch.randn(batch, 1, 2)
    layer(x), reference(x)
    reference.set_weights(layer.get_weights())
    with torch.no_grad():
        out = layer(x, training=False)
        assert layer.last_path == path
        torch.testing.assert_close(out, reference(x, training=False), atol=3e-6, rtol=1e-5)
        if path == "fused":
            assert f"batch {batch} x units {units} > 8192 for one step" in _reason(layer, x)
        longer = torch.randn(batch, 2, 2)
        layer(longer, training=False)
        if batch * units <= 4096:
            assert layer.last_path == "native"
        else:
            assert layer.last_path == "fused"
            assert f"batch {batch} x units {units} > 4096: oneDNN" in _reason(layer, longer)


def test_without_the_library_small_inference_runs_on_the_native_kernel(monkeypatch):
    monkeypatch.setattr(native, "_loaded", False)
    monkeypatch.setattr(native, "_load_error", "disabled by LSTMKIT_NATIVE=0")
    layer = LSTM(4)
    x = torch.randn(1, 3, 2)
    with torch.no_grad():
        layer(x, training=False)
        assert "the C++ library is not loaded: disabled by LSTMKIT_NATIVE=0" in _reason(layer, x)
    assert layer.last_path == "fused"


def test_the_operator_checks_its_inputs(native_library):
    x, kernel, rk = torch.randn(2, 3, 4), torch.randn(4, 20), torch.randn(5, 20)
    with pytest.raises(RuntimeError, match=r"lstm_infer: recurrent kernel must be \(5, 20\)"):
        native_library.lstm_infer(x, kernel, None, torch.randn(4, 20), None, None, False)
    with pytest.raises(RuntimeError, match="lstm_infer: give both initial states or neither"):
        native_library.lstm_infer(x, kernel, None, rk, torch.zeros(2, 5), None, False)
    with pytest.raises(RuntimeError, match=r"lstm_infer: states must be \(2, 5\)"):
        native_library.lstm_infer(x, kernel, None, rk, torch.zeros(3, 5), torch.zeros(3, 5), False)
    with pytest.raises(RuntimeError, match="lstm_infer: every input must be a CPU tensor of x's dtype"):
        native_library.lstm_infer(x, kernel.double(), None, rk, None, None, False)
