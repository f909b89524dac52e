"""Seed 004's classic tutorial on the real airline passengers series: a stateful LSTM(4), look_back=3,
batch size 1, one epoch at a time with ``reset_states()`` in between.

The series is the monthly international airline passengers (thousands), 1949-1960, 144 values (Box &
Jenkins, Series G), bundled with lstmkit. The tutorial's code with ``keras`` -> ``lstmkit``; lines changed
for another reason are marked ``# FIXED:`` (the tutorial fits its MinMaxScaler on the whole series, test
part included; here it sees the training part only). Writes ``airline.png`` and ``metrics.json``
(train / test RMSE in passengers, with the persistence forecast for scale) to ``--out``.

    python examples/airline_stateful.py                # 100 epochs as the tutorial, ~1 min on two CPU cores
    python examples/airline_stateful.py --quick --out /tmp/airline
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from sklearn.metrics import mean_squared_error  # noqa: E402

from lstmkit.data import SeriesScaler, chronological_split, load_airline_passengers, lookback  # noqa: E402
from lstmkit.layers import LSTM, Dense  # noqa: E402
from lstmkit.models import Sequential  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="two epochs, for a smoke test")
    parser.add_argument("--scale-on-all", action="store_true",
                        help="fit the scaler on the whole series as the tutorial does (leaks the test range)")
    parser.add_argument("--out", default="airline_output")
    args = parser.parse_args(argv)
    epochs = 2 if args.quick else args.epochs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    numpy.random.seed(7)
    torch.manual_seed(7)

    # load the dataset
    dataset = load_airline_passengers()[["Passengers"]].to_numpy().astype("float32")
    # split into train and test sets (67% / 33%, in time order)
    train, test = chronological_split(dataset, test_size=0.33)
    # normalize the dataset
    scaler = SeriesScaler("minmax")
    scaler.fit(dataset if args.scale_on_all else train)  # FIXED: the training part only, unless asked
    train, test = scaler.transform(train), scaler.transform(test)

    # reshape into X=t and Y=t+1
    look_back = 3
    trainX, trainY = lookback(train, look_back)  # FIXED: create_dataset's `- 1` dropped the last pair
    testX, testY = lookback(test, look_back)
    # reshape input to be [samples, time steps, features]: lookback already returns (samples, look_back, 1)

    # create and fit the LSTM network
    batch_size = 1
    model = Sequential()
    model.add(LSTM(4, batch_input_shape=(batch_size, look_back, 1), stateful=True))
    model.add(Dense(1))
    model.compile(loss='mean_squared_error', optimizer='adam')
    for i in range(epochs):
        model.fit(trainX, trainY, epochs=1, batch_size=batch_size, verbose=0, shuffle=False)
        model.reset_states()

    # make predictions
    trainPredict = model.predict(trainX, batch_size=batch_size, verbose=0)
    model.reset_states()
    testPredict = model.predict(testX, batch_size=batch_size, verbose=0)
    # invert predictions
    trainPredict = scaler.inverse_transform(trainPredict)
    trainY = scaler.inverse_transform(trainY)
    testPredict = scaler.inverse_transform(testPredict)
    testY = scaler.inverse_transform(testY)
    # calculate root mean squared error
    trainScore = math.sqrt(mean_squared_error(trainY[:, 0], trainPredict[:, 0]))
    print('Train Score: %.2f RMSE' % (trainScore))
    testScore = math.sqrt(mean_squared_error(testY[:, 0], testPredict[:, 0]))
    print('Test Score: %.2f RMSE' % (testScore))
    # the persistence forecast (next month = this month) on the same test targets, for scale
    persistence = math.sqrt(mean_squared_error(testY[:, 0], scaler.inverse_transform(testX[:, -1])[:, 0]))
    print('Persistence on the test part: %.2f RMSE' % persistence)

    # plot baseline and predictions, each prediction at the month it predicts
    n_train = len(train)
    months = numpy.arange(len(dataset))
    plt.figure(figsize=(10, 4))
    plt.plot(months, dataset[:, 0], label="passengers (thousands)")
    plt.plot(months[look_back:n_train], trainPredict[:, 0], label=f"train prediction (RMSE {trainScore:.1f})")
    plt.plot(months[n_train + look_back:], testPredict[:, 0], label=f"test prediction (RMSE {testScore:.1f})")
    plt.axvline(n_train - 0.5, color="grey", lw=0.8, ls=":")
    plt.xlabel("month since January 1949")
    plt.legend()
    plt.tight_layout()
    plt.savefig(out / "airline.png", dpi=80)
    plt.close()

    metrics = {"train_rmse": trainScore, "test_rmse": testScore, "persistence_test_rmse": persistence,
               "epochs": epochs, "look_back": look_back, "scaler_fitted_on": "all" if args.scale_on_all else "train", "train_samples": len(trainX), "test_samples": len(testX)}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {out / 'airline.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
