"""``lstmkit train "data/*.parquet"``: a partitioned table trained by streaming, then forecast / evaluate unchanged."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lstmkit.cli import launch
from lstmkit.cli.main import build_parser, main


@pytest.fixture()
def partitioned(tmp_path):
    """Three Parquet files of four meters each (hourly, several row groups per file)."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data"
    folder.mkdir()
    frames = []
    for part in range(3):
        chunk = []
        for m in range(4 * part, 4 * part + 4):
            t = np.arange(120)
            chunk.append(pd.DataFrame({"meter": f"m{m:02d}", "ts": pd.date_range("2024-01-01", periods=120, freq="h"),
                                       "load": 10 + m + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(size=120) * 0.3,
                                       "temp": rng.normal(size=120)}))
        frame = pd.concat(chunk, ignore_index=True)
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / f"part-{part}.parquet",
                       row_group_size=100)
        frames.append(frame)
    return folder, pd.concat(frames, ignore_index=True)


def test_a_glob_streams_and_the_model_folder_forecasts_and_evaluates(tmp_path, partitioned, capsys):
    folder, frame = partitioned
    out = tmp_path / "model"
    assert main(["train", str(folder / "*.parquet"), "--target", "load", "--id", "meter", "--time", "ts",
                 "--epochs", "2", "--quiet", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Streaming the table (a glob pattern" in printed and "on a sample" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["streamed"] is True and metrics["files"] == 3 and metrics["series"] == 12
    assert metrics["rows"] == len(frame) and metrics["choices"]["season"]["value"] == 24
    assert metrics["choices"]["transform"]["value"] == "none" and metrics["scaling"].startswith("per series")
    assert metrics["train_windows"] > 0 and metrics["validation_windows"] > 0
    assert sorted(p.name for p in out.iterdir()) == ["forecaster.json", "metrics.json", "model.lstmkit"]

    recent = tmp_path / "recent.csv"
    frame[frame.meter.isin(["m00", "m07"])].to_csv(recent, index=False)
    assert main(["forecast", str(out), str(recent), "--steps", "5", "--out", str(tmp_path / "f.csv")]) == 0
    table = pd.read_csv(tmp_path / "f.csv")
    assert list(table.columns) == ["meter", "step", "ts", "load"] and len(table) == 10
    assert table.ts.iloc[0] == str(frame.ts.iloc[119] + pd.Timedelta(hours=1))
    assert main(["evaluate", str(out), str(recent), "--steps", "3"]) == 0
    assert "seasonal_naive" in capsys.readouterr().out


def test_a_folder_and_several_files_stream_no_stream_loads_them(tmp_path, partitioned, capsys):
    folder, _ = partitioned
    common = ["--target", "load", "--features", "temp", "--id", "meter", "--time", "ts", "--lookback", "12",
              "--epochs", "1", "--quiet", "--transform", "none"]
    assert main(["train", str(folder), *common, "--out", str(tmp_path / "a")]) == 0
    assert "(a folder" in capsys.readouterr().out
    files = [str(p) for p in sorted(folder.glob("*.parquet"))[:2]]
    assert main(["train", *files, *common, "--out", str(tmp_path / "b")]) == 0
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["files"] == 2
    assert main(["train", str(folder), *common, "--no-stream", "--out", str(tmp_path / "c")]) == 0
    memory = json.loads((tmp_path / "c" / "metrics.json").read_text())
    streamed = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert "streamed" not in memory and (tmp_path / "c" / "validation.png").is_file()
    assert memory["train_windows"] == streamed["train_windows"]  # one file per meter: the same windows
    assert memory["validation_windows"] == streamed["validation_windows"]


def test_stream_errors_exit_1_with_one_clear_line(tmp_path, partitioned, capsys):
    folder, frame = partitioned
    base = ["--target", "load", "--id", "meter", "--time", "ts", "--quiet", "--out", str(tmp_path / "m")]
    assert main(["train", str(tmp_path / "nothing" / "*.parquet"), *base]) == 1
    assert "files matching the pattern" in capsys.readouterr().err
    pq.write_table(pa.Table.from_pandas(frame.drop(columns="load"), preserve_index=False), folder / "zz.parquet")
    assert main(["train", str(folder / "*.parquet"), *base]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "zz.parquet" in err[0] and "['load']" in err[0]
    assert main(["train", str(folder / "part-0.parquet"), *base, "--stream", "--log"]) == 1
    assert "'none' (or auto) when streaming" in capsys.readouterr().err
    assert main(["train", str(folder / "part-0.parquet"), *base, "--stream", "--scaler", "robust"]) == 1
    assert "quantiles" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["train", "a.parquet", "b.parquet", "--target", "y", "--stream", "--no-scale-per-id", "--nproc", "2"],
    ["train", "d/*.parquet", "--target", "y", "--no-stream", "--scale-per-id"],
])
def test_the_relaunched_command_keeps_paths_and_on_off_flags(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    train = next(a for a in parser._actions if a.dest == "command").choices["train"]
    again = parser.parse_args(launch.command_line(train, args, ["train"]))
    assert {k: v for k, v in vars(again).items() if k != "handler"} == \
        {k: v for k, v in vars(args).items() if k != "handler"}


def test_two_processes_stream_their_own_pieces(tmp_path, partitioned, monkeypatch):
    folder, _ = partitioned
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    common = ["train", str(folder / "*.parquet"), "--target", "load", "--id", "meter", "--time", "ts", "--epochs", "2",
              "--lookback", "12", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--out", str(tmp_path / "two"), "--nproc", "2"]) == 0
    one, two = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert two["train_windows"] == one["train_windows"] and two["epochs_run"] == 2
    for name in ("model", "persistence"):  # summed over both ranks' held-out windows
        assert two["validation_scaled"][name]["MAE"] > 0
    naive_one, naive_two = (m["validation_scaled"]["persistence"]["MAE"] for m in (one, two))
    assert naive_two == pytest.approx(naive_one, rel=1e-6)  # every held-out window counted once
