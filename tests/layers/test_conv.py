"""Conv1D against a direct NumPy loop of Keras's (TensorFlow's) formula, the Keras corpus and configs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers
from lstmkit.layers import Conv1D

from ..conformance.corpus import arrays, assert_close, cases, numbered

RNG = np.random.default_rng(1)


def reference_conv1d(x, kernel, bias, stride, padding, dilation, groups):
    """Keras's Conv1D written out: pad (TF's rule), then out[t] = sum_j x[t*s + j*d] @ kernel[j]."""
    batch, length, channels = x.shape
    k, group_in, filters = kernel.shape
    span = (k - 1) * dilation
    if padding == "valid":
        left = right = 0
    elif padding == "causal":
        left, right = span, 0
    else:  # "same"
        total = max((math.ceil(length / stride) - 1) * stride + span + 1 - length, 0)
        left, right = total // 2, total - total // 2
    xp = np.concatenate([np.zeros((batch, left, channels)), x, np.zeros((batch, right, channels))], axis=1)
    steps = (xp.shape[1] - span - 1) // stride + 1
    group_out = filters // groups
    out = np.zeros((batch, steps, filters))
    for t in range(steps):
        for j in range(k):
            tap = xp[:, t * stride + j * dilation]
            for g in range(groups):
                cin = slice(g * group_in, (g + 1) * group_in)
                cout = slice(g * group_out, (g + 1) * group_out)
                out[:, t, cout] += tap[:, cin] @ kernel[j, :, cout]
    return out + (0 if bias is None else bias)


SETTINGS = [(padding, stride, dilation, k, length)
            for padding in ("valid", "same", "causal")
            for stride, dilation in ((1, 1), (2, 1), (3, 1), (1, 2), (1, 3))
            for k in (1, 2, 3)
            for length in (7, 8)]


@pytest.mark.parametrize("padding, stride, dilation, k, length", SETTINGS)
def test_conv1d_matches_numpy_loop(padding, stride, dilation, k, length):
    x = RNG.standard_normal((2, length, 3)).astype("float32")
    layer = Conv1D(4, k, strides=stride, padding=padding.upper() if k == 2 else padding,
                   dilation_rate=dilation, bias_initializer="random_normal")
    y = layer(x).detach().numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (k, 3, 4) and bias.shape == (4,)
    expected = reference_conv1d(x.astype("float64"), kernel, bias, stride, padding, dilation, 1)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)
    assert layer.compute_output_shape((None, length, 3)) == (None,) + y.shape[1:]
    assert layer.compute_output_shape((None, None, 3)) == (None, None, 4)


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_groups_and_no_bias(padding):
    x = RNG.standard_normal((2, 9, 6)).astype("float32")
    layer = Conv1D(4, 3, padding=padding, groups=2, use_bias=False, activation="relu")
    y = layer(x).detach().numpy()
    (kernel,) = layer.get_weights()
    assert kernel.shape == (3, 3, 4)
    expected = np.maximum(reference_conv1d(x.astype("float64"), kernel, None, 1, padding, 1, 2), 0)
    np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)


def test_conv1d_causal_never_sees_the_future():
    x = RNG.standard_normal((1, 10, 2)).astype("float32")
    layer = Conv1D(3, 3, padding="causal", dilation_rate=2)
    y = layer(x)
    later = x.copy()
    later[:, 6:] += 5.0
    torch.testing.assert_close(layer(later)[:, :6], y[:, :6])


def test_conv1d_channels_first_equals_channels_last():
    x = RNG.standard_normal((2, 8, 3)).astype("float32")
    last = Conv1D(4, 3, padding="same", strides=2)
    first = Conv1D(4, 3, padding="same", strides=2, data_format="channels_first")
    y = last(x)
    first(x.transpose(0, 2, 1))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(first(x.transpose(0, 2, 1)), y.transpose(1, 2))
    assert first.compute_output_shape((None, 3, 8)) == (None, 4, 4)


@pytest.mark.parametrize("case_id", ["conv1d_valid", "conv1d_causal_dilated"])
def test_conv1d_keras_conformance(case_id):
    case = next(c for c in cases() if c["id"] == case_id)
    data = arrays(case)
    layer = layers.deserialize(case["config"])
    assert layer.get_config() == case["config"]["config"]
    assert layers.serialize(layer)["build_config"] == case["config"]["build_config"]
    layer.set_weights(numbered(data, "weights_"))
    assert_close(layer(data["x"]), data["y0"], case, "output")


KERAS_KEYS = ["name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding", "data_format",
              "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
              "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
              "bias_constraint"]


def test_conv1d_config_keys_and_round_trip():
    assert list(Conv1D(2, 3).get_config()) == KERAS_KEYS
    assert Conv1D(2, 3).name.startswith("conv1d")  # Keras's name, not "conv1_d"
    layer = Conv1D(6, (4,), strides=[2], padding="Same", data_format="channels_first", dilation_rate=1,
                   groups=3, activation="elu", use_bias=False,
                   kernel_initializer=lstmkit.initializers.HeNormal(seed=2), bias_initializer="ones",
                   kernel_regularizer="l2", bias_regularizer=lstmkit.regularizers.L1(0.2),
                   activity_regularizer="l1", kernel_constraint="unit_norm", bias_constraint="non_neg",
                   name="every", trainable=False)
    config = layer.get_config()
    json.dumps(config)
    assert config["kernel_size"] == [4] and config["strides"] == [2] and config["padding"] == "same"
    # a set activity_regularizer sits right after dtype, as Keras's base Layer writes it
    assert list(config) == KERAS_KEYS[:3] + ["activity_regularizer"] + [
        k for k in KERAS_KEYS[3:] if k != "activity_regularizer"]
    clone = Conv1D.from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(clone))))
    assert type(again) is Conv1D and again.get_config() == config


def test_conv1d_regularization_losses():
    layer = Conv1D(2, 2, kernel_regularizer=lstmkit.regularizers.L2(0.1), activity_regularizer="l2")
    y = layer(RNG.standard_normal((2, 5, 3)).astype("float32"))
    kernel_penalty, activity = layer.losses
    torch.testing.assert_close(kernel_penalty, 0.1 * (layer.kernel ** 2).sum())
    torch.testing.assert_close(activity, 0.01 * (y ** 2).sum())


def test_conv1d_errors():
    with pytest.raises(ValueError, match=(r"Conv1D 'conv1d\w*': input expects a 3-D input \(batch, steps, "
                                          r"channels\); received a 2-D array of shape \(32, 25\)\. "
                                          r".*x\.reshape\(32, 25, 1\)")):
        Conv1D(4, 3)(np.zeros((32, 25), "float32"))
    with pytest.raises(ValueError, match=r"`padding` expects one of 'valid', 'same', 'causal'; received 'full'"):
        Conv1D(4, 3, padding="full")
    with pytest.raises(ValueError, match=r"at most one of them > 1; received strides=2, dilation_rate=2"):
        Conv1D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match=r"`filters` expects a multiple of groups=3"):
        Conv1D(4, 3, groups=3)
    with pytest.raises(ValueError, match=r"channels divisible by groups=2; received 3 channels"):
        Conv1D(4, 3, groups=2)(np.zeros((1, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"at least 5 steps .*received 4 steps.*padding='same' or 'causal'"):
        Conv1D(4, 3, dilation_rate=2)(np.zeros((1, 4, 2), "float32"))
    layer = Conv1D(4, 2)
    layer(np.zeros((1, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"input expects 3 channels \(it was built for that\); received 2"):
        layer(np.zeros((1, 5, 2), "float32"))
    with pytest.raises(ValueError, match=r"`kernel_size` expects a positive integer; received 0"):
        Conv1D(4, 0)
    with pytest.raises(ValueError, match=r"`data_format` expects one of 'channels_last', 'channels_first'"):
        Conv1D(4, 2, data_format="NWC")


def test_zero_channels_is_an_error():
    # issue 13 fuzz: an input with 0 channels gave (batch, steps, 0) instead of `filters` channels
    with pytest.raises(ValueError, match=r"input expects at least one channel; received shape \(2, 3, 0\)"):
        Conv1D(2, 2)(torch.zeros(2, 3, 0))
