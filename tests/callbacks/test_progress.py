"""Keras 3's progress output: one clean line per epoch off a terminal, an in-place bar on one."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

import lstmkit as keras
from lstmkit.utils import Progbar


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def _model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(shape=(3, 1)), keras.layers.LSTM(2), keras.layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    return model


def _xy(n=20):
    x = np.linspace(0, 1, n * 3, dtype="float32").reshape(n, 3, 1)
    return x, x[:, -1]


LINE = r"(\d+)/(\d+) ━{20} \d+s \d+[mu]?s/step"


def test_fit_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    x, y = _xy()
    _model().fit(x, y, batch_size=8, epochs=2, validation_split=0.2)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in (lines[1], lines[3]):  # 16 training samples / 8 -> 2 steps; metrics sorted, val_ last
        assert re.fullmatch(LINE + r" - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} - val_mae: "
                            r"\d\.\d{4}", line), line
        assert line.startswith("2/2 ")
    assert "\r" not in out and "\x1b" not in out and "\b" not in out


def test_one_epoch_has_no_epoch_line_and_predict_prints_one_line(capsys):
    x, y = _xy()
    model = _model()
    model.fit(x, y, batch_size=32, epochs=1)
    model.predict(x[:4])
    model.evaluate(x, y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3, lines
    assert re.fullmatch(LINE + r" - loss: .* - mae: .*", lines[0]) and lines[0].startswith("1/1 ")
    assert re.fullmatch(LINE, lines[1]) and lines[1].startswith("1/1 ")  # no 0/1, no repeated 1/1
    assert re.fullmatch(LINE + r" - loss: .* - mae: .*", lines[2])


def test_verbose_2_writes_keras_summary_line(capsys):
    x, y = _xy()
    _model().fit(x, y, batch_size=8, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and len(lines) == 4
    assert re.fullmatch(r"3/3 - \d+s - \d+[mu]?s/step - loss: \d\.\d{4} - mae: \d\.\d{4}", lines[1]), lines[1]


def test_terminal_gets_the_in_place_bar_with_keras_escapes():
    stream = FakeTerminal()
    bar = Progbar(4, interval=0, file=stream)
    for step in range(1, 5):
        bar.update(step, [("loss", 0.5 / step)])
    text = stream.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    first = text.split("\r")[1]
    assert first.startswith("\x1b[1m1/4\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m" + "━" * 15 + "\x1b[0m")
    last = re.sub(r"\x1b\[\d+m", "", text.split("\r")[-1])
    assert re.fullmatch(r"4/4 ━{20} \d+s \d+[mu]?s/step - loss: 0\.\d{4}\n", last), last
    # the averaged loss over the 4 steps (a stateless metric by default): (0.5 + 0.25 + 0.1667 + 0.125) / 4
    # is replaced by the last value when finalising, as Keras
    assert "loss: 0.1250" in last


def test_terminal_bar_through_fit_ends_each_epoch_on_its_own_line(monkeypatch):
    stream = FakeTerminal()
    monkeypatch.setattr("sys.stdout", stream)
    x, y = _xy()
    _model().fit(x, y, batch_size=4, epochs=2)
    text = stream.getvalue()
    epochs = [part for part in text.split("Epoch ") if part]
    assert len(epochs) == 2
    for part in epochs:
        final = re.sub(r"\x1b\[\d+m", "", part.rstrip("\n").split("\r")[-1]).strip()
        assert re.fullmatch(LINE + r" - loss: .* - mae: .*", final) and final.startswith("5/5 ")


def test_progbar_formats_small_values_and_unknown_targets():
    stream = io.StringIO()
    bar = Progbar(None, file=stream, stateful_metrics=["lr"])
    bar.update(3, [("lr", 1e-4)], finalize=True)
    assert re.fullmatch(r"      3/Unknown \d+s \d+[mu]?s/step - lr: 1\.0000e-04\n", stream.getvalue())
    with pytest.raises(ValueError, match="not both"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])
