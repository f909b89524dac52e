"""The copied round-2 corpus must equal the shared one when the shared one is present (CI has it beside
the repo). The copy is exact, README included."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from .corpus_round2 import ROOT

SHARED = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "keras_round2"


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.skipif(not SHARED.is_dir(), reason="no shared/ beside this checkout: the copy is all there is")
def test_copy_matches_shared_round2_corpus():
    assert digest(ROOT) == digest(SHARED), (
        "tests/data/keras_conformance_round2 is stale: copy ../shared/conformance/keras_round2 over it")
