"""Issue 16: every layer's weights exist from construction (``torch.nn.LazyLinear``'s contract).

An optimizer made before the first call holds and trains them; a declared input size materialises them at
once; ``load_state_dict`` works into an unbuilt model; Keras's initializer numbers do not change.
"""

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter

from lstmkit import initializers
from lstmkit.layers import (GRU, LSTM, Bidirectional, Conv1D, Dense, Embedding, Input, SimpleRNN,
                            TimeDistributed)
from lstmkit.models import Model, Sequential


class Net(nn.Module):
    """A plain PyTorch module around an lstmkit layer: ``(batch, T, 3) -> (batch, 1)``."""

    def __init__(self, layer, tokens=False):
        super().__init__()
        self.layer, self.tokens = layer, tokens
        self.head = nn.Linear(5 if not isinstance(layer, (Bidirectional,)) else 10, 1)

    def forward(self, x):
        y = self.layer(x)
        while y.dim() > 2:
            y = y.mean(dim=1)
        return self.head(y)


LAYERS = {
    "lstm": lambda: LSTM(5),
    "gru": lambda: GRU(5),
    "simple_rnn": lambda: SimpleRNN(5),
    "bidirectional": lambda: Bidirectional(LSTM(5)),
    "dense": lambda: Dense(5),
    "conv1d": lambda: Conv1D(5, 2),
    "time_distributed": lambda: TimeDistributed(Dense(5)),
    "embedding": lambda: Embedding(7, 5),
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_an_optimizer_made_before_the_first_call_trains_every_weight(kind):
    torch.manual_seed(0)
    net = Net(LAYERS[kind]())
    names = [n for n, _ in net.named_parameters()]
    assert any(n.startswith("layer.") for n in names), names  # visible before any call
    assert all(isinstance(p, UninitializedParameter) for n, p in net.named_parameters() if n.startswith("layer."))
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    if kind == "embedding":
        x = torch.randint(0, 7, (8, 6))
    else:
        x = torch.randn(8, 6, 3)
    y = torch.randn(8, 1)
    before = None
    for step in range(3):
        loss = nn.functional.mse_loss(net(x), y)
        if before is None:
            before = {n: p.detach().clone() for n, p in net.named_parameters()}
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    unchanged = [n for n, p in net.named_parameters() if torch.equal(p.detach(), before[n])]
    assert not unchanged, f"{kind}: weights the optimizer did not train: {unchanged}"
    assert len(optimizer.param_groups[0]["params"]) == len(before)


def test_a_declared_input_size_materialises_the_weights_at_construction():
    for layer, count in ((LSTM(4, input_shape=(None, 3)), 4 * 4 * (3 + 4 + 1)),
                         (Dense(2, input_dim=3), 3 * 2 + 2),
                         (Bidirectional(GRU(2), input_shape=(5, 3)), 2 * 3 * 2 * (3 + 2 + 2)),
                         (TimeDistributed(Dense(2), input_shape=(5, 3)), 3 * 2 + 2)):
        assert layer.built and not any(isinstance(p, UninitializedParameter) for p in layer.parameters())
        assert sum(p.numel() for p in layer.parameters()) == count
    model = Sequential([LSTM(4, input_shape=(6, 3)), Dense(1)])
    assert sum(p.numel() for p in model.parameters()) == 4 * 4 * 8 + 5
    inputs = Input(shape=(6, 3))
    functional = Model(inputs, Dense(1)(LSTM(4)(inputs)))
    assert not any(isinstance(p, UninitializedParameter) for p in functional.parameters())


def test_a_contradicted_declaration_is_rebuilt_in_place_as_keras_ignores_it():
    layer = LSTM(4, input_shape=(None, 3))
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(np.ones((2, 5, 6), "float32"))  # Keras ignores input_shape on a layer fed something else
    assert tuple(layer.cell.kernel.shape) == (6, 16)
    assert optimizer.param_groups[0]["params"][0] is layer.cell.kernel


def test_initializer_numbers_are_keras_whether_built_lazily_or_at_construction():
    def make(**kwargs):
        return LSTM(3, kernel_initializer=initializers.GlorotUniform(seed=1),
                    recurrent_initializer=initializers.Orthogonal(seed=2), **kwargs)
    lazy, declared = make(), make(input_shape=(None, 2))
    lazy(np.zeros((1, 4, 2), "float32"))
    expected = initializers.GlorotUniform(seed=1)((2, 12))
    for layer in (lazy, declared):
        np.testing.assert_array_equal(layer.cell.kernel.detach().numpy(), np.asarray(expected))
        np.testing.assert_array_equal(layer.cell.recurrent_kernel.detach().numpy(),
                                      np.asarray(initializers.Orthogonal(seed=2)((3, 12))))
        assert layer.cell.bias.detach().numpy()[3:6].tolist() == [1.0, 1.0, 1.0]  # unit_forget_bias


def test_unseeded_initializers_draw_as_before_from_the_global_generator():
    torch.manual_seed(3)
    lazy = LSTM(3)
    lazy(np.zeros((1, 4, 2), "float32"))
    torch.manual_seed(3)
    declared = LSTM(3, input_shape=(None, 2))
    torch.testing.assert_close(lazy.cell.kernel, declared.cell.kernel, rtol=0, atol=0)


def test_load_state_dict_into_an_unbuilt_model():
    def make():
        return Sequential([Conv1D(4, 2, groups=2, padding="causal"),
                           Bidirectional(GRU(3, return_sequences=True)), TimeDistributed(Dense(2)),
                           LSTM(2)])
    torch.manual_seed(0)
    trained, fresh = make(), make()
    x = torch.randn(2, 6, 4)
    expected = trained(x)
    assert set(fresh.state_dict()) == set(trained.state_dict())  # the keys exist before building
    fresh.load_state_dict(trained.state_dict())
    assert not any(isinstance(p, UninitializedParameter) for p in fresh.parameters())
    torch.testing.assert_close(fresh(x), expected)
    embedding = Embedding(9, 3)
    embedding.load_state_dict({"embeddings": torch.arange(27.0).reshape(9, 3)})
    assert embedding(np.array([[2]]))[0, 0].tolist() == [6.0, 7.0, 8.0]


def test_unbuilt_layers_report_no_keras_weights_until_built():
    layer = Dense(3)
    assert layer.weights == [] and layer.get_weights() == [] and not layer.built
    with pytest.raises(ValueError, match="unbuilt layer"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(3)])
