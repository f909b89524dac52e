"""The copied corpus must equal the shared one when the shared one is present (CI has it beside the repo)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .corpus import ROOT

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "keras"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/ beside this checkout: the copy is all there is")
def test_copy_matches_shared_corpus():
    copy = {k: v for k, v in digest(ROOT).items() if k not in ("README.md", "CORPUS_README.md")}
    assert copy == digest(SHARED), "tests/data/keras_conformance is stale: refresh it (see its README)"
