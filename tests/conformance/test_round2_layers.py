"""lstmkit vs real Keras 3.15.1 on the round-2 corpus: every layer, model, train_step and file_import case.

Layers: ``deserialize`` the recorded config, call once as recorded, ``set_weights``, call with
``training=False``; every output within the case's tolerance, and ``serialize`` reproduces Keras's config.
Models: ``model_from_json``, ``set_weights``; outputs, parameter counts and Keras's JSON. Train step: one
``train_on_batch`` (BatchNormalization in training mode): loss, every gradient, every weight after the
step (moving statistics included). Files: each ``.keras`` / ``.weights.h5`` / legacy ``.h5`` loads and
gives Keras's output; lstmkit's own export of the loaded model loads back to the same numbers.
The ``function`` kind (``keras.utils``) runs in the utilities' tests (issue 15's other half).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit import layers, models, optimizers

from .corpus import assert_close, numbered
from .corpus_round2 import ROOT, arrays, call_inputs, cases

LAYERS = cases(("layer",))
MODELS = cases(("model",))
TRAIN = cases(("train_step",))
FILES = cases(("file_import",))


def outputs_of(result) -> list:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def test_every_case_but_functions_is_run_here():
    kinds = {c["kind"] for c in cases()}
    assert kinds == {"layer", "model", "train_step", "file_import", "function"}
    assert (len(LAYERS), len(MODELS), len(TRAIN), len(FILES)) == (40, 5, 1, 3)


@pytest.mark.parametrize("case", LAYERS, ids=lambda c: c["id"])
def test_layer_case(case):
    data = arrays(case)
    layer = layers.deserialize(case["config"])
    args, kwargs = call_inputs(case, data)
    layer(*args, training=False, **kwargs)
    weights = numbered(data, "weights_")
    assert [tuple(w.shape) for w in layer.get_weights()] == [tuple(w.shape) for w in weights]
    assert layer.count_params() == case["param_count"]
    layer.set_weights(weights)
    got = outputs_of(layer(*args, training=False, **kwargs))
    expected = numbered(data, "y")
    assert len(got) == len(expected)
    for i, (g, want) in enumerate(zip(got, expected)):
        assert_close(g, want, case, f"output {i}")
    assert json.loads(json.dumps(layers.serialize(layer))) == case["config"]


@pytest.mark.parametrize("case", MODELS, ids=lambda c: c["id"])
def test_model_case(case):
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    model.set_weights(numbered(data, "weights_"))
    got = outputs_of(model(data["x"], training=False))
    expected = numbered(data, "y")
    assert len(got) == len(expected)
    for i, (g, want) in enumerate(zip(got, expected)):
        assert_close(g, want, case, f"output {i}")
    assert model.count_params() == case["total_params"]
    counted = [layer for layer in model.layers if not getattr(layer, "keras_module", "").startswith("keras.src.ops")]
    assert {layer.name: layer.count_params() for layer in counted} == case["param_counts"]  # summary() omits ops
    written = json.loads(model.to_json())
    assert written["config"]["layers"] == case["config"]["config"]["layers"]


def test_masking_pools_model_drops_the_mask_for_global_max_only():
    """Keras: GlobalMaxPooling1D silently ignores the Masking mask (padded zeros take part in the max),
    GlobalAveragePooling1D honours it."""
    case = next(c for c in MODELS if c["id"] == "model_masking_pools")
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    x = data["x"]
    average, maximum, _ = (o.detach().numpy() for o in model(x, training=False))
    kept = np.any(x != 0.0, axis=-1)
    assert not kept.all(), "the case must contain masked steps"
    np.testing.assert_allclose(average, (x * kept[..., None]).sum(1) / kept.sum(1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(maximum, x.max(axis=1), rtol=1e-6)


@pytest.mark.parametrize("case", TRAIN, ids=lambda c: c["id"])
def test_train_step(case):
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    model.set_weights(numbered(data, "weights_"))
    assert_close(model(data["x"], training=False), data["y0"], case, "output before the step")
    model.compile(optimizer=optimizers.deserialize(case["call"]["optimizer"]), loss=case["call"]["loss"],
                  device="cpu")
    loss = model.train_on_batch(data["x"], data["target"])
    assert_close(np.float32(loss), data["loss"], case, "loss")
    weights = model.weights
    grads = numbered(data, "grad_")
    assert len(grads) == len(case["trainable_weight_index"])
    for i, (index, want) in enumerate(zip(case["trainable_weight_index"], grads)):
        assert_close(weights[index].grad, want, case, f"gradient {i} (weight {index})")
    after = numbered(data, "weights_after_")
    assert len(after) == len(weights)
    for i, (got, want) in enumerate(zip(model.get_weights(), after)):
        assert_close(got, want, case, f"weight {i} after the step")


def _file_params():
    return [(case, name) for case in FILES for name in case["files"][1:]]


@pytest.mark.parametrize("case,name", _file_params(), ids=lambda v: v if isinstance(v, str) else v["id"])
def test_keras_file_loads(case, name):
    data = arrays(case)
    if name.endswith(".weights.h5"):
        model = models.model_from_json(json.dumps(case["config"]))
        model.load_weights(str(ROOT / name))
    else:
        model = models.load_model(str(ROOT / name))
    assert_close(model(data["x"], training=False), data["y0"], case, f"output of {name}")
    for i, (got, want) in enumerate(zip(model.get_weights(), numbered(data, "weights_"))):
        assert_close(got, want, case, f"weight {i} of {name}")


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
@pytest.mark.parametrize("case", FILES, ids=lambda c: c["id"])
def test_lstmkit_export_of_the_loaded_model_loads_back(case, suffix, tmp_path):
    data = arrays(case)
    model = models.load_model(str(ROOT / f"{case['id']}.keras"))
    path = tmp_path / f"again{suffix}"
    if suffix == ".weights.h5":
        model.save_weights(str(path))
        again = models.model_from_json(model.to_json())
        again.load_weights(str(path))
    else:
        model.save(str(path))
        again = models.load_model(str(path))
    assert_close(again(data["x"], training=False), data["y0"], case, f"output after saving as {suffix}")


def test_lstmkit_weights_file_matches_keras_layout(tmp_path):
    """The .weights.h5 lstmkit writes for the MHA model has exactly Keras's groups and shapes
    (``layers/multi_head_attention/query_dense/vars/0`` ...)."""
    import h5py

    def layout(path):
        found = {}
        with h5py.File(path, "r") as f:
            f.visititems(lambda n, o: found.setdefault(n, o.shape) if isinstance(o, h5py.Dataset) else None)
        return found

    model = models.load_model(str(ROOT / "file_mha.keras"))
    model.save_weights(str(tmp_path / "mha.weights.h5"))
    assert layout(tmp_path / "mha.weights.h5") == layout(ROOT / "file_mha.weights.h5")
