"""Learning-rate schedules: Keras's formulas at hand-computed steps, float32 results, configs and errors."""

import json
import math

import numpy as np
import pytest
import torch

from lstmkit.optimizers import schedules as S
from lstmkit.optimizers.schedules import ExponentialDecay as PublicExponentialDecay


def close(value, expected):
    """Schedules compute in float32 as Keras does: compare with float32 tolerance."""
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_public_import_paths():
    import lstmkit.optimizers as optimizers

    assert PublicExponentialDecay is S.ExponentialDecay
    assert optimizers.schedules.CosineDecay is S.CosineDecay


def test_exponential_decay_values_and_staircase():
    s = S.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    close(s(0), 0.1)
    close(s(5), 0.1 * 0.5 ** 0.5)
    close(s(10), 0.05)
    close(s(20), 0.025)
    stairs = S.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    close(stairs(5), 0.1)
    close(stairs(15), 0.05)
    close(stairs(29), 0.025)


def test_exponential_decay_float_decay_steps_like_the_seed_scripts():
    decay_steps = 400 * ((1000 * 0.8) / 32)   # 10000.0, a float
    s = S.ExponentialDecay(1e-3, decay_steps, 1e-5)
    close(s(0), 1e-3)
    close(s(5000), 1e-3 * 1e-5 ** 0.5)
    close(s(10000), 1e-8)


def test_results_are_float32_values_as_python_floats():
    s = S.ExponentialDecay(0.1, 10, 0.5)
    value = s(0)
    assert type(value) is float
    assert value == float(np.float32(0.1)) and value != 0.1


def test_step_may_be_an_int_a_numpy_scalar_or_a_tensor():
    s = S.InverseTimeDecay(0.1, 1, 0.5)
    assert s(2) == s(np.int64(2)) == s(torch.tensor(2)) == s(2.0)
    with pytest.raises(TypeError, match="step"):
        s("2")


def test_inverse_time_decay():
    s = S.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    close(s(0), 0.1)
    close(s(2), 0.05)
    close(s(6), 0.025)
    stairs = S.InverseTimeDecay(0.1, decay_steps=2, decay_rate=0.5, staircase=True)
    close(stairs(1), 0.1)
    close(stairs(3), 0.1 / 1.5)


def test_piecewise_constant_decay_boundaries_are_inclusive():
    s = S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(k) for k in (0, 10, 11, 20, 21, 1000)] == [1.0, 1.0, 0.5, 0.5, pytest.approx(0.1), pytest.approx(0.1)]


def test_polynomial_decay_with_and_without_cycle():
    s = S.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01, power=1.0)
    close(s(0), 0.1)
    close(s(5), 0.055)
    close(s(10), 0.01)
    close(s(20), 0.01)
    sqrt = S.PolynomialDecay(0.1, 10, 0.0, power=0.5)
    close(sqrt(5), 0.1 * math.sqrt(0.5))
    cyc = S.PolynomialDecay(0.1, 10, 0.01, cycle=True)
    close(cyc(0), 0.1)
    close(cyc(15), 0.09 * (1 - 15 / 20) + 0.01)   # decay_steps doubled to 20


def test_cosine_decay_and_alpha():
    s = S.CosineDecay(0.1, decay_steps=100)
    close(s(0), 0.1)
    close(s(50), 0.05)
    close(s(25), 0.05 * (1 + math.cos(math.pi / 4)))
    assert s(100) == pytest.approx(0.0, abs=1e-9)
    assert s(500) == pytest.approx(0.0, abs=1e-9)
    close(S.CosineDecay(0.1, 100, alpha=0.1)(100), 0.01)


def test_cosine_decay_with_linear_warmup():
    s = S.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    close(s(5), 0.05)
    close(s(10), 0.1)
    close(s(60), 0.05)
    assert s(110) == pytest.approx(0.0, abs=1e-9)
    assert s(1000) == pytest.approx(0.0, abs=1e-9)


def test_cosine_decay_restarts():
    s = S.CosineDecayRestarts(0.1, first_decay_steps=10)   # periods 10, 20, 40, ...
    close(s(0), 0.1)
    close(s(5), 0.05)
    close(s(10), 0.1)
    close(s(20), 0.05)
    constant = S.CosineDecayRestarts(0.1, 10, t_mul=1.0, m_mul=0.5)
    close(constant(10), 0.05)
    close(constant(15), 0.025)


@pytest.mark.parametrize("schedule", [
    S.ExponentialDecay(0.1, 10, 0.5, staircase=True),
    S.InverseTimeDecay(0.1, 3, 0.2),
    S.PiecewiseConstantDecay([5, 9], [0.3, 0.2, 0.1]),
    S.PolynomialDecay(0.1, 7, 0.001, power=2.0, cycle=True),
    S.CosineDecay(0.0, 40, alpha=0.1, warmup_target=0.1, warmup_steps=4),
    S.CosineDecayRestarts(0.1, 10, t_mul=2.0, m_mul=0.9, alpha=0.05),
])
def test_serialize_round_trip_in_keras_form(schedule):
    data = S.serialize(schedule)
    assert data["module"] == "keras.optimizers.schedules"
    assert data["class_name"] == type(schedule).__name__ and data["registered_name"] is None
    again = S.deserialize(json.loads(json.dumps(data)))
    assert type(again) is type(schedule) and again.get_config() == schedule.get_config()
    assert [again(k) for k in range(0, 60, 7)] == [schedule(k) for k in range(0, 60, 7)]


def test_config_keys_are_keras_keys():
    assert list(S.ExponentialDecay(0.1, 10, 0.5).get_config()) == [
        "initial_learning_rate", "decay_steps", "decay_rate", "staircase", "name"]
    assert list(S.CosineDecay(0.1, 10).get_config()) == [
        "initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target", "warmup_steps"]
    assert S.PiecewiseConstantDecay([1], [0.1, 0.01]).get_config() == {
        "boundaries": [1], "values": [0.1, 0.01], "name": "PiecewiseConstant"}
    assert S.CosineDecayRestarts(0.1, 10).get_config()["name"] == "SGDRDecay"


def test_deserialize_accepts_tf_keras_form_and_case():
    s = S.deserialize({"class_name": "exponentialdecay",
                       "config": {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5}})
    close(s(4), 0.05)
    with pytest.raises(ValueError, match="ExponentialDecay"):
        S.deserialize({"class_name": "NoSuchDecay", "config": {}})


def test_custom_schedule_through_custom_objects():
    class Halving(S.LearningRateSchedule):
        def __init__(self, start):
            self.start = start

        def __call__(self, step):
            return self.start / 2 ** step

        def get_config(self):
            return {"start": self.start}

    s = S.deserialize({"class_name": "Halving", "config": {"start": 1.0}}, custom_objects={"Halving": Halving})
    assert s(3) == 0.125


def test_validation_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"decay_steps.*> 0.*received 0"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="one more value than boundaries"):
        S.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="strictly increasing"):
        S.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="initial_learning_rate"):
        S.CosineDecay("0.1", 10)
    with pytest.raises(NotImplementedError, match="__call__"):
        S.LearningRateSchedule()(0)
