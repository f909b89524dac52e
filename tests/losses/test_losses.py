"""Keras losses: formulas against NumPy written from Keras's definitions, shape rules, weights and masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit import losses

RNG = np.random.default_rng(0)
Y = RNG.normal(size=(6, 3)).astype(np.float32)
P = RNG.normal(size=(6, 3)).astype(np.float32)
EPS = 1e-7


def close(got, want, tol=1e-5):
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want, rtol=tol, atol=tol)


@pytest.mark.parametrize("name, reference", [
    ("mse", lambda y, p: np.mean((p - y) ** 2, -1)),
    ("mae", lambda y, p: np.mean(np.abs(p - y), -1)),
    ("mape", lambda y, p: 100 * np.mean(np.abs((y - p) / np.maximum(np.abs(y), EPS)), -1)),
    ("msle", lambda y, p: np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2, -1)),
    ("huber", lambda y, p: np.mean(np.where(np.abs(p - y) <= 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5), -1)),
    ("log_cosh", lambda y, p: np.mean(np.log(np.cosh(p - y)), -1)),
    ("poisson", lambda y, p: np.mean(p - y * np.log(p + EPS), -1)),
])
def test_regression_losses_match_keras_formulas(name, reference):
    y, p = (np.abs(Y), np.abs(P)) if name in ("poisson", "msle") else (Y, P)
    per_sample = reference(y.astype(np.float64), p.astype(np.float64))
    close(losses.get(name)(y, torch.tensor(p)), per_sample.mean())
    close(losses.FUNCTIONS[name](y, torch.tensor(p)), per_sample)


def test_huber_delta_and_config():
    loss = losses.Huber(delta=0.5)
    e = P - Y
    want = np.where(np.abs(e) <= 0.5, 0.5 * e ** 2, 0.5 * np.abs(e) - 0.125).mean()
    close(loss(Y, torch.tensor(P)), want)
    assert loss.get_config() == {"name": "huber_loss", "reduction": "sum_over_batch_size", "delta": 0.5}
    assert losses.Huber.from_config(loss.get_config()).fn_kwargs == {"delta": 0.5}


def test_classification_losses():
    logits = torch.tensor(P)
    probs = torch.softmax(logits, -1).numpy()
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 1, 0, 2]]
    ids = np.array([0, 2, 1, 1, 0, 2])
    cce = -np.sum(onehot * np.log(np.clip(probs, EPS, 1 - EPS)), -1).mean()
    close(losses.get("categorical_crossentropy")(onehot, torch.tensor(probs)), cce)
    close(losses.CategoricalCrossentropy(from_logits=True)(onehot, logits), cce, 1e-5)
    close(losses.get("sparse_categorical_crossentropy")(ids, torch.tensor(probs)), cce, 1e-5)
    close(losses.SparseCategoricalCrossentropy(from_logits=True)(ids.reshape(-1, 1), logits),
          torch.nn.functional.cross_entropy(logits, torch.tensor(ids)).item())
    sig = 1 / (1 + np.exp(-P))
    bce = -(onehot * np.log(np.clip(sig, EPS, 1 - EPS)) + (1 - onehot) * np.log(1 - np.clip(sig, EPS, 1 - EPS)))
    close(losses.get("binary_crossentropy")(onehot, torch.tensor(sig)), bce.mean(), 1e-5)
    close(losses.BinaryCrossentropy(from_logits=True)(onehot, logits), bce.mean(), 1e-5)
    kld = np.sum(np.clip(probs[::-1], EPS, 1) * np.log(np.clip(probs[::-1], EPS, 1) / np.clip(probs, EPS, 1)), -1)
    close(losses.get("kld")(probs[::-1].copy(), torch.tensor(probs)), kld.mean())


def test_sparse_ids_out_of_range_is_explained():
    with pytest.raises(ValueError, match=r"class ids in \[0, 3\).*last Dense"):
        losses.get("sparse_categorical_crossentropy")(np.array([0, 5]), torch.rand(2, 3))


def test_rank_rules_avoid_the_broadcast_trap():
    """y of shape (batch,) against predictions (batch, 1): Keras expands y instead of broadcasting to (b, b)."""
    y, p = Y[:, 0], torch.tensor(P[:, :1])
    close(losses.get("mse")(y, p), np.mean((P[:, 0] - Y[:, 0]) ** 2))
    close(losses.get("mse")(Y[:, :1], torch.tensor(P[:, 0])), np.mean((P[:, 0] - Y[:, 0]) ** 2))


def test_wrong_target_shape_names_both_shapes_and_the_fix():
    with pytest.raises(ValueError, match=r"predictions \(6, 1\); received targets of shape \(6, 3\).*reshape"):
        losses.get("mse")(Y, torch.tensor(P[:, :1]))


def test_sample_weight_and_reductions():
    w = np.array([1, 0, 2, 0, 1, 1], dtype=np.float32)
    per = np.mean((P - Y) ** 2, -1)
    close(losses.MeanSquaredError()(Y, torch.tensor(P), sample_weight=w), (per * w).sum() / 6)
    close(losses.MeanSquaredError(reduction="sum")(Y, torch.tensor(P), sample_weight=w), (per * w).sum())
    close(losses.MeanSquaredError(reduction="none")(Y, torch.tensor(P)), per)
    close(losses.MeanSquaredError(reduction="mean_with_sample_weight")(Y, torch.tensor(P), sample_weight=w),
          (per * w).sum() / w.sum())
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="avg")


def test_output_mask_averages_over_valid_steps_only():
    """A masked output (Masking upstream) counts only its valid timesteps, as Keras's apply_mask does."""
    y = torch.zeros(2, 4, 1)
    p = torch.arange(8, dtype=torch.float32).reshape(2, 4, 1)
    p._keras_mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    valid = torch.tensor([0., 1., 4., 5., 6., 7.])  # the unmasked predictions
    close(losses.get("mse")(y, p), float((valid ** 2).mean()), 1e-4)


def test_get_accepts_names_objects_callables_and_explains_bad_names():
    assert losses.get("MSE").name == "MSE"
    assert losses.get("mean_absolute_error").fn is losses.mean_absolute_error
    assert isinstance(losses.get("Huber"), losses.Huber)
    obj = losses.LogCosh()
    assert losses.get(obj) is obj
    custom = losses.get(lambda y, p: torch.mean(torch.abs(p - y), -1))
    close(custom(Y, torch.tensor(P)), np.abs(P - Y).mean())
    assert losses.get({"class_name": "Huber", "config": {"delta": 2.0}}).fn_kwargs["delta"] == 2.0
    with pytest.raises(ValueError, match="a Keras loss name"):
        losses.get("mean_square_error")
    assert losses.serialize(losses.get("mse")) == "mse"
    assert losses.serialize(losses.Huber())["class_name"] == "Huber"
    assert math.isclose(losses.huber(np.zeros((1, 1)), torch.tensor([[3.0]])).item(), 2.5)
