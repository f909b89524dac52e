"""compile / fit / evaluate / predict / *_on_batch: Keras's rules, asserted on values."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from lstmkit import callbacks, metrics, optimizers
from lstmkit.layers import LSTM, Dense, Dropout, Input
from lstmkit.models import Model, Sequential


def sine(n=64, steps=6):
    t = np.arange(n + steps + 1, dtype=np.float32) * 0.3
    s = np.sin(t)
    x = np.stack([s[i:i + steps] for i in range(n)])[..., None]
    y = s[steps:steps + n, None]
    return x, y


def small_model(units=8, steps=6, **lstm):
    torch.manual_seed(0)
    return Sequential([Input((steps, 1)), LSTM(units, **lstm), Dense(1)])


def test_fit_learns_and_returns_history():
    x, y = sine()
    model = small_model()
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse", metrics=["mae", "rmse"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "mae", "rmse", "val_loss", "val_mae", "val_rmse"}
    assert history.epoch == list(range(15)) and model.history is history
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    assert all(len(v) == 15 for v in history.history.values())


def test_validation_split_is_the_last_fraction_before_shuffling():
    x, y = sine(40)
    model = small_model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")  # weights stay: val_loss is a pure evaluation
    history = model.fit(x, y, epochs=1, batch_size=8, validation_split=0.25, shuffle=True, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:], verbose=0), rel=1e-6)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x[:30], y[:30], verbose=0), rel=1e-5)


def test_train_on_batch_is_one_step_and_returns_its_loss():
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer="sgd", loss="mse")
    before = model.evaluate(x, y, verbose=0, batch_size=16)
    loss = model.train_on_batch(x, y)
    assert loss == pytest.approx(before, rel=1e-6)  # the loss of the step, computed before the update
    assert model.test_on_batch(x, y) < loss
    assert model.optimizer.iterations == 1


def test_metrics_and_return_shapes_of_evaluate():
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    values = model.evaluate(x, y, verbose=0)
    assert isinstance(values, list) and len(values) == 2
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae"] and logs["mae"] == pytest.approx(values[1])
    assert model.metrics_names == ["loss", "mae"]


def test_predict_is_batched_numpy_equal_to_calling_the_model():
    x, _ = sine(50)
    model = small_model()
    out = model.predict(x, batch_size=7, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (50, 1)
    np.testing.assert_allclose(out, model(x, training=False).detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], rtol=1e-5, atol=1e-6)


def test_dropout_only_while_training():
    x, y = sine(32)
    torch.manual_seed(0)
    model = Sequential([Input((6, 1)), LSTM(16), Dropout(0.5), Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    assert model.train_on_batch(x, y) != pytest.approx(model.test_on_batch(x, y), rel=1e-4)


def test_regularization_penalties_join_the_loss():
    x, y = sine(8)
    torch.manual_seed(0)
    model = Sequential([Input((6, 1)), LSTM(4, kernel_regularizer="l2"), Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    kernel = model.layers[0].cell.kernel.detach()
    mse = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert model.train_on_batch(x, y) == pytest.approx(mse + 0.01 * float((kernel ** 2).sum()), rel=1e-5)


def test_constraints_apply_after_each_step():
    x, y = sine(8)
    model = Sequential([Input((6, 1)), LSTM(4), Dense(1, kernel_constraint="non_neg")])
    model.compile(optimizer=optimizers.SGD(10.0), loss="mse")
    model.train_on_batch(x, -100 * np.abs(y) - 1)
    assert float(model.layers[1].kernel.detach().min()) >= 0.0


def test_frozen_layers_are_not_updated():
    x, y = sine(16)
    model = small_model()
    model.layers[0].trainable = False
    frozen = [w.copy() for w in model.layers[0].get_weights()]
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    for got, want in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(got, want)


def test_zero_sample_weight_removes_a_sample_from_the_gradient():
    x, y = sine(3)
    results = []
    for target in (y, np.concatenate([y[:2], [[1e3]]]).astype(np.float32)):
        model = small_model()
        model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, target, sample_weight=np.array([1.0, 1.0, 0.0]))
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_stateful_fit_keeps_state_across_batches_in_order():
    x, y = sine(8)
    torch.manual_seed(0)
    model = Sequential([Input(batch_shape=(2, 6, 1)), LSTM(4, stateful=True), Dense(1)])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    fitted = [s.clone() for s in model.layers[0].states]
    model.reset_states()
    for i in range(0, 8, 2):  # the same batches by hand, in order, never reset
        model(x[i:i + 2])
    for a, b in zip(fitted, model.layers[0].states):
        torch.testing.assert_close(a, b)


def test_stateful_batch_that_does_not_divide_the_data_is_explained():
    x, y = sine(10)
    model = Sequential([Input(batch_shape=(4, 6, 1)), LSTM(4, stateful=True), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"10 samples.*Drop the remainder \(x\[:8\], y\[:8\]\).*divides 10"):
        model.fit(x, y, batch_size=4, shuffle=False, verbose=0)
    with pytest.raises(ValueError, match=r"batch_size expects 4, the stateful model's fixed batch size"):
        model.fit(x[:8], y[:8], batch_size=2, shuffle=False, verbose=0)


def test_errors_before_compile_and_for_bad_data():
    x, y = sine(10)
    model = small_model()
    with pytest.raises(ValueError, match=r"compile\(optimizer='adam', loss='mse'\) first"):
        model.fit(x, y)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="x has 10, y has 9"):
        model.fit(x, y[:9], verbose=0)
    bad = x.copy()
    bad[7, 3, 0] = np.nan
    with pytest.raises(ValueError, match=r"first \(NaN\) at sample 7 \(index \(7, 3, 0\)\)"):
        model.fit(bad, y, verbose=0)
    with pytest.raises(ValueError, match=r"targets shaped like the predictions \(10, 1\).*\(10, 6\)"):
        model.train_on_batch(x, x[..., 0])
    with pytest.warns(DeprecationWarning, match="nb_epoch"):
        model.fit(x, y, nb_epoch=1, verbose=0)


def test_multi_output_functional_model_with_loss_dict_and_weights():
    x, y = sine(16)
    inp = Input((6, 1))
    seq = LSTM(4, name="enc")(inp)
    a = Dense(1, name="a")(seq)
    b = Dense(2, name="b")(seq)
    model = Model(inp, [a, b])
    model.compile(optimizer=optimizers.SGD(0.0), loss={"a": "mse", "b": "mae"}, loss_weights={"a": 1.0, "b": 0.5},
                  metrics={"a": ["mae"]})
    yb = np.concatenate([y, -y], axis=1)
    logs = model.evaluate(x, [y, yb], verbose=0, return_dict=True)
    assert list(logs) == ["loss", "a_loss", "b_loss", "a_mae"]
    assert logs["loss"] == pytest.approx(logs["a_loss"] + 0.5 * logs["b_loss"], rel=1e-5)
    history = model.fit(x, {"a": y, "b": yb}, epochs=1, verbose=0)
    assert "b_loss" in history.history


def test_dataloader_and_generator_inputs():
    x, y = sine(32)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y)),
                                         batch_size=8)
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(loader, epochs=2, verbose=0, validation_data=loader)
    assert len(history.history["val_loss"]) == 2
    assert model.evaluate(loader, verbose=0) == pytest.approx(model.evaluate(x, y, batch_size=8, verbose=0),
                                                              rel=1e-5)
    assert model.predict(loader, verbose=0).shape == (32, 1)
    gen = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8))
    before = model.optimizer.iterations
    history = model.fit(gen, steps_per_epoch=4, epochs=1, verbose=0)
    assert model.optimizer.iterations == before + 4 and len(history.history["loss"]) == 1


def test_callbacks_see_every_hook_in_keras_order():
    x, y = sine(16)
    seen = []

    class Recorder(callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
                seen.append(name)
            return object.__getattribute__(self, name)

    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y), callbacks=[Recorder()])
    assert seen[:3] == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin"]
    assert seen[-2:] == ["on_epoch_end", "on_train_end"]
    assert "on_test_begin" in seen and seen.count("on_train_batch_end") == 2


def test_early_stopping_patience_and_restore_best_weights():
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")  # val_loss never improves after epoch 0
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=20, verbose=0, callbacks=[stop])
    assert len(history.epoch) == 3 and stop.stopped_epoch == 2


def test_early_stopping_restores_the_best_epoch():
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer=optimizers.SGD(5.0), loss="mse")  # a huge step: the loss gets worse
    best = {}

    class Keep(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            best.setdefault("w", None)
            if epoch == 0:
                best["w"] = self.model.get_weights()

    stop = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, mode="min")
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[Keep(), stop])
    losses = history.history["loss"]
    if int(np.argmin(losses)) == 0:
        for a, b in zip(model.get_weights(), best["w"]):
            np.testing.assert_array_equal(a, b)


def test_learning_rate_scheduler_with_a_keras_schedule_and_a_function():
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer=optimizers.Adam(1e-2), loss="mse")
    decay = optimizers.schedules.ExponentialDecay(1e-2, decay_steps=1, decay_rate=0.5)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.LearningRateScheduler(decay)])
    assert history.history["learning_rate"] == pytest.approx([1e-2, 5e-3, 2.5e-3])
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.1)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[sched])
    assert history.history["learning_rate"] == pytest.approx([2.5e-4, 2.5e-5])


def test_reduce_lr_on_plateau_and_terminate_on_nan():
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    model.optimizer.learning_rate = 0.0
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.0)
    model.optimizer.learning_rate = 1e-9  # effectively frozen: the loss plateaus
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[plateau])
    assert history.history["learning_rate"][-1] < 1e-9
    model.compile(optimizer=optimizers.SGD(1e30), loss="mse")
    history = model.fit(x * 1e10, y, epochs=5, batch_size=4, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert len(history.epoch) <= 2


def test_csv_logger_and_model_checkpoint(tmp_path):
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    log = tmp_path / "log.csv"
    ckpt = tmp_path / "ckpt-{epoch:02d}-{loss:.4f}.lstmkit"
    model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(log),
                                                    callbacks.ModelCheckpoint(ckpt, monitor="loss")])
    rows = log.read_text().splitlines()
    assert rows[0] == "epoch,loss" and len(rows) == 4
    files = sorted(p.name for p in tmp_path.glob("ckpt-*.lstmkit"))
    assert len(files) == 3 and files[0].startswith("ckpt-01-")
    best = tmp_path / "best.weights.safetensors"
    cb = callbacks.ModelCheckpoint(best, monitor="loss", save_best_only=True, save_weights_only=True)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert best.exists() and cb.best == pytest.approx(min(model.history.history["loss"]))
    with pytest.raises(ValueError, match=r"\{val_los\}"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(tmp_path / "{val_los}.lstmkit")])


def test_progress_output_verbose_1_and_2(capsys):
    x, y = sine(16)
    model = small_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=2)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert len([line for line in out.splitlines() if line.startswith("2/2 - ") and "loss: " in line
                and "mae: " in line]) == 2
    model.fit(x, y, epochs=1, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/1" not in out and "2/2" in out and "loss: " in out  # Keras 3: no epoch line for one epoch


def test_compile_overrides_torch_module_compile_and_picks_a_device():
    model = small_model()
    model.compile(optimizer="nadam", loss="huber")
    assert model.compiled and model.device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert isinstance(model.optimizer, optimizers.Nadam)
    with pytest.raises(ValueError, match="loss"):
        model.compile(optimizer="adam")


def test_metrics_are_unweighted_and_weighted_metrics_see_sample_weight():
    x, y = sine(20)
    model = small_model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    sw = np.r_[np.zeros(10), np.ones(10)]
    logs = model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae", "weighted_mae"]
    err = np.abs(model.predict(x, verbose=0) - y)[:, 0]
    assert logs["mae"] == pytest.approx(err.mean(), rel=1e-5)
    assert logs["weighted_mae"] == pytest.approx(err[10:].mean(), rel=1e-5)


def test_class_weight_applies_to_the_training_part_only():
    x, _ = sine(40)
    y = (np.arange(40) % 2).reshape(-1, 1).astype(np.float32)
    model = Sequential([Input((6, 1)), LSTM(4), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(0.0), loss="binary_crossentropy")
    history = model.fit(x, y, validation_split=0.5, class_weight={0: 1.0, 1: 10.0}, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[20:], y[20:], verbose=0), rel=1e-5)


def test_one_metric_object_for_several_outputs_is_one_accumulator_per_output():
    x, y = sine(16)
    inp = Input((6, 1))
    seq = LSTM(4)(inp)
    model = Model(inp, [Dense(1, name="a")(seq), Dense(1, name="b")(seq)])
    model.compile(optimizer="sgd", loss="mse", metrics=[metrics.RootMeanSquaredError()])
    logs = model.evaluate(x, [y, 100 * y], verbose=0, return_dict=True)
    pa, pb = model.predict(x, verbose=0)
    assert logs["a_root_mean_squared_error"] == pytest.approx(np.sqrt(np.mean((pa - y) ** 2)), rel=1e-5)
    assert logs["b_root_mean_squared_error"] == pytest.approx(np.sqrt(np.mean((pb - 100 * y) ** 2)), rel=1e-5)
    model.fit(x, [y, y], sample_weight=[np.ones(16), np.zeros(16)], verbose=0)  # one weight array per output
    assert model.evaluate(x, [y, 1e6 * y], sample_weight=[np.ones(16), np.zeros(16)], verbose=0)[2] == 0.0


def test_subclassed_model_runs_once_per_batch_and_can_be_saved(tmp_path):
    x, y = sine(40)
    calls = []

    class Sub(Model):
        def __init__(self):
            super().__init__()
            self.lstm, self.dense = LSTM(4), Dense(1)

        def call(self, inputs):
            calls.append(1)
            return self.dense(self.lstm(inputs))

    model = Sub()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=8, verbose=0)
    assert model.built and len(calls) == 1 + 5  # one building call, then one per batch
    model.save_weights(tmp_path / "sub.safetensors")
    other = Sub()
    other(x[:1])
    other.load_weights(tmp_path / "sub.safetensors")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lambda_callback_batch_hooks_receive_logs():
    x, y = sine(16)
    seen = []
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=8, verbose=0,
              callbacks=[callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs))])
    assert len(seen) == 2 and all("loss" in logs for logs in seen)


def test_early_stopping_baseline_does_not_stop_an_improving_run():
    x, y = sine(8)
    values = iter([1.0, 0.9, 0.8, 0.7, 0.6, 0.55])

    class Feed(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_x"] = next(values)

    model = small_model()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=6, verbose=0,
                        callbacks=[Feed(), callbacks.EarlyStopping(monitor="val_x", baseline=0.5, patience=2)])
    assert len(history.epoch) == 6
