"""Seed 001 end to end on lstmkit: a sine wave, a 13-step look-back, ``simpleLSTM``, and a recursive forecast.

The seed's code with its imports changed (``keras`` -> ``lstmkit``); lines changed for another reason
are marked ``# FIXED:``. It writes ``training.png`` (loss and accuracy curves, as the seed's
``draw_train_step``), ``forecast.png`` (the recursive forecast against the test function) and
``metrics.json`` to ``--out``.

    python examples/sine_forecast.py                  # the seed's settings, scaled to a CPU (a few minutes)
    python examples/sine_forecast.py --epochs 1 --look-ahead 50 --out /tmp/sine   # a quick run
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # FIXED: write PNG files instead of plt.show() windows
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from lstmkit import backend as K  # noqa: E402
from lstmkit import callbacks, losses  # noqa: E402
from lstmkit.layers import LSTM, Dense, Dropout  # noqa: E402
from lstmkit.models import Sequential  # noqa: E402


def rmse(y_true, y_pred):
    return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))


class simpleLSTM(Sequential):
    def __init__(self, input_shape=(None, 1), time_step=14, hidden=128, dropout=0.2):
        super().__init__()
        self.add(LSTM(hidden, input_shape=input_shape, name="simpleLSTM00", go_backwards=True))
        self.add(Dropout(dropout, name="dropout00"))
        self.add(Dense(1, activation="relu"))
        self.compile(loss=losses.mse, optimizer="Nadam", metrics=["acc", rmse])


class CustomHistory(callbacks.Callback):
    def init(self):
        self.train_loss = []
        self.val_loss = []
        self.acc = []
        self.val_acc = []
        self.rmse = []
        self.val_rmse = []

    def on_epoch_end(self, batch, logs={}):
        self.train_loss.append(logs.get('loss'))
        self.val_loss.append(logs.get('val_loss'))
        self.acc.append(logs.get("acc"))
        self.val_acc.append(logs.get("val_acc"))
        self.rmse.append(logs.get("rmse"))
        self.val_rmse.append(logs.get("val_rmse"))


def make_data():
    data = np.sin(np.arange(6400)*(20*np.pi/1000))
    data = data.reshape(-1, 1)
    Scaler = MinMaxScaler(feature_range=(0, 1))
    scaled_data = Scaler.fit_transform(data)
    scaled_data = pd.DataFrame(scaled_data, columns=["data"])

    time_step = 14
    for shift in range(1, time_step):
        scaled_data["shifted_{:02}".format(
            time_step-shift)] = scaled_data["data"].shift(shift)
    scaled_data = scaled_data[scaled_data.columns[::-1]]
    train, test = train_test_split(scaled_data.dropna(), test_size=0.20, shuffle=False)

    x_train = train.drop("data", axis=1).values
    y_train = train[["data"]].values
    x_test = test.drop("data", axis=1).values
    y_test = test[["data"]].values

    x_train = x_train.reshape(x_train.shape[0], x_train.shape[1], 1)
    x_test = x_test.reshape(x_test.shape[0], x_test.shape[1], 1)
    return x_train, y_train, x_test, y_test


def draw_train_step(history, path, figsize=(16, 6)):
    fig, ax00 = plt.subplots(figsize=figsize)
    ax01 = ax00.twinx()
    ax00.plot(history.train_loss, label="train_loss")
    ax00.plot(history.val_loss, label="val_loss")

    ax01.plot(history.acc, "r-.", label="train_acc", )
    ax01.plot(history.val_acc, "g-.", label="val_acc")

    ax00.set_xlabel("epoch")
    ax00.set_ylabel("loss")
    ax01.set_ylabel("acc")
    ax00.legend(loc="upper left")
    ax01.legend(loc="upper right")

    ax01.grid(False)

    fig.savefig(path, dpi=80)  # FIXED: plt.show() -> a PNG file
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (the seed: 300)")
    parser.add_argument("--look-ahead", type=int, default=None, help="forecast steps (default: len(x_test))")
    parser.add_argument("--out", default="sine_forecast_out", help="folder for the PNG plots and metrics.json")
    parser.add_argument("--quick", action="store_true", help="1 epoch and a 30-step look-ahead, for a smoke test")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.look_ahead = 1, 30
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    x_train, y_train, x_test, y_test = make_data()
    print(x_train.shape, y_train.shape, x_test.shape, y_test.shape)

    custom_hist = CustomHistory()
    custom_hist.init()

    lstm = simpleLSTM()
    lstm.summary()

    # FIXED: the seed fits on (x_test, y_test) and then evaluates on that same data; train on x_train.
    lstm.fit(x_train, y_train, epochs=args.epochs, batch_size=64, callbacks=[custom_hist],
             validation_split=0.2, shuffle=False, verbose=2)
    draw_train_step(custom_hist, out / "training.png")

    loss, accuracy, rmse_value = lstm.evaluate(x_test, y_test, batch_size=100, verbose=0)
    print("loss     : {}".format(loss))
    print("accuracy : {}".format(accuracy))
    print("rmse     : {}".format(rmse_value))

    look_ahead = args.look_ahead or len(x_test)
    xhat = x_test[0]
    predictions = np.zeros((look_ahead, 1))
    for i in range(look_ahead):
        prediction = lstm.predict(np.array([xhat]), batch_size=1, verbose=0)
        predictions[i] = prediction
        xhat = np.vstack([xhat[1:], prediction])
    plt.figure(figsize=(12, 5))
    plt.plot(np.arange(look_ahead), predictions, 'r', label="prediction")
    plt.plot(np.arange(look_ahead), y_test[:look_ahead], label="test function")
    plt.legend()
    plt.savefig(out / "forecast.png", dpi=80)  # FIXED: plt.show() -> a PNG file
    plt.close()

    forecast_rmse = float(np.sqrt(np.mean((predictions - y_test[:look_ahead]) ** 2)))
    metrics = {"epochs": args.epochs, "test_loss": loss, "test_acc": accuracy, "test_rmse_metric": rmse_value,
               "recursive_forecast_steps": look_ahead, "recursive_forecast_rmse": forecast_rmse,
               "history": {k: [float(v) for v in vals] for k, vals in lstm.history.history.items()}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"recursive forecast RMSE over {look_ahead} steps (scaled units): {forecast_rmse:.4f}")
    print(f"wrote {out / 'training.png'}, {out / 'forecast.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
