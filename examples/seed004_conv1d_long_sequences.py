"""Seed 004's "Conv1D before the LSTM for long sequences" answer on lstmkit: a strided ``Conv1D`` shortens
the sequence, an ``LSTM(16)`` reads it, ``Dense(1, sigmoid)`` classifies, trained with ``train_on_batch``.

The answer's code (seed 004, the ``make_data`` / ``make_model(batch_shape)`` snippet) with
``tensorflow.keras`` -> ``lstmkit``, run as written first: random inputs of ``batch_shape = (32, 100, 16)``
and random labels, one ``train_on_batch`` (``Adam(lr=1e-3)`` is tf.keras 2's spelling; lstmkit accepts
it with a DeprecationWarning). Lines changed for another reason are marked ``# FIXED:``, additions
``# ADDED:``. Random labels teach nothing, so then (ADDED) the same ``make_model`` on a learnable long-sequence
task: 16 noise channels of ``--timesteps`` steps (800 by default, the asker's shortest samples), channel 0
carrying a sine wave (amplitude 1 under unit noise) with a period of 10 or 16 steps; the label is
which one. ``Conv1D(kernel_size=10, strides=2)`` filters the rhythm out of the noise and halves the
sequence the LSTM has to read.
Writes ``training.png`` (loss and accuracy per epoch) and ``metrics.json`` (the as-written loss, test
accuracy against chance) to ``--out``.

    python examples/seed004_conv1d_long_sequences.py               # about a minute on two CPU cores
    python examples/seed004_conv1d_long_sequences.py --quick --out /tmp/conv1d
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstmkit.layers import Input, Conv1D, LSTM, Dense  # noqa: E402
from lstmkit.models import Model  # noqa: E402
from lstmkit.optimizers import Adam  # noqa: E402


def make_data(batch_shape):  # dummy data
    return (np.random.randn(*batch_shape),
            np.random.randint(0, 2, (batch_shape[0], 1)))


def make_model(batch_shape):  # example model
    ipt = Input(batch_shape=batch_shape)
    x = Conv1D(filters=16, kernel_size=10, strides=2, padding='valid')(ipt)
    x = LSTM(units=16)(x)
    out = Dense(1, activation='sigmoid')(x)  # assuming binary classification

    model = Model(ipt, out)
    model.compile(Adam(lr=1e-3), 'binary_crossentropy')
    return model


def make_rhythms(n: int, timesteps: int, channels: int, rng: np.random.Generator,
                amplitude: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """ADDED: ``(x, y)``: unit Gaussian noise on every channel, and in channel 0 a sine wave (random
    phase) with a period of 10 steps (``y = 1``) or 16 steps (``y = 0``): the same power either way, so
    only the rhythm tells the classes apart, and the evidence is spread over the whole sequence."""
    x = rng.standard_normal((n, timesteps, channels)).astype(np.float32)
    y = rng.integers(0, 2, size=(n, 1))
    period = np.where(y == 1, 10.0, 16.0)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    x[:, :, 0] += amplitude * np.sin(2 * np.pi * np.arange(timesteps)[None, :] / period + phase)
    return x, y.astype(np.float32)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=800, help="steps per sequence of the learnable task")
    parser.add_argument("--train", type=int, default=1024, help="training sequences")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="short sequences and few epochs, for a smoke test")
    parser.add_argument("--out", default="seed004_conv1d_out")
    args = parser.parse_args(argv)
    if args.quick:
        args.timesteps, args.train, args.epochs = 100, 256, 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.random.seed(0)  # ADDED: reproducible runs
    torch.manual_seed(0)

    # ---- as written --------------------------------------------------------------------------------
    batch_shape = (32, 100, 16)  # 32 samples, 100 timesteps, 16 channels
    x, y = make_data(batch_shape)
    with warnings.catch_warnings(record=True) as caught:  # ADDED: show tf.keras 2's lr= being accepted
        warnings.simplefilter("always")
        model = make_model(batch_shape)
    for w in caught:
        print(f"{w.category.__name__}: {w.message}")
    as_written_loss = model.train_on_batch(x, y)
    print(f"as written: train_on_batch on random data -> loss {float(as_written_loss):.4f} "
          f"(about ln 2 = {np.log(2):.4f}: random labels)")
    model.summary()

    # ---- ADDED: a task it can learn ----------------------------------------------------------------
    rng = np.random.default_rng(0)
    batch_shape = (32, args.timesteps, 16)
    x_train, y_train = make_rhythms(args.train, args.timesteps, 16, rng)
    x_test, y_test = make_rhythms(256, args.timesteps, 16, rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.manual_seed(0)
        model = make_model(batch_shape)
    print(f"learnable task: {args.train} sequences of {args.timesteps} steps x 16 channels; the LSTM sees "
          f"{model.layers[1].compute_output_shape(batch_shape)[1]} steps after the strided Conv1D")

    history = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    batch = batch_shape[0]
    started = time.perf_counter()
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        losses = []
        for start in range(0, len(x_train) - batch + 1, batch):
            rows = order[start:start + batch]
            losses.append(float(model.train_on_batch(x_train[rows], y_train[rows])))
        train_acc = float(np.mean((model.predict(x_train, batch_size=batch, verbose=0) > 0.5) == y_train))
        test_acc = float(np.mean((model.predict(x_test, batch_size=batch, verbose=0) > 0.5) == y_test))
        history["loss"].append(float(np.mean(losses)))
        history["train_accuracy"].append(train_acc)
        history["test_accuracy"].append(test_acc)
        print(f"epoch {epoch + 1}/{args.epochs} - loss: {history['loss'][-1]:.4f} - train accuracy: {train_acc:.3f} "
              f"- test accuracy: {test_acc:.3f}")
    seconds = time.perf_counter() - started
    test_loss = float(model.evaluate(x_test, y_test, batch_size=batch, verbose=0))

    fig, ax0 = plt.subplots(figsize=(9, 4))
    ax1 = ax0.twinx()
    ax0.plot(np.arange(1, args.epochs + 1), history["loss"], label="train loss")
    ax1.plot(np.arange(1, args.epochs + 1), history["train_accuracy"], "r-.", label="train accuracy")
    ax1.plot(np.arange(1, args.epochs + 1), history["test_accuracy"], "g-.", label="test accuracy")
    ax1.axhline(0.5, color="grey", ls=":", label="chance")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("binary cross-entropy")
    ax1.set_ylabel("accuracy")
    ax1.set_ylim(0, 1.02)
    ax0.legend(loc="upper left")
    ax1.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=80)
    plt.close(fig)

    metrics = {"as_written": {"batch_shape": [32, 100, 16], "train_on_batch_loss": float(as_written_loss),
                              "lr_warning": [str(w.message) for w in caught]},
               "timesteps": args.timesteps, "lstm_timesteps": int(model.layers[1].compute_output_shape(batch_shape)[1]),
               "train_sequences": args.train, "test_sequences": len(x_test), "epochs": args.epochs,
               "test_loss": test_loss, "test_accuracy": history["test_accuracy"][-1], "chance_accuracy": 0.5,
               "train_seconds": seconds, "params": model.count_params(), "history": history}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"test accuracy {metrics['test_accuracy']:.3f} (chance 0.5), test loss {test_loss:.4f}")
    print(f"wrote {out / 'training.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
