"""Honest evaluation, defaults that choose, conformal intervals, cross-validation frames (issue 17)."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast import choices, intervals
from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast.metrics import mase, naive_scale
from lstmkit.forecast.seasonality import season_from_data, season_from_times, seasonal_naive


def monthly(length=72, growth=1.01, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    y = 100 * growth ** t * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * (1 + rng.normal(scale=0.01, size=length))
    return pd.DataFrame({"month": pd.date_range("2015-01-01", periods=length, freq="MS"), "y": y})


def test_mase_and_its_scale_by_hand():
    history = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert naive_scale(history, 1)[0] == pytest.approx((2 + 1 + 3 + 1) / 4)
    assert naive_scale(history, 2)[0] == pytest.approx((1 + 2 + 2) / 3)
    assert naive_scale(np.ones(5), 1)[0] == 1.0  # a constant history keeps errors finite
    assert mase([10.0, 14.0], [11.0, 11.0], scale=2.0) == pytest.approx((0.5 + 1.5) / 2)
    assert list(seasonal_naive(np.arange(10.0), 5, season=4)) == [6.0, 7.0, 8.0, 9.0, 6.0]


def test_season_from_frequency_and_from_data():
    def dates(freq):
        return pd.Series(pd.date_range("2020-01-01", periods=30, freq=freq))
    assert [season_from_times(dates(f)) for f in ("MS", "QS", "D", "h", "W-SUN")] == [12, 4, 7, 24, 52]
    assert season_from_times(pd.Series(np.arange(30))) is None
    t = np.arange(120)
    assert season_from_data([np.sin(2 * np.pi * t / 10) + 0.01 * t]) == 10
    assert season_from_data([np.random.default_rng(0).normal(size=120).cumsum()]) == 1


def test_transform_choice_finds_growth_and_seasonality():
    y = monthly(96, growth=1.02).y.to_numpy()
    name, scores = choices.choose_transform([y], season=12, lookback=24)
    assert name.startswith("log") and scores[name] == min(scores.values())
    assert set(scores) == set(choices.TRANSFORMS)
    line = np.arange(1.0, 80.0) * 3 - 50  # negative values: no log candidates
    name, scores = choices.choose_transform([line], season=1, lookback=8)
    assert name == "difference" and not any(k.startswith("log") or "seasonal" in k for k in scores)


def test_conformal_quantile_and_widening():
    state = intervals.calibration_state([np.arange(1.0, 10.0), np.arange(2.0, 11.0)])
    widths = intervals.half_widths(state, 4, [80])
    # n = 9: the ceil(10 * 0.8) = 8th smallest error at each step; beyond step 2 the last grows like sqrt(k/2)
    np.testing.assert_allclose(widths[0], [8.0, 9.0, 9.0 * np.sqrt(3 / 2), 9.0 * np.sqrt(2)])
    with pytest.raises(ValueError, match=r"numbers in \(0, 100\)"):
        intervals.parse_levels("t", [80, 100])


def test_seasonal_difference_inverts_exactly():
    """A model that predicts a zero change: seasonal differencing then forecasts the last season again."""
    from lstmkit.layers import Input, Lambda
    from lstmkit.models import Sequential

    data = monthly(60)
    f = Forecaster("y", time_col="month", transform="log-seasonal-difference", lookback=6)
    metrics = f.fit(data, epochs=1, verbose=0)
    assert metrics["choices"]["transform"] == {"value": "log-seasonal-difference", "chosen_by": "you"}
    f.model = Sequential([Input((6, 1)), Lambda(lambda x: x[:, -1, :1] * 0 + f.scaler.transform(
        np.zeros((1, 1)))[0, 0])])
    ahead = f.forecast(data, steps=15).y.to_numpy()
    y = data.y.to_numpy()
    np.testing.assert_allclose(ahead, np.r_[y[-12:], y[-12:-9]], rtol=1e-5)


def test_defaults_choose_and_intervals_cover(tmp_path):
    data = monthly(84)
    f = Forecaster("y", time_col="month", model="lstm:8")
    metrics = f.fit(data.iloc[:-12], epochs=30, verbose=0)
    made = metrics["choices"]
    # two seasons, at most a third of the 72 rows the transform leaves usable
    assert made["season"]["value"] == 12 and made["lookback"]["value"] == min(24, (72 - f._offset()) // 3)
    assert made["transform"]["value"].startswith("log")
    assert {"model", "persistence", "seasonal_naive"} == set(metrics["validation_multi_step"]) - {"steps"}
    table = f.predict(data.iloc[:-12], steps=12, level=[80, 95])
    assert list(table.columns) == ["step", "month", "y", "y-lo-80", "y-hi-80", "y-lo-95", "y-hi-95"]
    width80 = (table["y-hi-80"] - table["y-lo-80"]).to_numpy()
    assert (width80 > 0).all() and (np.diff(width80) >= -1e-9).all()  # no step surer than an earlier one
    loaded = Forecaster.load(f.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.predict(data.iloc[:-12], steps=12, level=[80, 95]), table)
    plain = Forecaster("y", time_col="month", lookback=6, transform="none")
    plain.fit(data, epochs=1, verbose=0, validation=0)
    with pytest.raises(ValueError, match="calibrated intervals"):
        plain.forecast(data, steps=2, level=80)


def test_cross_validation_frame_like_neuralforecast():
    data = pd.concat([monthly(50, seed=k).assign(shop=f"s{k}") for k in range(2)])
    f = Forecaster("y", id_col="shop", time_col="month", model="gru:4", lookback=6)
    f.fit(data, epochs=1, verbose=0)
    cv = f.cross_validation(data, h=3, n_windows=2, step_size=2, level=[80])
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "GRU", "GRU-lo-80", "GRU-hi-80", "y"]
    assert len(cv) == 2 * 2 * 3
    last = data[data.shop == "s0"].month.iloc[-1]
    cutoffs = sorted(cv[cv.unique_id == "s0"].cutoff.unique())
    assert cutoffs == [last - pd.DateOffset(months=5), last - pd.DateOffset(months=3)]
    first = cv[(cv.unique_id == "s0") & (cv.cutoff == cutoffs[1])]
    assert list(first.ds) == [cutoffs[1] + pd.DateOffset(months=k) for k in (1, 2, 3)]
    np.testing.assert_allclose(first.y, data[data.shop == "s0"].y.iloc[-3:])


def test_losing_to_a_baseline_is_said_in_words():
    data = monthly(60)
    f = Forecaster("y", time_col="month", model="lstm:2", lookback=12, transform="none")
    metrics = f.fit(data, epochs=1, verbose=0)  # one epoch on raw levels: far worse than repeating a season
    assert any("worse than seasonal_naive" in w for w in metrics["warnings"])
    made = metrics["choices"]["combination"]  # and the forecasts lean toward seasonal naive
    assert made["validation_mase_model"] > made["validation_mase_seasonal_naive"]
    assert made["model_weight"] <= 0.5
    assert any("x seasonal naive" in w for w in metrics["warnings"])
