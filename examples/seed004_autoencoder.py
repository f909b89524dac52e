"""Seed 004's LSTM autoencoder on lstmkit: a many-to-one encoder, a ``RepeatVector`` one-to-many decoder,
the two chained as one model and trained with ``fit(X, X)``.

The answer's code (seed 004, "Achieving complex configurations") with ``keras`` -> ``lstmkit``; lines
changed for another reason are marked ``# FIXED:``, additions ``# ADDED:``. The answer gives no data:
here each sequence is ``steps`` steps of three channels, one sine wave (random period, phase, amplitude)
seen with a different lag on each channel, plus a little noise, all within the tanh range of the
decoder's last ``LSTM(features)``. The encoder squeezes a sequence into ``hidden3`` numbers; the decoder
rebuilds the sequence from them. Writes ``reconstructions.png`` (test sequences and their
reconstructions), ``training.png`` (the loss curves) and ``metrics.json`` (test reconstruction MSE against
two trivial baselines: each sequence's own per-channel mean, and the training set's mean sequence) to ``--out``.

    python examples/seed004_autoencoder.py                  # under a minute on two CPU cores
    python examples/seed004_autoencoder.py --quick --out /tmp/autoencoder
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

from lstmkit.layers import LSTM, Input, RepeatVector  # noqa: E402
from lstmkit.models import Model  # noqa: E402


def make_sequences(n: int, steps: int, features: int = 3, seed: int = 0) -> np.ndarray:
    """``(n, steps, features)``: channel j is ``a * sin(2 pi t / period + phase - 0.7 j)`` plus noise, in (-1, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[None, :, None]
    period = rng.uniform(8, 24, size=(n, 1, 1))
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    amplitude = rng.uniform(0.3, 0.8, size=(n, 1, 1))
    lag = 0.7 * np.arange(features)[None, None, :]
    x = amplitude * np.sin(2 * np.pi * t / period + phase - lag)
    return (x + rng.normal(scale=0.02, size=x.shape)).astype(np.float32)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--train", type=int, default=1024, help="training sequences")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--quick", action="store_true", help="tiny settings for a smoke test")
    parser.add_argument("--out", default="seed004_autoencoder_out")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.train, args.epochs = 16, 256, 4
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    steps, features = args.steps, 3
    hidden1, hidden2, hidden3, hidden4 = 32, 32, 8, 32  # ADDED: sizes (the answer leaves them open)
    X = make_sequences(args.train, steps, features, seed=0)
    X_test = make_sequences(256, steps, features, seed=1)

    # Encoder:
    inputs = Input((steps, features))
    # a few many to many layers:
    outputs = LSTM(hidden1, return_sequences=True)(inputs)
    outputs = LSTM(hidden2, return_sequences=True)(outputs)
    # many to one layer:
    outputs = LSTM(hidden3)(outputs)
    encoder = Model(inputs, outputs)

    # Decoder, using the "repeat" method:
    inputs = Input((hidden3,))
    # repeat to make one to many:
    outputs = RepeatVector(steps)(inputs)
    # a few many to many layers:
    outputs = LSTM(hidden4, return_sequences=True)(outputs)
    # last layer
    outputs = LSTM(features, return_sequences=True)(outputs)
    decoder = Model(inputs, outputs)

    # Autoencoder:
    inputs = Input((steps, features))
    outputs = encoder(inputs)
    outputs = decoder(outputs)
    autoencoder = Model(inputs, outputs)
    autoencoder.compile(loss="mse", optimizer="adam")  # ADDED: the answer only says "train with fit(X,X)"
    autoencoder.summary()

    # Train with fit(X,X)
    started = time.perf_counter()
    history = autoencoder.fit(X, X, epochs=args.epochs, batch_size=32, validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - started

    codes = encoder.predict(X_test, verbose=0)
    reconstructed = decoder.predict(codes, verbose=0)
    chained = autoencoder.predict(X_test, verbose=0)
    agree = float(np.abs(chained - reconstructed).max())  # ADDED: encoder then decoder == the autoencoder
    print(f"codes: {codes.shape}, reconstructions: {reconstructed.shape}; "
          f"autoencoder vs decoder(encoder(x)): max |difference| = {agree:.2e}")

    mse = float(np.mean((reconstructed - X_test) ** 2))
    own_mean = float(np.mean((X_test.mean(axis=1, keepdims=True) - X_test) ** 2))
    train_mean = float(np.mean((X.mean(axis=0, keepdims=True) - X_test) ** 2))
    print(f"test reconstruction MSE {mse:.5f}; baselines: each sequence's own mean {own_mean:.5f}, "
          f"the training mean sequence {train_mean:.5f}")

    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    for ax, k in zip(axes.flat, range(4)):
        for j in range(features):
            line, = ax.plot(X_test[k, :, j], lw=1, label=f"channel {j}")
            ax.plot(reconstructed[k, :, j], "--", lw=2, color=line.get_color(), alpha=0.7)
        ax.set_title(f"test sequence {k} (dashed: reconstruction)", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "reconstructions.png", dpi=80)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(history.history["loss"], label="loss")
    ax.plot(history.history["val_loss"], label="val_loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE")
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=80)
    plt.close(fig)

    metrics = {"steps": steps, "features": features, "code_size": hidden3, "epochs": args.epochs,
               "train_sequences": args.train, "test_sequences": len(X_test), "test_mse": mse,
               "baseline_own_mean_mse": own_mean, "baseline_train_mean_mse": train_mean,
               "max_abs_diff_chained_vs_parts": agree, "params": autoencoder.count_params(),
               "train_seconds": seconds,
               "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {out / 'reconstructions.png'}, {out / 'training.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
