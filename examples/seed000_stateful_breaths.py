"""Seed 000's "1.1 stateful Example" on lstmkit: ``Conv1D(32, 5)`` -> stateful ``LSTM(16)`` -> ``Dense`` with
``batch_input_shape=[1, WINDOW_SIZE, 4]``, trained breath by breath on ventilator data with Huber loss.

The post's code (seed 000, lines ~150-340) with ``tensorflow.keras`` -> ``lstmkit``; lines changed for
another reason are marked ``# FIXED:``, additions ``# ADDED:``. The competition's ``train.csv`` (Google
Brain - Ventilator Pressure Prediction) cannot be fetched here: the same table (``id, breath_id, R, C,
time_step, u_in, u_out, pressure``, 80 rows per breath) comes from
``lstmkit.apps.ventilator.simulator.simulate``. The post's ``windowed_dataset`` (tf.data
``window(shift=1, stride=1, drop_remainder=True)`` zipped with ``y[window_size:]``) is
``lstmkit.data.windowed``: window k gets the pressure of the row right after it.

The post loops over breaths calling ``fit`` on each breath's windows, with a stateful LSTM and batch
size 1, and never resets the states, so every breath starts from the state the previous breath (and
the validation pass) left. Each breath is an independent sequence, so the example resets the states
before each breath (``# FIXED:``) and also trains the post's way, without resets, from the same initial
weights; both are then scored on the validation breaths (states reset per breath, windows fed in
order) and the comparison is printed. The post also pairs each breath's windows with the targets of the
*first* rows of the whole training table (``y_train``, not this breath's): fixed for both runs.

Writes to ``--out``: ``Save_iter_{epoch}.h5`` after each outer epoch (Keras's legacy HDF5 model file, as
the post's ``model.save``), ``CheckPoint/ckeckpointer.ckpt`` (the best weights by ``val_loss``),
``no_reset/`` (the same two for the post's way), ``breaths.png`` (a few validation breaths: pressure and
both models' predictions), ``training.png`` (loss per breath) and ``metrics.json``.

    python examples/seed000_stateful_breaths.py                  # about 2.5 minutes on two CPU cores
    python examples/seed000_stateful_breaths.py --quick --out /tmp/breaths
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from lstmkit.apps.ventilator.simulator import simulate  # noqa: E402
from lstmkit.callbacks import EarlyStopping, ModelCheckpoint  # noqa: E402
from lstmkit.data import windowed  # noqa: E402
from lstmkit.layers import LSTM, Conv1D, Dense  # noqa: E402
from lstmkit.losses import Huber  # noqa: E402
from lstmkit.models import Sequential, load_model  # noqa: E402
from lstmkit.optimizers import Adam  # noqa: E402

WINDOW_SIZE = 10  # ADDED: the post does not show its value; Conv1D(kernel_size=5) needs at least 5


def windowed_dataset(x, y, window_size, batch_size, shuffle):
    """Windows of ``window_size`` rows of ``x``, each with ``y`` of the row right after it.

    FIXED: tf.data's ``window(window_size, shift=1, stride=1, drop_remainder=True)`` /
    ``flat_map(batch)`` zipped with ``y[window_size:]`` is ``lstmkit.data.windowed`` (the last window,
    which has no next row, is dropped as zip drops it). It returns arrays: batching is ``fit``'s
    ``batch_size``, and ``cache()`` / ``prefetch()`` have nothing to do.
    """
    ds_x, ds_y = windowed(np.asarray(x, dtype="float32"), np.asarray(y, dtype="float32"), window_size,
                          shift=1, stride=1)
    if shuffle:
        order = np.random.default_rng(0).permutation(len(ds_x))
        ds_x, ds_y = ds_x[order], ds_y[order]
    return ds_x, ds_y


def build_model(filename):
    model = Sequential([
        # 1차원 feature map 생성 (a 1-D feature map)
        Conv1D(filters=32, kernel_size=5,
               batch_input_shape=[1, WINDOW_SIZE, 4]),
        # LSTM
        LSTM(16, activation='tanh', stateful=True),
        Dense(16, activation="relu"),
        Dense(1),  # FIXED: the post's listing is cut here; one pressure per window
    ])

    # Sequence 학습에 비교적 좋은 퍼포먼스를 내는 Huber()를 사용합니다. (Huber does well on sequences)
    loss = Huber()
    optimizer = Adam(0.0005)
    model.compile(loss=loss, optimizer=optimizer, metrics=['mse'])  # FIXED: the post builds `loss` then
    # passes a second Huber(); the same thing

    # earlystopping은 10번 epoch통안 val_loss 개선이 없다면 학습을 멈춥니다. (stop after 10 epochs without progress)
    earlystopping = EarlyStopping(monitor='val_loss', patience=10)

    checkpoint = ModelCheckpoint(filename,  # FIXED: the post's argument list is cut; the usual ones
                                 save_weights_only=True,
                                 save_best_only=True,
                                 monitor='val_loss',
                                 verbose=0)
    return model, earlystopping, checkpoint


def train_breaths(x_train, y_train, val_ds, out, epochs, inner_epochs, reset_between_breaths):
    """The post's loop: for each epoch, for each breath, ``fit`` on that breath's windows; then save."""
    out.mkdir(parents=True, exist_ok=True)
    BATCH_SIZE = 1  # Stateful일때는 Batch Size 는 1 (stateful: batch size 1)
    filename = os.path.join(out, 'CheckPoint', 'ckeckpointer.ckpt')  # FIXED: under --out
    os.makedirs(os.path.dirname(filename), exist_ok=True)  # ADDED
    torch.manual_seed(0)  # ADDED: both runs start from the same weights
    model, earlystopping, checkpoint = build_model(filename)

    breath_id = list(x_train['breath_id'].value_counts().index)  # FIXED: pandas 2 names the column
    # 'breath_id', not 'index': value_counts().reset_index()['index'] is a KeyError

    losses = []
    for epoch in range(epochs):

        for b_id in breath_id:

            train_b_id = x_train[x_train['breath_id'] == b_id]
            train_b_id = train_b_id.drop(['breath_id'], axis=1).copy()
            y_b_id = y_train[x_train['breath_id'] == b_id]  # FIXED: this breath's targets; the post passes
            # the whole y_train, so every breath was paired with the first rows' pressures

            train_ds = windowed_dataset(train_b_id, y_b_id, WINDOW_SIZE, BATCH_SIZE, False)

            if reset_between_breaths:
                model.reset_states()  # FIXED: each breath is an independent sequence; don't start it from
                # the state the previous breath (and the validation pass) left

            print("Breath ID : {0}".format(b_id))

            history = model.fit(*train_ds, batch_size=BATCH_SIZE,  # FIXED: arrays and batch_size for the dataset
                                validation_data=(val_ds), epochs=inner_epochs, shuffle=False, verbose=0,
                                callbacks=[checkpoint, earlystopping])
            losses.append(history.history["loss"][-1])  # ADDED: the learning curve

        filename = "Save_iter_{}.h5".format(epoch)
        model.save(out / filename)  # FIXED: under --out
    return model, losses


def score_breaths(model, x_val, y_val, val_breaths):
    """ADDED: each validation breath on its own: reset, then its windows in order; MAE and per-breath predictions."""
    predictions, errors = {}, []
    for b_id in pd.unique(val_breaths):
        rows = (val_breaths == b_id).to_numpy()
        x_b, y_b = windowed_dataset(x_val[rows], y_val[rows], WINDOW_SIZE, 1, False)
        model.reset_states()
        p = model.predict(x_b, batch_size=1, verbose=0)[:, 0]
        model.reset_states()
        predictions[int(b_id)] = p
        errors.append(np.abs(p - y_b[:]))
    return float(np.mean(np.concatenate(errors))), predictions


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--breaths", type=int, default=30, help="breaths to simulate (80 rows each)")
    parser.add_argument("--epochs", type=int, default=3, help="outer epochs over all breaths (the post: 5)")
    parser.add_argument("--inner-epochs", type=int, default=1, help="fit epochs per breath (the post: 10)")
    parser.add_argument("--quick", action="store_true", help="a few breaths, one epoch, for a smoke test")
    parser.add_argument("--out", default="seed000_stateful_breaths_out")
    args = parser.parse_args(argv)
    if args.quick:
        args.breaths, args.epochs, args.inner_epochs = 5, 1, 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.random.seed(0)

    train = simulate(args.breaths, seed=0)  # FIXED: pd.read_csv("train.csv") -> the simulated competition table
    print(train.head())

    minMaxScaler = MinMaxScaler(feature_range=(0, 1))
    t = train.drop(['id', 'time_step'], axis=1).copy()
    minMaxScaler.fit(t)  # FIXED: the post's fit line is lost from the listing
    t_scaled = minMaxScaler.transform(t)
    t_scaled = pd.DataFrame(t_scaled)
    t_scaled.columns = ['0', '1', '2', '3', '4', '5']

    t['R'] = t_scaled['1']
    t['C'] = t_scaled['2']
    t['u_in'] = t_scaled['3']
    t['u_out'] = t_scaled['4']
    print(t)

    x_train, x_val, y_train, y_val = train_test_split(t.drop('pressure', axis=1),  # FIXED: axis=1 by keyword
                                                      t['pressure'],  # FIXED: the targets, lost from the listing
                                                      test_size=0.2,  # ADDED: whole breaths (the post: ~0.005)
                                                      shuffle=False)
    val_breaths = x_val['breath_id'].copy()  # ADDED: kept to score the validation breaths one by one
    x_val = x_val.drop(['breath_id'], axis=1).copy()
    print(x_val)

    val_ds = windowed_dataset(x_val, y_val, WINDOW_SIZE, 1, False)
    print(f"{x_train['breath_id'].nunique()} training breaths, {val_breaths.nunique()} validation breaths; "
          f"windows {val_ds[0].shape[1:]}")

    runs = {}
    for name, reset, folder in (("reset_per_breath", True, out), ("no_reset_as_posted", False, out / "no_reset")):
        print(f"\n--- training: {name} ---")
        started = time.perf_counter()
        model, losses = train_breaths(x_train, y_train, val_ds, folder, args.epochs, args.inner_epochs, reset)
        seconds = time.perf_counter() - started
        mae, predictions = score_breaths(model, x_val, y_val, val_breaths)
        runs[name] = {"model": model, "losses": losses, "mae": mae, "predictions": predictions, "seconds": seconds}

    # ADDED: the saved .h5 loads back with the same weights (the stateful layer's batch size included)
    reloaded = load_model(out / "Save_iter_{}.h5".format(args.epochs - 1), compile=False)
    reloaded_mae, _ = score_breaths(reloaded, x_val, y_val, val_breaths)

    mean_baseline = float(np.mean(np.abs(y_val.to_numpy() - y_train.mean())))  # the training mean pressure
    print("\nvalidation MAE (cmH2O), each validation breath scored from reset states:")
    print(f"  reset_states() before each breath (FIXED): {runs['reset_per_breath']['mae']:.3f}")
    print(f"  no reset, as posted:                       {runs['no_reset_as_posted']['mae']:.3f}")
    print(f"  the training mean pressure:                {mean_baseline:.3f}")
    print(f"  Save_iter_{args.epochs - 1}.h5 loaded back:                {reloaded_mae:.3f}")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    shown = list(runs["reset_per_breath"]["predictions"])[:2]
    for ax, b_id in zip(axes, shown):
        rows = (val_breaths == b_id).to_numpy()
        pressure = y_val[rows].to_numpy()
        ax.plot(np.arange(len(pressure)), pressure, "k.-", ms=3, label="pressure")
        steps = np.arange(WINDOW_SIZE, len(pressure))
        ax.plot(steps, runs["reset_per_breath"]["predictions"][b_id], "g-", label="reset per breath")
        ax.plot(steps, runs["no_reset_as_posted"]["predictions"][b_id], "r--", label="no reset (as posted)")
        ax.set_title(f"validation breath {b_id}")
        ax.set_xlabel("step")
    axes[0].set_ylabel("pressure (cmH2O)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "breaths.png", dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 4))
    for name, run in runs.items():
        ax.plot(run["losses"], label=name)
    ax.set_xlabel("breath fitted (all outer epochs)")
    ax.set_ylabel("Huber loss (last inner epoch)")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=80)
    plt.close(fig)

    metrics = {"breaths": args.breaths, "train_breaths": int(x_train['breath_id'].nunique()),
               "val_breaths": int(val_breaths.nunique()), "window_size": WINDOW_SIZE, "epochs": args.epochs,
               "inner_epochs": args.inner_epochs, "val_mae_mean_baseline": mean_baseline,
               "reloaded_h5_val_mae": reloaded_mae,
               "saved": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
                               and p.suffix in (".h5", ".ckpt"))}
    for name, run in runs.items():
        metrics[name] = {"val_mae": run["mae"], "final_loss": float(run["losses"][-1]),
                         "train_seconds": run["seconds"], "losses": [float(v) for v in run["losses"]]}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {out / 'breaths.png'}, {out / 'training.png'}, {out / 'metrics.json'} and the model files "
          f"{', '.join(metrics['saved'])}")
    return metrics


if __name__ == "__main__":
    main()
