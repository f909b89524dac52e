"""Forecast metrics, rolling-origin backtests and plots."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.backtest import BacktestResult, backtest
from lstmkit.forecast.metrics import forecast_errors, mae, mape, rmse, smape
from lstmkit.forecast.plots import plot_backtest, plot_forecast

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def persistence(horizon):
    return lambda history: np.repeat(history[-1:], horizon, 0)


# -- metrics -----------------------------------------------------------------------------------------------
def test_metrics_by_hand():
    y, yhat = np.array([2.0, 4.0, 5.0, 10.0]), np.array([1.0, 6.0, 5.0, 6.0])  # errors 1, 2, 0, 4
    assert mae(y, yhat) == 7 / 4
    assert rmse(y, yhat) == math.sqrt(21 / 4)
    assert mape(y, yhat) == pytest.approx(100 * (1 / 2 + 2 / 4 + 0 + 4 / 10) / 4)
    assert smape(y, yhat) == pytest.approx((200 * 1 / 3 + 200 * 2 / 10 + 0 + 200 * 4 / 16) / 4)
    assert forecast_errors(y[:, None], yhat[:, None]) == {"MAE": mae(y, yhat), "RMSE": rmse(y, yhat),
                                                          "MAPE": mape(y, yhat), "sMAPE": smape(y, yhat)}


def test_mape_and_smape_with_zeros():
    y, yhat = np.array([0.0, 0.0, 2.0]), np.array([0.0, 1.0, 3.0])
    with pytest.warns(RuntimeWarning, match=r"mape: 2 of 3 true value\(s\) are 0 and were left out"):
        assert mape(y, yhat) == 50.0  # only the point with truth 2: |2 - 3| / 2
    assert smape(y, yhat) == pytest.approx((0 + 200 + 200 * 1 / 5) / 3)  # 0/0 -> 0, 0 vs 1 -> 200
    with pytest.warns(RuntimeWarning):
        assert math.isnan(mape([0.0, 0.0], [1.0, 2.0]))
    assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0


def test_metric_errors():
    with pytest.raises(ValueError, match=r"mae: `y_pred` expects the shape of `y_true` \(3,\); received shape "
                                         r"\(3, 1\)\. Reshape"):
        mae(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"rmse: `y_true` expects at least one value; received an empty array"):
        rmse([], [])


# -- backtest ----------------------------------------------------------------------------------------------
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


# -- plots -------------------------------------------------------------------------------------------------
def test_plot_forecast_writes_png(tmp_path):
    path = tmp_path / "forecast.png"
    fig = plot_forecast(np.arange(10.0), np.full(3, 9.0), truth=np.arange(10.0, 13.0), path=path, title="t",
                        labels=("observed",))
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    history, forecast, truth = ax.lines
    np.testing.assert_array_equal(forecast.get_xdata(), [9, 10, 11, 12])  # continues from the last point
    np.testing.assert_array_equal(forecast.get_ydata(), [9, 9, 9, 9])
    assert truth.get_linestyle() == "--"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["observed", "forecast", "truth"]
    two_columns = plot_forecast(np.ones((5, 2)), np.ones((2, 2)), start=100)
    assert len(two_columns.axes[0].lines) == 4
    assert two_columns.axes[0].lines[0].get_xdata()[0] == 100


def test_plot_backtest_writes_png(tmp_path):
    series = np.arange(20.0)
    result = backtest(persistence(3), series, horizon=3, n_origins=3)
    path = tmp_path / "backtest.png"
    fig = plot_backtest(result, series, path=path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert len(fig.axes[0].lines) == 1 + 3  # the series and one line per origin


def test_plot_errors(tmp_path):
    with pytest.raises(ValueError, match=r"`forecast` expects 1 column\(s\), like `history`; received 2"):
        plot_forecast(np.ones(5), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"`truth` expects the forecast's shape \(2, 1\); received shape \(3, 1\)"):
        plot_forecast(np.ones(5), np.ones(2), truth=np.ones(3))
    with pytest.raises(ValueError, match=r"`path` expects a file in an existing folder"):
        plot_forecast(np.ones(5), np.ones(2), path=tmp_path / "missing" / "f.png")
    with pytest.raises(TypeError, match=r"plot_backtest: `result` expects a BacktestResult"):
        plot_backtest({"origins": []}, np.ones(5))
    result = backtest(persistence(3), np.arange(20.0), horizon=3, n_origins=3)
    with pytest.raises(ValueError, match=r"`series` expects the backtested series \(>= 20 steps"):
        plot_backtest(result, np.arange(10.0))
    assert isinstance(result.metrics, pd.DataFrame)


def test_non_finite_forecasts_are_refused_naming_the_origin():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no misleading zero-truth warning on the way
        with pytest.raises(ValueError, match="NaN or inf in the forecast from origin 14"):
            backtest(lambda h: np.full(3, np.inf), np.arange(1.0, 21.0), 3, 2)


@pytest.mark.parametrize("metric", [mae, rmse, mape, smape, forecast_errors])
def test_metrics_refuse_nan_and_inf(metric):
    # issue 13 fuzz: mae([1, nan], [1, 2]) was nan and mae with an inf was inf, without a word
    with pytest.raises(ValueError, match=r"`y_true` expects finite values; received 1 NaN/inf value\(s\), the first "
                                         r"at index \(1,\)"):
        metric([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"`y_pred` expects finite values; received 2 NaN/inf value\(s\), the first "
                                         r"at index \(0, 1\)"):
        metric([[1.0, 2.0], [3.0, 4.0]], [[1.0, np.inf], [np.nan, 4.0]])
