"""Facts about a model found once and reused by every ``fit`` / ``predict`` / ``*_on_batch`` call.

A call on a tiny input (one window, batch 1) costs more in Python bookkeeping than in arithmetic when
each call walks every module to ask "is it stateful?", "which device?", "switch to eval mode". A
``ModelPlan`` holds those answers. It stays valid until the model's structure changes, which torch's
global registration hooks report (a submodule or parameter added anywhere bumps ``STRUCTURE``);
lstmkit's own removals (``Sequential.pop``, ``del layer.attr``) bump it too. Everything that can change
without a registration (train/eval flags, the device after ``.to()``, ``stateful`` flags) is read
from the cached objects at each call, which costs O(number of modules) attribute reads, no walk.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

STRUCTURE = [0]  # bumped whenever any module gains a submodule or a parameter


def bump(*_: Any) -> None:
    """Invalidate every cached plan (called by the registration hooks and by removals)."""
    STRUCTURE[0] += 1


nn.modules.module.register_module_module_registration_hook(lambda *a: bump())
nn.modules.module.register_module_parameter_registration_hook(lambda *a: bump())
nn.modules.module.register_module_buffer_registration_hook(lambda *a: bump())


class ModelPlan:
    """What a model is made of: its modules, recurrent layers, first parameter, declared batch size."""

    __slots__ = ("version", "modules", "custom_train", "rnns", "first_param", "declared_batch", "penalty_layers",
                 "params", "constraint_dicts")

    def __init__(self, model: nn.Module):
        from ..layers.base import Layer
        from ..layers.rnn.rnn import RNN

        self.version = STRUCTURE[0]
        self.modules = list(model.modules())
        # a module whose train() does more than set flags must be switched by train() itself
        self.custom_train = any(type(m).train is not nn.Module.train for m in self.modules)
        self.rnns = [m for m in self.modules if isinstance(m, RNN)]
        # the layers whose weight regularizers / activity penalties ``model.losses`` can gather; None when a
        # layer computes ``losses`` its own way (then only asking it tells)
        layers = [m for m in self.modules if isinstance(m, Layer)]
        self.penalty_layers = layers if all(type(m).losses is Layer.losses for m in layers) else None
        self.params = list(model.parameters())
        self.constraint_dicts = [c for c in (getattr(m, "_constraints", None) for m in self.modules)
                                 if isinstance(c, dict)]  # what constraints.constrained_parameters reads
        self.first_param = self.params[0] if self.params else None
        self.declared_batch = None
        for tensor in getattr(model, "inputs", None) or []:
            if tensor.shape and tensor.shape[0] is not None:
                self.declared_batch = int(tensor.shape[0])
                break
        else:
            for module in self.modules:
                shape = getattr(module, "_batch_input_shape", None)
                if isinstance(module, Layer) and shape is not None and shape[0] is not None:
                    self.declared_batch = int(shape[0])
                    break

    def __reduce__(self):  # copies and pickles of a model rebuild their own plan
        return (_no_plan, ())

    def may_have_penalties(self) -> bool:
        """False when ``model.losses`` is surely empty (no layer has a regularizer or an activity penalty
        now): O(layers) attribute reads instead of building the list."""
        layers = self.penalty_layers
        return layers is None or any(m.__dict__.get("_regularizers") or m.__dict__.get("_activity_losses")
                                     for m in layers)

    @property
    def stateful(self) -> bool:
        return any(m.stateful for m in self.rnns)

    @property
    def device(self) -> torch.device | None:
        return None if self.first_param is None else self.first_param.device


def _no_plan() -> None:
    return None


def plan(model: nn.Module) -> ModelPlan:
    """The model's cached plan, rebuilt when the structure changed since it was made."""
    cached = model.__dict__.get("_lstmkit_plan")
    if cached is None or cached.version != STRUCTURE[0]:
        cached = ModelPlan(model)
        model.__dict__["_lstmkit_plan"] = cached
    return cached


class mode:  # noqa: N801 - used as ``with mode(model, training=...)``, a function in spirit
    """``with mode(model, training)``: ``model.train(training)`` for the block, then every module's own flag
    back (also after an error).

    Only modules whose flag differs are touched; a model already in that mode costs one pass of
    attribute reads. Modules that override ``train()`` get the full ``train()`` calls. A class rather
    than a generator: entered on every ``predict`` / ``*_on_batch`` call, it should cost little.
    """

    __slots__ = ("model", "training", "saved")

    def __init__(self, model: nn.Module, training: bool):
        self.model, self.training, self.saved = model, training, []

    def __enter__(self) -> None:
        found = plan(self.model)
        if found.custom_train:
            self.saved.append((found, [m.training for m in found.modules]))
            self.model.train(self.training)
            return
        changed = [m for m in found.modules if m.training != self.training]
        for module in changed:
            module.__dict__["training"] = self.training
        self.saved.append((found, changed))  # a stack: one instance may be entered again inside its block

    def __exit__(self, *exc: Any) -> None:
        found, saved = self.saved.pop()
        if found.custom_train:
            for module, flag in zip(found.modules, saved):
                if module.training != flag:
                    module.train(flag)
            return
        for module in saved:
            module.__dict__["training"] = not self.training
