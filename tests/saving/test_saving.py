"""Saving and loading: lstmkit's archive (no pickle, atomic, optimizer state), weights files, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from lstmkit import layers, optimizers
from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Model, Sequential, load_model


def data(n=32):
    rng = np.random.default_rng(1)
    return rng.normal(size=(n, 5, 2)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)


def model_and_data():
    torch.manual_seed(0)
    model = Sequential([Input((5, 2)), LSTM(6, return_sequences=True), LSTM(4), Dense(1)])
    model.compile(optimizer=optimizers.Adam(1e-2), loss="mse", metrics=["mae"])
    return model, *data()


def test_round_trip_keeps_outputs_config_and_compile(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.lstmkit"
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_config() == model.get_config()
    assert loaded.compiled and isinstance(loaded.optimizer, optimizers.Adam)
    assert loaded.metrics_names[:1] == ["loss"]
    assert loaded.optimizer.iterations == model.optimizer.iterations


def test_archive_holds_json_and_safetensors_only(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.lstmkit")
    with zipfile.ZipFile(tmp_path / "m.lstmkit") as archive:
        names = sorted(archive.namelist())
        assert names == ["config.json", "lstmkit.json", "model.safetensors", "optimizer.json",
                         "optimizer.safetensors"]
        assert json.loads(archive.read("lstmkit.json"))["format"] == "lstmkit"
        for name in names:
            assert b"\x80\x04" not in archive.read(name)[:2]  # no pickle protocol header anywhere


def test_resuming_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0)
    straight = model.get_weights()

    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(tmp_path / "half.lstmkit")
    resumed = load_model(tmp_path / "half.lstmkit")
    resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(resumed.get_weights(), straight):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_weights_only_files(tmp_path):
    model, x, _ = model_and_data()
    model.save_weights(tmp_path / "w.safetensors")
    other = Sequential([Input((5, 2)), LSTM(6, return_sequences=True), LSTM(4), Dense(1)])
    other.load_weights(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    other.load_weights(tmp_path / "w.safetensors")
    wrong = Sequential([Input((5, 2)), LSTM(6, return_sequences=True), LSTM(5), Dense(1)])
    with pytest.raises(ValueError, match=r"weight '.*kernel' expects shape \(6, 20\); received shape \(6, 16\)"):
        wrong.load_weights(tmp_path / "w.safetensors")


def test_corrupt_and_foreign_files_get_clear_errors(tmp_path):
    model, _, _ = model_and_data()
    path = tmp_path / "m.lstmkit"
    model.save(path)
    truncated = tmp_path / "cut.lstmkit"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="cut.lstmkit"):
        load_model(truncated)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="junk.bin.*truncated or not a model file"):
        load_model(junk)
    with pytest.raises(FileNotFoundError, match="nope.lstmkit"):
        load_model(tmp_path / "nope.lstmkit")


def test_unknown_layer_names_the_class_and_custom_objects_fix_it(tmp_path):
    class Scale(layers.Layer):
        def forward(self, x):
            return 2 * x

        def compute_output_shape(self, shape):
            return shape

    inp = Input((5, 2))
    model = Model(inp, Dense(1)(Scale(name="scale")(LSTM(3)(inp))))
    model.save(tmp_path / "c.lstmkit")
    with pytest.raises((ValueError, TypeError), match="Scale"):
        load_model(tmp_path / "c.lstmkit")
    loaded = load_model(tmp_path / "c.lstmkit", custom_objects={"Scale": Scale})
    x, _ = data(3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))

    wrapped = Sequential([Input((5, 2)), layers.TimeDistributed(Scale(name="inner")), LSTM(3)])
    wrapped.save(tmp_path / "w.lstmkit")  # a custom layer inside a wrapper needs custom_objects passed down
    with pytest.raises((ValueError, TypeError), match="Scale"):
        load_model(tmp_path / "w.lstmkit")
    again = load_model(tmp_path / "w.lstmkit", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(again.predict(x, verbose=0), wrapped.predict(x, verbose=0))


def test_custom_loss_needs_custom_objects_to_recompile(tmp_path):
    def my_loss(y_true, y_pred):
        return torch.mean((y_true - y_pred) ** 4, dim=-1)

    model, x, y = model_and_data()
    model.compile(optimizer="adam", loss=my_loss)
    model.save(tmp_path / "l.lstmkit")
    with pytest.warns(UserWarning, match="custom_objects"):
        assert not load_model(tmp_path / "l.lstmkit").compiled
    assert load_model(tmp_path / "l.lstmkit", custom_objects={"my_loss": my_loss}).compiled


SAVER = """
import sys, numpy as np, torch
from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Sequential
model = Sequential([Input((5, 64)), LSTM(512, return_sequences=True), LSTM(512), Dense(1)])
k = 1
print("ready", flush=True)
while True:
    for w in model.weights:
        torch.nn.init.constant_(w, float(k))
    model.save(sys.argv[1])
    k += 1
"""


def test_a_process_killed_mid_save_leaves_the_last_good_file(tmp_path):
    """A real process saves a ~12 MB model in a loop and is SIGKILLed; the file must load, whole and consistent."""
    path = tmp_path / "live.lstmkit"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "src"))
    proc = subprocess.Popen([sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"ready"
    deadline = time.time() + 60
    while not path.exists() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.7)  # several saves later, in the middle of one
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    model = load_model(path)
    values = np.unique(np.concatenate([w.ravel() for w in model.get_weights()]))
    assert len(values) == 1 and values[0] >= 1  # every weight from one and the same complete save
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "live.lstmkit"]
    assert all(name.startswith(f".live.lstmkit.{proc.pid}.") for name in leftovers)  # only an abandoned temporary
    model.save(path)  # the next save of the same file removes what the killed one left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.lstmkit"]


def test_a_live_writers_temporary_file_is_left_alone(tmp_path):
    from lstmkit.saving.atomic import remove_orphans

    target = tmp_path / "m.lstmkit"
    live = tmp_path / f".m.lstmkit.{os.getppid()}.abc.tmp"  # the parent process (pytest's runner) is alive
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = tmp_path / f".m.lstmkit.{int(dead.stdout)}.def.tmp"
    other = tmp_path / ".other.lstmkit.1.x.tmp"
    for file in (live, orphan, other):
        file.write_bytes(b"partial")
    assert remove_orphans(target) == [orphan]
    assert live.exists() and other.exists() and not orphan.exists()


def test_loss_and_metric_objects_survive_save_and_load(tmp_path):
    from lstmkit import losses, metrics

    model, x, y = model_and_data()
    model.compile(optimizer="adam", loss=losses.Huber(delta=0.1), metrics=[metrics.RootMeanSquaredError()])
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "h.lstmkit")
    loaded = load_model(tmp_path / "h.lstmkit")
    assert isinstance(loaded.loss, losses.Huber) and loaded.loss.fn_kwargs == {"delta": 0.1}
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)


def test_saved_files_get_the_usual_permissions(tmp_path):
    model, _, _ = model_and_data()
    model.save(tmp_path / "m.lstmkit")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.lstmkit").stat().st_mode & 0o777 == 0o666 & ~umask
