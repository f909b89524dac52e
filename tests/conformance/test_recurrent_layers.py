"""lstmkit vs real Keras 3.15.1 on every recurrent `layer` and `stateful` case of the corpus.

Each case runs twice: with the default dispatch (fused where eligible) and forced onto the reference
loop, so both paths are held to Keras's numbers. Cases added to the manifest are picked up unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers
from lstmkit.ops import native

from .corpus import MANIFEST, arrays, assert_close, cases, numbered

RECURRENT_PREFIXES = ("lstm_", "gru_", "simplernn_", "tutorial_")
RECURRENT = [c for c in cases(("layer", "stateful")) if c["id"].startswith(RECURRENT_PREFIXES)]


def build(case: dict, data: dict, use_fused) -> layers.RNN:
    config = {**case["config"], "config": {**case["config"]["config"], "use_fused": use_fused}}
    layer = layers.deserialize(config)
    first = data["x"] if "x" in data else data["x0"]
    layer(first, training=False)  # builds (already built from build_config; the call must also work)
    layer.reset_states() if layer.stateful else None
    layer.set_weights(numbered(data, "weights_"))
    return layer


def test_corpus_has_recurrent_cases():
    assert len(RECURRENT) >= 30


@pytest.mark.parametrize("use_fused", ["auto", False], ids=["dispatch", "reference"])
@pytest.mark.parametrize("case", [c for c in RECURRENT if c["kind"] == "layer"], ids=lambda c: c["id"])
def test_layer_case(case, use_fused):
    data = arrays(case)
    layer = build(case, data, use_fused)
    call = case.get("call", {})
    kwargs = {"training": call.get("training", False)}
    if call.get("mask"):
        kwargs["mask"] = data["mask"]
    if call.get("initial_state"):
        kwargs["initial_state"] = numbered(data, "state_")
    out = layer(data["x"], **kwargs)
    outputs = out if isinstance(out, list) else [out]
    expected = numbered(data, "y")
    assert len(outputs) == len(expected)
    for i, (got, want) in enumerate(zip(outputs, expected)):
        assert_close(got, want, case, f"output {i} ({layer.last_path} path)")


@pytest.mark.parametrize("use_fused", ["auto", False], ids=["dispatch", "reference"])
@pytest.mark.parametrize("case", [c for c in RECURRENT if c["kind"] == "stateful"], ids=lambda c: c["id"])
def test_stateful_case(case, use_fused):
    data = arrays(case)
    layer = build(case, data, use_fused)
    outputs = []
    for item in case["call"]["sequence"]:
        if item == "reset":
            layer.reset_states()
        else:
            outputs.append(layer(data[item], training=False))
    for i, (got, want) in enumerate(zip(outputs, numbered(data, "y"))):
        assert_close(got, want, case, f"call {i}")


def test_default_dispatch_uses_fused_on_eligible_cases():
    """The default configuration must actually take the fast path (not silently fall back)."""
    case = next(c for c in RECURRENT if c["id"] == "lstm_default")
    data = arrays(case)
    layer = build(case, data, "auto")
    layer(data["x"], training=False)  # records a gradient: an LSTM's C++ training loop where it is built
    assert layer.last_path == ("bptt" if native.load() else "fused")
    with torch.no_grad():
        layer(data["x"], training=False)
    assert layer.last_path in ("fused", "native")  # oneDNN's kernel or the C++ inference loop


@pytest.mark.parametrize("name", sorted(MANIFEST["activations"]))
def test_activation_table(name):
    probe = torch.tensor(MANIFEST["activations_probe"], dtype=torch.float32)
    got = lstmkit.activations.get(name)(probe).numpy()
    np.testing.assert_allclose(got, np.array(MANIFEST["activations"][name]), atol=1e-6, rtol=1e-6)


def test_param_count_fact():
    layer = lstmkit.LSTM(128)
    layer(np.zeros((1, 13, 1), dtype="float32"))
    assert layer.count_params() == MANIFEST["param_count_facts"]["LSTM(128) on 1 feature"] == 66560
