"""Seed 004's "many to many with stateful=True" on synthetic oil tanks: train one step ahead, warm the
state up on the known part, then generate the future one step at a time.

N tanks, each measured for pressure and temperature at every step (two coupled, noisy oscillations
with a slow drift). The seed's code with ``keras`` -> ``lstmkit``; lines changed for another reason
are marked ``# FIXED:`` / ``# ADDED:``. The forecast is made three ways that must agree:
the seed's manual loop on the Keras-style stateful model, ``lstmkit.forecast.stateful`` (carried
states, any batch size), and per-tank streams (``model.predict(x, streams=ids)``) fed in mixed groups.
Writes ``tanks.png`` and ``metrics.json`` to ``--out``.

    python examples/tanks_many_to_many.py                 # ~10 s on two CPU cores
    python examples/tanks_many_to_many.py --quick --out /tmp/tanks
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstmkit import forecast  # noqa: E402
from lstmkit.layers import LSTM, Dense, Input  # noqa: E402
from lstmkit.models import Sequential  # noqa: E402


def make_tanks(n_tanks: int, steps: int, seed: int = 0) -> np.ndarray:
    """``(n_tanks, steps, 2)``: pressure and temperature, scaled into about [-0.8, 0.8]."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[None, :]
    period = rng.uniform(18, 30, size=(n_tanks, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n_tanks, 1))
    drift = rng.uniform(-0.2, 0.2, size=(n_tanks, 1)) * t / steps
    pressure = 0.5 * np.sin(2 * np.pi * t / period + phase) + drift
    temperature = 0.4 * np.sin(2 * np.pi * t / period + phase - 0.8) - 0.5 * drift  # lags the pressure
    noise = rng.normal(scale=0.02, size=(2, n_tanks, steps))
    return np.stack([pressure + noise[0], temperature + noise[1]], axis=-1).astype(np.float32)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tanks", type=int, default=8)
    parser.add_argument("--known", type=int, default=100, help="steps known per tank")
    parser.add_argument("--future", type=int, default=25, help="steps to generate")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke test")
    parser.add_argument("--out", default="tanks_output")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.known, args.future = 5, 30, 6
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    data = make_tanks(args.tanks, args.known + args.future)
    totalSequences, future_truth = data[:, :args.known], data[:, args.known:]
    batch, steps, features = totalSequences.shape

    model = Sequential([
        Input(batch_shape=(batch, None, features)),  # FIXED: a stateful layer needs its batch size
        LSTM(32, stateful=True, return_sequences=True),  # ADDED: capacity; the seed's one layer has 2 units
        LSTM(units=features, stateful=True, return_sequences=True),
        Dense(features),  # ADDED: a linear read-out, so outputs are not bounded by tanh
    ])
    model.compile(loss="mse", optimizer="adam")

    X = totalSequences[:, :-1]  # the entire known sequence, except the last step
    Y = totalSequences[:, 1:]  # one step ahead of X
    for epoch in range(args.epochs):
        model.reset_states()
        loss = model.train_on_batch(X, Y)

    # the seed's prediction loop on the Keras-style stateful model
    model.reset_states()  # starting a new sequence
    predicted = model.predict(totalSequences, verbose=0)
    firstNewStep = predicted[:, -1:]  # the last step of the predictions is the first future step
    output_sequence = [firstNewStep]
    last_step = firstNewStep
    for i in range(args.future - 1):  # FIXED: the seed's `for i in steps_to_predict` needs a range
        new_step = model.predict(last_step, verbose=0)
        output_sequence.append(new_step)
        last_step = new_step
    model.reset_states()  # end of the sequences
    seed_loop = np.concatenate(output_sequence, axis=1)

    # lstmkit: the same forecast with carried states (no fixed batch size needed) ...
    carried = forecast.stateful(model, totalSequences, args.future)
    # ... and with per-tank streams fed in changing groups: first half of the tanks, then the rest
    halves = [list(range(0, batch, 2)), list(range(1, batch, 2))]
    streamed = np.empty_like(seed_loop)
    for group in halves:
        step = model.predict(totalSequences[group], streams=group)[:, -1:]
        streamed[group, :1] = step
        for i in range(1, args.future):
            step = model.predict(step, streams=group)
            streamed[group, i:i + 1] = step
    agree = {"carried_vs_seed_loop": float(np.abs(carried - seed_loop).max()),
             "streams_vs_seed_loop": float(np.abs(streamed - seed_loop).max())}

    rmse = float(np.sqrt(np.mean((seed_loop - future_truth) ** 2)))
    persistence = float(np.sqrt(np.mean((totalSequences[:, -1:] - future_truth) ** 2)))
    metrics = {"final_train_loss": float(loss), "forecast_rmse": rmse, "persistence_rmse": persistence,
               "max_abs_difference": agree, "epochs": args.epochs, "tanks": batch, "future_steps": args.future}

    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    for f, (ax, name) in enumerate(zip(axes, ["pressure", "temperature"])):
        for tank in range(min(batch, 2)):
            line, = ax.plot(np.arange(steps), totalSequences[tank, :, f], label=f"tank {tank} known")
            ax.plot(np.arange(steps, steps + args.future), future_truth[tank, :, f], "--", color=line.get_color(),
                    label=f"tank {tank} truth")
            ax.plot(np.arange(steps, steps + args.future), seed_loop[tank, :, f], color=line.get_color(), lw=2.5,
                    alpha=0.6, label=f"tank {tank} forecast")
        ax.set_ylabel(name)
    axes[0].legend(fontsize=7, ncol=3)
    axes[1].set_xlabel("step")
    fig.tight_layout()
    fig.savefig(out / "tanks.png", dpi=80)
    plt.close(fig)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(json.dumps(metrics, indent=2))
    print(f"wrote {out / 'tanks.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
