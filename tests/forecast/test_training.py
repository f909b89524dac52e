"""What both Forecaster methods share when training (``forecast.training``)."""

import warnings

import numpy as np
import pytest
import torch

from lstmkit.forecast.training import TrainOptions, history_record, train, warn_if_few
from lstmkit.layers import Dense, Input
from lstmkit.models import Sequential


def test_warn_if_few_names_the_counts():
    with pytest.warns(UserWarning, match=r"training on 5 windows and validating on 2: too few for a reliable "
                                         r"model, and its validation scores \(metrics.json\) rest on 2 forecasts.*"
                                         r"shorter lookback \(now 8\)"):
        warn_if_few("windows", 5, 2, 0.2, 8)
    with pytest.warns(UserWarning, match=r"training on 19 steps and validating on 0: too few for a reliable model\."):
        warn_if_few("steps", 19, 0, 0.0, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_few("windows", 20, 5, 0.2, 8)
        warn_if_few("windows", 20, 0, 0.0, 8)  # no validation asked: no score to doubt


@pytest.mark.parametrize("validation", [False, True])
def test_train_stops_early_only_on_held_out_data(validation):
    torch.manual_seed(0)
    model = Sequential([Input((3,)), Dense(1)])
    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.zeros((16, 1))
    options = TrainOptions(epochs=50, batch_size=8, validation=0.2, patience=1, learning_rate=0.0, verbose=0,
                           device="cpu", seed=0)
    history = train(model, options, x, y, (x, y) if validation else None)
    record = history_record(history)
    assert ("val_loss" in record) is validation
    # a learning rate of 0 never improves val_loss: patience 1 stops after 2 epochs; without validation all 50
    assert len(history.epoch) == (2 if validation else 50)
    assert all(isinstance(v, float) for v in record["loss"])
