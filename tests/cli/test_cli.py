"""The command line through main(argv) and through a real subprocess: files written, scores, exit codes."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lstmkit.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT / "tests" / "data" / "keras_conformance"


@pytest.fixture()
def stores_csv(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for k in range(2):
        t = np.arange(48)
        frames.append(pd.DataFrame({"store": f"s{k}", "month": pd.date_range("2020-01-01", periods=48, freq="MS"),
                                    "sales": 50 + 10 * k + 5 * np.sin(2 * np.pi * t / 12) + rng.normal(size=48)}))
    path = tmp_path / "stores.csv"
    pd.concat(frames).to_csv(path, index=False)
    return path


def run_cli(*argv):
    return main([str(a) for a in argv])


def test_train_forecast_evaluate_summary(tmp_path, stores_csv, capsys):
    out = tmp_path / "model"
    assert run_cli("train", stores_csv, "--target", "sales", "--id", "store", "--time", "month", "--lookback", 12,
                   "--epochs", 3, "--out", out, "--quiet") == 0
    for name in ("model.lstmkit", "forecaster.json", "metrics.json", "learning_curves.png", "validation.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["validation"]) == {"model", "persistence", "seasonal_naive"} and metrics["epochs_run"] == 3
    assert "persistence" in capsys.readouterr().out

    forecast_csv, plot = tmp_path / "f.csv", tmp_path / "f.png"
    assert run_cli("forecast", out, stores_csv, "--steps", 6, "--out", forecast_csv, "--plot", plot) == 0
    table = pd.read_csv(forecast_csv)
    assert list(table.columns) == ["store", "step", "month", "sales"] and len(table) == 12
    assert table.month.iloc[0] == "2024-01-01" and plot.read_bytes()[:4] == b"\x89PNG"

    scores_json = tmp_path / "scores.json"
    assert run_cli("evaluate", out, stores_csv, "--steps", 3, "--season", 12, "--out", scores_json) == 0
    scores = json.loads(scores_json.read_text())
    assert set(scores) == {"model", "persistence", "seasonal_naive"}
    printed = capsys.readouterr().out
    assert "seasonal_naive" in printed and "sMAPE" in printed

    assert run_cli("summary", out) == 0
    assert "Total params" in capsys.readouterr().out


def test_train_stateful_method_then_forecast_and_evaluate(tmp_path, stores_csv, capsys):
    out = tmp_path / "stateful"
    assert run_cli("train", stores_csv, "--target", "sales", "--id", "store", "--time", "month", "--method",
                   "stateful", "--lookback", 12, "--epochs", 2, "--out", out, "--quiet") == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "stateful" and metrics["epochs_run"] == 2 and metrics["validation_steps"] == 2 * 9
    assert json.loads((out / "forecaster.json").read_text())["config"]["method"] == "stateful"
    assert run_cli("forecast", out, stores_csv, "--steps", 4, "--out", tmp_path / "f.csv") == 0
    assert len(pd.read_csv(tmp_path / "f.csv")) == 8
    assert run_cli("evaluate", out, stores_csv, "--steps", 3) == 0
    capsys.readouterr()
    assert run_cli("train", stores_csv, "--target", "sales", "--method", "stateful", "--model", "bilstm:8",
                   "--out", tmp_path / "x") == 1
    assert "forward recurrent layers for method='stateful'" in capsys.readouterr().err


def test_summary_and_convert_keras_files(tmp_path, capsys):
    keras_file = tmp_path / "stacked.keras"
    shutil.copy(CONFORMANCE / "file_stacked.keras", keras_file)
    assert run_cli("summary", keras_file) == 0
    assert "Total params" in capsys.readouterr().out
    assert run_cli("convert", keras_file, tmp_path / "converted") == 0
    assert (tmp_path / "converted" / "model.lstmkit").is_file()
    assert run_cli("convert", tmp_path / "converted", tmp_path / "back.h5") == 0
    from lstmkit.models import load_model

    shape = [5 if d is None else d for d in load_model(keras_file).inputs[0].shape[1:]]  # (timesteps, features)
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(load_model(tmp_path / "back.h5").predict(x, verbose=0),
                               load_model(keras_file).predict(x, verbose=0), atol=1e-6)


def test_demo_writes_a_forecast_and_says_where(tmp_path, capsys):
    assert run_cli("demo", "--out", tmp_path / "demo", "--epochs", 3, "--quiet") == 0
    table = pd.read_csv(tmp_path / "demo" / "forecast.csv")
    assert len(table) == 24 and table.Month.iloc[0] == "1961-01-01" and (table.Passengers > 0).all()
    assert (tmp_path / "demo" / "forecast.png").is_file()
    assert str(tmp_path / "demo" / "forecast.csv") in capsys.readouterr().out


def test_demo_by_default_writes_a_new_temp_folder_not_the_working_directory(tmp_path, capsys, monkeypatch):
    import tempfile

    workdir, temp_root = tmp_path / "checkout", tmp_path / "tmp"
    workdir.mkdir()
    temp_root.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(tempfile, "tempdir", str(temp_root))
    assert run_cli("demo", "--epochs", 1, "--quiet") == 0
    assert list(workdir.iterdir()) == []  # nothing in the directory it was run from
    (out,) = temp_root.iterdir()
    assert out.name.startswith("lstmkit_demo_") and (out / "forecast.csv").is_file()
    assert str(out / "forecast.csv") in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--target", "price"], r"the column\(s\) \['price'\].*columns \['store', 'month', 'sales'\]"),
    (["--target", "store"], r"numeric target and feature columns.*'store'"),
    (["--target", "sales", "--id", "store", "--lookback", "60"], r"series of at least 62 rows.*'s0': 48"),
    (["--target", "sales", "--model", "lstm:abc"], r"a spec like 'lstm:32'"),
])
def test_bad_input_exits_1_with_one_clear_line(stores_csv, tmp_path, capsys, argv, message):
    code = run_cli("train", stores_csv, *argv, "--epochs", 1, "--out", tmp_path / "m", "--quiet")
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("lstmkit train: error: ") and "Traceback" not in err
    import re

    assert re.search(message, err), err


def test_nan_rows_missing_files_and_bad_arguments(tmp_path, capsys):
    path = tmp_path / "holes.csv"
    pd.DataFrame({"y": [1.0, 2.0, np.nan, 4.0] * 10}).to_csv(path, index=False)
    assert run_cli("train", path, "--target", "y", "--quiet") == 1
    assert "NaN or inf in rows 2, 6, 10, 14, 18 and 5 more" in capsys.readouterr().err
    assert run_cli("train", tmp_path / "nope.csv", "--target", "y") == 1
    assert "no such file" in capsys.readouterr().err
    assert run_cli("forecast", tmp_path, path) == 1
    assert "a folder written by `lstmkit train`" in capsys.readouterr().err
    assert run_cli("train", path) == 2  # argparse: --target is required
    assert "--target" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command_line(tmp_path):
    series = tmp_path / "series.csv"
    pd.DataFrame({"y": np.sin(np.arange(60) / 4)}).to_csv(series, index=False)
    result = subprocess.run([sys.executable, "-m", "lstmkit", "train", str(series), "--target", "y", "--epochs", "2",
                             "--lookback", "6", "--out", str(tmp_path / "m"), "--quiet"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m" / "model.lstmkit").is_file() and "Wrote:" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "lstmkit", "train", str(series), "--target", "x"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "lstmkit train: error:" in bad.stderr


def test_ventilator_simulate_then_run_writes_a_submission(tmp_path, capsys):
    data, out = tmp_path / "data", tmp_path / "run"
    assert run_cli("ventilator", "simulate", "--out", data, "--train", 30, "--test", 6) == 0
    train = pd.read_csv(data / "train.csv")
    assert list(train.columns) == ["id", "breath_id", "R", "C", "time_step", "u_in", "u_out", "pressure"]
    assert len(train) == 30 * 80 and len(pd.read_csv(data / "test.csv")) == 6 * 80
    assert run_cli("ventilator", "run", "--data", data, "--out", out, "--folds", 2, "--epochs", 1, "--units", 4,
                   "--dense", 4, "--quiet") == 0
    submission = pd.read_csv(out / "submission.csv")
    assert list(submission.columns) == ["id", "pressure"] and len(submission) == 6 * 80
    assert submission.id.iloc[0] == 30 * 80 + 1  # test ids continue after train's, as the competition's
    printed = capsys.readouterr().out
    assert "linear_per_rc" in printed and "bilstm_fold_median" in printed
    assert run_cli("ventilator", "run", "--units", "0,4") == 2  # argparse: bad units


def test_parquet_tables_train_like_csv(tmp_path):
    path = tmp_path / "series.parquet"
    pd.DataFrame({"t": np.arange(50), "y": np.sin(np.arange(50) / 3)}).to_parquet(path)
    assert run_cli("train", path, "--target", "y", "--time", "t", "--lookback", 5, "--epochs", 1,
                   "--out", tmp_path / "m", "--quiet") == 0
    assert run_cli("forecast", tmp_path / "m", path, "--steps", 3, "--out", tmp_path / "f.csv") == 0
    assert pd.read_csv(tmp_path / "f.csv").t.tolist() == [50, 51, 52]


def test_output_and_device_errors_come_before_training(stores_csv, tmp_path, capsys, monkeypatch):
    from lstmkit.forecast import forecaster

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking the arguments")

    monkeypatch.setattr(forecaster.Forecaster, "fit", no_training)
    taken = tmp_path / "afile"
    taken.write_text("keep me")
    assert run_cli("train", stores_csv, "--target", "sales", "--out", taken) == 1
    err = capsys.readouterr().err
    assert "an existing file" in err and "Choose another --out" in err and "Traceback" not in err
    assert taken.read_text() == "keep me"
    assert run_cli("train", stores_csv, "--target", "sales", "--out", tmp_path / "m", "--device", "gpu") == 1
    assert "'auto', 'cpu', 'cuda' or 'cuda:N'; received 'gpu'" in capsys.readouterr().err
    assert run_cli("ventilator", "run", "--out", tmp_path / "v", "--device", "gpu", "--quiet") == 1
    assert "received 'gpu'" in capsys.readouterr().err


def test_forecast_plot_orders_text_dates_as_dates(tmp_path, monkeypatch):
    import importlib

    from lstmkit.forecast import plots

    cli_main = importlib.import_module("lstmkit.cli.main")  # the module (lstmkit.cli.main is also the function)

    days = pd.date_range("2019-11-01", "2020-01-31", freq="D")
    frame = pd.DataFrame({"day": days.strftime("%m/%d/%Y"), "y": np.sin(np.arange(len(days)) / 5)})
    path = tmp_path / "us_dates.csv"
    frame.to_csv(path, index=False)
    assert run_cli("train", path, "--target", "y", "--time", "day", "--lookback", 5, "--epochs", 1,
                   "--out", tmp_path / "m", "--quiet") == 0
    drawn = []
    monkeypatch.setattr(plots, "plot_series_forecasts", lambda panels, path, **kw: drawn.extend(panels))
    from lstmkit.forecast.forecaster import Forecaster

    forecaster = Forecaster.load(tmp_path / "m")
    table = forecaster.forecast(frame, steps=3)
    cli_main.write_forecast_plot(forecaster, frame, table, tmp_path / "f.png")
    history = pd.Series(drawn[0]["x"])
    assert history.is_monotonic_increasing and history.iloc[-1] == pd.Timestamp("2020-01-31")
    assert drawn[0]["forecast_x"][0] == pd.Timestamp("2020-02-01")


def test_empty_and_header_only_tables_name_the_file(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert run_cli("train", empty, "--target", "y", "--quiet") == 1
    err = capsys.readouterr().err
    assert err.startswith("lstmkit train: error: ") and "empty.csv" in err and "is empty" in err
    header = tmp_path / "header.csv"
    header.write_text("y,x\n")
    assert run_cli("train", header, "--target", "y", "--quiet") == 1
    assert "header.csv" in capsys.readouterr().err
    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("y\n1\n")
    assert run_cli("train", not_parquet, "--target", "y", "--quiet") == 1
    assert "could not read" in capsys.readouterr().err


def test_a_too_short_series_warns_with_its_counts(tmp_path, capsys):
    series = tmp_path / "short.csv"
    pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 5.0]}).to_csv(series, index=False)
    assert run_cli("train", series, "--target", "y", "--epochs", 1, "--out", tmp_path / "m", "--quiet") == 0
    err = capsys.readouterr().err
    assert re.search(r"lstmkit train: warning: training on [12] windows and validating on 1: too few", err)
    assert "rest on 1 forecasts" in err


def test_a_bug_is_not_reported_as_bad_input(tmp_path, capsys, monkeypatch):
    import importlib

    cli_main = importlib.import_module("lstmkit.cli.main")  # the module (lstmkit.cli.main is also the function)

    def broken(args):
        raise KeyError("internal_table_key")  # what a library bug looks like: not an InputError
    monkeypatch.setattr(cli_main, "_summary", broken)
    assert run_cli("summary", tmp_path) == cli_main.BUG
    err = capsys.readouterr().err
    assert "internal error (KeyError: 'internal_table_key')" in err and "This is a bug in lstmkit" in err
    assert "--debug" in err and "Traceback" not in err
    assert run_cli("--debug", "summary", tmp_path) == cli_main.BUG
    assert "Traceback" in capsys.readouterr().err


def test_intervals_baselines_and_choices_on_the_command_line(tmp_path, stores_csv, capsys):
    out = tmp_path / "model"
    assert run_cli("train", stores_csv, "--target", "sales", "--id", "store", "--time", "month", "--epochs", 2,
                   "--ensemble", 2, "--out", out, "--quiet") == 0
    printed = capsys.readouterr().out
    assert "choices:" in printed and "season" in printed and "12" in printed and "MASE" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["choices"]["season"] == {"value": 12, "chosen_by": "the time column's frequency"}
    assert metrics["ensemble"] == 2 and (out / "model-2.lstmkit").is_file()
    assert metrics["validation_multi_step"]["steps"] >= 6
    # calibrated on the held-out tail early stopping did not see: as many steps as its first origin has truths
    assert 1 <= metrics["intervals"]["calibrated_steps"] <= metrics["validation_multi_step"]["steps"]
    made = metrics["choices"]["combination"]
    assert made["value"] in made["validation_mase"] or made["value"].startswith("per series: ")
    assert set(made["series"]) == {"s0", "s1"} and f"combination   {made['value']}" in printed
    assert f"    s0: {made['series']['s0']['choice']} (validation MASE" in printed

    forecast_csv, plot = tmp_path / "f.csv", tmp_path / "f.png"
    assert run_cli("forecast", out, stores_csv, "--steps", 4, "--level", 80, 95, "--out", forecast_csv,
                   "--plot", plot) == 0
    table = pd.read_csv(forecast_csv)
    assert list(table.columns) == ["store", "step", "month", "sales", "sales-lo-80", "sales-hi-80",
                                   "sales-lo-95", "sales-hi-95"]
    assert (table["sales-lo-95"] <= table["sales-lo-80"]).all() and (table["sales-lo-80"] <= table.sales).all()
    assert (table.sales <= table["sales-hi-80"]).all() and (table["sales-hi-80"] <= table["sales-hi-95"]).all()
    assert plot.read_bytes()[:4] == b"\x89PNG"

    scores_json = tmp_path / "scores.json"
    assert run_cli("evaluate", out, stores_csv, "--steps", 3, "--origins", 2, "--baselines", "ets",
                   "--out", scores_json) == 0
    scores = json.loads(scores_json.read_text())
    assert set(scores) == {"model", "persistence", "seasonal_naive", "AutoETS"}
    assert {"MASE", "coverage-80", "coverage-95"} <= set(scores["model"]) and "coverage-80" not in scores["AutoETS"]
    capsys.readouterr()
    assert run_cli("evaluate", out, stores_csv, "--baselines", "prophet") == 1
    assert "names among ['arima', 'ets']" in capsys.readouterr().err


def test_the_combination_can_be_fixed_on_the_command_line(tmp_path, stores_csv, capsys):
    out = tmp_path / "model"
    assert run_cli("train", stores_csv, "--target", "sales", "--id", "store", "--time", "month", "--epochs", 1,
                   "--combine", "naive", "--out", out, "--quiet") == 0
    made = json.loads((out / "metrics.json").read_text())["choices"]["combination"]
    assert made["value"] == "naive" and made["chosen_by"].startswith("you")
    table = tmp_path / "f.csv"
    assert run_cli("forecast", out, stores_csv, "--steps", 3, "--out", table) == 0
    last = pd.read_csv(stores_csv).groupby("store").sales.last()
    forecast = pd.read_csv(table)
    np.testing.assert_allclose(forecast.groupby("store").sales.max(), last, rtol=1e-6)
    np.testing.assert_allclose(forecast.groupby("store").sales.min(), last, rtol=1e-6)
    assert run_cli("train", stores_csv, "--target", "sales", "--combine", "drift", "--out", tmp_path / "x") == 2
