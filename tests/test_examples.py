"""Smoke test: examples/shapes_tour.py runs (in a fresh interpreter) and prints the seeds' shapes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tour_output() -> str:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "shapes_tour.py")], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def line_for(output: str, label: str) -> str:
    """The tour's line for ``label`` (its first column), as 'shapes   explanation'."""
    found = [line for line in output.splitlines() if line.strip().startswith(label + " ")]
    assert len(found) == 1, f"expected one line for {label!r} in:\n{output}"
    return found[0].split("->", 1)[1].strip()


@pytest.mark.parametrize("label, shapes", [
    ("LSTM(4)", "(2, 4)"),
    ("LSTM(4, return_sequences=True)", "(2, 3, 4)"),
    ("LSTM(4, return_state=True)", "(2, 4), (2, 4), (2, 4)"),
    ("LSTM(4, return_sequences=True, return_state=True)", "(2, 3, 4), (2, 4), (2, 4)"),
    ("LSTM(20)", "(32, 20)"),
    ("LSTM(20, return_sequences=True)", "(32, 25, 20)"),
    ("Dense(10) on LSTM(20) output (32, 20)", "(32, 10)"),
    ("Dense(10) on return_sequences output (32, 25, 20)", "(32, 25, 10)"),
    ("TimeDistributed(Dense(10)) on (32, 25, 20)", "(32, 25, 10)"),
    ("params: Dense(10) on 20 features", "210"),
    ("params: TimeDistributed(Dense(10))", "210"),
    ("GRU(20, return_state=True)", "(32, 20), (32, 20)"),
    ("SimpleRNN(20, return_sequences=True)", "(32, 25, 20)"),
])
def test_tour_prints_each_shape(tour_output, label, shapes):
    rest = line_for(tour_output, label)
    assert re.match(re.escape(shapes) + r"\s{2,}\S", rest), rest  # the shapes, then an explanation


def test_tour_prints_the_errors_and_the_equivalence(tour_output):
    assert "TimeDistributed(Dense) and Dense give the same outputs" in tour_output
    assert re.search(r"TimeDistributed '\w+': input expects at least 3 dimensions .*received shape \(32, 20\)",
                     tour_output)
    assert re.search(r"LSTM '\w+': input expects shape \(batch, timesteps, features\); received a 2-D array "
                     r"of shape \(32, 25\).*x\.reshape\(32, 25, 1\)", tour_output)


def test_sine_forecast_example_trains_forecasts_and_plots(tmp_path):
    """Seed 001 end to end (examples/sine_forecast.py) with one epoch: plots and metrics written, values sane."""
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "sine_forecast.py"), "--epochs", "1",
                             "--look-ahead", "30", "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    import json

    metrics = json.loads((tmp_path / "metrics.json").read_text())
    for name in ("training.png", "forecast.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert metrics["recursive_forecast_steps"] == 30
    assert set(metrics["history"]) == {"loss", "acc", "rmse", "val_loss", "val_acc", "val_rmse"}
    assert 0 <= metrics["test_loss"] < 0.1  # scaled to [0, 1]: one epoch already beats a constant guess
    assert "Epoch 1/1" in result.stdout and "Total params: 66,689" in result.stdout


def run_example(name: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *args], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_airline_stateful_example_reports_rmse_in_passengers(tmp_path):
    """Seed 004's tutorial (examples/airline_stateful.py --quick): RMSE in original units, plot written."""
    import json

    result = run_example("airline_stateful.py", "--quick", "--out", str(tmp_path))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (tmp_path / "airline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # 144 months: 96 train / 48 test, look_back 3 -> 93 and 45 pairs
    assert (metrics["train_samples"], metrics["test_samples"], metrics["look_back"]) == (93, 45, 3)
    assert metrics["persistence_test_rmse"] == pytest.approx(48.87, abs=0.01)  # fixed by the data alone
    assert 5 < metrics["test_rmse"] < 400 and 5 < metrics["train_rmse"] < 300  # passengers, not scaled units
    assert "Test Score:" in result.stdout


def test_tanks_example_forecasts_three_ways_that_agree(tmp_path):
    """Seed 004's stateful many-to-many: the seed's loop, forecast.stateful and streams give the same numbers."""
    import json

    run_example("tanks_many_to_many.py", "--quick", "--out", str(tmp_path))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (tmp_path / "tanks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert metrics["max_abs_difference"]["carried_vs_seed_loop"] < 1e-5
    assert metrics["max_abs_difference"]["streams_vs_seed_loop"] < 1e-5
    assert metrics["future_steps"] == 6 and metrics["forecast_rmse"] > 0
