"""Bidirectional and TimeDistributed: Keras's outputs, state order, masks, and the bidirectional paths.

The two-call path is Keras's definition (a forward layer and its go_backwards twin); the fused path (one
bidirectional native kernel call) and the C++ training loop (``ops.bptt.run_bidirectional``, an LSTM
trained on CPU) must equal it in outputs, states and gradients wherever they run.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lstmkit.layers import GRU, LSTM, Bidirectional, SimpleRNN, TimeDistributed
from lstmkit.ops import native

FAMILIES = {"lstm": LSTM, "gru": GRU, "simple_rnn": SimpleRNN}
MASK = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]], dtype=torch.bool)


def twin_pair(family, merge_mode="concat", **options):
    torch.manual_seed(0)
    fused = Bidirectional(FAMILIES[family](5, **options), merge_mode=merge_mode)
    fused(torch.zeros(3, 6, 4))
    two = Bidirectional(FAMILIES[family](5, **options), merge_mode=merge_mode)
    two(torch.zeros(3, 6, 4))
    two.set_weights(fused.get_weights())
    for rnn in (two.forward_layer, two.backward_layer):
        rnn.use_fused = False
    return fused, two


def run(layer, x, **kwargs):
    x = x.clone().requires_grad_(True)
    out = layer(x, **kwargs)
    outs = out if isinstance(out, list) else [out]
    loss = sum((o * torch.linspace(-1, 1, o.numel()).reshape(o.shape)).sum() for o in outs)
    return [o.detach() for o in outs], torch.autograd.grad(loss, [x, *layer.weights])


@pytest.mark.parametrize("family, return_sequences, return_state, masked, merge_mode", [
    (f, rs, st, m, mm) for f, rs, st, m, mm in itertools.product(
        FAMILIES, [False, True], [False, True], [False, True], ["concat", "sum", None])])
def test_fused_bidirectional_equals_two_directions(native_library, family, return_sequences, return_state, masked,
                                                  merge_mode):
    fused, two = twin_pair(family, merge_mode, return_sequences=return_sequences, return_state=return_state)
    x = torch.randn(3, 6, 4)
    mask = MASK if masked else None
    out_f, grad_f = run(fused, x, mask=mask)
    out_t, grad_t = run(two, x, mask=mask)
    # Training an unmasked LSTM with gradients on CPU runs the C++ loop; every other case the native kernel.
    assert fused.last_path == ("bptt" if family == "lstm" and not masked else "fused")
    assert two.last_path == "two_calls"
    assert len(out_f) == len(out_t)
    for a, b in zip(out_f + list(grad_f), out_t + list(grad_t)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_state_order_and_initial_state_split():
    layer = Bidirectional(LSTM(3, return_state=True, return_sequences=True))
    x = torch.randn(2, 4, 2)
    init = [torch.randn(2, 3) for _ in range(4)]  # h_fw, c_fw, h_bw, c_bw
    out, h_fw, c_fw, h_bw, c_bw = layer(x, initial_state=init)
    fw_out, fh, fc = layer.forward_layer(x, initial_state=init[:2])
    bw_out, bh, bc = layer.backward_layer(x, initial_state=init[2:])
    torch.testing.assert_close(out, torch.cat([fw_out, bw_out.flip(1)], dim=-1))
    for a, b in zip([h_fw, c_fw, h_bw, c_bw], [fh, fc, bh, bc]):
        torch.testing.assert_close(a, b)
    assert out.shape == (2, 4, 6)


def test_stateful_bidirectional_carries_both_directions_on_both_paths():
    torch.manual_seed(1)
    fused, two = twin_pair("lstm", stateful=True)
    for layer in (fused, two):
        layer.reset_states()
    for _ in range(3):
        x = torch.randn(3, 6, 4)
        torch.testing.assert_close(fused(x), two(x), atol=1e-6, rtol=1e-5)
    assert fused.states is not None and len(fused.states) == 4
    fused.reset_states()
    assert fused.states is None


def test_dropout_in_training_falls_back_to_two_calls_and_says_why():
    layer = Bidirectional(LSTM(4, dropout=0.5))
    x = torch.randn(2, 3, 2)
    layer(x, training=True)
    assert layer.last_path == "two_calls"
    assert "input dropout" in layer.dispatch(x, None, True)[1]
    layer(x, training=False)
    assert layer.last_path == "fused"


# -- the C++ training loop (ops.bptt.run_bidirectional) -------------------------------------------------
@pytest.fixture
def bi_calls(native_library, monkeypatch):
    """Counts the bidirectional operators' calls, so a test knows the C++ loop is what ran."""
    counted = {"bptt_bi_forward": 0, "bptt_bi_backward": 0}

    class Counting:
        def __getattr__(self, name):
            def call(*args):
                counted[name] = counted.get(name, 0) + 1
                return getattr(native_library, name)(*args)
            return call

    monkeypatch.setattr(native, "ops", Counting)
    return counted


def float64_pair(**options):
    torch.manual_seed(3)
    fast = Bidirectional(LSTM(7, dtype="float64", **options), dtype="float64")
    fast(torch.zeros(1, 5, 3, dtype=torch.float64))
    reference = Bidirectional(LSTM(7, dtype="float64", use_fused=False, **options), dtype="float64")
    reference(torch.zeros(1, 5, 3, dtype=torch.float64))
    reference.set_weights(fast.get_weights())
    return fast, reference


@pytest.mark.parametrize("steps", [1, 2, 9])
@pytest.mark.parametrize("return_sequences, return_state, merge_mode, use_bias", [
    (True, False, "concat", True), (True, True, "concat", True), (False, True, "sum", True),
    (True, False, "mul", False), (False, False, None, True), (True, True, "ave", False)])
def test_the_c_training_loop_equals_the_reference_in_float64(bi_calls, steps, return_sequences, return_state,
                                                             merge_mode, use_bias):
    fast, reference = float64_pair(return_sequences=return_sequences, return_state=return_state,
                                   use_bias=use_bias)
    fast.merge_mode = reference.merge_mode = merge_mode
    x = torch.randn(4, steps, 3, dtype=torch.float64)
    bi_calls.update(bptt_bi_forward=0, bptt_bi_backward=0)  # the building calls left out
    initial = [torch.randn(4, 7, dtype=torch.float64, requires_grad=True) for _ in range(4)]
    results = []
    for layer in (fast, reference):
        out = layer(x.clone().requires_grad_(), initial_state=initial, training=True)
        outs = out if isinstance(out, list) else [out]
        weights = torch.linspace(-1, 1, sum(o.numel() for o in outs), dtype=torch.float64)
        loss = sum((o * w.reshape(o.shape)).sum() for o, w in zip(outs, weights.split([o.numel() for o in outs])))
        results.append(outs + list(torch.autograd.grad(loss, [*initial, *layer.weights])))
    assert fast.last_path == "bptt" and fast.forward_layer.last_path == "bptt"
    assert reference.last_path == "two_calls"
    assert bi_calls == {"bptt_bi_forward": 1, "bptt_bi_backward": 1}
    assert len(results[0]) == len(results[1])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)


def test_the_c_training_loop_writes_the_concatenation_and_trains_a_stack(bi_calls):
    """Stacked layers pass time-major buffers on: the output is the concatenation (no separate cat), and
    a 2-layer stack's step equals the reference's."""
    torch.manual_seed(0)
    stacks = []
    for use_fused in ("auto", False):
        torch.manual_seed(0)
        first = Bidirectional(LSTM(6, return_sequences=True, use_fused=use_fused))
        second = Bidirectional(LSTM(4, return_sequences=True, use_fused=use_fused))
        stacks.append(torch.nn.Sequential(first, second))
    x = torch.randn(5, 8, 3)
    stacks[0](x), stacks[1](x)
    stacks[1].load_state_dict(stacks[0].state_dict())
    bi_calls.update(bptt_bi_forward=0, bptt_bi_backward=0)
    grads = []
    for stack in stacks:
        out = stack(x)
        assert out.shape == (5, 8, 8)
        (out.square().mean()).backward()
        grads.append([p.grad.clone() for p in stack.parameters()])
    assert [layer.last_path for layer in stacks[0]] == ["bptt", "bptt"]
    assert bi_calls == {"bptt_bi_forward": 2, "bptt_bi_backward": 2}
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_stateful_training_on_the_c_loop_carries_both_directions(bi_calls):
    fast, reference = float64_pair(stateful=True, return_sequences=True)
    for layer in (fast, reference):
        layer.reset_states()
    bi_calls.update(bptt_bi_forward=0, bptt_bi_backward=0)
    for _ in range(3):
        x = torch.randn(4, 5, 3, dtype=torch.float64)
        outs = [layer(x, training=True) for layer in (fast, reference)]
        torch.testing.assert_close(outs[0], outs[1], atol=1e-12, rtol=1e-10)
        outs[0].sum().backward()
    assert fast.last_path == "bptt" and bi_calls["bptt_bi_forward"] == 3
    for a, b in zip(fast.states, reference.states):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-10)
        assert not a.requires_grad


def test_the_c_training_loop_runs_only_where_measured_and_says_why_not(native_library, monkeypatch):
    layer = Bidirectional(LSTM(4, return_sequences=True))
    x = torch.randn(2, 3, 2)
    layer(x)
    assert layer.dispatch(x, None, True) == ("bptt", None)
    assert "inference" in layer.bptt_unsupported_reason(x, None, False)
    assert "a mask" in layer.bptt_unsupported_reason(x, MASK[:2, :3], True)
    with torch.no_grad():
        assert layer.dispatch(x, None, True) == ("fused", None)
        assert layer.bptt_unsupported_reason(x, None, True) == "no gradient is being recorded"
        layer(x, training=True)
    assert layer.last_path == "fused"
    assert layer.bptt_unsupported_reason(x.double(), None, True) == \
        "the inputs and weights differ in dtype (mixed precision)"
    mixed = Bidirectional(LSTM(4, return_sequences=True), dtype="mixed_bfloat16")
    assert mixed(x, training=True).dtype == torch.bfloat16 and mixed.last_path == "fused"
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert "autocast" in mixed.bptt_unsupported_reason(x, None, True)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 8)
    assert layer.bptt_unsupported_reason(x, None, True) == "8 threads: measured with one and two only"
    monkeypatch.undo()
    for variable, value in (("LD_PRELOAD", "/usr/lib/libjemalloc.so.2"), ("MALLOC_MMAP_MAX_", "0")):
        monkeypatch.setenv(variable, value)
        assert layer.bptt_unsupported_reason(x, None, True).startswith(f"{variable}={value}: freed memory")
        assert layer.dispatch(x, None, True) == ("fused", None)
        monkeypatch.delenv(variable)
    gru = Bidirectional(GRU(4))
    gru(x)
    assert gru.dispatch(x, None, True) == ("fused", None)
    assert "gru" in gru.bptt_unsupported_reason(x, None, True)


def test_the_bidirectional_operators_reject_wrong_buffers_with_a_message(native_library):
    xp, h0, rk = torch.zeros(2, 3, 4, 8), torch.zeros(2, 4, 2), torch.zeros(2, 2, 8)
    with pytest.raises(RuntimeError, match="contiguous CPU \\(2, T, B, 4u\\) gate tensor"):
        native_library.bptt_bi_forward(torch.zeros(3, 4, 8), None, h0, h0, rk)
    with pytest.raises(RuntimeError, match="recurrent kernels must be a contiguous \\(2, 2, 8\\)"):
        native_library.bptt_bi_forward(xp, None, h0, h0, torch.zeros(2, 8, 2))
    with pytest.raises(RuntimeError, match="expected a contiguous CPU tensor of shape \\[2, 4, 2\\]"):
        native_library.bptt_bi_forward(xp, None, h0[:, :3], h0, rk)
    with pytest.raises(RuntimeError, match="the bias must be a contiguous CPU tensor of shape \\[2, 8\\]"):
        native_library.bptt_bi_forward(xp, torch.zeros(8), h0, h0, rk)
    act, cells, tanh_cells, _ = native_library.bptt_bi_forward(xp, None, h0, h0, rk)
    with pytest.raises(RuntimeError, match="expected a contiguous CPU tensor of shape \\[2, 3, 4, 2\\]"):
        native_library.bptt_bi_backward(None, h0, h0, act, cells, cells, rk)  # cells as tanh_cells


def test_the_c_training_loop_cannot_be_differentiated_twice_and_says_what_to_use(native_library):
    layer = Bidirectional(LSTM(3))
    x = torch.randn(2, 4, 1, requires_grad=True)
    out = layer(x, training=True)
    assert layer.last_path == "bptt"
    with pytest.raises(RuntimeError, match="use_fused=False"):
        torch.autograd.grad(out.sum(), x, create_graph=True)


def test_bidirectional_names_weights_and_mask():
    layer = Bidirectional(LSTM(4, return_sequences=True, name="enc"))
    assert layer.forward_layer.name == "forward_enc" and layer.backward_layer.name == "backward_enc"
    assert layer.backward_layer.go_backwards and layer.forward_layer.zero_output_for_mask
    out = layer(np.random.rand(2, 5, 3).astype("float32"), mask=MASK[:2, :5])
    assert layer.count_params() == 2 * (3 * 16 + 4 * 16 + 16)
    assert torch.all(out[1, 3:] == 0)  # masked steps output zeros in both halves


def test_bidirectional_errors():
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(TypeError, match="recurrent layer"):
        Bidirectional(TimeDistributed(LSTM(2)))


def test_time_distributed_applies_the_layer_at_every_step():
    inner = LSTM(3)
    layer = TimeDistributed(inner)
    x = torch.randn(2, 4, 5, 1)  # (batch, outer steps, inner steps, features)
    out = layer(x)
    assert out.shape == (2, 4, 3)
    torch.testing.assert_close(out[:, 2], inner(x[:, 2]))
    assert layer.compute_output_shape((None, 4, 5, 1)) == (None, 4, 3)


def test_time_distributed_rejects_2d_input_with_advice():
    with pytest.raises(ValueError, match=r"at least 3 dimensions .*received shape \(8, 3\).*return_sequences=True"):
        TimeDistributed(LSTM(2))(torch.zeros(8, 3))
