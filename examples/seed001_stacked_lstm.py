"""Seed 001, sections 3.1 and 4.1 on lstmkit: ``simpleStackedLSTM`` on the post's sine wave, and the
stateful stacked LSTM whose section the author left empty.

Section 3.1 (seed 001, lines ~320-430) is the post's code with ``keras`` -> ``lstmkit``; lines changed
for another reason are marked ``# FIXED:``, additions ``# ADDED:``. It trains on 13-step windows
(``make_data`` as in ``examples/sine_forecast.py``), evaluates, forecasts the test part recursively
(each prediction appended to the window) and draws the learning curves.

Section 4.1 (ADDED: the post has only its headings) is the same stack with ``stateful=True`` layers and
a fixed batch size: the training part of the series is cut into ``batch_size`` contiguous streams
(``lstmkit.data.stateful_batches``), each stream continuing in its batch slot from batch to batch,
trained one step ahead at every step with ``shuffle=False`` and ``reset_states()`` after each epoch.
The forecast warms the states up on the whole training part, then feeds each prediction back as the
next step with the states carried: the Keras way (a batch-size-1 copy of the model and a manual loop)
and ``lstmkit.forecast.stateful``, which must agree. Writes ``stacked_training.png``,
``stacked_forecast.png``, ``stateful_training.png``, ``comparison.png`` and ``metrics.json`` (both
models' test loss and recursive-forecast RMSE) to ``--out``.

    python examples/seed001_stacked_lstm.py                    # 20 epochs each, about 2 minutes on two CPU cores
    python examples/seed001_stacked_lstm.py --quick --out /tmp/stacked
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # FIXED: write PNG files instead of plt.show() windows
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from sklearn.preprocessing import MinMaxScaler  # noqa: E402

from lstmkit import forecast  # noqa: E402
from lstmkit.data import stateful_batches  # noqa: E402
from lstmkit.layers import LSTM, Dense, Dropout  # noqa: E402
from lstmkit.models import Sequential  # noqa: E402
from sine_forecast import CustomHistory, draw_train_step, rmse  # noqa: E402  (the post defines them once)
from sine_forecast import make_data as sine_make_data  # noqa: E402

TIME_STEP = 14


class simpleStackedLSTM(Sequential):
    def __init__(self, stacked=3, input_shape=(None, 1), time_step=14, hidden=32, dropout=0.05):
        super().__init__()
        self.add(LSTM(hidden, input_shape=input_shape,
                      return_sequences=True,  # 출력 설정 (pass every step on to the next LSTM)
                      name="simpleLSTM_{:02}".format(0)))
        self.add(Dropout(dropout, name="Dropout_{:02}".format(0)))

        for i in range(1, stacked):
            self.add(LSTM(hidden, return_sequences=True, name="simpleLSTM_{:02}".format(i)))
            self.add(Dropout(dropout, name="Dropout_{:02}".format(i)))

        self.add(LSTM(32, name="simpleLSTM_{:02}".format(stacked)))
        self.add(Dropout(dropout, name="dropout_FIN"))

        self.add(Dense(1, activation="relu", name="OutPut"))
        self.compile(loss=rmse, optimizer="Nadam", metrics=["acc", ])


# ADDED: section 4.1's model. The same stack; every LSTM stateful (a fixed batch size, any number of
# steps per batch) and returning sequences, so that each step is trained to predict the next one.
class simpleStatefulStackedLSTM(Sequential):
    def __init__(self, stacked=3, batch_size=4, hidden=32, dropout=0.05):
        super().__init__()
        self.add(LSTM(hidden, batch_input_shape=(batch_size, None, 1), stateful=True,
                      return_sequences=True, name="statefulLSTM_{:02}".format(0)))
        self.add(Dropout(dropout, name="Dropout_{:02}".format(0)))

        for i in range(1, stacked):
            self.add(LSTM(hidden, stateful=True, return_sequences=True, name="statefulLSTM_{:02}".format(i)))
            self.add(Dropout(dropout, name="Dropout_{:02}".format(i)))

        self.add(LSTM(32, stateful=True, return_sequences=True, name="statefulLSTM_{:02}".format(stacked)))
        self.add(Dropout(dropout, name="dropout_FIN"))

        self.add(Dense(1, activation="relu", name="OutPut"))
        self.compile(loss=rmse, optimizer="Nadam", metrics=["acc", ])


def make_data():
    """Seed 001's section 2.2 (``sine_forecast.make_data``: the sine wave scaled to [0, 1], 13 shifted
    copies, an 80/20 split in time order), plus (ADDED) the scaled series itself and the row of the
    first test target, for the stateful model."""
    x_train, y_train, x_test, y_test = sine_make_data()
    data = np.sin(np.arange(6400)*(20*np.pi/1000)).reshape(-1, 1)
    series = MinMaxScaler(feature_range=(0, 1)).fit_transform(data).astype("float32")
    first_test_row = (TIME_STEP - 1) + len(x_train)  # dropna() dropped the first TIME_STEP - 1 rows
    return x_train, y_train, x_test, y_test, series, first_test_row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="training epochs of each model")
    parser.add_argument("--look-ahead", type=int, default=None, help="forecast steps (default: len(x_test))")
    parser.add_argument("--batch-size", type=int, default=4, help="the stateful model's fixed batch size (streams)")
    parser.add_argument("--chunk", type=int, default=64, help="steps per stateful batch (truncated BPTT length)")
    parser.add_argument("--quick", action="store_true", help="1 epoch each and a 30-step forecast, for a smoke test")
    parser.add_argument("--out", default="seed001_stacked_out", help="folder for the PNG plots and metrics.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.look_ahead = 1, 30
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)

    x_train, y_train, x_test, y_test, series, first_test_row = make_data()
    print(x_train.shape, y_train.shape, x_test.shape, y_test.shape)
    look_ahead = args.look_ahead or len(x_test)

    # ---- 3.1 simple Stacked LSTM ----------------------------------------------------------------
    custom_hist = CustomHistory()
    custom_hist.init()

    hidden = 32
    lstm = simpleStackedLSTM(hidden=hidden)
    lstm.summary()

    started = time.perf_counter()
    # FIXED: the post fits on (x_test, y_test) and then evaluates on that same data; train on x_train.
    lstm.fit(x_train, y_train, epochs=args.epochs, batch_size=64, callbacks=[custom_hist],
             validation_split=0.2, shuffle=False, verbose=2)
    stacked_seconds = time.perf_counter() - started

    # 3.1.2 모델 검정 (evaluation)
    loss, accuracy = lstm.evaluate(x_test, y_test, batch_size=100, verbose=0)

    print("loss     : {}".format(loss))
    print("accuracy : {}".format(accuracy))

    # 3.1.3 the recursive forecast: each prediction becomes the newest step of the window
    xhat = x_test[0]
    predictions = np.zeros((look_ahead, 1))
    for i in range(look_ahead):
        prediction = lstm.predict(np.array([xhat]), batch_size=1, verbose=0)
        predictions[i] = prediction
        xhat = np.vstack([xhat[1:], prediction])

    plt.figure(figsize=(12, 5))
    plt.plot(np.arange(look_ahead), predictions, 'r-.', label="prediction")
    plt.plot(np.arange(look_ahead), y_test[:look_ahead],  label="test")
    plt.legend()
    plt.savefig(out / "stacked_forecast.png", dpi=80)  # FIXED: plt.show() -> a PNG file
    plt.close()

    # 3.1.4 결과 확인 (the learning curves)
    draw_train_step(custom_hist, out / "stacked_training.png")

    # ---- 4.1 simple stateful Stacked LSTM (ADDED: the post's section is empty) -----------------
    batch_size = args.batch_size
    known = series[:first_test_row]  # every value before the first test target: the training part
    streams = np.array_split(known, batch_size)  # one contiguous stream per batch slot
    layout = stateful_batches([s[:-1] for s in streams], targets=[s[1:] for s in streams],
                              batch_size=batch_size, chunk=args.chunk)
    print(f"stateful layout: {batch_size} streams of ~{len(streams[0])} steps -> {len(layout)} batches of "
          f"{layout.x.shape[1:]} each")

    torch.manual_seed(0)
    stateful = simpleStatefulStackedLSTM(batch_size=batch_size, hidden=hidden)
    stateful.summary()
    stateful_loss = []
    started = time.perf_counter()
    for epoch in range(args.epochs):
        # slot i of batch k+1 continues slot i of batch k: keep the order, reset after the epoch
        hist = stateful.fit(layout.x, layout.y, sample_weight=layout.sample_weight, batch_size=batch_size,
                            epochs=1, shuffle=False, verbose=0)
        stateful.reset_states()
        stateful_loss.append(hist.history["loss"][0])
        print(f"stateful epoch {epoch + 1}/{args.epochs} - loss: {stateful_loss[-1]:.4f}")
    stateful_seconds = time.perf_counter() - started

    # The forecast, the Keras way: a batch-size-1 copy with the trained weights, warmed up on the
    # training part, then one step at a time, each prediction fed back, the states carried.
    predictor = simpleStatefulStackedLSTM(batch_size=1, hidden=hidden)
    predictor.set_weights(stateful.get_weights())
    predictor.reset_states()  # a new sequence starts
    warm = predictor.predict(known[None], batch_size=1, verbose=0)  # (1, T, 1): one pass over the history
    last_step = warm[:, -1:]  # its last step predicts the first test target
    stateful_predictions = [last_step[0, 0]]
    for i in range(look_ahead - 1):
        last_step = predictor.predict(last_step, batch_size=1, verbose=0)
        stateful_predictions.append(last_step[0, 0])
    predictor.reset_states()  # end of the sequence
    stateful_predictions = np.asarray(stateful_predictions)
    # lstmkit: the same forecast from the batch-4 model, states carried outside its Keras slots
    carried = forecast.stateful(stateful, known, look_ahead)
    agree = float(np.abs(carried - stateful_predictions).max())
    print(f"manual stateful loop vs forecast.stateful: max |difference| = {agree:.2e}")

    # one-step-ahead test loss of the stateful model (teacher forcing), comparable with lstm.evaluate
    predictor.reset_states()
    one_step = predictor.predict(series[None, :first_test_row + len(y_test) - 1], batch_size=1, verbose=0)
    predictor.reset_states()
    one_step = one_step[0, first_test_row - 1:]
    stateful_test_loss = float(np.mean(np.sqrt(np.mean((one_step - y_test) ** 2, axis=-1))))  # the rmse loss

    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(stateful_loss, label="stateful train_loss (rmse)")
    ax.plot(custom_hist.train_loss, "--", label="stacked (windows) train_loss (rmse)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "stateful_training.png", dpi=80)
    plt.close(fig)

    truth = y_test[:look_ahead, 0]
    stacked_rmse = float(np.sqrt(np.mean((predictions[:, 0] - truth) ** 2)))
    stateful_rmse = float(np.sqrt(np.mean((stateful_predictions - truth) ** 2)))
    persistence_rmse = float(np.sqrt(np.mean((x_test[0, -1, 0] - truth) ** 2)))  # the last known value, repeated

    fig, ax = plt.subplots(figsize=(12, 5))
    ax.plot(np.arange(look_ahead), truth, label="test")
    ax.plot(np.arange(look_ahead), predictions[:, 0], "r-.", label=f"stacked, windows (RMSE {stacked_rmse:.3f})")
    ax.plot(np.arange(look_ahead), stateful_predictions, "g--",
            label=f"stateful stacked, carried states (RMSE {stateful_rmse:.3f})")
    ax.set_xlabel("steps after the end of the training part")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "comparison.png", dpi=80)
    plt.close(fig)

    metrics = {
        "epochs": args.epochs, "look_ahead": look_ahead, "persistence_rmse": persistence_rmse,
        "stacked": {"params": lstm.count_params(), "test_loss": float(loss), "test_acc": float(accuracy),
                    "recursive_forecast_rmse": stacked_rmse, "train_seconds": stacked_seconds,
                    "history": {k: [float(v) for v in vals] for k, vals in lstm.history.history.items()}},
        "stateful_stacked": {"params": stateful.count_params(), "batch_size": batch_size, "chunk": args.chunk,
                             "batches_per_epoch": len(layout), "test_loss_one_step": stateful_test_loss,
                             "recursive_forecast_rmse": stateful_rmse, "train_seconds": stateful_seconds,
                             "train_loss": [float(v) for v in stateful_loss],
                             "max_abs_diff_manual_vs_forecast_stateful": agree},
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"recursive forecast RMSE over {look_ahead} steps (scaled units): stacked {stacked_rmse:.4f}, "
          f"stateful stacked {stateful_rmse:.4f}, persistence {persistence_rmse:.4f}")
    print(f"wrote {', '.join(str(out / n) for n in ('stacked_training.png', 'stacked_forecast.png'))}, "
          f"{out / 'stateful_training.png'}, {out / 'comparison.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
