"""Torch-layout weights for the native kernels, built once per weight update instead of once per call.

``fused.torch_weights`` maps Keras's ``kernel (features, 4u)`` / ``recurrent_kernel (u, 4u)`` / ``bias``
to torch's ``[w_ih, w_hh, b_ih, b_hh]``: transposed views and a zero ``b_hh``. Rebuilt at every call,
that costs a few ops, and oneDNN runs ~30 % slower on transposed views than on contiguous weights
at small sizes. When no gradient is needed (inference), the contiguous copies are cached, keyed on
each weight's ``_version`` (bumped by every in-place update: optimizer steps, ``set_weights``,
``load_state_dict``, constraints), ``data_ptr`` (``.to()``, ``param.data = ...``), device and dtype,
so a changed weight is always seen. Writes through ``param.data`` bypass version counters (as they
bypass autograd): call ``invalidate(layer)`` or use ``set_weights`` after such writes. In training
the views are used (autograd must reach the parameters), only the zero ``b_hh`` is reused.
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence

import torch


def _key(weights: Sequence[torch.Tensor | None]) -> tuple:
    return tuple([None if w is None else (w._version, w.data_ptr(), w.device, w.dtype, w.shape) for w in weights])


def cached(cache: dict | None, name: Hashable, weights: Sequence[torch.Tensor | None],
           build: Callable[[], list[torch.Tensor]], flat: Callable[[list[torch.Tensor]], list[torch.Tensor]] | None
           ) -> list[torch.Tensor]:
    """``build()`` (torch-layout weights), made contiguous (``flat`` on CUDA) and reused while ``weights``
    are unchanged; without a cache, or when autograd must reach the weights, built fresh."""
    needs_grad = torch.is_grad_enabled() and any(w is not None and w.requires_grad for w in weights)
    if cache is None or torch.compiler.is_compiling():
        params = build()
        return flat(params) if flat is not None else params
    if needs_grad:
        params = build()
        return flat(params) if flat is not None else params
    key = _key(weights)
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    with torch.no_grad():
        params = build()
        params = flat(params) if flat is not None else [p.contiguous() for p in params]
    cache[name] = (key, params)
    return params


def zeros_like_cached(cache: dict | None, bias: torch.Tensor) -> torch.Tensor:
    """A zero tensor shaped like ``bias`` (torch's ``b_hh`` for Keras's single bias), made once.

    Never written to; it carries no gradient (Keras has no second bias)."""
    return zeros_cached(cache, "zeros", [tuple(bias.shape)], bias.dtype, bias.device)[0]


def zeros_cached(cache: dict | None, name: Hashable, shapes: Sequence[tuple], dtype: torch.dtype,
                 device: torch.device) -> list[torch.Tensor]:
    """Zero tensors of ``shapes``, made once per (shapes, dtype, device) and kept under ``name`` (the
    kernels' zero ``b_hh`` and zero initial states: read, never written)."""
    if cache is None or torch.compiler.is_compiling():
        return [torch.zeros(shape, dtype=dtype, device=device) for shape in shapes]
    key = (tuple(shapes), dtype, device)
    hit = cache.get(name)
    if hit is None or hit[0] != key:
        hit = (key, [torch.zeros(shape, dtype=dtype, device=device) for shape in shapes])
        cache[name] = hit
    return hit[1]


def invalidate(layer: torch.nn.Module) -> None:
    """Forget the cached kernel weights of ``layer`` and its sublayers (after writes through ``.data``)."""
    for module in layer.modules():
        cache = module.__dict__.get("_fused_cache")
        if cache is not None:
            cache.clear()
