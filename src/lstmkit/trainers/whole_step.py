"""``compile(jit_compile=True)``'s whole train step: forward, loss, gradients and the optimizer update in
one ``torch.compile`` graph, as Keras compiles its train step with XLA.

Compiling only the forward pass leaves the autograd engine, the compiled backward's runtime wrapper and
the eager optimizer update around it: for a tiny model (W4, a stateful LSTM(4) trained with batch 1)
those cost more than the arithmetic. Here ``torch.func.grad_and_value`` computes the gradients inside
the traced function and the optimizer's own ``update_step`` (Keras's rule, on the concatenated
parameters and slots, as ``optimizers.flat_update`` runs it eagerly) updates the weights in the same
graph; the scalars that change per step (Adam's bias-corrected rate...) enter as tensors, so nothing
recompiles. Numbers equal the eager step within float tolerance (tests/trainers/test_compiled.py).

Only what this graph reproduces exactly takes it; anything else keeps the compiled forward with eager
backward and update (``reason`` says why): a rule or option the base ``Optimizer._apply`` handles in
Python (loss scaling, gradient accumulation, clipping, weight decay, EMA, a subclass's own update or
step, hooks), several outputs (per-output loss logs), activity regularizers, buffers or non-trainable
weights (a forward may update them: BatchNormalization's moving statistics), a trainable weight that got
no gradient in the eager step before (eager leaves it untouched, a traced update would move it), and
a model the compiler cannot trace (it is then tried no more).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
import torch.optim.optimizer as _torch_optimizer
from torch.func import functional_call, grad_and_value

from ..optimizers import base_optimizer as optimizer_base
from ..optimizers import flat_update
from .plan import plan

_BASE = optimizer_base.Optimizer


def optimizer_reason(opt: Any) -> str | None:
    """Why the whole step cannot apply ``opt``'s update as its eager step would (None when it can); read at
    every step, since options and hooks may change between steps."""
    kind = type(opt)
    if not optimizer_base.plain_step(opt) or any(getattr(kind, name) is not getattr(_BASE, name) for name in
                                         ("_apply", "_update", "_backend_update_step", "zero_grad")):
        return f"optimizer {kind.__name__}: its step is not the base Optimizer's"
    options = {"loss_scale_factor": opt.loss_scale_factor, "gradient_accumulation_steps":
               opt.gradient_accumulation_steps, "clipnorm": opt.clipnorm, "clipvalue": opt.clipvalue,
               "global_clipnorm": opt.global_clipnorm, "weight_decay": opt.weight_decay,
               "use_ema": opt.use_ema or None}
    used = [name for name, value in options.items() if value is not None]
    if used:
        return f"optimizer option {used[0]} (applied in Python by the eager step)"
    if opt._optimizer_step_pre_hooks or opt._optimizer_step_post_hooks or \
            _torch_optimizer._global_optimizer_pre_hooks or _torch_optimizer._global_optimizer_post_hooks:
        return "optimizer step hooks"
    return None


def unsupported_reason(model: Any, params: list[torch.Tensor]) -> str | None:
    """Why the whole step cannot run for ``model`` bound to ``params`` (None when it can), the optimizer's
    options apart (``optimizer_reason``)."""
    kind = type(model.optimizer)
    if getattr(kind, "update_step", None) not in flat_update.ELEMENTWISE_UPDATES:
        return f"optimizer {kind.__name__}: its update_step is not a built-in elementwise rule"
    if not params or any(p.dtype != params[0].dtype or p.device != params[0].device for p in params):
        return "trainable weights of several dtypes or devices"
    if len(getattr(model, "_output_loss_trackers", ())) or len(model._compiled_losses or ()) != 1:
        return "several outputs (each output's loss is logged)"
    found = plan(model)
    if any(getattr(m, "activity_regularizer", None) is not None for m in found.modules):
        return "an activity regularizer (its penalty is kept on the layer)"
    if any(getattr(m, "_regularizers", None) for m in found.modules):
        return "a weight regularizer (its penalty reads the layer's own weights, not the traced ones)"
    if any(True for _ in model.buffers()) or len(found.params) != len(params):
        return "buffers or non-trainable weights (a forward may update them)"
    if any(p.grad is None for p in params):
        return "a trainable weight without a gradient (eager steps leave it untouched)"
    return None


class WholeStep:
    """The compiled whole train step of one model (made by ``CompiledSteps``)."""

    def __init__(self, model: Any):
        self.model = model
        self.reason: str | None = "not tried yet"
        self._compiled = torch.compile(self._step)
        self._key: Any = None
        self._setup: Any = None

    def _prepare(self) -> Any:
        """``(params, names, stateful rnns)`` for the current optimizer binding, or None (see ``reason``)."""
        model = self.model
        key = getattr(model, "_step_key", None)
        if key is None or model._step_plan is None:
            return None  # not bound yet: the eager step binds first
        if key is not self._key:
            self._key = key
            params = list(model.optimizer._parameters())
            self.reason = unsupported_reason(model, params)
            by_id = {id(p): name for name, p in model.named_parameters()}
            rnns = [m for m in plan(model).rnns if m.stateful]
            self._setup = None if self.reason else (params, [by_id[id(p)] for p in params], rnns)
        return self._setup

    def run(self, x: Any, y: Any, sample_weight: Any) -> tuple[torch.Tensor, Any] | None:
        """One training step, compiled whole: returns ``(loss, y_pred)`` (no gradient attached), or None
        when this model / binding cannot take it (the caller then runs the step itself)."""
        setup = self._prepare()
        if setup is None:
            return None
        params, names, rnns = setup
        opt = self.model.optimizer
        self.reason = optimizer_reason(opt)  # options may change between steps: read each time
        if self.reason is not None:
            return None
        optimizer_base.fast_zero_grad(opt)  # eager steps leave fresh gradients, this one none (not stale ones)
        slots = flat_update._buffers(opt, params)
        dtype, device = params[0].dtype, params[0].device
        constants = {k: torch.tensor(v, dtype=dtype, device=device) if isinstance(v, float) else v
                     for k, v in opt._step_constants(optimizer_base._np_dtype(dtype), opt.current_learning_rate).items()}
        states = [m.states for m in rnns]
        try:
            with torch.no_grad():
                loss, y_pred, new_states = self._compiled(params, names, rnns, states, x, y, sample_weight,
                                                          constants, slots)
        except Exception as error:  # noqa: BLE001 - the compiler's many error types: keep the eager update
            if not isinstance(error, (torch._dynamo.exc.TorchDynamoException, NotImplementedError, RuntimeError)):
                raise
            self.reason = f"torch.compile could not trace the whole step ({type(error).__name__})"
            self._setup = None
            warnings.warn(f"jit_compile: {self.reason}; the forward pass alone is compiled.", stacklevel=4)
            return None
        for module, state in zip(rnns, new_states):
            module.states = state
        opt._iterations += 1
        return loss, y_pred

    def _step(self, params: list, names: list, rnns: list, states: list, x: Any, y: Any, sample_weight: Any,
              constants: dict, slots: dict) -> tuple:
        model = self.model

        def loss_of(weights: list) -> tuple:
            for module, state in zip(rnns, states):
                module.states = state
            y_pred = functional_call(model, dict(zip(names, weights)), (x,), {"training": True})
            loss = model.compute_loss(y, y_pred, sample_weight)
            carried = [module.states for module in rnns]
            for module, state in zip(rnns, states):  # no traced tensor is left on a module
                module.states = state
            return loss, (y_pred, carried)

        grads, (loss, (y_pred, carried)) = grad_and_value(loss_of, has_aux=True)(params)
        gradient = torch.cat([g.reshape(-1) for g in grads])
        variable = torch.cat([p.reshape(-1) for p in params])
        model.optimizer.update_step(gradient, variable, slots, constants)
        for p, piece in zip(params, variable.split([p.numel() for p in params])):
            p.copy_(piece.view_as(p))
        return loss, y_pred, carried
