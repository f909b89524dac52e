"""Keras's symbolic introspection: Model.input/output, Layer.input/output/shapes, and the seq2seq inference
recipe that rebuilds an encoder and a one-step decoder from a trained (or loaded) model's tensors."""

from __future__ import annotations

import numpy as np
import pytest

import lstmkit as keras


def seq2seq(latent=6, features_in=4, features_out=5):
    keras.utils.set_random_seed(11)
    enc_in = keras.Input(shape=(None, features_in))
    _, h, c = keras.layers.LSTM(latent, return_state=True)(enc_in)
    dec_in = keras.Input(shape=(None, features_out))
    dec_seq, _, _ = keras.layers.LSTM(latent, return_sequences=True, return_state=True)(dec_in,
                                                                                        initial_state=[h, c])
    out = keras.layers.Dense(features_out, activation="softmax")(dec_seq)
    model = keras.Model([enc_in, dec_in], out)
    model.compile("rmsprop", "categorical_crossentropy")
    return model


def inference_models(model, latent=6):
    """The keras-io lstm_seq2seq recipe: everything taken from the trained model by index."""
    encoder_inputs = model.input[0]
    _, state_h, state_c = model.layers[2].output
    encoder = keras.Model(encoder_inputs, [state_h, state_c])
    decoder_inputs = model.input[1]
    h_in, c_in = keras.Input(shape=(latent,)), keras.Input(shape=(latent,))
    decoder_lstm = model.layers[3]
    seq, h, c = decoder_lstm(decoder_inputs, initial_state=[h_in, c_in])
    decoder = keras.Model([decoder_inputs, h_in, c_in], [model.layers[4](seq), h, c])
    return encoder, decoder


def _data(n=12, t_in=5, t_out=4):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, t_in, 4)).astype("float32")
    y = np.eye(5, dtype="float32")[rng.integers(0, 5, size=(n, t_out))]
    teacher = np.concatenate([np.zeros_like(y[:, :1]), y[:, :-1]], axis=1)
    return x, teacher, y


def test_model_and_layer_tensors_as_keras():
    model = seq2seq()
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "InputLayer", "LSTM", "LSTM", "Dense"]
    assert isinstance(model.input, list) and len(model.input) == 2 and model.input[0].shape == (None, None, 4)
    assert model.output.shape == (None, None, 5)
    lstm = model.layers[2]
    assert [t.shape for t in lstm.output] == [(None, 6), (None, 6), (None, 6)]
    assert lstm.input is model.input[0] and lstm.input_shape == (None, None, 4)
    decoder_lstm = model.layers[3]
    assert len(decoder_lstm.input) == 3  # the sequence, then initial_state's two tensors (Keras 3's order)
    assert decoder_lstm.output_shape == [(None, None, 6), (None, 6), (None, 6)]
    assert model.get_layer(index=4) is model.get_layer(name=model.layers[4].name)
    assert model.layers[0].input is model.layers[0].output is model.input[0]
    loose = keras.layers.Dense(3)
    with pytest.raises(ValueError, match="never been called"):
        loose.output


def test_rebuilt_inference_models_reproduce_the_trained_model():
    model = seq2seq()
    x, teacher, y = _data()
    model.fit([x, teacher], y, batch_size=4, epochs=2, verbose=0)
    encoder, decoder = inference_models(model)
    assert [l.name for l in encoder.layers] == [model.layers[0].name, model.layers[2].name]
    full = model.predict([x, teacher], verbose=0)
    h, c = encoder.predict(x, verbose=0)
    steps = []
    for t in range(teacher.shape[1]):  # one step at a time, states fed back: what decode_sequence does
        probs, h, c = decoder.predict([teacher[:, t:t + 1], h, c], verbose=0)
        steps.append(probs)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # the shared layers are the trained ones: training the full model moves the inference models too
    before = encoder.predict(x, verbose=0)[0]
    model.fit([x, teacher], y, batch_size=4, epochs=1, verbose=0)
    assert not np.allclose(encoder.predict(x, verbose=0)[0], before)


@pytest.mark.parametrize("suffix", [".keras", ".lstmkit"])
def test_recipe_works_on_a_loaded_model(tmp_path, suffix):
    model = seq2seq()
    x, teacher, y = _data()
    model.fit([x, teacher], y, batch_size=4, epochs=1, verbose=0)
    path = tmp_path / f"s2s{suffix}"
    model.save(path)
    loaded = keras.models.load_model(path)
    encoder, decoder = inference_models(loaded)
    h, c = encoder.predict(x, verbose=0)
    probs, _, _ = decoder.predict([teacher[:, :1], h, c], verbose=0)
    np.testing.assert_allclose(probs, model.predict([x, teacher[:, :1]], verbose=0), atol=1e-5)


def test_sequential_input_output_and_shapes():
    model = keras.Sequential([keras.Input(shape=(7, 3)), keras.layers.LSTM(5, return_sequences=True),
                              keras.layers.Dense(2)])
    assert model.input.shape == (None, 7, 3) and model.output.shape == (None, 7, 2)
    assert model.layers[0].output_shape == (None, 7, 5) and model.layers[1].input_shape == (None, 7, 5)
    probe = keras.Model(model.input, model.layers[0].output)  # a feature extractor from a Sequential
    assert probe.predict(np.zeros((2, 7, 3), "float32"), verbose=0).shape == (2, 7, 5)
    shapeless = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no defined input"):
        shapeless.input


def test_a_layer_called_twice_reports_each_call():
    dense = keras.layers.Dense(2)
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(4, 3))
    dense(a)
    dense(b)
    assert dense.get_output_at(1).shape == (None, 4, 2) and dense.input is a
    with pytest.raises(ValueError, match="different shapes"):
        dense.input_shape


def test_keras1_and_keras2_spellings_warn_and_work():
    with pytest.warns(DeprecationWarning, match="output_dim= is Keras 1's name; use units="):
        lstm = keras.layers.LSTM(output_dim=3, inner_init="orthogonal", dropout_U=0.1)
    assert lstm.units == 3
    with pytest.warns(DeprecationWarning, match="init= is Keras 1's name; use kernel_initializer="):
        dense = keras.layers.Dense(output_dim=2, init="zeros", bias=False)
    assert dense.units == 2 and dense.use_bias is False
    assert keras.layers.Embedding(10, output_dim=4).output_dim == 4  # Embedding's own name is untouched
    inputs = keras.Input(shape=(5, 2))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(lstm(inputs)))
    x = np.random.default_rng(0).normal(size=(4, 5, 2)).astype("float32")
    with pytest.warns(DeprecationWarning, match="predict_classes"):
        classes = model.predict_classes(x)
    np.testing.assert_array_equal(classes, model.predict(x, verbose=0).argmax(-1))
    binary = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.LSTM(2)(inputs)))
    with pytest.warns(DeprecationWarning):
        assert binary.predict_classes(x).shape == (4, 1)
    with pytest.warns(DeprecationWarning, match="predict_proba"):
        assert binary.predict_proba(x).shape == (4, 1)
