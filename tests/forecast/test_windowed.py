"""The recursive (window) method (``forecast.windowed``): the scaler fitted on the training part, known future features fed back."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .tables import panel


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
    f.model = f.model  # the network alone, not combined with seasonal naive: it is what is checked here
    future = data.groupby("store").tail(4).copy()
    future["day"] += pd.Timedelta(days=40)
    future["sales"] = np.nan
    table = f.forecast(pd.concat([data, future]))
    assert len(table) == 2 * 4 and table.sales.notna().all()
    changed = pd.concat([data, future.assign(temp=future.temp + 5)])
    assert not np.allclose(f.forecast(changed).sales, table.sales)  # the known future does matter
    with pytest.raises(ValueError, match="`temp` is a future-known feature: give its values for the 1 forecast rows"):
        f.forecast(data)
    with pytest.raises(ValueError, match=r"at most the 4 future rows given"):
        f.forecast(pd.concat([data, future]), steps=6)
