"""Keras's ``compile(jit_compile=True)``: the train and predict steps through ``torch.compile``.

Keras compiles its train step with XLA; here the whole train step (forward, loss, gradients and the
optimizer update: ``trainers.whole_step``) goes through ``torch.compile`` where that graph reproduces the
eager step; otherwise the forward pass and the loss (autograd then compiles the backward) with an eager
update. The forward pass of a predict step is compiled too. The native LSTM/GRU kernel cannot be traced,
so under compilation ``RNN.dispatch`` picks the reference recurrence (its reason says so) and the
compiler unrolls and fuses it; the numbers equal eager ones within float tolerance
(tests/trainers/test_compiled.py). Constraints, metrics and callbacks stay eager.

``jit_compile="auto"`` (the default) runs eagerly: compiling costs seconds to a minute per model
and input shape, which a typical fit on a CPU does not win back; ask for it with ``True``.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import _validation
from .whole_step import WholeStep

CHOICES = (True, False, "auto", None)


def wanted(jit_compile: Any, run_eagerly: Any) -> bool:
    """Whether ``compile(jit_compile=..., run_eagerly=...)`` asks for compiled steps."""
    if not any(jit_compile is c or (isinstance(c, str) and jit_compile == c) for c in CHOICES):
        raise _validation.value_error("compile", "jit_compile", "True, False, 'auto' or None", repr(jit_compile))
    return jit_compile is True and not run_eagerly


class CompiledSteps:
    """The compiled train step (whole, or forward+loss) and predict step of one model."""

    def __init__(self, model: Any):
        self.model = model
        self._train = torch.compile(self._forward_loss)
        self._predict = torch.compile(self._forward)
        self.whole = WholeStep(model)

    def __reduce__(self):  # a copied model gets its own compiled steps (deepcopy maps the model)
        return (CompiledSteps, (self.model,))

    def _forward_loss(self, x: Any, y: Any, sample_weight: Any, batch: int) -> tuple[torch.Tensor, Any]:
        y_pred = self.model(x, training=True)
        return self.model.compute_loss(y, y_pred, sample_weight, count_batch=batch), y_pred

    def _forward(self, x: Any) -> Any:
        return self.model(x, training=False)

    def train_forward(self, x: Any, y: Any, sample_weight: Any, batch: int) -> tuple[torch.Tensor, Any]:
        """``(loss, y_pred)`` of a training step, compiled (gradients flow as in eager mode)."""
        return self._train(x, y, sample_weight, batch)

    def predict(self, x: Any) -> Any:
        return self._predict(x)
