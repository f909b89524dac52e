"""What ``Forecaster.fit`` chooses (``forecast.choices.resolve``): season, per-series scaling, transform
and look-back left as None, each with its reason; what the user gave is kept."""

import numpy as np
import pandas as pd

from lstmkit.forecast import choices
from lstmkit.forecast.framing import Series
from lstmkit.forecast.specs import ForecasterConfig


def monthly(n_series, length):
    t = np.arange(length)
    times = pd.Series(pd.date_range("2000-01-01", periods=length, freq="MS"))
    return [Series(k, (100 + 10 * np.sin(2 * np.pi * t / 12) + t + k)[:, None], times) for k in range(n_series)]


def test_resolve_keeps_what_was_given():
    cfg = ForecasterConfig(target=["y"], features=["y"], lookback=5, season=3, scale_per_id=False, difference=True)
    asked = {"transform": "difference", "lookback": 5, "season": 3, "scale_per_id": False}
    made = choices.resolve(cfg, asked, monthly(2, 60), 0.2)
    assert {name: record["chosen_by"] for name, record in made.items()} == {
        "season": "you", "scale_per_id": "you", "transform": "you", "lookback": "you"}
    assert (cfg.season, cfg.lookback, cfg.difference, made["transform"]["value"]) == (3, 5, True, "difference")


def test_resolve_chooses_from_the_data():
    cfg = ForecasterConfig(target=["y"], features=["y"], id_col="id")
    asked = {"transform": None, "lookback": None, "season": None, "scale_per_id": None}
    made = choices.resolve(cfg, asked, monthly(2, 60), 0.2)
    assert made["season"] == {"value": 12, "chosen_by": "the time column's frequency"}
    assert made["scale_per_id"]["value"] is True and cfg.scale_per_id is True  # an id column with 2 series
    assert made["transform"]["value"] in choices.TRANSFORMS and set(made["transform"]["scores"])
    assert cfg.lookback == made["lookback"]["value"] == choices.default_lookback(12, 60, choices.offset(cfg))
    stateful = ForecasterConfig(target=["y"], features=["y"], method="stateful")
    made = choices.resolve(stateful, dict(asked), monthly(1, 60), 0.2)
    assert made["transform"] == {"value": "none", "chosen_by": "the stateful method's default"}
    assert stateful.lookback == 15  # a quarter of the shortest series, 8 to 200
