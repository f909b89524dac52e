"""A long table kept in files (Parquet row groups, CSV chunks), read for training without loading it.

``table_files`` turns a glob, a folder or several paths into the files; ``check_schemas`` reads only
their footers / headers (every file holds the columns, of one type across files); ``scan`` makes one
pass over the id and time columns, checking that each id's rows are contiguous in a file and in time
order (also across files), and records the id *runs* of every file: which id, its first file row and
length, and the run's position among its id's rows. Memory grows with the number of runs (ids per
file), never with the rows. ``Layout.positions`` then places any file row in its id, which is what
the time split between training and validation rows (``forecast.streamed``) needs.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import _validation
from .._lazy import pandas as pd
from ..data import streaming

OWNER = "streamed training"


def table_files(paths: Any) -> list[Path]:
    """The files of ``paths``: a glob pattern, a file, a folder (its ``*.parquet`` files, partition
    sub-folders included) or a list of them; sorted within each item, checked to exist."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise _validation.value_error(OWNER, "the data", "one or more files, folders or glob patterns", "none")
    expanded: list[str] = []
    for item in items:
        if Path(item).is_dir():
            found = sorted(p for p in glob.glob(os.path.join(str(item), "**", "*"), recursive=True)
                           if p.lower().endswith((".parquet", ".pq")) and Path(p).is_file())
            if not found:
                raise _validation.value_error(OWNER, "the data folder", "Parquet files (*.parquet) in it",
                                              f"{str(item)!r}, holding none", "Pass the files or a glob instead.")
            expanded += found
        else:
            expanded.append(str(item))
    return streaming.expand_paths(expanded)


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _column_kinds(path: Path) -> dict[str, str]:
    """Column name -> type name, from a Parquet footer or the first rows of a CSV (numeric or not)."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(path)
        except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
            raise _validation.value_error(OWNER, f"the file {str(path)!r}", "a Parquet file",
                                          f"one that could not be read ({type(error).__name__}: {error})") from None
        return {name: str(schema.field(name).type) for name in schema.names}
    try:
        head = pd.read_csv(path, nrows=1000)
    except pd.errors.EmptyDataError:
        raise _validation.value_error(OWNER, f"the file {str(path)!r}", "a CSV with a header row", "an empty file") \
            from None
    return {name: ("number" if pd.api.types.is_numeric_dtype(head[name]) else "text") for name in head.columns}


def _numeric(kind: str) -> bool:
    return kind == "number" or kind.startswith(("int", "uint", "float", "double", "halffloat", "decimal", "bool"))


def check_schemas(files: Sequence[Path], inputs: Sequence[str], keys: Sequence[str]) -> None:
    """Every file holds the ``inputs`` (numeric) and ``keys`` (id, time) columns, each of one type in every
    file. Reads footers and headers only."""
    first: tuple[Path, dict[str, str]] | None = None
    for path in files:
        kinds = _column_kinds(path)
        missing = [c for c in [*inputs, *keys] if c not in kinds]
        if missing:
            raise _validation.value_error(OWNER, f"the file {str(path)!r}", f"the column(s) {missing} "
                                          "(--target / --features / --id / --time)", f"columns {list(kinds)[:20]}",
                                          "Check the spelling, or leave out the files that lack them.")
        text = [f"{c!r} ({kinds[c]})" for c in inputs if not _numeric(kinds[c])]
        if text:
            raise _validation.type_error(OWNER, f"the file {str(path)!r}", "numeric target and feature columns",
                                         ", ".join(text), "Convert or encode them, or leave them out.")
        wanted = {c: kinds[c] for c in [*inputs, *keys]}
        if first is None:
            first = (path, wanted)
            continue
        differ = [c for c in wanted if wanted[c] != first[1][c]]
        if differ:
            c = differ[0]
            raise _validation.value_error(OWNER, "the files", "one schema: each column of one type in every file",
                                          f"{c!r} of type {first[1][c]} in {str(first[0])!r} but {wanted[c]} in "
                                          f"{str(path)!r}", "Rewrite the files with the same column types "
                                          "(e.g. cast with pyarrow), or train on the files that agree.")


@dataclass
class Layout:
    """Where each id's rows lie: per file, its runs' first file row, id number and position in the id.

    ``ids`` (in order of first appearance), ``counts`` rows per id; ``run_start[f]``, ``run_id[f]``,
    ``run_offset[f]`` (the run's first row's position among its id's rows) and ``run_length[f]``.
    """

    files: list[Path]
    ids: np.ndarray
    counts: np.ndarray
    run_start: list[np.ndarray] = field(default_factory=list)
    run_id: list[np.ndarray] = field(default_factory=list)
    run_offset: list[np.ndarray] = field(default_factory=list)
    run_length: list[np.ndarray] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return int(self.counts.sum())

    def positions(self, f: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For file rows ``rows`` of file ``f``: each row's id number and its position among its id's rows."""
        k = np.searchsorted(self.run_start[f], rows, side="right") - 1
        return self.run_id[f][k], rows - self.run_start[f][k] + self.run_offset[f][k]


def _times(owner_path: Path, column: str, values: np.ndarray) -> np.ndarray:
    """A time column's piece as comparable numbers or datetimes (dates read as text parsed)."""
    if values.dtype.kind in "iufM":
        times = values
    else:
        try:
            times = pd.to_datetime(pd.Series(values)).to_numpy()
        except (ValueError, TypeError):
            raise _validation.type_error(OWNER, f"the time column {column!r} of {str(owner_path)!r}",
                                         "numbers or dates", f"values such as {values[0]!r}") from None
    missing = pd.isna(times)
    if missing.any():
        raise _validation.value_error(OWNER, f"the time column {column!r} of {str(owner_path)!r}",
                                      "a time in every row", "an empty time", "Fill or drop those rows.")
    return times


def _objects(values: list) -> np.ndarray:
    """A 1-D object array of ``values`` (ids of any type, never broadcast into more dimensions)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)


def scan(files: Sequence[Path], id_col: str | None, time_col: str | None, chunk_rows: int) -> Layout:
    """One pass over the id and time columns: the runs of every file, each id contiguous within a file
    and strictly increasing in time (within a file and from one file to the next)."""
    columns = [c for c in (id_col, time_col) if c]
    per_file = []  # (run ids, run starts, run lengths, run first times, run last times)
    for f, path in enumerate(files):
        ids_f, starts_f, lens_f, first_t, last_t = [], [], [], [], []
        row = 0
        for part in (streaming.read_pieces(path, 0, columns, chunk_rows) if columns else
                     ({"_": np.zeros(n, np.int8)} for n in _piece_sizes(path, chunk_rows))):
            n = len(next(iter(part.values())))
            if not n:
                continue
            ids = part[id_col] if id_col else np.zeros(n, np.int8)
            if id_col and pd.isna(ids).any():
                empty = row + int(np.flatnonzero(pd.isna(ids))[0])
                raise _validation.value_error(OWNER, f"the id column {id_col!r} of {str(path)!r}", "an id in every "
                                              "row", f"an empty id at row {empty}", "Fill or drop those rows.")
            times = _times(path, time_col, part[time_col]) if time_col else None
            same = ids[1:] == ids[:-1]
            joined = bool(lens_f) and ids[0] == ids_f[-1]  # the last run of the previous piece goes on
            if times is not None:
                bad = np.flatnonzero(same & ~(times[1:] > times[:-1]))
                if joined and not times[0] > last_t[-1]:
                    bad, where = np.array([-1]), row
                else:
                    where = row + int(bad[0]) + 1 if len(bad) else 0
                if len(bad):
                    i = int(bad[0])
                    raise _validation.value_error(
                        OWNER, f"the rows of {str(path)!r}", f"each id's rows in increasing {time_col!r} "
                        "(sorted by id, then time; no duplicate times)", f"id {_show(ids[i + 1])} going from "
                        f"{_show(times[i] if i >= 0 else last_t[-1])} to {_show(times[i + 1])} at row {where}",
                        "Sort each file by id, then time (e.g. frame.sort_values([id, time])), and drop duplicates.")
            bounds = np.concatenate([[0], np.flatnonzero(~same) + 1, [n]])
            run_ids, run_lens = ids[bounds[:-1]], np.diff(bounds)
            run_first = times[bounds[:-1]] if times is not None else None
            run_last = times[bounds[1:] - 1] if times is not None else None
            start = 0
            if joined:
                lens_f[-1] += int(run_lens[0])
                if times is not None:
                    last_t[-1] = run_last[0]
                start = 1
            for k in range(start, len(run_ids)):
                ids_f.append(run_ids[k])
                starts_f.append(row + int(bounds[k]))
                lens_f.append(int(run_lens[k]))
                if times is not None:
                    first_t.append(run_first[k])
                    last_t.append(run_last[k])
            row += n
        repeated = pd.Index(_objects(ids_f)).duplicated() if ids_f else np.zeros(0, bool)
        if repeated.any():
            again = ids_f[int(np.flatnonzero(repeated)[0])]
            raise _validation.value_error(OWNER, f"the rows of {str(path)!r}", f"each id's rows together (sorted by "
                                          f"{id_col!r}, then time)", f"id {_show(again)} in several separate "
                                          "stretches", "Sort each file by id, then time.")
        per_file.append((ids_f, starts_f, lens_f, first_t, last_t))
    all_ids = _objects([i for p in per_file for i in p[0]])
    if not len(all_ids):
        raise _validation.value_error(OWNER, "the files", "rows", "only empty files", "Check the paths.")
    codes, uniques = pd.factorize(all_ids)
    lengths = np.array([n for p in per_file for n in p[2]], dtype=np.int64)
    counts = np.bincount(codes, weights=lengths).astype(np.int64)
    offsets = (pd.Series(lengths).groupby(codes).cumsum().to_numpy() - lengths).astype(np.int64)
    if time_col:
        _check_across_files(per_file, codes, time_col, files)
    layout = Layout(list(files), np.asarray(uniques, dtype=object), counts)
    at = 0
    for ids_f, starts_f, lens_f, _, _ in per_file:
        k = len(ids_f)
        layout.run_start.append(np.asarray(starts_f, dtype=np.int64))
        layout.run_id.append(codes[at:at + k].astype(np.int64))
        layout.run_offset.append(offsets[at:at + k])
        layout.run_length.append(np.asarray(lens_f, dtype=np.int64))
        at += k
    return layout


def _piece_sizes(path: Path, chunk_rows: int) -> list[int]:
    """Rows per piece (for a table without id and time columns)."""
    starts = streaming.piece_first_rows(path, chunk_rows)
    if is_parquet(path):
        import pyarrow.parquet as pq

        total = pq.ParquetFile(path).metadata.num_rows
    else:
        with open(path, "rb") as handle:
            total = max(0, sum(1 for _ in handle) - 1)
    return np.diff(np.append(starts, total)).tolist()


def _check_across_files(per_file: list, codes: np.ndarray, time_col: str, files: Sequence[Path]) -> None:
    """An id continued in a later file must continue later in time."""
    first = np.array([t for p in per_file for t in p[3]])
    last = np.array([t for p in per_file for t in p[4]])
    file_of = np.repeat(np.arange(len(per_file)), [len(p[0]) for p in per_file])
    previous = pd.Series(np.arange(len(codes))).groupby(codes).shift(1).to_numpy()
    has = ~np.isnan(previous)
    if not has.any():
        return
    idx, prev = np.flatnonzero(has), previous[has].astype(np.int64)
    bad = ~(first[idx] > last[prev])
    if bad.any():
        i, j = int(idx[bad][0]), int(prev[bad][0])
        raise _validation.value_error(OWNER, "the files", f"each id's rows in increasing {time_col!r} from one file "
                                      "to the next (files sorted by name are read in that order)",
                                      f"an id whose rows in {str(files[file_of[i]])!r} start at {_show(first[i])}, "
                                      f"not after its last time {_show(last[j])} in {str(files[file_of[j]])!r}",
                                      "Name the files so that they sort in time order, or merge them.")
