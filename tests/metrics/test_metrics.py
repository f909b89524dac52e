"""Keras metrics: epoch accumulation rules, accuracy selection, and seed 001's ``K.*`` metric."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import backend as K
from lstmkit import metrics


def test_rmse_is_the_root_of_the_epoch_mse_not_a_mean_of_batch_rmses():
    m = metrics.get("rmse")
    a = (np.zeros((2, 1)), torch.tensor([[1.0], [1.0]]))
    b = (np.zeros((2, 1)), torch.tensor([[3.0], [3.0]]))
    m.update_state(*a)
    m.update_state(*b)
    assert float(m.result()) == pytest.approx(np.sqrt((1 + 1 + 9 + 9) / 4))
    m.reset_state()
    assert float(m.result()) == 0.0


def test_mean_metric_wrapper_weights_samples_not_batches():
    m = metrics.get("mae")
    m.update_state(np.zeros((3, 1)), torch.ones(3, 1))          # 3 samples of error 1
    m.update_state(np.zeros((1, 1)), torch.full((1, 1), 5.0))   # 1 sample of error 5
    assert float(m.result()) == pytest.approx((3 * 1 + 5) / 4)
    assert m.name == "mae"


def test_sample_weight_in_metrics():
    m = metrics.MeanSquaredError()
    m.update_state(np.zeros((2, 1)), torch.tensor([[1.0], [2.0]]), sample_weight=np.array([1.0, 3.0]))
    assert float(m.result()) == pytest.approx((1 * 1 + 3 * 4) / 4)


@pytest.mark.parametrize("y_true, y_pred, chosen", [
    (np.array([[1.0], [0.0]]), torch.tensor([[0.9], [0.6]]), metrics.binary_accuracy),
    (np.eye(3)[[0, 2]], torch.tensor([[0.8, 0.1, 0.1], [0.5, 0.4, 0.1]]), metrics.categorical_accuracy),
    (np.array([0, 2]), torch.tensor([[0.8, 0.1, 0.1], [0.5, 0.4, 0.1]]), metrics.sparse_categorical_accuracy),
])
def test_acc_picks_the_accuracy_keras_would(y_true, y_pred, chosen):
    m = metrics.get("acc")
    m.update_state(y_true, y_pred)
    assert m.fn is chosen and m.name == "acc"
    assert float(m.result()) == pytest.approx(0.5)


def test_seed001_rmse_written_with_the_backend_runs_as_a_metric():
    def rmse(y_true, y_pred):  # seed 001, verbatim
        return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))

    m = metrics.get(rmse)
    y_true = torch.tensor([[0.0], [0.0]])
    m.update_state(y_true, torch.tensor([[3.0], [1.0]]))
    assert m.name == "rmse"
    assert float(m.result()) == pytest.approx(2.0)  # per sample sqrt(e^2) = |e|, averaged: Keras's numbers


def test_backend_functions_follow_keras_backend():
    x = np.array([[1.0, -4.0], [9.0, 16.0]], dtype=np.float32)
    assert K.epsilon() == 1e-7 and K.floatx() == "float32"
    assert K.sqrt(x).tolist() == [[1.0, 0.0], [3.0, 4.0]]  # negatives clipped to 0 as Keras does
    assert K.mean(x, axis=-1).tolist() == [-1.5, 12.5]
    assert K.sum(x, axis=0, keepdims=True).shape == (1, 2)
    assert K.clip(x, 0.0, 5.0).tolist() == [[1.0, 0.0], [5.0, 5.0]]
    assert float(K.var(x)) == pytest.approx(np.var(x))
    assert K.max(x, axis=1).tolist() == [1.0, 16.0]
    assert K.int_shape(x) == (2, 2) and K.ndim(x) == 2
    assert K.get_value(K.abs(x)).dtype == np.float32


def test_unknown_metric_name_lists_the_names():
    with pytest.raises(ValueError, match="a Keras metric name"):
        metrics.get("mean_sq_error")


def test_metrics_on_per_step_outputs_are_means_over_every_step_as_keras():
    """Keras's reduce_to_samplewise_values: each sample's values are averaged before counting the sample."""
    import numpy as np
    import torch

    from lstmkit.layers import LSTM, Dense, Input
    from lstmkit.models import Sequential

    torch.manual_seed(0)
    x = np.random.default_rng(0).random((8, 10, 1)).astype("float32")
    model = Sequential([Input((10, 1)), LSTM(4, return_sequences=True), Dense(1)])
    model.compile(loss="mse", optimizer="adam", metrics=["mse", "mae"])
    loss, mse, mae = model.evaluate(x, x, verbose=0)
    p = model.predict(x, verbose=0)
    np.testing.assert_allclose([loss, mse, mae], [((p - x) ** 2).mean()] * 2 + [np.abs(p - x).mean()], rtol=1e-5)
