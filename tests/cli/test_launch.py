"""``--nproc N``: the CLI relaunches itself through torch.distributed.run and trains data-parallel."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.cli import launch
from lstmkit.cli.main import build_parser, main


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


def subparser(parser, path):
    for name in path:
        parser = next(a for a in parser._actions if a.dest in ("command", "action")).choices[name]
    return parser


@pytest.mark.parametrize("argv", [
    ["train", "d.csv", "--target", "a,b", "--features", "f", "--epochs", "3", "--difference", "--log",
     "--learning-rate=-1e-3", "--nproc", "2", "--out=-odd"],
    ["ventilator", "run", "--units", "8,4", "--nproc", "3", "--quiet", "--device", "cpu"],
])
def test_the_relaunched_command_line_parses_to_the_same_arguments(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    command = argv[:1] if argv[0] == "train" else argv[:2]
    line = launch.command_line(subparser(parser, command), args, command)
    again = parser.parse_args(line)
    assert {k: v for k, v in vars(again).items() if k != "handler"} == \
        {k: v for k, v in vars(args).items() if k != "handler"}


def test_train_with_two_processes_equals_one(stores_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the other ranks' scratch folders go
    common = ["train", str(stores_csv), "--target", "sales", "--id", "store", "--time", "month", "--lookback", "12",
              "--epochs", "3", "--quiet", "--log"]  # --log: also an abbreviation of torchrun's --log-dir
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--out", str(tmp_path / "two"), "--nproc", "2"]) == 0
    one, two = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert one["epochs_run"] == two["epochs_run"] == 3
    for name, value in one["validation"]["model"].items():
        assert two["validation"]["model"][name] == pytest.approx(value, rel=1e-5)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    assert not list(tmp_path.glob("lstmkit-rank-*"))  # rank 1's scratch copy is gone


def test_ventilator_run_with_two_processes_equals_one(tmp_path):
    common = ["ventilator", "run", "--breaths", "40", "--test-breaths", "10", "--folds", "2", "--epochs", "1",
              "--units", "4", "--dense", "4", "--quiet"]
    assert main([*common, "--out", str(tmp_path / "one")]) == 0
    assert main([*common, "--out", str(tmp_path / "two"), "--nproc", "2"]) == 0
    one, two = (json.loads((tmp_path / d / "metrics.json").read_text())["mae"] for d in ("one", "two"))
    for name, value in one.items():
        if isinstance(value, float):
            assert two[name] == pytest.approx(value, rel=1e-4, abs=1e-6), name


def test_nproc_errors(stores_csv, tmp_path, capsys):
    base = ["train", str(stores_csv), "--target", "sales", "--out", str(tmp_path / "m")]
    assert main([*base, "--nproc", "0"]) == 1
    assert "--nproc expects a positive number" in capsys.readouterr().err
    if torch.cuda.device_count() < 2:
        assert main([*base, "--nproc", "2", "--device", "cuda"]) == 1
        assert "needs 2 GPUs (one per process)" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
