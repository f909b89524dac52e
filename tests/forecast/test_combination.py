"""The combination with seasonal naive and the calibration tail (issue 17)."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster
from lstmkit.forecast import combination
from lstmkit.forecast.combination import CANDIDATES, MIN_ORIGINS, choose, seasonal_naive, weights_for
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
    assert made["value"] == made["choice"] and made["model_weight"] == CANDIDATES[made["choice"]][0]
    assert "seasonal-naive" in made["chosen_by"] and set(made["validation_mase"]) == set(CANDIDATES)
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
    fixed = Forecaster("y", time_col="t", lookback=12, season=12, transform="none", combine="seasonal-naive")
    fixed.fit(frame, epochs=1, verbose=0)
    fixed.model = Sequential([Input((12, 1)), Lambda(lambda x: x[:, -1, :1])])
    assert fixed.metrics["choices"]["combination"]["choice"] == "seasonal-naive"  # the user's choice stays
    np.testing.assert_allclose(fixed.forecast(frame, steps=3)["y"], frame.y.iloc[-12:-9], rtol=1e-5)


def _random_walk_origins(rng, n, steps=12):
    """Origins of a random walk with small steps: naive (the last value) is right, seasonal naive (a
    season back) and a flat network forecast at 0 are far off."""
    last = rng.normal(size=n) * 5 + 20
    truths = [(last[i] + 0.01 * rng.normal(size=steps).cumsum())[:, None] for i in range(n)]
    seasonal = np.stack([(last[i] + np.linspace(-3, 0, steps))[:, None] for i in range(n)])
    naive = np.stack([np.full((steps, 1), last[i]) for i in range(n)])
    return np.zeros((n, steps, 1)), seasonal, naive, truths, [np.ones(1)] * n


def test_naive_is_chosen_where_the_last_value_is_the_best_forecast():
    model, seasonal, naive, truths, scales = _random_walk_origins(np.random.default_rng(4), 8)
    made = choose(model, seasonal, truths, scales, last=naive)
    assert made["choice"] == "naive" and made["weights"] == {"network": 0.0, "seasonal_naive": 0.0, "naive": 1.0}
    assert made["validation_mase"]["naive"] < 0.1 < made["validation_mase"]["seasonal-naive"]
    assert made["model_weight"] == 0.0 and "series" not in made
    # without the naive forecasts (season 1: naive is seasonal naive) it is not a candidate
    assert "naive" not in choose(model, seasonal, truths, scales)["validation_mase"]


def test_ties_go_to_the_simpler_candidate():
    model, seasonal, naive, truths, scales = _random_walk_origins(np.random.default_rng(5), 4)
    made = choose(naive.copy(), seasonal, truths, scales, last=naive)  # the network equals naive exactly
    assert made["choice"] == "naive"


def test_a_panel_chooses_per_series_and_forecasts_with_each_series_weights():
    rng = np.random.default_rng(6)
    walk = _random_walk_origins(rng, 6)  # series "b": naive wins
    pure = _origins(rng, 6, 12)  # series "a": seasonal naive is exact, the flat network poor
    model = np.concatenate([pure[0], walk[0]])
    seasonal = np.concatenate([pure[1], walk[1]])
    naive = np.concatenate([pure[1][:, -1:].repeat(12, axis=1), walk[2]])
    made = choose(model, seasonal, pure[2] + walk[3], pure[3] + walk[4], last=naive, keys=["a"] * 6 + [7] * 6)
    assert made["series"]["a"]["choice"] == "seasonal-naive" and made["series"]["7"]["choice"] == "naive"
    assert made["series"]["a"]["origins"] == 6 and made["value"] in ("per series: seasonal-naive 1, naive 1",
                                                                     "per series: naive 1, seasonal-naive 1")
    assert weights_for(made, 7) == CANDIDATES["naive"] and weights_for(made, "a") == CANDIDATES["seasonal-naive"]
    assert weights_for(made, "unseen") == CANDIDATES[made["choice"]]  # the panel's pooled choice
    # a series with fewer than MIN_ORIGINS origins takes the panel's choice
    keys = ["a"] * 6 + [7] * 6
    keys[-1] = "few"
    few = choose(model, seasonal, pure[2] + walk[3], pure[3] + walk[4], last=naive, keys=keys)
    assert few["series"]["few"]["origins"] == 1 < MIN_ORIGINS and few["series"]["few"]["choice"] == few["choice"]


def test_a_fixed_combination_is_used_for_every_series_and_scores_still_recorded():
    model, seasonal, naive, truths, scales = _random_walk_origins(np.random.default_rng(7), 6)
    made = choose(model, seasonal, truths, scales, last=naive, keys=[0, 0, 0, 1, 1, 1], fixed="network+seasonal-naive")
    assert made["choice"] == "network+seasonal-naive" and made["chosen_by"].startswith("you")
    assert {r["choice"] for r in made["series"].values()} == {"network+seasonal-naive"}
    assert made["validation_mase"]["naive"] < made["validation_mase"]["network+seasonal-naive"]


def test_a_record_from_before_the_menu_still_combines_by_its_model_weight():
    assert weights_for({"model_weight": 0.3}, None) == (0.3, 0.7, 0.0)
    assert weights_for({}, "x") == (1.0, 0.0, 0.0)


def test_forecaster_applies_each_series_choice_and_the_override(tmp_path):
    t = np.arange(84)
    months = pd.date_range("2010-01-01", periods=84, freq="MS")
    seasonal = pd.DataFrame({"id": "seasonal", "month": months, "y": 10 + 3 * np.sin(2 * np.pi * t / 12)})
    trend = pd.DataFrame({"id": "trend", "month": months, "y": 5 + 0.5 * t})  # naive beats a season back
    frame = pd.concat([seasonal, trend], ignore_index=True)
    f = Forecaster("y", id_col="id", time_col="month", model="lstm:2", lookback=12, transform="none")
    made = f.fit(frame, epochs=1, verbose=0)["choices"]["combination"]
    assert made["series"]["seasonal"]["choice"] == "seasonal-naive" and made["series"]["trend"]["choice"] == "naive"
    assert made["value"].startswith("per series:")
    out = f.forecast(frame, steps=12)
    np.testing.assert_allclose(out[out.id == "seasonal"].y, seasonal.y.iloc[-12:], rtol=1e-9)
    np.testing.assert_allclose(out[out.id == "trend"].y, [trend.y.iloc[-1]] * 12, rtol=1e-9)
    assert any("2 of 2 series" in w for w in f.metrics["warnings"])
    f.save(tmp_path / "f")
    np.testing.assert_allclose(Forecaster.load(tmp_path / "f").forecast(frame, steps=12).y, out.y, rtol=1e-9)

    fixed = Forecaster("y", id_col="id", time_col="month", model="lstm:2", lookback=12, transform="none",
                       combine="naive")
    made = fixed.fit(frame, epochs=1, verbose=0)["choices"]["combination"]
    assert made["chosen_by"].startswith("you") and {r["choice"] for r in made["series"].values()} == {"naive"}
    out = fixed.forecast(frame, steps=3)
    np.testing.assert_allclose(out[out.id == "seasonal"].y, [seasonal.y.iloc[-1]] * 3, rtol=1e-9)
    unvalidated = Forecaster("y", id_col="id", time_col="month", model="lstm:2", lookback=12, transform="none",
                             combine="seasonal-naive")
    made = unvalidated.fit(frame, epochs=1, verbose=0, validation=0)["choices"]["combination"]
    assert made["choice"] == "seasonal-naive" and made["chosen_by"] == "you"
    np.testing.assert_allclose(unvalidated.forecast(frame, steps=2).y.iloc[:2], seasonal.y.iloc[-12:-10], rtol=1e-9)


@pytest.mark.parametrize("arguments, pattern", [
    ({"combine": "drift"}, "combine"),
    ({"combine": "naive", "loss": "quantile"}, "probabilistic head"),
])
def test_bad_combinations_are_refused_with_the_way_out(arguments, pattern):
    with pytest.raises(ValueError, match=pattern):
        Forecaster("y", **arguments)


def test_the_simplest_within_one_standard_error_of_the_best_is_chosen():
    rng = np.random.default_rng(8)
    n, steps = 12, 4
    truths, scales = [np.zeros((steps, 1))] * n, [np.ones(1)] * n
    seasonal = np.full((n, steps, 1), 5.0)  # far off: never chosen
    naive_error = 1 + rng.uniform(size=n)
    naive = np.broadcast_to(naive_error[:, None, None], (n, steps, 1)).copy()
    noisy = naive_error - 0.02 + 0.3 * np.resize([1.0, -1.0], n)  # better by 0.02 on average: within the noise
    made = choose(np.broadcast_to(np.abs(noisy)[:, None, None], (n, steps, 1)).copy(), seasonal, truths, scales,
                  last=naive)
    assert made["validation_mase"]["network"] < made["validation_mase"]["naive"] and made["choice"] == "naive"
    clearly = naive_error - 0.5 + 0.05 * rng.normal(size=n)  # better at every origin, by far more than the noise
    made = choose(np.broadcast_to(clearly[:, None, None], (n, steps, 1)).copy(), seasonal, truths, scales, last=naive)
    assert made["choice"] == "network"


def test_a_baseline_stays_finite_where_the_network_forecast_is_not():
    """0 * inf is NaN: a candidate without the network must not read the network's values."""
    rng = np.random.RandomState(0)
    truth = rng.randn(6, 3, 1)
    network = truth.copy()
    network[0, 0, 0] = np.inf
    made = combination.choose(network, truth + 0.01, list(truth), [np.ones(1)] * 6, truth + 1.0)
    assert made["choice"] == "seasonal-naive"
    assert np.isfinite(made["validation_mase"]["seasonal-naive"]) and made["validation_mase"]["network"] == np.inf
    blended = combination.blend((0.0, 1.0, 0.0), network[0], truth[0], truth[0])
    assert np.isfinite(blended).all()


def test_no_validation_warning_for_a_combination_the_user_fixed():
    rng = np.random.RandomState(0)
    truth = rng.randn(6, 3, 1)
    network, seasonal, last = truth + 0.01 * rng.randn(6, 3, 1), truth + 1 + rng.randn(6, 3, 1), truth + 1.0
    for keys in (None, ["a"] * 3 + ["b"] * 3):
        made = combination.choose(network, seasonal, list(truth), [np.ones(1)] * 6, last, keys,
                                  fixed="seasonal-naive")
        assert made["chosen_by"].startswith("you") and combination.warning(made) is None
    chosen = combination.choose(seasonal, network, list(truth), [np.ones(1)] * 6, last)  # the network loses
    assert "worse than seasonal_naive" in combination.warning(chosen)
