"""Reading the round-2 Keras conformance corpus copied into tests/data/keras_conformance_round2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1] / "data" / "keras_conformance_round2"
MANIFEST = json.loads((ROOT / "manifest.json").read_text())


def cases(kinds: tuple[str, ...] | None = None) -> list[dict]:
    return [c for c in MANIFEST["cases"] if kinds is None or c["kind"] in kinds]


def arrays(case: dict) -> dict[str, np.ndarray]:
    with np.load(ROOT / case["files"][0], allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def call_inputs(case: dict, data: dict[str, np.ndarray]) -> tuple[tuple, dict]:
    """The recorded call as ``(args, kwargs)``: one ``x``, a list ``[x_0, x_1, ...]`` or positional
    ``x_0, x_1, ...``, with the literal and array keyword arguments and the mask(s)."""
    call = case.get("call", {})
    keys = call.get("inputs")
    if keys is None:
        args: tuple = (data["x"],)
    elif call.get("input_structure") == "positional":
        args = tuple(data[k] for k in keys)
    else:
        args = ([data[k] for k in keys],)
    kwargs = dict(call.get("kwargs", {}))
    kwargs.update({name: data[key] for name, key in call.get("array_kwargs", {}).items()})
    mask = call.get("mask")
    if mask is True:
        kwargs["mask"] = data["mask"]
    elif isinstance(mask, list):
        kwargs["mask"] = [data[k] for k in mask]
    return args, kwargs
