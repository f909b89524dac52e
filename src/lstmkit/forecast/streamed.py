"""``Forecaster.fit_files``: train the window method on a table larger than memory, read from its files.

The table is never loaded. Passes over the files, each holding a few pieces at a time:
1. footers / headers: every file has the columns, of one type (``table_files.check_schemas``);
2. the id and time columns: each id's rows contiguous and in time order, and where they lie (``scan``);
3. a bounded sample (the first ``SAMPLE_ROWS`` rows of the first file) for the season, unless given;
4. the scaling statistics of the *training* rows, per id or global, in one pass (Chan's merge, float64);
5. then each epoch streams the windows (``data.streaming.WindowStream``, sharded across ranks).

Validation is a split in time, as in memory: each id's last ``validation`` fraction of windows. With
``n`` rows, ``v = framing.held_out_count(n)`` and ``cut = n - horizon + 1 - v``, a training window's
targets all lie before position ``cut`` and a validation window's targets all at or after it, so no
target row is in both (windows with targets on both sides, ``horizon - 1`` per id, are dropped).
Windows never cross files; an id continued in the next file (time-partitioned files) goes on there.

What needs the whole table in memory falls back to stated defaults (in ``metrics["choices"]``):
the transform is ``none`` (choosing one needs whole series; ``log``, differencing are refused), the
scaler is ``minmax`` or ``standard`` (``robust`` needs quantiles), one model (no ensemble), the
recursive method. Scaling is per id when there are at most ``PER_ID_LIMIT`` ids (else global, said
so). No conformal intervals are calibrated (they need whole held-out series), and no combination with
baselines is validated: the point forecast is the network's (or ``combine``'s fixed one). A
probabilistic head (``loss="quantile" | "normal" | "student_t"``) gives intervals without calibration:
its own quantiles, whose coverage on the held-out windows ``metrics["validation_scaled"]`` records.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from typing import Any, Iterator

import numpy as np
import torch

from .. import _validation
from .._lazy import pandas as pd
from ..data import streaming
from ..data.scaling import SeriesScaler
from . import combination, framing, probabilistic
from .builders import build_model
from .choices import default_lookback
from .seasonality import season_length
from .table_files import Layout, check_schemas, scan, table_files
from .training import TrainOptions, history_record, train, warn_if_few

OWNER = "Forecaster.fit_files"
SAMPLE_ROWS = 200_000  # rows read for the season when it is not given
PER_ID_LIMIT = 10_000  # ids above which scaling defaults to one scaler for all
SHUFFLE_BYTES = 4 << 20  # windows mixed before batching: at most this much of them (a few pieces' worth)
SCALERS = {"minmax": "MinMaxScaler", "standard": "StandardScaler"}
STREAM_BYTES = 1 << 30  # a single file above this streams unless told otherwise


def choose_streaming(paths: Any, requested: bool | None = None) -> tuple[bool, str]:
    """Whether to stream the table in ``paths`` and why: ``requested`` (``--stream`` / ``--no-stream``) wins;
    otherwise yes for a glob, a folder, several files or one file over ``STREAM_BYTES``."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if requested is not None:
        return bool(requested), "--stream" if requested else "--no-stream"
    if len(items) > 1:
        return True, f"{len(items)} paths"
    text = str(items[0])
    if any(c in text for c in "*?["):
        return True, f"a glob pattern, {text!r}"
    if os.path.isdir(text):
        return True, f"a folder, {text!r}"
    if os.path.isfile(text) and os.path.getsize(text) > STREAM_BYTES:
        return True, f"{os.path.getsize(text) / 2 ** 30:.1f} GiB, over {STREAM_BYTES / 2 ** 30:g} GiB"
    return False, "one file under the streaming size"


# -- scaling statistics of the training rows -------------------------------------------------------------------
def training_stats(layout: Layout, columns: list[str], cuts: np.ndarray, per_id: bool,
                   chunk_rows: int) -> dict[str, np.ndarray]:
    """``count``, ``mean``, ``var`` (population), ``min``, ``max``: ``(groups, columns)`` over the rows before
    each id's ``cut`` (one group per id with ``per_id``, else one), in one pass; checks every row finite."""
    groups = len(layout.ids) if per_id else 1
    k = len(columns)
    count, mean, m2 = np.zeros((groups, 1)), np.zeros((groups, k)), np.zeros((groups, k))
    lo, hi = np.full((groups, k), np.inf), np.full((groups, k), -np.inf)
    for f, path in enumerate(layout.files):
        row = 0
        for part in streaming.read_pieces(path, 0, columns, chunk_rows):
            block = np.stack([np.asarray(part[c], dtype=np.float64) for c in columns], axis=1)
            n = len(block)
            if not np.isfinite(block).all():
                r, c = np.argwhere(~np.isfinite(block))[0]
                raise _validation.value_error(OWNER, f"column {columns[c]!r} of {str(path)!r}", "finite values",
                                              f"NaN or inf at row {row + int(r)}", "Fill or drop those rows first.")
            ids, pos = layout.positions(f, np.arange(row, row + n))
            keep = pos < cuts[ids]
            row += n
            if not keep.any():
                continue
            block, g = block[keep], (ids[keep] if per_id else np.zeros(int(keep.sum()), np.int64))
            frame = pd.DataFrame(block).groupby(g, sort=False)
            at = frame.size().index.to_numpy()
            b_n = frame.size().to_numpy(dtype=np.float64)[:, None]
            b_mean, b_var = frame.mean().to_numpy(), frame.var(ddof=0).to_numpy()
            total = count[at] + b_n
            delta = b_mean - mean[at]
            mean[at] = mean[at] + delta * b_n / total
            m2[at] = m2[at] + b_var * b_n + delta ** 2 * count[at] * b_n / total
            count[at] = total
            lo[at] = np.minimum(lo[at], frame.min().to_numpy())
            hi[at] = np.maximum(hi[at], frame.max().to_numpy())
    safe = np.maximum(count, 1)
    return {"count": count[:, 0], "mean": mean, "var": m2 / safe, "min": lo, "max": hi}


def scaler_from_stats(kind: str, stats: dict, group_names: list | None) -> SeriesScaler:
    """A fitted ``SeriesScaler`` (scikit-learn's MinMaxScaler / StandardScaler, one per group with
    ``group_names``) holding ``stats``: what ``SeriesScaler.fit`` on the training rows would hold."""
    from sklearn import preprocessing

    name = SCALERS[kind]
    entries = []
    for g in range(len(stats["count"])):
        if kind == "minmax":
            data_range = stats["max"][g] - stats["min"][g]
            scale = 1.0 / np.where(data_range > 10 * np.finfo(float).eps, data_range, 1.0)
            fitted = {"n_samples_seen_": int(stats["count"][g]), "data_min_": stats["min"][g].tolist(),
                      "data_max_": stats["max"][g].tolist(), "data_range_": data_range.tolist(),
                      "scale_": scale.tolist(), "min_": (-stats["min"][g] * scale).tolist()}
        else:
            std = np.sqrt(stats["var"][g])
            fitted = {"n_samples_seen_": int(stats["count"][g]), "mean_": stats["mean"][g].tolist(),
                      "var_": stats["var"][g].tolist(),
                      "scale_": np.where(std > 10 * np.finfo(float).eps, std, 1.0).tolist()}
        fitted["n_features_in_"] = stats["mean"].shape[1]
        entries.append({"group": None if group_names is None else group_names[g], "fitted": fitted})
    width = stats["mean"].shape[1]
    return SeriesScaler.from_state({"class": name, "params": getattr(preprocessing, name)().get_params(),
                                    "per_group": group_names is not None, "columns": None, "n_features_in": width,
                                    "feature_names_in": None, "scaled_columns": list(range(width)),
                                    "scalers": entries})


def _shift_size(kind: str, stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(groups, columns)`` shift and size with scaled = (x - shift) / size, as ``scaler_from_stats``."""
    if kind == "minmax":
        size = stats["max"] - stats["min"]
        return stats["min"], np.where(size > 10 * np.finfo(float).eps, size, 1.0)
    std = np.sqrt(stats["var"])
    return stats["mean"], np.where(std > 10 * np.finfo(float).eps, std, 1.0)


# -- the split and the windows ------------------------------------------------------------------------------
class TimeSplit:
    """Which windows (by their first file row) are training or validation windows: a training window's
    targets lie before its id's ``cut``, a validation window's at or after it (picklable, for workers)."""

    def __init__(self, layout: Layout, cuts: np.ndarray, lookback: int, horizon: int, part: str):
        self.layout, self.cuts, self.lookback, self.horizon, self.part = layout, cuts, lookback, horizon, part

    def __call__(self, f: int, first_rows: np.ndarray) -> np.ndarray:
        ids, pos = self.layout.positions(f, first_rows)
        if self.part == "train":
            return pos + self.lookback + self.horizon - 1 < self.cuts[ids]
        return pos + self.lookback >= self.cuts[ids]

    def count(self) -> int:
        """How many windows the part holds (windows lie within one run of an id in one file)."""
        span = self.lookback + self.horizon
        total = 0
        for f in range(len(self.layout.files)):
            cut = self.cuts[self.layout.run_id[f]]
            o, m = self.layout.run_offset[f], np.maximum(self.layout.run_length[f] - span + 1, 0)
            if self.part == "train":
                total += int(np.clip(cut - o - span + 1, 0, m).sum())
            else:
                total += int((m - np.clip(cut - self.lookback - o, 0, m)).sum())
        return total


class ForecastWindows(streaming.WindowStream):
    """``WindowStream`` scaled as the forecaster's scaler does (per id or global), keeping one part of the
    time split, and with ``shuffle`` its pieces in a new order each pass and windows mixed in a buffer of
    at most ``SHUFFLE_BYTES``."""

    def __init__(self, layout: Layout, target: list[str], features: list[str], id_col: str | None, lookback: int,
                 horizon: int, batch_size: int, split: TimeSplit, shift: np.ndarray, size: np.ndarray,
                 shuffle: bool, seed: int, chunk_rows: int):
        super().__init__(layout.files, target, features, id_col, lookback, horizon, batch_size,
                         chunk_rows=chunk_rows, row_filter=split)
        self.layout, self.shift, self.size = layout, shift.astype(np.float32), size.astype(np.float32)
        self.shuffle, self.seed, self.passes = shuffle, seed, 0
        self.code = {value: k for k, value in enumerate(layout.ids)} if len(shift) > 1 else None

    def _values(self, part: dict) -> np.ndarray:
        block = np.stack([np.asarray(part[c], dtype=np.float32) for c in self.inputs], axis=1)
        if self.code is None:
            g = np.zeros(len(block), np.int64)
        else:
            ids = part[self.id_col]
            cut = np.flatnonzero(ids[1:] != ids[:-1]) + 1 if len(ids) else np.zeros(0, np.int64)
            starts = np.concatenate([[0], cut]).astype(np.int64)
            runs = np.array([self.code[ids[s]] for s in starts[starts < len(ids)]], dtype=np.int64)
            g = np.repeat(runs, np.diff(np.append(starts, len(ids)))[:len(runs)])
        return (block - self.shift[g]) / self.size[g]

    def my_pieces(self) -> list:
        mine = super().my_pieces()
        if self.shuffle:
            slot, _ = streaming.reader_slot()
            order = np.random.default_rng([self.seed, self.passes, slot]).permutation(len(mine))
            mine = [mine[i] for i in order]
        return mine

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if not self.shuffle:
            yield from super().__iter__()
            return
        slot, _ = streaming.reader_slot()
        rng = np.random.default_rng([self.seed, self.passes, slot, 1])
        self.passes += 1
        batch, span = self.local_batch(), self.lookback + self.horizon
        mixed = max(batch, SHUFFLE_BYTES // (4 * span * len(self.inputs)))  # windows in the buffer
        xs, ys, held = [], [], 0
        for f, p in self.my_pieces():
            for x, y in self._piece_windows(f, p, span):
                xs.append(np.array(x))
                ys.append(np.array(y))
                held += len(x)
                if held >= mixed:
                    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
                    xs = ys = []  # noqa: F841 - the pieces go before the batches are cut
                    order = rng.permutation(len(x_all))
                    whole = len(x_all) // batch * batch
                    for s in range(0, whole, batch):
                        yield self._batch(x_all[order[s:s + batch]], y_all[order[s:s + batch]])
                    xs, ys, held = [x_all[order[whole:]]], [y_all[order[whole:]]], len(x_all) - whole
        if held:
            x_all, y_all = np.concatenate(xs), np.concatenate(ys)
            order = rng.permutation(len(x_all))
            for s in range(0, len(x_all), batch):
                yield self._batch(x_all[order[s:s + batch]], y_all[order[s:s + batch]])


# -- the fit ---------------------------------------------------------------------------------------------------
def check_supported(cfg: Any, requested: dict) -> None:
    """What streamed training cannot do, refused with the way out."""
    fix = "Train in memory instead (lstmkit train --no-stream, or Forecaster.fit(frame))."
    if cfg.method != "recursive":
        raise _validation.value_error(OWNER, "`method`", "'recursive' when streaming", repr(cfg.method), fix)
    if cfg.ensemble != 1:
        raise _validation.value_error(OWNER, "`ensemble`", "1 when streaming", repr(cfg.ensemble), fix)
    if requested["transform"] not in (None, "none"):
        raise _validation.value_error(OWNER, "`transform`", "'none' (or auto) when streaming: log and differencing "
                                      "are not streamed", repr(requested["transform"]), fix)
    for kind in ("past_features", "static_features"):
        if getattr(cfg, kind, None):
            raise _validation.value_error(OWNER, f"`{kind}`", "none when streaming (covariates are framed in memory)",
                                          repr(list(getattr(cfg, kind))), fix)
    if cfg.scaler not in SCALERS:
        raise _validation.value_error(OWNER, "`scaler`", "'minmax' or 'standard' when streaming (one pass of "
                                      "moments and extremes)", repr(cfg.scaler), "'robust' needs quantiles. " + fix)


def _sample_season(layout: Layout, cfg: Any, chunk_rows: int) -> tuple[int, str, int]:
    """The season from the first ``SAMPLE_ROWS`` rows of the first file: (season, source, rows read)."""
    columns = [c for c in (cfg.id_col, cfg.time_col, cfg.target[0]) if c]
    parts, rows = [], 0
    for part in streaming.read_pieces(layout.files[0], 0, columns, min(chunk_rows, SAMPLE_ROWS)):
        parts.append(pd.DataFrame(part))
        rows += len(parts[-1])
        if rows >= SAMPLE_ROWS:
            break
    frame = pd.concat(parts, ignore_index=True).iloc[:SAMPLE_ROWS]
    if cfg.time_col and not pd.api.types.is_numeric_dtype(frame[cfg.time_col]):
        frame[cfg.time_col] = pd.to_datetime(frame[cfg.time_col])
    groups = frame.groupby(cfg.id_col, sort=False) if cfg.id_col else [(None, frame)]
    times = [g[cfg.time_col].reset_index(drop=True) if cfg.time_col else None for _, g in groups]
    values = [g[cfg.target[0]].to_numpy(np.float64) for _, g in groups]
    season, source = season_length(times, values)
    return season, source, len(frame)


def resolve(cfg: Any, requested: dict, layout: Layout, validation: float, chunk_rows: int) -> dict:
    """Season, per-id scaling, transform and look-back for a streamed fit, each with how it was chosen."""
    made = {}
    if requested["season"] is None:
        cfg.season, source, rows = _sample_season(layout, cfg, chunk_rows)
        made["season"] = {"value": cfg.season, "chosen_by": ("the time column's frequency" if source == "frequency"
                          else "the autocorrelation of the data") + f", on a sample (the first {rows} rows of "
                          f"{layout.files[0].name})"}
    else:
        made["season"] = {"value": cfg.season, "chosen_by": "you"}
    n_ids = len(layout.ids)
    if requested["scale_per_id"] is None:
        cfg.scale_per_id = cfg.id_col is not None and 1 < n_ids <= PER_ID_LIMIT
        made["scale_per_id"] = {"value": cfg.scale_per_id, "chosen_by": (
            "one scaler per series when there is an id column" if n_ids <= PER_ID_LIMIT else
            f"global scaling: {n_ids} series is more than {PER_ID_LIMIT} per-series scalers (pass --scale-per-id "
            "to force it)")}
    else:
        made["scale_per_id"] = {"value": cfg.scale_per_id, "chosen_by": "you"}
    cfg.log = cfg.difference = cfg.seasonal_difference = False
    made["transform"] = {"value": "none", "chosen_by": "you" if requested["transform"] == "none" else
                         "the streamed default: choosing a transform needs whole series in memory (train with "
                         "--no-stream to choose one by validation)"}
    typical = int(np.median(layout.counts))
    if requested["lookback"] is None:
        cfg.lookback = default_lookback(cfg.season, typical, 0)
        made["lookback"] = {"value": cfg.lookback, "chosen_by": "two seasons (8 steps without one), at most a third "
                            "of the median series (streamed: shorter series are left out)"}
    else:
        cfg.lookback = requested["lookback"]
        made["lookback"] = {"value": cfg.lookback, "chosen_by": "you"}
    return made


def fit(forecaster: Any, paths: Any, options: TrainOptions, chunk_rows: int = 100_000) -> dict:
    """Train ``forecaster`` (recursive method) on the table in ``paths`` without loading it; fills its
    models, scaler, history and metrics and returns the metrics (see the module's docstring)."""
    cfg = forecaster.config
    requested = forecaster._requested
    check_supported(cfg, requested)
    validation = float(options.validation)
    if not 0.0 <= validation < 1.0:
        raise _validation.value_error(OWNER, "`validation`", "a fraction in [0, 1)", repr(validation))
    files = table_files(paths)
    keys = [c for c in (cfg.id_col, cfg.time_col) if c]
    check_schemas(files, cfg.features, keys)
    layout = scan(files, cfg.id_col, cfg.time_col, chunk_rows)
    made = resolve(cfg, requested, layout, validation, chunk_rows)
    notes: list[str] = []
    need = cfg.lookback + cfg.horizon + (1 if validation else 0)
    held = np.array([framing.held_out_count(cfg, int(n), validation) for n in layout.counts], dtype=np.int64) \
        if validation else np.zeros(len(layout.counts), np.int64)
    cuts = np.where(validation > 0, layout.counts - cfg.horizon + 1 - held, layout.counts + cfg.horizon)
    short = layout.counts < need
    if short.all():
        raise _validation.value_error(OWNER, "the data", f"series of at least {need} rows (lookback {cfg.lookback} "
                                      f"+ horizon {cfg.horizon}{' + 1 held out' if validation else ''})",
                                      f"series of at most {int(layout.counts.max())} rows",
                                      "Use a shorter --lookback.")
    if short.any():
        cuts = np.where(short, 0, cuts)  # nothing of theirs is trained or validated on
        notes.append(f"{int(short.sum())} of {len(short)} series have fewer than {need} rows and were left out "
                     f"(e.g. {', '.join(repr(v) for v in layout.ids[short][:3])}).")
        if cfg.scale_per_id:
            notes[-1] += " Forecasting them needs a model with global scaling (--no-scale-per-id)."
    train_split = TimeSplit(layout, cuts, cfg.lookback, cfg.horizon, "train")
    val_split = TimeSplit(layout, np.where(short, np.iinfo(np.int64).max // 4, cuts), cfg.lookback, cfg.horizon,
                          "validation")
    n_train, n_val = train_split.count(), (val_split.count() if validation else 0)
    if n_train == 0 or (validation and n_val == 0):
        raise _validation.value_error(OWNER, "the data", "windows for training and validation within files",
                                      f"{n_train} training and {n_val} validation windows",
                                      "Use a shorter --lookback, or fewer, larger files.")
    stats = training_stats(layout, cfg.features, cuts, cfg.scale_per_id, chunk_rows)
    names = [str(v.item() if isinstance(v, np.generic) else v) for v in layout.ids] if cfg.scale_per_id else None
    keep = stats["count"] > 0
    if names is not None and not keep.all():  # left-out ids get no scaler
        names = [n for n, k in zip(names, keep) if k]
    scaler = scaler_from_stats(cfg.scaler, {k: v[keep] for k, v in stats.items()}, names)
    shift, size = _shift_size(cfg.scaler, stats)
    windows = dict(target=cfg.target, features=cfg.features[len(cfg.target):], id_col=cfg.id_col,
                   lookback=cfg.lookback, horizon=cfg.horizon, batch_size=options.batch_size, shift=shift, size=size,
                   seed=options.seed, chunk_rows=chunk_rows)
    train_stream = ForecastWindows(layout, split=train_split, shuffle=True, **windows)
    val_stream = ForecastWindows(layout, split=val_split, shuffle=False, **windows) if validation else None
    warn_if_few("windows", n_train, n_val, validation, cfg.lookback)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    torch.manual_seed(options.seed)
    np.random.seed(options.seed)
    head = probabilistic.is_probabilistic(cfg)
    model = build_model(cfg.model, cfg.lookback, len(cfg.features), len(cfg.target), cfg.horizon,
                        probabilistic.n_params(cfg.loss, cfg.quantile_levels))
    loss = probabilistic.make_loss(cfg.loss, cfg.quantile_levels, cfg.horizon, len(cfg.target)) if head else "mse"
    started = time.perf_counter()
    history = train(model, options, train_stream, validation_data=val_stream, loss=loss)
    seconds = time.perf_counter() - started
    epochs_run = len(history.epoch)
    scores = _scaled_scores(model, val_stream, cfg) if val_stream is not None else None
    held_rows = int(held[~short].sum())
    metrics = {"streamed": True, "files": len(files), "rows": layout.rows, "series": len(layout.ids),
               "choices": made, "scaling": ("per series" if cfg.scale_per_id else "global") +
               f" {cfg.scaler}, fitted in one pass over the training rows",
               "validation_split": f"time: each series' last {validation:g} of windows (targets from row n - "
               f"horizon + 1 - held out on; {held_rows} target rows); training windows' targets all before it",
               "train_windows": n_train, "validation_windows": n_val, "epochs_run": epochs_run,
               "lookback": cfg.lookback, "horizon": cfg.horizon, "ensemble": 1, "validation_fraction": validation,
               "train_seconds": round(seconds, 3),
               "windows_per_second": round(n_train * epochs_run / seconds, 1) if seconds > 0 else None,
               "warnings": notes}
    made["combination"] = combination.unvalidated(None if cfg.combine == "auto" else cfg.combine,
                                                  "streamed training does not score forecasts")
    if scores is not None:
        metrics["validation_scaled"] = scores
    metrics["loss"] = cfg.loss
    if head:
        metrics["intervals"] = {**probabilistic.describe(cfg), "validation_windows": n_val}
    forecaster.models, forecaster.scaler, forecaster.history = [model], scaler, history_record(history)
    forecaster.metrics, forecaster.calibration, forecaster._held_out = metrics, None, []
    return metrics


def _scaled_scores(model: Any, stream: ForecastWindows, cfg: Any) -> dict:
    """MAE and RMSE of the model and of persistence (the last input value) on the held-out windows, in
    scaled units (summed over every rank's windows); a probabilistic head's point forecast is its median
    or location, and the share of targets inside each of its default levels' bands is recorded too."""
    n_targets = len(cfg.target)
    head = probabilistic.is_probabilistic(cfg)
    levels = probabilistic.default_levels(cfg) if head else []
    sums = torch.zeros(5 + len(levels), dtype=torch.float64)  # model |e|, e^2, naive |e|, e^2, count, inside
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        for x, y in stream:
            y = y.reshape(len(y), -1, n_targets).double()
            raw = model(x.to(device)).detach().cpu().double()  # float64 (a mixed policy's bfloat16 has no NumPy)
            inside = []
            if head:
                params = probabilistic.to_params(cfg, raw.numpy())
                predicted = torch.from_numpy(probabilistic.point(cfg, params)).reshape(y.shape)
                truth = y.numpy()
                inside = [float(((lo <= truth) & (truth <= hi)).sum())
                          for lo, hi in probabilistic.bands(cfg, params, levels).values()]
            else:
                predicted = raw.reshape(y.shape)
            naive = x[:, -1:, :n_targets].double().expand_as(y)
            sums += torch.tensor([float((predicted - y).abs().sum()), float(((predicted - y) ** 2).sum()),
                                  float((naive - y).abs().sum()), float(((naive - y) ** 2).sum()), float(y.numel()),
                                  *inside], dtype=torch.float64)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():  # NCCL reduces only CUDA tensors
        on = device if dist.get_backend() == "nccl" else torch.device("cpu")
        reduced = sums.to(on)
        dist.all_reduce(reduced)
        sums = reduced.cpu()
    n = max(float(sums[4]), 1.0)
    scores = {"model": {"MAE": float(sums[0]) / n, "RMSE": math.sqrt(float(sums[1]) / n)},
              "persistence": {"MAE": float(sums[2]) / n, "RMSE": math.sqrt(float(sums[3]) / n)}}
    for i, level in enumerate(levels):
        scores["model"][f"coverage-{level}"] = float(sums[5 + i]) / n
    return scores
