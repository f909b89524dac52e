"""Flatten, Reshape, RepeatVector: values, shapes (None kept), configs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lstmkit import layers
from lstmkit.layers import LSTM, Flatten, Masking, RepeatVector, Reshape

X = np.arange(2 * 3 * 4, dtype="float32").reshape(2, 3, 4)


def round_trip(layer):
    config = layer.get_config()
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(clone) is type(layer) and clone.get_config() == config
    return config


def test_flatten():
    layer = Flatten()
    np.testing.assert_array_equal(layer(X).numpy(), X.reshape(2, 12))
    np.testing.assert_array_equal(layer(np.arange(3.0)).numpy(), [[0.0], [1.0], [2.0]])
    assert layer.compute_output_shape((None, 3, 4)) == (None, 12)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    first = Flatten(data_format="channels_first")
    np.testing.assert_array_equal(first(X).numpy(), X.transpose(0, 2, 1).reshape(2, 12))
    assert round_trip(first) == {**first.get_config(), "data_format": "channels_first"}
    assert list(Flatten().get_config()) == ["name", "trainable", "dtype", "data_format"]
    assert Flatten().get_config()["data_format"] == "channels_last"


def test_flatten_drops_the_mask():
    x = X.copy()
    x[:, 1] = 0
    assert getattr(Flatten()(Masking()(x)), "_keras_mask", None) is None


def test_reshape():
    np.testing.assert_array_equal(Reshape((4, 3))(X).numpy(), X.reshape(2, 4, 3))
    np.testing.assert_array_equal(Reshape((-1, 2))(X).numpy(), X.reshape(2, 6, 2))
    assert Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert Reshape((12,)).compute_output_shape((5, 3, 4)) == (5, 12)
    config = round_trip(Reshape((3, -1), name="r"))
    assert config["target_shape"] == [3, -1] and list(config)[-1] == "target_shape"


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"`target_shape` expects at most one -1"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"`target_shape` expects positive integers"):
        Reshape((0, 3))
    with pytest.raises(ValueError, match=(r"Reshape 'reshape\w*': input expects 10 values per sample to fill "
                                          r"target_shape \(2, 5\); received 12 values per sample")):
        Reshape((2, 5))(X)
    with pytest.raises(ValueError, match=r"input expects a multiple of 5 values per sample"):
        Reshape((5, -1)).compute_output_shape((None, 3, 4))


def test_repeat_vector():
    v = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
    out = RepeatVector(3)(v)
    assert out.shape == (2, 3, 2)
    np.testing.assert_array_equal(out.numpy(), np.repeat(v[:, None], 3, axis=1))
    assert RepeatVector(3).compute_output_shape((None, 2)) == (None, 3, 2)
    config = round_trip(RepeatVector(4, name="rv"))
    assert list(config) == ["name", "trainable", "dtype", "n"] and config["n"] == 4


def test_repeat_vector_bridges_an_encoder_to_a_decoder():
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    code = LSTM(4)(x)
    decoded = LSTM(2, return_sequences=True)(RepeatVector(5)(code))
    assert decoded.shape == (2, 5, 2)
    decoded.sum().backward()  # gradients flow back through the repeat


def test_repeat_vector_errors():
    with pytest.raises(ValueError, match=(r"RepeatVector 'repeat_vector\w*': input expects shape \(batch, "
                                          r"features\); received a 3-D array of shape \(2, 3, 4\)\. .*x\[:, -1\]")):
        RepeatVector(2)(X)
    with pytest.raises(ValueError, match=r"input expects shape \(batch, features\); received shape \(None, 3, 4\)"):
        RepeatVector(2).compute_output_shape((None, 3, 4))
    with pytest.raises(TypeError, match=r"`n` expects a positive integer"):
        RepeatVector(2.5)
    assert torch.equal(RepeatVector(1)(X[:, 0]), torch.as_tensor(X[:, :1]))


def test_symbolic_shapes_through_conv_flatten_dense():
    from lstmkit.layers import Conv1D, Dense, Input

    x = Input(shape=(10, 3))
    y = Dense(2)(Flatten()(Conv1D(4, 3, strides=2, padding="same")(x)))
    assert y.shape == (None, 2)
    with pytest.raises(ValueError, match=r"RepeatVector 'repeat_vector\w*': input expects shape \(batch, features\)"):
        RepeatVector(2)(x)
