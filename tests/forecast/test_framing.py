"""Tables to series (``forecast.framing``): columns, types, times, ids, future rows, lengths; each error names the rows."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .tables import panel


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


def _config(**kwargs):
    from lstmkit.forecast.specs import ForecasterConfig

    defaults = {"target": ["y"], "features": ["y", "x"], "time_col": "t", "lookback": 3}
    return ForecasterConfig(**{**defaults, **kwargs})


def test_split_series_sorts_by_time_and_keeps_the_future_rows():
    from lstmkit.forecast import framing

    cfg = _config(id_col="id")
    frame = pd.DataFrame({"id": ["a"] * 6 + ["b"] * 5, "t": [5, 4, 3, 2, 1, 0, 0, 1, 2, 3, 4],
                          "y": [np.nan, np.nan, 3.0, 2.0, 1.0, 0.0, 10, 11, 12, 13, np.nan],
                          "x": np.arange(11.0)})
    a, b = framing.split_series(cfg, "test", frame, allow_future=True)
    assert (a.id, b.id) == ("a", "b")
    np.testing.assert_array_equal(a.values, [[0, 5], [1, 4], [2, 3], [3, 2]])  # time order, targets first
    np.testing.assert_array_equal(a.future, [[1], [0]])
    np.testing.assert_array_equal(b.future, [[10]])
    assert a.times.tolist() == [0, 1, 2, 3]
    assert framing.forecast_steps(cfg, "test", [a, b], None) == 1  # the fewest future rows given
    with pytest.raises(ValueError, match=r"test: `steps` expects at most the 1 future rows given; received 2"):
        framing.forecast_steps(cfg, "test", [a, b], 2)
    with pytest.raises(ValueError, match=r"empty targets only in the last rows of a series"):
        framing.split_series(cfg, "test", frame.assign(y=frame.y.where(frame.index != 8)), allow_future=True)


def test_counts_offsets_and_lengths_by_hand():
    from lstmkit.forecast import framing

    cfg = _config(lookback=4, horizon=2)
    s = framing.Series(None, np.zeros((20, 2)), None)
    assert framing.offset(cfg) == 0 and framing.window_count(cfg, s) == 20 - 4 - 2 + 1
    assert framing.held_out_count(cfg, 20, 0.2) == round(15 * 0.2) and framing.held_out_count(cfg, 20, 0.0) == 0
    seasonal = _config(lookback=4, seasonal_difference=True, season=7)
    assert framing.offset(seasonal) == 7 and framing.offset(_config(difference=True)) == 1
    framing.check_lengths(cfg, "test", [s], extra=1)
    with pytest.raises(ValueError, match=r"series of at least 15 rows \(lookback 4 \+ horizon 1 \+ 7 for "
                                         r"differencing \+ 3 held out\).*shorter series \(14 rows\)"):
        framing.check_lengths(seasonal, "test", [framing.Series(None, np.zeros((14, 2)), None)], extra=3)


def test_future_times_continue_the_frequency_and_keep_integers():
    from lstmkit.forecast.framing import future_times

    months = pd.Series(pd.date_range("2020-01-01", periods=4, freq="MS"))
    assert future_times(months, 2) == [pd.Timestamp("2020-05-01"), pd.Timestamp("2020-06-01")]
    steps = future_times(pd.Series([0, 2, 4, 6]), 3)
    assert steps == [8, 10, 12] and all(isinstance(v, (int, np.integer)) for v in steps)
    assert future_times(None, 2) == [None, None]
