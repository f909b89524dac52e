"""Multivariate weather forecasting (the pattern of Keras's ``timeseries_weather_forecasting``) on generated
hourly weather: predict the temperature 12 hours after a 5-day window of 4 variables.

Generated data stands in for the Jena climate download: temperature with daily and yearly cycles and
persistent anomalies, pressure as a slow random walk that drives the anomalies, humidity falling as
temperature rises, wind. As the Keras example: features standardised with the training part's mean / std,
``keras.preprocessing.timeseries_dataset_from_array(x, y, sequence_length, sampling_rate=step)`` with the
labels shifted by ``past + future`` rows, ``for x, y in dataset.take(1)`` to read the shapes, a functional
``Input -> LSTM(32) -> Dense(1)`` with ``Adam(learning_rate)``, ``EarlyStopping`` and ``ModelCheckpoint``
(weights only) and ``BackupAndRestore``, ``fit(dataset, validation_data=dataset)``; then the validation error
in degrees against persistence (tomorrow = now). Writes ``forecast.png``, ``checkpoint.weights.h5`` and
``metrics.json`` to ``--out``.

    python examples/keras_programs/weather_forecast.py --out /tmp/weather
    python examples/keras_programs/weather_forecast.py --quick --out /tmp/weather
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

import lstmkit as keras  # noqa: E402

FEATURES = ["T (degC)", "p (mbar)", "rh (%)", "wv (m/s)"]


def make_weather(hours: int, rng: np.random.Generator) -> pd.DataFrame:
    """Hourly weather with cycles, a pressure random walk and temperature anomalies that follow it."""
    t = np.arange(hours)
    pressure = 1000 + np.cumsum(rng.normal(0, 0.4, hours))
    pressure -= np.convolve(pressure - 1000, np.ones(24 * 20) / (24 * 20), mode="same")  # keep it near 1000
    anomaly = np.zeros(hours)
    for i in range(1, hours):
        anomaly[i] = 0.995 * anomaly[i - 1] + 0.02 * (pressure[i] - 1000) + rng.normal(0, 0.08)
    temperature = (10 - 8 * np.cos(2 * np.pi * t / (24 * 365)) - 4 * np.cos(2 * np.pi * (t % 24) / 24)
                   + anomaly + rng.normal(0, 0.3, hours))
    humidity = np.clip(75 - 2.0 * (temperature - 10) + rng.normal(0, 4, hours), 5, 100)
    wind = np.abs(2 + 0.05 * np.abs(np.gradient(pressure)) * 20 + rng.normal(0, 0.8, hours))
    times = pd.date_range("2020-01-01", periods=hours, freq="h")
    return pd.DataFrame({"Date Time": times, "T (degC)": temperature, "p (mbar)": pressure,
                         "rh (%)": humidity, "wv (m/s)": wind})


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24 * 365)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="120 days, 3 epochs")
    parser.add_argument("--out", type=Path, default=Path("weather_forecast_out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.hours, args.epochs = 24 * 120, 3
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(2)
    df = make_weather(args.hours, np.random.default_rng(2))

    step, past, future, batch_size = 6, 120, 12, 64  # one sample every 6 h, 5 days back, 12 h ahead
    train_split = int(0.7 * len(df))
    values = df[FEATURES].to_numpy("float32")
    mean, std = values[:train_split].mean(axis=0), values[:train_split].std(axis=0)
    features = pd.DataFrame((values - mean) / std)
    start = past + future
    x_train = features.iloc[:train_split].to_numpy()
    y_train = features.iloc[start:start + train_split][[0]]
    x_val = features.iloc[train_split:len(features) - start].to_numpy()
    y_val = features.iloc[train_split + start:][[0]]
    sequence_length = past // step
    dataset_train = keras.preprocessing.timeseries_dataset_from_array(
        x_train, y_train, sequence_length=sequence_length, sampling_rate=step, batch_size=batch_size)
    dataset_val = keras.preprocessing.timeseries_dataset_from_array(
        x_val, y_val, sequence_length=sequence_length, sampling_rate=step, batch_size=batch_size)
    for batch in dataset_train.take(1):
        inputs, targets = batch
    print("Input shape:", tuple(inputs.numpy().shape), "Target shape:", tuple(targets.numpy().shape))

    inputs = keras.layers.Input(shape=(inputs.shape[1], inputs.shape[2]))
    outputs = keras.layers.Dense(1)(keras.layers.LSTM(32)(inputs))
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
    model.summary()
    checkpoint = args.out / "checkpoint.weights.h5"
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=0, patience=5),
                 keras.callbacks.ModelCheckpoint(str(checkpoint), monitor="val_loss", verbose=1,
                                                 save_weights_only=True, save_best_only=True),
                 keras.callbacks.BackupAndRestore(str(args.out / "backup"))]
    history = model.fit(dataset_train, epochs=args.epochs, validation_data=dataset_val, callbacks=callbacks)
    model.load_weights(checkpoint)

    predictions, truths, last_seen = [], [], []
    for x, y in dataset_val:
        predictions.append(model.predict(x, verbose=0)[:, 0])
        truths.append(y.numpy()[:, 0])
        last_seen.append(x.numpy()[:, -1, 0])
    degrees = lambda z: np.concatenate(z) * std[0] + mean[0]  # noqa: E731
    prediction, truth, persistence = degrees(predictions), degrees(truths), degrees(last_seen)
    mae = float(np.mean(np.abs(prediction - truth)))
    persistence_mae = float(np.mean(np.abs(persistence - truth)))

    plt.figure(figsize=(8, 3.5))
    shown = slice(0, 200)
    plt.plot(truth[shown], label="temperature 12 h later")
    plt.plot(prediction[shown], label=f"LSTM (MAE {mae:.2f} °C)")
    plt.plot(persistence[shown], label=f"persistence (MAE {persistence_mae:.2f} °C)", alpha=0.6)
    plt.legend(fontsize=8)
    plt.tight_layout()
    plt.savefig(args.out / "forecast.png")
    metrics = {"loss": history.history["loss"], "val_loss": history.history["val_loss"],
               "input_shape": list(inputs.shape[1:]), "val_mae_degC": mae, "persistence_mae_degC": persistence_mae,
               "train_batches": len(dataset_train), "backup_left": (args.out / "backup").exists()}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"validation MAE {mae:.2f} °C, persistence {persistence_mae:.2f} °C")
    return metrics


if __name__ == "__main__":
    main()
