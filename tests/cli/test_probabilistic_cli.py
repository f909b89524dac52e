"""``lstmkit train --loss quantile|normal`` through forecast and evaluate: interval columns, coverage, the
record in metrics.json, and the error for a level the quantile head was not trained for."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main


@pytest.fixture()
def sine_csv(tmp_path):
    t = np.arange(240)
    y = 10 + np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.3, len(t))
    path = tmp_path / "sine.csv"
    pd.DataFrame({"t": t, "y": y}).to_csv(path, index=False)
    return path


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.mark.parametrize("loss, method", [("quantile", "quantile regression"), ("normal", "normal likelihood")])
def test_train_forecast_evaluate_with_a_probabilistic_head(tmp_path, sine_csv, capsys, loss, method):
    out = tmp_path / "model"
    assert run_cli("train", sine_csv, "--target", "y", "--time", "t", "--lookback", 12, "--horizon", 3,
                   "--season", 12, "--transform", "none", "--model", "lstm:8", "--epochs", 20, "--loss", loss,
                   "--out", out, "--quiet") == 0
    assert f"intervals: {method}" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["loss"] == loss and metrics["intervals"]["method"] == method
    assert json.loads((out / "forecaster.json").read_text())["config"]["loss"] == loss

    forecast_csv = tmp_path / "f.csv"
    assert run_cli("forecast", out, sine_csv, "--level", 80, 95, "--out", forecast_csv) == 0
    table = pd.read_csv(forecast_csv)
    assert list(table.columns) == ["step", "t", "y", "y-lo-80", "y-hi-80", "y-lo-95", "y-hi-95"] and len(table) == 3
    assert (table["y-lo-95"] <= table["y-lo-80"]).all() and (table["y-hi-80"] <= table["y-hi-95"]).all()

    scores = tmp_path / "scores.json"
    assert run_cli("evaluate", out, sine_csv, "--origins", 20, "--out", scores) == 0
    model = json.loads(scores.read_text())["model"]
    assert 0.0 <= model["coverage-80"] <= model["coverage-95"] <= 1.0


def test_a_level_the_quantile_head_lacks_is_a_user_error(tmp_path, sine_csv, capsys):
    out = tmp_path / "model"
    assert run_cli("train", sine_csv, "--target", "y", "--lookback", 12, "--horizon", 2, "--season", 12,
                   "--transform", "none", "--model", "lstm:4", "--epochs", 2, "--loss", "quantile",
                   "--quantile-levels", 50, 90, "--out", out, "--quiet") == 0
    capsys.readouterr()
    assert run_cli("forecast", out, sine_csv, "--level", 80, "--out", tmp_path / "f.csv") == 1
    error = capsys.readouterr().err
    assert "trained for (50, 90)" in error and "--quantile-levels 50 80 90" in error
    assert run_cli("forecast", out, sine_csv, "--level", 90, "--out", tmp_path / "f.csv") == 0


def test_streamed_training_with_a_probabilistic_head_forecasts_with_bands(tmp_path, sine_csv, capsys):
    out = tmp_path / "model"
    assert run_cli("train", sine_csv, "--stream", "--target", "y", "--time", "t", "--lookback", 12, "--horizon", 2,
                   "--season", 12, "--model", "lstm:4", "--epochs", 3, "--loss", "normal", "--out", out,
                   "--quiet") == 0
    assert "intervals: normal likelihood (held-out coverage 80 %:" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["streamed"] and metrics["loss"] == "normal"
    assert set(metrics["validation_scaled"]["model"]) >= {"coverage-80", "coverage-95"}
    forecast_csv = tmp_path / "f.csv"
    assert run_cli("forecast", out, sine_csv, "--level", 80, "--out", forecast_csv) == 0
    table = pd.read_csv(forecast_csv)
    assert list(table.columns) == ["step", "t", "y", "y-lo-80", "y-hi-80"]
    assert ((table["y-lo-80"] < table["y"]) & (table["y"] < table["y-hi-80"])).all()
