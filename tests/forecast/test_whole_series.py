"""The stateful method (``forecast.whole_series``): a model reading whole series, forecasting with carried state."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .tables import panel


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
    f.model = f.model  # the network alone, not combined with seasonal naive: it is what is checked here
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
