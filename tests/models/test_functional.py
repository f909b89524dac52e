"""Functional models: Input -> layer calls -> Model(inputs, outputs), run eagerly with Keras's numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from lstmkit.layers import LSTM, Bidirectional, Input, InputLayer, RepeatVector, TimeDistributed, Dense
from lstmkit.models import Model, model_from_json


def test_seed_000_return_state_model_outputs_whole_sequence_and_states():
    inputs1 = Input(shape=(3, 1))
    lstm1, state_h, state_c = LSTM(1, return_sequences=True, return_state=True)(inputs1)
    model = Model(inputs=inputs1, outputs=[lstm1, state_h, state_c])
    data = np.array([0.1, 0.2, 0.3]).reshape((1, 3, 1))
    seq, h, c = model(data)
    assert seq.shape == (1, 3, 1) and h.shape == (1, 1) and c.shape == (1, 1)
    torch.testing.assert_close(seq[:, -1], h)  # the last output is the final hidden state
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "LSTM"]
    assert model.input_shape == (None, 3, 1)
    assert model.output_shape == [(None, 3, 1), (None, 1), (None, 1)]  # a list for several outputs


def test_symbolic_shapes_follow_keras():
    x = Input(shape=(None, 3), batch_size=4)
    assert x.shape == (4, None, 3)
    seq = LSTM(5, return_sequences=True)(x)
    assert seq.shape == (4, None, 5)
    out = Dense(2)(seq)
    assert out.shape == (4, None, 2)
    assert Bidirectional(LSTM(5))(x).shape == (4, 10)


def test_shared_layer_and_several_inputs_dict_and_list_calls():
    a, b = Input(shape=(4, 2), name="a"), Input(shape=(4, 2), name="b")
    shared = LSTM(3)
    model = Model([a, b], [shared(a), shared(b)])
    assert model.count_params() == shared.count_params()  # weights once
    xa, xb = torch.randn(2, 4, 2), torch.randn(2, 4, 2)
    out_list = model([xa, xb])
    out_dict = model({"a": xa, "b": xb})
    torch.testing.assert_close(out_list[0], shared(xa))
    torch.testing.assert_close(out_dict[1], shared(xb))


def test_nested_models_as_layers_seed_004_autoencoder():
    timesteps, features, latent = 5, 2, 3
    inp = Input(shape=(timesteps, features))
    encoder = Model(inp, LSTM(latent)(inp), name="encoder")
    code = Input(shape=(latent,))
    decoded = TimeDistributed(Dense(features))(LSTM(4, return_sequences=True)(RepeatVector(timesteps)(code)))
    decoder = Model(code, decoded, name="decoder")
    outer = Input(shape=(timesteps, features))
    autoencoder = Model(outer, decoder(encoder(outer)), name="autoencoder")
    x = torch.randn(6, timesteps, features)
    torch.testing.assert_close(autoencoder(x), decoder(encoder(x)))
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()
    assert [l.name for l in autoencoder.layers][1:] == ["encoder", "decoder"]
    again = model_from_json(autoencoder.to_json())
    again.set_weights(autoencoder.get_weights())
    torch.testing.assert_close(again(x), autoencoder(x))


def test_reset_states_reaches_nested_and_wrapped_stateful_layers():
    inp = Input(batch_shape=(2, 3, 1))
    inner = Model(inp, LSTM(2, stateful=True, return_sequences=True)(inp))
    outer_in = Input(batch_shape=(2, 3, 1))
    model = Model(outer_in, Bidirectional(LSTM(2, stateful=True))(inner(outer_in)))
    x = torch.randn(2, 3, 1)
    first = model(x)
    assert not torch.allclose(model(x), first)  # the state carried over
    model.reset_states()
    torch.testing.assert_close(model(x), first)


def test_training_flag_reaches_dropout_layers():
    inp = Input(shape=(4, 2))
    model = Model(inp, LSTM(8, dropout=0.9, seed=1)(inp))
    x = torch.ones(3, 4, 2)
    torch.testing.assert_close(model(x, training=False), model(x, training=False))
    assert not torch.allclose(model(x, training=True), model(x, training=False))
    model.eval()
    torch.testing.assert_close(model(x), model(x, training=False))


def test_stacking_mistake_names_the_layer_and_the_fix():
    inp = Input(shape=(10, 1))
    first = LSTM(4, name="encoder_lstm")(inp)
    with pytest.raises(ValueError, match=r"received shape \(None, 4\) from LSTM 'encoder_lstm'.*"
                                         r"return_sequences=True on LSTM 'encoder_lstm'"):
        LSTM(4)(first)


def test_graph_disconnected_and_bad_inputs_are_explained():
    a, b = Input(shape=(3, 1)), Input(shape=(3, 1))
    out = LSTM(2)(b)
    with pytest.raises(ValueError, match="graph disconnected"):
        Model(a, out)
    model = Model(b, out)
    with pytest.raises(ValueError, match="1 inputs"):
        model([np.zeros((1, 3, 1)), np.zeros((1, 3, 1))])


def test_functional_json_matches_the_structure_and_reloads():
    inp = Input(shape=(5, 3))
    x = Bidirectional(LSTM(4, return_sequences=True))(inp)
    out = TimeDistributed(Dense(1))(x)
    model = Model(inp, out)
    config = json.loads(model.to_json())
    assert config["class_name"] == "Functional"
    names = [entry["name"] for entry in config["config"]["layers"]]
    assert names == [l.name for l in model.layers]
    history = config["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
    assert history == [model.layers[1].name, 0, 0]
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(again(x), model(x))
    assert isinstance(again.layers[0], InputLayer)


def test_input_shape_on_a_later_layer_is_ignored_and_a_built_layer_checks_its_input():
    x = Input(shape=(7, 16))
    model = Model(x, LSTM(12, input_shape=(7, 8))(x))  # as Keras: builds from its real input (16 features)
    assert model.count_params() == 4 * 12 * (16 + 12 + 1)
    built = LSTM(3)
    built(Input(shape=(4, 7)))
    with pytest.raises(ValueError, match=r"expects 7 features per step .*received shape \(None, 4, 9\)"):
        built(Input(shape=(4, 9)))
