"""Keras's update rules on all parameters at once: one elementwise pass over concatenated buffers.

The rules of ``models.optimizers`` are elementwise (``m += (g - m) * (1 - beta_1)``, ...), so running
``update_step`` once on the concatenation of every gradient, parameter and slot gives bit-for-bit the
numbers of running it per parameter (each element sees the same float ops in the same order), with
~10 ops per step instead of ~14 per parameter: what matters for small models trained with batch 1.
The slots (``momentum``, ``velocity``...) live in one flat buffer per slot; ``optimizer.state[p][slot]``
are views into it, so ``state_dict()`` and Keras's variables see the same values. A state replaced from
outside (``load_state_dict``) is noticed (the views are no longer ours) and the buffers rebuilt.

Used only for the built-in rules (a subclass's own ``update_step`` may not be elementwise), when every
updated parameter has one dtype and one device and the gradients are dense.
"""

from __future__ import annotations

from typing import Any

import torch

_flatten, _unflatten = torch._C._nn.flatten_dense_tensors, torch._C._nn.unflatten_dense_tensors
ELEMENTWISE_UPDATES: set = set()  # the update_step functions known to be elementwise (models.optimizers)


def applies(optimizer: Any, grads: list[torch.Tensor], params: list[torch.Tensor]) -> bool:
    if type(optimizer).update_step not in ELEMENTWISE_UPDATES or len(params) < 2:
        return False
    first = params[0]
    return all(p.dtype == first.dtype and p.device == first.device and g.dtype == first.dtype
               and g.device == first.device and g.layout == torch.strided for p, g in zip(params, grads))


def _buffers(optimizer: Any, params: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """The flat slot buffers for ``params`` (made, or remade when a state tensor was replaced)."""
    slots = list(optimizer._slot_names())
    cached = optimizer.__dict__.get("_flat_slots")
    if cached is not None and cached[0] == [id(p) for p in params] and cached[1] == slots and all(
            optimizer.state[p][slot] is view for slot in slots for p, view in zip(params, cached[3][slot])):
        return cached[2]
    buffers, views = {}, {}
    with torch.no_grad():
        for slot in slots:
            buffers[slot] = torch.cat([optimizer.state[p][slot].reshape(-1) for p in params])
            views[slot] = [piece.view_as(p) for piece, p in zip(buffers[slot].split([p.numel() for p in params]),
                                                                params)]
            for p, view in zip(params, views[slot]):
                optimizer.state[p][slot] = view
    optimizer.__dict__["_flat_slots"] = ([id(p) for p in params], slots, buffers, views)
    return buffers


def step(optimizer: Any, grads: list[torch.Tensor], params: list[torch.Tensor], lr: float, f: type) -> None:
    """One ``update_step`` on the concatenated gradients, parameters and slots; parameters written back."""
    buffers = _buffers(optimizer, params)
    # torch's C++ flatten / unflatten (what DDP buckets with): the same cat of flat views and the same
    # views back as a Python loop of reshape / split / view_as, without a Python call per tensor
    gradient = _flatten(grads)
    variable = _flatten(params)
    optimizer.update_step(gradient, variable, buffers, optimizer._step_constants(f, lr))
    torch._foreach_copy_(params, _unflatten(variable, params))
