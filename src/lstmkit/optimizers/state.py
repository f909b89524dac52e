"""An optimizer's ``state_dict`` as JSON plus a flat dict of tensors, so it can be written with safetensors
(no pickle) by ``save`` and by ``BackupAndRestore``, and read back exactly."""

from __future__ import annotations

from typing import Any

import torch

from .. import _validation


def flatten_state(state: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """Split a state dict into JSON (with ``{"__tensor__": key}`` placeholders) and a dict of tensors."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(obj: Any, key: str) -> Any:
        if torch.is_tensor(obj):
            tensors[key] = obj.detach().cpu().contiguous().clone()
            return {"__tensor__": key}
        if isinstance(obj, dict):
            return {"__dict__": [[k, walk(v, f"{key}/{k}")] for k, v in obj.items()]}
        if isinstance(obj, (list, tuple)):
            return [walk(v, f"{key}/{i}") for i, v in enumerate(obj)]
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        raise _validation.type_error("save", "optimizer state", "tensors and plain values",
                                     f"{type(obj).__name__} at {key}")

    return walk(state, "state"), tensors


def unflatten_state(meta: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(meta, dict) and "__tensor__" in meta:
        return tensors[meta["__tensor__"]]
    if isinstance(meta, dict) and "__dict__" in meta:
        return {k: unflatten_state(v, tensors) for k, v in meta["__dict__"]}
    if isinstance(meta, list):
        return [unflatten_state(v, tensors) for v in meta]
    return meta
