"""Model specs and the one recurrent builder (``forecast.specs``, ``forecast.builders``): window, direct,
seq2seq and stateful sequence models; ``lookback`` with ``look_back`` deprecated."""

import numpy as np
import pytest
import torch

from lstmkit.forecast.builders import build_model, direct_model, recurrent_model, seq2seq_model
from lstmkit.forecast.specs import parse_model_spec
from lstmkit.forecast.strategies import direct, recursive, seq2seq


def test_model_specs_build_the_named_stack():
    assert parse_model_spec("bilstm:64,32@0.1") == {"kind": "lstm", "bidirectional": True, "units": [64, 32],
                                                    "dropout": 0.1}
    model = build_model("gru:8,4", lookback=5, n_features=2, n_targets=1, horizon=3)
    assert [type(layer).__name__ for layer in model.layers] == ["GRU", "GRU", "Dense", "Reshape"]
    assert model.predict(np.zeros((2, 5, 2), np.float32), verbose=0).shape == (2, 3, 1)
    with pytest.raises(ValueError, match=r"a spec like 'lstm:32'.*received 'transformer'"):
        parse_model_spec("transformer")


def test_direct_model_trains_and_forecasts():
    torch.manual_seed(3)
    model = direct_model(lookback=5, n_features=2, horizon=3, n_targets=2, units=4, stacked=2, cell="gru")
    assert [type(layer).__name__ for layer in model.layers] == ["GRU", "GRU", "Dense", "Reshape"]
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(8, 5, 2)), rng.normal(size=(8, 3, 2)), epochs=1, batch_size=4, verbose=0)
    assert model.predict(rng.normal(size=(6, 5, 2)), verbose=0).shape == (6, 3, 2)
    histories = rng.normal(size=(4, 9, 2))
    forecast = direct(model, histories)
    assert forecast.shape == (4, 3, 2)
    np.testing.assert_array_equal(forecast, model.predict(histories[:, -5:], verbose=0))  # the last window
    np.testing.assert_allclose(direct(model, histories[2]), forecast[2], rtol=1e-6, atol=1e-7)
    univariate = direct_model(lookback=5, n_features=1, horizon=3, units=4)
    assert direct(univariate, np.arange(7.0)).shape == (3,)


def test_seq2seq_model_with_future_features():
    torch.manual_seed(4)
    model = seq2seq_model(lookback=5, n_features=2, horizon=3, n_targets=1, units=4, future_features=2)
    assert [tuple(t.shape) for t in model.inputs] == [(None, 5, 2), (None, 3, 2)]
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(2)
    model.fit([rng.normal(size=(8, 5, 2)), rng.normal(size=(8, 3, 2))], rng.normal(size=(8, 3, 1)),
              epochs=1, verbose=0)
    histories, futures = rng.normal(size=(4, 7, 2)), rng.normal(size=(4, 3, 2))
    forecast = seq2seq(model, histories, exogenous=futures)
    assert forecast.shape == (4, 3, 1)
    np.testing.assert_array_equal(forecast, model.predict([histories[:, -5:], futures], verbose=0))
    assert seq2seq(model, histories[0], exogenous=futures[0]).shape == (3, 1)
    with pytest.raises(ValueError, match=r"`exogenous` expects the known future values for the model's second "
                                         r"input \(None, 3, 2\); received None"):
        seq2seq(model, histories)
    with pytest.raises(ValueError, match=r"`exogenous` expects shape \(4, 3, 2\); received a 3-D array of shape "
                                         r"\(4, 2, 2\)"):
        seq2seq(model, histories, exogenous=futures[:, :2])
    with pytest.raises(ValueError, match=r"a single-input model; received a model with 2 inputs"):
        recursive(model, histories, steps=2)


def test_seq2seq_model_without_future_features():
    model = seq2seq_model(lookback=4, n_features=1, horizon=2, units=3)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "LSTM", "RepeatVector", "LSTM",
                                                                 "TimeDistributed"]
    assert seq2seq(model, np.arange(6.0)).shape == (2,)
    with pytest.raises(ValueError, match=r"`exogenous` expects None for a model with one input"):
        seq2seq(model, np.arange(6.0), exogenous=np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"`history` expects at least 4 steps"):
        seq2seq(model, np.arange(3.0))


@pytest.mark.parametrize("builder, kwargs, error, match", [
    (direct_model, {"horizon": 0}, ValueError, r"direct_model: `horizon` expects a positive integer; received 0"),
    (direct_model, {"stacked": 0}, ValueError, r"`stacked` expects a positive integer"),
    (direct_model, {"cell": "rnn"}, ValueError, r"`cell` expects 'lstm' or 'gru'; received 'rnn'"),
    (seq2seq_model, {"future_features": -1}, ValueError, r"`future_features` expects an integer >= 0"),
    (seq2seq_model, {"units": 2.5}, TypeError, r"`units` expects a positive integer; received 2.5"),
])
def test_builder_argument_errors(builder, kwargs, error, match):
    arguments = {"lookback": 4, "n_features": 1, "horizon": 2, **kwargs}
    with pytest.raises(error, match=match):
        builder(**arguments)


def test_one_builder_makes_window_direct_and_stateful_stacks():
    parts = {"kind": "lstm", "bidirectional": False, "units": [4, 3], "dropout": 0.0}
    window = recurrent_model(parts, n_features=2, n_targets=1, lookback=5)
    assert [type(layer).__name__ for layer in window.layers] == ["LSTM", "LSTM", "Dense"]
    assert window.predict(np.zeros((2, 5, 2), np.float32), verbose=0).shape == (2, 1)
    kept = recurrent_model(parts, n_features=2, n_targets=1, lookback=5, steps_axis=True)
    assert kept.predict(np.zeros((2, 5, 2), np.float32), verbose=0).shape == (2, 1, 1)
    sequence = recurrent_model(parts, n_features=2, n_targets=1, slots=3)
    assert all(layer.stateful and layer.return_sequences for layer in sequence.layers[:2])
    assert sequence.predict(np.zeros((3, 7, 2), np.float32), verbose=0, batch_size=3).shape == (3, 7, 1)
    with pytest.raises(ValueError, match=r"forward recurrent layers for method='stateful'.*bidirectional"):
        recurrent_model({**parts, "bidirectional": True}, n_features=2, n_targets=1, slots=3)
    spec = build_model("bigru:4@0.1", lookback=5, n_features=1, n_targets=2, horizon=1)
    assert type(spec.layers[0]).__name__ == "Bidirectional" and spec.layers[0].forward_layer.get_config()["dropout"] == 0.1
    # direct_model is the same builder with a steps axis: the same layers, configs and output shape
    direct_stack = direct_model(lookback=5, n_features=2, horizon=1, units=4, stacked=2)
    same = recurrent_model({**parts, "units": [4, 4]}, n_features=2, n_targets=1, lookback=5, steps_axis=True)
    strip = lambda model: [{k: v for k, v in layer.get_config().items() if k != "name"} for layer in model.layers]
    assert strip(direct_stack) == strip(same)


@pytest.mark.parametrize("builder", [direct_model, seq2seq_model])
def test_look_back_is_a_deprecated_alias_of_lookback(builder):
    torch.manual_seed(0)
    new = builder(lookback=4, n_features=1, horizon=2, units=3)
    torch.manual_seed(0)
    with pytest.warns(DeprecationWarning, match=rf"{builder.__name__}: `look_back` is deprecated; use `lookback`"):
        old = builder(look_back=4, n_features=1, horizon=2, units=3)
    assert [tuple(t.shape) for t in old.inputs] == [tuple(t.shape) for t in new.inputs] == [(None, 4, 1)]
    for a, b in zip(old.get_weights(), new.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match=r"`look_back` expects `lookback` alone"):
        builder(look_back=4, lookback=4, n_features=1, horizon=2)
    with pytest.raises(TypeError, match=r"`look_back` expects `lookback` alone"):
        builder(4, look_back=4, n_features=1, horizon=2)
