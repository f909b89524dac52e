"""Probabilistic heads (``Forecaster(loss="quantile" | "normal" | "student_t")``): intervals the network
predicts itself. A sine plus Gaussian noise of known sigma checks that they mean what they say."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from lstmkit._validation import InputError
from lstmkit.forecast import probabilistic
from lstmkit.forecast.forecaster import Forecaster

SIGMA = 0.3


def noisy_sine(n=900, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 12) + rng.normal(0.0, SIGMA, n)})


def trained(loss, horizon=3, epochs=100, rows=500, **kwargs):
    f = Forecaster("y", lookback=12, horizon=horizon, model="lstm:8", transform=kwargs.pop("transform", "none"),
                   season=12, loss=loss, **kwargs)
    # large batches, a faster rate: a third of the updates of the defaults, the same coverage (0.80-0.86
    # over torch seeds 0-3)
    f.fit(noisy_sine().iloc[:rows], epochs=epochs, verbose=0, seed=0, batch_size=128, learning_rate=5e-3)
    return f


@pytest.fixture(scope="module")
def heads():
    return {loss: trained(loss) for loss in probabilistic.PROBABILISTIC}


# -- the head's parts -------------------------------------------------------------------------------------------
def test_quantiles_never_cross_whatever_the_raw_outputs():
    raw = torch.randn(64, 3, 2, 7) * 5  # 3 levels: median, 3 lower and 3 upper widths
    q = probabilistic.quantiles(raw)
    assert q.shape == (64, 3, 2, 7)
    assert bool((q[..., 1:] >= q[..., :-1]).all())
    assert torch.equal(q[..., 3], raw[..., 0])  # the middle one is the median


def test_probabilities_are_the_levels_and_the_median_ascending():
    np.testing.assert_allclose(probabilistic.probabilities([95, 80]), [0.025, 0.1, 0.5, 0.9, 0.975])


def test_pinball_loss_is_the_quantile_loss():
    loss = probabilistic.make_loss("quantile", [50], horizon=1, n_targets=1)
    raw = torch.tensor([[1.0, -30.0, -30.0]])  # median 1, widths ~0: every quantile 1
    per_sample = loss(torch.tensor([[3.0]]), raw)
    # y - q = 2 at probabilities 0.25, 0.5, 0.75: mean of 0.5, 1.0, 1.5
    assert per_sample.shape == (1,) and abs(float(per_sample) - 1.0) < 1e-6


def test_normal_negative_log_likelihood():
    loss = probabilistic.make_loss("normal", [], horizon=1, n_targets=1)
    raw = torch.tensor([[0.0, 20.0]])  # scale ~ 20 + floor
    expected = -torch.distributions.Normal(0.0, 20.0 + probabilistic.SCALE_FLOOR).log_prob(torch.tensor(1.0))
    assert abs(float(loss(torch.tensor([[1.0]]), raw)) - float(expected)) < 1e-4


def test_student_t_degrees_of_freedom_stay_above_two():
    dist = probabilistic.distribution("student_t", torch.tensor([[0.0, 0.0, -50.0], [0.0, 0.0, 0.0]]))
    assert bool((dist.df > 2).all()) and abs(float(dist.df[1]) - 5.0) < 1e-5


# -- forecasts -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("loss", probabilistic.PROBABILISTIC)
def test_columns_and_ordered_bands(heads, loss):
    f = heads[loss]
    table = f.predict(noisy_sine().iloc[:500], level=[95, 80])
    assert list(table.columns) == ["step", "y", "y-lo-80", "y-hi-80", "y-lo-95", "y-hi-95"] and len(table) == 3
    assert (table["y-lo-95"] <= table["y-lo-80"]).all() and (table["y-lo-80"] <= table["y"]).all()
    assert (table["y"] <= table["y-hi-80"]).all() and (table["y-hi-80"] <= table["y-hi-95"]).all()
    assert (table["y-hi-80"] - table["y-lo-80"] > 0.1).all()  # an interval, not a point


@pytest.mark.parametrize("loss", probabilistic.PROBABILISTIC)
def test_80_percent_intervals_cover_about_80_percent_of_unseen_data(heads, loss):
    f = heads[loss]
    scores = f.evaluate(noisy_sine(), n_origins=120, level=[80])  # 360 points after the 500 trained on
    assert 0.70 <= scores.loc["model", "coverage-80"] <= 0.90
    assert scores.loc["model", "MAE"] < scores.loc["seasonal_naive", "MAE"]


@pytest.mark.parametrize("loss", ["normal", "student_t"])
def test_learned_scale_is_near_the_noise(heads, loss):
    f = heads[loss]
    frame = f.cross_validation(noisy_sine(), h=3, n_windows=120, level=[80])
    implied = (frame["LSTM-hi-80"] - frame["LSTM-lo-80"]) / (2 * norm.ppf(0.9))
    # the Normal's own scale; the Student-t's 80% band is a little narrower than its scale would say
    assert 0.8 * SIGMA < implied.mean() < 1.3 * SIGMA


def test_metrics_record_the_loss_and_the_interval_method(heads):
    assert heads["quantile"].metrics["loss"] == "quantile"
    assert heads["quantile"].metrics["intervals"]["method"] == "quantile regression"
    assert heads["quantile"].metrics["intervals"]["levels"] == [80, 95]
    assert heads["normal"].metrics["intervals"]["method"] == "normal likelihood"
    assert heads["student_t"].metrics["intervals"]["method"] == "student-t likelihood"
    assert {"coverage-80", "coverage-95"} <= set(heads["normal"].metrics["validation"]["model"])
    assert heads["normal"].calibration is None  # nothing conformal
    assert heads["normal"].metrics["choices"]["combination"]["model_weight"] == 1.0


@pytest.mark.parametrize("loss", ["quantile", "student_t"])
def test_save_and_load_give_identical_intervals(heads, loss, tmp_path):
    f = heads[loss]
    f.save(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "forecaster.json").read_text())["config"]["loss"] == loss
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "loaded uncompiled" warning for the head's loss
        loaded = Forecaster.load(tmp_path / "model")
    frame = noisy_sine().iloc[:500]
    pd.testing.assert_frame_equal(loaded.predict(frame, level=[80, 95]), f.predict(frame, level=[80, 95]))
    assert loaded.config.loss == loss and loaded.config.quantile_levels == f.config.quantile_levels


def test_files_without_a_loss_load_as_mse(tmp_path):
    f = Forecaster("y", lookback=12, model="lstm:4", transform="none", season=12)
    f.fit(noisy_sine(n=120), epochs=2, verbose=0)
    f.save(tmp_path / "old")
    path = tmp_path / "old" / "forecaster.json"
    state = json.loads(path.read_text())
    del state["config"]["loss"], state["config"]["quantile_levels"]
    path.write_text(json.dumps(state))
    loaded = Forecaster.load(tmp_path / "old")
    assert loaded.config.loss == "mse" and loaded.config.quantile_levels == []
    assert {"y-lo-80", "y-hi-80"} <= set(loaded.predict(noisy_sine(n=120), level=[80]).columns)  # conformal


def test_log_transform_bands_come_back_in_units():
    rng = np.random.default_rng(1)
    t = np.arange(300)
    frame = pd.DataFrame({"y": np.exp(2 + 0.3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.05, 300))})
    f = Forecaster("y", lookback=12, horizon=2, model="lstm:8", transform="log", season=12, loss="normal")
    f.fit(frame, epochs=30, verbose=0)
    table = f.predict(frame, level=[80])
    assert (table["y-lo-80"] > 0).all() and (table["y-lo-80"] < table["y"]).all()
    assert (table["y"] < table["y-hi-80"]).all() and table["y"].between(4, 12).all()


def test_horizon_one_forecasts_one_step_intervals_and_feeds_points_back():
    f = trained("quantile", horizon=1, epochs=5, rows=200)
    frame = noisy_sine().iloc[:200]
    one = f.predict(frame, steps=1, level=[80])
    assert one["y-lo-80"].iloc[0] <= one["y"].iloc[0] <= one["y-hi-80"].iloc[0]
    points = f.predict(frame, steps=6)  # point forecasts recurse on the median
    banded = f.predict(frame, steps=6, level=[80])  # further steps: bands from sampled paths
    np.testing.assert_allclose(banded["y"], points["y"])  # the same point forecast
    assert (banded["y-hi-80"] - banded["y-lo-80"] > 0.1).all()  # a real spread at every step
    np.testing.assert_allclose(banded[["y-lo-80", "y-hi-80"]].iloc[0], one[["y-lo-80", "y-hi-80"]].iloc[0])
    np.testing.assert_array_equal(banded["y-hi-80"], f.predict(frame, steps=6, level=[80])["y-hi-80"])  # seeded
    assert "coverage-80" in f.evaluate(frame, steps=4).columns
    assert "sampled paths" in f.metrics["intervals"]["further_steps"]


def test_sampled_paths_cover_six_steps_ahead():
    """A horizon-1 quantile head, 6 steps ahead from 60 origins it never trained on: the sampled-path
    bands hold about their share (0.87 / 0.96 here; Student-t 0.84 / 0.98; a Normal head over-covers: 0.91 / 0.98)."""
    f = trained("quantile", horizon=1)
    table = f.evaluate(noisy_sine().iloc[:860], steps=6, level=[80, 95], n_origins=60)
    assert 0.7 <= table.loc["model", "coverage-80"] <= 0.93
    assert 0.88 <= table.loc["model", "coverage-95"] <= 1.0


def test_auto_transform_differences_only_a_horizon_1_probabilistic_head():
    t = np.arange(300)
    frame = pd.DataFrame({"y": 0.5 * t + np.sin(t / 2)})  # a trend: the mse default would difference it
    f = Forecaster("y", lookback=8, horizon=2, model="lstm:4", loss="normal")
    made = f.fit(frame, epochs=1, verbose=0)["choices"]["transform"]
    assert made["value"] in ("none", "log") and "no differencing with loss='normal' and horizon=2" in made["chosen_by"]
    f = Forecaster("y", lookback=8, horizon=1, model="lstm:4", loss="normal")
    made = f.fit(frame, epochs=1, verbose=0)["choices"]["transform"]
    assert "difference" in made["value"] and "no differencing" not in made["chosen_by"]


def random_walk_with_drift(n=700, seed=0, sigma=0.5):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": 50 + np.cumsum(0.3 + rng.normal(0.0, sigma, n))})


def test_a_differenced_horizon_1_head_covers_a_trending_series():
    """A random walk with drift: its h-step spread grows as sqrt(h), which only a differenced model
    follows. A horizon-1 Normal head on the changes, 6 steps ahead from 50 origins it never trained on:
    the sampled paths, each summed on its own, cover about their share (0.72 / 0.88 here; quantile head
    0.76 / 0.91, Student-t 0.78 / 0.95; any of them on the levels: 0.00 / 0.02, the walk leaves the range
    it trained on), and the 80 % band 6 steps ahead is 2.4x as wide as at step 1 (sqrt(6) = 2.45)."""
    data = random_walk_with_drift()
    f = Forecaster("y", lookback=8, horizon=1, model="lstm:8", transform="difference", season=1, loss="normal")
    f.fit(data.iloc[:450], epochs=60, verbose=0, seed=0, batch_size=128, learning_rate=5e-3)
    table = f.evaluate(data, steps=6, level=[80, 95], n_origins=50)
    assert 0.68 <= table.loc["model", "coverage-80"] <= 0.92
    assert 0.85 <= table.loc["model", "coverage-95"] <= 1.0
    bands = f.predict(data.iloc[:600], steps=6, level=[80])
    width = (bands["y-hi-80"] - bands["y-lo-80"]).to_numpy()
    assert width[5] > 1.8 * width[0]  # sqrt(6) ~ 2.4 for an exact random walk: the spread compounds


# -- errors -------------------------------------------------------------------------------------------------------
def test_a_level_the_quantile_head_was_not_trained_for(heads):
    with pytest.raises(InputError, match=r"trained for \(80, 95\).*level=\[90\].*--quantile-levels 80 90 95"):
        heads["quantile"].predict(noisy_sine().iloc[:500], level=[90])


def test_quantile_levels_chosen_at_train_time():
    f = Forecaster("y", horizon=2, loss="quantile", quantile_levels=[50, 90])
    assert f.config.quantile_levels == [50, 90]
    with pytest.raises(InputError, match=r"quantile_levels.*only with loss='quantile'"):
        Forecaster("y", horizon=2, loss="normal", quantile_levels=[80])
    with pytest.raises(InputError, match=r"level"):
        Forecaster("y", horizon=2, loss="quantile", quantile_levels=[120])


@pytest.mark.parametrize("arguments, pattern", [
    ({"loss": "pinball"}, r"loss"),
    ({"loss": "normal", "method": "stateful"}, r"'mse' with method='stateful'.*method='recursive'"),
    ({"loss": "quantile", "horizon": 3, "transform": "difference"}, r"'none' or 'log'.*Use horizon=1"),
    ({"loss": "student_t", "horizon": 2, "difference": True}, r"'none' or 'log' with loss='student_t' and "
                                                               r"horizon=2"),
])
def test_refused_combinations_say_the_way_out(arguments, pattern):
    with pytest.raises(InputError, match=pattern):
        Forecaster("y", **arguments)


@pytest.mark.parametrize("loss", ["normal", "quantile"])
def test_streamed_training_gives_a_probabilistic_head_its_own_intervals(tmp_path, loss):
    """Streamed training calibrates no conformal intervals (no whole held-out series in memory); a
    probabilistic head brings its own, and their coverage on the held-out windows is recorded."""
    data = noisy_sine(n=700)
    data.to_csv(tmp_path / "a.csv", index=False)
    f = Forecaster("y", lookback=12, horizon=2, model="lstm:8", season=12, loss=loss)
    metrics = f.fit_files(str(tmp_path / "a.csv"), epochs=60, batch_size=128, learning_rate=5e-3, verbose=0)
    assert metrics["streamed"] and metrics["intervals"]["method"] == probabilistic.METHODS[loss]
    held_out = metrics["validation_scaled"]["model"]
    assert 0.65 <= held_out["coverage-80"] <= 0.95 and held_out["coverage-80"] < held_out["coverage-95"] <= 1.0
    assert held_out["MAE"] < metrics["validation_scaled"]["persistence"]["MAE"]
    out = f.predict(data.iloc[:400], steps=2, level=[80, 95])
    assert ((out["y-lo-95"] <= out["y-lo-80"]) & (out["y-lo-80"] < out["y"]) & (out["y"] < out["y-hi-80"])
            & (out["y-hi-80"] <= out["y-hi-95"])).all()
    truth = data["y"].iloc[400:402].to_numpy()  # the bands are about the noise's width (sigma 0.3)
    assert (out["y-hi-80"] - out["y-lo-80"]).between(2 * 1.28 * SIGMA * 0.6, 2 * 1.28 * SIGMA * 1.6).all()
    assert np.abs(out["y"].to_numpy() - truth).max() < 4 * SIGMA


def test_several_series_and_targets_and_an_ensemble():
    from tests.forecast.tables import panel

    frame = panel(n_series=2, length=60)
    f = Forecaster(["sales", "temp"], id_col="store", time_col="day", lookback=8, horizon=2, model="lstm:4",
                   transform="none", season=7, ensemble=2, loss="student_t")
    f.fit(frame, epochs=2, verbose=0)
    table = f.predict(frame, level=[80])
    assert list(table.columns) == ["store", "step", "day", "sales", "temp", "sales-lo-80", "sales-hi-80",
                                   "temp-lo-80", "temp-hi-80"] and len(table) == 4
    for name in ("sales", "temp"):
        assert (table[f"{name}-lo-80"] < table[name]).all() and (table[name] < table[f"{name}-hi-80"]).all()
    assert table.groupby("store")["sales"].mean().diff().abs().iloc[1] > 1  # each series in its own units


def test_without_a_held_out_part_the_head_still_gives_intervals():
    f = Forecaster("y", lookback=12, horizon=2, model="lstm:4", transform="none", season=12, loss="normal")
    metrics = f.fit(noisy_sine(n=120), epochs=2, verbose=0, validation=0.0)
    assert metrics["loss"] == "normal" and metrics["intervals"]["method"] == "normal likelihood"
    assert {"y-lo-80", "y-hi-80"} <= set(f.predict(noisy_sine(n=120), level=[80]).columns)


def test_streamed_probabilistic_head_under_a_mixed_policy_records_its_scores(tmp_path):
    from lstmkit import mixed_precision

    noisy_sine(n=200).to_csv(tmp_path / "a.csv", index=False)
    mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        f = Forecaster("y", lookback=12, horizon=2, model="lstm:4", season=12, loss="quantile")
        metrics = f.fit_files(str(tmp_path / "a.csv"), epochs=1, verbose=0)
    finally:
        mixed_precision.set_global_policy("float32")
    assert {"coverage-80", "coverage-95"} <= set(metrics["validation_scaled"]["model"])
