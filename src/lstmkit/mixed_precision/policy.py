"""Keras's dtype policies: which dtype a layer keeps its weights in and which it computes in.

A policy is named as Keras names them: ``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"`` (weights
and computation in that dtype) or ``"mixed_float16"`` / ``"mixed_bfloat16"`` (float32 weights, computation in
the low-precision dtype). Layers created with ``dtype=None`` take the global policy of the moment
(``set_global_policy``), as in Keras 3.

Under a mixed policy a layer casts its floating inputs to the compute dtype, runs its ``forward`` under
``torch.autocast`` (matrix products and convolutions read the float32 weights in the compute dtype), and
returns its floating outputs in the compute dtype. The optimizer updates the float32 weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import _validation

FLOAT_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
                "bfloat16": torch.bfloat16}
_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
POLICY_NAMES = (*FLOAT_DTYPES, *_MIXED)


class DTypePolicy:
    """A named dtype policy (Keras's ``keras.DTypePolicy`` / ``keras.mixed_precision.Policy``).

    Args:
        name: one of ``"float32"`` (default), ``"float64"``, ``"float16"``, ``"bfloat16"``,
            ``"mixed_float16"``, ``"mixed_bfloat16"``; a torch dtype or another policy is accepted too.

    Attributes: ``name``, ``compute_dtype`` and ``variable_dtype`` (names, as Keras gives them), and
    ``torch_compute_dtype`` / ``torch_variable_dtype``.
    """

    def __init__(self, name: Any = None):
        self.name = policy_name(name)

    @property
    def compute_dtype(self) -> str:
        return _MIXED.get(self.name, self.name)

    @property
    def variable_dtype(self) -> str:
        return "float32" if self.name in _MIXED else self.name

    @property
    def torch_compute_dtype(self) -> torch.dtype:
        return FLOAT_DTYPES[self.compute_dtype]

    @property
    def torch_variable_dtype(self) -> torch.dtype:
        return FLOAT_DTYPES[self.variable_dtype]

    @property
    def is_mixed(self) -> bool:
        return self.name in _MIXED

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "DTypePolicy":
        return cls(**config)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'


Policy = DTypePolicy  # keras.mixed_precision.Policy
_GLOBAL: dict = {}


def policy_name(value: Any) -> str:
    """The policy name of ``None`` (the global policy), a name, a torch dtype, a policy or Keras's config dict."""
    if value is None:
        return _GLOBAL["policy"].name if _GLOBAL else "float32"
    if isinstance(value, DTypePolicy):
        return value.name
    if isinstance(value, dict):  # Keras's serialized DTypePolicy: {"class_name": ..., "config": {"name": ...}}
        value = (value.get("config") or value).get("name", "float32")
    if isinstance(value, torch.dtype):
        value = str(value).replace("torch.", "")
    if not isinstance(value, str):
        raise _validation.type_error("DTypePolicy", "`dtype`", "a policy name, a torch dtype or a DTypePolicy",
                                     f"{value!r} of type {type(value).__name__}")
    if value not in POLICY_NAMES:
        raise _validation.value_error("DTypePolicy", "`dtype`", "one of " + ", ".join(POLICY_NAMES), repr(value),
                                      "Integer and complex dtypes are not layer policies.")
    return value


_BY_NAME: dict[str, DTypePolicy] = {}


def named(name: str) -> DTypePolicy:
    """The shared policy object of a valid name (layers look theirs up on every call)."""
    policy = _BY_NAME.get(name)
    if policy is None:
        policy = _BY_NAME[name] = DTypePolicy(name)
    return policy


def set_global_policy(policy: Any) -> None:
    """Set the policy of every layer created from now on with ``dtype=None`` (Keras's function of that name).

    Keras allows only floating policies here; ``None`` restores ``"float32"``.
    """
    _GLOBAL["policy"] = DTypePolicy("float32" if policy is None else policy)


def global_policy() -> DTypePolicy:
    """The current global policy (``"float32"`` unless ``set_global_policy`` changed it)."""
    return _GLOBAL["policy"]


set_global_policy("float32")


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A tensor as NumPy; bfloat16, which NumPy has no dtype for, becomes float32 (as Keras's torch backend)."""
    tensor = tensor.detach().cpu()
    if tensor.dtype == torch.bfloat16:
        tensor = tensor.float()
    return tensor.numpy()
