"""Subtract, Multiply, Average, Maximum, Minimum, Dot and the functional forms (concatenate, add, ...):
values against NumPy, Keras's mask rules for masked merges, shapes, configs, files, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import layers, models
from lstmkit.layers import (LSTM, Average, Dense, Dot, Input, Maximum, Minimum, Multiply, Subtract)

from .layer_checks import check_saved_model, config_round_trip, numpy

RNG = np.random.default_rng(5)
A, B, C = (RNG.standard_normal((2, 4, 3)).astype("float32") for _ in range(3))


def masked(x: np.ndarray, keep: np.ndarray) -> torch.Tensor:
    t = torch.tensor(x)
    t._keras_mask = torch.tensor(keep)
    return t


def test_elementwise_values_and_broadcasting():
    np.testing.assert_allclose(numpy(Subtract()([A, B])), A - B)
    np.testing.assert_allclose(numpy(Multiply()([A, B, C])), A * B * C, rtol=1e-6)
    np.testing.assert_allclose(numpy(Average()([A, B, C])), (A + B + C) / 3, rtol=1e-6)
    np.testing.assert_allclose(numpy(Maximum()([A, B, C])), np.maximum(np.maximum(A, B), C))
    np.testing.assert_allclose(numpy(Minimum()([A, B])), np.minimum(A, B))
    row = A[:, :1]  # (2, 1, 3) broadcasts over the steps
    np.testing.assert_allclose(numpy(Subtract()([A, row])), A - row)
    np.testing.assert_allclose(numpy(Maximum()([A, A[:, 0]])), np.maximum(A, A[:, :1]))  # rank expanded at 1
    assert Average().compute_output_shape([(None, 4, 3), (None, 1, 3)]) == (None, 4, 3)


def test_maximum_minimum_with_masks_follow_keras():
    """Keras: a masked step of one input is replaced by the other's value, so it never wins."""
    ma = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], bool)
    mb = np.array([[1, 0, 1, 0], [1, 1, 0, 0]], bool)
    got = Maximum()([masked(A, ma), masked(B, mb)])
    want = np.where(ma[..., None] & mb[..., None], np.maximum(A, B), np.where(ma[..., None], A, B))
    want = np.where(~ma[..., None] & ~mb[..., None], A, want)
    np.testing.assert_allclose(numpy(got), want)
    np.testing.assert_array_equal(numpy(got._keras_mask), ma | mb)
    low = Minimum()([masked(A, ma), torch.tensor(B)])  # one unmasked input: no output mask
    np.testing.assert_allclose(numpy(low), np.where(ma[..., None], np.minimum(A, B), B))
    assert getattr(low, "_keras_mask", None) is None


def test_multiply_with_masks_follows_keras():
    ma = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], bool)
    mb = np.array([[1, 0, 1, 0], [1, 1, 0, 0]], bool)
    got = Multiply()([masked(A, ma), masked(B, mb)])
    a1, b1 = np.where(ma[..., None], A, 1.0), np.where(mb[..., None], B, 1.0)
    np.testing.assert_allclose(numpy(got), np.where((ma | mb)[..., None], a1 * b1, 0.0), rtol=1e-6)
    partial = Multiply()([masked(A, ma), torch.tensor(B)])
    np.testing.assert_allclose(numpy(partial), a1 * B, rtol=1e-6)


@pytest.mark.parametrize("shapes,axes,equation", [
    (((2, 6, 3), (2, 5, 3)), 2, "btd,bsd->bts"),
    (((2, 6, 3), (2, 6, 4)), (1, 1), "btd,bte->bde"),
    (((2, 6, 3), (2, 3, 5)), (2, 1), "btd,bds->bts"),
    (((2, 3), (2, 3)), 1, "bd,bd->b"),
    (((2, 3), (2, 3, 5)), (1, 1), "bd,bds->bs"),
    (((2, 6, 3), (2, 3)), (-1, -1), "btd,bd->bt"),
])
def test_dot_matches_einsum(shapes, axes, equation):
    x, y = (RNG.standard_normal(s).astype("float32") for s in shapes)
    layer = Dot(axes=axes)
    want = np.einsum(equation, x, y)
    want = want[:, None] if want.ndim == 1 else want
    got = numpy(layer([x, y]))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape([(None, *shapes[0][1:]), (None, *shapes[1][1:])]) == (None, *want.shape[1:])


def test_dot_normalize_is_cosine_similarity():
    x, y = RNG.standard_normal((2, 5)).astype("float32"), RNG.standard_normal((2, 5)).astype("float32")
    want = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(numpy(Dot(1, normalize=True)([x, y])), want[:, None], rtol=1e-5)
    np.testing.assert_allclose(numpy(Dot(1, normalize=True)([x * 0, y])), np.zeros((2, 1)))  # no NaN


def test_functional_forms_and_symbolic_calls():
    a, b = Input(shape=(4, 3)), Input(shape=(4, 3))
    outputs = [layers.concatenate([a, b]), layers.add([a, b]), layers.subtract([a, b]), layers.multiply([a, b]),
               layers.average([a, b]), layers.maximum([a, b]), layers.minimum([a, b]), layers.dot([a, b], axes=2)]
    assert [o.shape for o in outputs] == [(None, 4, 6)] + [(None, 4, 3)] * 6 + [(None, 4, 4)]
    model = models.Model([a, b], outputs)
    got = [numpy(o) for o in model([A, B])]
    wants = [np.concatenate([A, B], -1), A + B, A - B, A * B, (A + B) / 2, np.maximum(A, B), np.minimum(A, B),
             np.einsum("btd,bsd->bts", A, B)]
    for g, w in zip(got, wants):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert layers.add([A, B], name="named_add") is not None


def test_configs_and_files(tmp_path):
    assert config_round_trip(Dot(axes=[1, 1], normalize=True))["axes"] == [1, 1]
    assert config_round_trip(Dot(axes=2))["axes"] == 2
    for cls in (Subtract, Multiply, Average, Maximum, Minimum):
        assert list(config_round_trip(cls())) == ["name", "trainable", "dtype"]

    def build():
        a, b = Input(shape=(4, 3)), Input(shape=(4, 3))
        h1, h2 = LSTM(3, return_sequences=True)(a), LSTM(3, return_sequences=True)(b)
        merged = [Subtract()([h1, h2]), Multiply()([h1, h2]), Average()([h1, h2]), Maximum()([h1, h2]),
                  Minimum()([h1, h2])]
        h = layers.concatenate(merged)
        return models.Model([a, b], [Dense(1)(LSTM(2)(h)), Dot(axes=(1, 1))([h1, h2])])

    check_saved_model(build, [A, B], tmp_path)


def test_errors():
    with pytest.raises(ValueError, match="exactly 2"):
        Subtract()([A, B, C])
    with pytest.raises(ValueError, match="match"):
        Multiply()([A, A[:, :, :2]])
    with pytest.raises(ValueError, match="list"):
        Maximum()(A)
    with pytest.raises(ValueError, match="equal sizes"):
        Dot(axes=1)([A, A[:, :3]])
    with pytest.raises(ValueError, match="batch axis"):
        Dot(axes=0)([A, B])
    with pytest.raises(ValueError, match="pair"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="exactly 2"):
        Dot(axes=1)([A, B, C])
