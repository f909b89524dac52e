"""ops/registry.py: one name lookup behind initializers, regularizers, constraints, activations, schedules
and optimizers; custom objects come from the call or the loading scope, never from an import."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Sequential, load_model
from lstmkit.models import optimizers as optimizers_mod
from lstmkit.models import schedules as schedules_mod
from lstmkit.ops import activations, constraints, initializers, regularizers
from lstmkit.ops.registry import Registry
from lstmkit.ops.safe_mode import custom_object_scope, loading


class Halves(initializers.Initializer):
    """A user's initializer: every weight 0.5 (times ``scale``)."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def __call__(self, shape, dtype=None):
        return torch.full(tuple(shape), 0.5 * self.scale)

    def get_config(self):
        return {"scale": self.scale}


def sevens(shape, dtype=None):
    return np.full(shape, 7.0, "float32")


def test_every_module_uses_one_registry_class():
    for module in (initializers, regularizers, constraints, activations, schedules_mod, optimizers_mod):
        assert isinstance(module.REGISTRY, Registry), module.__name__


def test_find_order_exact_alias_folded_then_none():
    reg = initializers.REGISTRY
    assert reg.find("GlorotUniform") is initializers.GlorotUniform
    assert reg.find("glorot_uniform") is initializers.GlorotUniform
    assert reg.find("normal") is initializers.RandomNormal          # Keras's alias
    assert reg.find("orthogonal_initializer") is initializers.Orthogonal
    assert reg.find("no_such_thing") is None
    assert reg.find("Custom>GlorotUniform") is None                 # only prefixed registries read "Package>"
    assert optimizers_mod.REGISTRY.find("Custom>rm_sprop") is optimizers_mod.RMSprop
    assert schedules_mod.REGISTRY.find("exponentialdecay") is schedules_mod.ExponentialDecay
    assert schedules_mod.REGISTRY.find("exponential_decay") is None  # schedules fold case only, as before
    assert activations.REGISTRY.find("Tanh") is None                 # activation names are exact


def test_call_custom_objects_come_first_and_scope_ones_last():
    class MyAdam(optimizers_mod.Adam):
        pass

    reg = optimizers_mod.REGISTRY
    assert reg.find("Adam", {"Adam": MyAdam}) is MyAdam
    assert reg.find("Thing", registered_name="Custom>MyAdam", custom_objects={"MyAdam": MyAdam}) is MyAdam
    with custom_object_scope({"Adam": MyAdam, "MyAdam": MyAdam}):
        assert reg.find("Adam") is optimizers_mod.Adam               # a scope never shadows a built-in
        assert reg.find("MyAdam") is MyAdam
    assert reg.find("MyAdam") is None                               # the scope is over


def test_a_custom_initializer_class_loads_through_custom_objects():
    config = initializers.serialize(Halves(scale=4.0))
    assert config == {"module": "keras.initializers", "class_name": "Halves", "config": {"scale": 4.0},
                      "registered_name": None}
    with pytest.raises(ValueError, match=r"initializers\.get: `initializer`.*one of constant.*'Halves'.*"
                                         r"custom_objects"):
        initializers.deserialize(config)
    with loading("model.keras", custom_objects={"Halves": Halves}):
        restored = initializers.deserialize(config)
    assert isinstance(restored, Halves) and restored.scale == 4.0
    assert torch.equal(restored((2, 3)), torch.full((2, 3), 2.0))


def test_a_plain_function_round_trips_in_keras_function_form():
    config = initializers.serialize(initializers.get(sevens))
    assert config["class_name"] == "function" and config["config"] == "sevens"
    with pytest.raises(ValueError, match=r"`initializer`.*received 'sevens'"):
        initializers.get(config)
    with custom_object_scope({"sevens": sevens}):
        restored = initializers.get(config)
    assert torch.equal(restored((2, 2)), torch.full((2, 2), 7.0))


def test_a_custom_object_of_the_wrong_kind_is_a_type_error():
    with custom_object_scope({"Halves": Halves}):
        with pytest.raises(TypeError, match=r"regularizers\.get: custom_objects\['Halves'\].*Regularizer subclass"):
            regularizers.get({"class_name": "Halves", "config": {}})


def test_regularizer_and_constraint_functions_load_from_the_scope():
    def tiny(weight):
        return 0.0 * weight.sum()

    def clip(w):
        return w.clamp(-1, 1)

    with custom_object_scope({"tiny": tiny, "clip": clip}):
        reg = regularizers.get(regularizers.serialize(tiny))
        con = constraints.get(constraints.serialize(clip))
    assert float(reg(torch.ones(3))) == 0.0
    assert torch.equal(con(torch.tensor([-3.0, 0.5, 2.0])), torch.tensor([-1.0, 0.5, 1.0]))


def test_unchanged_errors_of_each_module():
    with pytest.raises(ValueError, match=r"one of \"sgd\", \"adam\".*\(any case\).*'adamx'"):
        optimizers_mod.get("adamx")
    with pytest.raises(ValueError, match=r"`class_name`.*CosineDecay.*'Nope'.*custom_objects=\{name: cls\}"):
        schedules_mod.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match=r'schedules\.deserialize: `config`.*"class_name": "ExponentialDecay"'):
        schedules_mod.deserialize("ExponentialDecay")
    with pytest.raises(TypeError, match=r"schedules\.serialize: `schedule`.*a LearningRateSchedule"):
        schedules_mod.serialize(0.1)
    with pytest.raises(TypeError, match=r"optimizers\.serialize: `optimizer`.*an lstmkit optimizer"):
        optimizers_mod.serialize("adam")
    with pytest.raises(ValueError, match=r"activations\.get: `activation`.*one of elu.*'swishy'.*known name"):
        activations.get("swishy")
    assert activations.get("swish") is activations.silu and activations.serialize(activations.silu) == "silu"


def test_a_model_with_a_custom_initializer_saves_and_loads_with_custom_objects(tmp_path):
    model = Sequential([Input((4, 2)), LSTM(3, kernel_initializer=Halves(2.0)), Dense(1)])
    path = tmp_path / "m.lstmkit"
    model.save(path)
    with pytest.raises(ValueError, match="Halves"):
        load_model(path)
    restored = load_model(path, custom_objects={"Halves": Halves})
    assert isinstance(restored.layers[0].cell.kernel_initializer, Halves)
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype("float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_losses_and_metrics_read_their_classes_through_the_registry():
    from lstmkit.models import losses, metrics

    config = losses.serialize(losses.Huber(delta=2.0))
    assert config == {"module": "keras.losses", "class_name": "Huber", "config": losses.Huber(delta=2.0).get_config(),
                      "registered_name": None}
    assert losses.get(config).get_config() == config["config"]
    assert isinstance(metrics.get({"class_name": "RootMeanSquaredError", "config": {}}), metrics.RootMeanSquaredError)
    with pytest.raises(ValueError, match=r"losses\.get: `loss` expects one of BinaryCrossentropy.*'Hubber'"):
        losses.get({"class_name": "Hubber", "config": {}})
    with pytest.raises(ValueError, match=r"metrics\.get: `metric` expects one of Accuracy.*'Rmse'"):
        metrics.get({"class_name": "Rmse", "config": {}})

    class Scaled(losses.MeanSquaredError):
        pass

    with custom_object_scope({"Scaled": Scaled}):
        assert type(losses.get({"class_name": "Scaled", "config": {}})) is Scaled
