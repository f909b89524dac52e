"""Forecast and backtest plots (matplotlib, off-screen)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.backtest import backtest
from lstmkit.forecast.plots import plot_backtest, plot_forecast

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def persistence(horizon):
    return lambda history: np.repeat(history[-1:], horizon, 0)


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
