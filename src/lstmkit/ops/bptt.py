"""Hand-written backpropagation through time for the LSTM step: recurrent dropout, and Bidirectional training.

The native kernels cannot multiply the state by a dropout mask inside each step, and the reference
loop pays autograd's bookkeeping on ~35 small ops per step. This path runs the same math (tanh /
sigmoid LSTM, ``ops.recurrence.step``) with autograd off in the forward loop, keeps what the backward
needs, and computes the gradients in one hand-written reverse loop: 7 ops a step plus one matrix
product for the whole recurrent-kernel gradient. Where ``ops.native`` has built its C++ loop, each
step's element-wise work is one fused pass instead (same buffers, same math); these Python loops stay
the fallback and the specification. Tests prove both equal to the reference (outputs and gradients).

``run_bidirectional`` trains both directions of a ``Bidirectional(LSTM)`` (no mask, no dropout) in the
C++ loop, laid out so that nothing between the matrix products is copied: the projections land in the
buffers the loop overwrites, the outputs in the concatenated layout Bidirectional returns. It beats
oneDNN's bidirectional training on the CPU (``Bidirectional.bptt_unsupported_reason`` gives the
measurements). ``unsupported_reason`` says when this path cannot run, ``native.unavailable_reason`` when
the C++ loop cannot.
"""

from __future__ import annotations

import os

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
    return None


class _LSTMRecurrence(torch.autograd.Function):
    """``(x (T,B,F), kernel (F,4u) or None, bias (4u) or None, h0, c0 (B,u), recurrent_kernel (u,4u),
    recurrent_mask (B,u) or None) -> (H (T,B,u), h_T, c_T)``.

    Time-major throughout, so that every per-step slice is contiguous. The input projection runs inside
    (one ``mm`` into a buffer the recurrence then overwrites with the gate activations in place, the bias
    added in the gate pass: no second (T,B,4u) buffer, no per-step copy), its gradients in the backward.
    ``kernel`` None: ``x`` is the projection already (mixed precision, ``implementation=1``). No mask: no
    recurrent dropout.
    """

    @staticmethod
    def forward(ctx, x, kernel, bias, h0, c0, recurrent_kernel, recurrent_mask):
        steps, batch = x.shape[:2]
        mask = None if recurrent_mask is None else recurrent_mask.contiguous()
        in_cpp = native.unavailable_reason(*_given(x, kernel, bias, h0, c0, recurrent_kernel, mask)) is None
        if kernel is None:
            xp = x.contiguous().clone()  # the caller's projection: overwritten below, so a private copy
            x2d = None
        else:
            x2d = x.reshape(steps * batch, x.shape[2])  # a copy only for a batch-major x (transposed view)
            xp = torch.mm(x2d, kernel).view(steps, batch, kernel.shape[1])  # the bias joins in the loop
        if in_cpp:
            act, cells, tanh_cells, dropped, outputs = native.ops().bptt_forward(
                xp, None if bias is None else bias.contiguous(), h0.contiguous(), c0.contiguous(),
                recurrent_kernel.contiguous(), mask)
        else:
            if bias is not None:
                xp += bias
            act, cells, tanh_cells, dropped, outputs = _forward_loop(xp, h0, c0, recurrent_kernel, mask)
        ctx.save_for_backward(x2d, kernel, act, cells, tanh_cells, dropped, recurrent_kernel, mask)
        ctx.has_bias = bias is not None
        return outputs, outputs[-1].clone(), cells[-1].clone()

    @staticmethod
    def backward(ctx, d_outputs, d_h_last, d_c_last):
        x2d, kernel, act, cells, tanh_cells, dropped, recurrent_kernel, recurrent_mask = ctx.saved_tensors
        u = recurrent_kernel.shape[0]
        d_out = None if d_outputs is None else d_outputs.contiguous()  # (T, B, u)
        d_h_last = torch.zeros_like(cells[0]) if d_h_last is None else d_h_last.contiguous()
        d_c_last = torch.zeros_like(cells[0]) if d_c_last is None else d_c_last.contiguous()
        if torch.is_grad_enabled():  # backward(create_graph=True)
            raise RuntimeError("The LSTM's hand-written backward (lstmkit.ops.bptt) cannot be differentiated "
                               "again (create_graph=True). Build the layer with use_fused=False: its reference "
                               "loop is differentiable to any order.")
        if native.unavailable_reason(*_given(act, d_out, d_h_last, d_c_last, recurrent_kernel, recurrent_mask)) is None:
            d_act, dh, dc = native.ops().bptt_backward(d_out, d_h_last, d_c_last, act, cells, tanh_cells,
                                                       recurrent_kernel.contiguous(), recurrent_mask)
        else:
            d_act, dh, dc = _backward_loop(d_out, d_h_last, d_c_last, act, cells, tanh_cells,
                                           recurrent_kernel, recurrent_mask)
        d_flat = d_act.view(-1, 4 * u)
        d_recurrent = dropped.reshape(-1, u).t() @ d_flat
        if kernel is None:
            return d_act, None, None, dh, dc, d_recurrent, None
        need_x, need_kernel, need_bias = ctx.needs_input_grad[:3]
        d_x = (d_flat @ kernel.t()).view(act.shape[0], act.shape[1], -1) if need_x else None
        d_kernel = x2d.t() @ d_flat if need_kernel else None
        d_bias = d_flat.sum(0) if need_bias and ctx.has_bias else None
        return d_x, d_kernel, d_bias, dh, dc, d_recurrent, None


class _BiLSTMRecurrence(torch.autograd.Function):
    """Both directions of ``Bidirectional(LSTM)`` in one native call (``bptt_bi_forward``):
    ``(x (T,B,F), kernels (F,4u) x2, biases (4u) or None x2, h0, c0 (2,B,u), recurrent kernels (u,4u) x2)
    -> (outputs (T,B,2u) = [h_fw | h_bw] in forward time order, h_T (2,B,u), c_T (2,B,u))``.

    The projections land straight in the buffer the loop overwrites, the outputs straight in the
    concatenated ``[h_fw | h_bw]`` layout Bidirectional returns, and the input gradient of both
    directions accumulates into one tensor: nothing is flipped, concatenated or transposed.
    """

    @staticmethod
    def forward(ctx, x, kernel_fw, kernel_bw, bias_fw, bias_bw, h0, c0, recurrent_fw, recurrent_bw):
        steps, batch = x.shape[:2]
        u = recurrent_fw.shape[0]
        x2d = x.reshape(steps * batch, x.shape[2])
        xp = x2d.new_empty(2, steps * batch, 4 * u)  # each direction's gates contiguous; biases join in the loop
        torch.mm(x2d, kernel_fw, out=xp[0])
        torch.mm(x2d, kernel_bw, out=xp[1])
        bias = None if bias_fw is None else torch.stack([bias_fw, bias_bw])
        recurrent = torch.stack([recurrent_fw, recurrent_bw])
        act, cells, tanh_cells, outputs = native.ops().bptt_bi_forward(
            xp.view(2, steps, batch, 4 * u), bias, h0.contiguous(), c0.contiguous(), recurrent)
        ctx.save_for_backward(x2d, kernel_fw, kernel_bw, h0, act, cells, tanh_cells, outputs, recurrent)
        ctx.has_bias = bias_fw is not None
        final_h = torch.stack([outputs[-1, :, :u], outputs[0, :, u:]])
        final_c = torch.stack([cells[0, -1], cells[1, 0]])
        return outputs, final_h, final_c

    @staticmethod
    def backward(ctx, d_outputs, d_h_last, d_c_last):
        x2d, kernel_fw, kernel_bw, h0, act, cells, tanh_cells, outputs, recurrent = ctx.saved_tensors
        if torch.is_grad_enabled():  # backward(create_graph=True)
            raise RuntimeError("The LSTM's hand-written backward (lstmkit.ops.bptt) cannot be differentiated "
                               "again (create_graph=True). Build the layer with use_fused=False: its reference "
                               "loop is differentiable to any order.")
        _, steps, batch, four_u = act.shape
        u = four_u // 4
        d_out = None if d_outputs is None else d_outputs.contiguous()
        d_h_last = torch.zeros_like(h0) if d_h_last is None else d_h_last.contiguous()
        d_c_last = torch.zeros_like(h0) if d_c_last is None else d_c_last.contiguous()
        d_act, dh, dc = native.ops().bptt_bi_backward(d_out, d_h_last, d_c_last, act, cells, tanh_cells, recurrent)
        d_fw, d_bw = d_act.view(2, steps * batch, 4 * u)
        # The states each direction's products read: forward [h0, h_0 .. h_{T-2}], backward [h_1 .. h_{T-1}, h0].
        rows = (steps - 1) * batch
        d_recurrent_fw = torch.addmm(h0[0].t() @ d_fw[:batch], outputs[:-1, :, :u].reshape(-1, u).t(), d_fw[batch:])
        d_recurrent_bw = torch.addmm(h0[1].t() @ d_bw[rows:], outputs[1:, :, u:].reshape(-1, u).t(), d_bw[:rows])
        need = ctx.needs_input_grad
        d_x = None
        if need[0]:
            d_x = (d_fw @ kernel_fw.t()).addmm_(d_bw, kernel_bw.t()).view(steps, batch, -1)
        d_kernel_fw = x2d.t() @ d_fw if need[1] else None
        d_kernel_bw = x2d.t() @ d_bw if need[2] else None
        d_bias_fw = d_fw.sum(0) if need[3] and ctx.has_bias else None
        d_bias_bw = d_bw.sum(0) if need[4] and ctx.has_bias else None
        return d_x, d_kernel_fw, d_kernel_bw, d_bias_fw, d_bias_bw, dh, dc, d_recurrent_fw, d_recurrent_bw


def _given(*tensors):
    return [t for t in tensors if t is not None]


def _forward_loop(xp, h0, c0, recurrent_kernel, recurrent_mask):
    """The forward in PyTorch ops: ``xp (T,B,4u)`` -> ``(act, cells (T+1,B,u), tanh_cells, dropped, outputs)``.

    ``act`` (``xp``'s own buffer, overwritten) holds [i, f, g, o] after their activations, ``dropped``
    h_{t-1} * recurrent_mask (h_{t-1} without a mask).
    """
    steps, (batch, u) = xp.shape[0], h0.shape
    act = xp
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
        if recurrent_mask is None:
            hd.copy_(h)
        else:
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
        if recurrent_mask is None:
            dh = views[t - 1][5] + dh_prev if t > 0 else dh_prev
        else:
            dh = torch.addcmul(views[t - 1][5], dh_prev, recurrent_mask) if t > 0 else dh_prev * recurrent_mask
        dc = dc * f_t
    return d_act, dh, dc


def run(math: CellMath, x: torch.Tensor, states: list[torch.Tensor], kernel: torch.Tensor,
        input_bias: torch.Tensor | None, recurrent_kernel: torch.Tensor, recurrent_mask: torch.Tensor | None,
        go_backwards: bool = False):
    """Same contract as ``recurrence.run`` for an unmasked LSTM, from the raw inputs ``x (B,T,F)``:
    ``(outputs (B,T,u), [h, c])``.

    The inputs are projected straight into the time-major ``(T, B, 4u)`` buffer the loop reads and
    overwrites (one ``addmm`` with the bias), so the projection is never transposed or copied.
    """
    x = x.transpose(0, 1)  # (T, B, F), a view
    if go_backwards:
        x = x.flip(0)  # outputs come back in processing (reversed) order, as Keras returns them
    if (math.implementation == 1 or x.dtype != kernel.dtype
            or (input_bias is not None and input_bias.dtype != x.dtype)):
        xp = recurrence.project_inputs(math, x, kernel, input_bias)  # also mixed precision
        outputs, h, c = _LSTMRecurrence.apply(xp, None, None, states[0], states[1], recurrent_kernel,
                                              recurrent_mask)
    else:
        outputs, h, c = _LSTMRecurrence.apply(x, kernel, input_bias, states[0], states[1], recurrent_kernel,
                                              recurrent_mask)
    return outputs.transpose(0, 1), [h, c]


def page_reusing_allocator() -> str | None:
    """The allocator setting under which freed memory is reused without fresh page faults, if any: a
    preloaded caching allocator (jemalloc, tcmalloc, mimalloc) or glibc told not to map large blocks.

    oneDNN's LSTM allocates several times more fresh memory per training step than ``run_bidirectional``
    and pays for it in page faults under glibc's default (W3: ~300k faults, 0.6-0.8 CPU-s a step); where
    freed pages are reused its kernel is the faster one (W3 with MALLOC_MMAP_MAX_=0: 0.78 s against 0.91 s).
    """
    preload = os.environ.get("LD_PRELOAD", "")
    for name in ("jemalloc", "tcmalloc", "mimalloc"):
        if name in preload:
            return f"LD_PRELOAD={preload}"
    if os.environ.get("MALLOC_MMAP_MAX_") == "0":
        return "MALLOC_MMAP_MAX_=0"
    return None


def bidirectional_unavailable_reason(math: CellMath, x: torch.Tensor, *tensors: torch.Tensor | None) -> str | None:
    """Why ``run_bidirectional`` cannot run a call (None when it can): the LSTM step, x and every weight
    of one dtype, at least one step, and ``ops.native``'s library built."""
    reason = unsupported_reason(math, None)
    if reason is not None:
        return reason
    if x.shape[1] == 0:
        return "no time steps"
    if any(t is not None and t.dtype != x.dtype for t in tensors):
        return "the inputs and weights differ in dtype (mixed precision)"
    return native.unavailable_reason(x, *(t for t in tensors if t is not None))


def run_bidirectional(x: torch.Tensor, states_fw: list[torch.Tensor], states_bw: list[torch.Tensor],
                      weights_fw: tuple, weights_bw: tuple) -> tuple[torch.Tensor, list[torch.Tensor],
                                                                     list[torch.Tensor]]:
    """A Keras ``Bidirectional(LSTM(u, return_sequences=True))`` with merge_mode="concat" from the raw
    inputs ``x (B,T,F)`` and each direction's ``(kernel, recurrent_kernel, bias)``: ``(outputs (B,T,2u),
    [h, c] forward, [h, c] backward)``, the backward half of ``outputs`` in forward time order."""
    (kernel_fw, recurrent_fw, bias_fw), (kernel_bw, recurrent_bw, bias_bw) = weights_fw, weights_bw
    h0 = torch.stack([states_fw[0], states_bw[0]])
    c0 = torch.stack([states_fw[1], states_bw[1]])
    outputs, h, c = _BiLSTMRecurrence.apply(x.transpose(0, 1), kernel_fw, kernel_bw, bias_fw, bias_bw, h0, c0,
                                            recurrent_fw, recurrent_bw)
    return outputs.transpose(0, 1), [h[0], c[0]], [h[1], c[1]]
