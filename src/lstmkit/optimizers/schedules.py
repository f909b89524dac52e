"""Keras learning-rate schedules: ``schedule(step) -> float`` with Keras's formulas, evaluated in float32.

A schedule maps the optimizer's step count (a plain int; Keras passes its ``iterations`` variable) to a
learning rate. Keras computes every schedule in the dtype of ``initial_learning_rate`` (float32), so the
arithmetic here is done in NumPy float32 in Keras's operation order and returned as a Python float.
Configs and the serialized form (``{"module": "keras.optimizers.schedules", "class_name": ..., ...}``) are
Keras's, so an optimizer config carrying a schedule round-trips with Keras files.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _validation
from ..ops.registry import Registry
from ..ops.serialization import config_repr

MODULE = "keras.optimizers.schedules"
_F32 = np.float32


def _step_value(owner: str, step: Any) -> float:
    """The step as a Python number: int, float, NumPy scalar or a one-element tensor/array."""
    if not isinstance(step, numbers.Number) and hasattr(step, "item"):
        try:
            step = step.item()
        except (ValueError, RuntimeError):
            pass
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise _validation.type_error(owner, "`step`", "a number (the optimizer step count)",
                                     f"{step!r} of type {type(step).__name__}",
                                     "Call the schedule with an int, e.g. schedule(100).")
    return step


def _cos(x: np.float32) -> np.float32:
    """Correctly rounded float32 cosine (NumPy's float32 ``cos`` is off by an ulp for some inputs)."""
    return _F32(np.cos(np.float64(x)))


def _log(x: np.float32) -> np.float32:
    return _F32(np.log(np.float64(x)))


def _number(owner: str, name: str, value: Any, positive: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _validation.type_error(owner, f"`{name}`", "a number", f"{value!r} of type {type(value).__name__}")
    if positive and not value > 0:
        raise _validation.value_error(owner, f"`{name}`", "a number > 0", repr(value),
                                      f"Pass `{name}` > 0 (a number of optimizer steps).")
    return value


class LearningRateSchedule:
    """Base class: a serializable callable ``schedule(step) -> learning rate``.

    Subclasses implement ``__call__(step)`` and ``get_config()``; ``from_config(config)`` calls
    ``cls(**config)``. Pass an instance as any optimizer's ``learning_rate``.
    """

    def __call__(self, step: Any) -> float:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self) -> dict:
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        return config_repr(self)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: A float. The initial learning rate.
        decay_steps: A number > 0 (an int or, as some scripts compute it, a float).
        decay_rate: A float. The decay rate.
        staircase: If `True`, `step / decay_steps` is floored (decay at discrete intervals).
            Defaults to `False`.
        name: String. Defaults to `"ExponentialDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.decay_rate = _number(owner, "decay_rate", decay_rate)
        self.staircase = _validation.boolean(owner, "staircase", staircase)
        self.name = name

    def _progress(self, step: Any) -> np.float32:
        """``step / decay_steps`` in float32, floored with ``staircase``."""
        p = _F32(_step_value(type(self).__name__, step)) / _F32(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def __call__(self, step: Any) -> float:
        return float(_F32(self.initial_learning_rate) * np.power(_F32(self.decay_rate), self._progress(step)))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(ExponentialDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Args:
        initial_learning_rate: A float. The initial learning rate.
        decay_steps: A number > 0. How often to apply decay.
        decay_rate: A number. The decay rate.
        staircase: If `True`, `step / decay_steps` is floored. Defaults to `False`.
        name: String. Defaults to `"InverseTimeDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, name)

    def __call__(self, step: Any) -> float:
        return float(_F32(self.initial_learning_rate) / (_F32(1) + _F32(self.decay_rate) * self._progress(step)))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while ``step <= boundaries[1]``, ...,
    ``values[-1]`` after ``boundaries[-1]``.

    Args:
        boundaries: A list of strictly increasing numbers (steps).
        values: A list of numbers, one more than `boundaries`.
        name: String. Defaults to `"PiecewiseConstant"`.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        owner = type(self).__name__
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise _validation.value_error(
                owner, "`boundaries` and `values`", "one more value than boundaries",
                f"boundaries={boundaries} (length {len(boundaries)}) and values={values} (length {len(values)})",
                "Give one learning rate per interval: len(values) == len(boundaries) + 1.")
        for b in boundaries:
            _number(owner, "boundaries", b)
        for v in values:
            _number(owner, "values", v)
        if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise _validation.value_error(owner, "`boundaries`", "strictly increasing steps", repr(boundaries),
                                          "Sort the boundaries and remove duplicates.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> float:
        step = _step_value(type(self).__name__, step)
        # Keras casts the boundaries to the step's dtype: an int step compares with truncated boundaries.
        bounds = [int(b) for b in self.boundaries] if isinstance(step, numbers.Integral) else self.boundaries
        for boundary, value in zip(bounds, self.values):
            if step <= boundary:
                return float(_F32(value))
        return float(_F32(self.values[-1]))

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``.

    Args:
        initial_learning_rate: A float. The initial learning rate.
        decay_steps: A number > 0. Steps to reach `end_learning_rate`.
        end_learning_rate: A float. Defaults to `0.0001`.
        power: A float. Defaults to `1.0`.
        cycle: If `True`, restart with `decay_steps` scaled to the first multiple above `step`.
            Defaults to `False`.
        name: String. Defaults to `"PolynomialDecay"`.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.end_learning_rate = _number(owner, "end_learning_rate", end_learning_rate)
        self.power = _number(owner, "power", power)
        self.cycle = _validation.boolean(owner, "cycle", cycle)
        self.name = name

    def __call__(self, step: Any) -> float:
        step = _F32(_step_value(type(self).__name__, step))
        decay_steps = _F32(self.decay_steps)
        if self.cycle:
            multiplier = _F32(1) if step == 0 else np.ceil(step / _F32(self.decay_steps))
            decay_steps = decay_steps * multiplier
        else:
            step = np.minimum(step, decay_steps)
        p = step / decay_steps
        initial, end = _F32(self.initial_learning_rate), _F32(self.end_learning_rate)
        return float((initial - end) * np.power(_F32(1) - p, _F32(self.power)) + end)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay to ``alpha`` times the starting rate.

    Without warmup: ``lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) / decay_steps)) + alpha)``.
    With `warmup_target`, the rate first moves linearly from `initial_learning_rate` to `warmup_target`
    over `warmup_steps`, then decays from `warmup_target` over `decay_steps`.

    Args:
        initial_learning_rate: A float. The initial learning rate.
        decay_steps: A number > 0. Steps to decay over.
        alpha: A float. Minimum rate as a fraction of the starting rate. Defaults to `0.0`.
        name: String. Defaults to `"CosineDecay"`.
        warmup_target: A float or `None` (no warmup). Defaults to `None`.
        warmup_steps: A number of warmup steps. Defaults to `0`.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _number(owner, "decay_steps", decay_steps, positive=True)
        self.alpha = _number(owner, "alpha", alpha)
        self.name = name
        self.warmup_target = None if warmup_target is None else _number(owner, "warmup_target", warmup_target)
        self.warmup_steps = _number(owner, "warmup_steps", warmup_steps)
        if self.warmup_steps < 0:
            raise _validation.value_error(owner, "`warmup_steps`", "a number >= 0", repr(warmup_steps))

    def _decay(self, step, decay_steps, decay_from):
        fraction = step / decay_steps
        cosine = _F32(0.5) * (_F32(1) + _cos(_F32(math.pi) * fraction))
        decayed = _F32(1 - self.alpha) * cosine + _F32(self.alpha)
        return decay_from * decayed

    def __call__(self, step: Any) -> float:
        initial = _F32(self.initial_learning_rate)
        decay_steps = _F32(self.decay_steps)
        step = _F32(_step_value(type(self).__name__, step))
        if self.warmup_target is None:
            return float(self._decay(np.minimum(step, decay_steps), decay_steps, initial))
        target, warmup_steps = _F32(self.warmup_target), _F32(self.warmup_steps)
        step = np.minimum(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return float((target - initial) * (step / warmup_steps) + initial)
        return float(self._decay(step - warmup_steps, decay_steps, target))

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): periods grow by `t_mul`, restart rates scale by `m_mul`.

    Args:
        initial_learning_rate: A float. The initial learning rate.
        first_decay_steps: A number > 0. Length of the first period.
        t_mul: A float. Period length multiplier. Defaults to `2.0`.
        m_mul: A float. Restart learning-rate multiplier. Defaults to `1.0`.
        alpha: A float. Minimum rate as a fraction of `initial_learning_rate`. Defaults to `0.0`.
        name: String. Defaults to `"SGDRDecay"`.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(owner, "initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _number(owner, "first_decay_steps", first_decay_steps, positive=True)
        self._t_mul = _number(owner, "t_mul", t_mul)
        self._m_mul = _number(owner, "m_mul", m_mul)
        self.alpha = _number(owner, "alpha", alpha)
        self.name = name

    def __call__(self, step: Any) -> float:
        alpha, t_mul, m_mul = _F32(self.alpha), _F32(self._t_mul), _F32(self._m_mul)
        fraction = _F32(_step_value(type(self).__name__, step)) / _F32(self.first_decay_steps)
        if t_mul == 1:
            i_restart = np.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = np.floor(_log(_F32(1) - fraction * (_F32(1) - t_mul)) / _log(t_mul))
            sum_r = (_F32(1) - np.power(t_mul, i_restart)) / (_F32(1) - t_mul)
            fraction = (fraction - sum_r) / np.power(t_mul, i_restart)
        m_fac = np.power(m_mul, i_restart)
        cosine = _F32(0.5) * m_fac * (_F32(1) + _cos(_F32(math.pi) * fraction))
        decayed = (_F32(1) - alpha) * cosine + alpha
        return float(_F32(self.initial_learning_rate) * decayed)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


def _unknown(owner: str, name: str) -> ValueError:
    return _validation.value_error(owner, "`class_name`", "one of " + ", ".join(sorted(ALL_SCHEDULES)), repr(name),
                                   "Pass your own schedule class in custom_objects={name: cls}.")


# Class names in any case; tf.keras's registered names ("Custom>MySchedule") read as the class name.
REGISTRY = Registry("schedule", MODULE, LearningRateSchedule, (
    ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay, CosineDecayRestarts),
    fold=str.lower, prefixed=True, unknown=_unknown)
ALL_SCHEDULES = REGISTRY.builtins


def serialize(schedule: LearningRateSchedule) -> dict:
    """Keras's serialized form: ``{"module": "keras.optimizers.schedules", "class_name", "config", ...}``."""
    return REGISTRY.serialize(schedule, "schedules.serialize")


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """A schedule from Keras's serialized form (or tf.keras 2's ``{"class_name", "config"}``).

    `custom_objects` maps class names of your own `LearningRateSchedule` subclasses to the classes.
    """
    cls = REGISTRY.class_for(config, "schedules.deserialize", custom_objects, example="ExponentialDecay")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier: Any) -> LearningRateSchedule | None:
    """``None``, a schedule instance (returned as is), or a serialized dict."""
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise _validation.type_error("schedules.get", "`identifier`", "a LearningRateSchedule or its serialized dict",
                                 f"{identifier!r} of type {type(identifier).__name__}")


__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize", "get"]
