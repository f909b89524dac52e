"""Recurrent layers as graphs with a dynamic time axis, for ``models.export``.

Tracing lstmkit's own loop would unroll it to the traced length, so during an export every ``RNN``
layer computes through one of two expressions that keep time dynamic:

- ``onnx``: one ONNX ``LSTM`` / ``GRU`` / ``RNN`` node (a ``torch.autograd.Function`` whose ``symbolic``
  emits it for the TorchScript-based ``torch.onnx.export``). Keras's weights are rearranged into ONNX's
  layout: LSTM gates ``i, f, c, o`` -> ``i, o, f, c``; GRU ``z, r, h`` is ONNX's order already;
  ``reset_after=True`` is ``linear_before_reset=1`` with the two bias rows as ``Wb`` and ``Rb``;
  Keras's single LSTM / SimpleRNN bias is ``Wb`` with ``Rb = 0``. Activations map to ONNX's list
  (``hard_sigmoid`` is ``HardSigmoid(alpha=1/6, beta=0.5)``, ``linear`` is ``Affine(1, 0)``). A mask
  becomes ``sequence_lens``; rows whose mask is not right-padded (``1…1 0…0``) come out as NaN, since
  ONNX's recurrent ops cannot skip steps in the middle (a wrong number would be silent).
- ``torch``: Keras's step math (``ops.recurrence.step``) inside ``torch.scan``, which ``torch.export``
  keeps as one loop over a dynamic number of steps; any activation and any mask.

``onnx_unsupported_reason`` is the one place that says why a layer cannot be exported to ONNX.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import torch

from .._validation import InputError
from ..layers.rnn.cell import RecurrentCell
from ..ops import activations, recurrence

# lstmkit activation -> (ONNX activation name, alpha, beta); None where ONNX's operator takes no parameter
_ONNX_ACTIVATIONS: dict[Callable, tuple[str, float | None, float | None]] = {
    activations.sigmoid: ("Sigmoid", None, None),
    activations.tanh: ("Tanh", None, None),
    activations.relu: ("Relu", None, None),
    activations.linear: ("Affine", 1.0, 0.0),
    activations.hard_sigmoid: ("HardSigmoid", 1.0 / 6.0, 0.5),
    activations.hard_sigmoid_keras2: ("HardSigmoid", 0.2, 0.5),
    activations.leaky_relu: ("LeakyRelu", 0.2, None),
    activations.elu: ("Elu", 1.0, None),
    activations.softsign: ("Softsign", None, None),
    activations.softplus: ("Softplus", None, None),
}
_OP = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "RNN"}


def onnx_unsupported_reason(layer: Any) -> str | None:
    """Why ``layer`` (an ``RNN``) cannot become an ONNX recurrent node; None when it can."""
    cell = layer.cell
    if not isinstance(cell, RecurrentCell):
        return (f"its cell {type(cell).__name__} is user Python code, which no ONNX recurrent operator "
                "expresses (built-in LSTMCell, GRUCell and SimpleRNNCell export)")
    used = [("activation", cell.activation)]
    if cell.kind != "simple_rnn":
        used.append(("recurrent_activation", cell.recurrent_activation))
    for argument, fn in used:
        if fn not in _ONNX_ACTIVATIONS:
            return (f"{argument}={activations.serialize(fn)!r}: ONNX's {_OP[cell.kind]} operator computes only "
                    "Sigmoid, Tanh, Relu, Affine (linear), HardSigmoid, LeakyRelu, Elu, Softsign, Softplus")
    return None


def _activation_attributes(fns: list[Callable]) -> dict:
    """ONNX's activations with their alpha / beta lists (consumed in order by the activations that take them)."""
    names, alphas, betas = [], [], []
    for fn in fns:
        name, alpha, beta = _ONNX_ACTIVATIONS[fn]
        names.append(name)
        if alpha is not None:
            alphas.append(alpha)
        if beta is not None:
            betas.append(beta)
    attributes: dict[str, Any] = {"activations_s": names}
    if alphas:
        attributes["activation_alpha_f"] = alphas
    if betas:
        attributes["activation_beta_f"] = betas
    return attributes


def onnx_weights(cell: RecurrentCell) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keras-layout weights -> ONNX's ``W (1, G·u, features)``, ``R (1, G·u, u)``, ``B (1, 2·G·u)``."""
    u, gates = cell.units, cell.gates
    w, r = cell.kernel.t(), cell.recurrent_kernel.t()
    if cell.bias is None:
        wb = rb = torch.zeros(gates * u, dtype=w.dtype, device=w.device)
    elif cell.kind == "gru" and cell.reset_after:
        wb, rb = cell.bias[0], cell.bias[1]
    else:
        wb, rb = cell.bias, torch.zeros_like(cell.bias)
    if cell.kind == "lstm":  # Keras i, f, c, o -> ONNX i, o, f, c
        order = lambda t: torch.cat([t.chunk(4, 0)[i] for i in (0, 3, 1, 2)], dim=0)  # noqa: E731
        w, r, wb, rb = order(w), order(r), order(wb), order(rb)
    return w.unsqueeze(0), r.unsqueeze(0), torch.cat([wb, rb]).unsqueeze(0)


class _OnnxRecurrence(torch.autograd.Function):
    """One ONNX recurrent node. ``forward`` returns ONNX's outputs, computed by lstmkit's reference
    (``pending``, set just before ``apply``: the tracer takes only tensors and plain values as arguments);
    ``symbolic`` emits the node from ``spec``, a JSON string of the operator and its attributes."""

    pending: Callable | None = None

    @staticmethod
    def forward(ctx, x, w, r, b, lengths, h0, c0, spec):  # noqa: ARG004
        reference, _OnnxRecurrence.pending = _OnnxRecurrence.pending, None
        tracing = torch._C._get_tracing_state()  # the values only: the node itself is ``symbolic``
        torch._C._set_tracing_state(None)
        try:
            return reference()
        finally:
            torch._C._set_tracing_state(tracing)

    @staticmethod
    def symbolic(g, x, w, r, b, lengths, h0, c0, spec):
        spec = json.loads(spec)
        op = spec.pop("op")
        inputs = [x, w, r, b, lengths, h0] + ([c0] if op == "LSTM" else [])
        return tuple(g.op(op, *inputs, outputs=3 if op == "LSTM" else 2, **spec))


def _lengths(mask: torch.Tensor | None, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(lengths (batch,) int32, right_padded (batch,) bool or None)`` of a mask (full length without)."""
    if mask is None:
        ones = torch.ones_like(x[:, :, 0], dtype=torch.int32)
        return ones.sum(dim=1, dtype=torch.int32), None
    lengths = mask.sum(dim=1, dtype=torch.int32)
    steps = torch.ones_like(mask, dtype=torch.int64).cumsum(dim=1) - 1  # 0..T-1, traced with T dynamic
    right_padded = (steps < lengths.unsqueeze(1)).eq(mask).all(dim=1)
    return lengths, right_padded


def recur_onnx(layer: Any, x: torch.Tensor, states: list[torch.Tensor],
               mask: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``RNN._recur`` as one ONNX node: ``(outputs (batch, T, units), final_states)`` in Keras's order."""
    reason = onnx_unsupported_reason(layer)
    if reason is not None:
        raise InputError(f"{type(layer).__name__} '{layer.name}' cannot be exported to ONNX: {reason}.")
    cell = layer.cell
    math = cell.math
    w, r, b = onnx_weights(cell)
    lengths, right_padded = _lengths(mask, x)
    run_lengths = lengths.clamp(min=1)  # a fully masked row: fixed up below (Keras keeps its states)
    h0 = states[0].unsqueeze(0)
    c0 = states[1].unsqueeze(0) if math.kind == "lstm" else h0
    fns = [math.activation] if math.kind == "simple_rnn" else (
        [math.recurrent_activation, math.activation] + ([math.activation] if math.kind == "lstm" else []))
    attributes = dict(op=_OP[math.kind], hidden_size_i=math.units,
                      direction_s="reverse" if layer.go_backwards else "forward", **_activation_attributes(fns))
    if math.kind == "gru":
        attributes["linear_before_reset_i"] = int(math.reset_after)

    def reference() -> tuple[torch.Tensor, ...]:  # ONNX's outputs, computed the lstmkit way (trace values)
        keep = mask
        xp = recurrence.project_inputs(math, x, cell.kernel, cell.input_bias)
        step_fn = recurrence.cell_step(math, cell.recurrent_kernel, cell.recurrent_bias)
        seq = xp.flip(1) if layer.go_backwards and keep is None else xp
        if layer.go_backwards and keep is not None:  # each row's valid part reversed, as ONNX reads it
            t = torch.arange(x.shape[1]).unsqueeze(0)
            source = torch.where(t < run_lengths.unsqueeze(1), run_lengths.unsqueeze(1) - 1 - t, t)
            seq = xp.gather(1, source.unsqueeze(2).expand(-1, -1, xp.shape[2]))
        outputs, final = recurrence.run(step_fn, seq, states, keep, False, True)
        if layer.go_backwards:
            if keep is None:
                outputs = outputs.flip(1)
            else:
                outputs = outputs.gather(1, source.unsqueeze(2).expand(-1, -1, outputs.shape[2]))
        y = outputs.transpose(0, 1).unsqueeze(1)  # (T, 1, batch, units)
        return (y, *[s.unsqueeze(0) for s in final]) if math.kind == "lstm" else (y, final[0].unsqueeze(0))

    _OnnxRecurrence.pending = reference
    result = _OnnxRecurrence.apply(x.transpose(0, 1), w, r, b, run_lengths, h0, c0, json.dumps(attributes))
    y = result[0].squeeze(1).transpose(0, 1)  # (batch, T, units), ONNX: zeros past each row's length
    final = [s.squeeze(0) for s in result[1:]]
    if layer.go_backwards:
        y = y.flip(1)  # Keras: the reversed order; a masked row's padding comes first, as zeros
    elif mask is not None and not layer.zero_output_for_mask:  # masked steps repeat the last output
        t = torch.ones_like(mask, dtype=torch.int64).cumsum(dim=1) - 1
        source = torch.minimum(t, (run_lengths.long() - 1).unsqueeze(1))
        y = y.gather(1, source.unsqueeze(2).expand(-1, -1, y.shape[2]))
    if mask is not None:
        empty = (lengths == 0).unsqueeze(1)
        final = [torch.where(empty, s0, s) for s0, s in zip(states, final)]
        y = torch.where(empty.unsqueeze(2), torch.zeros_like(y), y)
        nan = torch.full_like(y[:1, :1, :1], float("nan"))
        y = torch.where(right_padded.view(-1, 1, 1), y, nan)
        final = [torch.where(right_padded.view(-1, 1), s, nan[0]) for s in final]
    return y, final


def recur_scan(layer: Any, x: torch.Tensor, states: list[torch.Tensor],
               mask: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``RNN._recur`` as one ``scan`` over time (for ``torch.export``): the reference step, any mask."""
    from torch._higher_order_ops.scan import scan

    cell = layer.cell
    if not isinstance(cell, RecurrentCell):
        raise InputError(f"{type(layer).__name__} '{layer.name}' cannot be exported: its cell "
                         f"{type(cell).__name__} is user Python code (built-in cells export).")
    math = cell.math
    xp = recurrence.project_inputs(math, x, cell.kernel, cell.input_bias)
    keep = torch.ones_like(x[:, :, :1], dtype=torch.bool) if mask is None else mask.unsqueeze(2)
    if layer.go_backwards:
        xp, keep = xp.flip(1), keep.flip(1)
    zero_output = layer.zero_output_for_mask
    kernel, recurrent_bias = cell.recurrent_kernel, cell.recurrent_bias

    def step(carry: list[torch.Tensor], inputs: list[torch.Tensor]):
        *old, previous = carry
        xp_t, keep_t = inputs
        out, new = recurrence.step(math, xp_t, old, kernel, recurrent_bias)
        new = [torch.where(keep_t, n, s) for n, s in zip(new, old)]
        out = torch.where(keep_t, out, torch.zeros_like(out) if zero_output else previous)
        return [*new, out], out.clone()

    previous = torch.zeros_like(states[0])
    carry, outputs = scan(step, [*states, previous], [xp.transpose(0, 1), keep.transpose(0, 1)])
    return outputs.transpose(0, 1), list(carry[:-1])
