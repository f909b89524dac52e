"""What the forecast plots draw, as data: one panel per series (up to 3), built from a Forecaster's
tables, and the PNGs ``lstmkit train / forecast / demo`` write from them.

A panel is a dict for :func:`.plots.plot_series_forecasts`: ``title``, ``x``, ``y`` (the history), and
``fitted_x`` / ``fitted_y`` / ``split`` (one-step predictions, where the held-out part starts) or
``forecast_x`` / ``forecast_y`` / ``bands`` (the forecast and its intervals). Building panels needs no
matplotlib; writing them imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._lazy import pandas as pd
from .framing import as_time

MAX_PANELS = 3


def validation_panels(forecaster: Any, fitted: pd.DataFrame) -> list[dict]:
    """Panels of one-step predictions against the truth (``fitted`` from ``Forecaster.one_step``), the
    x value where the part ``fit`` held out starts marked as ``split`` (None when nothing was held out)."""
    target = forecaster.config.target[0]
    panels = []
    for key, part in by_series(forecaster, fitted)[:MAX_PANELS]:
        x = x_axis(forecaster, part)
        start = forecaster.held_out_from(int(part["row"].max()) + 1)  # one_step reaches the series' last row
        held_out = (part["row"] >= start).to_numpy() if start is not None else None
        panels.append({"title": _title(target, key), "x": x, "y": part[target],
                       "fitted_x": x, "fitted_y": part[f"{target}_predicted"],
                       "split": x.iloc[int(held_out.argmax())] if held_out is not None and held_out.any() else None})
    return panels


def forecast_panels(forecaster: Any, frame: pd.DataFrame, table: pd.DataFrame) -> list[dict]:
    """Panels of the last stretch of each series in ``frame`` (four forecasts long, at least three
    look-backs) followed by its forecast from ``table`` (``Forecaster.forecast``), with its bands."""
    cfg = forecaster.config
    target = cfg.target[0]
    history = frame
    if cfg.time_col:  # sorted as times, not as the text a CSV holds ("12/01/2019" > "01/05/2020")
        times = as_time("lstmkit forecast", frame[cfg.time_col])
        history = frame.assign(**{cfg.time_col: times}).sort_values(cfg.time_col, kind="stable")
    panels = []
    for key, part in by_series(forecaster, history)[:MAX_PANELS]:
        ahead = table if cfg.id_col is None else table[table[cfg.id_col] == key]
        tail = part.iloc[-max(4 * len(ahead), 3 * (cfg.lookback or 1)):]
        tail = tail[tail[target].notna()]
        x_hist = x_axis(forecaster, tail, offset=len(part) - len(tail))
        x_future = ahead[cfg.time_col] if cfg.time_col else (x_hist.iloc[-1] + ahead["step"])
        bands = [(level, list(ahead[f"{target}-lo-{level}"]), list(ahead[f"{target}-hi-{level}"]))
                 for level in interval_levels(table, target)]
        panels.append({"title": _title(target, key), "x": x_hist, "y": tail[target],
                       "forecast_x": list(x_future), "forecast_y": list(ahead[target]), "bands": bands})
    return panels


def write_training_plots(forecaster: Any, frame: pd.DataFrame, out: Path) -> list[Path]:
    """``learning_curves.png`` (when there is a history) and ``validation.png`` in ``out``; returns the
    paths written."""
    from . import plots

    out = Path(out)
    written = []
    if forecaster.history:
        plots.plot_learning_curves(forecaster.history, out / "learning_curves.png")
        written.append(out / "learning_curves.png")
    panels = validation_panels(forecaster, forecaster.one_step(frame))
    plots.plot_series_forecasts(panels, out / "validation.png", ylabel=forecaster.config.target[0])
    written.append(out / "validation.png")
    return written


def write_forecast_plot(forecaster: Any, frame: pd.DataFrame, table: pd.DataFrame, path: Path) -> Path:
    """The forecast panels as a PNG at ``path``; returns ``path``."""
    from . import plots

    plots.plot_series_forecasts(forecast_panels(forecaster, frame, table), path, ylabel=forecaster.config.target[0])
    return Path(path)


def by_series(forecaster: Any, table: pd.DataFrame) -> list[tuple[Any, pd.DataFrame]]:
    """``[(series id, its rows), ...]`` in table order; ``[(None, table)]`` without an id column."""
    id_col = forecaster.config.id_col
    return [(None, table)] if id_col is None else list(table.groupby(id_col, sort=False))


def x_axis(forecaster: Any, part: pd.DataFrame, offset: int = 0) -> pd.Series:
    """The x values of ``part``'s rows: its times, else its ``row`` column, else row numbers from ``offset``."""
    time_col = forecaster.config.time_col
    if time_col is not None:
        return as_time("lstmkit", part[time_col]).reset_index(drop=True)
    rows = part["row"] if "row" in part else pd.Series(range(offset, offset + len(part)))
    return rows.reset_index(drop=True)


def interval_levels(table: pd.DataFrame, target: str) -> list[str]:
    """The levels whose ``<target>-lo-<level>`` columns ``table`` holds, in column order."""
    prefix = f"{target}-lo-"
    return [column[len(prefix):] for column in table.columns if column.startswith(prefix)]


def _title(target: str, key: Any) -> str:
    return f"{target}" + ("" if key is None else f" — {key}")
