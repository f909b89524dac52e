"""compile(jit_compile=True): train and predict steps through torch.compile, eager numbers (issue 19)."""

import numpy as np
import pytest
import torch

from lstmkit.layers import LSTM, Dense
from lstmkit.models import Sequential


def stateful_model(**compile_args):
    torch.manual_seed(0)
    model = Sequential()
    model.add(LSTM(4, batch_input_shape=(1, 3, 1), stateful=True))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer="adam", device="cpu", **compile_args)
    return model


def test_jit_compile_fit_and_predict_equal_eager():
    rng = np.random.default_rng(0)
    x, y = rng.random((12, 3, 1)).astype("float32"), rng.random((12, 1)).astype("float32")
    eager, compiled = stateful_model(), stateful_model(jit_compile=True)
    assert compiled._compiled_steps is not None and eager._compiled_steps is None
    h_eager = eager.fit(x, y, epochs=2, batch_size=1, verbose=0, shuffle=False)
    h_compiled = compiled.fit(x, y, epochs=2, batch_size=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(h_compiled.history["loss"], h_eager.history["loss"], rtol=1e-5)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for model in (eager, compiled):
        model.reset_states()
    np.testing.assert_allclose(compiled.predict(x, batch_size=1, verbose=0), eager.predict(x, batch_size=1, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # under compilation the dispatch point chose the reference loop, and said why
    assert compiled.layers[0].last_path == "reference"


@pytest.mark.parametrize("value", ["auto", False, None])
def test_jit_compile_auto_and_false_run_eagerly(value):
    assert stateful_model(jit_compile=value)._compiled_steps is None
    assert stateful_model(jit_compile=True, run_eagerly=True)._compiled_steps is None


def test_jit_compile_rejects_other_values():
    with pytest.raises(ValueError, match="jit_compile.*True, False, 'auto' or None"):
        stateful_model(jit_compile="xla")
