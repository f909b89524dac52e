"""Keras 3 optimizers on ``torch.optim.Optimizer``, with Keras's update rules in Keras's float32 order.

The base class (binding, clipping, weight decay, EMA, state) is in ``optimizer_base.py``; this module
holds the update rules and the Keras names.
Scalar arithmetic (bias corrections, Nadam's momentum cache) is done in NumPy at the parameter's precision
and tensor updates follow Keras's operation order, so float32 results match Keras's float32 ones.
``state_dict()`` holds tensors per parameter and plain Python values otherwise (safetensors + JSON).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from .. import _validation
from ..ops.registry import Registry
from ..mixed_precision.loss_scale_optimizer import LossScaleOptimizer
from . import flat_update
from .base_optimizer import MODULE, Optimizer, _beta, _epsilon, _np_dtype, _real, _sqrt


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum.

    `m = momentum * m - lr * g; w += m`, or with `nesterov=True`: `w += momentum * m - lr * g`;
    without momentum `w -= lr * g`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.01`.
        momentum: Float in [0, 1]. Defaults to `0.0`.
        nesterov: Boolean. Defaults to `False`.
        name: Defaults to `"SGD"`.
        Plus the base keyword arguments of `Optimizer` (weight_decay, clipnorm, clipvalue, global_clipnorm,
        use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps).
    """

    _default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="SGD", *, loss_scale_factor=None,
                 gradient_accumulation_steps=None, params=None, **kwargs):
        owner = type(self).__name__
        self.momentum = _real(owner, "momentum", momentum, low=0, high=1)
        self.nesterov = _validation.boolean(owner, "nesterov", nesterov)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["momentum"] if self.momentum != 0 else []

    def update_step(self, gradient, variable, state, c):
        lr = c["lr"]
        if self.momentum != 0:
            m = state["momentum"]
            m.copy_(m * self.momentum - gradient * lr)
            if self.nesterov:
                variable.add_(m * self.momentum - gradient * lr)
            else:
                variable.add_(m)
        else:
            variable.sub_(gradient * lr)

    def _hyper_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam, with Keras's epsilon placement ("epsilon hat": not bias-corrected, unlike torch.optim.Adam).

    `m += (g - m) * (1 - beta_1); v += (g² - v) * (1 - beta_2);
    w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Decay rate of the first moment. Defaults to `0.9`.
        beta_2: Decay rate of the second moment. Defaults to `0.999`.
        epsilon: Small constant for numerical stability. Defaults to `1e-7`.
        amsgrad: Boolean. Use the AMSGrad variant (max of past second moments). Defaults to `False`.
        name: Defaults to `"adam"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adam", *, params=None, **kwargs):
        owner = type(self).__name__
        self.beta_1 = _beta(owner, "beta_1", beta_1)
        self.beta_2 = _beta(owner, "beta_2", beta_2)
        self.epsilon = _epsilon(owner, epsilon)
        self.amsgrad = _validation.boolean(owner, "amsgrad", amsgrad)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["momentum", "velocity"] + (["velocity_hat"] if self.amsgrad else [])

    def _step_constants(self, f, lr):
        t = f(self.iterations + 1)
        beta_1_power, beta_2_power = np.power(f(self.beta_1), t), np.power(f(self.beta_2), t)
        alpha = f(lr) * np.sqrt(f(1) - beta_2_power) / (f(1) - beta_1_power)
        return {"alpha": float(alpha)}

    def update_step(self, gradient, variable, state, c):
        m, v = state["momentum"], state["velocity"]
        m.add_((gradient - m) * (1 - self.beta_1))
        v.add_((gradient * gradient - v) * (1 - self.beta_2))
        if self.amsgrad:
            v_hat = state["velocity_hat"]
            torch.maximum(v_hat, v, out=v_hat)
            v = v_hat
        variable.sub_((m * c["alpha"]) / (_sqrt(v) + self.epsilon))

    def _hyper_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (`w -= w * weight_decay * lr` before each Adam update).

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        weight_decay: Float, required (not None). Defaults to `0.004`.
        beta_1: Defaults to `0.9`. beta_2: Defaults to `0.999`. epsilon: Defaults to `1e-7`.
        amsgrad: Boolean. Defaults to `False`.
        name: Defaults to `"adamw"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="adamw", *, params=None, **kwargs):
        if weight_decay is None:
            raise _validation.value_error("AdamW", "`weight_decay`", "a float >= 0", "None",
                                          "AdamW is Adam with weight decay; use Adam for none, or e.g. 0.004.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                         gradient_accumulation_steps, name, params=params, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Keras's momentum-cache schedule.

    `u_t = beta_1 * (1 - 0.5 * 0.96^t)`; `u_product` (the running product of `u_t`) is optimizer state.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Defaults to `0.9`. beta_2: Defaults to `0.999`. epsilon: Defaults to `1e-7`.
        name: Defaults to `"nadam"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="nadam", *, params=None, **kwargs):
        owner = type(self).__name__
        self.beta_1 = _beta(owner, "beta_1", beta_1)
        self.beta_2 = _beta(owner, "beta_2", beta_2)
        self.epsilon = _epsilon(owner, epsilon)
        self._u_product = np.float32(1.0)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["momentum", "velocity"]

    def _build_globals(self, params):
        # Keras keeps u_product in the first variable's dtype.
        self._u_product = (_np_dtype(params[0].dtype) if params else np.float32)(1.0)

    def _backend_update_step(self, grads, params, lr):
        f = type(self._u_product)
        decay = f(1) - f(0.5) * np.power(f(0.96), f(self.iterations + 1))
        self._u_product = f(self._u_product * f(self.beta_1)) * decay
        super()._backend_update_step(grads, params, lr)

    def _step_constants(self, f, lr):
        local_step, next_step = f(self.iterations + 1), f(self.iterations + 2)
        beta_1, beta_2, decay = f(self.beta_1), f(self.beta_2), f(0.96)
        u_t = beta_1 * (f(1) - f(0.5) * np.power(decay, local_step))
        u_t_1 = beta_1 * (f(1) - f(0.5) * np.power(decay, next_step))
        u_product_t = f(self._u_product)
        u_product_t_1 = u_product_t * u_t_1
        return {"lr": lr, "one_minus_beta_1": float(f(1) - beta_1), "one_minus_beta_2": float(f(1) - beta_2),
                "u_t_1": float(u_t_1), "one_minus_u_t": float(f(1) - u_t),
                "m_denominator": float(f(1) - u_product_t_1), "g_denominator": float(f(1) - u_product_t),
                "v_denominator": float(f(1) - np.power(beta_2, local_step))}

    def update_step(self, gradient, variable, state, c):
        m, v = state["momentum"], state["velocity"]
        m.add_((gradient - m) * c["one_minus_beta_1"])
        v.add_((gradient * gradient - v) * c["one_minus_beta_2"])
        m_hat = (m * c["u_t_1"]) / c["m_denominator"] + (gradient * c["one_minus_u_t"]) / c["g_denominator"]
        v_hat = v / c["v_denominator"]
        variable.sub_((m_hat * c["lr"]) / (_sqrt(v_hat) + self.epsilon))

    def _global_state(self):
        return {**super()._global_state(), "u_product": float(self._u_product)}

    def _load_global_state(self, state):
        super()._load_global_state(state)
        u_product = state.get("u_product")
        if isinstance(u_product, bool) or not isinstance(u_product, numbers.Real):
            raise _validation.value_error("Nadam", "load_state_dict()", "a float `u_product`", repr(u_product))
        self._u_product = type(self._u_product)(u_product)

    def _hyper_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a moving root mean square, optionally centered, with momentum.

    `v = rho * v + (1 - rho) * g²; step = lr * g / sqrt(v + epsilon)` (centered: `sqrt(v - a² + epsilon)`
    with `a` the moving mean gradient); with momentum `mom = momentum * mom + step; w -= mom`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        rho: Discounting factor for the old gradients. Defaults to `0.9`.
        momentum: Float >= 0. Defaults to `0.0`.
        epsilon: Defaults to `1e-7`.
        centered: Boolean. Normalize by the estimated variance. Defaults to `False`.
        name: Defaults to `"rmsprop"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name="rmsprop", *, params=None, **kwargs):
        owner = type(self).__name__
        self.rho = _real(owner, "rho", rho, low=0, high=1)
        self.momentum = _real(owner, "momentum", momentum, low=0)
        self.epsilon = _epsilon(owner, epsilon)
        self.centered = _validation.boolean(owner, "centered", centered)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["velocity"] + (["momentum"] if self.momentum > 0 else []) + (
            ["average_gradient"] if self.centered else [])

    def update_step(self, gradient, variable, state, c):
        rho, velocity = self.rho, state["velocity"]
        velocity.copy_(velocity * rho + (gradient * gradient) * (1 - rho))
        if self.centered:
            average = state["average_gradient"]
            average.copy_(average * rho + gradient * (1 - rho))
            denominator = velocity - average * average + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = (gradient * c["lr"]) / _sqrt(denominator)
        if self.momentum > 0:
            momentum = state["momentum"]
            momentum.copy_(momentum * self.momentum + increment)
            variable.sub_(momentum)
        else:
            variable.sub_(increment)

    def _hyper_config(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: `acc += g²; w -= lr * g / sqrt(acc + epsilon)`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        initial_accumulator_value: Float >= 0, starting value of the accumulators. Defaults to `0.1`.
        epsilon: Defaults to `1e-7`.
        name: Defaults to `"adagrad"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name=None, *, params=None, **kwargs):
        owner = type(self).__name__
        self.initial_accumulator_value = _real(owner, "initial_accumulator_value", initial_accumulator_value, low=0)
        self.epsilon = _epsilon(owner, epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["accumulator"]

    def _slot_initial_value(self, slot):
        return self.initial_accumulator_value if slot == "accumulator" else 0.0

    def update_step(self, gradient, variable, state, c):
        accumulator = state["accumulator"]
        accumulator.add_(gradient * gradient)
        variable.sub_((gradient * c["lr"]) / _sqrt(accumulator + self.epsilon))

    def _hyper_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax (Adam with the infinity norm): `u = max(beta_2 * u, |g|); w -= lr * m / ((1 - beta_1^t) * (u + eps))`.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        beta_1: Defaults to `0.9`. beta_2: Defaults to `0.999`. epsilon: Defaults to `1e-7`.
        name: Defaults to `"adamax"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="adamax", *, params=None, **kwargs):
        owner = type(self).__name__
        self.beta_1 = _beta(owner, "beta_1", beta_1)
        self.beta_2 = _beta(owner, "beta_2", beta_2)
        self.epsilon = _epsilon(owner, epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["momentum", "norm"]

    def _step_constants(self, f, lr):
        beta_1_power = np.power(f(self.beta_1), f(self.iterations + 1))
        return {"lr": lr, "bias_correction": float(f(1) - beta_1_power)}

    def update_step(self, gradient, variable, state, c):
        m, u = state["momentum"], state["norm"]
        m.add_((gradient - m) * (1 - self.beta_1))
        u.copy_(torch.maximum(u * self.beta_2, torch.abs(gradient)))
        variable.sub_((m * c["lr"]) / ((u + self.epsilon) * c["bias_correction"]))

    def _hyper_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: per-dimension rates from moving averages of squared gradients and squared updates.

    Args:
        learning_rate: A float, a `LearningRateSchedule`, or a callable. Defaults to `0.001`.
        rho: The decay rate, in [0, 1]. Defaults to `0.95`.
        epsilon: Defaults to `1e-7`.
        name: Defaults to `"adadelta"`.
        Plus the base keyword arguments of `Optimizer`.
    """

    _default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None, gradient_accumulation_steps=None,
                 name="adadelta", *, params=None, **kwargs):
        owner = type(self).__name__
        self.rho = _real(owner, "rho", rho, low=0, high=1)
        self.epsilon = _epsilon(owner, epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
                         ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name,
                         params=params, **kwargs)

    def _slot_names(self):
        return ["accumulated_grad", "accumulated_delta_var"]

    def update_step(self, gradient, variable, state, c):
        rho, eps = self.rho, self.epsilon
        acc_grad, acc_delta = state["accumulated_grad"], state["accumulated_delta_var"]
        acc_grad.copy_(acc_grad * rho + (gradient * gradient) * (1 - rho))
        delta = -((_sqrt(acc_delta + eps) * gradient) / _sqrt(acc_grad + eps))
        acc_delta.copy_(acc_delta * rho + (delta * delta) * (1 - rho))
        variable.add_(delta * c["lr"])

    def _hyper_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


def _unknown(owner: str, name: Any) -> ValueError:
    return _validation.value_error(owner, "the optimizer name", "one of " + ", ".join(
        f'"{n}"' for n in ALL_OPTIMIZERS) + " (any case)", repr(name),
        "Use one of these names, or pass an optimizer instance such as Adam(learning_rate=1e-3).")


# "Adam", "adam", "Custom>Adam" and "rm_sprop" all name a class: case and underscores do not count.
REGISTRY = Registry("optimizer", MODULE, Optimizer, (SGD, Adam, AdamW, Nadam, RMSprop, Adagrad, Adamax, Adadelta),
                    prefixed=True, unknown=_unknown)
ALL_OPTIMIZERS = {name.lower(): cls for name, cls in REGISTRY.builtins.items()}


def serialize(optimizer: Optimizer) -> dict:
    """Keras's serialized form: ``{"module": "keras.optimizers", "class_name", "config", "registered_name"}``."""
    if isinstance(optimizer, LossScaleOptimizer):
        return {"module": MODULE, "class_name": "LossScaleOptimizer", "config": optimizer.get_config(),
                "registered_name": None}
    return REGISTRY.serialize(optimizer, "optimizers.serialize", "an lstmkit optimizer")


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """An optimizer from Keras's serialized form (class_name in any case, e.g. "adam" or "Adam"), or
    tf.keras 2's ``{"class_name": ..., "config": {...}}``."""
    if isinstance(config, dict) and config.get("class_name") == "LossScaleOptimizer":
        inner = dict(config.get("config") or {})  # Keras's mixed-precision wrapper: the inner optimizer nested
        return LossScaleOptimizer(deserialize(inner.pop("inner_optimizer"), custom_objects), **inner)
    cls = REGISTRY.class_for(config, "optimizers.deserialize", custom_objects, example="Adam")
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``"adam"``, ``"RMSprop"``, ...), a serialized dict, or an instance (as is)."""
    if identifier is None or isinstance(identifier, (Optimizer, LossScaleOptimizer)):
        return identifier
    if isinstance(identifier, str):
        cls = REGISTRY.find(identifier)
        if cls is None:
            raise REGISTRY.unknown("optimizers.get", identifier)
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    fix = ("Wrap nothing: use lstmkit.optimizers (same names as Keras), e.g. Adam(learning_rate=1e-3)."
           if isinstance(identifier, torch.optim.Optimizer) else "Pass a name such as \"adam\".")
    raise _validation.type_error("optimizers.get", "`identifier`",
                                 "an optimizer name, a serialized optimizer dict or an lstmkit optimizer",
                                 f"{identifier!r} of type {type(identifier).__name__}", fix)


__all__ = ["Optimizer", "LossScaleOptimizer", "SGD", "Adam", "AdamW", "Nadam", "RMSprop", "Adagrad", "Adamax", "Adadelta",
           "ALL_OPTIMIZERS", "get", "serialize", "deserialize"]

flat_update.ELEMENTWISE_UPDATES.update(cls.update_step for cls in ALL_OPTIMIZERS.values())
