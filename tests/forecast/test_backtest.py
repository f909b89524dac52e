"""Rolling-origin backtests: origins, forecasts and truths, error tables, errors; the origins
``Forecaster.evaluate`` shares (``rolling_origins(..., allow_fewer=True)``)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from lstmkit.forecast.backtest import BacktestResult, backtest, rolling_origins


def persistence(horizon):
    return lambda history: np.repeat(history[-1:], horizon, 0)


def test_backtest_persistence_on_arange_is_exact():
    series = np.arange(20.0)
    result = backtest(persistence(3), series, horizon=3, n_origins=3)
    assert isinstance(result, BacktestResult)
    np.testing.assert_array_equal(result.origins, [11, 14, 17])
    np.testing.assert_array_equal(result.truths, [[11, 12, 13], [14, 15, 16], [17, 18, 19]])
    np.testing.assert_array_equal(result.forecasts, [[10, 10, 10], [13, 13, 13], [16, 16, 16]])
    assert result.targets == [0] and result.horizon == 3
    metrics = result.metrics
    assert list(metrics.columns) == ["MAE", "RMSE", "MAPE", "sMAPE"]
    assert list(metrics.index) == [11, 14, 17, "overall"]
    np.testing.assert_allclose(metrics["MAE"], 2.0)  # errors are 1, 2, 3 from every origin
    np.testing.assert_allclose(metrics["RMSE"], math.sqrt(14 / 3))
    for origin in (11, 14, 17):
        truth = np.arange(origin, origin + 3)
        assert metrics.loc[origin, "MAPE"] == pytest.approx(100 * np.mean(np.array([1, 2, 3]) / truth))
        assert metrics.loc[origin, "sMAPE"] == pytest.approx(np.mean(200 * np.array([1, 2, 3])
                                                                     / (truth + origin - 1)))
    assert metrics.loc["overall", "MAPE"] == pytest.approx(metrics.loc[[11, 14, 17], "MAPE"].mean())
    by_horizon = result.by_horizon
    assert list(by_horizon.index) == [1, 2, 3]
    np.testing.assert_allclose(by_horizon["MAE"], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(by_horizon["RMSE"], [1.0, 2.0, 3.0])


def test_backtest_step_min_history_refit_and_targets():
    series = np.stack([np.arange(30.0), 100 + np.arange(30.0), -np.arange(30.0)], axis=1)
    seen = []
    result = backtest(lambda h: np.repeat(h[-1:, :2], 4, 0), series, horizon=4, n_origins=3, step=2,
                      min_history=10, refit=lambda h: seen.append(h.shape))
    np.testing.assert_array_equal(result.origins, [22, 24, 26])
    assert seen == [(22, 3), (24, 3), (26, 3)]
    assert result.targets == [0, 1] and result.forecasts.shape == (3, 4, 2)
    np.testing.assert_array_equal(result.truths[0], series[22:26, :2])
    last_column = backtest(lambda h: np.repeat(h[-1:, 2], 4, 0), series, horizon=4, n_origins=2, targets=[2])
    np.testing.assert_array_equal(last_column.truths, [series[22:26, 2:], series[26:30, 2:]])
    np.testing.assert_allclose(last_column.metrics["MAE"], 2.5)


def test_backtest_zero_truths_warn_once():
    series = np.concatenate([np.zeros(6), np.ones(2)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = backtest(persistence(2), series, horizon=2, n_origins=2)
    assert [str(w.message) for w in caught] == ["backtest: 2 true value(s) are 0 and were left out of MAPE."]
    assert math.isnan(result.metrics.loc[4, "MAPE"]) and result.metrics.loc[6, "MAPE"] == 100.0


def test_backtest_errors():
    with pytest.raises(ValueError, match=r"`series` expects at least 21 steps \(min_history 5 \+ 4 gap\(s\) of "
                                         r"step 3 \+ horizon 4\) for 5 origin\(s\); received 20 steps\. Pass a "
                                         r"longer series"):
        backtest(persistence(4), np.arange(20.0), horizon=4, step=3, min_history=5)
    with pytest.raises(ValueError, match=r"the forecaster's output expects shape \(3,\) or \(3, n_targets\); "
                                         r"received a 1-D array of shape \(2,\) at origin 14"):
        backtest(lambda h: h[-2:], np.arange(20.0), horizon=3, n_origins=2)
    with pytest.raises(ValueError, match=r"`targets` expects one column per forecast column \(1\); received "
                                         r"\[0, 1\]"):
        backtest(lambda h: np.repeat(h[-1:, :1], 2, 0), np.ones((10, 2)), horizon=2, n_origins=1, targets=[0, 1])
    with pytest.raises(TypeError, match=r"`forecaster` expects a callable"):
        backtest(None, np.arange(10.0), horizon=2)
    with pytest.raises(ValueError, match=r"`series` expects a \(T,\) or \(T, F\) array; received a 3-D array"):
        backtest(persistence(2), np.ones((2, 10, 1)), horizon=2)


def test_non_finite_forecasts_are_refused_naming_the_origin():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no misleading zero-truth warning on the way
        with pytest.raises(ValueError, match="NaN or inf in the forecast from origin 14"):
            backtest(lambda h: np.full(3, np.inf), np.arange(1.0, 21.0), 3, 2)


def test_rolling_origins_all_or_as_many_as_fit():
    np.testing.assert_array_equal(rolling_origins(20, 3, 2, 3, 1), [14, 17])
    with pytest.raises(ValueError, match=r"at least 21 steps .*for 4 origin\(s\); received 20 steps"):
        rolling_origins(20, 3, 4, 5, 3)
    # allow_fewer keeps the latest origins that see min_history steps, in time order, instead of raising
    np.testing.assert_array_equal(rolling_origins(20, 3, 4, 5, 3, allow_fewer=True), [7, 12, 17])
    np.testing.assert_array_equal(rolling_origins(20, 3, 3, 5, 3), [7, 12, 17])  # the same when all fit
    assert rolling_origins(5, 3, 2, 1, 4, allow_fewer=True).tolist() == []
