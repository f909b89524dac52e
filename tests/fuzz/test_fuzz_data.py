"""Fuzz ``lstmkit.data`` (issue 13): windows, windowed, lookback, timeseries_dataset_from_array, sequences,
splits, SeriesScaler and stateful_batches with random ranks, lengths (0 and 1), dtypes, NaN / inf and odd
arguments. Every outcome is a correct result (checked against a direct NumPy reference) or a clear
ValueError / TypeError (see harness)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from lstmkit import data

from .harness import ERROR, FUZZ, arrays, as_kind, expect, finite, outcome, shape_mentions

SIZES = st.sampled_from([1, 2, 3, 0, -1, 2.0, None, True])


def mentions(*values):
    return shape_mentions(*[np.asarray(v) for v in values if v is not None and not isinstance(v, dict)]) + \
        [repr(v) for v in values if not hasattr(v, "shape")] + [str(v) for v in values if not hasattr(v, "shape")] + \
        ["rows", "steps", "series has", "columns"]


@FUZZ(150)
@given(x=arrays(max_rank=3, max_dim=6), size=SIZES, shift=SIZES, stride=SIZES,
       drop=st.sampled_from([True, False, "yes"]), kind=st.sampled_from(["numpy", "torch", "list"]))
def test_windows(x, size, shift, stride, drop, kind):
    source = as_kind(x, kind)
    x = np.asarray(source) if kind == "list" else x
    case = ("windows", x.shape, str(x.dtype), size, shift, stride, drop)
    out = outcome(lambda: data.windows(source, size, shift=shift, stride=stride, drop_remainder=drop),
                  mentions(x, size, shift, stride, drop), case)
    if out is ERROR:
        return
    starts = range(0, len(x), shift)
    reference = [x[s:s + (size - 1) * stride + 1:stride] for s in starts]
    reference = [w for w in reference if len(w) == size] + ([] if drop else [w for w in reference if len(w) < size])
    expect(len(out) == len(reference) and all(np.array_equal(np.asarray(a), b, equal_nan=True)
                                              for a, b in zip(out, reference)), "windows differ from reference", case)


@FUZZ(120)
@given(x=arrays(min_rank=1, max_rank=3, max_dim=6), y_rows=st.integers(0, 7), size=SIZES, shift=SIZES,
       offset=st.sampled_from([0, 1, 2, -1, 1.5]))
def test_windowed(x, y_rows, size, shift, offset):
    y = np.arange(y_rows, dtype="float32")
    case = ("windowed", x.shape, y_rows, size, shift, offset)
    out = outcome(lambda: data.windowed(x, y, size, shift=shift, offset=offset), mentions(x, y, size, shift, offset),
                  case)
    if out is ERROR:
        return
    X, Y = out
    starts = [s for s in range(0, len(x), shift) if s + size - 1 + offset < len(y)]
    expect(len(X) == len(Y) == len(starts), f"windowed gave {len(X)} windows for starts {starts}", case)
    for k, s in enumerate(starts):
        expect(np.array_equal(X[k], x[s:s + size], equal_nan=True) and Y[k] == y[s + size - 1 + offset],
               "windowed differs from reference", case)


@FUZZ(120)
@given(x=arrays(max_rank=3, max_dim=7), look_back=SIZES, horizon=SIZES,
       targets=st.sampled_from([None, 0, [0, 1], -1, 5, "a", [], 1.5]), frame=st.booleans())
def test_lookback(x, look_back, horizon, targets, frame):
    source = pd.DataFrame(x, columns=list("abcdefg")[:x.shape[1]]) if frame and x.ndim == 2 else x
    case = ("lookback", x.shape, str(x.dtype), look_back, horizon, targets)
    out = outcome(lambda: data.lookback(source, look_back, horizon=horizon, targets=targets),
                  mentions(x, look_back, horizon, targets), case)
    if out is ERROR:
        return
    X, y = out
    series = x[:, None] if x.ndim == 1 else x
    n = len(series) - look_back - horizon + 1
    expect(X.shape == (n, look_back, series.shape[1]), f"lookback X shape {X.shape}", case)
    expect(finite(X) and finite(y), "lookback passed NaN/inf through", case)
    if n > 0:
        expect(np.array_equal(X[-1], series[n - 1:n - 1 + look_back]), "lookback X differs from reference", case)


@FUZZ(150)
@given(x=arrays(max_rank=3, max_dim=8), target_rows=st.sampled_from([None, 0, 1, 4, 8, 12]),
       length=SIZES, stride=SIZES, rate=SIZES, batch=st.sampled_from([None, 1, 3, 0]),
       start=st.sampled_from([None, 0, 1, 9, -1]), end=st.sampled_from([None, 3, 7, 0, 20]))
def test_timeseries_dataset_from_array(x, target_rows, length, stride, rate, batch, start, end):
    targets = None if target_rows is None else np.arange(target_rows, dtype="float32") * 10
    case = ("tsds", x.shape, str(x.dtype), target_rows, length, stride, rate, batch, start, end)
    ds = outcome(lambda: data.timeseries_dataset_from_array(x, targets, length, sequence_stride=stride,
                                                            sampling_rate=rate, batch_size=batch, start_index=start,
                                                            end_index=end),
                 mentions(x, targets, length, stride, rate, batch, start, end), case)
    if ds is ERROR:
        return
    lo, hi = start or 0, len(x) if end is None else end
    starts = list(range(lo, hi - (length - 1) * rate, stride))
    items = list(ds)
    got = items if batch is None else [(bx[i], by[i]) if targets is not None else bx[i]
                                       for b in items for i in range(len(b[0] if targets is not None else b))
                                       for bx, by in [b if targets is not None else (b, None)]]
    expect(len(got) == len(starts), f"{len(got)} windows for starts {starts}", case)
    for s, item in zip(starts, got):
        window, target = (item if targets is not None else (item, None))
        reference = x[s:s + (length - 1) * rate + 1:rate]
        expect(np.allclose(window.numpy(), reference.astype(np.float32) if x.dtype.kind == "f" else reference,
                           equal_nan=True), "window differs", case)
        if targets is not None:
            expect(float(target) == targets[s], f"target {float(target)} for start {s}", case)


@st.composite
def long_frames(draw):
    n_ids, rows = draw(st.integers(0, 3)), draw(st.integers(0, 4))
    lengths = [rows if draw(st.booleans()) else draw(st.integers(0, 4)) for _ in range(n_ids)]
    ids = np.repeat(np.arange(n_ids), lengths)
    frame = pd.DataFrame({"id": ids, "t": np.concatenate([np.arange(k) for k in lengths]) if lengths else [],
                          "a": np.random.default_rng(len(ids)).normal(size=len(ids)),
                          "b": np.arange(len(ids), dtype=float)})
    if len(frame) and draw(st.booleans()):
        frame.loc[draw(st.integers(0, len(frame) - 1)), draw(st.sampled_from(["a", "t", "id"]))] = np.nan
    if len(frame) and draw(st.booleans()):
        frame["s"] = "x"
    return frame, lengths


@FUZZ(100)
@given(fl=long_frames(), padding=st.sampled_from([None, "post", "pre", "mid"]), max_len=st.sampled_from([None, 2, 0]),
       features=st.sampled_from([None, "a", ["a", "b"], "s", "zz"]), targets=st.sampled_from([None, "b", "zz"]),
       truncating=st.sampled_from([None, "pre", "post"]), time_col=st.sampled_from([None, "t"]))
def test_sequences(fl, padding, max_len, features, targets, truncating, time_col):
    frame, lengths = fl
    case = ("sequences", lengths, list(frame.columns), frame.isna().sum().sum(), padding, max_len, features,
            targets, truncating, time_col)
    seq = outcome(lambda: data.sequences(frame, "id", time_col=time_col, feature_cols=features, target_cols=targets,
                                         padding=padding, max_len=max_len, truncating=truncating),
                  mentions(padding, max_len, features, targets, truncating) + ["NaN", "missing", "id",
                                                                              "length", "rows"], case)
    if seq is ERROR:
        return
    x = np.asarray(seq.x)
    ids = sum(1 for k in lengths if k)  # an id with no rows is not in the frame
    expect(x.shape[0] == ids, f"{x.shape[0]} sequences for {ids} ids", case)
    expect(finite(x), "sequences passed NaN through", case)


@FUZZ(120)
@given(n=st.integers(0, 6), test=st.sampled_from([0.2, 0.5, 0, 1, 2, 1.0, -0.1, 7, "a"]),
       val=st.sampled_from([None, 0.2, 1, 0]), gap=st.sampled_from([0, 1, 3, -1]),
       second=st.sampled_from([None, "same", "short"]))
def test_chronological_split(n, test, val, gap, second):
    a = np.arange(n)
    arrays_ = [a] + ({"same": [pd.Series(a * 10)], "short": [a[:-1]], None: []}[second])
    case = ("chronological_split", n, test, val, gap, second)
    out = outcome(lambda: data.chronological_split(*arrays_, test_size=test, val_size=val, gap=gap),
                  mentions(test, val, gap) + [str(n), str(max(n - 1, 0))], case)
    if out is ERROR:
        return
    parts = out[:len(out) // len(arrays_)]  # (train_a, test_a, train_b, test_b), as sklearn
    rows = np.concatenate([np.asarray(p) for p in parts])
    expect(all(len(p) > 0 for p in parts), f"an empty part: {[len(p) for p in parts]}", case)
    expect(list(rows) == sorted(rows) and len(set(rows)) == len(rows), "parts overlap or are out of order", case)


@FUZZ(100)
@given(labels=st.lists(st.sampled_from([0, 1, 2, 3, "a", None, np.nan]), max_size=8),
       test=st.sampled_from([0.25, 0.5, 1, 0, 2, 1.5]), n_splits=st.sampled_from([2, 3, 1, 0, 9]),
       seed=st.sampled_from([None, 0, -1]))
def test_group_split_and_kfold(labels, test, n_splits, seed):
    case = ("groups", labels, test, n_splits, seed)
    out = outcome(lambda: data.group_split(np.array(labels, dtype=object), test_size=test, seed=seed),
                  mentions(test, seed) + [str(len(labels)), "group", "NaN", "None", "missing"], case)
    if out is not ERROR:
        train, held = out
        expect(not set(np.asarray(labels, dtype=object)[train]) & set(np.asarray(labels, dtype=object)[held]),
               "a group on both sides", case)
        expect(len(train) + len(held) == len(labels) and len(train) and len(held), "rows lost", case)
    folds = outcome(lambda: list(data.group_kfold(np.array(labels, dtype=object), n_splits=n_splits,
                                                  shuffle=seed is not None, seed=seed)),
                    mentions(n_splits, seed) + [str(len(labels)), "group", "NaN", "None", "missing"], case)
    if folds is not ERROR:
        expect(len(folds) == n_splits, f"{len(folds)} folds for n_splits={n_splits}", case)
        held = np.concatenate([v for _, v in folds]) if folds else np.array([])
        expect(sorted(held.tolist()) == list(range(len(labels))), "folds do not cover every row once", case)


@FUZZ(120)
@given(x=arrays(max_rank=3, max_dim=5), later=arrays(max_rank=3, max_dim=5),
       scaler=st.sampled_from(["minmax", "standard", "robust", "nope"]), columns=st.sampled_from([None, [0], [5]]),
       inverse_columns=st.sampled_from([None, [0]]))
def test_series_scaler(x, later, scaler, columns, inverse_columns):
    case = ("SeriesScaler", x.shape, str(x.dtype), later.shape, str(later.dtype), scaler, columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = outcome(lambda: data.SeriesScaler(scaler, columns=columns).fit(x), mentions(x, scaler, columns), case)
        if fitted is ERROR:
            return
        scaled = outcome(lambda: fitted.transform(later), mentions(later, x), case)
        if scaled is ERROR:
            return
        expect(np.shape(scaled) == later.shape, f"transform changed the shape to {np.shape(scaled)}", case)
        if finite(later):
            expect(finite(scaled), "transform gave NaN/inf for finite data", case)
        back = outcome(lambda: fitted.inverse_transform(scaled), mentions(later, x), case)
    if back is not ERROR and finite(later) and later.dtype.kind == "f":
        expect(np.allclose(np.asarray(back, dtype=float), later.astype(float), atol=1e-2 * (1 + np.abs(later).max(
            initial=0))), "inverse_transform(transform(x)) != x", case)


@FUZZ(100)
@given(lengths=st.lists(st.integers(0, 5), max_size=4), features=st.integers(0, 2),
       targets=st.sampled_from([None, "aligned", "short", "nan"]), batch=st.sampled_from([1, 2, 3, 0]),
       chunk=st.sampled_from([None, 1, 2, 0, -2]))
def test_stateful_batches(lengths, features, targets, batch, chunk):
    rng = np.random.default_rng(sum(lengths))
    seqs = [rng.normal(size=(k, features) if features else (k,)).astype("float32") for k in lengths]
    ys = None
    if targets is not None:
        ys = [np.ones(max(len(s) - (targets == "short"), 0), "float32") for s in seqs]
        if targets == "nan" and ys and len(ys[0]):
            ys[0][0] = np.nan
    case = ("stateful_batches", lengths, features, targets, batch, chunk)
    out = outcome(lambda: data.stateful_batches(seqs, ys, batch_size=batch, chunk=chunk),
                  mentions(batch, chunk) + [str(k) for k in lengths] + ["sequence", "NaN", "empty", "steps"], case)
    if out is ERROR:
        return
    kept = sum(lengths)
    x = np.asarray(out.x) if hasattr(out, "x") else None
    if x is not None:
        expect(np.isfinite(x).all(), "stateful_batches passed NaN through", case)
        expect(x.shape[0] % batch == 0 and x.size >= kept * max(features, 1), f"layout {x.shape} too small", case)
