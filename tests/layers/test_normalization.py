"""BatchNormalization and LayerNormalization against hand computations of Keras's formulas (the corpus
checks the inference path and one Adam step; these add training statistics, masks, momentum, frozen
layers, other axes), plus weights order, configs, files and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import layers, models
from lstmkit.layers import LSTM, BatchNormalization, Dense, Input, LayerNormalization, Masking

from .layer_checks import check_saved_model, check_shapes, config_round_trip, numpy

RNG = np.random.default_rng(7)
X = RNG.standard_normal((3, 5, 4)).astype("float32") * 2 + 1


def bn_weights(features: int):
    gamma = RNG.uniform(0.5, 1.5, features).astype("float32")
    beta = RNG.uniform(-0.6, 0.6, features).astype("float32")
    mean = RNG.uniform(-0.6, 0.6, features).astype("float32")
    var = RNG.uniform(0.3, 1.5, features).astype("float32")
    return [gamma, beta, mean, var]


def test_batchnorm_weights_order_and_defaults():
    layer = BatchNormalization()
    layer(X)
    assert [tuple(w.shape) for w in layer.get_weights()] == [(4,)] * 4
    assert [n for n, _ in layer.named_parameters()] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [p.requires_grad for p in layer.weights] == [True, True, False, False]
    assert (layer.momentum, layer.epsilon) == (0.99, 1e-3)
    no_scale = BatchNormalization(scale=False)
    no_scale(X)
    assert [n for n, _ in no_scale.named_parameters()] == ["beta", "moving_mean", "moving_variance"]
    assert no_scale.count_params() == 12


def test_batchnorm_training_step_uses_biased_batch_statistics_and_keras_momentum():
    """Training: statistics over batch and steps, biased variance, moving = m·moving + (1-m)·batch."""
    layer = BatchNormalization(momentum=0.9, epsilon=0.01)
    layer(X, training=False)
    gamma, beta, mean0, var0 = bn_weights(4)
    layer.set_weights([gamma, beta, mean0, var0])
    got = layer(X, training=True)
    mean = X.reshape(-1, 4).mean(0)
    var = X.reshape(-1, 4).var(0)  # ddof=0
    np.testing.assert_allclose(numpy(got), gamma * (X - mean) / np.sqrt(var + 0.01) + beta, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[2], 0.9 * mean0 + 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(layer.get_weights()[3], 0.9 * var0 + 0.1 * var, rtol=1e-6)
    inference = layer(X, training=False)
    _, _, mean1, var1 = layer.get_weights()
    np.testing.assert_allclose(numpy(inference), gamma * (X - mean1) / np.sqrt(var1 + 0.01) + beta,
                               rtol=1e-5, atol=1e-5)


def test_batchnorm_training_follows_module_mode_and_frozen_layers_use_moving_statistics():
    layer = BatchNormalization()
    layer(X)
    before = layer.get_weights()
    layer.eval()
    layer(X)
    layer.trainable = False
    layer(X, training=True)  # Keras: a frozen BatchNormalization runs in inference mode
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    layer.trainable = True
    layer.train()
    layer(X)
    assert not np.array_equal(before[2], layer.get_weights()[2])


def test_batchnorm_masked_statistics_count_only_kept_steps():
    mask = np.ones((3, 5), bool)
    mask[0, 3:] = False
    mask[2, 1:] = False
    layer = BatchNormalization(center=False, scale=False, momentum=0.0)
    layer(X, training=False)
    got = layer(X, training=True, mask=mask)
    kept = X[mask]
    n = mask.sum() + 1e-7  # Keras adds its backend epsilon to the count
    mean = kept.sum(0) / n
    var = ((kept - mean) ** 2).sum(0) / n
    np.testing.assert_allclose(numpy(got), (X - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.get_weights()[0], mean, rtol=1e-5)
    np.testing.assert_array_equal(numpy(got._keras_mask), mask)  # the mask passes on


def test_batchnorm_axis1_normalizes_each_step():
    layer = BatchNormalization(axis=1, momentum=0.5)
    check_shapes(layer, X, X.shape)
    assert [w.shape for w in layer.get_weights()] == [(5,)] * 4
    got = layer(X, training=True)
    mean = X.mean(axis=(0, 2), keepdims=True)
    var = X.var(axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(numpy(got), (X - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_batchnorm_gradients_flow_through_batch_statistics():
    """Against torch's own batch norm (same biased statistics in training) on the same values."""
    layer = BatchNormalization(epsilon=1e-3)
    x = torch.tensor(X, requires_grad=True)
    layer(x, training=False)
    weights = bn_weights(4)
    layer.set_weights(weights)
    layer(x, training=True).square().sum().backward()
    ref_x = torch.tensor(X, requires_grad=True)
    flat = ref_x.reshape(-1, 4)
    ref = torch.nn.functional.batch_norm(flat, None, None, torch.tensor(weights[0]), torch.tensor(weights[1]),
                                         training=True, eps=1e-3)
    ref.square().sum().backward()
    np.testing.assert_allclose(numpy(x.grad), numpy(ref_x.grad), rtol=1e-4, atol=1e-5)


def test_layernorm_formula_multi_axis_and_options():
    layer = LayerNormalization()
    check_shapes(layer, X, X.shape)
    gamma = RNG.uniform(0.5, 1.5, 4).astype("float32")
    beta = RNG.uniform(-0.6, 0.6, 4).astype("float32")
    layer.set_weights([gamma, beta])
    mean, var = X.mean(-1, keepdims=True), X.var(-1, keepdims=True)
    np.testing.assert_allclose(numpy(layer(X)), gamma * (X - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-5,
                               atol=1e-5)
    both = LayerNormalization(axis=[1, 2], epsilon=1e-5, center=False)
    both(X)
    assert [w.shape for w in both.get_weights()] == [(5, 4)] and both.axis == [1, 2]
    mean, var = X.mean((1, 2), keepdims=True), X.var((1, 2), keepdims=True)
    np.testing.assert_allclose(numpy(both(X)), (X - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    with pytest.warns(DeprecationWarning, match="rms_scaling"):
        rms = LayerNormalization(rms_scaling=True)
    rms(X)
    assert [n for n, _ in rms.named_parameters()] == ["gamma"]
    np.testing.assert_allclose(numpy(rms(X)), X / np.sqrt(X.var(-1, keepdims=True) + 1e-3), rtol=1e-5)


def test_normalization_configs_and_keras_axis_form():
    layer = LayerNormalization(axis=-1)
    assert layer.get_config()["axis"] == -1
    layer(X)
    assert config_round_trip(layer)["axis"] == [-1]  # Keras 3.15.1 writes the list once built
    config = config_round_trip(BatchNormalization(momentum=0.9, epsilon=0.01, scale=False))
    assert (config["momentum"], config["epsilon"], config["scale"], config["renorm"]) == (0.9, 0.01, False, False)


def test_normalization_in_models_saves_and_loads(tmp_path):
    def build():
        inputs = Input(shape=(5, 4))
        h = LSTM(3, return_sequences=True)(Masking()(inputs))
        h = BatchNormalization()(h)
        h = LayerNormalization()(h)
        return models.Model(inputs, Dense(1)(LSTM(2)(h)))

    check_saved_model(build, X, tmp_path)


def test_batchnorm_in_fit_updates_moving_statistics():
    model = models.Sequential([Input(shape=(5, 4)), BatchNormalization(), layers.GlobalAveragePooling1D(),
                               Dense(1)])
    model.compile(optimizer="adam", loss="mse", device="cpu")
    before = model.layers[0].get_weights()[2].copy()
    model.fit(X, np.ones((3, 1), "float32"), epochs=2, verbose=0)
    after = model.layers[0].get_weights()[2]
    assert not np.allclose(before, after)
    assert model.count_params() - sum(p.numel() for p in model.parameters() if p.requires_grad) == 8


def test_tf_keras2_batchnorm_config_loads():
    """tf.keras 2 wrote ``axis`` as a one-element list and ``fused`` / ``virtual_batch_size`` keys."""
    config = {"name": "bn", "axis": [2], "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
              "fused": None, "virtual_batch_size": None, "adjustment": None, "trainable": True}
    layer = layers.deserialize({"class_name": "BatchNormalization", "config": config})
    assert layer.axis == 2
    with pytest.raises(ValueError, match="virtual_batch_size"):
        BatchNormalization(virtual_batch_size=4)


def test_normalization_errors():
    with pytest.raises(ValueError, match="renorm"):
        BatchNormalization(renorm=True)
    with pytest.raises(TypeError, match="axis"):
        BatchNormalization(axis=[1, 2])
    with pytest.raises(ValueError, match="axis"):
        BatchNormalization(axis=3)(X)
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=1.5)
    layer = BatchNormalization()
    layer(X)
    with pytest.raises(ValueError, match="4 channels"):
        layer(X[..., :3])
    with pytest.raises(ValueError, match="mask"):
        layer(X, mask=np.ones((3,), bool))
    norm = LayerNormalization()
    norm(X)
    with pytest.raises(ValueError, match="built for that"):
        norm(X[..., :2])
