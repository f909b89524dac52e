"""``LossScaleOptimizer``: Keras's dynamic loss scaling around any optimizer (lstmkit's or ``torch.optim``'s).

float16 gradients underflow to zero; multiplying the loss by a large scale before ``backward`` keeps them
representable, and dividing the gradients by it before the update undoes it. Keras's dynamic rule: a step
whose gradients hold an inf or NaN is skipped and the scale halved; after ``dynamic_growth_steps`` finite
steps in a row the scale doubles.

Use: ``loss = opt.scale_loss(loss); loss.backward(); opt.step()`` (``Model.fit`` calls ``scale_loss``).
"""

from __future__ import annotations

import numbers
from typing import Any

import torch

from .. import _validation


class LossScaleOptimizer:
    """Wrap ``inner_optimizer`` with Keras's dynamic loss scale.

    Args:
        inner_optimizer: an lstmkit optimizer or any ``torch.optim.Optimizer``.
        initial_scale: the first loss scale; default ``2**15`` (Keras's 32768).
        dynamic_growth_steps: finite steps after which the scale doubles; default 2000.

    Attributes: ``dynamic_scale`` (the current scale, a float), ``inner_optimizer``; every other attribute
    (``learning_rate``, ``iterations``, ``param_groups``...) is the inner optimizer's.
    """

    def __init__(self, inner_optimizer: Any, initial_scale: float = 2.0 ** 15, dynamic_growth_steps: int = 2000,
                 name: str | None = None, **kwargs: Any):
        owner = "LossScaleOptimizer"
        if not (hasattr(inner_optimizer, "step") and hasattr(inner_optimizer, "zero_grad")):
            raise _validation.type_error(owner, "inner_optimizer", "an optimizer (lstmkit or torch.optim)",
                                         f"{inner_optimizer!r} of type {type(inner_optimizer).__name__}")
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise _validation.type_error(owner, "inner_optimizer", "an optimizer that does not scale the loss",
                                         "a LossScaleOptimizer", "Wrap the inner optimizer once.")
        if isinstance(initial_scale, bool) or not isinstance(initial_scale, numbers.Real) or not initial_scale > 0:
            raise _validation.value_error(owner, "initial_scale", "a positive number", repr(initial_scale))
        unknown = set(kwargs) - {"weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                                 "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                                 "gradient_accumulation_steps"}
        if unknown or any(v is not None for v in kwargs.values()):
            raise _validation.value_error(owner, "its arguments", "inner_optimizer, initial_scale, "
                                          "dynamic_growth_steps (set clipping and decay on the inner optimizer)",
                                          f"{sorted(kwargs)}")
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = _validation.positive_int(owner, "dynamic_growth_steps", dynamic_growth_steps)
        self.name = name or "loss_scale_optimizer"
        self.dynamic_scale = float(initial_scale)
        self.step_counter = 0  # finite steps since the scale last changed

    def __getattr__(self, name: str) -> Any:
        if name == "inner_optimizer":  # not set yet (during unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.inner_optimizer, name)

    @property
    def learning_rate(self) -> Any:
        return self.inner_optimizer.learning_rate if hasattr(self.inner_optimizer, "learning_rate") else \
            self.inner_optimizer.param_groups[0]["lr"]

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if hasattr(self.inner_optimizer, "learning_rate"):
            self.inner_optimizer.learning_rate = value
        else:
            for group in self.inner_optimizer.param_groups:
                group["lr"] = value

    # -- the step --------------------------------------------------------------------------------
    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss times the current scale (call ``backward`` on this)."""
        inner = getattr(self.inner_optimizer, "scale_loss", None)
        return (inner(loss) if inner is not None else loss) * self.dynamic_scale

    def build(self, params: Any) -> None:
        build = getattr(self.inner_optimizer, "build", None)
        if build is not None:
            build(params)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner_optimizer.zero_grad(set_to_none=set_to_none)

    def _grads(self) -> list[torch.Tensor]:
        return [p.grad for group in self.inner_optimizer.param_groups for p in group["params"]
                if p.grad is not None]

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """Unscale the gradients and step the inner optimizer, or skip the step and halve the scale when a
        gradient is not finite; double the scale after ``dynamic_growth_steps`` finite steps."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        grads = self._grads()
        finite = all(bool(torch.isfinite(g).all()) for g in grads)
        if not finite:
            self.dynamic_scale /= 2.0
            self.step_counter = 0
            return loss
        for g in grads:
            g.div_(self.dynamic_scale)
        self.inner_optimizer.step()
        self.step_counter += 1
        if self.step_counter >= self.dynamic_growth_steps:
            self.dynamic_scale *= 2.0
            self.step_counter = 0
        return loss

    # -- state and config ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        state = dict(self.inner_optimizer.state_dict())
        state["loss_scale"] = {"dynamic_scale": self.dynamic_scale, "step_counter": self.step_counter}
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        scale = state.pop("loss_scale", None)
        if not isinstance(scale, dict) or not {"dynamic_scale", "step_counter"} <= set(scale):
            raise _validation.value_error("LossScaleOptimizer", "load_state_dict()",
                                          'a state with "loss_scale": {"dynamic_scale", "step_counter"}',
                                          f"keys {sorted(state_dict)}", "Load a LossScaleOptimizer's state_dict().")
        self.inner_optimizer.load_state_dict(state)
        self.dynamic_scale = float(scale["dynamic_scale"])
        self.step_counter = int(scale["step_counter"])

    def get_config(self) -> dict:
        """Keras's config keys; ``inner_optimizer`` as the inner optimizer's serialized form."""
        inner = self.inner_optimizer
        if not hasattr(inner, "get_config"):
            raise _validation.type_error("LossScaleOptimizer", "get_config()", "an lstmkit inner optimizer",
                                         type(inner).__name__, "torch.optim optimizers have no Keras config.")
        return {"name": self.name, "inner_optimizer": {"module": "keras.optimizers", "class_name": type(inner).__name__,
                                                       "config": inner.get_config(), "registered_name": None},
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    def __repr__(self) -> str:
        return (f"LossScaleOptimizer({self.inner_optimizer!r}, dynamic_scale={self.dynamic_scale}, "
                f"step_counter={self.step_counter})")
