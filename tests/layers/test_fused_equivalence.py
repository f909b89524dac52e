"""The fused path equals the reference (the specification) on every configuration it claims, and so does
ops.bptt's C++ loop where an LSTM trains on it instead.

Outputs, final states and gradients with respect to inputs, initial states and every weight.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lstmkit.layers import GRU, LSTM, SimpleRNN
from lstmkit.ops import native

torch.set_default_dtype(torch.float32)

FAMILIES = {
    "lstm": lambda **kw: LSTM(5, **kw),
    "gru": lambda **kw: GRU(5, **kw),
    "simple_rnn": lambda **kw: SimpleRNN(5, **kw),
    "simple_rnn_relu": lambda **kw: SimpleRNN(5, activation="relu", **kw),
}
MASKS = {
    "none": None,
    "right_padded": np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=bool),
}
OPTIONS = [dict(go_backwards=g, return_sequences=r, use_bias=b, zero_output_for_mask=z)
           for g, r, b, z in itertools.product([False, True], [False, True], [True, False], [False, True])]


def twin_layers(family: str, options: dict, seed: int = 0):
    torch.manual_seed(seed)
    fused = FAMILIES[family](use_fused=True, return_state=True, **options)
    reference = FAMILIES[family](use_fused=False, return_state=True, **options)
    x = torch.randn(3, 6, 4, dtype=torch.float64).float()
    fused(x)
    reference(x)
    weights = fused.get_weights()
    rng = np.random.default_rng(seed)
    weights = [w + 0.3 * rng.standard_normal(w.shape).astype(w.dtype) for w in weights]  # all weights matter
    fused.set_weights(weights)
    reference.set_weights(weights)
    return fused, reference


def run_with_grads(layer, x, states, mask):
    x = x.clone().requires_grad_(True)
    states = [s.clone().requires_grad_(True) for s in states]
    outputs = layer(x, mask=mask, initial_state=states, training=False)
    loss = sum((o * torch.linspace(-1, 1, o.numel()).reshape(o.shape)).sum() for o in outputs)
    params = layer.weights
    grads = torch.autograd.grad(loss, [x, *states, *params])
    return [o.detach() for o in outputs], grads


def training_path(family: str, mask, loop: bool) -> str:
    """The path a call recording gradients takes: an unmasked LSTM trains on ops.bptt's C++ loop where
    that is built (faster than oneDNN's kernel at these sizes), unless the test switched it off."""
    return "bptt" if loop and family == "lstm" and mask is None and native.load() else "fused"


def choose_path(request, loop: bool) -> bool:
    """An LSTM's two training paths: ops.bptt's C++ loop where the dispatch takes it (the library built if it
    is not), or oneDNN's kernel with the loop switched off."""
    request.getfixturevalue("native_library" if loop else "without_training_loop")
    return loop


@pytest.fixture(params=[True, False], ids=["loop", "onednn"])
def loop(request):
    return choose_path(request, request.param)


def family_paths(families):
    """(family, loop) pairs: both paths for the LSTM, the native kernel for the other cells."""
    return [pytest.param(f, loop, id=f"{f}-{'loop' if loop else 'onednn'}")
            for f in families for loop in ((True, False) if f == "lstm" else (False,))]


@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(k for k, v in o.items() if v) or "plain")
@pytest.mark.parametrize("family, loop", family_paths(FAMILIES))
def test_fused_equals_reference(family, options, mask_name, loop, request):
    choose_path(request, loop)
    fused, reference = twin_layers(family, options)
    torch.manual_seed(1)
    x = torch.randn(3, 6, 4)
    states = [torch.randn(3, 5) for _ in fused.state_size]
    mask = MASKS[mask_name]
    out_f, grads_f = run_with_grads(fused, x, states, mask)
    assert fused.last_path == training_path(family, mask, loop)
    out_r, grads_r = run_with_grads(reference, x, states, mask)
    assert reference.last_path == "reference"
    for a, b in zip(out_f, out_r):
        torch.testing.assert_close(a, b, atol=2e-6, rtol=1e-5)
    for a, b in zip(grads_f, grads_r):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("family, loop", family_paths(["lstm", "gru"]))
def test_fused_equals_reference_stateful_across_calls(family, loop, request):
    choose_path(request, loop)
    fused, reference = twin_layers(family, dict(stateful=True, return_sequences=True))
    fused.reset_states()
    reference.reset_states()
    torch.manual_seed(2)
    for _ in range(3):
        x = torch.randn(3, 6, 4)
        for a, b in zip(fused(x), reference(x)):
            torch.testing.assert_close(a, b, atol=2e-6, rtol=1e-5)
    assert fused.last_path == training_path(family, None, loop)


def test_input_dropout_stays_on_fused_path_and_matches_reference(loop):
    """Input dropout is one (batch, features) mask: the fast paths run on the masked inputs."""
    fused = LSTM(5, dropout=0.5, seed=7, use_fused=True, return_sequences=True)
    reference = LSTM(5, dropout=0.5, seed=7, use_fused=False, return_sequences=True)
    x = torch.randn(4, 6, 3)
    fused(x, training=False)
    reference(x, training=False)
    reference.set_weights(fused.get_weights())
    out_f = fused(x, training=True)
    out_r = reference(x, training=True)
    assert fused.last_path == training_path("lstm", None, loop)
    torch.testing.assert_close(out_f, out_r, atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_recurrent_dropout_fast_path_equals_reference(go_backwards, return_sequences):
    """LSTM recurrent dropout in training runs the hand-written BPTT path (ops.bptt); with the same
    seeded masks it equals the reference loop in outputs, final states and every gradient."""
    options = dict(recurrent_dropout=0.3, dropout=0.2, seed=4, return_state=True,
                   go_backwards=go_backwards, return_sequences=return_sequences)
    fast, reference = LSTM(6, **options), LSTM(6, use_fused=False, **options)
    x = torch.randn(3, 5, 2)
    fast(x, training=False)
    reference(x, training=False)
    reference.set_weights(fast.get_weights())
    states = [torch.randn(3, 6) for _ in range(2)]
    out_f, grads_f = run_with_grads_training(fast, x, states)
    assert fast.last_path == "bptt"
    out_r, grads_r = run_with_grads_training(reference, x, states)
    assert reference.last_path == "reference"
    for a, b in zip(out_f, out_r):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    for a, b in zip(grads_f, grads_r):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def run_with_grads_training(layer, x, states):
    x = x.clone().requires_grad_(True)
    states = [s.clone().requires_grad_(True) for s in states]
    outputs = layer(x, initial_state=states, training=True)
    loss = sum((o * torch.linspace(-1, 1, o.numel()).reshape(o.shape)).sum() for o in outputs)
    grads = torch.autograd.grad(loss, [x, *states, *layer.weights])
    return [o.detach() for o in outputs], grads


def test_recurrent_dropout_with_mask_or_gru_uses_reference():
    lstm = LSTM(4, recurrent_dropout=0.3)
    mask = np.ones((2, 5), bool)
    lstm(np.zeros((2, 5, 3), "float32"), mask=mask, training=True)
    assert lstm.last_path == "reference"
    gru = GRU(4, recurrent_dropout=0.3)
    gru(np.zeros((2, 5, 3), "float32"), training=True)
    assert gru.last_path == "reference"


@pytest.mark.parametrize("family", ["lstm", "gru", "simple_rnn"])
def test_flat_weights_for_cudnn_are_one_chunk_and_keep_gradients(family):
    """CUDA runs the kernel on ``flat_weights``: one contiguous buffer, same values, same gradients."""
    from lstmkit.ops import fused

    layer = FAMILIES[family]()
    layer(torch.zeros(1, 2, 3))
    params = fused.torch_weights(layer.cell.math, *layer.weights)
    flat = fused.flat_weights(params)
    storage = flat[0].untyped_storage().data_ptr()
    assert all(p.is_contiguous() and p.untyped_storage().data_ptr() == storage for p in flat)
    for a, b in zip(flat, params):
        assert torch.equal(a, b)
    grads = torch.autograd.grad(sum((p * (i + 1)).sum() for i, p in enumerate(flat)), layer.weights)
    expected = torch.autograd.grad(sum((p * (i + 1)).sum() for i, p in enumerate(params)), layer.weights)
    for a, b in zip(grads, expected):
        assert torch.equal(a, b)
