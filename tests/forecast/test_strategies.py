"""Feedback helpers and the recursive strategy (direct and seq2seq beside their builders in test_builders)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers
from lstmkit.forecast.feedback import last_step_output, next_step, resolve_targets
from lstmkit.forecast.strategies import recursive

LOOK_BACK = 4


@pytest.fixture(scope="module")
def lstm_model():
    """Seed 001's shape of model: LSTM over a window of LOOK_BACK steps of one feature -> Dense(1)."""
    torch.manual_seed(0)
    return lstmkit.Sequential([layers.Input(shape=(LOOK_BACK, 1)), layers.LSTM(3), layers.Dense(1)])


@pytest.fixture(scope="module")
def linear_model():
    """A model whose prediction is known by hand: 1*x[-1, 0] + 0.5*x[-1, 1] + 0.25*x[-1, 2] + 0.125."""
    model = lstmkit.Sequential([layers.Input(shape=(2, 3)), layers.Flatten(), layers.Dense(1)])
    kernel = np.array([[0.0], [0.0], [0.0], [1.0], [0.5], [0.25]], dtype=np.float32)
    model.layers[-1].set_weights([kernel, np.array([0.125], dtype=np.float32)])
    return model


def sine(n: int, phase: float = 0.0) -> np.ndarray:
    return np.sin(np.linspace(0, 3, n) + phase)


# -- feedback ----------------------------------------------------------------------------------------------
def test_resolve_targets_defaults():
    assert resolve_targets(None, 3, 3, has_exogenous=False) == [0, 1, 2]
    assert resolve_targets(None, 3, 1, has_exogenous=True) == [0]
    assert resolve_targets([2], 3, 1, has_exogenous=True) == [2]


@pytest.mark.parametrize("args, match", [
    ((None, 3, 1, False), r"one value per input feature \(3\).*received 1 output\(s\).*Pass `exogenous`"),
    (([0, 1], 3, 1, True), r"one feature position per model output \(1\); received 2"),
    (([3], 3, 1, True), r"positions in \[0, 2\]; received \[3\] \(out of range: \[3\]\)"),
    (([1, 1], 3, 2, True), r"distinct positions; received \[1, 1\]"),
    (([0, 1, 2], 3, 3, True), r"None when every feature is a target.*Drop `exogenous`"),
    (([0], 3, 1, False), r"the future values of the 2 non-target feature\(s\); received None"),
])
def test_resolve_targets_errors(args, match):
    with pytest.raises(ValueError, match=match):
        resolve_targets(*args)


def test_next_step_places_prediction_and_exogenous():
    prediction = np.array([[9.0], [8.0]])
    exogenous = np.array([[1.0, 2.0], [3.0, 4.0]])
    step = next_step(prediction, 3, [1], exogenous)
    assert step.shape == (2, 1, 3)
    np.testing.assert_array_equal(step[:, 0], [[1.0, 9.0, 2.0], [3.0, 8.0, 4.0]])
    # targets in a non-sorted order: column j of the prediction goes to feature targets[j]
    step = next_step(np.array([[5.0, 6.0]]), 3, [2, 0], np.array([[7.0]]))
    np.testing.assert_array_equal(step[0, 0], [6.0, 7.0, 5.0])
    np.testing.assert_array_equal(next_step(np.array([[1.0, 2.0]]), 2, [0, 1])[0, 0], [1.0, 2.0])


@pytest.mark.parametrize("args, match", [
    ((np.ones((2, 2)), 3, [1], np.ones((2, 2))), r"`prediction` expects shape \(batch, 1\).*received a 2-D array "
                                                 r"of shape \(2, 2\)"),
    ((np.ones((2, 1)), 3, [1], None), r"`exogenous_step` expects shape \(2, 2\).*received None"),
    ((np.ones((2, 1)), 3, [1], np.ones((2, 3))), r"`exogenous_step` expects shape \(2, 2\).*\(2, 3\)"),
    ((np.ones((2, 3)), 3, [0, 1, 2], np.ones((2, 1))), r"None when every feature is a target"),
])
def test_next_step_errors(args, match):
    with pytest.raises(ValueError, match=match):
        next_step(*args)


def test_last_step_output():
    sequence = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(last_step_output(sequence), sequence[:, -1])
    np.testing.assert_array_equal(last_step_output(torch.ones(2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"one array \(a single-output model\); received a list of 2 outputs"):
        last_step_output([np.ones((2, 1)), np.ones((2, 1))])
    with pytest.raises(ValueError, match=r"\(batch, n_out\) or \(batch, timesteps, n_out\).*1-D array"):
        last_step_output(np.ones(3))


# -- recursive ---------------------------------------------------------------------------------------------
def seed_001_loop(lstm, x_test, look_ahead):
    """Seed 001's loop, literally."""
    xhat = x_test[0]
    predictions = np.zeros((look_ahead, 1))
    for i in range(look_ahead):
        prediction = lstm.predict(np.array([xhat]), batch_size=1, verbose=0)
        predictions[i] = prediction
        xhat = np.vstack([xhat[1:], prediction])
    return predictions


def test_recursive_equals_seed_001_loop(lstm_model):
    x_test = sine(LOOK_BACK + 3)[None, :LOOK_BACK, None]
    expected = seed_001_loop(lstm_model, x_test, look_ahead=6)
    np.testing.assert_array_equal(recursive(lstm_model, x_test[0], steps=6), expected)  # (T, 1) -> (steps, 1)
    np.testing.assert_array_equal(recursive(lstm_model, x_test[0, :, 0], steps=6), expected[:, 0])  # (T,)
    longer = np.concatenate([np.full((5, 1), 7.0), x_test[0]])  # only the last LOOK_BACK steps are seen
    np.testing.assert_array_equal(recursive(lstm_model, longer, steps=6), expected)


def test_recursive_vectorized_one_predict_per_step(lstm_model, monkeypatch):
    histories = np.stack([sine(10, phase)[:, None] for phase in (0.0, 1.0, 2.0)])
    alone = np.stack([recursive(lstm_model, h, steps=5) for h in histories])
    calls = []
    original = lstm_model.predict
    monkeypatch.setattr(lstm_model, "predict", lambda x, **kw: calls.append(x.shape) or original(x, **kw))
    together = recursive(lstm_model, histories, steps=5)
    assert together.shape == (3, 5, 1)
    assert calls == [(3, LOOK_BACK, 1)] * 5
    np.testing.assert_allclose(together, alone, rtol=1e-6, atol=1e-7)


def test_recursive_growing_history_without_declared_window():
    torch.manual_seed(1)
    inputs = layers.Input(shape=(None, 1))
    model = lstmkit.Model(inputs, layers.Dense(1)(layers.LSTM(2)(inputs)))
    history = sine(5)[:, None]
    xhat, expected = history, []
    for _ in range(3):  # the whole history each step: it grows by one
        prediction = model.predict(xhat[None], verbose=0)
        expected.append(prediction[0])
        xhat = np.vstack([xhat, prediction])
    np.testing.assert_array_equal(recursive(model, history, steps=3), np.array(expected))
    np.testing.assert_array_equal(recursive(model, history, steps=3, window=2),
                                  recursive(model, history[-2:], steps=3, window=2))


def test_recursive_exogenous_placement_by_hand(linear_model):
    # features: [exogenous a, target, exogenous b]; the model predicts a + 0.5 * target + 0.25 * b + 0.125
    history = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    future = np.array([[10.0, 20.0], [30.0, 40.0], [50.0, 60.0]])  # (steps, F - n_targets)
    expected, last = [], history[-1]
    for a, b in future:
        prediction = last[0] + 0.5 * last[1] + 0.25 * last[2] + 0.125
        expected.append([prediction])
        last = np.array([a, prediction, b])
    forecast = recursive(linear_model, history, steps=3, targets=[1], exogenous=future)
    np.testing.assert_allclose(forecast, expected, rtol=1e-6)
    # several series with their own exogenous values == each alone
    histories = np.stack([history, history + 1])
    futures = np.stack([future, future * 2])
    together = recursive(linear_model, histories, steps=3, targets=[1], exogenous=futures)
    np.testing.assert_allclose(together[1], recursive(linear_model, histories[1], 3, [1], futures[1]), rtol=1e-6)
    np.testing.assert_allclose(together[0], forecast, rtol=1e-6)


def test_recursive_exogenous_with_a_trained_lstm_matches_manual_loop():
    torch.manual_seed(2)
    model = lstmkit.Sequential([layers.Input(shape=(3, 2)), layers.LSTM(4), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(16, 3, 2)), rng.normal(size=(16, 1)), epochs=1, verbose=0)
    history, future = rng.normal(size=(6, 2)), rng.normal(size=(4, 1))
    window, expected = history[-3:], []
    for i in range(4):
        prediction = model.predict(window[None], verbose=0)[0]
        expected.append(prediction)
        window = np.vstack([window[1:], np.concatenate([prediction, future[i]])])  # target first, then exogenous
    np.testing.assert_array_equal(recursive(model, history, steps=4, exogenous=future), np.array(expected))


def test_recursive_errors(lstm_model, linear_model):
    with pytest.raises(ValueError, match=r"`history` expects at least 4 steps \(the model's input window\); "
                                         r"received 3 steps"):
        recursive(lstm_model, np.ones(3), steps=2)
    with pytest.raises(ValueError, match=r"`window` expects the model's input timesteps \(4\); received 2"):
        recursive(lstm_model, np.ones(6), steps=2, window=2)
    with pytest.raises(TypeError, match=r"`steps` expects a positive integer; received 1.5"):
        recursive(lstm_model, np.ones(6), steps=1.5)
    with pytest.raises(ValueError, match=r"`exogenous` expects shape \(3, 2\); received a 2-D array of shape "
                                         r"\(2, 2\)"):
        recursive(linear_model, np.ones((2, 3)), steps=3, targets=[1], exogenous=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"`exogenous` expects shape \(2, 3, 2\).*\(1, 3, 2\)"):
        recursive(linear_model, np.ones((2, 2, 3)), steps=3, targets=[1], exogenous=np.ones((1, 3, 2)))
    with pytest.raises(ValueError, match=r"one value per input feature \(3\).*Pass `exogenous`"):
        recursive(linear_model, np.ones((2, 3)), steps=3)
    with pytest.raises(ValueError, match=r"`history` expects finite values; received NaN"):
        recursive(lstm_model, np.array([1.0, np.nan, 1.0, 1.0]), steps=1)
    with pytest.raises(ValueError, match=r"`history` expects a non-empty \(T,\), \(T, F\) or \(n_series, T, F\)"):
        recursive(lstm_model, np.ones((1, 1, 4, 1)), steps=1)
    with pytest.raises(TypeError, match=r"`model` expects an lstmkit model \(with predict\); received object"):
        recursive(object(), np.ones(4), steps=1)


def test_recursive_refuses_stateful_models():
    model = lstmkit.Sequential([layers.Input(batch_shape=(1, 4, 1)), layers.LSTM(2, stateful=True),
                                layers.Dense(1)])
    with pytest.raises(ValueError, match=r"a stateless model.*stateful layer\(s\) \['lstm.*'\]\. Use "
                                         r"lstmkit\.forecast\.stateful"):
        recursive(model, np.ones(4), steps=2)


def test_recursive_keeps_float64_for_models_that_compute_in_float64():
    """Any object with ``predict`` may be forecast: the fed-back windows keep the history's precision."""

    class Drift:
        def predict(self, x, batch_size=None, verbose=0):
            return np.asarray(x)[:, -1, :] + 0.01

    ahead = recursive(Drift(), 1e6 + np.arange(20.0), steps=5, window=4)
    np.testing.assert_allclose(ahead - (1e6 + 19), [0.01, 0.02, 0.03, 0.04, 0.05], rtol=1e-6)


def test_recursive_refuses_an_output_that_changes_shape_after_the_first_step(lstm_model, monkeypatch):
    """Steps after the first write the prediction straight into the window (next_step's checks were made
    at step 0): an output of another width later is an error, never a broadcast into the targets."""
    history = np.column_stack([sine(10), sine(10)])  # (10, 2): the target and one exogenous feature
    original, calls = lstm_model.predict, []

    def widening(x, **kw):  # one column, then two: the wrong width from the second step on
        calls.append(1)
        out = original(x[..., :1], **kw)
        return out if len(calls) == 1 else np.concatenate([out, out], axis=1)

    monkeypatch.setattr(lstm_model, "predict", widening)
    with pytest.raises(ValueError, match=r"shape \(1, 1\) at every step \(as at the first\)"):
        recursive(lstm_model, history, steps=3, targets=[0], exogenous=np.zeros((3, 1)))


def test_recursive_feeds_back_what_a_float64_loop_feeds_back():
    """Windows kept in float32 (a float32 history, an lstmkit model) give the same forecast as the
    seed's float64 loop, also for a float64 model whose predictions float32 cannot hold exactly."""
    torch.manual_seed(3)
    model = lstmkit.Sequential([layers.Input(shape=(LOOK_BACK, 1)), layers.LSTM(5), layers.Dense(1)]).double()
    history = sine(12).astype("float32")
    xhat, expected = history[-LOOK_BACK:].astype("float64")[:, None], []
    for _ in range(6):
        prediction = model.predict(xhat[None], verbose=0)
        assert prediction.dtype == np.float64
        expected.append(prediction[0, 0])
        xhat = np.vstack([xhat[1:], prediction])
    np.testing.assert_array_equal(recursive(model, history, steps=6), np.array(expected))


def test_recursive_feeds_a_predict_replaced_on_the_instance_float64_windows(lstm_model, monkeypatch):
    """A predict replaced on the instance may read float64: the windows stay float64 for it."""
    network, seen = lstm_model.predict, []
    monkeypatch.setattr(lstm_model, "predict", lambda x, **kw: seen.append(x.dtype) or network(x, **kw))
    recursive(lstm_model, sine(10).astype("float32"), steps=2)
    assert seen == [np.float64, np.float64]
