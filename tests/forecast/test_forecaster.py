"""Forecaster: framing, scaling on the training part, save/load, forecasts, evaluation, errors."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster, build_model, parse_model_spec


def panel(n_series=3, length=60, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_series):
        t = np.arange(length)
        level = 10 + 3 * k + np.sin(t / 3 + k) + 0.05 * t + rng.normal(scale=0.05, size=length)
        temp = np.cos(t / 5 + k)
        rows.append(pd.DataFrame({"store": f"s{k}", "day": pd.date_range("2024-01-01", periods=length, freq="D"),
                                  "sales": level, "temp": temp}))
    return pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=1)  # shuffled rows: sorted by time


def test_model_specs_build_the_named_stack():
    assert parse_model_spec("bilstm:64,32@0.1") == {"kind": "lstm", "bidirectional": True, "units": [64, 32],
                                                    "dropout": 0.1}
    model = build_model("gru:8,4", lookback=5, n_features=2, n_targets=1, horizon=3)
    assert [type(layer).__name__ for layer in model.layers] == ["GRU", "GRU", "Dense", "Reshape"]
    assert model.predict(np.zeros((2, 5, 2), np.float32), verbose=0).shape == (2, 3, 1)
    with pytest.raises(ValueError, match=r"a spec like 'lstm:32'.*received 'transformer'"):
        parse_model_spec("transformer")


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


def test_scaler_sees_only_the_training_part():
    data = panel(n_series=1, length=50).sort_values("day")
    data.loc[data.index[-5:], "sales"] += 1000.0  # a jump inside the held-out part only
    f = Forecaster("sales", time_col="day", lookback=5)
    f.fit(data, epochs=1, verbose=0, validation=0.2)
    assert f.scaler.scaler_.data_max_[0] < 100  # fitted before the jump


def test_exogenous_future_rows_feed_the_recursive_forecast():
    data = panel(n_series=2, length=40)
    f = Forecaster("sales", features=["temp"], id_col="store", time_col="day", lookback=6)
    f.fit(data, epochs=2, verbose=0)
    future = data.groupby("store").tail(4).copy()
    future["day"] += pd.Timedelta(days=40)
    future["sales"] = np.nan
    table = f.forecast(pd.concat([data, future]))
    assert len(table) == 2 * 4 and table.sales.notna().all()
    changed = pd.concat([data, future.assign(temp=future.temp + 5)])
    assert not np.allclose(f.forecast(changed).sales, table.sales)  # the known future does matter
    with pytest.raises(ValueError, match="future rows with the other features' known values"):
        f.forecast(data)
    with pytest.raises(ValueError, match=r"at most the 4 future rows given"):
        f.forecast(pd.concat([data, future]), steps=6)


def test_difference_and_log_invert_back_to_levels():
    """A model that repeats its last input step: in each model space that is a known forecast in levels."""
    from lstmkit.layers import Input, Lambda
    from lstmkit.models import Sequential

    t = np.arange(40)
    y = 100 * 1.02 ** t * (1 + 0.1 * np.sin(t / 2))
    data = pd.DataFrame({"t": t, "y": y})
    expected = {  # the prediction for row r from rows < r
        (False, False): y[5:-1],                         # persistence
        (True, False): y[6:-1] + np.diff(y)[5:-1],       # the last change again
        (False, True): y[5:-1],                          # log then exp: persistence
        (True, True): y[6:-1] * (y[6:-1] / y[5:-2]),     # the last growth rate again
    }
    for (difference, log), want in expected.items():
        f = Forecaster("y", time_col="t", lookback=6, difference=difference, log=log,
                       transform="none" if not (difference or log) else None)
        f.fit(data, epochs=1, verbose=0)
        f.model = Sequential([Input((6, 1)), Lambda(lambda x: x[:, -1, :1])])
        np.testing.assert_allclose(f.one_step(data).y_predicted.to_numpy(), want, rtol=1e-5)
        ahead = f.forecast(data, steps=3).y.to_numpy()
        if not difference:
            np.testing.assert_allclose(ahead, y[-1], rtol=1e-5)
        elif not log:
            np.testing.assert_allclose(ahead, y[-1] + (y[-1] - y[-2]) * np.arange(1, 4), rtol=1e-5)
        else:
            np.testing.assert_allclose(ahead, y[-1] * (y[-1] / y[-2]) ** np.arange(1, 4), rtol=1e-5)
    bad = data.assign(y=data.y - 200)
    with pytest.raises(ValueError, match=r"positive targets.*rows 0, 1, 2, 3, 4 and"):
        Forecaster("y", time_col="t", lookback=6, log=True).fit(bad, epochs=1, verbose=0)


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


def test_persistence_scores_are_exact():
    data = pd.DataFrame({"t": np.arange(30), "y": np.arange(30, dtype=float) * 2 + 1})
    f = Forecaster("y", time_col="t", lookback=3)
    f.fit(data, epochs=1, verbose=0)
    scores = f.evaluate(data, steps=2, n_origins=3)
    # persistence misses by 2 then 4 on a line of slope 2: MAE 3, RMSE sqrt(10)
    assert scores.loc["persistence", "MAE"] == pytest.approx(3.0)
    assert scores.loc["persistence", "RMSE"] == pytest.approx(np.sqrt(10.0))


def test_clear_errors_for_bad_tables():
    data = panel(n_series=2, length=30)
    with pytest.raises(ValueError, match=r"the column\(s\) \['price'\].*received columns \['store', 'day', 'sales'"):
        Forecaster("price", id_col="store").fit(data, epochs=1, verbose=0)
    with pytest.raises(TypeError, match=r"numeric target and feature columns.*'store' \("):
        Forecaster("store").fit(data, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"series of at least 42 rows \(lookback 40 \+ horizon 1 \+ 1 held out\).*'s0': 30"):
        Forecaster("sales", id_col="store", time_col="day", lookback=40).fit(data, epochs=1, verbose=0)
    holes = data.copy()
    holes.loc[holes.index[3], "sales"] = np.nan
    with pytest.raises(ValueError, match=rf"NaN or inf in rows {holes.index[3]} of series"):
        Forecaster("sales", id_col="store", time_col="day", lookback=5).fit(holes, epochs=1, verbose=0)
    twice = pd.concat([data, data.iloc[:1]])
    with pytest.raises(ValueError, match="one row per store and day"):
        Forecaster("sales", id_col="store", time_col="day", lookback=5).fit(twice, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="never fitted"):
        Forecaster("sales").forecast(data)


# -- method="stateful": a model reading whole series, forecasting with carried state --------------------------
def _stateless_copy(f):
    """The stateful forecaster's model as a plain Input((None, F)) model with the same weights."""
    from lstmkit.layers import LSTM, Dense, Input
    from lstmkit.models import Sequential

    lstm, dense = f.model.layers[0], f.model.layers[1]
    copy = Sequential([Input((None, len(f.config.features))), LSTM(lstm.units, return_sequences=True),
                       Dense(dense.units)])
    copy.set_weights(f.model.get_weights())
    return copy


def test_stateful_method_forecast_equals_rerunning_the_whole_history(tmp_path):
    from lstmkit.forecast import recursive

    data = panel(n_series=2, length=50)
    f = Forecaster("sales", features=["temp"], id_col="store", time_col="day", lookback=10, model="lstm:6",
                   method="stateful", scale_per_id=False)  # one scaler: the re-run below scales once
    metrics = f.fit(data, epochs=2, verbose=0)
    assert metrics["method"] == "stateful" and metrics["validation_steps"] == 2 * 10  # round(49 * 0.2) each
    assert metrics["train_steps"] == 2 * (49 - 10) and set(metrics["validation"]) == {"model", "persistence", "seasonal_naive"}
    lstm = f.model.layers[0]
    assert lstm.stateful and lstm.return_sequences and f.model.layers[-1].units == 1

    future = data.groupby("store").tail(3).copy()
    future["day"] += pd.Timedelta(days=50)
    future["sales"] = np.nan
    table = f.forecast(pd.concat([data, future]))
    assert list(table.columns) == ["store", "step", "day", "sales"] and len(table) == 6

    copy = _stateless_copy(f)
    for store in ("s0", "s1"):
        part = data[data.store == store].sort_values("day")
        history = f.scaler.transform(part[["sales", "temp"]].to_numpy())
        ahead = f.scaler.transform(np.c_[np.zeros(3), future[future.store == store].sort_values("day")["temp"]])
        scaled = recursive(copy, history, steps=3, targets=[0], exogenous=ahead[:, 1:])  # re-runs the history
        expected = f.scaler.inverse_transform(scaled.reshape(3, 1), columns=[0]).ravel()
        np.testing.assert_allclose(table[table.store == store].sales.to_numpy(), expected, rtol=1e-4, atol=1e-4)

    loaded = Forecaster.load(f.save(tmp_path / "stateful"))
    assert loaded.config.method == "stateful"
    pd.testing.assert_frame_equal(loaded.forecast(pd.concat([data, future])), table)


def test_stateful_one_pass_predictions_equal_a_warm_up_per_origin():
    data = panel(n_series=1, length=40).sort_values("day")
    f = Forecaster("sales", time_col="day", lookback=8, model="gru:5", method="stateful", difference=True)
    f.fit(data, epochs=1, verbose=0)
    one_pass = f.one_step(data)  # one pass over the series serves every row
    for cut in (20, 31):
        alone = f.forecast(data.iloc[:cut], steps=1)  # a fresh warm-up on the first `cut` rows
        row = one_pass[one_pass.row == cut]
        assert float(row.sales_predicted.iloc[0]) == pytest.approx(float(alone.sales.iloc[0]), rel=1e-5)


def test_stateful_method_errors():
    with pytest.raises(ValueError, match=r"forward recurrent layers for method='stateful'.*bidirectional"):
        Forecaster("y", model="bilstm:8", method="stateful")
    with pytest.raises(ValueError, match=r"`horizon`.*1 with method='stateful'.*received 3"):
        Forecaster("y", horizon=3, method="stateful")
    with pytest.raises(ValueError, match=r"method.*'recursive'.*'stateful'.*'carried'"):
        Forecaster("y", method="carried")


# -- review fixes: missing keys, held-out bookkeeping, atomic saves, horizon models with features -------------
def test_missing_times_and_series_ids_are_named_not_reordered():
    data = panel(n_series=2, length=30)
    blank = data.assign(day=data.day.astype(str))
    blank.loc[blank.index[7], "day"] = None  # read_csv gives NaN for an empty cell
    with pytest.raises(ValueError, match=rf"a time in every row of 'day'.*empty values in rows {blank.index[7]}\b"):
        Forecaster("sales", id_col="store", time_col="day", lookback=5).fit(blank, epochs=1, verbose=0)
    text = data.assign(day=data.day.astype(str))
    text.loc[text.index[4], "day"] = "NaT"  # parses to a missing time
    with pytest.raises(ValueError, match=rf"missing times in rows {text.index[4]}\b"):
        Forecaster("sales", id_col="store", time_col="day", lookback=5).fit(text, epochs=1, verbose=0)
    no_id = data.copy()
    no_id.loc[no_id.index[[2, 9]], "store"] = np.nan
    with pytest.raises(ValueError, match=r"a series id in every row of 'store'.*empty values in rows"):
        Forecaster("sales", id_col="store", time_col="day", lookback=5).fit(no_id, epochs=1, verbose=0)


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


def test_save_is_atomic_and_load_rejects_damaged_files(tmp_path, monkeypatch):
    import pathlib

    data = panel(n_series=1, length=40)
    f = Forecaster("sales", time_col="day", lookback=5)
    f.fit(data, epochs=1, verbose=0)
    folder = f.save(tmp_path / "m")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    f.fit(data, epochs=2, verbose=0, seed=1)  # new weights and history

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", full_disk)
    with pytest.raises(OSError, match="No space left"):
        f.save(folder)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # both old files, no temporary left
    (folder / "forecaster.json").write_text('{"format": ')  # cut short
    with pytest.raises(ValueError, match="forecaster.json.*forecaster.json expects JSON; received text that is not JSON"):
        Forecaster.load(folder)
    (folder / "forecaster.json").write_text(before["forecaster.json"].decode().replace('"target"', '"targt"', 1))
    with pytest.raises(ValueError, match="a damaged config"):
        Forecaster.load(folder)
    file = tmp_path / "afile"
    file.write_text("x")
    with pytest.raises(FileExistsError, match="'.*afile', an existing file"):
        f.save(file)


def test_horizon_models_read_past_rows_only_and_integer_times_stay_integers():
    data = panel(n_series=1, length=50).sort_values("day").assign(t=np.arange(50))
    f = Forecaster("sales", features=["temp"], time_col="t", lookback=6, horizon=3, model="lstm:4")
    f.fit(data, epochs=1, verbose=0)
    plain = f.forecast(data)  # no future rows needed
    future = pd.DataFrame({"t": [50, 51, 52], "sales": np.nan, "temp": [1000.0, -5.0, 3.0]})
    with_future = f.forecast(pd.concat([data, future]))
    pd.testing.assert_frame_equal(plain, with_future)  # and ignored when given
    assert plain.t.tolist() == [50, 51, 52] and plain.t.dtype.kind == "i"
