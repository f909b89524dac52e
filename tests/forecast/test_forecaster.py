"""Forecaster, composed: fit, save/load, forecasts, held-out bookkeeping, direct horizons; the public
import paths. Its parts have their own files (test_framing, test_transforms, test_windowed,
test_whole_series, test_scoring, test_storage, test_builders)."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster, build_model, parse_model_spec

from .tables import panel


def test_fit_save_load_forecast_round_trip(tmp_path):
    data = panel()
    f = Forecaster("sales", id_col="store", time_col="day", lookback=8)
    metrics = f.fit(data, epochs=3, verbose=0)
    assert set(metrics["validation"]) == {"model", "persistence", "seasonal_naive"}  # daily: season 7
    assert metrics["choices"]["season"]["value"] == 7 and metrics["choices"]["scale_per_id"]["value"] is True
    assert metrics["train_windows"] + metrics["validation_windows"] == 3 * (60 - f._offset() - 8)
    first = f.forecast(data, steps=5)
    assert list(first.columns) == ["store", "step", "day", "sales"] and len(first) == 15
    assert first[first.store == "s0"].day.iloc[0] == pd.Timestamp("2024-03-01")  # the day after the last one
    loaded = Forecaster.load(f.save(tmp_path / "m"))
    pd.testing.assert_frame_equal(loaded.forecast(data, steps=5), first)


def test_direct_horizon_and_evaluation_against_baselines():
    data = panel(n_series=2, length=70)
    f = Forecaster("sales", id_col="store", time_col="day", lookback=10, horizon=4, model="lstm:8")
    f.fit(data, epochs=2, verbose=0)
    assert len(f.forecast(data)) == 2 * 4
    scores = f.evaluate(data, season=7, n_origins=3)
    assert list(scores.index) == ["model", "persistence", "seasonal_naive"]
    assert list(scores.columns) == ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "coverage-80", "coverage-95"]
    assert np.isfinite(scores.iloc[:, :5].to_numpy()).all()
    assert 0 <= scores.loc["model", "coverage-80"] <= scores.loc["model", "coverage-95"] <= 1
    with pytest.raises(ValueError, match=r"at most the model's horizon \(4\)"):
        f.forecast(data, steps=5)


@pytest.mark.parametrize("method", ["recursive", "stateful"])
def test_held_out_from_marks_exactly_the_validation_rows(method):
    data = panel(n_series=2, length=40)
    f = Forecaster("sales", id_col="store", time_col="day", lookback=6, method=method)
    metrics = f.fit(data, epochs=1, verbose=0, validation=0.25)
    held = metrics["validation_windows" if method == "recursive" else "validation_steps"]
    fitted = f.one_step(data)
    counted = sum(int((part.row >= f.held_out_from(40)).sum()) for _, part in fitted.groupby("store"))
    assert counted == held and held > 2
    f.fit(data, epochs=1, verbose=0, validation=0.0)
    assert f.held_out_from(40) is None


def test_horizon_models_read_past_rows_only_and_integer_times_stay_integers():
    data = panel(n_series=1, length=50).sort_values("day").assign(t=np.arange(50))
    f = Forecaster("sales", features=["temp"], time_col="t", lookback=6, horizon=3, model="lstm:4")
    f.fit(data, epochs=1, verbose=0)
    plain = f.forecast(data)  # no future rows needed
    future = pd.DataFrame({"t": [50, 51, 52], "sales": np.nan, "temp": [1000.0, -5.0, 3.0]})
    with_future = f.forecast(pd.concat([data, future]))
    pd.testing.assert_frame_equal(plain, with_future)  # and ignored when given
    assert plain.t.tolist() == [50, 51, 52] and plain.t.dtype.kind == "i"


def test_public_import_paths_still_name_the_pieces():
    import lstmkit.forecast as forecast
    from lstmkit.forecast import builders, forecaster, framing, specs, storage

    assert (forecaster.build_model, forecaster.parse_model_spec) == (builders.build_model, specs.parse_model_spec)
    assert build_model is builders.build_model and parse_model_spec is specs.parse_model_spec
    assert forecaster.ForecasterConfig is specs.ForecasterConfig and forecaster.as_time is framing.as_time
    assert forecaster.check_output_folder is storage.check_output_folder and forecaster.FORMAT == storage.FORMAT
    assert forecast.direct_model is builders.direct_model and forecast.backtest.__module__ == "lstmkit.forecast.backtest"
