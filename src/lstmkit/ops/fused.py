"""The fused path: PyTorch's native LSTM/GRU/RNN kernels (oneDNN on CPU, cuDNN on GPU) on Keras weights.

``unsupported_reason`` is the one dispatch point: it says why the fused path cannot run a configuration
(``None`` when it can): an activation or option the kernel lacks, a dtype it lacks on the device (float16
and bfloat16 on CPU, except an LSTM where oneDNN takes them), or a ``torch.compile`` trace in progress.
``run`` computes exactly what ``ops.recurrence.run`` computes for every configuration
``unsupported_reason`` accepts (in 16 bits, to that precision: its error against the float64 result is
of the reference loop's order in the same dtype); the tests prove it for outputs and gradients.

Weight mapping (views of the Keras-layout parameters on CPU; one contiguous copy on CUDA, see flat_weights):
    LSTM   Keras gates i, f, c, o  = torch gates i, f, g, o:  w_ih = kernel.T, w_hh = recurrent_kernel.T
    GRU    Keras z, r, h (reset_after=True) -> torch r, z, n: gate blocks reordered
    Simple w_ih = kernel.T, w_hh = recurrent_kernel.T
torch adds ``b_ih + b_hh``; Keras has one bias (LSTM, SimpleRNN), so ``b_hh`` is zero.
Weights in another dtype than the input (float32 weights of a mixed policy) are read in the input's dtype,
as Keras reads variables in the compute dtype.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import activations, fused_weights
from .recurrence import CellMath, States

_KERNELS = {"lstm": torch._VF.lstm, "gru": torch._VF.gru}


def right_padded_lengths(mask: torch.Tensor) -> torch.Tensor | None:
    """Lengths ``(batch,)`` if every row of the bool mask is ``1…1 0…0`` with at least one 1, else None."""
    lengths = mask.sum(dim=1)
    steps = torch.arange(mask.shape[1], device=mask.device)
    if bool((lengths == 0).any()) or not bool(torch.equal(steps.unsqueeze(0) < lengths.unsqueeze(1), mask)):
        return None
    return lengths


def unsupported_reason(math: CellMath, dtype: torch.dtype, device: torch.device,
                       recurrent_dropout: bool, mask: torch.Tensor | None) -> str | None:
    """Why the native kernel cannot compute this call exactly as the reference does; None if it can."""
    if math.kind in ("lstm", "gru"):
        if math.activation is not activations.tanh:
            return f"activation={activations.serialize(math.activation)!r}: the native kernel computes tanh"
        if math.recurrent_activation is not activations.sigmoid:
            name = activations.serialize(math.recurrent_activation)
            return f"recurrent_activation={name!r}: the native kernel computes sigmoid"
    if math.kind == "gru" and not math.reset_after:
        return "reset_after=False: the native GRU applies the reset gate after the matrix product"
    if math.kind == "simple_rnn" and math.activation not in (activations.tanh, activations.relu):
        return (f"activation={activations.serialize(math.activation)!r}: "
                "the native RNN kernel computes tanh or relu")
    if recurrent_dropout:
        return "recurrent_dropout in training: the mask multiplies the state inside every step"
    if device.type == "cpu" and dtype not in (torch.float32, torch.float64):
        if math.kind != "lstm":
            name = {"gru": "GRU", "simple_rnn": "RNN"}[math.kind]
            return f"dtype {dtype} on CPU: PyTorch's native {name} has no oneDNN kernel for it (LSTM has)"
        if not _onednn_has(dtype):
            return (f"dtype {dtype} on CPU: the native kernel needs float32 or float64, or a CPU on which "
                    "oneDNN computes it (bfloat16: AVX-512 or AMX; float16: AVX-512-FP16 or AMX-FP16)")
    if torch.compiler.is_compiling():
        return ("compiling: torch.compile cannot trace the native kernel (aten.mkldnn_rnn_layer has no "
                "fake-tensor kernel), so the traced graph holds the reference loop")
    if mask is not None and right_padded_lengths(mask) is None:
        return "the mask is not right-padded (1…1 0…0 with at least one step per row)"
    return None


def _onednn_has(dtype: torch.dtype) -> bool:
    """Whether oneDNN's LSTM takes ``dtype`` on this CPU (16-bit inputs, weights and states, float32
    accumulation; measured 0.57x the float32 training step on AVX-512). Elsewhere PyTorch's 16-bit
    fallback is a per-step loop like the reference, so the reference runs."""
    if not torch.backends.mkldnn.is_available():
        return False
    if dtype == torch.bfloat16:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    if dtype == torch.float16:
        return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())
    return False


def torch_weights(math: CellMath, kernel: torch.Tensor, recurrent_kernel: torch.Tensor,
                  bias: torch.Tensor | None, cache: dict | None = None) -> list[torch.Tensor]:
    """Keras-layout weights -> ``[w_ih, w_hh(, b_ih, b_hh)]`` in torch's layout and gate order."""
    w_ih, w_hh = kernel.t(), recurrent_kernel.t()
    if math.kind == "gru":  # z, r, h -> r, z, n
        order = lambda w: torch.cat([w.chunk(3, 0)[i] for i in (1, 0, 2)], dim=0)  # noqa: E731
        w_ih, w_hh = order(w_ih), order(w_hh)
    if bias is None:
        return [w_ih, w_hh]
    if math.kind == "gru":
        b_ih, b_hh = bias[0], bias[1]  # reset_after bias (2, 3u): input, recurrent
        b_ih = torch.cat([b_ih.chunk(3)[i] for i in (1, 0, 2)])
        b_hh = torch.cat([b_hh.chunk(3)[i] for i in (1, 0, 2)])
        return [w_ih, w_hh, b_ih, b_hh]
    return [w_ih, w_hh, bias, fused_weights.zeros_like_cached(cache, bias)]


def _in_dtype(params: list[torch.Tensor], dtype: torch.dtype) -> list[torch.Tensor]:
    """The weights in the compute dtype (a no-op unless a mixed policy keeps them in float32)."""
    return [p if p.dtype == dtype else p.to(dtype) for p in params]


def flat_weights(params: list[torch.Tensor]) -> list[torch.Tensor]:
    """The same weights as views into one contiguous buffer, in cuDNN's order.

    cuDNN needs each weight contiguous and, to skip a compaction copy (and its warning) on every call,
    all of them in a single chunk. One ``cat`` builds that chunk; autograd flows back through it.
    """
    flat = torch.cat([p.reshape(-1) for p in params])
    views, start = [], 0
    for p in params:
        views.append(flat[start:start + p.numel()].view(p.shape))
        start += p.numel()
    return views


def _kernel(math: CellMath):
    if math.kind != "simple_rnn":
        return _KERNELS[math.kind]
    return torch._VF.rnn_tanh if math.activation is activations.tanh else torch._VF.rnn_relu


def _call(math: CellMath, x, batch_sizes, hx: list[torch.Tensor], params, training: bool):
    """One native call; ``x`` is batch-first padded input or packed data (with ``batch_sizes``)."""
    kernel = _kernel(math)
    has_bias = len(params) == 4
    hx_arg = tuple(hx) if math.kind == "lstm" else hx[0]
    if batch_sizes is None:
        result = kernel(x, hx_arg, params, has_bias, 1, 0.0, training, False, True)
    else:
        result = kernel(x, batch_sizes, hx_arg, params, has_bias, 1, 0.0, training, False)
    return result[0], list(result[1:])


def weights(math: CellMath, x: torch.Tensor, kernel: torch.Tensor, recurrent_kernel: torch.Tensor,
            bias: torch.Tensor | None, cache: dict | None) -> list[torch.Tensor]:
    """The kernel's ``[w_ih, w_hh(, b_ih, b_hh)]`` for Keras-layout weights, in ``x``'s dtype (cached in
    ``cache`` while the weights are unchanged and no gradient must reach them, see ``fused_weights``)."""
    return fused_weights.cached(cache, ("weights", x.dtype), (kernel, recurrent_kernel, bias),
                                lambda: _in_dtype(torch_weights(math, kernel, recurrent_kernel, bias, cache), x.dtype),
                                flat_weights if x.is_cuda else None)


def run_unmasked(math: CellMath, x: torch.Tensor, hx: list[torch.Tensor], params: list[torch.Tensor],
                 go_backwards: bool, training: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``run`` without a mask, on torch's layout: ``hx`` and the final states are ``(1, batch, units)``
    (what the kernel reads and returns), ``params`` come from ``weights``. The per-call work of
    ``run`` left out is what a small inference call notices (``RNN.eval_call`` keeps its zero ``hx``)."""
    return _call(math, x.flip(1) if go_backwards else x, None, hx, params, training)


def run(math: CellMath, x: torch.Tensor, states: Sequence[torch.Tensor], kernel: torch.Tensor,
        recurrent_kernel: torch.Tensor, bias: torch.Tensor | None, mask: torch.Tensor | None = None,
        go_backwards: bool = False, zero_output_for_mask: bool = False, training: bool = False,
        cache: dict | None = None) -> tuple[torch.Tensor, States]:
    """The native-kernel equivalent of ``recurrence.run`` on unprojected inputs ``x (batch, T, features)``.

    Returns ``(outputs (batch, T, units), final_states)`` with Keras's output order and masking.
    ``cache``: the layer's dict for ``fused_weights`` (torch-layout weights reused while unchanged).
    """
    params = weights(math, x, kernel, recurrent_kernel, bias, cache)
    hx = [s.unsqueeze(0) for s in states]  # (1, batch, units): one layer, one direction
    if mask is None:
        out, final = run_unmasked(math, x, hx, params, go_backwards, training)
        return out, [s.squeeze(0) for s in final]

    lengths = right_padded_lengths(mask)
    batch, steps = mask.shape
    t = torch.arange(steps, device=x.device).unsqueeze(0)  # (1, T)
    length = lengths.unsqueeze(1)  # (batch, 1)
    if go_backwards:  # each row's valid part reversed: x[L-1], ..., x[0]
        source = torch.where(t < length, length - 1 - t, t)
        x = x.gather(1, source.unsqueeze(2).expand(-1, -1, x.shape[2]))
    packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
    hx = [h.index_select(1, packed.sorted_indices) for h in hx]
    out_data, final = _call(math, packed.data, packed.batch_sizes, hx, params, training)
    out_packed = packed._replace(data=out_data)
    out, _ = pad_packed_sequence(out_packed, batch_first=True, total_length=steps)  # zeros past L
    final = [s.index_select(1, packed.unsorted_indices).squeeze(0) for s in final]
    units = out.shape[2]
    if go_backwards:  # Keras sees T-L masked steps first (zero outputs), then the L valid ones
        source = (t - (steps - length)).clamp(min=0)
        out = out.gather(1, source.unsqueeze(2).expand(-1, -1, units))
        out = torch.where((t >= steps - length).unsqueeze(2), out, torch.zeros_like(out))
    elif not zero_output_for_mask:  # masked steps repeat the last valid output
        source = torch.minimum(t, length - 1)
        out = out.gather(1, source.unsqueeze(2).expand(-1, -1, units))
    return out, final


def run_bidirectional(math: CellMath, x: torch.Tensor, states_fw: Sequence[torch.Tensor],
                      states_bw: Sequence[torch.Tensor], weights_fw: Sequence[torch.Tensor | None],
                      weights_bw: Sequence[torch.Tensor | None], mask: torch.Tensor | None = None,
                      training: bool = False, cache: dict | None = None
                      ) -> tuple[torch.Tensor, torch.Tensor, States, States]:
    """Both directions of a Keras ``Bidirectional`` in one native call.

    ``weights_*`` are ``(kernel, recurrent_kernel, bias)`` of the forward layer and of its
    ``go_backwards`` twin. Returns ``(outputs (batch, T, 2u), final_fw, final_bw)``: ``outputs`` is
    ``[y | y_rev]``, Bidirectional's concatenation, with ``y_rev`` the backward output already in forward
    time order (what Bidirectional's flip gives) and zeros at masked steps (Keras forces
    ``zero_output_for_mask`` when returning sequences).
    """
    params = fused_weights.cached(
        cache, f"bidirectional/{x.dtype}", (*weights_fw, *weights_bw),
        lambda: _in_dtype(torch_weights(math, *weights_fw, cache) + torch_weights(math, *weights_bw, cache), x.dtype),
        flat_weights if x.is_cuda else None)
    hx = [torch.stack([f, b]) for f, b in zip(states_fw, states_bw)]  # (2, batch, units)
    kernel = _kernel(math)
    has_bias = weights_fw[2] is not None
    hx_arg = tuple(hx) if math.kind == "lstm" else hx[0]
    if mask is None:
        result = kernel(x, hx_arg, params, has_bias, 1, 0.0, training, True, True)
        out, final = result[0], list(result[1:])
    else:
        steps = mask.shape[1]
        packed = pack_padded_sequence(x, right_padded_lengths(mask).cpu(), batch_first=True,
                                      enforce_sorted=False)
        hx_arg = tuple(h.index_select(1, packed.sorted_indices) for h in hx)
        hx_arg = hx_arg if math.kind == "lstm" else hx_arg[0]
        result = kernel(packed.data, packed.batch_sizes, hx_arg, params, has_bias, 1, 0.0, training, True)
        out, _ = pad_packed_sequence(packed._replace(data=result[0]), batch_first=True, total_length=steps)
        final = [s.index_select(1, packed.unsorted_indices) for s in result[1:]]
    return out, [s[0] for s in final], [s[1] for s in final]
