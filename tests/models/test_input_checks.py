"""Issue 13: a model declared ``Input((5, 2))`` / ``input_shape=(5, 2)`` refuses ``(8, 7, 2)`` data in fit /
evaluate / predict / a direct call (as Keras 3's input_spec check does), naming what was declared and given;
``None`` dims and the batch stay free, and a Sequential model built from its first batch is not constrained."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Model, Sequential, load_model

X7 = np.random.default_rng(0).random((8, 7, 2)).astype("float32")
Y = np.zeros((8, 1), "float32")
DECLARED = r"expects shape \(None, 5, 2\) \(declared by Input\(shape=\(5, 2\)\) or input_shape=\(5, 2\).*" \
           r"received an array of shape \(8, 7, 2\) \(axis 1: declared 5, given 7\).*Input\(shape=\(None, 2\)\)"


def functional(shape=(5, 2)):
    inputs = Input(shape)
    model = Model(inputs, Dense(1)(LSTM(3)(inputs)))
    model.compile("adam", "mse")
    return model


def sequential(shape=(5, 2)):
    model = Sequential([LSTM(3, input_shape=shape), Dense(1)])
    model.compile("adam", "mse")
    return model


@pytest.mark.parametrize("make", [functional, sequential])
@pytest.mark.parametrize("entry", ["fit", "evaluate", "predict", "call"])
def test_declared_timesteps_mismatch_is_an_error(make, entry):
    model = make()
    before = [w.detach().clone() for w in model.weights]
    run = {"fit": lambda: model.fit(X7, Y, verbose=0), "evaluate": lambda: model.evaluate(X7, Y, verbose=0),
           "predict": lambda: model.predict(X7, verbose=0), "call": lambda: model(X7)}[entry]
    with pytest.raises(ValueError, match=DECLARED):
        run()
    assert all(bool((a == b).all()) for a, b in zip(before, model.weights))  # nothing trained


@pytest.mark.parametrize("make", [functional, sequential])
def test_declared_features_and_rank_mismatch(make):
    model = make()
    with pytest.raises(ValueError, match=r"axis 2: declared 2, given 3"):
        model.predict(np.zeros((4, 5, 3), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"arrays of rank 3.*received a 2-D array of shape \(4, 5\)"):
        model.predict(np.zeros((4, 5), "float32"), verbose=0)
    one = make((5, 1))
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\] gives shape \(4, 5, 1\)"):
        one(np.zeros((4, 5), "float32"))


@pytest.mark.parametrize("make", [functional, sequential])
def test_none_dims_and_the_batch_stay_free(make):
    model = make((None, 2))
    for steps, batch in ((7, 8), (1, 3), (30, 1)):
        x = np.zeros((batch, steps, 2), "float32")
        assert model.predict(x, verbose=0).shape == (batch, 1)
    model.fit(X7, Y, verbose=0, epochs=1)
    assert make()(np.zeros((3, 5, 2), "float32")).shape == (3, 1)


def test_sequential_built_from_data_is_not_constrained_to_the_first_shape():
    model = Sequential([LSTM(3), Dense(1)])  # no declaration: the first batch builds it
    model.compile("adam", "mse")
    model.fit(X7, Y, verbose=0)
    assert model.predict(np.zeros((2, 4, 2), "float32"), verbose=0).shape == (2, 1)


def test_loaded_model_keeps_the_declaration(tmp_path):
    path = tmp_path / "m.keras"
    functional().save(path)
    with pytest.raises(ValueError, match=DECLARED.replace("Model", "")):
        load_model(path).predict(X7, verbose=0)


def test_a_scalar_fed_to_a_rank_1_declaration_is_refused():
    """The exact-shape shortcut compares ranks too: a 0-D value is not a batch of Input(shape=())."""
    import torch

    from lstmkit import layers
    from lstmkit.models import Sequential

    model = Sequential([layers.Input(shape=(), dtype="int32"), layers.Embedding(10, 4)])
    assert tuple(model(torch.tensor([1, 2])).shape) == (2, 4)
    with pytest.raises(ValueError, match="expects arrays of rank 1.*a 0-D array"):
        model(torch.tensor(3))
