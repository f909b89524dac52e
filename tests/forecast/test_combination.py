"""The combination with seasonal naive and the calibration tail (issue 17)."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast.combination import choose, seasonal_naive
from lstmkit.forecast.intervals import _conformal_quantile
from lstmkit.forecast.windowed import early_stopping_count


def test_seasonal_naive_repeats_the_last_season():
    values = np.arange(30, dtype=float)[:, None]
    out = seasonal_naive(values, anchor=23, steps=14, season=12)
    np.testing.assert_array_equal(out[:, 0], list(range(12, 24)) + [12, 13])
    np.testing.assert_array_equal(seasonal_naive(values, 5, 3, 1)[:, 0], [5, 5, 5])


def _origins(rng, n, steps, season=12, noise=0.0):
    """A pure seasonal pattern's truths, its seasonal-naive forecasts, and a poor model's forecasts."""
    pattern = np.sin(2 * np.pi * np.arange(season) / season)
    truths = [np.tile(pattern, 2)[:steps, None] + noise * rng.normal(size=(steps, 1)) for _ in range(n)]
    naive = np.stack([np.tile(pattern, 2)[:steps, None] for _ in range(n)])
    model = np.zeros((n, steps, 1))  # a flat forecast, as an under-trained network gives
    return model, naive, truths, [np.ones(1)] * n


def test_pure_seasonal_series_leans_fully_to_seasonal_naive():
    model, naive, truths, scales = _origins(np.random.default_rng(0), 10, 12)
    made = choose(model, naive, truths, scales)
    assert made["model_weight"] == 0.0
    assert made["validation_mase_combined"] == pytest.approx(0.0)
    assert made["validation_mase_model"] > 0.5


def test_a_better_model_keeps_its_weight_and_a_mix_is_found_between():
    rng = np.random.default_rng(1)
    model, naive, truths, scales = _origins(rng, 10, 12, noise=0.0)
    made = choose(np.stack(truths), naive + 1.0, truths, scales)  # the model is exact, naive is off by 1
    assert made["model_weight"] == 1.0
    # model off by +1, naive off by -1: the half-half mix is exact
    made = choose(np.stack(truths) + 1.0, np.stack(truths) - 1.0, truths, scales)
    assert made["model_weight"] == 0.5 and made["validation_mase_combined"] == pytest.approx(0.0)


def test_early_stopping_sees_the_first_half_of_the_held_out_windows():
    assert [early_stopping_count(v) for v in (1, 2, 3, 10, 11)] == [1, 1, 2, 5, 6]


def test_conformal_from_unseen_errors_covers_nominal_on_fresh_draws():
    """White noise around a level: the conformal quantile of 40 errors covers ~80 % of fresh points,
    averaged over many windows (the finite-sample guarantee is >= 80 % in expectation)."""
    rng = np.random.default_rng(2)
    hits = []
    for _ in range(2000):
        width = _conformal_quantile(np.abs(rng.normal(size=40)), 80)
        hits.append(abs(rng.normal()) <= width)
    assert 0.78 <= np.mean(hits) <= 0.86


def test_the_choices_appear_in_metrics(tmp_path):
    rng = np.random.default_rng(3)
    t = np.arange(96)
    y = 10 + 3 * np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=96)
    frame = pd.DataFrame({"month": pd.date_range("2010-01-01", periods=96, freq="MS"), "y": y})
    f = Forecaster("y", time_col="month", model="lstm:4", lookback=12, transform="none")
    metrics = f.fit(frame, epochs=2, verbose=0)
    made = metrics["choices"]["combination"]
    assert 0.0 <= made["model_weight"] <= 1.0 and "validation_mase_seasonal_naive" in made
    assert made["value"] == f"model weight {made['model_weight']:.1f}" and "seasonal naive" in made["chosen_by"]
    assert metrics["calibration_windows"] + metrics["early_stopping_windows"] == metrics["validation_windows"]
    assert metrics["intervals"]["calibration_origins"] == metrics["calibration_windows"]
    assert "did not see" in metrics["intervals"]["method"]
    f.save(tmp_path / "f")
    loaded = Forecaster.load(tmp_path / "f")
    np.testing.assert_allclose(loaded.forecast(frame, steps=6)["y"], f.forecast(frame, steps=6)["y"], rtol=1e-6)


def test_replacing_the_model_forecasts_with_it_alone():
    from lstmkit.layers import Input, Lambda
    from lstmkit.models import Sequential

    t = np.arange(60)
    frame = pd.DataFrame({"t": t, "y": 5 + np.sin(2 * np.pi * t / 12)})
    f = Forecaster("y", time_col="t", lookback=12, season=12, transform="none")
    f.fit(frame, epochs=1, verbose=0)
    f.model = Sequential([Input((12, 1)), Lambda(lambda x: x[:, -1, :1])])  # persistence in scaled units
    assert f.metrics["choices"]["combination"]["model_weight"] == 1.0
    np.testing.assert_allclose(f.forecast(frame, steps=3)["y"], [frame.y.iloc[-1]] * 3, rtol=1e-5)
