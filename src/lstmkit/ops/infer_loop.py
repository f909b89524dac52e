"""Small-batch LSTM inference in C++: the ``lstm_infer`` operator of ``ops.native``'s library.

oneDNN's LSTM pays a fixed setup per call (~100-150 us on a 2-core AVX-512 machine) that dominates the
calls forecasting makes all day: a batch of 1 to a few series, a short look-back, no gradient. This path
projects the inputs with one matrix product, then runs each row's recurrence as a register-blocked
matrix-vector product against the cache-resident recurrent kernel plus one fused gate pass per step
(``csrc/lstm_bptt.cpp``), with no setup and nothing kept for a backward pass. Same math as
``ops.recurrence`` (tanh / sigmoid LSTM), tested equal to the reference.

Measured against the layer on oneDNN's kernel under ``no_grad`` on this machine, float32, 2 threads
(the loop's blocks of 4 rows split over the threads; medians of 7 interleaved rounds, two runs):
    batch 1, 13 steps, LSTM(128): 45 us vs 142-190 us      batch 4, 80 steps x 52 features: 0.68x
    batch 16 / 32 / 40, 13 steps, LSTM(128): 0.66x / 0.66x-0.82x / 0.69x    batch 8, 100 steps: 0.52x
    batch 32, 80 steps x 52 features, LSTM(128): 0.69x      batch 64, LSTM(64): 0.46x-0.72x
    batch 128, LSTM(32): 0.60x
    batch 64, LSTM(128): 0.94x (13 steps), 0.72x-1.10x (80 steps) and batch 256, LSTM(64): 0.77x-0.88x
    (not taken: within noise of oneDNN)
    LSTM(256), any batch: 1.7-2.9x (not taken: its recurrent kernel no longer stays in cache; measured
    on one thread)
One step (stateful forecasting and streams feed one step per call), against the layer on oneDNN's kernel
(measured on one thread, before the blocks were split over threads):
    batch 64, LSTM(64): 80 us vs 160-166 us (0.50x)       batch 128, LSTM(32), 8 features: 0.44x
    batch 64 / 256, LSTM(128): 0.73-0.74x / 0.77-0.79x    batch 128, LSTM(64): 0.60x
    batch 512, LSTM(64): 1.00-1.05x and batch 128, LSTM(128): 1.04-1.05x (not taken)
``unavailable_reason`` turns those measurements into the rule, and says why the path cannot run.
"""

from __future__ import annotations

import torch

from . import native
from .recurrence import CellMath

MAX_RECURRENT_KERNEL_BYTES = 256 * 1024  # float32 LSTM(128); read once per step and row from the cache
MAX_BATCH_UNITS = 4096  # batch x units: beyond, oneDNN's batched matrix products are as fast (measured above)
MAX_BATCH_UNITS_ONE_STEP = 8192  # the same for a one-step call, where oneDNN's setup is most of its cost


def unavailable_reason(math: CellMath, x: torch.Tensor, kernel: torch.Tensor, recurrent_kernel: torch.Tensor,
                       bias: torch.Tensor | None, training: bool) -> str | None:
    """Why the C++ inference loop cannot (or should not) run this call; None when it runs.

    The caller has already checked that the native kernel could (``fused.unsupported_reason``), so the
    activations are tanh / sigmoid and there is no mask or recurrent dropout.
    """
    if math.kind != "lstm":
        return f"{math.kind}: the C++ inference loop computes the LSTM step only"
    if training:
        return "training: the C++ inference loop keeps nothing for a backward pass"
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (x, kernel, recurrent_kernel, bias)):
        return "a gradient is being recorded: the C++ inference loop is not differentiable"
    units = recurrent_kernel.shape[0]
    if recurrent_kernel.numel() * recurrent_kernel.element_size() > MAX_RECURRENT_KERNEL_BYTES:
        return (f"units={units}: the recurrent kernel exceeds {MAX_RECURRENT_KERNEL_BYTES // 1024} KiB, "
                "where oneDNN's kernel is faster (measured)")
    limit, calls = (MAX_BATCH_UNITS_ONE_STEP, " for one step") if x.shape[1] == 1 else (MAX_BATCH_UNITS, "")
    if x.shape[0] * units > limit:
        return (f"batch {x.shape[0]} x units {units} > {limit}{calls}: oneDNN's batched matrix products "
                "are faster there (measured)")
    tensors = (x, kernel, recurrent_kernel) if bias is None else (x, kernel, recurrent_kernel, bias)
    return native.unavailable_reason(*tensors)


def run(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None, recurrent_kernel: torch.Tensor,
        states: list[torch.Tensor] | None, go_backwards: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """``x (batch, timesteps, features)`` with Keras-layout weights -> ``(outputs (batch, timesteps, units)
    in processing order, [h, c] (batch, units))``; ``states`` None starts from zeros."""
    h0, c0 = (None, None) if states is None else states
    outputs, h, c = native.ops().lstm_infer(x, kernel, bias, recurrent_kernel, h0, c0, go_backwards)
    return outputs, [h, c]
