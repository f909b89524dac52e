"""Forecaster.fit_files: a long table trained from its files, never loaded (forecast.streamed, table_files)."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lstmkit.data.scaling import SeriesScaler
from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast.streamed import ForecastWindows, TimeSplit, choose_streaming, scaler_from_stats, training_stats
from lstmkit.forecast.table_files import scan, table_files


def meters(n_ids=6, lengths=None, seed=0):
    """A long table sorted by meter, then hour: load = 10 + meter + a daily cycle + noise."""
    rng = np.random.default_rng(seed)
    lengths = lengths or [80 + 7 * k for k in range(n_ids)]
    frames = []
    for m, n in enumerate(lengths):
        t = np.arange(n)
        load = 10 + m + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(size=n)
        frames.append(pd.DataFrame({"meter": m, "ts": np.int64(1000) + t, "load": load.astype(np.float32),
                                    "temp": rng.normal(size=n).astype(np.float32)}))
    return pd.concat(frames, ignore_index=True)


def write_by_id(frame, folder, ids_per_file=2, row_group=25):
    """Files of whole meters, several row groups each."""
    folder.mkdir(exist_ok=True)
    ids = frame.meter.unique()
    for k in range(0, len(ids), ids_per_file):
        part = frame[frame.meter.isin(ids[k:k + ids_per_file])]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"part-{k:03d}.parquet",
                       row_group_size=row_group)
    return folder


def write_by_time(frame, folder, cuts=(40, 70), row_group=30):
    """Time-partitioned files: every meter in every file, each file a stretch of hours."""
    folder.mkdir(exist_ok=True)
    edges = [-np.inf, *[1000 + c for c in cuts], np.inf]
    for k in range(len(edges) - 1):
        part = frame[(frame.ts >= edges[k]) & (frame.ts < edges[k + 1])]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"t-{k}.parquet",
                       row_group_size=row_group)
    return folder


@pytest.mark.parametrize("layout_kind", ["by_id", "by_time"])
@pytest.mark.parametrize("horizon", [1, 3])
def test_validation_targets_are_disjoint_from_training_windows(tmp_path, layout_kind, horizon):
    frame = meters()
    frame["load"] = (frame.meter * 1000 + frame.groupby("meter").cumcount()).astype(np.float32)  # id, position
    folder = (write_by_id if layout_kind == "by_id" else write_by_time)(frame, tmp_path / "d")
    layout = scan(table_files(folder), "meter", "ts", chunk_rows=1000)
    assert list(layout.counts) == list(frame.groupby("meter").size())
    lookback, held = 6, np.array([int(round((n - 6 - horizon + 1) * 0.2)) for n in layout.counts])
    cuts = layout.counts - horizon + 1 - held
    parts = {}
    for part in ("train", "validation"):
        split = TimeSplit(layout, cuts, lookback, horizon, part)
        stream = ForecastWindows(layout, ["load"], ["temp"], "meter", lookback, horizon, 16, split,
                                 np.zeros((1, 2)), np.ones((1, 2)), shuffle=part == "train", seed=0, chunk_rows=1000)
        x, y = (np.concatenate(a) for a in zip(*[(bx.numpy(), by.numpy()) for bx, by in stream]))
        assert len(x) == split.count()
        y = y.reshape(len(y), horizon)
        np.testing.assert_array_equal(x[:, -1, 0] + 1, y[:, 0])  # a window's targets follow its inputs
        parts[part] = y
    ids = lambda v: (v // 1000).astype(int)  # noqa: E731
    pos = lambda v: (v % 1000).astype(int)  # noqa: E731
    train_rows = {(i, p) for v in parts["train"].ravel() for i, p in [(ids(v), pos(v))]}
    val_rows = {(i, p) for v in parts["validation"].ravel() for i, p in [(ids(v), pos(v))]}
    assert not train_rows & val_rows
    assert all(p < cuts[i] for i, p in train_rows) and all(p >= cuts[i] for i, p in val_rows)
    if layout_kind == "by_id":  # nothing lost: in memory's held-out windows, and its training ones less horizon - 1
        windows = layout.counts - lookback - horizon + 1
        assert len(parts["validation"]) == held.sum()
        assert len(parts["train"]) == (windows - held - (horizon - 1)).sum()
    else:  # windows never cross files: each file boundary costs lookback + horizon - 1 windows per meter
        assert len(parts["validation"]) <= held.sum() and len(parts["train"]) > 0


def test_scaling_stats_equal_a_scaler_fitted_on_the_training_rows(tmp_path):
    frame = meters()
    layout = scan(table_files(write_by_id(frame, tmp_path / "d")), "meter", "ts", chunk_rows=1000)
    cuts = layout.counts - 15
    for kind in ("minmax", "standard"):
        for per_id in (True, False):
            stats = training_stats(layout, ["load", "temp"], cuts, per_id, chunk_rows=1000)
            names = [str(i) for i in layout.ids] if per_id else None
            streamed = scaler_from_stats(kind, stats, names)
            train = frame[frame.groupby("meter").cumcount() < frame.meter.map(dict(enumerate(cuts)))]
            values = train[["load", "temp"]].to_numpy(np.float64)
            groups = train.meter.astype(str).to_numpy() if per_id else None
            memory = SeriesScaler(kind, per_group=per_id).fit(values, groups=groups)
            everything = frame[["load", "temp"]].to_numpy(np.float64)
            all_groups = frame.meter.astype(str).to_numpy() if per_id else None
            np.testing.assert_allclose(streamed.transform(everything, groups=all_groups),
                                       memory.transform(everything, groups=all_groups), rtol=1e-9, atol=1e-9)


def test_fit_files_counts_and_scaler_match_training_in_memory_then_forecasts(tmp_path):
    frame = meters()
    folder = write_by_id(frame, tmp_path / "d")
    kwargs = dict(target="load", id_col="meter", time_col="ts", lookback=12, transform="none", season=24)
    streamed = Forecaster(**kwargs)
    metrics = streamed.fit_files(str(folder / "*.parquet"), epochs=2, verbose=0)
    memory = Forecaster(**kwargs)
    reference = memory.fit(frame, epochs=1, verbose=0)
    assert metrics["streamed"] is True and metrics["series"] == 6 and metrics["files"] == 3
    assert metrics["validation_windows"] == reference["validation_windows"]
    assert metrics["train_windows"] == reference["train_windows"]  # horizon 1: the same windows
    values = frame[["load"]].to_numpy(np.float64)
    groups = frame.meter.astype(str).to_numpy()
    np.testing.assert_allclose(streamed.scaler.transform(values, groups=groups),
                               memory.scaler.transform(values, groups=groups), rtol=1e-6)
    assert set(metrics["validation_scaled"]) == {"model", "persistence"} and metrics["epochs_run"] == 2
    assert metrics["choices"]["transform"]["chosen_by"] == "you"
    streamed.save(tmp_path / "model")
    loaded = Forecaster.load(tmp_path / "model")
    table = loaded.forecast(frame, steps=4)
    assert len(table) == 6 * 4 and np.isfinite(table.load).all()
    truth_level = frame.groupby("meter").load.mean().to_numpy()
    assert np.all(np.abs(table.groupby("meter").load.mean().to_numpy() - truth_level) < 5)  # right series, units


def test_defaults_that_need_the_whole_table_are_stated(tmp_path):
    frame = meters(lengths=[80] * 5 + [10])  # one series too short for a window
    frame["ts"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(frame.groupby("meter").cumcount(), unit="h")
    folder = write_by_id(frame, tmp_path / "d")
    f = Forecaster("load", id_col="meter", time_col="ts")
    with pytest.warns(UserWarning, match="1 of 6 series have fewer than"):
        metrics = f.fit_files(folder, epochs=1, verbose=0)
    made = metrics["choices"]
    assert made["season"]["value"] == 24 and "on a sample" in made["season"]["chosen_by"]
    assert made["transform"]["value"] == "none" and "needs whole series" in made["transform"]["chosen_by"]
    assert made["lookback"]["value"] == 26  # two seasons, at most a third of the median series (80)
    assert "left out" in metrics["warnings"][0]
    assert made["combination"]["value"] == "network" and "does not score" in made["combination"]["chosen_by"]


def test_a_fixed_combination_is_kept_when_streaming(tmp_path):
    frame = meters()
    folder = write_by_id(frame, tmp_path / "d")
    f = Forecaster("load", id_col="meter", time_col="ts", lookback=12, transform="none", season=24, combine="naive")
    made = f.fit_files(str(folder / "*.parquet"), epochs=1, verbose=0)["choices"]["combination"]
    assert made["value"] == "naive" and made["chosen_by"] == "you"
    table = f.forecast(frame, steps=3)
    last = frame.sort_values("ts").groupby("meter").load.last()
    np.testing.assert_allclose(table.groupby("meter").load.first(), last, rtol=1e-9)
    np.testing.assert_allclose(table.groupby("meter").load.last(), last, rtol=1e-9)


def test_refuses_what_it_cannot_stream(tmp_path):
    folder = write_by_id(meters(), tmp_path / "d")
    for kwargs, match in [(dict(transform="log"), "transform"), (dict(scaler="robust"), "quantiles"),
                          (dict(ensemble=2), "ensemble"), (dict(method="stateful"), "method"),
                          (dict(past_features=["temp"]), "past_features.*in memory"),
                          (dict(static_features=["meter"]), "static_features.*in memory")]:
        with pytest.raises(ValueError, match=match):
            Forecaster("load", id_col="meter", time_col="ts", **kwargs).fit_files(folder, epochs=1, verbose=0)


def test_bad_tables_get_clear_errors(tmp_path):
    frame = meters()
    good = write_by_id(frame, tmp_path / "good")

    def fit(paths):
        return Forecaster("load", ["temp"], "meter", "ts", lookback=6).fit_files(paths, epochs=1, verbose=0)

    with pytest.raises(ValueError, match="files matching the pattern"):
        fit(str(tmp_path / "none" / "*.parquet"))
    with pytest.raises(ValueError, match="holding none"):
        (tmp_path / "empty").mkdir()
        fit(tmp_path / "empty")
    lacking = tmp_path / "lacking.parquet"
    pq.write_table(pa.Table.from_pandas(frame.drop(columns="load"), preserve_index=False), lacking)
    with pytest.raises(ValueError, match=r"lacking.parquet.*the column\(s\) \['load'\]"):
        fit([*sorted(good.glob("*.parquet")), lacking])
    other = tmp_path / "other.parquet"
    pq.write_table(pa.Table.from_pandas(frame.astype({"meter": str}), preserve_index=False), other)
    with pytest.raises(ValueError, match="one schema.*'meter' of type int64 in .*but .*string in .*other.parquet"):
        fit([*sorted(good.glob("*.parquet")), other])
    unsorted = tmp_path / "unsorted.parquet"
    swapped = frame.copy()
    swapped.loc[[5, 6], "ts"] = swapped.loc[[6, 5], "ts"].to_numpy()
    pq.write_table(pa.Table.from_pandas(swapped, preserve_index=False), unsorted, row_group_size=4)
    with pytest.raises(ValueError, match="increasing 'ts'.*id 0 going from 1006 to 1005 at row 6"):
        fit(unsorted)
    split = tmp_path / "split.parquet"
    pq.write_table(pa.Table.from_pandas(pd.concat([frame[frame.meter == 0], frame[frame.meter == 1],
                                                   frame[frame.meter == 0].assign(ts=lambda f: f.ts + 500)]),
                                        preserve_index=False), split)
    with pytest.raises(ValueError, match="id 0 in several separate stretches"):
        fit(split)
    back = tmp_path / "back"
    write_by_time(frame, back)
    os.rename(back / "t-0.parquet", back / "t-9.parquet")  # the first stretch of hours now read last
    with pytest.raises(ValueError, match="from one file to the next"):
        fit(back)


def test_when_to_stream():
    assert choose_streaming(["a.parquet"]) == (False, "one file under the streaming size")
    assert choose_streaming(["data/*.parquet"])[0] and choose_streaming(["a.parquet", "b.parquet"])[0]
    assert choose_streaming(["data/*.parquet"], requested=False) == (False, "--no-stream")
    assert choose_streaming(["a.csv"], requested=True) == (True, "--stream")


READER = """
import sys, numpy as np, psutil, pandas, pyarrow.parquet, torch
from lstmkit.forecast.streamed import ForecastWindows, TimeSplit, training_stats
from lstmkit.forecast.table_files import scan, table_files

def passes(folder, cuts_back=100):
    layout = scan(table_files(folder), "meter", "ts", 100_000)
    yield
    cuts = layout.counts - cuts_back
    stats = training_stats(layout, ["load", "temp"], cuts, True, 100_000)
    yield
    split = TimeSplit(layout, cuts, 8, 1, "train")
    count = 0
    for x, y in ForecastWindows(layout, ["load"], ["temp"], "meter", 8, 1, 1024, split, stats["mean"],
                                np.sqrt(stats["var"]) + 1, True, 0, 100_000):
        count += len(x)
        yield
    print(count, split.count())

for _ in passes(sys.argv[2], 10):  # warm up: imports and allocator pools, on a small table
    pass
process = psutil.Process()
before = peak = process.memory_info().rss
for _ in passes(sys.argv[1]):
    peak = max(peak, process.memory_info().rss)
print(peak - before)
"""


def test_the_passes_hold_pieces_not_the_table(tmp_path):
    folder, rows, per_id = tmp_path / "big", 8_000_000, 20_000
    folder.mkdir()
    schema = pa.schema([("meter", pa.int32()), ("ts", pa.int64()), ("load", pa.float32()), ("temp", pa.float32())])
    rng = np.random.default_rng(0)
    for k, start in enumerate(range(0, rows, 1_000_000)):  # eight files, written a piece at a time
        with pq.ParquetWriter(folder / f"part-{k}.parquet", schema) as writer:
            for s in range(start, start + 1_000_000, 100_000):
                n = np.arange(s, s + 100_000)
                writer.write_table(pa.table({"meter": (n // per_id).astype(np.int32), "ts": n % per_id,
                                             "load": rng.normal(size=len(n)).astype(np.float32),
                                             "temp": rng.normal(size=len(n)).astype(np.float32)}, schema=schema))
    small = write_by_id(meters(), tmp_path / "small")
    table_bytes = rows * 8 * 4  # the table in pandas as float64 / int64 columns
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(os.path.dirname(__file__), "..", "..", "src"),
                                                       os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(READER), str(folder), str(small)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    count, expected, grown = (int(v) for v in done.stdout.split()[-3:])  # the last pass's window counts
    assert count == expected == (rows // per_id) * (per_id - 100 - 8)
    print(f"{rows} rows ({table_bytes / 1e6:.0f} MB in pandas): peak RSS grew by {grown / 1e6:.1f} MB")
    assert grown < table_bytes / 3, f"peak memory grew by {grown / 1e6:.0f} MB"  # pieces, buffers: ~50 MB
