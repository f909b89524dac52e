"""Training throughput of ``lstmkit train`` streamed from Parquet files vs in memory, on the same table.

    python benchmarks/streamed_train.py                                  # 60 meters x 2000 hours, 2 epochs
    python benchmarks/streamed_train.py --meters 200 --hours 5000 --batch 1024 --device cuda

The table (hourly meters, a daily cycle plus noise, one feature) is written to Parquet, ``--per-file``
meters per file, 10,000-row row groups, and also kept as a DataFrame. Both paths train the same
Forecaster (LSTM(32), lookback 24, transform none, per-meter min-max scaling, 20 % held out, no early
stop) for ``--epochs`` epochs: ``Forecaster.fit(frame)`` and ``Forecaster.fit_files(glob)``. Reported:
training windows per second inside ``fit``'s loop (each path's ``training.train`` call timed) and the
whole call's wall time (the in-memory call also scores its held-out part with recursive forecasts; the
streamed call makes its two reading passes). One process; ratios only mean something within one run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=60)
    parser.add_argument("--hours", type=int, default=2000)
    parser.add_argument("--per-file", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lstmkit.forecast import streamed, windowed
    from lstmkit.forecast.forecaster import Forecaster

    rng = np.random.default_rng(0)
    t = np.arange(args.hours)
    frame = pd.concat([pd.DataFrame({"meter": m, "ts": t, "load": (10 + m % 7 + 3 * np.sin(2 * np.pi * t / 24)
                                                                  + rng.normal(size=args.hours)).astype(np.float32)})
                       for m in range(args.meters)], ignore_index=True)
    folder = Path(tempfile.mkdtemp(prefix="lstmkit_stream_bench_"))
    for k in range(0, args.meters, args.per_file):
        part = frame[frame.meter.between(k, k + args.per_file - 1)]
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), folder / f"part-{k:05d}.parquet",
                       row_group_size=10_000)

    timed: dict = {}

    def timing(module, name):
        inner = module.train

        def wrapped(*a, **k):
            started = time.perf_counter()
            history = inner(*a, **k)
            timed[name] = time.perf_counter() - started
            return history
        module.train = wrapped

    timing(windowed, "memory")
    timing(streamed, "streamed")
    results = {}
    for name in ("memory", "streamed"):
        f = Forecaster("load", id_col="meter", time_col="ts", lookback=24, transform="none", season=24)
        common = dict(epochs=args.epochs, batch_size=args.batch, patience=args.epochs, verbose=0, device=args.device)
        started = time.perf_counter()
        metrics = f.fit(frame, **common) if name == "memory" else f.fit_files(str(folder / "*.parquet"), **common)
        wall = time.perf_counter() - started
        windows = metrics["train_windows"] * metrics["epochs_run"]
        results[name] = {"train_windows": metrics["train_windows"], "epochs": metrics["epochs_run"],
                         "windows_per_s": round(windows / timed[name], 1), "fit_loop_s": round(timed[name], 2),
                         "whole_call_s": round(wall, 2)}
    ratio = results["streamed"]["windows_per_s"] / results["memory"]["windows_per_s"]
    results["streamed_over_memory"] = round(ratio, 3)
    results["table"] = {"rows": len(frame), "files": len(list(folder.glob("*.parquet"))), "batch": args.batch,
                        "device": args.device}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
