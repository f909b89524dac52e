"""``Layer.train_call``: a training call without the per-call checks equals ``layer(x, training=True)``
(outputs, gradients, a stateful memory), and declines (``NotImplemented``) whenever the full call has
something to do; ``Sequential`` uses it for unmasked, unhooked training calls outside compilation."""

import pytest
import torch

from lstmkit import layers
from lstmkit.models import Sequential

from .test_eval_call import RECURRENT, stateful_twins


def _grads(layer, out):
    weights = [p for p in layer.parameters() if p.requires_grad]
    return torch.autograd.grad(out.square().sum(), weights)


@pytest.mark.parametrize("cls, kwargs", RECURRENT)
@pytest.mark.parametrize("batch", [1, 5])
def test_recurrent_train_call_equals_the_full_call_with_gradients(cls, kwargs, batch):
    torch.manual_seed(0)
    layer = cls(6, **kwargs)
    x = torch.randn(batch, 7, 3)
    layer(x)  # built by a real input
    fast = layer.train_call(x)
    if layer.fused_unsupported_reason(x, training=True) is not None:
        assert fast is NotImplemented
        return
    full = layer(x, training=True)
    torch.testing.assert_close(fast, full, rtol=0, atol=0)
    for a, b in zip(_grads(layer, fast), _grads(layer, full)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert layer.last_path == layer.dispatch(x, training=True)[0] in ("fused", "bptt")  # bptt: an LSTM's C++ loop


def test_stateful_train_calls_carry_the_memory_as_the_full_calls_do():
    fast, full, chunks = stateful_twins()
    assert fast.train_call(chunks[0]) is NotImplemented  # no memory yet: the full call checks the batch
    outs_fast = [fast(chunks[0], training=True)] + [fast.train_call(c) for c in chunks[1:]]
    outs_full = [full(c, training=True) for c in chunks]
    assert fast.train_call(torch.randn(3, 3, 2)) is NotImplemented  # another batch: the full call's error
    for a, b in zip(outs_fast, outs_full):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(fast.states, full.states):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert not a.requires_grad  # carried detached, as the full call carries it
    for a, b in zip(_grads(fast, outs_fast[-1]), _grads(full, outs_full[-1])):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("make, x", [
    (lambda: layers.LSTM(4, dropout=0.2), torch.randn(2, 5, 3)),  # random masks: the full call draws them
    (lambda: layers.LSTM(4, recurrent_dropout=0.2), torch.randn(2, 5, 3)),
    (lambda: layers.GRU(4, dropout=0.5), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, return_state=True), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, use_fused=False), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, activity_regularizer="l2"), torch.randn(2, 5, 3)),
    (lambda: layers.LSTM(4, dtype="mixed_bfloat16"), torch.randn(2, 5, 3)),
    (lambda: layers.Dense(4, activity_regularizer="l2"), torch.randn(2, 3)),
    (lambda: layers.Dense(4, dtype="mixed_bfloat16"), torch.randn(2, 3)),
    (lambda: layers.Dropout(0.5), torch.randn(2, 3)),  # draws a mask in training
])
def test_train_call_declines_what_the_full_call_must_handle(make, x):
    layer = make()
    layer(x)
    assert layer.train_call(x) is NotImplemented


def test_dense_train_call_equals_the_full_call_with_gradients():
    torch.manual_seed(1)
    for layer, x in [(layers.Dense(5, activation="relu"), torch.randn(4, 3)),
                     (layers.Dense(5, use_bias=False), torch.randn(2, 7, 3))]:
        layer(x)
        fast, full = layer.train_call(x), layer(x, training=True)
        torch.testing.assert_close(fast, full, rtol=0, atol=0)
        for a, b in zip(_grads(layer, fast), _grads(layer, full)):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def _model():
    torch.manual_seed(2)
    return Sequential([layers.Input((6, 2)), layers.LSTM(8), layers.Dense(1, activation="relu")])


def test_sequential_training_uses_train_calls_and_equals_the_full_calls():
    model, x = _model(), torch.randn(4, 6, 2)
    fast = model(x, training=True)
    calls = []
    for layer in model.layers:
        layer.train_call = lambda x, calls=calls: calls.append(1) or NotImplemented
    full = model(x, training=True)
    assert calls == [1, 1]
    torch.testing.assert_close(fast, full, rtol=0, atol=0)
    with torch.no_grad():
        model(x, training=False)  # inference: eval_call, never train_call
    assert calls == [1, 1]


def test_sequential_training_runs_hooks_masks_and_autocast_through_the_full_call():
    model, x = _model(), torch.randn(3, 6, 2)
    calls = []
    model.layers[0].train_call = lambda x: calls.append(1) or NotImplemented
    seen = []
    handle = model.layers[1].register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model(x, training=True)
    assert seen == [torch.Size([3, 1])]
    handle.remove()
    model(x, training=True, mask=torch.ones(3, 6, dtype=torch.bool))  # an explicit mask: full calls
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x, training=True)  # the full call turns autocast off for float32 layers
    assert out.dtype == torch.float32
    assert calls == [1]


def test_a_sequential_model_train_call_equals_its_full_call_and_declines_other_inputs():
    model, x = _model(), torch.randn(4, 6, 2)
    torch.testing.assert_close(model.train_call(x), model(x, training=True), rtol=0, atol=0)
    assert model.train_call(x.double()) is NotImplemented  # the full call casts to the Input's dtype
    with pytest.raises(ValueError, match="declared"):
        model.train_call(torch.randn(4, 5, 2))  # the declared shape is still checked
    unbuilt = Sequential([layers.LSTM(3), layers.Dense(1)])
    assert unbuilt.train_call(x) is NotImplemented


def test_fit_runs_model_hooks_through_the_full_call():
    model = _model()
    model.compile("adam", "mse", device="cpu")
    seen = []
    model.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    model.fit(torch.randn(4, 6, 2), torch.randn(4, 1), batch_size=2, verbose=0)
    assert seen == [torch.Size([2, 1])] * 2
