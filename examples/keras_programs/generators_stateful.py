"""tf.keras 2 training loops that tutorials still print: ``TimeseriesGenerator`` + ``fit_generator``, an
endless Python generator with ``steps_per_epoch`` / ``validation_steps``, a ``keras.utils.Sequence`` that
reshuffles in ``on_epoch_end`` (loaded on 2 worker threads), and the stateful LSTM loop of Keras's
``lstm_stateful`` example (``fit(..., epochs=1, shuffle=False)`` then ``reset_states()`` each epoch).

All on one generated series (a noisy sum of two sines; the target is a moving average of the input). The
generator methods warn (``DeprecationWarning``: Keras 3 folded them into ``fit`` / ``evaluate`` /
``predict``) and then train exactly like ``fit``. Writes ``metrics.json`` (each loop's losses, shapes, the
warnings seen) to ``--out``.

    python examples/keras_programs/generators_stateful.py --out /tmp/generators
    python examples/keras_programs/generators_stateful.py --quick --out /tmp/generators
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

import lstmkit as keras
from lstmkit.layers import LSTM, Dense
from lstmkit.models import Sequential
from lstmkit.preprocessing.sequence import TimeseriesGenerator
from lstmkit.utils import Sequence


def series(length: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length)
    return (np.sin(t / 8) + 0.5 * np.sin(t / 3.1) + rng.normal(0, 0.1, length)).astype("float32")


def window_generator(data: np.ndarray, lookback: int, batch_size: int, rng: np.random.Generator):
    """Endless ``(windows, next values)`` batches at random positions (the book-style generator)."""
    while True:
        rows = rng.integers(lookback, len(data), size=batch_size)
        yield (np.stack([data[r - lookback:r] for r in rows])[..., None], data[rows][:, None])


class ShuffledWindows(Sequence):
    """Windows by index; a new order every epoch."""

    def __init__(self, data: np.ndarray, lookback: int, batch_size: int, **kwargs):
        super().__init__(**kwargs)
        self.data, self.lookback, self.batch_size = data, lookback, batch_size
        self.rows = np.arange(lookback, len(data))
        self.epochs_seen = 0

    def __len__(self) -> int:
        return int(np.ceil(len(self.rows) / self.batch_size))

    def __getitem__(self, index: int):
        rows = self.rows[index * self.batch_size:(index + 1) * self.batch_size]
        return (np.stack([self.data[r - self.lookback:r] for r in rows])[..., None], self.data[rows][:, None])

    def on_epoch_end(self) -> None:
        self.epochs_seen += 1
        np.random.shuffle(self.rows)


def lstm_model(lookback: int, units: int = 16, **kwargs) -> Sequential:
    model = Sequential([LSTM(units, input_shape=(lookback, 1), **kwargs), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="600 points, 3 epochs")
    parser.add_argument("--out", type=Path, default=Path("generators_out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.length, args.epochs = 600, 3
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    data = series(args.length, rng)
    split = int(0.8 * len(data))
    lookback = 20
    metrics: dict = {}
    seen_warnings: list[str] = []

    # 1. TimeseriesGenerator + fit_generator (machine-learning-tutorial style)
    train_gen = TimeseriesGenerator(data[:split, None], data[:split, None], length=lookback, batch_size=32)
    test_gen = TimeseriesGenerator(data[split:, None], data[split:, None], length=lookback, batch_size=32)
    x0, y0 = train_gen[0]
    model = lstm_model(lookback)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DeprecationWarning)
        history = model.fit_generator(train_gen, steps_per_epoch=len(train_gen), epochs=args.epochs, verbose=2)
        test_loss = model.evaluate_generator(test_gen)
        forecast = model.predict_generator(test_gen)
    seen_warnings += sorted({str(w.message).split(";")[0] for w in caught if w.category is DeprecationWarning})
    metrics["timeseries_generator"] = {"batch_shapes": [list(x0.shape), list(y0.shape)], "batches": len(train_gen),
                                       "loss": history.history["loss"], "test_loss": float(test_loss),
                                       "forecast_shape": list(forecast.shape)}

    # 2. an endless generator: steps_per_epoch and validation_steps say where epochs end
    model = lstm_model(lookback)
    history = model.fit(window_generator(data[:split], lookback, 32, rng), steps_per_epoch=15, epochs=args.epochs,
                        validation_data=window_generator(data[split:], lookback, 32, rng), validation_steps=4,
                        verbose=0)
    metrics["python_generator"] = {"loss": history.history["loss"], "val_loss": history.history["val_loss"]}

    # 3. a Sequence, reshuffled by on_epoch_end, loaded by 2 threads
    windows = ShuffledWindows(data[:split], lookback, 32, workers=2)
    model = lstm_model(lookback)
    history = model.fit(windows, epochs=args.epochs, verbose=0)
    metrics["sequence"] = {"loss": history.history["loss"], "epochs_seen": windows.epochs_seen}

    # 4. stateful: one long series cut into per-slot streams, state carried across batches within an epoch
    batch_size = 10
    x = np.stack([data[i:i + 1] for i in range(len(data) - 1)])[..., None]  # one step per sample
    y = data[1:, None]
    usable = (len(x) // batch_size) * batch_size
    x, y = x[:usable], y[:usable]
    model = Sequential([LSTM(16, batch_input_shape=(batch_size, 1, 1), stateful=True), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    losses = []
    for _ in range(args.epochs):
        losses += model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0).history["loss"]
        model.reset_states()
    metrics["stateful"] = {"loss": losses, "prediction_shape": list(model.predict(x[:batch_size],
                                                                                  batch_size=batch_size,
                                                                                  verbose=0).shape)}
    metrics["deprecation_warnings"] = seen_warnings
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    for name, part in metrics.items():
        if isinstance(part, dict):
            print(f"{name:22} loss {part['loss'][0]:.4f} -> {part['loss'][-1]:.4f}")
    print("warnings:", *seen_warnings, sep="\n  ")
    return metrics


if __name__ == "__main__":
    main()
