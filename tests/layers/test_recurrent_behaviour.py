"""Keras semantics of the recurrent layers beyond the corpus: cells, dropout, stateful, dispatch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.layers import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from lstmkit.ops import native

X = np.random.default_rng(0).standard_normal((3, 7, 2)).astype("float32")


@pytest.mark.parametrize("cls, cell_cls", [(LSTM, LSTMCell), (GRU, GRUCell), (SimpleRNN, SimpleRNNCell)])
def test_layer_equals_its_cell_stepped_by_hand(cls, cell_cls):
    layer = cls(4, return_sequences=True)
    expected = layer(X).detach()
    cell = cell_cls(4)
    cell(torch.as_tensor(X[:, 0]), cell.get_initial_state(3))
    cell.set_weights(layer.get_weights())
    states = cell.get_initial_state(3)
    outs = []
    for t in range(X.shape[1]):
        out, states = cell(torch.as_tensor(X[:, t]), states)
        outs.append(out)
    torch.testing.assert_close(torch.stack(outs, 1).detach(), expected, atol=1e-6, rtol=1e-5)


def test_generic_rnn_with_builtin_cell_matches_lstm():
    lstm = LSTM(4, return_sequences=True)
    expected = lstm(X).detach()
    rnn = RNN(LSTMCell(4), return_sequences=True)
    rnn(X)
    rnn.set_weights(lstm.get_weights())
    torch.testing.assert_close(rnn(X).detach(), expected, atol=1e-6, rtol=1e-5)


def test_generic_rnn_with_user_cell():
    class Accumulate(torch.nn.Module):
        state_size = 2

        def forward(self, x, states, training=False):
            h = states[0] + x
            return h, [h]

    out = RNN(Accumulate(), return_sequences=True)(X)
    np.testing.assert_allclose(out.numpy(), np.cumsum(X, axis=1), rtol=1e-6)


def test_weights_have_keras_shapes_and_count():
    lstm = LSTM(128)
    lstm(np.zeros((2, 13, 1), "float32"))
    assert [w.shape for w in lstm.get_weights()] == [(1, 512), (128, 512), (512,)]
    assert lstm.count_params() == 66560
    gru = GRU(4)
    gru(X)
    assert [w.shape for w in gru.get_weights()] == [(2, 12), (4, 12), (2, 12)]
    gru_before = GRU(4, reset_after=False)
    gru_before(X)
    assert [w.shape for w in gru_before.get_weights()] == [(2, 12), (4, 12), (12,)]
    assert SimpleRNN(4, use_bias=False)(X) is not None


def test_unit_forget_bias_sets_forget_block_to_one():
    lstm = LSTM(3, bias_initializer="zeros")
    lstm(X)
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    lstm = LSTM(3, bias_initializer=lstmkit.initializers.Constant(0.5))
    lstm(X)
    np.testing.assert_array_equal(lstm.get_weights()[2], [0.5] * 3 + [1.0] * 3 + [0.5] * 6)
    lstm = LSTM(3, unit_forget_bias=False, bias_initializer="zeros")
    lstm(X)
    np.testing.assert_array_equal(lstm.get_weights()[2], np.zeros(12))


def test_lazy_build_and_input_shape_build():
    lstm = LSTM(4)
    assert not lstm.built and lstm.weights == []
    lstm(X)
    assert lstm.built
    declared = LSTM(4, input_shape=(7, X.shape[2]))  # issue 16: a declared input size builds at construction
    assert declared.built and declared._batch_input_shape == (None, 7, X.shape[2])
    assert declared.count_params() == 4 * 4 * (X.shape[2] + 4 + 1)
    declared(X)
    other = LSTM(4, input_shape=(7, X.shape[2] + 1))
    kernel = other.cell.kernel
    other(X)  # as Keras, a declaration the first real input contradicts is ignored: rebuilt in place
    assert other.cell.kernel is kernel and tuple(kernel.shape) == (X.shape[2], 16)
    with pytest.raises(ValueError, match="features per step"):
        other(np.zeros((3, 7, X.shape[2] + 1), "float32"))  # once really built, the size is fixed


def test_return_sequences_and_state_shapes():
    out, h, c = LSTM(4, return_sequences=True, return_state=True)(X)
    assert out.shape == (3, 7, 4) and h.shape == (3, 4) and c.shape == (3, 4)
    torch.testing.assert_close(out[:, -1], h)
    out, h = GRU(4, return_state=True)(X)
    torch.testing.assert_close(out, h)


def test_go_backwards_returns_reversed_sequence():
    fwd = LSTM(4, return_sequences=True)
    fwd(X)
    bwd = LSTM(4, return_sequences=True, go_backwards=True)
    bwd(X)
    bwd.set_weights(fwd.get_weights())
    expected = fwd(X[:, ::-1].copy()).detach()
    torch.testing.assert_close(bwd(X).detach(), expected)


def test_dropout_only_in_training_and_mask_shared_over_time():
    lstm = LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=3, return_sequences=True)
    lstm.eval()
    a, b = lstm(X), lstm(X)
    torch.testing.assert_close(a, b)  # eval: deterministic
    plain = LSTM(4, return_sequences=True)
    plain(X)
    plain.set_weights(lstm.get_weights())
    torch.testing.assert_close(a, plain(X))  # eval equals a dropout-free layer
    lstm.train()
    c = lstm(X)
    assert not torch.allclose(a, c)  # training: dropout active
    assert lstm.last_path == "bptt"  # recurrent dropout: the hand-written loop, not the native kernel


def test_dropout_mask_is_the_same_at_every_step():
    """Constant input over time + input dropout: a SimpleRNN with zero recurrence sees the same
    dropped input at each step, so every step's output is identical."""
    rnn = SimpleRNN(3, dropout=0.5, seed=1, recurrent_initializer="zeros", return_sequences=True)
    x = np.ones((4, 5, 6), "float32")
    out = rnn(x, training=True).detach().numpy()
    for t in range(1, 5):
        np.testing.assert_allclose(out[:, t], out[:, 0], rtol=1e-6)


def test_seeded_dropout_is_reproducible():
    outs = []
    for _ in range(2):
        torch.manual_seed(0)
        layer = LSTM(4, dropout=0.3, recurrent_dropout=0.3, seed=11)
        outs.append(layer(X, training=True).detach())
    torch.testing.assert_close(outs[0], outs[1])


def test_stateful_carries_state_and_resets():
    lstm = LSTM(4, stateful=True)
    full = LSTM(4)
    full(X)
    lstm(X[:, :3])
    lstm.reset_states()
    lstm.set_weights(full.get_weights())
    lstm(X[:, :3])
    second_half = lstm(X[:, 3:])  # continues from the state after the first 3 steps
    torch.testing.assert_close(second_half, full(X), atol=1e-6, rtol=1e-5)
    lstm.reset_states()
    torch.testing.assert_close(lstm(X[:, 3:]), full(X[:, 3:]), atol=1e-6, rtol=1e-5)


def test_stateful_refuses_other_batch_size():
    lstm = LSTM(4, stateful=True)
    lstm(X)
    with pytest.raises(ValueError, match=r"batch of 3 \(stateful.*received a batch of 2.*reset_states\(\)"):
        lstm(X[:2])
    lstm.reset_states()
    assert lstm(X[:2]).shape == (2, 4)  # after a reset a new batch size starts fresh


def test_stateful_declared_batch_size_is_fixed():
    lstm = LSTM(4, stateful=True, batch_input_shape=(3, 7, 2))
    with pytest.raises(ValueError, match="a batch of 3"):
        lstm(X[:1])


def test_reset_states_to_given_values():
    lstm = LSTM(4, stateful=True, return_state=True)
    lstm(X)
    h0, c0 = np.ones((3, 4), "float32"), np.zeros((3, 4), "float32")
    lstm.reset_states([h0, c0])
    reference = LSTM(4, return_state=True)
    reference(X)
    reference.set_weights(lstm.get_weights())
    torch.testing.assert_close(lstm(X)[0], reference(X, initial_state=[h0, c0])[0])


def test_use_fused_true_raises_the_reason():
    with pytest.raises(ValueError, match="recurrent_activation='hard_sigmoid'"):
        LSTM(4, recurrent_activation="hard_sigmoid", use_fused=True)(X)
    with pytest.raises(ValueError, match="reset_after=False"):
        GRU(4, reset_after=False, use_fused=True)(X)
    with pytest.raises(ValueError, match="not right-padded"):
        LSTM(4, use_fused=True)(X, mask=np.array([[1, 0, 1, 1, 1, 1, 1]] * 3, dtype=bool))


def test_dispatch_records_path():
    lstm = LSTM(4)
    lstm(X)  # records a gradient: the C++ training loop where it is built
    assert lstm.last_path == ("bptt" if native.load() else "fused")
    with torch.no_grad():
        lstm(np.repeat(X, 200, axis=0))  # a batch too big for the C++ inference loop
    assert lstm.last_path == "fused"
    assert lstm.fused_unsupported_reason(torch.as_tensor(X)) is None
    lstm = LSTM(4, activation="relu")
    lstm(X)
    assert lstm.last_path == "reference"
    assert "activation='relu'" in lstm.fused_unsupported_reason(torch.as_tensor(X))


def test_implementation_1_and_2_agree():
    one = LSTM(4, implementation=1, return_sequences=True, use_fused=False)
    two = LSTM(4, implementation=2, return_sequences=True, use_fused=False)
    one(X)
    two(X)
    two.set_weights(one.get_weights())
    torch.testing.assert_close(one(X), two(X), atol=1e-6, rtol=1e-5)


def test_regularizers_collected_on_losses():
    lstm = LSTM(3, kernel_regularizer="l2", recurrent_regularizer=lstmkit.regularizers.L1(0.1),
                bias_regularizer="l1", activity_regularizer=lstmkit.regularizers.L2(0.5))
    out = lstm(X)
    kernel, recurrent, bias = lstm.weights
    expected = [0.01 * (kernel ** 2).sum(), 0.1 * recurrent.abs().sum(), 0.01 * bias.abs().sum(),
                0.5 * (out ** 2).sum()]
    assert len(lstm.losses) == 4
    for got, want in zip(lstm.losses, expected):
        torch.testing.assert_close(got, want)
    sum(lstm.losses).backward()  # differentiable
    assert kernel.grad is not None


def test_constraints_applied_by_apply_constraints():
    lstm = LSTM(3, kernel_constraint=lstmkit.constraints.NonNeg())
    lstm(X)
    assert (lstm.get_weights()[0] < 0).any()
    lstmkit.constraints.apply_constraints(lstm)
    assert (lstm.get_weights()[0] >= 0).all()


def test_float64_layer_and_numpy_float64_input():
    lstm = LSTM(3, dtype="float64")
    out = lstm(X.astype("float64"))
    assert out.dtype == torch.float64
    assert LSTM(3)(X.astype("float64")).dtype == torch.float32  # cast to the layer dtype, as Keras


def test_gradients_flow_to_weights_on_both_paths():
    for use_fused in (True, False):
        lstm = LSTM(3, use_fused=use_fused)
        lstm(X).sum().backward()
        assert all(w.grad is not None and torch.isfinite(w.grad).all() for w in lstm.weights)
