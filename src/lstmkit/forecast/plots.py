"""Forecast plots with matplotlib, drawn off-screen (Agg): nothing is shown, figures are returned.

Figures are made with ``matplotlib.figure.Figure`` (not ``pyplot``), so no display or global figure
state is involved; pass ``path`` to also write a PNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import _validation
from ..data.checks import to_numpy

DEFAULT_LABELS = ("history", "forecast", "truth")


def plot_forecast(history: Any, forecast: Any, truth: Any = None, *, start: float | None = None,
                  ax: Any = None, path: str | Path | None = None, title: str | None = None,
                  labels: Sequence[str] | None = None) -> Figure:
    """Plot a history, the forecast that continues it and, optionally, the true future values.

    Args:
        history: ``(T,)`` or ``(T, k)`` observed values (k lines).
        forecast: ``(H,)`` or ``(H, k)``; drawn from the last history point on, at x = T .. T + H - 1.
        truth: optional ``(H,)`` or ``(H, k)`` true future values, drawn dashed. Default None.
        start: the x value of the first history point. Default None: 0.
        ax: an existing matplotlib Axes to draw into. Default None: a new Figure.
        path: write the figure as PNG there. Default None.
        title: the axes' title. Default None.
        labels: legend names for history, forecast, truth. Default ``("history", "forecast", "truth")``.

    Returns:
        The ``matplotlib.figure.Figure`` (with k lines each for history, forecast and truth).

    Example:
        >>> fig = plot_forecast(np.arange(10.0), np.full(3, 9.0), truth=np.arange(10.0, 13.0), path="f.png")
        >>> len(fig.axes[0].lines)
        3
    """
    owner = "plot_forecast"
    past = _columns(owner, "history", history)
    future = _columns(owner, "forecast", forecast)
    if future.shape[1] != past.shape[1]:
        raise _validation.value_error(owner, "`forecast`", f"{past.shape[1]} column(s), like `history`",
                                      f"{future.shape[1]} column(s)", "Plot the target columns of the history.")
    actual = None if truth is None else _columns(owner, "truth", truth)
    if actual is not None and actual.shape != future.shape:
        raise _validation.value_error(owner, "`truth`", f"the forecast's shape {future.shape}",
                                      f"shape {actual.shape}", "Pass the observed values of the forecast steps.")
    names = _labels(owner, labels)
    x0 = 0.0 if start is None else float(start)
    fig, ax = _axes(ax)
    n = len(past)
    x_past = x0 + np.arange(n)
    x_future = x0 + np.arange(n - 1, n + len(future))  # starts at the last history point: one connected line
    for j in range(past.shape[1]):
        suffix = f" [{j}]" if past.shape[1] > 1 else ""
        (line,) = ax.plot(x_past, past[:, j], label=names[0] + suffix)
        ax.plot(x_future, np.concatenate([past[-1:, j], future[:, j]]), color="tab:red", label=names[1] + suffix)
        if actual is not None:
            ax.plot(x_future[1:], actual[:, j], linestyle="--", color=line.get_color(), label=names[2] + suffix)
    if title:
        ax.set_title(title)
    ax.legend(loc="best")
    _save(fig, path)
    return fig


def plot_backtest(result: Any, series: Any, path: str | Path | None = None) -> Figure:
    """Plot the scored columns of ``series`` and each backtest origin's forecast over it.

    Args:
        result: a ``backtest.BacktestResult``.
        series: the ``(T,)`` or ``(T, F)`` series that was backtested.
        path: write the figure as PNG there. Default None.

    Returns:
        The Figure, with one line per scored column plus one line per origin and column.

    Example:
        >>> fig = plot_backtest(backtest(forecaster, series, horizon=3), series, path="backtest.png")
    """
    owner = "plot_backtest"
    for attribute in ("origins", "forecasts", "targets", "metrics", "horizon"):
        if not hasattr(result, attribute):
            raise _validation.type_error(owner, "`result`", "a BacktestResult from backtest()",
                                         type(result).__name__)
    values = _columns(owner, "series", series)
    last = int(result.origins[-1]) + result.horizon
    if len(values) < last or max(result.targets) >= values.shape[1]:
        raise _validation.value_error(owner, "`series`", f"the backtested series (>= {last} steps, columns "
                                      f"{result.targets})", f"shape {values.shape}",
                                      "Pass the same series given to backtest().")
    forecasts = np.asarray(result.forecasts, dtype=np.float64)
    forecasts = forecasts[:, :, None] if forecasts.ndim == 2 else forecasts
    fig, ax = _axes(None)
    for j, column in enumerate(result.targets):
        suffix = f" [{column}]" if len(result.targets) > 1 else ""
        ax.plot(np.arange(len(values)), values[:, column], color="0.3", label="series" + suffix)
        for k, origin in enumerate(result.origins):
            ax.plot(origin + np.arange(result.horizon), forecasts[k, :, j], color="tab:red",
                    label="forecasts" + suffix if k == 0 else None)
    overall = result.metrics.loc["overall"]
    ax.set_title(f"Backtest: {len(result.origins)} origins, horizon {result.horizon}, "
                 f"MAE {overall['MAE']:.4g}, sMAPE {overall['sMAPE']:.3g}%")
    ax.legend(loc="best")
    _save(fig, path)
    return fig


def _columns(owner: str, name: str, data: Any) -> np.ndarray:
    array = np.asarray(to_numpy(data, owner, name), dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or not len(array):
        raise _validation.value_error(owner, f"`{name}`", "a non-empty (T,) or (T, k) array",
                                      _validation.describe_array(array))
    return array


def _labels(owner: str, labels: Any) -> tuple[str, str, str]:
    if labels is None:
        return DEFAULT_LABELS
    names = tuple(labels) if not isinstance(labels, str) else ()
    if not 1 <= len(names) <= 3 or not all(isinstance(n, str) for n in names):
        raise _validation.value_error(owner, "`labels`", "up to 3 strings (history, forecast, truth)",
                                      repr(labels))
    return names + DEFAULT_LABELS[len(names):]


def _axes(ax: Any) -> tuple[Figure, Any]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=(10, 4), layout="tight")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig: Figure, path: str | Path | None) -> None:
    if path is None:
        return
    path = Path(path)
    if not path.parent.exists():
        raise _validation.value_error("plot", "`path`", "a file in an existing folder", str(path),
                                      f"Create {path.parent} first.")
    fig.savefig(path, format="png")


def plot_learning_curves(history: dict, path: str | Path | None = None, title: str | None = None) -> Figure:
    """Plot each ``loss`` / ``val_*`` curve of a ``History.history`` dict against the epoch.

    Returns:
        The Figure (one line per metric); written as PNG when ``path`` is given.
    """
    if not isinstance(history, dict) or not history:
        raise _validation.value_error("plot_learning_curves", "`history`", "a non-empty dict of per-epoch values "
                                      "(History.history)", repr(history))
    fig, ax = _axes(None)
    for name, values in history.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=name, linestyle="--" if name.startswith("val_") else "-")
    ax.set_xlabel("epoch")
    ax.set_yscale("log" if all(v > 0 for vals in history.values() for v in vals) else "linear")
    ax.set_title(title or "learning curves")
    ax.legend(loc="best")
    _save(fig, path)
    return fig


def plot_series_forecasts(panels: Sequence[dict], path: str | Path | None = None, ylabel: str = "") -> Figure:
    """One panel per series: observed values, optional fitted / forecast lines, dates or numbers on x.

    Args:
        panels: dicts with ``title``, ``x`` and ``y`` (observed), and optionally ``fitted_x`` / ``fitted_y``
            (e.g. one-step predictions), ``forecast_x`` / ``forecast_y``, ``bands`` (``[(level, lo, hi),
            ...]`` along ``forecast_x``, drawn shaded), and ``split`` (an x where the held-out part starts,
            drawn as a dotted line).
        path: write the figure as PNG there. Default None.
        ylabel: the y axis label. Default none.
    """
    if not panels:
        raise _validation.value_error("plot_series_forecasts", "`panels`", "at least one series", "none")
    fig = Figure(figsize=(10, 2.8 * len(panels)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels):
        ax.plot(panel["x"], panel["y"], label="observed", color="tab:blue")
        if panel.get("fitted_y") is not None:
            ax.plot(panel["fitted_x"], panel["fitted_y"], label="one step ahead", color="tab:orange", alpha=0.8)
        for level, lo, hi in sorted(panel.get("bands") or [], key=lambda band: -float(band[0])):  # widest first
            ax.fill_between(panel["forecast_x"], lo, hi, color="tab:red", alpha=0.15 if float(level) >= 90 else 0.3,
                            linewidth=0, label=f"{level}% interval")
        if panel.get("forecast_y") is not None:
            ax.plot(panel["forecast_x"], panel["forecast_y"], label="forecast", color="tab:red", lw=2)
        if panel.get("split") is not None:
            ax.axvline(panel["split"], color="grey", linestyle=":", label="held out from here")
        ax.set_title(panel.get("title", ""))
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    return fig
