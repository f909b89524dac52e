"""Past and static covariates (NeuralForecast's hist/stat exog, Darts' past/static covariates): they
help when they carry information, survive save/load, and every misuse gets an error naming the kind."""

import json

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .covariate_tables import covariate_panel

FIT = dict(epochs=80, patience=20, verbose=0, seed=0)
STATICS = ["region", "size"]


def make(**kwargs):
    return Forecaster("y", id_col="id", time_col="t", lookback=4, model="lstm:16", transform="none", **kwargs)


@pytest.fixture(scope="module")
def frame():
    return covariate_panel()


@pytest.fixture(scope="module")
def trained(frame):
    f = make(past_features=["lead"], static_features=STATICS)
    f.fit(frame[frame.t < 70], **FIT)
    return f


def test_covariates_beat_the_model_without_them_on_held_out_mae(frame, trained):
    plain = make()
    plain.fit(frame[frame.t < 70], **FIT)
    # rows 70..89 were never trained on: one-step forecasts from the last 15 origins of each series
    with_them = trained.evaluate(frame, steps=1, n_origins=15).loc["model", "MAE"]
    without = plain.evaluate(frame, steps=1, n_origins=15).loc["model", "MAE"]
    noise_free = 3.0 * np.mean(np.abs(np.random.default_rng(1).normal(size=10000)))  # MAE of ignoring `lead`
    assert without > 0.5 * noise_free  # without the covariate the target's next move is unforeseeable
    assert with_them < 0.3 * without


def test_metrics_list_each_kind(trained):
    assert trained.metrics["covariates"] == {"future": [], "past": ["lead"], "static": ["region", "size"]}
    assert [e["kind"] for e in trained.config.static_encoding] == ["categorical", "numeric"]
    assert trained.config.static_encoding[0]["categories"] == ["north", "south"]


def test_save_load_gives_identical_forecasts_and_json_holds_the_encoding(frame, trained, tmp_path):
    history = frame[frame.t < 80]
    before = trained.predict(history, level=[80])
    trained.save(tmp_path / "m")
    state = json.loads((tmp_path / "m" / "forecaster.json").read_text())
    assert state["config"]["past_features"] == ["lead"]
    assert state["config"]["static_encoding"][0]["categories"] == ["north", "south"]
    loaded = Forecaster.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(history, level=[80]), before)
    cv = loaded.cross_validation(history, h=1, n_windows=3)
    assert len(cv) == 3 * 4 and np.isfinite(cv["LSTM"]).all()


def test_past_feature_values_in_future_rows_are_ignored(frame, trained):
    history = frame[frame.t < 80]
    future = history.groupby("id").tail(1).assign(t=80, y=np.nan, lead=123.0)  # a made-up future value
    pd.testing.assert_frame_equal(trained.predict(pd.concat([history, future])), trained.predict(history))


def test_recursive_past_features_refuse_more_than_one_step(frame, trained):
    with pytest.raises(ValueError, match=r"horizon-1 model with past features \['lead'\].*--horizon 3"):
        trained.predict(frame, steps=3)
    with pytest.raises(ValueError, match=r"--horizon 2"):
        trained.evaluate(frame, steps=2)


def test_direct_model_forecasts_several_steps_with_past_features(frame):
    f = make(past_features=["lead"], static_features=["size"], horizon=2)
    f.fit(frame[frame.t < 70], **FIT)
    out = f.predict(frame[frame.t < 80])
    assert list(out["step"]) == [1, 2] * 4 and np.isfinite(out["y"]).all()
    # step 1 of the forecast from row 79 depends on lead[78], already observed: close to the truth
    truth = frame[frame.t == 80].set_index("id")["y"]
    first = out[out.step == 1].set_index("id")["y"]
    assert np.abs(first - truth).mean() < 1.0


def test_statics_alone_forecast_recursively_many_steps(frame):
    f = make(static_features=["region"])
    f.fit(frame[frame.t < 70], epochs=5, verbose=0)
    assert len(f.predict(frame, steps=3)) == 12


def test_static_varying_within_a_series_names_it(frame):
    bad = frame.copy()
    bad.loc[(bad.id == "s2") & (bad.t == 5), "size"] = 99.0
    with pytest.raises(ValueError, match=r"static column 'size'.*series 's2'"):
        make(static_features=["size"]).fit(bad, **FIT)


def test_unseen_category_at_forecast_time(frame, trained):
    other = frame.copy()
    other.loc[other.id == "s1", "region"] = "east"
    with pytest.raises(ValueError, match=r"training categories \['north', 'south'\]; received 'east' for series 's1'"):
        trained.predict(other)


def test_column_named_in_two_kinds():
    with pytest.raises(ValueError, match=r"column 'lead'.*both a future-known feature and a past feature"):
        make(features=["lead"], past_features=["lead"])
    with pytest.raises(ValueError, match=r"column 'size'.*both a past feature and a static feature"):
        make(past_features=["size"], static_features=["size"])


def test_statics_need_an_id_column(frame):
    f = Forecaster("y", time_col="t", static_features=["size"], lookback=4, transform="none")
    with pytest.raises(ValueError, match="an id column"):
        f.fit(frame[frame.id == "s0"], **FIT)


def test_stateful_refuses_past_and_static():
    with pytest.raises(ValueError, match="'recursive' with past or static features"):
        Forecaster("y", past_features=["lead"], method="stateful")


@pytest.fixture(scope="module")
def with_future(frame):
    f = make(features=["lead"])
    f.fit(frame[frame.t < 70], epochs=5, verbose=0)
    return f


def test_future_known_feature_without_future_rows(frame, with_future):
    with pytest.raises(ValueError, match=r"`lead` is a future-known feature: give its values for the 1 forecast "
                                         r"rows, or train with --past-features lead"):
        with_future.predict(frame[frame.t < 80])


def test_future_known_feature_with_empty_future_values(frame, with_future):
    history = frame[frame.t < 80]
    future = pd.concat([history.groupby("id").tail(1).assign(t=80 + k, y=np.nan, lead=np.nan) for k in range(3)])
    with pytest.raises(ValueError, match=r"`lead` is a future-known feature: give its values for the 3 forecast "
                                         r"rows, or train with --past-features lead"):
        with_future.predict(pd.concat([history, future]))
    filled = pd.concat([history, future.assign(lead=0.5)])
    assert len(with_future.predict(filled)) == 12
