"""Sequential models: add / pop, input declarations, subclassing, masks, errors, config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.layers import LSTM, Dense, Dropout, Input, Masking
from lstmkit.models import Sequential, model_from_json


def test_input_shape_on_first_layer_builds_and_traces_shapes():
    model = Sequential([LSTM(128, input_shape=(None, 1)), Dropout(0.2), Dense(1)])
    assert model.built and model._output_shapes == [(None, 128), (None, 128), (None, 1)]
    assert model.count_params() == 66560 + 129
    assert model(np.zeros((2, 13, 1))).shape == (2, 1)
    assert model.input_shape == (None, None, 1) and model.output_shape == (None, 1)  # Keras's properties


def test_shapes_of_a_model_without_input_say_how_to_declare_one():
    model = Sequential([LSTM(4), Dense(1)])
    with pytest.raises(ValueError, match=r"no defined output shape.*input_shape=\.\.\."):
        model.output_shape
    model(np.zeros((2, 5, 3), dtype="float32"))  # built by a call: the shapes exist now
    assert model.input_shape == (None, 5, 3) and model.output_shape == (None, 1)


def test_unbuilt_model_builds_on_first_call_and_pop_retraces():
    model = Sequential()
    model.add(LSTM(4, return_sequences=True))
    model.add(Dense(2))
    assert not model.built
    assert model(torch.zeros(3, 7, 5)).shape == (3, 7, 2)
    assert model.built and model._output_shapes[-1] == (None, 7, 2)
    removed = model.pop()
    assert isinstance(removed, Dense) and model(torch.zeros(3, 7, 5)).shape == (3, 7, 4)


def test_input_first_and_subclassing_like_seed_001():
    class Stacked(Sequential):
        def __init__(self, hidden=8):
            super().__init__()
            self.add(Input(shape=(None, 1)))
            self.add(LSTM(hidden, return_sequences=True, name="l0"))
            self.add(LSTM(hidden, name="l1"))
            self.add(Dense(1, name="out"))

    model = Stacked()
    assert model.name.startswith("stacked")
    assert [l.name for l in model.layers] == ["l0", "l1", "out"]
    assert isinstance(model, torch.nn.Module) and len(list(model.parameters())) == 8


def test_mask_flows_from_masking_to_lstm():
    model = Sequential([Masking(0.0, input_shape=(4, 1)), LSTM(3, return_sequences=True)])
    x = np.array([[[1.0], [2.0], [0.0], [0.0]]], dtype="float32")
    out = model(x)
    lstm = model.layers[1]
    torch.testing.assert_close(out, lstm(torch.as_tensor(x), mask=torch.tensor([[1, 1, 0, 0]], dtype=torch.bool)))
    torch.testing.assert_close(out[0, 3], out[0, 1])  # masked steps repeat the last output


def test_stacking_mistake_is_reported_at_add_time():
    model = Sequential([LSTM(4, input_shape=(10, 1), name="first")])
    with pytest.raises(ValueError, match="return_sequences=True on LSTM 'first'"):
        model.add(LSTM(4))
    assert [l.name for l in model.layers] == ["first"]  # the rejected layer did not join


def test_duplicate_names_and_non_layers_are_rejected():
    model = Sequential([Dense(2, name="d", input_shape=(3,))])
    with pytest.raises(ValueError, match="unique names"):
        model.add(Dense(2, name="d"))
    with pytest.raises(TypeError, match="lstmkit layer"):
        model.add(torch.nn.Linear(2, 2))


def test_stateful_batch_shape_and_reset_states():
    model = Sequential([LSTM(3, batch_input_shape=(2, 4, 1), stateful=True), Dense(1)])
    assert model._output_shapes[0] == (2, 3)
    x = torch.randn(2, 4, 1)
    first = model(x)
    assert not torch.allclose(model(x), first)
    model.reset_states()
    torch.testing.assert_close(model(x), first)


def test_sequential_json_round_trip():
    model = Sequential([LSTM(5, input_shape=(None, 2), return_sequences=True), Dropout(0.1), Dense(1)])
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    x = torch.randn(2, 6, 2)
    torch.testing.assert_close(again(x, training=False), model(x, training=False))
    assert [type(l).__name__ for l in again.layers] == ["LSTM", "Dropout", "Dense"]
