"""lstmkit.data.streaming: windows and sequences from Parquet / CSV pieces, sharded without overlap."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from lstmkit.data.streaming import SequenceStream, WindowStream, column_stats


def long_table(lengths=(23, 5, 40, 2, 17), seed=0):
    rng = np.random.default_rng(seed)
    frames = [pd.DataFrame({"id": k, "y": rng.normal(size=n).astype(np.float32),
                            "f": rng.normal(size=n).astype(np.float32)}) for k, n in enumerate(lengths)]
    return pd.concat(frames, ignore_index=True)


def write(frame, tmp_path, kind, rows_per_piece=9):
    if kind == "parquet":
        path = tmp_path / "t.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=rows_per_piece)
    else:
        path = tmp_path / "t.csv"
        frame.to_csv(path, index=False)
    return path


def expected_windows(frame, lookback, horizon):
    xs, ys = [], []
    for _, part in frame.groupby("id", sort=False):
        v = part[["y", "f"]].to_numpy(np.float32)
        for s in range(len(v) - lookback - horizon + 1):
            xs.append(v[s:s + lookback])
            ys.append(v[s + lookback:s + lookback + horizon, :1])
    return np.stack(xs), np.stack(ys)


def collect(stream):
    parts = list(stream)
    return [torch.cat([p[i] for p in parts]).numpy() for i in range(len(parts[0]))]


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_windows_equal_in_memory_windows_and_never_cross_ids(tmp_path, kind):
    frame = long_table()
    path = write(frame, tmp_path, kind)
    stream = WindowStream(path, "y", ["f"], id_col="id", lookback=6, horizon=2, batch_size=4, chunk_rows=9)
    x, y = collect(stream)
    want_x, want_y = expected_windows(frame, 6, 2)
    order = np.lexsort(x.reshape(len(x), -1).T)
    order_want = np.lexsort(want_x.reshape(len(want_x), -1).T)
    np.testing.assert_array_equal(x[order], want_x[order_want])
    np.testing.assert_array_equal(y[order], want_y[order_want])


@pytest.mark.parametrize("world", [2, 3])
def test_readers_share_the_pieces_without_overlap(tmp_path, monkeypatch, world):
    frame = long_table()
    path = write(frame, tmp_path, "parquet", rows_per_piece=7)
    shards = []
    for rank in range(world):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", str(world))
        stream = WindowStream(path, "y", ["f"], id_col="id", lookback=4, batch_size=6 * world)
        batches = list(stream)
        assert all(len(b[0]) <= 6 for b in batches)  # the global batch split between the ranks
        shards.append(np.concatenate([b[0].numpy() for b in batches]))
    rows = [set(map(bytes, s.reshape(len(s), -1))) for s in shards]
    for a in range(world):
        for b in range(a + 1, world):
            assert not rows[a] & rows[b]
    assert sum(len(s) for s in shards) == len(expected_windows(frame, 4, 1)[0])


def test_dataloader_workers_split_the_pieces(tmp_path):
    frame = long_table(lengths=(50, 60, 40))
    path = write(frame, tmp_path, "parquet", rows_per_piece=10)
    stream = WindowStream(path, "y", ["f"], id_col="id", lookback=5, batch_size=8)
    loader = torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2)
    x = torch.cat([b[0] for b in loader]).numpy()
    assert len(x) == len(expected_windows(frame, 5, 1)[0])
    assert len(set(map(bytes, x.reshape(len(x), -1)))) == len(x)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_sequences_come_whole_once_each(tmp_path, kind, monkeypatch):
    frame = long_table(lengths=(23, 5, 40, 2, 17, 9, 30))
    path = write(frame, tmp_path, kind, rows_per_piece=8)
    got = []
    for rank in range(2):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        for x, y, w in SequenceStream(path, "y", ["f"], id_col="id", batch_size=4, chunk_rows=8):
            for i in range(len(x)):
                n = int(w[i].sum())
                assert (w[i, n:] == 0).all()
                got.append(np.concatenate([y[i, :n].numpy(), x[i, :n].numpy()], axis=1))
    want = [part[["y", "f"]].to_numpy(np.float32) for _, part in frame.groupby("id", sort=False)]
    assert sorted(map(bytes, got)) == sorted(map(bytes, want))


def test_column_stats_in_one_pass_equal_numpy(tmp_path):
    frame = long_table()
    path = write(frame, tmp_path, "parquet", rows_per_piece=5)
    stats = column_stats(path, ["y", "f"], chunk_rows=5)
    values = frame[["y", "f"]].to_numpy(np.float64)
    np.testing.assert_allclose(stats.mean, values.mean(0), rtol=1e-12)
    np.testing.assert_allclose(stats.std, values.std(0), rtol=1e-10)
    np.testing.assert_array_equal(stats.min, values.min(0))
    assert list(stats.count) == [len(frame)] * 2
    x, _ = collect(WindowStream(path, "y", ["f"], id_col="id", lookback=3, scale=stats))
    assert abs(float(x[..., 0].mean())) < 0.2  # standardized


def test_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="files matching the pattern"):
        WindowStream(str(tmp_path / "*.parquet"), "y")
    (tmp_path / "t.txt").write_text("a")
    with pytest.raises(ValueError, match="Parquet .* or CSV"):
        WindowStream(tmp_path / "t.txt", "y")
    with pytest.raises(ValueError, match="id_col"):
        SequenceStream(write(long_table(), tmp_path, "csv"), "y", ["f"], id_col=None)


READER = """
import sys, numpy as np, psutil, pandas, pyarrow.parquet  # imported before the baseline
import torch
from lstmkit.data.streaming import WindowStream, column_stats
process = psutil.Process()
before = peak = process.memory_info().rss  # resident memory now (torch imported), then its peak while reading
stats = column_stats(sys.argv[1], ["y", "f"])
peak = max(peak, process.memory_info().rss)
count = 0
for x, y in WindowStream(sys.argv[1], "y", ["f"], id_col="id", lookback=8, batch_size=4096, scale=stats):
    count += len(x)
    peak = max(peak, process.memory_info().rss)
print(count, peak - before, stats.count[0])
"""


def test_ten_million_rows_stream_in_bounded_memory(tmp_path):
    path = tmp_path / "big.parquet"
    rows, per_id, group = 10_000_000, 100_000, 125_000
    schema = pa.schema([("id", pa.int32()), ("y", pa.float32()), ("f", pa.float32())])
    rng = np.random.default_rng(0)
    with pq.ParquetWriter(path, schema) as writer:  # written in pieces: the test never holds the table
        for start in range(0, rows, group):
            n = np.arange(start, start + group)
            writer.write_table(pa.table({"id": (n // per_id).astype(np.int32),
                                         "y": rng.normal(size=group).astype(np.float32),
                                         "f": rng.normal(size=group).astype(np.float32)}, schema=schema))
    table_bytes = rows * 12  # the columns in memory (float32 / int32); pandas float64 would be twice as much
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(os.path.dirname(__file__), "..", "..", "src"),
                                                       os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(READER), str(path)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    count, grown, seen = done.stdout.split()[-3:]
    assert int(count) == (rows // per_id) * (per_id - 8)  # every window, none across ids
    assert int(float(seen)) == rows
    print(f"10M rows ({table_bytes / 1e6:.0f} MB as columns): peak RSS grew by {int(grown) / 1e6:.1f} MB")
    assert int(grown) < table_bytes / 2, f"peak memory grew by {int(grown) / 1e6:.0f} MB"


def test_row_filter_keeps_the_windows_whose_first_row_it_accepts(tmp_path):
    frame = long_table()
    path = write(frame, tmp_path, "parquet", rows_per_piece=9)
    frame["row"] = np.arange(len(frame), dtype=np.float32)  # file row numbers, to check against
    seen = []

    def even_rows(f, first_rows):
        assert f == 0
        seen.append(first_rows)
        return first_rows % 2 == 0

    x, _ = collect(WindowStream(path, "y", ["f"], id_col="id", lookback=3, row_filter=even_rows, chunk_rows=9))
    first = np.concatenate(seen)
    want = []
    for _, part in frame.groupby("id", sort=False):
        rows = part["row"].to_numpy().astype(int)
        want += [r for r in rows[:max(0, len(rows) - 3)] if r % 2 == 0]  # windows of 3 + 1 within the id
    assert sorted(first[first % 2 == 0].tolist()) == want  # the filter saw every window's first row
    got = {bytes(w) for w in x.reshape(len(x), -1)}
    values = frame[["y", "f"]].to_numpy(np.float32)
    assert got == {bytes(values[r:r + 3].reshape(-1)) for r in want}
