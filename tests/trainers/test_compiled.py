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
    compile_args.setdefault("optimizer", "adam")
    model.compile(loss="mse", device="cpu", **compile_args)
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
    # the whole step (forward, loss, gradients, Adam's update) ran as one graph after the first, eager-bound step
    assert compiled._compiled_steps.whole.reason is None
    assert compiled.optimizer.iterations == eager.optimizer.iterations == 24
    assert all(p.grad is None for p in compiled.parameters())  # no stale gradient left behind
    for a, b in zip(compiled.optimizer.state_dict()["state"].values(), eager.optimizer.state_dict()["state"].values()):
        for slot in a:
            np.testing.assert_allclose(a[slot].numpy(), b[slot].numpy(), rtol=1e-4, atol=1e-7)


def test_jit_compile_whole_step_carries_states_and_follows_sgd_metrics_and_train_on_batch():
    rng = np.random.default_rng(1)
    x, y = rng.random((8, 3, 1)).astype("float32"), rng.random((8, 1)).astype("float32")
    sgd = dict(optimizer={"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}}, metrics=["mae"])
    eager, compiled = stateful_model(**sgd), stateful_model(jit_compile=True, **sgd)
    for model in (eager, compiled):
        losses = [model.train_on_batch(x[i:i + 1], y[i:i + 1]) for i in range(8)]
        model.losses_seen = losses
    np.testing.assert_allclose(compiled.losses_seen, eager.losses_seen, rtol=1e-5)
    assert compiled._compiled_steps.whole.reason is None
    for a, b in zip(compiled.layers[0].states, eager.layers[0].states):  # the stateful memory carried alike
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_jit_compile_keeps_the_eager_update_where_the_whole_step_would_differ():
    rng = np.random.default_rng(2)
    x, y = rng.random((6, 3, 1)).astype("float32"), rng.random((6, 1)).astype("float32")
    clipped = dict(optimizer={"class_name": "Adam", "config": {"clipnorm": 0.01}})
    eager, compiled = stateful_model(**clipped), stateful_model(jit_compile=True, **clipped)
    h_eager = eager.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
    h_compiled = compiled.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
    assert "clipnorm" in compiled._compiled_steps.whole.reason
    np.testing.assert_allclose(h_compiled.history["loss"], h_eager.history["loss"], rtol=1e-5)
    for a, b in zip(compiled.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    compiled.optimizer.clipnorm = None  # options are read at every step: the whole step comes back
    compiled.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
    assert compiled._compiled_steps.whole.reason is None
    compiled.optimizer.clipnorm = 0.01  # and goes again when one is set between fits
    compiled.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
    assert "clipnorm" in compiled._compiled_steps.whole.reason


def test_jit_compile_with_weight_regularizers_keeps_their_gradient():
    """The penalty reads the layers' own weights: the whole step cannot trace it, so it falls back (the
    regularizer's gradient was silently lost there)."""
    from lstmkit import layers, optimizers, regularizers

    x, y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")
    trained = {}
    for jit in (False, True):
        torch.manual_seed(0)
        model = Sequential([layers.Input((3,)), Dense(1, use_bias=False, kernel_regularizer=regularizers.L2(1.0))])
        model.compile(optimizer=optimizers.SGD(0.1), loss="mse", jit_compile=jit)
        losses = [model.train_on_batch(x, y) for _ in range(3)]
        trained[jit] = (model, losses)
    (eager, eager_losses), (compiled, compiled_losses) = trained[False], trained[True]
    assert "weight regularizer" in compiled._compiled_steps.whole.reason
    np.testing.assert_allclose(compiled_losses, eager_losses, rtol=1e-5)
    np.testing.assert_allclose(compiled.get_weights()[0], eager.get_weights()[0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("value", ["auto", False, None])
def test_jit_compile_auto_and_false_run_eagerly(value):
    assert stateful_model(jit_compile=value)._compiled_steps is None
    assert stateful_model(jit_compile=True, run_eagerly=True)._compiled_steps is None


def test_jit_compile_rejects_other_values():
    with pytest.raises(ValueError, match="jit_compile.*True, False, 'auto' or None"):
        stateful_model(jit_compile="xla")
