"""Carried states: run a module's recurrent layers from given states and collect their final states.

This is the mechanism under per-stream inference (``models.streams``) and O(1)-per-step stateful
forecasting (``forecast.stateful``): the caller hands every recurrent layer its initial ``(batch, units)``
states for this call and reads back each layer's final states, instead of relying on Keras's
batch-slot memory (``stateful=True``), which it leaves untouched.

Carrying a state from one call to the next is only equal to running the concatenated sequence at once
when every other layer acts on each time step on its own; ``stream_unsupported_reason`` names the first
layer that does not (a backward-reading recurrent layer, a convolution over several steps, a layer that
flattens or repeats the time axis). ``Lambda`` and ``Reshape`` layers are assumed to act step by step.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from ... import _validation
from ..conv import Conv1D
from ..reshaping import Flatten, RepeatVector
from .rnn import RNN
from .wrappers import Bidirectional


class StateCarry:
    """States going into and coming out of the recurrent layers during one forward pass.

    Args:
        initial: ``{layer: [state, ...]}`` with ``(batch, units)`` tensors; a layer missing from it
            starts from zeros.
    """

    def __init__(self, initial: dict[RNN, list[torch.Tensor]] | None = None):
        self.initial = dict(initial or {})
        self.final: dict[RNN, list[torch.Tensor]] = {}

    def begin(self, layer: RNN, x: torch.Tensor) -> list[torch.Tensor]:
        """The initial states of ``layer`` for the input ``x`` of shape ``(batch, timesteps, features)``."""
        if layer in self.final:
            raise _validation.value_error(
                f"{type(layer).__name__} '{layer.name}'", "carried states", "one call per forward pass",
                "a second call (the layer is shared)", "Carried states need each recurrent layer called once.")
        states = self.initial.get(layer)
        if states is None:
            return [torch.zeros(x.shape[0], size, dtype=x.dtype, device=x.device) for size in layer.state_size]
        return layer._check_states([s.to(x.device, x.dtype) for s in states], x.shape[0], "carried states")

    def end(self, layer: RNN, final: list[torch.Tensor]) -> None:
        self.final[layer] = [s.detach() for s in final]


def recurrent_layers(module: nn.Module) -> list[RNN]:
    """The recurrent layers of ``module`` in a fixed order (``named_modules`` order, depth first)."""
    return [m for m in module.modules() if isinstance(m, RNN)]


def stream_unsupported_reason(module: nn.Module) -> str | None:
    """Why carrying states from call to call would not equal one run over the whole sequence (None if it would)."""
    rnns = recurrent_layers(module)
    if not rnns:
        return "it has no recurrent layer, so there is no state to carry"
    for layer in module.modules():
        name = f"{type(layer).__name__} '{getattr(layer, 'name', '')}'"
        if isinstance(layer, Bidirectional) or (isinstance(layer, RNN) and layer.go_backwards):
            return f"{name} reads the sequence backwards, which needs the steps that have not come yet"
        if isinstance(layer, Conv1D) and (layer.kernel_size > 1 or layer.strides > 1):
            return f"{name} mixes {layer.kernel_size} neighbouring steps (kernel_size > 1 or strides > 1)"
        if isinstance(layer, (Flatten, RepeatVector)):
            return f"{name} reshapes the time axis"
    return None


@contextmanager
def carrying_states(module: nn.Module, initial: dict[RNN, list[torch.Tensor]] | None = None,
                    layers: list[RNN] | None = None) -> Iterator[StateCarry]:
    """Within the block, every recurrent layer of ``module`` starts from ``initial`` (zeros where absent)
    and records its final states in the yielded ``StateCarry.final``.

    Raises a ValueError naming the layer when ``stream_unsupported_reason(module)`` is not None.
    ``layers``: ``recurrent_layers(module)`` from a caller that has already checked the module (a
    ``StreamState`` calls this once per chunk and checks once).
    """
    if layers is None:
        reason = stream_unsupported_reason(module)
        if reason is not None:
            raise _validation.value_error(
                type(module).__name__, "carried states (streams / stateful forecasting)",
                "a model whose layers act step by step, apart from forward recurrent layers", reason,
                "Use recursive forecasting (lstmkit.forecast.recursive), which re-runs the window each step.")
        layers = recurrent_layers(module)
    carry = StateCarry(initial)
    for layer in layers:
        layer._carry = carry
    try:
        yield carry
    finally:
        for layer in layers:
            layer._carry = None
