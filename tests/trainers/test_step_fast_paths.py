"""``fit`` / ``train_on_batch`` / ``evaluate`` on their per-step fast paths (issue 19, W4) give bit for bit
what the general paths give: losses, weights, optimizer slots, stateful memory, and the logs callbacks see.

The general paths are forced by switching each fast path off: the layers' ``train_call``, the one-output
loss, the scalar loss tracker, the pre-split batches, the skipped per-batch callback calls."""

import re

import numpy as np
import pytest
import torch

from lstmkit import callbacks, metrics
from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Sequential
from lstmkit.trainers import data_adapter, plan, trainer

RNG = np.random.default_rng(0)
X, Y = RNG.random((12, 3, 1)).astype("float32"), RNG.random((12, 1)).astype("float32")


def general_paths(monkeypatch):
    from lstmkit.models import sequential

    monkeypatch.setattr(sequential, "train_calls_allowed", lambda *a: False)
    monkeypatch.setattr(trainer, "train_calls_allowed", lambda *a: False)  # the trainer's own import of it
    original_init = callbacks.CallbackList.__init__

    def every_hook(self, *args, **kwargs):  # the per-batch callback calls, even with History alone
        original_init(self, *args, **kwargs)
        self.only_epoch_hooks = False

    monkeypatch.setattr(callbacks.CallbackList, "__init__", every_hook)
    monkeypatch.setattr(trainer, "single_loss", lambda *a: None)
    monkeypatch.setattr(metrics.Mean, "update_scalar", lambda self, v, w: self.update_state(v, sample_weight=w))
    monkeypatch.setattr(data_adapter, "_plain_tensors", lambda *a: False)
    monkeypatch.setattr(plan.ModelPlan, "may_have_penalties", lambda self: True)


def test_the_general_paths_really_are_forced(monkeypatch):
    """The comparisons below mean something only if ``general_paths`` turns every fast path off."""
    from lstmkit.layers.rnn.rnn import RNN

    calls = []
    original = RNN.train_call
    monkeypatch.setattr(RNN, "train_call", lambda self, x: calls.append(1) or original(self, x))
    windowed_model().fit(X, Y, epochs=1, batch_size=4, verbose=0)
    assert calls  # the fast path runs by default
    calls.clear()
    general_paths(monkeypatch)
    model = windowed_model()
    model.fit(X, Y, epochs=1, batch_size=4, verbose=0)
    assert not calls


def stateful_model(**compile_args):
    torch.manual_seed(0)
    model = Sequential()
    model.add(LSTM(4, batch_input_shape=(1, 3, 1), stateful=True))
    model.add(Dense(1))
    model.compile(loss="mse", optimizer="adam", device="cpu", **compile_args)
    return model


def windowed_model(**compile_args):
    torch.manual_seed(0)
    model = Sequential([Input((3, 1)), LSTM(5), Dense(1)])
    model.compile(loss="mse", optimizer="adam", device="cpu", **compile_args)
    return model


def outcome(model, history):
    opt = model.optimizer.state_dict()
    slots = [v for state in opt["state"].values() for v in state.values()]
    states = [s.clone() for s in getattr(model.layers[0], "states", None) or []]
    return history.history, model.get_weights(), slots, states, model.optimizer.iterations


def assert_same(a, b):
    assert a[0] == b[0]  # epoch logs: equal floats
    for group_a, group_b in zip(a[1:4], b[1:4]):
        assert len(group_a) == len(group_b)
        for u, v in zip(group_a, group_b):
            np.testing.assert_array_equal(np.asarray(u), np.asarray(v))
    assert a[4] == b[4]


class BatchLogs(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append((batch, dict(logs)))


@pytest.mark.parametrize("make, fit_args", [
    (stateful_model, dict(batch_size=1, shuffle=False)),
    (windowed_model, dict(batch_size=5, shuffle=True)),  # a last partial batch, a shuffled order
    (windowed_model, dict(batch_size=4, shuffle=False, validation_split=0.25)),
    (windowed_model, dict(batch_size=3, shuffle=True, sample_weight=RNG.random(12).astype("float32"))),
])
def test_fit_fast_paths_equal_the_general_paths_bit_for_bit(monkeypatch, make, fit_args):
    def run():
        model = make()
        torch.manual_seed(1)  # the shuffle's draws
        history = model.fit(X, Y, epochs=3, verbose=0, **fit_args)
        return outcome(model, history)

    fast = run()
    general_paths(monkeypatch)
    assert_same(fast, run())


def test_user_callbacks_see_the_same_float_logs_on_either_path(monkeypatch):
    def run():
        model, seen = stateful_model(), BatchLogs()
        model.fit(X, Y, epochs=2, batch_size=1, verbose=0, shuffle=False, callbacks=[seen])
        return seen.logs

    fast = run()
    assert len(fast) == 24 and all(type(v) is float for _, logs in fast for v in logs.values())
    general_paths(monkeypatch)
    assert fast == run()


def test_train_on_batch_and_evaluate_fast_paths_equal_the_general_paths(monkeypatch):
    def run():
        model = stateful_model(metrics=["mae"])
        losses = [model.train_on_batch(X[i:i + 1], Y[i:i + 1]) for i in range(len(X))]
        model.reset_states()
        return losses, model.evaluate(X, Y, batch_size=1, verbose=0), model.get_weights()

    fast = run()
    general_paths(monkeypatch)
    general = run()
    assert fast[0] == general[0] and fast[1] == general[1]
    for a, b in zip(fast[2], general[2]):
        np.testing.assert_array_equal(a, b)


def test_regularized_and_weighted_models_still_add_their_penalties():
    torch.manual_seed(0)
    model = Sequential([Input((3, 1)), LSTM(4, kernel_regularizer="l2"), Dense(1, activity_regularizer="l1")])
    model.compile(loss="mse", optimizer="adam", device="cpu", loss_weights=[2.0])
    y_pred = model(torch.from_numpy(X), training=True)
    plain = 2.0 * torch.mean(torch.square(y_pred - torch.from_numpy(Y)))
    penalties = torch.stack(model.losses).sum()
    assert len(model.losses) == 2
    torch.testing.assert_close(model.compute_loss(torch.from_numpy(Y), y_pred), plain + penalties)


def test_mean_update_scalar_equals_update_state():
    for dtype in (torch.float32, torch.float64):
        a, b = metrics.Mean(), metrics.Mean()
        for value, weight in [(0.1, 1), (3.7, 5), (1e-8, 32), (2.5e6, 7)]:
            a.update_state(torch.tensor(value, dtype=dtype), sample_weight=weight)
            b.update_scalar(torch.tensor(value, dtype=dtype), weight)
        assert a.total.item() == b.total.item() and a.count.item() == b.count.item()
        assert a.result().item() == b.result().item()
    c, d = metrics.Mean(), metrics.Mean()  # not a 0-d float value: the general update
    c.update_state(torch.tensor([1.0, 2.0]), sample_weight=2)
    d.update_scalar(torch.tensor([1.0, 2.0]), 2)
    assert c.result().item() == d.result().item()


@pytest.mark.filterwarnings("ignore:Adam. no gradients")  # the first step's forward ran before the re-sync
def test_the_optimizer_binding_is_reused_across_fits_until_the_model_changes():
    model = stateful_model()
    model.fit(X, Y, batch_size=1, verbose=0, shuffle=False)
    bound = model._step_plan
    model.fit(X, Y, batch_size=1, verbose=0, shuffle=False)
    assert model._step_plan is bound  # nothing changed: not walked again
    kernel = model.layers[0].cell.kernel
    kernel.requires_grad_(False)  # by hand: synced back to the layer's trainable flag, as each fit did
    before = kernel.detach().clone()
    model.fit(X, Y, batch_size=1, verbose=0, shuffle=False)
    assert kernel.requires_grad and not torch.equal(before, kernel)
    model.layers[0].trainable = False
    with pytest.raises(ValueError, match="compile"):
        model.fit(X, Y, batch_size=1, verbose=0, shuffle=False)


def test_mean_result_float_equals_float_of_result():
    for total, count in [(0.0, 0.0), (1.0, 3.0), (0.1 + 0.2, 7.0), (2.5e-300, 1.0), (-4.2, 9.0)]:
        m = metrics.Mean()
        m.total, m.count = torch.tensor(total, dtype=torch.float64), torch.tensor(count, dtype=torch.float64)
        assert m.result_float() == float(m.result())
    rmse = metrics.RootMeanSquaredError()  # its own result(): taken as it is
    rmse.update_state(torch.zeros(2, 1), torch.ones(2, 1) * 3)
    assert rmse.result_float() == float(rmse.result()) == 3.0


@pytest.mark.parametrize("shape", [(1, 1), (5, 1), (1, 3), (4, 2), (1,), (3,)])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_losses_over_single_values_equal_the_reductions_bit_for_bit(shape, reduction):
    from lstmkit import losses

    torch.manual_seed(0)
    y_true, y_pred = torch.randn(shape), torch.randn(shape, requires_grad=True)
    for loss, elementwise in ((losses.MeanSquaredError(reduction=reduction), torch.square),
                              (losses.MeanAbsoluteError(reduction=reduction), torch.abs)):
        fast = loss(y_true, y_pred)
        (g_fast,) = torch.autograd.grad(fast, y_pred)
        per_sample = torch.mean(elementwise(y_pred - y_true), dim=-1)  # Keras's reductions, spelled out
        slow = per_sample.sum() if reduction == "sum" else per_sample.sum() / max(per_sample.numel(), 1)
        (g_slow,) = torch.autograd.grad(slow, y_pred)
        assert fast.dtype == slow.dtype and fast.shape == slow.shape == ()
        torch.testing.assert_close(fast, slow, rtol=0, atol=0)
        torch.testing.assert_close(g_fast, g_slow, rtol=0, atol=0)


def test_verbose_2_reads_the_logs_once_per_epoch_and_prints_the_same_lines(monkeypatch, capsys):
    def run():
        model = stateful_model()
        reads = []
        original = type(model)._logs
        monkeypatch.setattr(type(model), "_logs", lambda self: reads.append(1) or original(self))
        model.fit(X, Y, epochs=2, batch_size=1, verbose=2, shuffle=False)
        monkeypatch.undo()
        lines = [re.sub(r"\d+[mu]?s(/step)?", "t", line) for line in capsys.readouterr().out.splitlines()]
        return len(reads), lines

    fast_reads, fast_lines = run()
    assert fast_reads == 2  # one per epoch, not one per batch: the bar shows no per-batch values at verbose=2
    general_paths(monkeypatch)
    from lstmkit.callbacks import callbacks as callbacks_module
    monkeypatch.setattr(callbacks_module, "_quiet_bar", lambda cb: False)
    general_reads, general_lines = run()
    assert general_reads == 2 + 24 and general_lines == fast_lines
