"""lstmkit vs real Keras 3.15.1 on every `model` case and the wrapper / core layer cases of the corpus.

Models: ``model_from_json`` of the recorded config, ``set_weights``, call with ``training=False``;
outputs within the case's tolerance, ``count_params()`` equal to ``total_params`` and every layer's count
equal to ``param_counts``. Layers (Bidirectional, TimeDistributed, Dense, Conv1D): ``deserialize``, build,
``set_weights``, call. Bidirectional cases run on both of its paths.
"""

from __future__ import annotations

import json

import pytest

from lstmkit import layers, models

from .corpus import arrays, assert_close, cases, numbered

MODEL_CASES = cases(("model",))
LAYER_PREFIXES = ("bidirectional_", "timedistributed_", "dense_", "conv1d_")
LAYER_CASES = [c for c in cases(("layer",)) if c["id"].startswith(LAYER_PREFIXES)]


def outputs_of(result):
    return result if isinstance(result, list) else [result]


def test_corpus_has_model_and_wrapper_cases():
    assert len(MODEL_CASES) >= 8 and len(LAYER_CASES) >= 11


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: c["id"])
def test_model_case(case):
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    model.set_weights(numbered(data, "weights_"))
    got = outputs_of(model(data["x"], training=False))
    expected = numbered(data, "y")
    assert len(got) == len(expected)
    for i, (g, want) in enumerate(zip(got, expected)):
        assert_close(g, want, case, f"output {i}")
    if "total_params" in case:
        assert model.count_params() == case["total_params"]
        assert {layer.name: layer.count_params() for layer in model.layers} == case["param_counts"]


@pytest.mark.parametrize("case", MODEL_CASES, ids=lambda c: c["id"])
def test_model_config_round_trips_to_keras_json(case):
    """Our to_json() reproduces Keras's config for the same model, and reloads to the same numbers."""
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    model.set_weights(numbered(data, "weights_"))
    written = json.loads(model.to_json())
    assert written["class_name"] == case["config"]["class_name"]
    assert written["config"]["layers"] == case["config"]["config"]["layers"]
    again = models.model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    for g, want in zip(outputs_of(again(data["x"], training=False)), numbered(data, "y")):
        assert_close(g, want, case, "reloaded output")


@pytest.mark.parametrize("path", ["dispatch", "reference"])
@pytest.mark.parametrize("case", LAYER_CASES, ids=lambda c: c["id"])
def test_layer_case(case, path):
    data = arrays(case)
    layer = layers.deserialize(case["config"])
    layer(data["x"], training=False)
    layer.set_weights(numbered(data, "weights_"))
    if path == "reference":
        for module in layer.modules():
            if isinstance(module, layers.RNN):
                module.use_fused = False
    got = outputs_of(layer(data["x"], training=False))
    expected = numbered(data, "y")
    assert len(got) == len(expected)
    for i, (g, want) in enumerate(zip(got, expected)):
        assert_close(g, want, case, f"output {i}")
    if isinstance(layer, layers.Bidirectional):
        assert layer.last_path == ("fused" if path == "dispatch" else "two_calls")
