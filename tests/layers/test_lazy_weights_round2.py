"""Issue 16 for the round-2 layers: BatchNormalization, LayerNormalization, Attention, AdditiveAttention and
MultiHeadAttention hold their weights from construction (``torch.nn.LazyLinear``'s contract).

Visible to ``parameters()`` / ``state_dict()`` as ``UninitializedParameter`` before the first call; an
optimizer made before that call trains them (materialised in place); a declared input size builds them at
construction; ``load_state_dict`` into an unbuilt layer gives the source's outputs; Keras's weight names,
order and initializer numbers do not change.
"""

import pytest
import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter

from lstmkit import initializers
from lstmkit.layers import (LSTM, AdditiveAttention, Attention, BatchNormalization, Dense, Input,
                            LayerNormalization, MultiHeadAttention, TimeDistributed)
from lstmkit.models import Model, Sequential

LAYERS = {
    "batch_norm": lambda **kw: BatchNormalization(**kw),
    "batch_norm_axis1": lambda **kw: BatchNormalization(axis=1, **kw),
    "layer_norm": lambda **kw: LayerNormalization(**kw),
    "layer_norm_two_axes": lambda **kw: LayerNormalization(axis=[1, 2], **kw),
    "attention_scale": lambda **kw: Attention(use_scale=True, **kw),
    "attention_concat": lambda **kw: Attention(use_scale=True, score_mode="concat", **kw),
    "additive_attention": lambda **kw: AdditiveAttention(**kw),
    "mha": lambda **kw: MultiHeadAttention(2, 4, **kw),
    "mha_gate_output_shape": lambda **kw: MultiHeadAttention(2, 4, value_dim=3, use_gate=True, output_shape=3,
                                                             **kw),
}
NAMES = {  # Keras's weights in Keras's order, by state_dict key
    "batch_norm": ["gamma", "beta", "moving_mean", "moving_variance"],
    "layer_norm": ["gamma", "beta"],
    "attention_scale": ["scale"],
    "attention_concat": ["scale", "concat_score_weight"],
    "additive_attention": ["scale"],
    "mha": [f"{p}_dense.{w}" for p in ("query", "key", "value", "output") for w in ("kernel", "bias")],
    "mha_gate_output_shape": [f"{p}_dense.{w}" for p in ("query", "key", "_gate", "value", "output")
                              for w in ("kernel", "bias")],
}
NAMES["batch_norm_axis1"], NAMES["layer_norm_two_axes"] = NAMES["batch_norm"], NAMES["layer_norm"]


def call(layer, x, **kwargs):
    """Each layer's own call form on one ``(batch, steps, features)`` input (self-attention)."""
    if isinstance(layer, MultiHeadAttention):
        return layer(x, x, **kwargs)
    if isinstance(layer, Attention):
        return layer([x, x], **kwargs)
    return layer(x, **kwargs)


class Net(nn.Module):
    """A plain PyTorch module: an lstmkit layer, a mean over the steps, an ``nn.Linear`` head."""

    def __init__(self, layer):
        super().__init__()
        self.layer, self.head = layer, nn.Linear(3, 1)

    def forward(self, x):
        return self.head(call(self.layer, x).mean(dim=1))


def data(batch=8):
    generator = torch.Generator().manual_seed(5)
    return torch.randn(batch, 6, 3, generator=generator), torch.randn(batch, 1, generator=generator)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_an_optimizer_made_before_the_first_call_trains_every_weight(kind):
    torch.manual_seed(0)
    net = Net(LAYERS[kind]())
    layer_params = [(n, p) for n, p in net.named_parameters() if n.startswith("layer.")]
    assert [n[len("layer."):] for n, _ in layer_params] == NAMES[kind]  # visible, in Keras's order
    assert all(isinstance(p, UninitializedParameter) for _, p in layer_params)
    assert list(net.layer.state_dict()) == NAMES[kind]
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    x, y = data()
    before = None
    for _ in range(3):
        loss = nn.functional.mse_loss(net(x), y)
        if before is None:  # materialised by the first call: the same objects the optimizer holds
            before = {n: p.detach().clone() for n, p in net.named_parameters()}
            assert all(not isinstance(p, UninitializedParameter) for _, p in layer_params)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    held = {id(p) for p in optimizer.param_groups[0]["params"]}
    assert all(id(p) in held for _, p in layer_params)
    unchanged = [n for n, p in net.named_parameters() if torch.equal(p.detach(), before[n])]
    assert not unchanged, f"{kind}: weights that did not change: {unchanged}"
    trainable = [n for n, p in layer_params if p.requires_grad]
    if "norm" in kind and "layer" not in kind:  # the moving statistics: non-trainable, updated by the call
        assert trainable == ["layer.gamma", "layer.beta"]
    else:
        assert len(trainable) == len(layer_params)
    assert [w.shape for w in net.layer.weights] == [p.shape for _, p in layer_params]


EXPECTED_SHAPES = {  # built for (batch, 5, 3) inputs
    "batch_norm": [(3,)] * 4,
    "batch_norm_axis1": [(5,)] * 4,
    "layer_norm": [(3,)] * 2,
    "layer_norm_two_axes": [(5, 3)] * 2,
    "attention_scale": [()],
    "attention_concat": [(), ()],
    "additive_attention": [(3,)],
    "mha": [(3, 2, 4), (2, 4), (3, 2, 4), (2, 4), (3, 2, 4), (2, 4), (2, 4, 3), (3,)],
    "mha_gate_output_shape": [(3, 2, 4), (2, 4), (3, 2, 4), (2, 4), (3, 2, 3), (2, 3), (3, 2, 3), (2, 3),
                              (2, 3, 3), (3,)],
}


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_a_declared_input_size_materialises_the_weights_at_construction(kind):
    layer = LAYERS[kind](input_shape=(5, 3))
    assert layer.built
    assert not any(isinstance(p, UninitializedParameter) for p in layer.parameters())
    assert [tuple(w.shape) for w in layer.weights] == EXPECTED_SHAPES[kind]
    assert [tuple(p.shape) for p in layer.parameters()] == EXPECTED_SHAPES[kind]
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    out = call(layer, torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 3)
    assert optimizer.param_groups[0]["params"] == list(layer.parameters())  # the same objects


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_an_input_call_materialises_the_weights_when_the_graph_is_made(kind):
    inputs = Input(shape=(5, 3))
    layer = LAYERS[kind]()
    model = Model(inputs, call(layer, inputs))
    assert not any(isinstance(p, UninitializedParameter) for p in model.parameters())
    assert [tuple(w.shape) for w in layer.weights] == EXPECTED_SHAPES[kind]


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_load_state_dict_into_an_unbuilt_layer_gives_the_source_outputs(kind):
    torch.manual_seed(1)
    trained, fresh = LAYERS[kind](), LAYERS[kind]()
    x = torch.randn(4, 5, 3)
    call(trained, x, training=True)  # BatchNormalization: moving statistics away from their initial values
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(torch.rand(p.shape) * 0.5)  # nothing at its initializer's value
    assert list(fresh.state_dict()) == list(trained.state_dict())  # the keys exist before building
    fresh.load_state_dict(trained.state_dict())
    assert fresh.built
    assert not any(isinstance(p, UninitializedParameter) for p in fresh.parameters())
    torch.testing.assert_close(call(fresh, x, training=False), call(trained, x, training=False),
                               rtol=0, atol=0)
    assert [tuple(w.shape) for w in fresh.weights] == EXPECTED_SHAPES[kind]


def test_mha_with_a_key_of_its_own_size_loads_into_an_unbuilt_layer():
    torch.manual_seed(2)
    query, value, key = torch.randn(2, 5, 3), torch.randn(2, 4, 6), torch.randn(2, 4, 2)
    trained, fresh = MultiHeadAttention(2, 4), MultiHeadAttention(2, 4)
    expected = trained(query, value, key)
    fresh.load_state_dict(trained.state_dict())
    torch.testing.assert_close(fresh(query, value, key), expected, rtol=0, atol=0)
    assert [tuple(w.shape) for w in fresh.weights] == [tuple(w.shape) for w in trained.weights]


def test_layer_normalization_loaded_unbuilt_takes_the_rank_of_its_first_input():
    source = LayerNormalization()
    x = torch.randn(2, 4, 5, 3)
    source(x)
    with torch.no_grad():
        source.gamma.mul_(2.0)
    expected = source(x)
    fresh = LayerNormalization()
    fresh.load_state_dict(source.state_dict())
    torch.testing.assert_close(fresh(x), expected, rtol=0, atol=0)
    with pytest.raises(ValueError, match="built for that"):  # then the rank is fixed, as for any built layer
        fresh(x[0])


def test_a_contradicted_declaration_is_rebuilt_in_place_for_a_different_feature_size():
    layer = BatchNormalization(input_shape=(5, 3))
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.randn(2, 5, 4), training=False)  # Keras ignores input_shape on a layer fed something else
    assert [tuple(w.shape) for w in layer.weights] == [(4,)] * 4
    assert optimizer.param_groups[0]["params"][0] is layer.gamma


def test_inputs_of_other_feature_sizes_than_built_for_are_clear_errors():
    mha = MultiHeadAttention(2, 4)
    mha(torch.randn(2, 5, 3), torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match=r"feature sizes \(3, 3, 3\) \(it was built for that\)"):
        mha(torch.randn(2, 5, 3), torch.randn(2, 4, 6))
    additive = AdditiveAttention(input_shape=(5, 3))
    q = torch.randn(2, 5, 4)
    with pytest.raises(ValueError, match="3 features"):
        additive([q, q])


def test_loading_weights_of_no_single_size_is_an_error_not_a_guess():
    with pytest.raises(RuntimeError, match="gamma"):
        BatchNormalization().load_state_dict({"gamma": torch.ones(3), "beta": torch.ones(4),
                                              "moving_mean": torch.ones(3), "moving_variance": torch.ones(3)})


def test_unbuilt_layers_report_no_keras_weights_and_keep_keras_configs():
    for make in LAYERS.values():
        layer = make()
        assert layer.weights == [] and layer.count_params() == 0 and not layer.built
    assert LayerNormalization().get_config()["axis"] == -1  # Keras turns it into [-1] only when built
    assert MultiHeadAttention(2, 4).get_config()["attention_axes"] is None


def test_initializer_numbers_are_the_same_whether_built_lazily_or_at_construction():
    def make(**kwargs):
        return MultiHeadAttention(2, 4, use_gate=True, kernel_initializer=initializers.GlorotUniform(seed=3),
                                  bias_initializer=initializers.RandomNormal(seed=4), **kwargs)
    lazy, declared = make(), make(input_shape=(5, 3))
    lazy(torch.zeros(1, 5, 3), torch.zeros(1, 5, 3))
    for a, b in zip(lazy.weights, declared.weights, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    torch.manual_seed(7)
    unseeded = AdditiveAttention()
    unseeded([torch.zeros(1, 2, 3)] * 2)
    torch.manual_seed(7)
    torch.testing.assert_close(unseeded.scale, AdditiveAttention(input_shape=(2, 3)).scale, rtol=0, atol=0)


def test_double_before_the_first_call_materialises_float64_weights():
    for make in LAYERS.values():
        layer = make().double()
        out = call(layer, torch.randn(2, 5, 3, dtype=torch.float64))
        assert out.dtype == torch.float64
        assert {p.dtype for p in layer.parameters()} == {torch.float64}
        assert bool(torch.isfinite(out).all())


def test_in_a_sequential_model_they_build_with_it_and_load_unbuilt():
    declared = Sequential([LSTM(4, return_sequences=True, input_shape=(6, 3)), BatchNormalization(),
                           LayerNormalization(), Dense(1)])
    assert not any(isinstance(p, UninitializedParameter) for p in declared.parameters())

    def make():
        return Sequential([TimeDistributed(Dense(3)), BatchNormalization(axis=1), LayerNormalization(), LSTM(2)])
    torch.manual_seed(0)
    trained, fresh = make().eval(), make().eval()
    x = torch.randn(2, 6, 3)
    expected = trained(x)
    fresh.load_state_dict(trained.state_dict())
    torch.testing.assert_close(fresh(x), expected, rtol=0, atol=0)
