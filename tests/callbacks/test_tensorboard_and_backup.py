"""TensorBoard writes event files TensorBoard reads back; BackupAndRestore resumes an interrupted fit."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lstmkit as keras
from lstmkit import callbacks

EventAccumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator").EventAccumulator


def _data(n=16):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(n, 5, 2)).astype("float32")
    return x, x.mean(axis=(1, 2))[:, None].astype("float32")


def _model(seed=5):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input(shape=(5, 2)), keras.layers.LSTM(3), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model


def _scalars(run_dir) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_tensorboard_writes_keras_tags_read_back_by_tensorboard(tmp_path):
    x, y = _data()
    model = _model()
    board = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2)
    history = model.fit(x, y, batch_size=4, epochs=3, validation_split=0.25, verbose=0, callbacks=[board])
    train, val = _scalars(tmp_path / "train"), _scalars(tmp_path / "validation")
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate", "batch_loss", "batch_mae"} <= set(train)
    assert [step for step, _ in train["epoch_loss"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_loss"]], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in val["epoch_loss"]], history.history["val_loss"], rtol=1e-6)
    assert [step for step, _ in train["batch_loss"]] == [2, 4, 6, 8]  # 3 batches an epoch, every 2nd batch
    assert train["epoch_learning_rate"][0][1] == pytest.approx(0.01)
    assert [step for step, _ in val["evaluation_loss_vs_iterations"]] == [3, 6, 9]  # optimizer iterations
    acc = EventAccumulator(str(tmp_path / "train"), size_guidance={"histograms": 0})
    acc.Reload()
    histograms = acc.Tags()["histograms"]
    assert any(tag.endswith("/histogram") and tag.startswith(model.layers[0].name) for tag in histograms)
    assert len(acc.Histograms(histograms[0])) == 3


def test_tensorboard_refuses_what_it_cannot_write():
    with pytest.raises(ValueError, match="torch.profiler"):
        callbacks.TensorBoard(profile_batch=2)
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq=0)


class Interrupt(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_at_the_right_epoch_with_the_same_numbers(tmp_path):
    x, y = _data()
    straight = _model()
    straight.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0)
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    model = _model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0, callbacks=[backup, Interrupt(3)])
    saved = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert saved == {"epoch": 3, "batch": 0} and (tmp_path / "backup" / "latest.weights.h5").exists()
    resumed = _model(seed=99)  # a fresh process: other initial weights, a new optimizer
    seen = []
    epochs = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    history = resumed.fit(x, y, batch_size=4, epochs=5, shuffle=False, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(tmp_path / "backup"), epochs])
    assert seen == [3, 4] and len(history.history["loss"]) == 2
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)  # Adam's moments were restored too
    assert not (tmp_path / "backup").exists()  # deleted after a finished fit


def test_backup_every_n_batches_and_arguments(tmp_path):
    x, y = _data()
    model = _model()
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=3, delete_checkpoint=False,
                                        double_checkpoint=True)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[backup])
    assert json.loads((tmp_path / "b" / "training_metadata.json").read_text())["epoch"] == 1
    assert (tmp_path / "b" / "latest.weights.h5.bkp").exists()
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match="backup_dir"):
        callbacks.BackupAndRestore("")
