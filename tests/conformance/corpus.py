"""Reading the Keras conformance corpus copied into tests/data/keras_conformance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1] / "data" / "keras_conformance"
MANIFEST = json.loads((ROOT / "manifest.json").read_text())


def cases(kinds: tuple[str, ...] | None = None) -> list[dict]:
    return [c for c in MANIFEST["cases"] if kinds is None or c["kind"] in kinds]


def arrays(case: dict) -> dict[str, np.ndarray]:
    with np.load(ROOT / case["files"][0]) as data:
        return {k: data[k] for k in data.files}


def numbered(data: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    """``weights_0, weights_1, ...`` in order."""
    out, i = [], 0
    while f"{prefix}{i}" in data:
        out.append(data[f"{prefix}{i}"])
        i += 1
    return out


def assert_close(got, expected: np.ndarray, case: dict, what: str) -> None:
    tol = case["tolerance"]
    got = got.detach().cpu().numpy() if hasattr(got, "detach") else np.asarray(got)
    assert got.shape == expected.shape, f"{case['id']} {what}: shape {got.shape} != {expected.shape}"
    worst = float(np.max(np.abs(got - expected))) if got.size else 0.0
    assert np.allclose(got, expected, atol=tol["atol"], rtol=tol["rtol"]), (
        f"{case['id']} {what}: max abs diff {worst:.3g} beyond atol={tol['atol']} rtol={tol['rtol']}")
