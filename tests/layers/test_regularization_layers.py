"""SpatialDropout1D, GaussianNoise, GaussianDropout, ActivityRegularization: identity at inference (the
corpus checks that against Keras), the training noise's structure and statistics, seeds, masks passed on,
Keras's configs, files, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import layers, models
from lstmkit.layers import (LSTM, ActivityRegularization, Dense, GaussianDropout, GaussianNoise, Input, Masking,
                            SpatialDropout1D)

from .layer_checks import check_saved_model, check_shapes, config_round_trip, numpy

X = np.random.default_rng(3).standard_normal((4, 6, 5)).astype("float32")
BIG = np.ones((64, 50, 40), dtype="float32")


@pytest.mark.parametrize("layer", [SpatialDropout1D(0.5), GaussianNoise(0.3), GaussianDropout(0.4),
                                   ActivityRegularization(0.1, 0.2)], ids=lambda l: type(l).__name__)
def test_identity_at_inference_shapes_and_mask(layer):
    np.testing.assert_array_equal(numpy(layer(X, training=False)), X)
    layer.eval()  # training=None follows the module's mode, as lstmkit's Dropout
    np.testing.assert_array_equal(check_shapes(layer, X, X.shape), X)
    x = X.copy()
    x[:, 4:] = 0.0
    out = layer(Masking()(x), training=True)
    np.testing.assert_array_equal(numpy(out._keras_mask), np.any(x != 0, axis=-1))


def test_spatial_dropout_drops_whole_channels_scaled():
    layer = SpatialDropout1D(0.5, seed=3)
    out = numpy(layer(BIG, training=True))
    assert set(np.unique(out)) <= {0.0, 2.0}
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1], out.shape))  # same channels at every step
    assert 0.4 < (out[:, 0] == 0).mean() < 0.6
    again = SpatialDropout1D(0.5, seed=3)(BIG, training=True)
    np.testing.assert_array_equal(numpy(again), out)  # a fresh layer with the same seed draws the same


def test_gaussian_noise_and_dropout_statistics():
    noise = numpy(GaussianNoise(0.3, seed=1)(BIG, training=True)) - 1.0
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.3) < 0.01
    factor = numpy(GaussianDropout(0.4, seed=1)(BIG, training=True))
    assert abs(factor.mean() - 1.0) < 0.01 and abs(factor.std() - np.sqrt(0.4 / 0.6)) < 0.01
    np.testing.assert_array_equal(numpy(GaussianNoise(0.0)(X, training=True)), X)


def test_activity_regularization_adds_l1_l2_of_its_input():
    layer = ActivityRegularization(l1=0.01, l2=0.02)
    out = layer(torch.tensor(X))
    assert len(layer.losses) == 1
    want = 0.01 * np.abs(X).sum() + 0.02 * np.square(X).sum()
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)
    np.testing.assert_array_equal(numpy(out), X)
    config = config_round_trip(layer)
    assert config["l1"] == 0.01 and config["l2"] == 0.02 and "activity_regularizer" not in config


def test_keras_configs():
    assert SpatialDropout1D(0.5, name="sd").get_config() == {"rate": 0.5, "seed": None, "name": "sd",
                                                             "dtype": "float32"}
    assert layers.deserialize({"class_name": "SpatialDropout1D",
                               "config": {"rate": 0.25, "seed": 2, "name": "s", "dtype": "float32"}}).rate == 0.25
    assert config_round_trip(GaussianNoise(0.3, seed=4))["stddev"] == 0.3
    assert config_round_trip(GaussianDropout(0.4))["rate"] == 0.4
    assert SpatialDropout1D(0.1).name.startswith("spatial_dropout1d")


def test_noise_layers_in_models_save_load_and_train(tmp_path):
    def build():
        inputs = Input(shape=(6, 5))
        h = GaussianNoise(0.1)(SpatialDropout1D(0.2)(inputs))
        h = GaussianDropout(0.2)(LSTM(3, return_sequences=True)(h))
        return models.Model(inputs, Dense(1)(LSTM(2)(ActivityRegularization(l2=1e-3)(h))))

    check_saved_model(build, X, tmp_path)
    model = build()
    model.compile(optimizer="adam", loss="mse", device="cpu")
    history = model.fit(X, np.zeros((4, 1), "float32"), epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_errors():
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(2.0)
    with pytest.raises(ValueError, match="rate"):
        GaussianDropout(-0.1)
    with pytest.raises(ValueError, match="3-D input"):
        SpatialDropout1D(0.5)(X[:, 0], training=True)
    with pytest.raises(ValueError, match="l1"):
        ActivityRegularization(l1=-1.0)
