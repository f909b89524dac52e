"""Training scenarios run once in one process and once under torchrun (tests/trainers/test_distributed.py).

``python dist_scenarios.py OUT SCENARIO...`` writes ``OUT/SCENARIO_rank{r}.npz`` with the final weights,
the history, evaluate / predict results, the samples each rank trained on and what it printed. The script
holds no distribution code: under torchrun, ``fit`` finds torchrun's environment by itself.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

import lstmkit
from lstmkit import layers as L
from lstmkit.data.batching import stateful_batches

N_TRAIN, N_VAL, N_PRED, STEPS = 33, 11, 13, 5  # 33 = 4 * 8 + 1: the last global batch of 8 has one sample


def data(n, seed):
    """Inputs whose first value is a unique sample id (recorded to prove the sharding)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, STEPS, 2)).astype(np.float32)
    x[:, 0, 0] = np.arange(n, dtype=np.float32) + 1000.0 * seed
    y = (x[:, :, 1].sum(axis=1, keepdims=True) * 0.3).astype(np.float32)
    return x, y


def model_for(stateful_batch=None):
    torch.manual_seed(0)
    if stateful_batch:
        inputs = L.Input(batch_shape=(stateful_batch, None, 2))
        body = [L.LSTM(5, return_sequences=True, stateful=True), L.Dense(1)]
    else:
        inputs = L.Input(shape=(STEPS, 2))
        body = [L.LSTM(5), L.Dense(1, kernel_regularizer=lstmkit.regularizers.L2(0.01))]
    model = lstmkit.Sequential([inputs, *body])
    model.compile(optimizer=lstmkit.optimizers.Adam(0.01), loss="mse", metrics=["mae"], device="cpu")
    return model


class Seen(lstmkit.callbacks.Callback):
    """Records the ids of the samples this rank trained on, per epoch."""

    def __init__(self):
        super().__init__()
        self.seen, self.epoch = [], 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def set_model(self, model):
        super().set_model(model)
        if getattr(model, "_seen_wrapped", False):
            return
        step = model.train_step

        def recording(x, y, sw=None):
            replicas = model.__dict__.get("_replicas")
            if replicas is None or not replicas.stand_in:
                self.seen.extend((self.epoch, int(v)) for v in x[:, 0, 0].tolist())
            return step(x, y, sw)

        model.train_step = recording
        model._seen_wrapped = True


def run(scenario: str, out: Path) -> dict:
    rank = int(os.environ.get("RANK", 0))
    printed = io.StringIO()
    result: dict = {}
    with contextlib.redirect_stdout(printed):
        if scenario == "fit":
            x, y = data(N_TRAIN, 1)
            vx, vy = data(N_VAL, 2)
            model = model_for()
            seen = Seen()
            history = model.fit(x, y, batch_size=8, epochs=3, shuffle=True, validation_data=(vx, vy),
                                callbacks=[seen, lstmkit.callbacks.CSVLogger(out / f"log_rank{rank}.csv")],
                                verbose=2)
            result["seen"] = np.asarray(seen.seen, dtype=np.int64).reshape(-1, 2)
            result["evaluate"] = np.asarray(model.evaluate(vx, vy, batch_size=4, verbose=0))
            result["predict"] = model.predict(data(N_PRED, 3)[0], batch_size=4, verbose=0)
        elif scenario == "early_stop":
            x, y = data(N_TRAIN, 1)
            model = model_for()
            model.compile(optimizer=lstmkit.optimizers.SGD(0.3), loss="mse", device="cpu")  # diverges: stops early
            stop = lstmkit.callbacks.EarlyStopping(monitor="val_loss", patience=1)
            history = model.fit(x, y, batch_size=8, epochs=20, validation_split=0.25, callbacks=[stop], verbose=0)
        elif scenario == "stateful":
            rng = np.random.default_rng(4)
            xs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (7, 3, 5, 6, 4, 8)]
            ys = [np.cumsum(s[:, :1], axis=0) for s in xs]
            layout = stateful_batches(xs, ys, batch_size=4, chunk=3)
            model = model_for(stateful_batch=4)
            history = model.fit(layout, epochs=2, shuffle=False, verbose=0)
            result["states"] = np.concatenate([s.numpy() for s in model.layers[0].states], axis=1)
            result["predict"] = model.predict(layout, verbose=0)
        elif scenario == "masked":  # padded sequences: the loss is a mean over the unmasked steps
            x, _ = data(N_TRAIN, 1)
            lengths = np.random.default_rng(5).integers(1, STEPS + 1, size=N_TRAIN)
            x[np.arange(STEPS)[None, :] >= lengths[:, None]] = 0.0
            y = np.cumsum(x[:, :, 1:], axis=1).astype(np.float32)
            torch.manual_seed(0)
            model = lstmkit.Sequential([L.Input(shape=(STEPS, 2)), L.Masking(0.0),
                                        L.LSTM(4, return_sequences=True), L.Dense(1)])
            model.compile(optimizer=lstmkit.optimizers.Adam(0.01), loss="mse", metrics=["mae"], device="cpu")
            history = model.fit(x, y, batch_size=8, epochs=2, validation_split=0.3, verbose=0)
            result["evaluate"] = np.asarray(model.evaluate(x, y, batch_size=5, verbose=0))
        elif scenario == "loader":  # Keras 3's explicit names, and a DataLoader whose batches are split
            if "RANK" in os.environ:
                lstmkit.distribution.initialize()
                lstmkit.distribution.set_distribution(lstmkit.distribution.DataParallel(
                    devices=lstmkit.distribution.list_devices("cpu")))
            x, y = data(N_TRAIN, 1)
            loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x),
                                                                                torch.from_numpy(y)), batch_size=8)
            model = model_for()
            seen = Seen()
            history = model.fit(loader, epochs=2, callbacks=[seen], verbose=0)
            result["seen"] = np.asarray(seen.seen, dtype=np.int64).reshape(-1, 2)
            result["evaluate"] = np.asarray(model.evaluate(loader, verbose=0))
        elif scenario == "stream":  # a Parquet stream: each rank reads its own row groups (rank-aware shards)
            import pandas as pd

            from lstmkit.data.streaming import WindowStream
            path = out / f"stream_rank{rank}.parquet"  # the same table for every rank (no shared-file race)
            ids = np.repeat(np.arange(5), 20)
            frame = pd.DataFrame({"id": ids, "y": np.arange(100, dtype=np.float32) + 1000.0,
                                  "f": np.sin(np.arange(100)).astype(np.float32)})
            frame.to_parquet(path, row_group_size=15)  # 7 row groups: 4 for rank 0, 3 for rank 1
            stream = WindowStream(path, "y", ["f"], id_col="id", lookback=STEPS, batch_size=8)
            model = model_for()
            seen = Seen()
            history = model.fit(stream, epochs=2, callbacks=[seen], verbose=0)
            result["seen"] = np.asarray(seen.seen, dtype=np.int64).reshape(-1, 2)
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")
    result["weights"] = np.concatenate([w.ravel() for w in model.get_weights()])
    result["history"] = np.frombuffer(json.dumps(history.history, sort_keys=True).encode(), dtype=np.uint8)
    result["printed"] = np.frombuffer(printed.getvalue().encode() or b" ", dtype=np.uint8)
    return result


if __name__ == "__main__":
    out_dir = Path(sys.argv[1])
    for name in sys.argv[2:]:
        np.savez(out_dir / f"{name}_rank{os.environ.get('RANK', 0)}.npz", **run(name, out_dir))
