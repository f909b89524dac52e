"""Keras config round trips and the error messages of the recurrent layers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers
from lstmkit.layers import GRU, LSTM, SimpleRNN

from ..conformance.corpus import cases

X = np.zeros((2, 5, 3), "float32")

EVERY_ARGUMENT = dict(
    activation="relu", recurrent_activation="hard_sigmoid", use_bias=False,
    kernel_initializer=lstmkit.initializers.Orthogonal(gain=2.0, seed=3),
    recurrent_initializer="glorot_normal", bias_initializer=lstmkit.initializers.Constant(0.2),
    kernel_regularizer=lstmkit.regularizers.L1L2(l1=0.1, l2=0.2), recurrent_regularizer="l2",
    bias_regularizer="l1", activity_regularizer=lstmkit.regularizers.L2(0.3),
    kernel_constraint=lstmkit.constraints.MaxNorm(3.0), recurrent_constraint="non_neg",
    bias_constraint=lstmkit.constraints.UnitNorm(), dropout=0.1, recurrent_dropout=0.2, seed=5,
    return_sequences=True, return_state=True, go_backwards=True, stateful=True, unroll=True,
    name="every_argument",
)


@pytest.mark.parametrize("cls, extra", [(LSTM, {"unit_forget_bias": False, "implementation": 1}),
                                        (GRU, {"reset_after": False, "implementation": 1}),
                                        (SimpleRNN, {})])
@pytest.mark.parametrize("use_fused", ["auto", False])
def test_every_argument_round_trips(cls, extra, use_fused):
    kwargs = dict(EVERY_ARGUMENT, **extra, use_fused=use_fused)
    if cls is SimpleRNN:
        kwargs.pop("recurrent_activation")
    layer = cls(4, **kwargs)
    config = layer.get_config()
    json.dumps(config)  # plain JSON, as Keras writes it
    clone = cls.from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(clone))))
    assert type(again) is cls and again.get_config() == config
    assert config["use_fused" if use_fused is False else "units"] is not None
    if use_fused == "auto":
        assert "use_fused" not in config  # defaults leave Keras's config untouched


@pytest.mark.parametrize("case", [c for c in cases(("layer", "stateful"))
                                  if c["config"]["class_name"] in ("LSTM", "GRU", "SimpleRNN")],
                         ids=lambda c: c["id"])
def test_keras_config_reproduced_exactly(case):
    """Our get_config() writes exactly the dict Keras wrote for the same layer."""
    layer = layers.deserialize(case["config"])
    assert layer.get_config() == case["config"]["config"]
    serialized = layers.serialize(layer)
    assert serialized["class_name"] == case["config"]["class_name"]
    expected_shape = layers.serialization.build_shape(case["config"]["build_config"])
    assert tuple(serialized["build_config"]["input_shape"]) == expected_shape


def test_deserialize_without_module_and_unknown_class():
    layer = layers.deserialize({"class_name": "LSTM", "config": {"units": 3}})
    assert isinstance(layer, LSTM) and layer.cell.units == 3
    with pytest.raises(ValueError, match=r"class_name.*known layer.*'Transformer'.*custom_objects"):
        layers.deserialize({"class_name": "Transformer", "config": {}})


def test_two_dimensional_input_error_suggests_reshape():
    with pytest.raises(ValueError, match=(r"LSTM 'lstm\w*': input expects shape \(batch, timesteps, features\); "
                                          r"received a 2-D array of shape \(32, 25\)\. .*x\.reshape\(32, 25, 1\)")):
        LSTM(4)(np.zeros((32, 25)))


def test_one_and_four_dimensional_input_errors():
    with pytest.raises(ValueError, match=r"1-D array of shape \(10,\).*x\.reshape\(1, 10, 1\)"):
        GRU(4)(np.zeros(10))
    with pytest.raises(ValueError, match=r"4-D array.*Merge or drop the extra axes"):
        SimpleRNN(4)(np.zeros((2, 3, 4, 5)))


def test_wrong_feature_count_after_build():
    lstm = LSTM(4)
    lstm(X)
    with pytest.raises(ValueError, match=r"expects 3 features per step.*received 5 features.*\(2, 5, 5\)"):
        lstm(np.zeros((2, 5, 5), "float32"))


def test_non_float_input():
    with pytest.raises(TypeError, match=r"floating-point values; received dtype int64.*astype\('float32'\)"):
        LSTM(4)(np.zeros((2, 5, 3), dtype="int64"))
    with pytest.raises(TypeError, match=r"received dtype torch.int32.*x\.float\(\)"):
        LSTM(4)(torch.zeros((2, 5, 3), dtype=torch.int32))


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"units": 0}, ValueError, r"`units` expects a positive integer; received 0"),
    ({"units": -3}, ValueError, r"`units` expects a positive integer; received -3"),
    ({"units": 2.5}, TypeError, r"`units` expects a positive integer; received 2\.5"),
    ({"units": 4, "dropout": 1.0}, ValueError, r"`dropout` expects a float in \[0, 1\); received 1\.0"),
    ({"units": 4, "recurrent_dropout": -0.1}, ValueError, r"`recurrent_dropout` expects a float in \[0, 1\)"),
    ({"units": 4, "activation": "tanhh"}, ValueError, r"`activation` expects one of .*tanh.*received 'tanhh'"),
    ({"units": 4, "kernel_initializer": "glorot_uniformm"}, ValueError,
     r"initializer.*received 'glorot_uniformm'"),
    ({"units": 4, "implementation": 3}, ValueError, r"`implementation` expects one of 1, 2"),
    ({"units": 4, "use_fused": "yes"}, ValueError, r"`use_fused` expects one of 'auto', True, False"),
    ({"units": 4, "retrun_sequences": True}, TypeError, r"unknown arguments \['retrun_sequences'\]"),
])
def test_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        LSTM(**kwargs)


def test_bad_initial_state_and_mask():
    lstm = LSTM(4)
    with pytest.raises(ValueError, match=r"initial_state expects 2 state tensors"):
        lstm(X, initial_state=[np.zeros((2, 4), "float32")])
    with pytest.raises(ValueError, match=r"initial_state expects states of shape \(2, 4\); received shape \(2, 3\)"):
        lstm(X, initial_state=[np.zeros((2, 3), "float32")] * 2)
    with pytest.raises(ValueError, match=r"mask expects shape \(batch, timesteps\) = \(2, 5\)"):
        lstm(X, mask=np.ones((2, 4), bool))


def test_set_weights_errors():
    lstm = LSTM(4)
    with pytest.raises(ValueError, match="unbuilt layer.*input_shape"):
        lstm.set_weights([])
    lstm(X)
    with pytest.raises(ValueError, match=r"a list of 3 arrays.*received 2 arrays"):
        lstm.set_weights(lstm.get_weights()[:2])
    bad = lstm.get_weights()
    bad[1] = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"weight 1.*shape \(4, 16\); received shape \(4, 4\)"):
        lstm.set_weights(bad)


def test_reset_states_on_non_stateful_layer():
    with pytest.raises(ValueError, match="stateful=True"):
        LSTM(4).reset_states()


def test_zero_timesteps():
    with pytest.raises(ValueError, match="at least one time step"):
        LSTM(4)(np.zeros((2, 0, 3), "float32"))


def test_layer_is_a_plain_torch_module():
    model = torch.nn.Sequential(LSTM(8, return_sequences=True), LSTM(4))
    out = model(torch.randn(2, 5, 3))
    assert out.shape == (2, 4)
    names = [n for n, _ in model.named_parameters()]
    assert names[:3] == ["0.cell.kernel", "0.cell.recurrent_kernel", "0.cell.bias"]
    state = model.state_dict()
    fresh = torch.nn.Sequential(LSTM(8, return_sequences=True), LSTM(4))
    fresh(torch.randn(2, 5, 3))
    fresh.load_state_dict(state)
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(fresh(x), model(x))
