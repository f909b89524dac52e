"""Multi-step forecasting over a trained model: recursive, stateful (carried state), direct and
seq2seq strategies, per-stream state, rolling-origin backtests and plots.

``plot_forecast`` / ``plot_backtest`` import matplotlib on first use only.
"""

from typing import Any

from ..trainers.streams import StreamState
from .backtest import BacktestResult, backtest
from .builders import direct_model, seq2seq_model
from .metrics import forecast_errors, mae, mape, rmse, smape
from .stateful import stateful
from .strategies import direct, recursive, seq2seq

__all__ = ["recursive", "stateful", "direct", "seq2seq", "direct_model", "seq2seq_model", "StreamState",
           "backtest", "BacktestResult", "mae", "rmse", "mape", "smape", "forecast_errors", "plot_forecast",
           "plot_backtest"]


def __getattr__(name: str) -> Any:
    if name in ("plot_forecast", "plot_backtest"):
        from . import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'lstmkit.forecast' has no attribute {name!r}")
