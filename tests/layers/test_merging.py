"""Concatenate and Add: values, shapes, Keras 3's mask rules (Merge.compute_mask), configs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lstmkit import layers
from lstmkit.layers import Add, Concatenate, Masking

RNG = np.random.default_rng(2)
A = RNG.standard_normal((2, 4, 3)).astype("float32")
B = RNG.standard_normal((2, 4, 5)).astype("float32")


def with_gap(x, step):
    x = x.copy()
    x[:, step] = 0.0
    return x


def round_trip(layer):
    config = layer.get_config()
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(clone) is type(layer) and clone.get_config() == config
    return config


# -- Concatenate ------------------------------------------------------------------------------------
def test_concatenate_values_and_shapes():
    np.testing.assert_array_equal(Concatenate()([A, B]).numpy(), np.concatenate([A, B], -1))
    np.testing.assert_array_equal(Concatenate(axis=1)([A, A]).numpy(), np.concatenate([A, A], 1))
    layer = Concatenate()
    assert layer.compute_output_shape([(None, 4, 3), (None, 4, 5)]) == (None, 4, 8)
    assert layer.compute_output_shape([(None, 4, 3), (None, 4, None)]) == (None, 4, None)
    assert Concatenate(axis=1).compute_output_shape([(None, 2, 3), (None, 4, 3)]) == (None, 6, 3)


def test_concatenate_masks_as_keras():
    a, b = with_gap(A, 1), with_gap(B, 3)
    mask_a, mask_b = np.any(a != 0, -1), np.any(b != 0, -1)
    # feature axis: each mask broadcast over its features, then any() over features: an OR here
    out = Concatenate()([Masking()(a), Masking()(b)])
    assert out._keras_mask.tolist() == (mask_a | mask_b).tolist()
    # an unmasked input counts as all True
    assert Concatenate()([Masking()(a), torch.as_tensor(B)])._keras_mask.all()
    # time axis: the masks are joined along time
    out = Concatenate(axis=1)([Masking()(a), torch.as_tensor(A)])
    assert out._keras_mask.tolist() == np.concatenate([mask_a, np.ones_like(mask_a)], 1).tolist()
    assert getattr(Concatenate()([A, B]), "_keras_mask", None) is None


def test_concatenate_config_and_errors():
    config = round_trip(Concatenate(axis=1, name="cat"))
    assert list(config) == ["name", "trainable", "dtype", "axis"] and config["axis"] == 1
    with pytest.raises(ValueError, match=(r"Concatenate 'concatenate\w*': inputs expects shapes of one rank that "
                                          r"match except on the concatenation axis -1; received shapes "
                                          r"\[\(2, 4, 3\), \(2, 5, 5\)\]")):
        Concatenate()([A, np.zeros((2, 5, 5), "float32")])
    with pytest.raises(ValueError, match=r"input expects a list of at least one tensor; received Tensor"):
        Concatenate()(torch.as_tensor(A))
    with pytest.raises(ValueError, match=r"inputs expects the same batch size"):
        Concatenate()([A, np.zeros((3, 4, 5), "float32")])


# -- Add ----------------------------------------------------------------------------------------------
def test_add_values_and_broadcasting():
    np.testing.assert_allclose(Add()([A, A, A]).numpy(), 3 * A, rtol=1e-6)
    bias = RNG.standard_normal((2, 3)).astype("float32")  # lower rank: a size-1 axis after the batch
    np.testing.assert_allclose(Add()([A, bias]).numpy(), A + bias[:, None], rtol=1e-6)
    layer = Add()
    assert layer.compute_output_shape([(None, 4, 3), (None, 4, 3)]) == (None, 4, 3)
    assert layer.compute_output_shape([(2, 4, 3), (None, 1, 3)]) == (2, 4, 3)
    assert layer.compute_output_shape([(None, None, 3), (None, 4, 3)]) == (None, None, 3)


def test_add_ors_masks_only_when_all_inputs_have_one():
    a, b = with_gap(with_gap(A, 1), 2), with_gap(A, 2)
    out = Add()([Masking()(a), Masking()(b)])
    assert out._keras_mask.tolist() == (np.any(a != 0, -1) | np.any(b != 0, -1)).tolist()
    assert not out._keras_mask[:, 2].any() and out._keras_mask[:, 1].all()
    assert getattr(Add()([Masking()(a), torch.as_tensor(b)]), "_keras_mask", None) is None


def test_add_config_and_errors():
    assert list(round_trip(Add(name="plus"))) == ["name", "trainable", "dtype"]
    with pytest.raises(ValueError, match=(r"Add 'add\w*': inputs expects shapes that match \(or are 1\) on every "
                                          r"axis after the batch; received shapes \[\(2, 4, 3\), \(2, 4, 5\)\]")):
        Add()([A, B])
    with pytest.raises(ValueError, match=r"Add 'add\w*': input expects a list of at least one tensor"):
        Add()(A)
