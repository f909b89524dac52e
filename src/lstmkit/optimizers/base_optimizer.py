"""The Keras optimizer base on ``torch.optim.Optimizer``: binding, clipping, weight decay, EMA, state.

Keras builds an optimizer before it has variables (``Adam(1e-3)``, learning rate first) and binds them
later; here ``build(params)`` does that (or pass ``params=`` for plain PyTorch use). ``step()`` reads
``p.grad`` and does what Keras's ``apply`` does: unscale (``loss_scale_factor``), accumulate
(``gradient_accumulation_steps``), clip, weight decay, the update rule (a subclass's ``update``), EMA,
then ``iterations += 1``. ``state_dict()`` holds tensors per parameter and plain Python values otherwise
(safetensors + JSON). The update rules live in ``optimizers.py``.
"""

from __future__ import annotations

import inspect
import math
import numbers
import re
import warnings
from typing import Any, Iterable

import numpy as np
import torch
import torch.optim.optimizer as _torch_optimizer

from .. import _validation
from . import flat_update
from . import schedules as schedules_mod
from .schedules import LearningRateSchedule

MODULE = "keras.optimizers"
# Keys tf.keras 2.11+ wrote into optimizer configs that change nothing numerically; dropped on load.
_IGNORED_CONFIG_KEYS = ("jit_compile", "is_legacy_optimizer")
_BASE_ARGUMENTS = ("learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                   "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                   "gradient_accumulation_steps", "name", "params")


def _np_dtype(dtype: torch.dtype) -> type:
    """The NumPy type Keras's scalar math runs in for a variable of ``dtype`` (float32 unless float64)."""
    return np.float64 if dtype == torch.float64 else np.float32


def _sqrt(x: torch.Tensor) -> torch.Tensor:
    """Correctly rounded float32 square root, as Keras's backends compute it.

    torch's CPU float32 ``sqrt`` is off by one ulp for ~15% of inputs; through float64 it is exact.
    """
    if x.dtype == torch.float32 and x.device.type == "cpu":
        return torch.sqrt(x.double()).float()
    return torch.sqrt(x)


def _real(owner: str, name: str, value: Any, low: float | None = None, high: float | None = None,
          high_open: bool = False, none_ok: bool = False, fix: str | None = None) -> Any:
    """``value`` if it is a real number in ``[low, high]`` (``[low, high)`` with ``high_open``), else raise."""
    if value is None and none_ok:
        return None
    expected = "a number" + ("" if low is None else f" >= {low}") + (
        "" if high is None else f" and {'<' if high_open else '<='} {high}") + (" or None" if none_ok else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _validation.type_error(owner, f"`{name}`", expected, f"{value!r} of type {type(value).__name__}", fix)
    if math.isnan(value) or (low is not None and value < low) or (
            high is not None and (value >= high if high_open else value > high)):
        raise _validation.value_error(owner, f"`{name}`", expected, repr(value), fix)
    return value


def _looks_like_parameters(value: Any) -> bool:
    return isinstance(value, (torch.Tensor, torch.nn.Module, list, tuple)) or inspect.isgenerator(value)


class Optimizer(torch.optim.Optimizer):
    """Base class of the Keras optimizers; a ``torch.optim.Optimizer`` bound by ``build(params)``.

    Args:
        learning_rate: A float >= 0, a `LearningRateSchedule` (called with the step count), or a
            callable taking no arguments and returning the rate.
        weight_decay: Float or `None`. If set, before each update `var -= var * weight_decay * lr`.
        clipnorm: Float or `None`. Clip each gradient so its L2 norm is at most this value.
        clipvalue: Float or `None`. Clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: Float or `None`. Clip all gradients together so their global norm is at most
            this value. At most one of `clipnorm`, `clipvalue`, `global_clipnorm` may be set.
        use_ema: Boolean, defaults to `False`. Keep an exponential moving average of the weights.
        ema_momentum: Float in [0, 1], defaults to `0.99`. `average = m * average + (1 - m) * weight`.
        ema_overwrite_frequency: Int >= 1 or `None`. Overwrite the weights with their average every this
            many steps; with `None` call `finalize_variable_values()` at the end of training.
        loss_scale_factor: Float or `None`. `scale_loss(loss)` multiplies by it and `step()` divides the
            gradients by it.
        gradient_accumulation_steps: Int >= 2 or `None`. Update only every this many steps, with the
            mean of the gradients since the last update. `iterations` counts updates; schedules see
            the raw step count.
        name: String. Defaults to the optimizer's Keras name (`"adam"`, `"SGD"`, ...).
        params: Keyword only. Parameters to bind now (same as calling `build(params)`).

    Legacy tf.keras 2 keywords: `lr` (alias of `learning_rate`) and `decay` (the rate used is
    `lr / (1 + decay * step)`, as tf.keras 2 did) are accepted with a `DeprecationWarning`, and
    `epsilon=None` means 1e-7 as in tf.keras 2.
    """

    _default_name = "optimizer"

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, *, params=None, **kwargs):
        owner = type(self).__name__
        learning_rate, decay = self._legacy_arguments(owner, learning_rate, kwargs)
        if name is not None and not isinstance(name, str):
            raise _validation.type_error(owner, "`name`", "a string or None", repr(name))
        self.name = name if name is not None else self._default_name
        self.decay = decay
        self.weight_decay = _real(owner, "weight_decay", weight_decay, low=0, none_ok=True)
        self.clipnorm = _real(owner, "clipnorm", clipnorm, low=0, none_ok=True)
        self.clipvalue = _real(owner, "clipvalue", clipvalue, low=0, none_ok=True)
        self.global_clipnorm = _real(owner, "global_clipnorm", global_clipnorm, low=0, none_ok=True)
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise _validation.value_error(
                owner, "clipping", "at most one of `clipnorm`, `clipvalue` and `global_clipnorm`",
                f"clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}",
                "Keep one: clipnorm clips each gradient, global_clipnorm all together, clipvalue each element.")
        self.use_ema = _validation.boolean(owner, "use_ema", use_ema)
        if self.use_ema:
            _real(owner, "ema_momentum", ema_momentum, low=0, high=1)
            if ema_overwrite_frequency is not None and (
                    isinstance(ema_overwrite_frequency, bool)
                    or not isinstance(ema_overwrite_frequency, numbers.Integral) or ema_overwrite_frequency < 1):
                raise _validation.value_error(owner, "`ema_overwrite_frequency`", "an integer >= 1 or None",
                                              repr(ema_overwrite_frequency))
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = None if ema_overwrite_frequency is None else int(ema_overwrite_frequency)
        self.loss_scale_factor = _real(owner, "loss_scale_factor", loss_scale_factor, low=0, none_ok=True)
        if loss_scale_factor == 0:
            raise _validation.value_error(owner, "`loss_scale_factor`", "a number > 0 or None", "0",
                                          "Gradients are divided by it; use e.g. 1024.0, or None for no scaling.")
        if gradient_accumulation_steps is not None and gradient_accumulation_steps is not False and (
                isinstance(gradient_accumulation_steps, bool)
                or not isinstance(gradient_accumulation_steps, numbers.Integral) or gradient_accumulation_steps < 2):
            raise _validation.value_error(owner, "`gradient_accumulation_steps`", "an integer >= 2 or None",
                                          repr(gradient_accumulation_steps),
                                          "Use None to update every step, or e.g. 4 to average 4 steps.")
        self.gradient_accumulation_steps = int(gradient_accumulation_steps) if gradient_accumulation_steps else None

        # torch.optim.Optimizer's own setup (hooks, state); parameters come with build().
        torch.optim.Optimizer.__init__(self, [{"params": []}], {})
        self.param_groups = []
        self.built = False
        self._iterations = 0
        self._learning_rate: Any = None
        self.learning_rate = learning_rate
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None
        self._warned_missing = False
        if params is not None:
            self.build(params)

    # -- construction helpers ---------------------------------------------------------------------
    def _legacy_arguments(self, owner: str, learning_rate: Any, kwargs: dict) -> tuple[Any, float]:
        """Apply tf.keras 2's ``lr=`` and ``decay=``; reject any other unknown keyword."""
        if "lr" in kwargs:
            lr = kwargs.pop("lr")
            default = inspect.signature(type(self).__init__).parameters["learning_rate"].default
            if default is inspect.Parameter.empty or learning_rate != default:
                raise _validation.type_error(owner, "the learning rate", "one of `learning_rate` and `lr`",
                                             f"learning_rate={learning_rate!r} and lr={lr!r}",
                                             "Pass only learning_rate=...; `lr` is tf.keras 2's old name.")
            warnings.warn(f"{owner}: `lr` is a deprecated alias (tf.keras 2); use `learning_rate={lr!r}`.",
                          DeprecationWarning, stacklevel=4)
            learning_rate = lr
        decay = kwargs.pop("decay", None)
        decay = 0.0 if decay is None else _real(owner, "decay", decay, low=0)
        if decay:
            warnings.warn(f"{owner}: `decay` is tf.keras 2's legacy learning-rate decay (Keras 3 ignores it); "
                          "it is applied as lr / (1 + decay * iterations). Use "
                          f"learning_rate=schedules.InverseTimeDecay(lr, 1, {decay!r}) instead.",
                          DeprecationWarning, stacklevel=4)
        if kwargs:
            accepted = [p for p in inspect.signature(type(self).__init__).parameters
                        if p not in ("self", "kwargs")]
            raise _validation.type_error(owner, "keyword arguments", "only " + ", ".join(accepted),
                                         "unexpected " + ", ".join(f"`{k}`" for k in kwargs),
                                         "Remove or rename the argument(s).")
        return learning_rate, float(decay)

    def _check_learning_rate(self, value: Any) -> float:
        owner = type(self).__name__
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()
        elif isinstance(value, (np.ndarray, np.generic)) and np.size(value) == 1:
            value = value.item()
        if _looks_like_parameters(value):
            raise _validation.type_error(
                owner, "`learning_rate` (the first argument)", "a float, a LearningRateSchedule or a callable",
                f"a {type(value).__name__} (model parameters?)",
                f"Keras optimizers take the learning rate first: {owner}(learning_rate=1e-3, "
                "params=model.parameters()), or build(params) later.")
        return float(np.float32(_real(owner, "learning_rate", value, low=0,
                                      fix="Pass a non-negative float such as 1e-3.")))

    # -- learning rate and step count -------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The current learning rate (a schedule is evaluated at the current step count)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return self._check_learning_rate(lr(self._iterations))
        if callable(lr):
            return self._check_learning_rate(lr())
        return lr

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, LearningRateSchedule) or (callable(value) and not isinstance(value, torch.nn.Module)):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise _validation.type_error(
                type(self).__name__, "setting `learning_rate`", "a LearningRateSchedule (the optimizer was "
                "created with one, so its rate is not settable)", repr(value),
                "Create the optimizer with a float learning_rate if you need to set it, "
                "or assign a new schedule.")
        self._learning_rate = self._check_learning_rate(value)

    @property
    def lr(self) -> float:
        """tf.keras 2's name for `learning_rate` (deprecated)."""
        warnings.warn("`optimizer.lr` is deprecated; use `optimizer.learning_rate`.", DeprecationWarning,
                      stacklevel=2)
        return self.learning_rate

    @lr.setter
    def lr(self, value: Any) -> None:
        warnings.warn("`optimizer.lr` is deprecated; use `optimizer.learning_rate`.", DeprecationWarning,
                      stacklevel=2)
        self.learning_rate = value

    @property
    def iterations(self) -> int:
        """Updates applied so far (with gradient accumulation: steps // gradient_accumulation_steps)."""
        if self.gradient_accumulation_steps:
            return self._iterations // self.gradient_accumulation_steps
        return self._iterations

    @property
    def current_learning_rate(self) -> float:
        """The rate the next step uses: `learning_rate` with tf.keras 2's legacy `decay` applied.

        Without `decay` this equals `learning_rate`. With it, `learning_rate` stays the base rate, as
        tf.keras 2's `optimizer.lr` did, so callbacks that read and set it do not compound the decay.
        """
        lr = self.learning_rate
        if self.decay:
            f = np.float32
            lr = float(f(lr) / (f(1) + f(self.decay) * f(self._iterations)))
        return lr

    # -- binding parameters -----------------------------------------------------------------------
    def _parameters(self) -> list[torch.Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def _parameter_names(self) -> dict[int, str]:
        return {id(p): n for g in self.param_groups for p, n in zip(g["params"], g.get("param_names", ()))}

    def build(self, params: Iterable[Any]) -> None:
        """Bind the parameters to optimize and create the optimizer state (Keras's slot variables).

        `params` is an iterable of tensors or of `(name, tensor)` pairs (`model.named_parameters()`;
        names are used by `exclude_from_weight_decay(var_names=...)`). Building again with the same
        parameters is a no-op; building with different ones raises (as Keras does): create a new
        optimizer for a new set of parameters.
        """
        owner = type(self).__name__
        if isinstance(params, torch.Tensor):
            params = [params]
        if isinstance(params, torch.nn.Module):
            raise _validation.type_error(owner, "build", "an iterable of parameters", f"a {type(params).__name__}",
                                         "Pass model.parameters() (or model.named_parameters()).")
        tensors, names = [], []
        for item in params:
            if isinstance(item, dict):
                raise _validation.type_error(owner, "build", "parameters (tensors or (name, tensor) pairs)",
                                             "a parameter-group dict", "Keras optimizers use one set of "
                                             "hyperparameters for all parameters; pass the tensors.")
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                item = item[1]
            if not isinstance(item, torch.Tensor) or not item.is_floating_point():
                raise _validation.type_error(owner, "build", "floating-point tensors",
                                             f"{type(item).__name__}" + (f" of dtype {item.dtype}" if isinstance(
                                                 item, torch.Tensor) else ""),
                                             "Pass model.parameters().")
            tensors.append(item)
        if names and len(names) != len(tensors):
            raise _validation.value_error(owner, "build", "all parameters named or none",
                                          f"{len(names)} names for {len(tensors)} parameters")
        if len({id(t) for t in tensors}) != len(tensors):
            raise _validation.value_error(owner, "build", "each parameter once", "a list with duplicates",
                                          "Remove the repeated parameters (shared weights appear once).")
        if self.built:
            current = self._parameters()
            if len(current) == len(tensors) and all(a is b for a, b in zip(current, tensors)):
                return
            raise _validation.value_error(owner, "build", f"the {len(current)} parameters it was built with",
                                          f"a different list of {len(tensors)} parameters",
                                          f"An optimizer is tied to its parameters; create a new {owner} for "
                                          "new parameters.")
        group: dict[str, Any] = {"params": tensors}
        if names:
            group["param_names"] = names
        self.add_param_group(group)
        for p in tensors:
            self._init_state(p)
        self._build_globals(tensors)
        self.built = True

    def _slot_names(self) -> list[str]:
        """Per-parameter state tensors of the update rule, named as Keras names its variables."""
        return []

    def _slot_initial_value(self, slot: str) -> float:
        return 0.0

    def _all_slot_names(self) -> list[str]:
        names = list(self._slot_names())
        if self.use_ema:
            names.append("average")
        if self.gradient_accumulation_steps:
            names.append("gradient_accumulator")
        return names

    def _init_state(self, p: torch.Tensor) -> None:
        state = self.state[p]
        for slot in self._all_slot_names():
            state[slot] = torch.full_like(p, self._slot_initial_value(slot), memory_format=torch.preserve_format)

    def _build_globals(self, params: list[torch.Tensor]) -> None:
        """Create optimizer-wide state that depends on the parameters (Nadam's ``u_product``)."""

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise _validation.value_error(type(self).__name__, what, "a built optimizer", "an unbuilt one",
                                          "Call optimizer.build(model.parameters()) first, or pass params=... "
                                          "to the constructor.")

    # -- applying gradients ----------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure=None):
        """Apply ``p.grad`` of the bound parameters (parameters whose grad is None are skipped)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self._require_built("step()")
        params = self._parameters()
        self._apply([p.grad for p in params], params)
        return loss

    def apply(self, grads: Iterable[Any], trainable_variables: Iterable[torch.Tensor] | None = None) -> None:
        """Keras's ``apply``: gradients matching `trainable_variables` (or the bound parameters)."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            self._require_built("apply()")
            params = self._parameters()
        else:
            params = list(trainable_variables)
            if not self.built:
                self.build(params)
            known = {id(p) for p in self._parameters()}
            if any(id(p) not in known for p in params):
                raise _validation.value_error(type(self).__name__, "apply()", "the parameters it was built with",
                                              "an unknown parameter", "Create a new optimizer for new parameters.")
        if len(grads) != len(params):
            raise _validation.value_error(type(self).__name__, "apply()", f"{len(params)} gradients (one per "
                                          "parameter)", f"{len(grads)} gradients")
        with torch.no_grad():
            self._apply([g if g is None or torch.is_tensor(g) else torch.as_tensor(g, device=p.device)
                         for g, p in zip(grads, params)], params)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, torch.Tensor]]) -> int:
        """Keras's ``apply_gradients([(grad, var), ...])``; returns `iterations`."""
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs)
            self.apply(grads, variables)
        return self.iterations

    def _apply(self, grads: list[torch.Tensor | None], params: list[torch.Tensor]) -> None:
        owner = type(self).__name__
        missing = [i for i, g in enumerate(grads) if g is None]
        if len(missing) == len(grads):
            raise _validation.value_error(owner, "step()", "gradients for the parameters",
                                          "no gradient for any parameter (every p.grad is None)",
                                          "Call loss.backward() before optimizer.step().")
        if missing and not self._warned_missing:
            names = self._parameter_names()
            listed = [names.get(id(params[i]), f"#{i}") for i in missing]
            warnings.warn(f"{owner}: no gradients for parameters {listed}; they are not updated.", stacklevel=3)
            self._warned_missing = True
        pairs = [(g, p) for g, p in zip(grads, params) if g is not None]
        for g, _ in pairs:
            if g.is_sparse:
                raise _validation.type_error(owner, "step()", "dense gradients", "a sparse gradient",
                                             "Use dense embeddings/gradients.")
        grads, params = [g for g, _ in pairs], [p for _, p in pairs]
        for p in params:
            if not self.state[p]:
                self._init_state(p)
        if self.loss_scale_factor is not None:
            grads = [g / self.loss_scale_factor for g in grads]
        lr = self.current_learning_rate
        steps = self.gradient_accumulation_steps
        if steps:
            if (self._iterations + 1) % steps == 0:
                grads = [(g + self.state[p]["gradient_accumulator"]) / steps for g, p in zip(grads, params)]
                self._update(grads, params, lr)
                for p in self._parameters():
                    self.state[p]["gradient_accumulator"].zero_()
            else:
                for g, p in zip(grads, params):
                    self.state[p]["gradient_accumulator"].add_(g)
        else:
            self._update(grads, params, lr)
        if self.use_ema:
            self._update_moving_average()
        self._iterations += 1

    def _update(self, grads: list[torch.Tensor], params: list[torch.Tensor], lr: float) -> None:
        grads = self._clip_gradients(grads)
        self._apply_weight_decay(params, lr)
        self._backend_update_step(grads, params, lr)

    def _backend_update_step(self, grads: list[torch.Tensor], params: list[torch.Tensor], lr: float) -> None:
        if flat_update.applies(self, grads, params):
            flat_update.step(self, grads, params, lr, _np_dtype(params[0].dtype))
            return
        constants: dict[torch.dtype, dict] = {}
        for g, p in zip(grads, params):
            if p.dtype not in constants:
                constants[p.dtype] = self._step_constants(_np_dtype(p.dtype), lr)
            self.update_step(g.to(p.dtype), p, self.state[p], constants[p.dtype])

    def _step_constants(self, f: type, lr: float) -> dict:
        """Scalars shared by every parameter of one dtype this step, computed as Keras does (Python floats)."""
        return {"lr": lr}

    def update_step(self, gradient: torch.Tensor, variable: torch.Tensor, state: dict, c: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_step().")

    # -- clipping, weight decay, EMA --------------------------------------------------------------
    def _clip_gradients(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        if self.clipnorm:
            return [self._clip_by_norm(g) for g in grads]
        if self.global_clipnorm:
            return _clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            return [torch.clamp(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    def _clip_by_norm(self, g: torch.Tensor) -> torch.Tensor:
        l2sum = (g * g).sum()
        positive = l2sum > 0
        l2norm = torch.where(positive, _sqrt(torch.where(positive, l2sum, torch.ones_like(l2sum))), l2sum)
        return (g * self.clipnorm) / torch.clamp_min(l2norm, self.clipnorm)

    def exclude_from_weight_decay(self, var_list: Iterable[torch.Tensor] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Skip weight decay for these parameters, or for parameters whose name contains one of
        `var_names` (names come from building with `named_parameters()`)."""
        self._exclude_ids = {id(v) for v in (var_list or ())}
        var_names = list(var_names or ())
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, p: torch.Tensor, names: dict[int, str]) -> bool:
        if id(p) in self._exclude_ids:
            return False
        name = names.get(id(p))
        return not (self._exclude_pattern is not None and name is not None and self._exclude_pattern.search(name))

    def _apply_weight_decay(self, params: list[torch.Tensor], lr: float) -> None:
        if self.weight_decay is None:
            return
        names = self._parameter_names() if self._exclude_pattern is not None else {}
        for p in params:
            if self._use_weight_decay(p, names):
                p.sub_(p * self.weight_decay * lr)

    def _update_moving_average(self) -> None:
        overwrite = bool(self.ema_overwrite_frequency) and (self.iterations + 1) % self.ema_overwrite_frequency == 0
        for p in self._parameters():
            f = _np_dtype(p.dtype)
            momentum = f(self.iterations != 0) * f(self.ema_momentum)
            average = self.state[p]["average"]
            average.mul_(float(momentum)).add_(p * float(f(1) - momentum))
            if overwrite:
                p.copy_(average)

    @torch.no_grad()
    def finalize_variable_values(self, var_list: Iterable[torch.Tensor] | None = None) -> None:
        """With `use_ema`, copy the moving averages into the weights (Keras does this at the end of fit)."""
        if not self.use_ema:
            return
        self._require_built("finalize_variable_values()")
        for p in (self._parameters() if var_list is None else var_list):
            state = self.state.get(p)
            if not state or "average" not in state:
                raise _validation.value_error(type(self).__name__, "finalize_variable_values()",
                                              "parameters this optimizer was built with", "an unknown parameter")
            p.copy_(state["average"])

    def scale_loss(self, loss: Any) -> Any:
        """Multiply the loss by `loss_scale_factor` (if set) before computing gradients."""
        return loss * self.loss_scale_factor if self.loss_scale_factor is not None else loss

    # -- state -----------------------------------------------------------------------------------
    def _global_state(self) -> dict:
        lr = self._learning_rate
        return {"iterations": self._iterations, "learning_rate": lr if isinstance(lr, float) else None}

    def _load_global_state(self, state: dict) -> None:
        iterations = state.get("iterations")
        if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) or iterations < 0:
            raise _validation.value_error(type(self).__name__, "load_state_dict()", "an integer `iterations` >= 0",
                                          repr(iterations))
        self._iterations = int(iterations)
        lr = state.get("learning_rate")
        if lr is not None and not isinstance(self._learning_rate, LearningRateSchedule) and not callable(
                self._learning_rate):
            self._learning_rate = self._check_learning_rate(lr)

    def state_dict(self) -> dict:
        """torch's state dict plus ``"keras"``: the optimizer-wide values (``iterations``, ``learning_rate``
        when it is a float, Nadam's ``u_product``) as plain Python numbers.

        ``"state"`` maps each parameter index to tensors named like Keras's slot variables; everything
        else is JSON-serializable. As in torch, the tensors are references: copy before further steps.
        """
        state = super().state_dict()
        state["keras"] = self._global_state()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a `state_dict()` (tensors may come back on another device; keys may be strings)."""
        owner = type(self).__name__
        self._require_built("load_state_dict()")
        state_dict = dict(state_dict)
        globals_ = state_dict.pop("keras", None)
        if not isinstance(globals_, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise _validation.value_error(owner, "load_state_dict()", 'a dict from optimizer.state_dict() (keys '
                                          '"state", "param_groups", "keras")', f"keys {sorted(state_dict)}")
        per_param = {int(k) if isinstance(k, str) and k.isdigit() else k: v for k, v in state_dict["state"].items()}
        expected = set(self._all_slot_names())
        n = len(self._parameters())
        if set(per_param) != set(range(n)) and expected:
            raise _validation.value_error(owner, "load_state_dict()", f"state for parameters 0..{n - 1}",
                                          f"state for {sorted(per_param)}", "Load a state saved from the same "
                                          "optimizer configuration and model.")
        for index, slots in per_param.items():
            if set(slots) != expected:
                raise _validation.value_error(owner, "load_state_dict()", f"slots {sorted(expected)}",
                                              f"slots {sorted(slots)} for parameter {index}",
                                              "Load a state saved by the same optimizer class and settings.")
        state_dict["state"] = per_param
        super().load_state_dict(state_dict)
        self._load_global_state(globals_)

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's config: the base keys in Keras's order, then the optimizer's own."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules_mod.serialize(lr)
        elif callable(lr):
            raise _validation.type_error(type(self).__name__, "get_config()", "a float or LearningRateSchedule "
                                         "learning rate", f"the callable {lr!r}",
                                         "Use a LearningRateSchedule subclass to make the rate serializable.")
        config = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                  "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                  "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                  "ema_overwrite_frequency": self.ema_overwrite_frequency,
                  "loss_scale_factor": self.loss_scale_factor,
                  "gradient_accumulation_steps": self.gradient_accumulation_steps}
        config.update(self._hyper_config())
        if self.decay:
            config["decay"] = self.decay
        return config

    def _hyper_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        """The optimizer from `get_config()` (a Keras or tf.keras config; a schedule dict is deserialized)."""
        config = {k: v for k, v in config.items() if k not in _IGNORED_CONFIG_KEYS}
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_mod.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        lr = self._learning_rate
        bound = f"{len(self._parameters())} parameters" if self.built else "not built"
        return f"{type(self).__name__}(name={self.name!r}, learning_rate={lr!r}, iterations={self.iterations}, {bound})"


_STEP = Optimizer.step  # before torch wraps subclasses' step with its profiling / hook wrapper
_PLAIN: dict[type, bool] = {}


def plain_step(optimizer: Any) -> bool:
    """Whether ``optimizer`` is an lstmkit optimizer whose ``step`` is the base class's (cached per class)."""
    kind = type(optimizer)
    plain = _PLAIN.get(kind)
    if plain is None:
        plain = _PLAIN[kind] = isinstance(optimizer, Optimizer) and inspect.unwrap(
            kind.step, stop=lambda f: f is _STEP) is _STEP
    return plain


def fast_step(optimizer: Any) -> bool:
    """``optimizer.step()`` without torch's per-call wrapper (profiler range, hook lists), when that
    changes nothing: a built-in lstmkit rule (``step`` not overridden) and no step hooks registered.
    Returns False (nothing done) otherwise; the caller then calls ``optimizer.step()``."""
    plain = plain_step(optimizer)
    hooks = _torch_optimizer
    if not plain or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks or \
            hooks._global_optimizer_pre_hooks or hooks._global_optimizer_post_hooks:
        return False
    _STEP(optimizer)
    return True


def fast_zero_grad(optimizer: Any) -> bool:
    """``optimizer.zero_grad(set_to_none=True)`` without torch's per-call wrappers, for lstmkit rules
    that do not override it; False (nothing done) otherwise."""
    if not isinstance(optimizer, Optimizer) or type(optimizer).zero_grad is not torch.optim.Optimizer.zero_grad:
        return False
    for group in optimizer.param_groups:
        for p in group["params"]:
            p.grad = None
    return True


def _clip_by_global_norm(grads: list[torch.Tensor], clip_norm: float) -> list[torch.Tensor]:
    """Keras's ``clip_by_global_norm``: scale all gradients by ``clip / max(norm, clip)``; NaN if norm is not finite."""
    dtype = grads[0].dtype
    for g in grads[1:]:
        dtype = torch.promote_types(dtype, g.dtype)
    norm = _sqrt(torch.stack([(g * g).sum().to(dtype) for g in grads]).sum())
    scale = clip_norm * torch.minimum(1.0 / norm, torch.full_like(norm, 1.0 / clip_norm)) + (norm - norm)
    return [g * scale for g in grads]


def _beta(owner: str, name: str, value: Any) -> float:
    return _real(owner, name, value, low=0, high=1, high_open=True)


def _epsilon(owner: str, value: Any) -> float:
    """``epsilon``; ``None`` means Keras's backend epsilon 1e-7, as tf.keras 2 read it (``epsilon or 1e-7``)."""
    return 1e-7 if value is None else _real(owner, "epsilon", value, low=0)
