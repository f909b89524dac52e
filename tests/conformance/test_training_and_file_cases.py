"""The corpus's ``train_step`` and ``file_import`` cases, run exactly as the issue specifies.

train_step: rebuild the model from Keras's config, ``set_weights``, compile with the optimizer deserialized
from Keras's own serialized form and the named loss, take one ``train_on_batch`` step with dropout off,
then compare the returned loss, every gradient (Keras weight order) and ``get_weights()`` after the step.
file_import: ``load_model`` on the ``.keras`` and legacy ``.h5`` files, and ``model_from_json`` +
``load_weights`` on the ``.weights.h5`` file, each compared with Keras's output.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmkit import models, optimizers
from lstmkit.layers import Dropout

from .corpus import ROOT, arrays, assert_close, cases, numbered

TRAIN = cases(("train_step",))
FILES = cases(("file_import",))


def test_every_case_is_covered_somewhere():
    """No case of the manifest falls through: the other kinds run in test_recurrent_layers / test_model_cases."""
    covered = ("lstm_", "gru_", "simplernn_", "tutorial_", "model_", "bidirectional_", "timedistributed_",
               "dense_", "conv1d_", "train_", "file_")
    for case in cases():
        assert case["id"].startswith(covered), f"uncovered corpus case {case['id']}"
    assert len(TRAIN) == 7 and len(FILES) == 2


def dropout_off(model) -> None:
    """The corpus took its step with training=False: Dropout layers pass values through."""
    for layer in model.layers:
        if isinstance(layer, Dropout):
            layer.rate = 0.0


@pytest.mark.parametrize("case", TRAIN, ids=[c["id"] for c in TRAIN])
def test_train_step(case):
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    model.set_weights(numbered(data, "weights_"))
    dropout_off(model)
    model.compile(optimizer=optimizers.deserialize(case["call"]["optimizer"]), loss=case["call"]["loss"],
                  device="cpu")
    loss = model.train_on_batch(data["x"], data["target"])
    assert isinstance(loss, float)
    assert_close(np.float32(loss), data["loss"], case, "loss")
    grads = [w.grad for w in model.weights]
    expected = numbered(data, "grad_")
    assert len(grads) == len(expected)
    for i, (got, want) in enumerate(zip(grads, expected)):
        assert_close(got, want, case, f"gradient {i}")
    after = numbered(data, "weights_after_")
    for i, (got, want) in enumerate(zip(model.get_weights(), after)):
        assert_close(got, want, case, f"weight {i} after the step")


@pytest.mark.parametrize("case", FILES, ids=[c["id"] for c in FILES])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_load_model_keras_files(case, suffix):
    data = arrays(case)
    model = models.load_model(str(ROOT / f"{case['id']}{suffix}"))
    assert_close(model(data["x"], training=False), data["y0"], case, f"output of the {suffix} file")
    for got, want in zip(model.get_weights(), numbered(data, "weights_")):
        assert_close(got, want, case, "weights")


@pytest.mark.parametrize("case", FILES, ids=[c["id"] for c in FILES])
def test_load_weights_h5(case):
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    model.load_weights(str(ROOT / f"{case['id']}.weights.h5"))
    assert_close(model(data["x"], training=False), data["y0"], case, "output after load_weights")
