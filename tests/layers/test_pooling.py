"""MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D: values against hand
computations (TensorFlow's padding rule), shapes, masks as Keras, configs, files, errors."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import layers, models
from lstmkit.layers import (LSTM, AveragePooling1D, Dense, GlobalAveragePooling1D, GlobalMaxPooling1D,
                            Input, Masking, MaxPooling1D)

from .layer_checks import check_saved_model, check_shapes, config_round_trip, numpy

RNG = np.random.default_rng(15)
X = RNG.standard_normal((2, 7, 3)).astype("float32")


def windows(x: np.ndarray, k: int, s: int, padding: str):
    """Per output step, the indices of real steps in its window (TF: same-padding left = total // 2)."""
    length = x.shape[1]
    if padding == "valid":
        starts = range(0, length - k + 1, s)
        return [list(range(a, a + k)) for a in starts]
    out = -(-length // s)
    total = max((out - 1) * s + k - length, 0)
    left = total // 2
    return [[j for j in range(i * s - left, i * s - left + k) if 0 <= j < length] for i in range(out)]


@pytest.mark.parametrize("k,s,padding", [(2, None, "valid"), (3, 2, "same"), (3, 1, "valid"), (4, 3, "same"),
                                         (2, 2, "same")])
def test_max_and_average_pooling_match_hand_windows(k, s, padding):
    idx = windows(X, k, s or k, padding)
    want_max = np.stack([X[:, w].max(axis=1) for w in idx], axis=1)
    want_avg = np.stack([X[:, w].mean(axis=1) for w in idx], axis=1)  # padding never counted
    got_max = check_shapes(MaxPooling1D(k, strides=s, padding=padding), X, want_max.shape)
    got_avg = check_shapes(AveragePooling1D(k, strides=s, padding=padding.upper()), X, want_avg.shape)
    np.testing.assert_allclose(got_max, want_max, rtol=1e-6)
    np.testing.assert_allclose(got_avg, want_avg, rtol=1e-6, atol=1e-7)


def test_pooling_channels_first_and_defaults():
    x = X.transpose(0, 2, 1)
    got = MaxPooling1D(data_format="channels_first")(x)
    np.testing.assert_allclose(numpy(got), numpy(MaxPooling1D()(X)).transpose(0, 2, 1))
    layer = MaxPooling1D()
    assert (layer.pool_size, layer.strides, layer.padding) == (2, 2, "valid")
    assert layer.name.startswith("max_pooling1d")
    config = config_round_trip(AveragePooling1D(3, strides=(2,), padding="same"))
    assert {k: config[k] for k in ("pool_size", "strides", "padding", "data_format")} == {
        "pool_size": [3], "strides": [2], "padding": "same", "data_format": "channels_last"}
    assert "build_config" not in layers.serialize(MaxPooling1D())  # built at construction, as Keras
    assert layers.deserialize({"class_name": "MaxPool1D", "config": {}}).__class__ is MaxPooling1D


def test_global_pooling_values_keepdims_and_channels_first():
    np.testing.assert_allclose(check_shapes(GlobalMaxPooling1D(), X, (2, 3)), X.max(1))
    np.testing.assert_allclose(check_shapes(GlobalAveragePooling1D(keepdims=True), X, (2, 1, 3)),
                               X.mean(1, keepdims=True), rtol=1e-6)
    first = GlobalAveragePooling1D(data_format="channels_first", keepdims=True)
    np.testing.assert_allclose(numpy(first(X.transpose(0, 2, 1))), X.mean(1)[:, :, None], rtol=1e-6)
    assert config_round_trip(GlobalMaxPooling1D(keepdims=True))["keepdims"] is True


def test_global_average_pooling_honours_the_mask_and_drops_it():
    mask = np.array([[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0]], dtype=bool)
    got = GlobalAveragePooling1D()(X, mask=mask)
    want = (X * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(numpy(got), want, rtol=1e-6)
    assert getattr(got, "_keras_mask", None) is None
    full = GlobalAveragePooling1D()(X, mask=np.zeros((2, 7), bool))
    assert np.isnan(numpy(full)).all()  # 0/0, as Keras


def test_global_max_pooling_has_no_mask_support_as_keras():
    with pytest.raises(TypeError, match="does not support masking"):
        GlobalMaxPooling1D()(X, mask=np.ones((2, 7), bool))
    x = X.copy()
    x[:, 5:] = 0.0
    masked = Masking()(x)
    np.testing.assert_allclose(numpy(GlobalMaxPooling1D()(masked)), x.max(1))  # the mask is dropped


def test_pooling_in_models_saves_and_loads(tmp_path):
    def build():
        inputs = Input(shape=(7, 3))
        h = LSTM(4, return_sequences=True)(Masking()(inputs))
        pooled = [MaxPooling1D(2, padding="same")(h), AveragePooling1D(3, strides=2)(h)]
        flat = [GlobalMaxPooling1D()(pooled[0]), GlobalAveragePooling1D()(pooled[1]), GlobalAveragePooling1D()(h)]
        return models.Model(inputs, [Dense(1)(f) for f in flat])

    check_saved_model(build, X, tmp_path)


def test_pooling_errors():
    with pytest.raises(ValueError, match="padding"):
        MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match="3-D input"):
        MaxPooling1D()(X[0])
    with pytest.raises(ValueError, match="at least pool_size=8"):
        AveragePooling1D(8)(X)
    with pytest.raises(ValueError, match="3-D input"):
        GlobalAveragePooling1D()(X[:, :, 0])
    with pytest.raises(ValueError, match="mask"):
        GlobalAveragePooling1D()(X, mask=np.ones((2, 6), bool))
    with pytest.raises(TypeError, match="pool_size"):
        MaxPooling1D("2")
