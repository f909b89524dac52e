"""Hand-written backpropagation through time for the LSTM step: with recurrent dropout, and without it
where its C++ loop trains faster than oneDNN's kernel (``plain_training_reason``).

The native kernels cannot multiply the state by a dropout mask inside each step, and the reference
loop pays autograd's bookkeeping on ~35 small ops per step. This path runs the same math (tanh /
sigmoid LSTM, ``ops.recurrence.step``) with autograd off in the forward loop, keeps what the backward
needs, and computes the gradients in one hand-written reverse loop: 7 ops a step plus one matrix
product for the whole recurrent-kernel gradient. Where ``ops.native`` has built its C++ loop, each
step's element-wise work is one fused pass instead (same buffers, same math); these Python loops stay
the fallback and the specification. Tests prove both equal to the reference (outputs and gradients).
``unsupported_reason`` says when this path cannot run, ``native.unavailable_reason`` when the C++ loop
cannot.

Without recurrent dropout the mask is all ones, and the C++ loop (each thread a block of rows through
every step, ``ops/csrc/lstm_bptt.cpp``) trains faster than oneDNN's LSTM at the batch sizes forecasting
trains with. Forward + backward of one layer, float32, 2 threads, as a ratio to the same layer on oneDNN
(medians of 5 interleaved rounds, inside ``reuse_buffers()``):
    batch 64 x 13 steps, LSTM(128) / LSTM(64): 0.75x / 0.70x      batch 32 x 50, LSTM(32): 0.54x
    batch 16 x 100, LSTM(128): 0.75x      batch 1024 x 20, LSTM(64): 1.00x (not taken)
    batch 128 x 30, LSTM(256): 1.05x (not taken: its 1 MiB recurrent kernel leaves the cache)
    batch 256 x 80, LSTM(128) / LSTM(64): 0.79x-0.83x / 0.85x-0.87x alone, but W3's whole
    train_on_batch step (4 Bidirectional layers of these) ran 0.750-0.762 s against 0.714-0.751 s on
    oneDNN, one variant per process: not taken beyond batch x units = 8192.
Whole epochs (benchmarks/run.py, one run): W1 (batch 64, LSTM(128)) 0.94x raw torch against 1.07x on
oneDNN; W4 (batch 1, LSTM(4)) ``fit`` 0.72x against 0.90x-0.96x before.
"""

from __future__ import annotations

import torch

from . import activations, native, recurrence
from .recurrence import CellMath


def unsupported_reason(math: CellMath, mask: torch.Tensor | None) -> str | None:
    """Why this path cannot run a call (None when it can)."""
    if math.kind != "lstm":
        return f"{math.kind}: the hand-written backward covers the LSTM step only"
    if math.activation is not activations.tanh or math.recurrent_activation is not activations.sigmoid:
        return "non-standard activations: the hand-written backward assumes tanh and sigmoid"
    if mask is not None:
        return "a mask: the hand-written backward does not carry states over masked steps"
    if torch._C._are_functorch_transforms_active():
        return "a torch.func transform (grad, vmap): the hand-written backward has no rule for it"
    return None


MAX_RECURRENT_KERNEL_BYTES = 256 * 1024  # float32 LSTM(128): beyond, oneDNN trains faster (measured above)
MAX_BATCH_UNITS = 8192  # batch x units, e.g. 64 x LSTM(128): beyond, no faster than oneDNN (measured above)


def plain_training_reason(math: CellMath, x: torch.Tensor, kernel: torch.Tensor, recurrent_kernel: torch.Tensor,
                          bias: torch.Tensor | None) -> str | None:
    """Why an unmasked call without recurrent dropout, which the native kernel could run, stays on it
    instead of this path's C++ loop; None when the loop runs it (measured faster, module docstring)."""
    reason = unsupported_reason(math, None)
    if reason is not None:
        return reason
    tensors = (x, kernel, recurrent_kernel) if bias is None else (x, kernel, recurrent_kernel, bias)
    if not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors)):
        return "no gradient is recorded: the inference paths are faster"
    if x.numel() == 0:
        return "an empty input: the native kernel's checks and shapes apply"
    if torch.is_autocast_enabled(x.device.type):
        return "autocast: oneDNN's kernel computes in the autocast dtype"
    if x.dtype != torch.float32:
        return f"{x.dtype}: the C++ loop was measured against oneDNN in float32 only"
    if torch.backends.cpu.get_cpu_capability() != "AVX512":
        return "the C++ loop was measured against oneDNN on AVX-512 CPUs only"
    units = recurrent_kernel.shape[0]
    if recurrent_kernel.numel() * recurrent_kernel.element_size() > MAX_RECURRENT_KERNEL_BYTES:
        return (f"units={units}: the recurrent kernel exceeds {MAX_RECURRENT_KERNEL_BYTES // 1024} KiB, "
                "where oneDNN trains faster (measured)")
    if x.shape[0] * units > MAX_BATCH_UNITS:
        return (f"batch {x.shape[0]} x units {units} > {MAX_BATCH_UNITS}: oneDNN's training kernel is as fast "
                "there (measured)")
    return native.unavailable_reason(*tensors)


class _LSTMRecurrence(torch.autograd.Function):
    """``(xp (T,B,4u), h0, c0, recurrent_kernel (u,4u), recurrent_mask (B,u)) -> (H (T,B,u), h_T, c_T)``.

    Time-major throughout, so that every per-step slice is contiguous.
    """

    @staticmethod
    def forward(ctx, xp, h0, c0, recurrent_kernel, recurrent_mask):
        dense = xp.contiguous()
        if native.unavailable_reason(dense, h0, c0, recurrent_kernel, recurrent_mask) is None:
            act, cells, tanh_cells, dropped, outputs = native.ops().bptt_forward(
                dense, h0.contiguous(), c0.contiguous(), recurrent_kernel.contiguous(), recurrent_mask.contiguous())
        else:
            act, cells, tanh_cells, dropped, outputs = _forward_loop(dense, h0, c0, recurrent_kernel, recurrent_mask)
        # the inputs too, for a backward that is itself differentiated (see backward): this keeps xp
        # (T, B, 4u) alive until the backward, which autograd would otherwise free after the forward
        ctx.save_for_backward(act, cells, tanh_cells, dropped, recurrent_kernel, recurrent_mask, xp, h0, c0)
        return outputs, outputs[-1].clone(), cells[-1].clone()

    @staticmethod
    def backward(ctx, d_outputs, d_h_last, d_c_last):
        act, cells, tanh_cells, dropped, recurrent_kernel, recurrent_mask, xp, h0, c0 = ctx.saved_tensors
        if torch.is_grad_enabled():  # backward(create_graph=True): differentiable to any order
            return _differentiable_backward(ctx, (xp, h0, c0, recurrent_kernel), recurrent_mask,
                                            (d_outputs, d_h_last, d_c_last))
        u = recurrent_kernel.shape[0]
        d_out = None if d_outputs is None else d_outputs.contiguous()  # (T, B, u)
        d_h_last = torch.zeros_like(cells[0]) if d_h_last is None else d_h_last.contiguous()
        d_c_last = torch.zeros_like(cells[0]) if d_c_last is None else d_c_last.contiguous()
        given = [t for t in (d_out, d_h_last, d_c_last) if t is not None]
        if native.unavailable_reason(act, *given, recurrent_kernel, recurrent_mask) is None:
            d_act, dh, dc = native.ops().bptt_backward(d_out, d_h_last, d_c_last, act, cells, tanh_cells,
                                                       recurrent_kernel.contiguous(), recurrent_mask.contiguous())
        else:
            d_act, dh, dc = _backward_loop(d_out, d_h_last, d_c_last, act, cells, tanh_cells,
                                           recurrent_kernel, recurrent_mask)
        d_kernel = dropped.reshape(-1, u).t() @ d_act.reshape(-1, 4 * u)
        return d_act, dh, dc, d_kernel, None


def _differentiable_backward(ctx, inputs, recurrent_mask, output_grads):
    """The gradients of ``(xp, h0, c0, recurrent_kernel)`` as a graph autograd can differentiate again: the
    forward recomputed by the reference recurrence (``ops.recurrence``, the specification) from the saved
    inputs, then ``autograd.grad`` with ``create_graph=True``. Only a backward that is itself
    differentiated (gradient penalties, Hessian-vector products) pays the recomputation."""
    with torch.enable_grad():
        # aliases, so that inputs passed twice (initial_state=[s, s]) each get their own share
        inputs = [t.view_as(t) for t in inputs]
        wanted = [t for t, needed in zip(inputs, ctx.needs_input_grad) if needed]
        xp, h0, c0, recurrent_kernel = inputs
        math = CellMath("lstm", h0.shape[1], activations.tanh, activations.sigmoid)  # all this path runs
        step = recurrence.cell_step(math, recurrent_kernel, None, recurrent_mask)
        outputs, (h, c) = recurrence.run(step, xp.transpose(0, 1), [h0, c0])
        pairs = [(y, dy) for y, dy in zip((outputs.transpose(0, 1), h, c), output_grads) if dy is not None]
        grads = iter(torch.autograd.grad([y for y, _ in pairs], wanted, [dy for _, dy in pairs],
                                         create_graph=True, allow_unused=True) if wanted else ())
    return (*(next(grads) if needed else None for needed in ctx.needs_input_grad[:4]), None)


def _forward_loop(xp, h0, c0, recurrent_kernel, recurrent_mask):
    """The forward in PyTorch ops: ``xp (T,B,4u)`` -> ``(act, cells (T+1,B,u), tanh_cells, dropped, outputs)``.

    ``act`` holds [i, f, g, o] after their activations, ``dropped`` h_{t-1} * recurrent_mask.
    """
    steps, (batch, u) = xp.shape[0], h0.shape
    act = torch.empty_like(xp)
    cells = xp.new_empty(steps + 1, batch, u)  # c_0 ... c_T
    tanh_cells = xp.new_empty(steps, batch, u)
    dropped = xp.new_empty(steps, batch, u)
    outputs = xp.new_empty(steps, batch, u)
    cells[0] = c0
    h = h0
    # Per-step views made once: at these sizes, indexing inside the loop costs more than the math.
    views = zip(xp.unbind(0), act.unbind(0), cells[:-1].unbind(0), cells[1:].unbind(0),
                tanh_cells.unbind(0), dropped.unbind(0), outputs.unbind(0))
    for xp_t, a, c_prev, c_next, tc, hd, out in views:
        i, f, g, o = a.split(u, dim=1)
        torch.mul(h, recurrent_mask, out=hd)
        z = torch.addmm(xp_t, hd, recurrent_kernel)
        torch.sigmoid(z, out=a)
        torch.tanh(z[:, 2 * u:3 * u], out=g)
        torch.addcmul(f * c_prev, i, g, out=c_next)
        torch.tanh(c_next, out=tc)
        h = torch.mul(o, tc, out=out)
    return act, cells, tanh_cells, dropped, outputs


def _backward_loop(d_out, d_h_last, d_c_last, act, cells, tanh_cells, recurrent_kernel, recurrent_mask):
    """The backward in PyTorch ops: ``d_out (T,B,u)`` or None -> ``(d_act (T,B,4u), dh_0, dc_0)``."""
    steps, batch, four_u = act.shape
    u = four_u // 4
    i, f, g, o = act.split(u, dim=2)
    # Everything that does not depend on the running gradients, for all steps at once:
    # dz_o = dh * tanh(c) * o(1-o);  dz_[i,f,g] = dc * [g i(1-i), c_prev f(1-f), i (1-g^2)];
    # dc += dh * o (1 - tanh(c)^2).
    to_dz_o = tanh_cells * o * (1 - o)
    to_dz_ifg = torch.stack([g * i * (1 - i), cells[:-1] * f * (1 - f), i * (1 - g * g)], dim=2)
    to_dc = o * (1 - tanh_cells * tanh_cells)
    if d_out is None:
        d_out = act.new_zeros(steps, batch, u)
    d_act = torch.empty_like(act)  # d z, the pre-activation gradients
    dh = d_out[-1] + d_h_last
    dc = d_c_last
    rk_t = recurrent_kernel.t()
    views = list(zip(d_act.unbind(0), to_dz_o.unbind(0), to_dz_ifg.unbind(0), to_dc.unbind(0),
                     f.unbind(0), d_out.unbind(0)))
    for t in range(steps - 1, -1, -1):
        dz, k_o, k_ifg, k_c, f_t, _ = views[t]
        dc = torch.addcmul(dc, dh, k_c)
        torch.mul(dh, k_o, out=dz[:, 3 * u:])
        torch.mul(dc.unsqueeze(1), k_ifg, out=dz[:, :3 * u].view(batch, 3, u))
        dh_prev = dz @ rk_t
        dh = torch.addcmul(views[t - 1][5], dh_prev, recurrent_mask) if t > 0 else dh_prev * recurrent_mask
        dc = dc * f_t
    return d_act, dh, dc


def run(math: CellMath, x: torch.Tensor, states: list[torch.Tensor], kernel: torch.Tensor,
        input_bias: torch.Tensor | None, recurrent_kernel: torch.Tensor, recurrent_mask: torch.Tensor | None,
        go_backwards: bool = False):
    """Same contract as ``recurrence.run`` for an unmasked LSTM, from the raw inputs ``x (B,T,F)``:
    ``(outputs (B,T,u), [h, c])``. ``recurrent_mask`` None: no recurrent dropout.

    The inputs are projected straight into the time-major ``(T, B, 4u)`` buffer the loop reads (one
    ``addmm`` with the bias), so neither the projection nor its gradient is ever transposed or copied.
    """
    x = x.transpose(0, 1)  # (T, B, F), a view
    if go_backwards:
        x = x.flip(0)  # outputs come back in processing (reversed) order, as Keras returns them
    if math.implementation == 1 or input_bias is None or not x.dtype == kernel.dtype == input_bias.dtype:
        xp = recurrence.project_inputs(math, x, kernel, input_bias).contiguous()  # also mixed precision
    else:
        xp = torch.addmm(input_bias, x.reshape(-1, x.shape[2]), kernel).view(x.shape[0], x.shape[1],
                                                                              kernel.shape[1])
    if recurrent_mask is None:
        recurrent_mask = torch.ones_like(states[0])
    outputs, h, c = _LSTMRecurrence.apply(xp, states[0], states[1], recurrent_kernel, recurrent_mask)
    return outputs.transpose(0, 1), [h, c]
