"""Tables larger than memory: windows and per-id sequences streamed from Parquet (row groups) or CSV (chunks).

A table is split into *pieces*: the row groups of each Parquet file, the ``chunk_rows``-row chunks of each
CSV file. Pieces are dealt round-robin to every reader of the job (``world_size`` ranks times each
rank's DataLoader workers), so no two readers produce the same window and together they produce all of
them. A window belongs to the piece holding its first row (a reader reads on into the next pieces of
the same file just far enough to finish its windows); a sequence belongs to the piece holding its id's
first row. Memory stays bounded by a few pieces, whatever the table's size.

Rows must be in time order within each id, and each id's rows contiguous (sorted by id, then time), as a
long table written per series is. ``column_stats`` computes per-column count, mean, std, min and max in
one streaming pass (Chan's parallel merge in float64) to scale inputs without loading the table.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from .. import _validation

OWNER = "lstmkit.data.streaming"


# -- files and pieces ---------------------------------------------------------------------------------------
def expand_paths(paths: Any) -> list[Path]:
    """Files from a path, a glob pattern (``data/*.parquet``) or a list of them, sorted, checked to exist."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    found: list[Path] = []
    for item in items:
        text = str(item)
        matches = sorted(glob.glob(text)) if any(c in text for c in "*?[") else [text]
        if not matches:
            raise _validation.value_error(OWNER, "paths", "files matching the pattern", repr(text))
        for match in matches:
            path = Path(match)
            if not path.is_file():
                raise FileNotFoundError(f"{OWNER}: no such file: {match!r}")
            if path.suffix.lower() not in (".parquet", ".pq", ".csv"):
                raise _validation.value_error(OWNER, "paths", "Parquet (.parquet) or CSV (.csv) files", repr(match))
            found.append(path)
    if not found:
        raise _validation.value_error(OWNER, "paths", "at least one file", "none")
    return found


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def pieces(files: Sequence[Path], chunk_rows: int) -> list[tuple[int, int]]:
    """``(file index, piece index)`` of every piece: Parquet row groups, CSV chunks of ``chunk_rows`` rows."""
    import pyarrow.parquet as pq

    out = []
    for f, path in enumerate(files):
        if _is_parquet(path):
            count = pq.ParquetFile(path).num_row_groups
        else:
            with open(path, "rb") as handle:
                rows = max(0, sum(1 for _ in handle) - 1)
            count = -(-rows // chunk_rows)
        out += [(f, p) for p in range(count)]
    return out


def piece_first_rows(path: Path, chunk_rows: int) -> np.ndarray:
    """The file row number of each piece's first row (Parquet row groups from the footer; CSV chunks)."""
    if _is_parquet(path):
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if sizes else np.zeros(0, np.int64)
    with open(path, "rb") as handle:
        rows = max(0, sum(1 for _ in handle) - 1)
    return np.arange(0, rows, chunk_rows, dtype=np.int64)


def read_pieces(path: Path, start: int, columns: list[str], chunk_rows: int) -> Iterator[dict[str, np.ndarray]]:
    """The columns of piece ``start``, then of each following piece of the file, one piece at a time."""
    if _is_parquet(path):
        import pyarrow as pa
        import pyarrow.parquet as pq

        handle = pq.ParquetFile(path)
        pool = pa.default_memory_pool()
        for g in range(start, handle.num_row_groups):
            table = handle.read_row_group(g, columns=columns)
            part = {c: np.array(table.column(c).to_numpy()) for c in columns}  # own copies: Arrow's buffers go
            del table
            pool.release_unused()  # Arrow's allocator would keep the freed pages resident
            yield part
    else:
        import pandas as pd

        reader = pd.read_csv(path, usecols=columns, chunksize=chunk_rows)
        for k, frame in enumerate(reader):
            if k >= start:
                yield {c: frame[c].to_numpy() for c in columns}


def reader_slot() -> tuple[int, int]:
    """This reader's index among every reader of the job, and their number (ranks x DataLoader workers)."""
    import torch.distributed as dist

    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() \
        else (int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)))
    info = torch.utils.data.get_worker_info()
    workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
    return rank * workers + worker, world * workers


# -- statistics -----------------------------------------------------------------------------------------------
@dataclass
class ColumnStats:
    """Per-column ``count``, ``mean``, ``std`` (population), ``min``, ``max`` (arrays in column order)."""

    columns: list[str]
    count: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    min: np.ndarray
    max: np.ndarray


def column_stats(paths: Any, columns: Sequence[str], chunk_rows: int = 1_000_000) -> ColumnStats:
    """Count, mean, std, min and max of ``columns`` in one pass over the files (bounded memory)."""
    files, columns = expand_paths(paths), list(columns)
    k = len(columns)
    count, mean, m2 = np.zeros(k), np.zeros(k), np.zeros(k)
    lo, hi = np.full(k, np.inf), np.full(k, -np.inf)
    for path in files:
        for part in read_pieces(path, 0, columns, chunk_rows):
            block = np.stack([np.asarray(part[c], dtype=np.float64) for c in columns], axis=1)
            if not np.isfinite(block).all():
                bad = np.argwhere(~np.isfinite(block))[0]
                raise _validation.value_error(OWNER, f"column {columns[bad[1]]!r} of {str(path)!r}",
                                              "finite values", "NaN or inf", "Fill or drop those rows first.")
            n = len(block)
            if not n:
                continue
            b_mean = block.mean(axis=0)
            b_m2 = ((block - b_mean) ** 2).sum(axis=0)
            total = count + n
            delta = b_mean - mean
            mean = mean + delta * n / total
            m2 = m2 + b_m2 + delta ** 2 * count * n / total
            count = total
            lo, hi = np.minimum(lo, block.min(axis=0)), np.maximum(hi, block.max(axis=0))
    if not count.any():
        raise _validation.value_error(OWNER, "paths", "rows", "empty files")
    return ColumnStats(columns, count, mean, np.sqrt(m2 / count), lo, hi)


# -- the datasets ------------------------------------------------------------------------------------------------
class _TableStream(torch.utils.data.IterableDataset):
    """Shared parts: files, columns, pieces, this reader's share, scaling."""

    rank_aware = True  # each rank reads its own pieces: fit must not split its batches again

    def __init__(self, paths: Any, target: Sequence[str] | str, features: Sequence[str] = (),
                 id_col: str | None = None, batch_size: int = 32, scale: ColumnStats | None = None,
                 scaling: str = "standard", chunk_rows: int = 100_000):
        self.files = expand_paths(paths)
        self.target = [target] if isinstance(target, str) else list(target)
        self.features = list(features)
        self.id_col = id_col
        self.batch_size = _validation.positive_int(OWNER, "batch_size", batch_size)
        self.chunk_rows = _validation.positive_int(OWNER, "chunk_rows", chunk_rows)
        if scaling not in ("standard", "minmax"):
            raise _validation.value_error(OWNER, "scaling", "'standard' or 'minmax'", repr(scaling))
        self.scaling, self.stats = scaling, scale
        self.inputs = self.target + [f for f in self.features if f not in self.target]
        self.columns = self.inputs + ([id_col] if id_col else [])
        if scale is not None and not set(self.inputs) <= set(scale.columns):
            raise _validation.value_error(OWNER, "scale", f"statistics for {self.inputs}", scale.columns)
        self.pieces = pieces(self.files, self.chunk_rows)

    def my_pieces(self) -> list[tuple[int, int]]:
        slot, readers = reader_slot()
        return self.pieces[slot::readers]

    def local_batch(self) -> int:
        """The per-rank batch: ``batch_size`` is the global batch (Keras's DataParallel)."""
        _, world = reader_slot()
        info = torch.utils.data.get_worker_info()
        ranks = world // (info.num_workers if info is not None else 1)
        return max(1, -(-self.batch_size // ranks))

    def _values(self, part: dict[str, np.ndarray]) -> np.ndarray:
        block = np.stack([np.asarray(part[c], dtype=np.float32) for c in self.inputs], axis=1)
        if self.stats is not None:
            index = [self.stats.columns.index(c) for c in self.inputs]
            if self.scaling == "standard":
                shift, size = self.stats.mean[index], np.where(self.stats.std[index] > 0, self.stats.std[index], 1.0)
            else:
                shift = self.stats.min[index]
                size = np.where(self.stats.max[index] > shift, self.stats.max[index] - shift, 1.0)
            block = ((block - shift) / size).astype(np.float32)
        return block


class WindowStream(_TableStream):
    """``(x, y)`` batches of sliding windows: ``x`` ``(b, lookback, inputs)``, ``y`` ``(b, horizon, targets)``
    (``(b, targets)`` for horizon 1), from a long table read in pieces; windows never cross ids.

    Args:
        paths: Parquet / CSV files (a glob pattern such as ``"data/*.parquet"`` or a list).
        target, features: input columns (targets first); ``id_col``: the series column (rows sorted by it).
        lookback, horizon: window sizes.
        batch_size: the global batch (each of ``W`` ranks yields ``ceil(batch_size / W)``).
        scale: ``column_stats(...)`` to standardize (or min-max, ``scaling="minmax"``) every input.
        row_filter: ``row_filter(file_index, first_rows) -> bool mask``: keep only the windows whose first
            row (file row numbers, ``(n,)``) it accepts, e.g. a train / validation split by time. Default all.
    """

    def __init__(self, paths: Any, target: Any, features: Sequence[str] = (), id_col: str | None = None,
                 lookback: int = 12, horizon: int = 1, batch_size: int = 32, scale: ColumnStats | None = None,
                 scaling: str = "standard", chunk_rows: int = 100_000, row_filter: Any = None):
        super().__init__(paths, target, features, id_col, batch_size, scale, scaling, chunk_rows)
        self.lookback = _validation.positive_int(OWNER, "lookback", lookback)
        self.horizon = _validation.positive_int(OWNER, "horizon", horizon)
        self.row_filter = row_filter
        self._first_rows: dict[int, np.ndarray] = {}  # file index -> each piece's first file row

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        span = self.lookback + self.horizon
        batch = self.local_batch()
        carry: tuple[np.ndarray, np.ndarray] | None = None  # a partial batch waiting for the next windows
        for f, p in self.my_pieces():
            for x, y in self._piece_windows(f, p, span):
                pos = 0
                if carry is not None:
                    pos = batch - len(carry[0])
                    x_first, y_first = np.concatenate([carry[0], x[:pos]]), np.concatenate([carry[1], y[:pos]])
                    carry = None
                    if len(x_first) < batch:
                        carry = (x_first, y_first)
                        continue
                    yield self._batch(x_first, y_first)
                while len(x) - pos >= batch:
                    yield self._batch(x[pos:pos + batch], y[pos:pos + batch])
                    pos += batch
                if pos < len(x):
                    carry = (np.array(x[pos:]), np.array(y[pos:]))
        if carry is not None:
            yield self._batch(*carry)

    def _batch(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        y = y[:, 0] if self.horizon == 1 else y
        return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))

    def _piece_windows(self, f: int, p: int, span: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Windows whose first row lies in piece ``p`` (reading on into the next pieces for their ends)."""
        parts = read_pieces(self.files[f], p, self.columns, self.chunk_rows)
        own = next(parts, None)
        if own is None:
            return
        n_own = len(own[self.inputs[0]])
        values, ids = [self._values(own)], [own[self.id_col]] if self.id_col else []
        have = n_own
        while have < n_own + span - 1:
            more = next(parts, None)
            if more is None:
                break
            need = n_own + span - 1 - have
            more = {c: v[:need] for c, v in more.items()}
            values.append(self._values(more))
            if self.id_col:
                ids.append(more[self.id_col])
            have += len(more[self.inputs[0]])
        rows = np.concatenate(values)
        starts = np.arange(max(0, min(n_own, len(rows) - span + 1)))
        if self.id_col:
            id_values = np.concatenate(ids)
            same = np.ones(len(id_values), dtype=bool)
            same[1:] = id_values[1:] == id_values[:-1]
            breaks = np.cumsum(~same)  # the run (id) number of each row
            starts = starts[breaks[starts] == breaks[starts + span - 1]]
        if self.row_filter is not None and len(starts):
            if f not in self._first_rows:
                self._first_rows[f] = piece_first_rows(self.files[f], self.chunk_rows)
            starts = starts[np.asarray(self.row_filter(f, self._first_rows[f][p] + starts), dtype=bool)]
        if not len(starts):
            return
        t = len(self.target)
        windows = np.lib.stride_tricks.sliding_window_view(rows, span, axis=0)  # (n, inputs, span): a view
        for s in range(0, len(starts), 16_384):  # copy at most 16k windows at a time
            chosen = windows[starts[s:s + 16_384]].transpose(0, 2, 1)
            yield chosen[:, :self.lookback], chosen[:, self.lookback:, :t]


class SequenceStream(_TableStream):
    """``(x, y, sample_weight)`` batches of whole per-id sequences (padded to the batch's longest; weight 0
    on padding): ``x`` ``(b, T, inputs)``, ``y`` ``(b, T, targets)`` with ``y`` the targets at the same step
    (``features`` predict ``target``: targets are not inputs unless listed in ``features``)."""

    def __init__(self, paths: Any, target: Any, features: Sequence[str], id_col: str, batch_size: int = 32,
                 scale: ColumnStats | None = None, scaling: str = "standard", chunk_rows: int = 100_000):
        if not id_col:
            raise _validation.value_error(OWNER, "id_col", "the column naming each sequence", repr(id_col))
        if not features:
            raise _validation.value_error(OWNER, "features", "the input columns", repr(features))
        super().__init__(paths, target, features, id_col, batch_size, scale, scaling, chunk_rows)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        batch = self.local_batch()
        group: list[np.ndarray] = []
        for f, p in self.my_pieces():
            for seq in self._piece_sequences(f, p):
                group.append(seq)
                if len(group) == batch:
                    yield self._pad(group)
                    group = []
        if group:
            yield self._pad(group)

    def _pad(self, group: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        longest = max(len(s) for s in group)
        values = np.zeros((len(group), longest, group[0].shape[1]), dtype=np.float32)
        weight = np.zeros((len(group), longest), dtype=np.float32)
        for i, s in enumerate(group):
            values[i, :len(s)], weight[i, :len(s)] = s, 1.0
        x_cols = [self.inputs.index(c) for c in self.features]
        y_cols = [self.inputs.index(c) for c in self.target]
        return (torch.from_numpy(values[:, :, x_cols]), torch.from_numpy(values[:, :, y_cols]),
                torch.from_numpy(weight))

    def _piece_sequences(self, f: int, p: int) -> Iterator[np.ndarray]:
        """Sequences whose first row lies in piece ``p`` (continued from the following pieces)."""
        previous_last = None
        if p > 0:  # the id running into this piece from the previous one belongs to that piece
            previous = next(read_pieces(self.files[f], p - 1, [self.id_col], self.chunk_rows))[self.id_col]
            previous_last = previous[-1] if len(previous) else None
        parts = read_pieces(self.files[f], p, self.columns, self.chunk_rows)
        own = next(parts, None)
        if own is None:
            return
        ids, rows = own[self.id_col], self._values(own)
        skip = 0
        if previous_last is not None:
            while skip < len(ids) and ids[skip] == previous_last:
                skip += 1
        ids, rows = ids[skip:], rows[skip:]
        if not len(ids):
            return
        cut = np.flatnonzero(ids[1:] != ids[:-1]) + 1
        bounds = [0, *cut.tolist(), len(ids)]
        for a, b in zip(bounds[:-2], bounds[1:-1]):
            yield rows[a:b]
        tail_id, tail = ids[bounds[-2]], [rows[bounds[-2]:]]
        for more in parts:  # the last sequence may continue into the next pieces
            more_ids = more[self.id_col]
            n = int(np.argmax(more_ids != tail_id)) if (more_ids != tail_id).any() else len(more_ids)
            tail.append(self._values({c: v[:n] for c, v in more.items()}))
            if n < len(more_ids):
                break
        yield np.concatenate(tail)
