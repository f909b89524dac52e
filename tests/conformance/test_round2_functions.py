"""Round 2 of the Keras conformance corpus, ``function`` cases: ``keras.utils`` helpers recorded from Keras
3.15.1 (tests/data/keras_conformance_round2, an exact copy of ../shared/conformance/keras_round2).

Each case calls ``lstmkit.utils.<name>`` with the recorded positional arguments (npz arrays or JSON values)
and keyword arguments; the result must have the recorded dtype and shape and match ``y0`` within tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lstmkit
from lstmkit import utils

ROOT = Path(__file__).resolve().parents[1] / "data" / "keras_conformance_round2"
MANIFEST = json.loads((ROOT / "manifest.json").read_text())
CASES = [c for c in MANIFEST["cases"] if c["kind"] == "function"]


def test_the_corpus_copy_has_every_function_case():
    names = {c["function"] for c in CASES}
    assert len(CASES) == 16
    assert names == {"keras.utils.pad_sequences", "keras.utils.to_categorical", "keras.utils.normalize"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_function_case_matches_keras(case):
    with np.load(ROOT / case["files"][0]) as data:
        arrays = {k: data[k] for k in data.files}
    args = [arrays[a["key"]] if "key" in a else a["value"] for a in case["call"]["args"]]
    function = getattr(utils, case["function"].rsplit(".", 1)[1])
    got = function(*args, **case["call"]["kwargs"])
    (output,) = case["outputs"]
    expected = arrays[output["key"]]
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.dtype(output["dtype"]) == expected.dtype, case["id"]
    assert got.shape == tuple(output["shape"]) == expected.shape, case["id"]
    tol = case["tolerance"]
    assert np.allclose(got, expected, atol=tol["atol"], rtol=tol["rtol"]), case["id"]


@pytest.mark.parametrize("name", ["pad_sequences", "to_categorical", "normalize"])
def test_the_keras_namespaces_reach_the_same_function(name):
    """``import lstmkit as keras``: keras.utils.X, and keras.preprocessing.sequence.pad_sequences."""
    assert getattr(lstmkit.utils, name) is getattr(utils, name)
    assert lstmkit.preprocessing.sequence.pad_sequences is utils.pad_sequences
