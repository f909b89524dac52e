"""forecast.stateful: carried-state generation equals re-running the whole history at every step."""

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers as L
from lstmkit.forecast.stateful import stateful
from lstmkit.forecast.strategies import recursive
from lstmkit.trainers.streams import StreamState


def seq_model(features=1, outputs=1, seed=0, sequences=True):
    torch.manual_seed(seed)
    return lstmkit.Sequential([L.Input((None, features)), L.LSTM(12, return_sequences=True),
                               L.GRU(6, return_sequences=sequences), L.Dense(outputs)])


def test_equals_recursive_rerunning_the_growing_history_many_to_many():
    model = seq_model()
    history = np.sin(np.arange(40) / 4.0)
    np.testing.assert_allclose(stateful(model, history, 15), recursive(model, history, 15), atol=1e-5)


def test_equals_recursive_for_many_to_one_models_and_many_series_at_once():
    model = seq_model(features=2, outputs=2, sequences=False)
    history = np.random.default_rng(0).normal(size=(4, 30, 2))
    got = stateful(model, history, 10)
    assert got.shape == (4, 10, 2)
    np.testing.assert_allclose(got, recursive(model, history, 10), atol=1e-5)
    for i in range(4):  # vectorised: each series alone gives the same
        np.testing.assert_allclose(stateful(model, history[i], 10), got[i], atol=1e-6)


def test_exogenous_features_are_fed_as_recursive_feeds_them():
    model = seq_model(features=3, outputs=1)
    rng = np.random.default_rng(1)
    history, future = rng.normal(size=(2, 25, 3)), rng.normal(size=(2, 8, 2))
    got = stateful(model, history, 8, exogenous=future)
    np.testing.assert_allclose(got, recursive(model, history, 8, exogenous=future), atol=1e-5)
    with pytest.raises(ValueError, match="exogenous"):
        stateful(model, history, 8)


def test_a_given_state_is_left_holding_each_series_to_continue_later():
    model = seq_model()
    history = np.sin(np.arange(30) / 3.0)[None, :, None]
    state = StreamState(model)
    first = stateful(model, history, 5, state=state)
    assert state.ids == [0]
    # continuing from the state equals a forecast over the history plus the fed-back forecasts
    fed = np.concatenate([history, first[:, :-1]], axis=1)
    next_input = first[:, -1:]
    np.testing.assert_allclose(state.predict(next_input, [0])[:, -1],
                               model.predict(np.concatenate([fed, next_input], 1), verbose=0)[:, -1], atol=1e-5)


def test_keras_style_stateful_models_keep_their_slot_memory():
    torch.manual_seed(0)
    model = lstmkit.Sequential([L.Input(batch_shape=(1, None, 1)), L.LSTM(5, return_sequences=True, stateful=True),
                                L.Dense(1)])
    model.predict(np.ones((1, 4, 1), np.float32), verbose=0)
    memory = [s.clone() for s in model.layers[0].states]
    stateful(model, np.zeros(10), 3)
    torch.testing.assert_close(model.layers[0].states[0], memory[0])


def test_models_that_cannot_carry_state_are_refused_with_the_reason():
    torch.manual_seed(0)
    bi = lstmkit.Sequential([L.Input((None, 1)), L.Bidirectional(L.LSTM(3, return_sequences=True)), L.Dense(1)])
    with pytest.raises(ValueError, match="Bidirectional.*reads the sequence backwards"):
        stateful(bi, np.zeros(10), 2)


def test_window_models_are_refused_rather_than_silently_different():
    torch.manual_seed(0)
    window_model = lstmkit.Sequential([L.Input((5, 1)), L.LSTM(4), L.Dense(1)])
    with pytest.raises(ValueError, match=r"built for windows of 5 steps.*forecast.recursive"):
        stateful(window_model, np.zeros(20), 3)


def test_an_output_that_changes_shape_after_the_first_steps_is_an_error():
    """Steps after the first write predictions straight into one input array (next_step's checks were
    made once): an output of another width later is refused, never broadcast into the forecast."""
    model = seq_model()

    class Widening(StreamState):
        calls = 0

        def predict(self, x, ids):
            out = super().predict(x, ids)
            Widening.calls += 1
            return out if Widening.calls < 3 else np.concatenate([out, out], axis=-1)

    with pytest.raises(ValueError, match=r"shape \(1, 1\) at every step \(as at the first\)"):
        stateful(model, np.sin(np.arange(20) / 4.0), 5, state=Widening(model))
