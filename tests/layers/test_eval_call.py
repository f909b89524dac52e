"""``Layer.eval_call``: inference without the per-call checks equals ``layer(x, training=False)``, and
declines (``NotImplemented``) whenever the full call has something to do; ``Sequential`` uses it only
for no-grad inference without masks or hooks."""

import numpy as np
import pytest
import torch

from lstmkit import layers
from lstmkit.models import Sequential

RECURRENT = [
    (layers.LSTM, {}), (layers.LSTM, {"go_backwards": True}), (layers.LSTM, {"return_sequences": True}),
    (layers.LSTM, {"use_bias": False}), (layers.GRU, {}), (layers.GRU, {"go_backwards": True, "return_sequences": True}),
    (layers.SimpleRNN, {}), (layers.SimpleRNN, {"activation": "relu", "return_sequences": True}),
    (layers.LSTM, {"activation": "relu"}),  # not the kernel's tanh: declines, the reference loop runs
    (layers.GRU, {"reset_after": False}),
]


def _same(layer, x):
    with torch.no_grad():
        fast = layer.eval_call(x)
        full = layer(x, training=False)
    return fast, full


@pytest.mark.parametrize("cls, kwargs", RECURRENT)
@pytest.mark.parametrize("batch", [1, 5])
def test_recurrent_eval_call_equals_the_full_call(cls, kwargs, batch):
    torch.manual_seed(0)
    layer = cls(6, **kwargs)
    x = torch.randn(batch, 7, 3)
    layer(x)  # built by a real input
    fast, full = _same(layer, x)
    if layer.fused_unsupported_reason(x) is not None:
        assert fast is NotImplemented
        return
    assert fast.shape == full.shape
    torch.testing.assert_close(fast, full, rtol=0, atol=0)
    with torch.no_grad():  # both calls took the path the dispatch chooses: oneDNN, or the C++ inference loop
        assert layer.last_path == layer.dispatch(x)[0] in ("fused", "native")


def test_recurrent_eval_call_follows_weight_updates_and_batch_sizes():
    layer = layers.LSTM(4)
    x = torch.randn(3, 5, 2)
    layer(x)
    with torch.no_grad():
        before = layer.eval_call(x)
        layer.cell.kernel.add_(0.5)  # an in-place update (as an optimizer step): the cached weights follow
        after = layer.eval_call(x)
        other = layer.eval_call(torch.randn(8, 5, 2))  # another batch size: its own zero states
    assert not torch.equal(before, after)
    with torch.no_grad():
        torch.testing.assert_close(after, layer(x, training=False), rtol=0, atol=0)
    assert other.shape == (8, 4)


@pytest.mark.parametrize("make, x", [
    (lambda: layers.LSTM(4, return_state=True), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, use_fused=False), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, activity_regularizer="l2"), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, dtype="mixed_bfloat16"), torch.randn(2, 5, 3)),
    (lambda: layers.Dense(4, activity_regularizer="l2"), torch.randn(2, 3)),
    (lambda: layers.Dense(4, dtype="mixed_bfloat16"), torch.randn(2, 3)),
    (lambda: layers.Dropout(0.5, dtype="float64"), torch.randn(2, 3)),  # the full call casts
])
def test_eval_call_declines_what_the_full_call_must_handle(make, x):
    layer = make()
    layer(x)
    with torch.no_grad():
        assert layer.eval_call(x) is NotImplemented


def stateful_twins():
    """Two stateful LSTM(5) with equal weights, ``fast`` built and reset (no memory yet), and 4 chunks."""
    torch.manual_seed(4)
    fast, full = layers.LSTM(5, stateful=True), layers.LSTM(5, stateful=True)
    chunks = [torch.randn(2, 3, 2) for _ in range(4)]
    fast(chunks[0][:, :1])
    full.load_state_dict(fast.state_dict())
    fast.reset_states()
    return fast, full, chunks


def test_stateful_eval_calls_carry_the_memory_as_the_full_calls_do():
    fast, full, chunks = stateful_twins()
    with torch.no_grad():
        assert fast.eval_call(chunks[0]) is NotImplemented  # no memory yet: the full call checks the batch
        outs_fast = [fast(chunks[0], training=False)] + [fast.eval_call(c) for c in chunks[1:]]
        outs_full = [full(c, training=False) for c in chunks]
        assert fast.eval_call(torch.randn(3, 3, 2)) is NotImplemented  # another batch: the full call's error
    for a, b in zip(outs_fast, outs_full):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(fast.states, full.states):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"received 3 samples\. Pick a batch size that divides 3 \(e\.g\. 3, 1\)"):
        Sequential([fast]).predict(torch.randn(3, 3, 2), verbose=0)  # fewer samples than the default batch
    with pytest.raises(ValueError, match="a batch of 2"):
        Sequential([fast]).predict(torch.randn(3, 3, 2), batch_size=3, verbose=0)


def test_carried_states_run_through_eval_call_as_through_the_full_call():
    """Streams and stateful forecasting feed states through ``carrying_states``: the eval path takes them
    and hands the final ones back exactly as ``forward`` does, and the slot memory stays untouched."""
    from lstmkit.layers.rnn.carry import carrying_states

    torch.manual_seed(5)
    layer = layers.LSTM(4, return_sequences=True, stateful=True)
    x = torch.randn(2, 6, 3)
    layer(x[:, :1])
    memory = [s.clone() for s in layer.states]
    start = {layer: [torch.randn(2, 4), torch.randn(2, 4)]}
    with torch.no_grad():
        with carrying_states(layer, start) as fast_carry:
            fast = layer.eval_call(x)
        with carrying_states(layer, start) as full_carry:
            full = layer(x, training=False)
    assert fast is not NotImplemented
    torch.testing.assert_close(fast, full, rtol=0, atol=0)
    for a, b in zip(fast_carry.final[layer], full_carry.final[layer]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(layer.states, memory):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_eval_call_declines_wrong_sizes_dtypes_and_unbuilt_layers():
    dense, lstm = layers.Dense(3), layers.LSTM(3)
    assert dense.eval_call(torch.randn(2, 4)) is NotImplemented  # not built yet: the full call builds
    assert lstm.eval_call(torch.randn(2, 5, 4)) is NotImplemented
    dense(torch.randn(2, 4))
    lstm(torch.randn(2, 5, 4))
    for layer, x in [(dense, torch.randn(2, 5)), (dense, torch.randn(2, 4, dtype=torch.float64)),
                     (lstm, torch.randn(2, 5, 5)), (lstm, torch.randn(2, 5, 4).double()), (lstm, torch.randn(5, 4)),
                     (lstm, torch.randn(2, 0, 4))]:
        assert layer.eval_call(x) is NotImplemented  # the full call raises or casts with its message


def test_dense_and_dropout_eval_calls_equal_the_full_calls():
    torch.manual_seed(1)
    for layer, x in [(layers.Dense(5, activation="relu"), torch.randn(4, 3)),
                     (layers.Dense(5, use_bias=False), torch.randn(2, 7, 3)),
                     (layers.Dropout(0.9), torch.randn(4, 3))]:
        layer(x)
        fast, full = _same(layer, x)
        torch.testing.assert_close(fast, full, rtol=0, atol=0)


def test_subclasses_with_their_own_forward_take_the_full_call():
    class Doubled(layers.Dense):
        def forward(self, inputs):
            return 2 * super().forward(inputs)

    layer = Doubled(2)
    x = torch.randn(3, 4)
    layer(x)
    assert layer.eval_call(x) is NotImplemented
    model = Sequential([layers.Input((4,)), layer])
    with torch.no_grad():
        torch.testing.assert_close(model(x, training=False), 2 * (x @ layer.kernel + layer.bias))


def _model():
    torch.manual_seed(2)
    return Sequential([layers.Input((6, 2)), layers.LSTM(8, go_backwards=True), layers.Dropout(0.3),
                       layers.Dense(1, activation="relu")])


def test_sequential_predict_equals_the_reference_recurrence():
    model = _model()
    x = np.random.default_rng(0).normal(size=(9, 6, 2)).astype("float32")
    fast = model.predict(x, verbose=0)
    model.layers[0].use_fused = False  # the reference loop, through the full calls
    reference = model.predict(x, verbose=0)
    np.testing.assert_allclose(fast, reference, rtol=1e-5, atol=1e-6)


def test_sequential_runs_hooks_and_masks_through_the_full_call():
    model = _model()
    x = torch.randn(3, 6, 2)
    seen = []
    handle = model.layers[2].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model.predict(x, verbose=0)
    assert seen == [torch.Size([3, 1])]
    handle.remove()
    masked = Sequential([layers.Input((None, 1)), layers.Masking(0.0), layers.LSTM(3)])
    xm = torch.tensor([[[1.0], [2.0], [0.0], [0.0]]])
    with torch.no_grad():
        full = masked(xm, training=False)
        short = masked(xm[:, :2], training=False)
    torch.testing.assert_close(full, short)  # the padded steps were skipped: the mask reached the LSTM


def test_sequential_in_training_or_with_gradients_takes_the_full_call():
    model = _model()
    x = torch.randn(4, 6, 2)
    model(x)
    calls = []
    model.layers[0].eval_call = lambda x: calls.append(1) or NotImplemented
    model(x, training=False)  # gradients on: the full call (autograd must reach the weights)
    with torch.no_grad():
        model(x, training=True)
    assert calls == []
    with torch.no_grad():
        model(x, training=False)
    assert calls == [1]


def test_functional_models_use_eval_calls_and_equal_the_full_calls():
    torch.manual_seed(3)
    from lstmkit.models import Model

    inputs = layers.Input((6, 2))
    hidden = layers.LSTM(8, return_sequences=True)(inputs)
    merged = layers.Concatenate()([layers.GRU(4)(hidden), layers.LSTM(4, go_backwards=True)(hidden)])
    model = Model(inputs, layers.Dense(1)(layers.Dropout(0.5)(merged)))
    x = torch.randn(5, 6, 2)
    fast = model.predict(x, verbose=0)
    for layer in model.layers:
        if hasattr(layer, "use_fused"):
            assert layer.last_path in ("fused", "native")  # GRU: oneDNN; small LSTMs: the C++ loop if built
            layer.use_fused = False  # the reference loops, through the full calls
    np.testing.assert_allclose(fast, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    calls = []
    dense = model.layers[-1]
    dense.eval_call = lambda x: calls.append(1) or NotImplemented
    with torch.no_grad():
        model(x, training=False)
    assert calls == [1]
