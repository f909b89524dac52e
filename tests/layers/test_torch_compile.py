"""``torch.compile(layer)`` and ``torch.compile(model)`` give the eager numbers (issue 16).

While Dynamo traces, the dispatch answers "compiling" (the native kernel has no fake-tensor kernel) and
the graph holds the reference loop; a first call inside the trace builds the layer eagerly (graph break).
Tiny shapes keep the compilations short; still, each compilation takes seconds, so most are marked slow.
"""

import pytest
import torch

from lstmkit.layers import GRU, LSTM, Bidirectional, Dense, SimpleRNN
from lstmkit.models import Sequential
from lstmkit.ops import fused

X = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(0))


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.slow
@pytest.mark.parametrize("make", [lambda: LSTM(3, return_sequences=True), lambda: GRU(3),
                                  lambda: SimpleRNN(3), lambda: Bidirectional(LSTM(2))],
                         ids=["lstm", "gru", "simple_rnn", "bidirectional"])
def test_compiled_layer_gives_the_eager_numbers(make):
    torch.manual_seed(0)
    layer = make()
    expected = layer(X)
    compiled = torch.compile(layer)
    torch.testing.assert_close(compiled(X), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(compiled(X * 0.5), layer(X * 0.5), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_compiled_model_trains_like_the_eager_one():
    torch.manual_seed(0)
    model = Sequential([LSTM(3, input_shape=(4, 3)), Dense(1)])
    eager = Sequential([LSTM(3, input_shape=(4, 3)), Dense(1)])
    eager.load_state_dict(model.state_dict())
    compiled = torch.compile(model)
    torch.testing.assert_close(compiled(X), eager(X), rtol=1e-5, atol=1e-6)
    for net in (compiled, eager):
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        loss = net(X).square().mean()
        loss.backward()
        optimizer.step()
    for (name, a), b in zip(model.named_parameters(), eager.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_an_unbuilt_layer_builds_eagerly_inside_the_trace():
    torch.manual_seed(0)
    layer = LSTM(3)
    out = torch.compile(layer)(X)
    assert layer.built and tuple(layer.cell.kernel.shape) == (3, 12)
    torch.testing.assert_close(out, layer(X), rtol=1e-5, atol=1e-6)


def test_the_dispatch_reason_while_compiling(monkeypatch):
    layer = LSTM(3)
    layer(X)
    assert layer.dispatch(X)[1] is None  # the native kernel could run it (or the C++ training loop does)
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: True)
    path, reason = layer.dispatch(X)
    assert path == "reference" and reason.startswith("compiling")
    assert fused.unsupported_reason(layer.cell.math, X.dtype, X.device, False, None).startswith("compiling")
