"""`lstmkit train --past-features / --static` through main(argv): saved, forecast, evaluated, listed in
metrics.json, and the kind errors on stderr with exit code 1."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main

from ..forecast.covariate_tables import covariate_panel


def run_cli(*argv):
    return main([str(a) for a in argv])


@pytest.fixture()
def panel_csv(tmp_path):
    path = tmp_path / "panel.csv"
    covariate_panel(length=60).to_csv(path, index=False)
    return path


def test_train_forecast_evaluate_with_past_and_static(tmp_path, panel_csv, capsys):
    out = tmp_path / "m"
    assert run_cli("train", panel_csv, "--target", "y", "--id", "id", "--time", "t", "--lookback", 4,
                   "--past-features", "lead", "--static", "region,size", "--transform", "none",
                   "--epochs", 5, "--out", out, "--quiet") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["covariates"] == {"future": [], "past": ["lead"], "static": ["region", "size"]}
    saved = json.loads((out / "forecaster.json").read_text())["config"]
    assert saved["static_features"] == ["region", "size"] and saved["past_features"] == ["lead"]
    forecast_csv = tmp_path / "f.csv"
    assert run_cli("forecast", out, panel_csv, "--out", forecast_csv, "--level", 80) == 0
    table = pd.read_csv(forecast_csv)
    assert list(table.columns) == ["id", "step", "t", "y", "y-lo-80", "y-hi-80"] and len(table) == 4
    assert (table["y-lo-80"] <= table["y"]).all() and (table["y"] <= table["y-hi-80"]).all()
    assert run_cli("evaluate", out, panel_csv, "--steps", 1) == 0
    capsys.readouterr()
    assert run_cli("forecast", out, panel_csv, "--steps", 4, "--out", forecast_csv) == 1
    assert "Train with --horizon 4" in capsys.readouterr().err


def test_column_in_two_kinds_exits_1(tmp_path, panel_csv, capsys):
    assert run_cli("train", panel_csv, "--target", "y", "--id", "id", "--features", "lead",
                   "--past-features", "lead", "--out", tmp_path / "m", "--quiet") == 1
    err = capsys.readouterr().err
    assert err.startswith("lstmkit train: error: ") and "both a future-known feature and a past feature" in err


def test_future_known_feature_missing_in_forecast_rows_names_the_fix(tmp_path, panel_csv, capsys):
    out = tmp_path / "m"
    assert run_cli("train", panel_csv, "--target", "y", "--id", "id", "--time", "t", "--lookback", 4,
                   "--features", "lead", "--transform", "none", "--epochs", 2, "--out", out, "--quiet") == 0
    capsys.readouterr()
    assert run_cli("forecast", out, panel_csv, "--out", tmp_path / "f.csv") == 1
    assert ("`lead` is a future-known feature: give its values for the 1 forecast rows, or train with "
            "--past-features lead") in capsys.readouterr().err
