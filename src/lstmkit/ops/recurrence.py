"""The reference recurrence: Keras's per-step math, readable, and the specification of every path.

Weights are in Keras's layout: ``kernel (features, G*units)``, ``recurrent_kernel (units, G*units)``,
gate blocks LSTM ``i, f, c, o``; GRU ``z, r, h``. Inputs are projected for all steps at once
(``x @ kernel + bias``, shape ``(batch, timesteps, G*units)``); the time loop then adds the recurrent
term. The fused path (``ops.fused``) is proven equal to these functions by the tests.

Gate equations (``σ`` = recurrent_activation, ``φ`` = activation, ``ĥ`` = h with recurrent dropout):
    LSTM:       i, f, o = σ(xᵢ + ĥUᵢ), σ(x_f + ĥU_f), σ(x_o + ĥU_o);  c' = f·c + i·φ(x_c + ĥU_c);  h' = o·φ(c')
    GRU after:  z, r = σ(x_z + ĥU_z + b_z), σ(x_r + ĥU_r + b_r);  h̃ = φ(x_h + r·(ĥU_h + b_h));  h' = z·h + (1-z)·h̃
    GRU before: z, r as above without recurrent bias;  h̃ = φ(x_h + (r·ĥ)U_h);  h' = z·h + (1-z)·h̃
    SimpleRNN:  h' = φ(x + ĥU)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch

Activation = Callable[[torch.Tensor], torch.Tensor]
States = list[torch.Tensor]


@dataclass(frozen=True)
class CellMath:
    """Everything a step needs besides tensors: the family and its Keras options."""

    kind: str  # "lstm" | "gru" | "simple_rnn"
    units: int
    activation: Activation
    recurrent_activation: Activation | None = None
    reset_after: bool = True
    implementation: int = 2

    @property
    def gates(self) -> int:
        return {"lstm": 4, "gru": 3, "simple_rnn": 1}[self.kind]


def project_inputs(math: CellMath, x: torch.Tensor, kernel: torch.Tensor,
                   input_bias: torch.Tensor | None) -> torch.Tensor:
    """``x @ kernel + bias`` for every step: ``(..., features) -> (..., G*units)``.

    ``implementation=1`` multiplies gate by gate, as Keras's implementation 1 does.
    """
    if math.implementation == 1 and math.gates > 1:
        blocks = [x @ k for k in kernel.chunk(math.gates, dim=1)]
        projected = torch.cat(blocks, dim=-1)
    else:
        projected = x @ kernel
    if input_bias is not None:
        projected = projected + input_bias
    return projected


def _recurrent(math: CellMath, h: torch.Tensor, recurrent_kernel: torch.Tensor) -> torch.Tensor:
    if math.implementation == 1 and math.gates > 1:
        return torch.cat([h @ k for k in recurrent_kernel.chunk(math.gates, dim=1)], dim=-1)
    return h @ recurrent_kernel


def step(math: CellMath, xp: torch.Tensor, states: Sequence[torch.Tensor],
         recurrent_kernel: torch.Tensor, recurrent_bias: torch.Tensor | None = None,
         recurrent_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, States]:
    """One time step. ``xp (batch, G*units)`` is the projected input; returns ``(output, new_states)``."""
    h = states[0]
    hd = h if recurrent_mask is None else h * recurrent_mask
    if math.kind == "lstm":
        c = states[1]
        i, f, g, o = (xp + _recurrent(math, hd, recurrent_kernel)).chunk(4, dim=1)
        sigma, phi = math.recurrent_activation, math.activation
        c_new = sigma(f) * c + sigma(i) * phi(g)
        h_new = sigma(o) * phi(c_new)
        return h_new, [h_new, c_new]
    if math.kind == "gru":
        u = math.units
        x_z, x_r, x_h = xp.chunk(3, dim=1)
        sigma, phi = math.recurrent_activation, math.activation
        if math.reset_after:
            inner = _recurrent(math, hd, recurrent_kernel)
            if recurrent_bias is not None:
                inner = inner + recurrent_bias
            r_z, r_r, r_h = inner.chunk(3, dim=1)
            z, r = sigma(x_z + r_z), sigma(x_r + r_r)
            candidate = phi(x_h + r * r_h)
        else:
            r_z, r_r = (hd @ recurrent_kernel[:, : 2 * u]).chunk(2, dim=1)
            z, r = sigma(x_z + r_z), sigma(x_r + r_r)
            candidate = phi(x_h + (r * hd) @ recurrent_kernel[:, 2 * u:])
        h_new = z * h + (1.0 - z) * candidate
        return h_new, [h_new]
    h_new = math.activation(xp + hd @ recurrent_kernel)
    return h_new, [h_new]


StepFn = Callable[[torch.Tensor, States], tuple[torch.Tensor, States]]


def cell_step(math: CellMath, recurrent_kernel: torch.Tensor, recurrent_bias: torch.Tensor | None = None,
              recurrent_mask: torch.Tensor | None = None) -> StepFn:
    """Bind the weights of a built-in cell: ``(xp_t, states) -> (output, new_states)``."""
    return lambda xp_t, states: step(math, xp_t, states, recurrent_kernel, recurrent_bias, recurrent_mask)


def run(step_fn: StepFn, xp: torch.Tensor, states: Sequence[torch.Tensor],
        mask: torch.Tensor | None = None, go_backwards: bool = False,
        zero_output_for_mask: bool = False) -> tuple[torch.Tensor, States]:
    """The time loop, with Keras's masking and ``go_backwards``.

    Args:
        step_fn: one step, ``(x_t, states) -> (output, new_states)`` (``cell_step`` or a user cell).
        xp: per-step inputs ``(batch, timesteps, ...)``; projected inputs for the built-in cells.
        states: initial states, each ``(batch, units)``.
        mask: optional bool ``(batch, timesteps)``; at a masked step the states are carried over and
            the output repeats the previous output (zeros before the first, or always zeros with
            ``zero_output_for_mask``).
        go_backwards: process the steps in reverse; outputs come back in that reversed order.

    Returns:
        ``(outputs (batch, timesteps, units), final_states)``.
    """
    steps = list(xp.unbind(1))  # unbind, not xp[:, t]: indexing makes backward quadratic
    step_masks = list(mask.unbind(1)) if mask is not None else [None] * len(steps)
    if go_backwards:
        steps.reverse()
        step_masks.reverse()
    states = list(states)
    outputs = []
    previous = None
    for x_t, m_t in zip(steps, step_masks):
        out, new_states = step_fn(x_t, states)
        if m_t is not None:
            keep = m_t.unsqueeze(1)
            states = [torch.where(keep, n, s) for n, s in zip(new_states, states)]
            if previous is None or zero_output_for_mask:
                previous = torch.zeros_like(out)
            out = torch.where(keep, out, previous)
            previous = out
        else:
            states = list(new_states)
        outputs.append(out)
    return torch.stack(outputs, dim=1), states
