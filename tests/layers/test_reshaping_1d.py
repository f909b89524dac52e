"""Permute, ZeroPadding1D, Cropping1D, UpSampling1D: values against NumPy, shapes (None kept), masks dropped
as Keras, configs, files, errors."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import models
from lstmkit.layers import LSTM, Cropping1D, Dense, Input, Masking, Permute, UpSampling1D, ZeroPadding1D

from .layer_checks import check_saved_model, check_shapes, config_round_trip, numpy

X = np.arange(2 * 5 * 3, dtype="float32").reshape(2, 5, 3) + 1


def test_permute():
    np.testing.assert_array_equal(check_shapes(Permute((2, 1)), X, (2, 3, 5)), X.transpose(0, 2, 1))
    x4 = X.reshape(2, 5, 3, 1)
    np.testing.assert_array_equal(numpy(Permute([3, 1, 2])(x4)), x4.transpose(0, 3, 1, 2))
    assert Permute((2, 1)).compute_output_shape((None, None, 3)) == (None, 3, None)
    assert config_round_trip(Permute((2, 1)))["dims"] == [2, 1]


def test_zero_padding():
    want = np.pad(X, ((0, 0), (1, 2), (0, 0)))
    np.testing.assert_array_equal(check_shapes(ZeroPadding1D((1, 2)), X, (2, 8, 3)), want)
    np.testing.assert_array_equal(numpy(ZeroPadding1D()(X)), np.pad(X, ((0, 0), (1, 1), (0, 0))))
    first = ZeroPadding1D(2, data_format="channels_first")(X.transpose(0, 2, 1))
    np.testing.assert_array_equal(numpy(first), np.pad(X, ((0, 0), (2, 2), (0, 0))).transpose(0, 2, 1))
    assert ZeroPadding1D(2).compute_output_shape((None, None, 3)) == (None, None, 3)
    config = config_round_trip(ZeroPadding1D(2))
    assert config["padding"] == [2, 2] and config["data_format"] == "channels_last"
    assert ZeroPadding1D().name.startswith("zero_padding1d")


def test_cropping():
    np.testing.assert_array_equal(check_shapes(Cropping1D((1, 2)), X, (2, 2, 3)), X[:, 1:3])
    np.testing.assert_array_equal(numpy(Cropping1D()(X)), X[:, 1:4])
    np.testing.assert_array_equal(numpy(Cropping1D((2, 0))(X)), X[:, 2:])
    assert config_round_trip(Cropping1D(1))["cropping"] == [1, 1]


def test_upsampling():
    np.testing.assert_array_equal(check_shapes(UpSampling1D(3), X, (2, 15, 3)), np.repeat(X, 3, axis=1))
    assert UpSampling1D().compute_output_shape((None, None, 3)) == (None, None, 3)
    assert config_round_trip(UpSampling1D(3))["size"] == 3


@pytest.mark.parametrize("layer", [Permute((1, 2)), ZeroPadding1D(1), Cropping1D(1), UpSampling1D(2)],
                         ids=lambda l: type(l).__name__)
def test_masks_are_dropped_as_keras(layer):
    x = X.copy()
    x[:, 3:] = 0
    assert getattr(layer(Masking()(x)), "_keras_mask", None) is None


def test_reshaping_layers_in_a_model_save_and_load(tmp_path):
    def build():
        inputs = Input(shape=(5, 3))
        h = UpSampling1D(2)(Cropping1D((1, 0))(ZeroPadding1D((0, 1))(inputs)))
        h = Permute((2, 1))(LSTM(4, return_sequences=True)(h))
        return models.Model(inputs, Dense(1)(LSTM(2)(h)))

    check_saved_model(build, X, tmp_path)


def test_errors():
    with pytest.raises(ValueError, match="permutation"):
        Permute((1, 3))
    with pytest.raises(ValueError, match="rank 3"):
        Permute((2, 1))(X[..., None])
    with pytest.raises(ValueError, match="padding"):
        ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match="more than 5 steps"):
        Cropping1D((3, 2))(X)
    with pytest.raises(TypeError, match="size"):
        UpSampling1D(2.0)
    with pytest.raises(ValueError, match="3-D input"):
        UpSampling1D()(X[0])
