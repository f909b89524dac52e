"""Every corpus case that is not a recurrent-layer case, run for real and marked as a named xfail.

These need APIs that later issues build (training, Keras file import); the recurrent layer cases run in
test_recurrent_layers, the model and wrapper cases in test_model_cases. Each test *tries* the case with today's API; ``strict=True`` makes
it fail loudly (XPASS) as soon as lstmkit can run it, so the mark must then be removed, never forgotten.
"""

from __future__ import annotations

import json

import pytest

from lstmkit import models

from .corpus import ROOT, arrays, assert_close, cases, numbered

optimizers = getattr(__import__("lstmkit"), "optimizers", None)  # issue #4

REASONS = {
    "train_": "compile/fit and Keras optimizers are issue #4",
    "file_": "Keras file import (.keras, .h5) is issue #4",
}


def reason(case: dict) -> str:
    return next(r for prefix, r in REASONS.items() if case["id"].startswith(prefix))


PENDING = [c for c in cases() if c["id"].startswith(tuple(REASONS))]


def test_every_case_is_covered_somewhere():
    """No case of the manifest falls through: recurrent ones run in test_recurrent_layers, the rest here."""
    covered = ("lstm_", "gru_", "simplernn_", "tutorial_", "model_", "bidirectional_", "timedistributed_",
               "dense_", "conv1d_")
    for case in cases():
        assert case["id"].startswith(covered + tuple(REASONS)), f"uncovered corpus case {case['id']}"


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.xfail(reason=reason(c), strict=True), id=c["id"]) for c in PENDING],
)
def test_pending_case(case):
    """Runs the case as issue #4 specifies; fails today because the API it needs does not exist yet."""
    data = arrays(case)
    model = models.model_from_json(json.dumps(case["config"]))
    if case["kind"] == "train_step":
        model.set_weights(numbered(data, "weights_"))
        model.compile(optimizer=optimizers.deserialize(case["call"]["optimizer"]), loss=case["call"]["loss"])
        loss = model.train_on_batch(data["x"], data["target"])
        assert abs(float(loss) - float(data["loss"])) <= case["tolerance"]["atol"] * 10
        for got, want in zip(model.get_weights(), numbered(data, "weights_after_")):
            assert_close(got, want, case, "weights after the step")
        return
    loaded = models.load_model(str(ROOT / case["files"][1]))
    assert_close(loaded(data["x"], training=False), data["y0"], case, "output")
