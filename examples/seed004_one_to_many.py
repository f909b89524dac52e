"""Seed 004's "one to many" both ways, on lstmkit: ``RepeatVector(steps)`` then ``LSTM(return_sequences=True)``,
and a ``stateful=True`` LSTM fed its own output one step at a time.

The answer's code (seed 004, lines ~60-175) with ``keras`` -> ``lstmkit``; lines changed for another
reason are marked ``# FIXED:``, additions ``# ADDED:``. The answer shows the layers and the prediction
loop but no data and no training; here both models learn the same task: from an initial vector
``z0 = (x, y)`` generate the next ``steps`` vectors of a damped oscillation
``z[t+1] = 0.9 * rotation(30 degrees) @ z[t]``. The repeat model maps ``z0`` to the whole sequence in one
call; the stateful model is trained one step ahead (teacher forcing, ``reset_states()`` before every
batch of independent sequences) and then generates freely from ``z0``, each output fed back as the next
input. Writes ``one_to_many.png`` (a few test sequences and both generations) and ``metrics.json``
(test MSE of each, against predicting zeros, the oscillation's resting point) to ``--out``.

    python examples/seed004_one_to_many.py                   # about 20 seconds on two CPU cores
    python examples/seed004_one_to_many.py --quick --out /tmp/one_to_many
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstmkit import forecast  # noqa: E402
from lstmkit.layers import LSTM, Dense, Input, RepeatVector, TimeDistributed  # noqa: E402
from lstmkit.models import Model, Sequential  # noqa: E402


def damped_oscillations(n: int, steps: int, seed: int = 0) -> np.ndarray:
    """``(n, steps + 1, 2)``: ``z0`` uniform in [-1, 1]^2, then ``z[t+1] = 0.9 * R(30 deg) z[t]``."""
    rng = np.random.default_rng(seed)
    angle = np.pi / 6
    step = 0.9 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    z = np.empty((n, steps + 1, 2))
    z[:, 0] = rng.uniform(-1, 1, size=(n, 2))
    for t in range(steps):
        z[:, t + 1] = z[:, t] @ step.T
    return z.astype(np.float32)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="vectors to generate from each initial vector")
    parser.add_argument("--train", type=int, default=512, help="training sequences")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke test")
    parser.add_argument("--out", default="seed004_one_to_many_out")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.train, args.epochs = 8, 128, 3
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    batch, features, steps, units = 64, 2, args.steps, 32
    train = damped_oscillations(args.train, steps, seed=0)
    test = damped_oscillations(batch, steps, seed=1)  # one batch of unseen initial vectors

    # ---- One to many with repeat vector ------------------------------------------------------------
    inputs = Input((features,))  # ADDED: the answer's `inputs` is (batch, features): the initial vector
    outputs = RepeatVector(steps)(inputs)  # where inputs is (batch,features)
    outputs = LSTM(units, return_sequences=True)(outputs)
    # output_shape -> (batch_size, steps, units)
    outputs = TimeDistributed(Dense(features))(outputs)  # ADDED: a linear read-out to the features
    repeat_model = Model(inputs, outputs)
    repeat_model.compile(loss="mse", optimizer="adam")
    started = time.perf_counter()
    repeat_model.fit(train[:, 0], train[:, 1:], epochs=args.epochs, batch_size=batch, verbose=0)
    repeat_seconds = time.perf_counter() - started
    repeat_pred = repeat_model.predict(test[:, 0], verbose=0)
    print("RepeatVector model output:", repeat_pred.shape, "(batch, steps, features)")

    # ---- One to many with stateful=True ------------------------------------------------------------
    torch.manual_seed(0)
    model = Sequential([
        Input(batch_shape=(batch, None, features)),  # FIXED: a stateful layer needs its batch size
        LSTM(units, stateful=True, return_sequences=True),  # ADDED: capacity; alone, LSTM(2) is too small
        LSTM(units=features,
             stateful=True,
             return_sequences=True),  # just to keep a nice output shape even with length 1
        # units = features because we want to use the outputs as inputs
        # None because we want variable length
        Dense(features),  # ADDED: a linear read-out, so outputs are not bounded by tanh
    ])
    model.compile(loss="mse", optimizer="adam")
    # ADDED: training (the answer shows none): one step ahead on whole sequences; each batch holds new,
    # independent sequences, so the states are reset before it.
    X, Y = train[:, :-1], train[:, 1:]
    started = time.perf_counter()
    for epoch in range(args.epochs):
        order = np.random.default_rng(epoch).permutation(len(X))  # shuffling whole sequences is fine
        for start in range(0, len(X) - batch + 1, batch):
            rows = order[start:start + batch]
            model.reset_states()
            loss = model.train_on_batch(X[rows], Y[rows])
    stateful_seconds = time.perf_counter() - started

    # the answer's prediction loop
    input_data = test[:, :1]  # someDataWithShape((batch, 1, features))
    # important, we're starting new sequences, not continuing old ones:
    model.reset_states()
    output_sequence = []
    last_step = input_data
    for i in range(steps):  # FIXED: the answer's `for i in steps_to_predict` needs a range
        new_step = model.predict(last_step, verbose=0)
        output_sequence.append(new_step)
        last_step = new_step
    # end of the sequences
    model.reset_states()
    stateful_pred = np.concatenate(output_sequence, axis=1)
    print("stateful loop output:", stateful_pred.shape, "(batch, steps, features)")
    # ADDED: lstmkit's carried-state forecast gives the same numbers
    carried = forecast.stateful(model, input_data, steps)
    agree = float(np.abs(carried - stateful_pred).max())
    print(f"stateful loop vs forecast.stateful: max |difference| = {agree:.2e}")

    truth = test[:, 1:]
    repeat_mse = float(np.mean((repeat_pred - truth) ** 2))
    stateful_mse = float(np.mean((stateful_pred - truth) ** 2))
    zeros_mse = float(np.mean(truth ** 2))  # predicting the resting point (0, 0) at every step
    first_step_mse = {"repeat": float(np.mean((repeat_pred[:, 0] - truth[:, 0]) ** 2)),
                      "stateful": float(np.mean((stateful_pred[:, 0] - truth[:, 0]) ** 2))}
    print(f"test MSE over {steps} generated steps: RepeatVector {repeat_mse:.5f}, stateful loop {stateful_mse:.5f}, "
          f"zeros {zeros_mse:.5f}")

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, k in zip(axes, range(3)):
        ax.plot(test[k, :, 0], test[k, :, 1], "k.-", label="truth")
        ax.plot(np.r_[test[k, 0, 0], repeat_pred[k, :, 0]], np.r_[test[k, 0, 1], repeat_pred[k, :, 1]], "r-.",
                label="RepeatVector")
        ax.plot(np.r_[test[k, 0, 0], stateful_pred[k, :, 0]], np.r_[test[k, 0, 1], stateful_pred[k, :, 1]], "g--",
                label="stateful loop")
        ax.plot(*test[k, 0], "ko", ms=8, mfc="none")
        ax.set_title(f"test sequence {k} (circle: z0)")
        ax.set_aspect("equal", adjustable="datalim")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "one_to_many.png", dpi=80)
    plt.close(fig)

    metrics = {"steps": steps, "train_sequences": args.train, "test_sequences": batch, "epochs": args.epochs,
               "repeat_vector": {"test_mse": repeat_mse, "first_step_mse": first_step_mse["repeat"],
                                 "params": repeat_model.count_params(), "train_seconds": repeat_seconds},
               "stateful_loop": {"test_mse": stateful_mse, "first_step_mse": first_step_mse["stateful"],
                                 "final_train_loss": float(loss), "params": model.count_params(),
                                 "train_seconds": stateful_seconds,
                                 "max_abs_diff_vs_forecast_stateful": agree},
               "zeros_baseline_mse": zeros_mse}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {out / 'one_to_many.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
