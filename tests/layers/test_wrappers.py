"""Bidirectional and TimeDistributed: Keras's outputs, state order, masks, and the fused bidirectional path.

The two-call path is Keras's definition (a forward layer and its go_backwards twin); the fused path (one
bidirectional native kernel call) must equal it in outputs, states and gradients wherever it runs.
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
def test_fused_bidirectional_equals_two_directions(family, return_sequences, return_state, masked, merge_mode,
                                                  monkeypatch):
    # The one-call path in training, which an LSTM takes on CUDA (on CPU two calls are faster).
    monkeypatch.setattr(Bidirectional, "one_call_slower_reason", lambda self, x, training: None)
    fused, two = twin_pair(family, merge_mode, return_sequences=return_sequences, return_state=return_state)
    x = torch.randn(3, 6, 4)
    mask = MASK if masked else None
    out_f, grad_f = run(fused, x, mask=mask)
    out_t, grad_t = run(two, x, mask=mask)
    assert fused.last_path == "fused" and two.last_path == "two_calls"
    assert len(out_f) == len(out_t)
    for a, b in zip(out_f + list(grad_f), out_t + list(grad_t)):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_an_lstm_trains_on_cpu_with_two_calls_and_infers_with_one():
    """Measured: two unidirectional native calls train faster than one bidirectional call on CPU; one call
    infers faster. Both equal the reference (the test above)."""
    layer = Bidirectional(LSTM(4, return_sequences=True))
    x = torch.randn(2, 3, 2)
    layer(x, training=True).sum().backward()
    assert layer.last_path == "two_calls"
    assert layer.forward_layer.last_path == ("bptt" if native.load() else "fused")  # an LSTM's C++ training loop
    assert "two unidirectional native calls are faster" in layer.dispatch(x, None, True)[1]
    with torch.no_grad():
        layer(x, training=True)  # no gradient recorded: nothing to train
        assert layer.last_path == "fused"
    layer(x, training=False)
    assert layer.last_path == "fused"
    gru = Bidirectional(GRU(4))
    gru(x, training=True).sum().backward()
    assert gru.last_path == "fused"  # not measured for other cells: one call


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
