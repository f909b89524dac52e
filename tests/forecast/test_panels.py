"""What the forecast plots draw (``forecast.panels``): panels built from a forecaster's tables, and the
PNGs written from them."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast import panels
from lstmkit.forecast.specs import ForecasterConfig


def stand_in(**config):
    """The parts of a Forecaster the panels read: its config, history and held-out bookkeeping."""
    cfg = ForecasterConfig(**{"target": ["y"], "features": ["y"], "lookback": 2, **config})
    return SimpleNamespace(config=cfg, history={}, held_out_from=lambda n_rows: n_rows - 3)


def test_validation_panels_mark_where_the_held_out_part_starts():
    fitted = pd.DataFrame({"id": ["a"] * 5 + ["b"] * 5, "row": list(range(2, 7)) * 2,
                           "y": np.arange(10.0), "y_predicted": np.arange(10.0) + 0.5})
    drawn = panels.validation_panels(stand_in(id_col="id"), fitted)
    assert [p["title"] for p in drawn] == ["y — a", "y — b"]
    assert drawn[0]["x"].tolist() == [2, 3, 4, 5, 6] and drawn[1]["fitted_y"].tolist() == [5.5, 6.5, 7.5, 8.5, 9.5]
    assert drawn[0]["split"] == 4  # a 7-row series: held_out_from(7) = 4
    nothing = SimpleNamespace(**{**vars(stand_in()), "held_out_from": lambda n_rows: None})
    assert panels.validation_panels(nothing, fitted.drop(columns="id"))[0]["split"] is None


def test_forecast_panels_continue_the_history_with_the_forecast_and_bands():
    frame = pd.DataFrame({"id": ["a"] * 30 + ["b"] * 30 + ["c"] * 30 + ["d"] * 30, "y": np.arange(120.0)})
    table = pd.DataFrame({"id": ["a", "a", "b", "b", "c", "c", "d", "d"], "step": [1, 2] * 4,
                          "y": np.arange(8.0), "y-lo-80": np.arange(8.0) - 1, "y-hi-80": np.arange(8.0) + 1})
    drawn = panels.forecast_panels(stand_in(id_col="id", lookback=3), frame, table)
    assert len(drawn) == panels.MAX_PANELS  # the first three series
    first = drawn[0]
    assert first["x"].tolist() == list(range(21, 30)) and first["y"].tolist() == list(np.arange(21.0, 30.0))
    assert first["forecast_x"] == [30, 31] and first["forecast_y"] == [0.0, 1.0]  # max(4 * 2, 3 * 3) = 9 rows
    assert first["bands"] == [("80", [-1.0, 0.0], [1.0, 2.0])]
    assert panels.interval_levels(table, "y") == ["80"]


@pytest.mark.filterwarnings("ignore:Could not infer format")  # pandas, on the way to the TypeError
def test_forecast_panels_order_text_dates_as_dates():
    days = pd.date_range("2019-12-25", periods=12, freq="D")
    frame = pd.DataFrame({"day": days.strftime("%m/%d/%Y"), "y": np.arange(12.0)}).sample(frac=1.0, random_state=0)
    table = pd.DataFrame({"step": [1], "day": [pd.Timestamp("2020-01-06")], "y": [12.0]})
    drawn = panels.forecast_panels(stand_in(time_col="day", lookback=3), frame, table)
    assert drawn[0]["x"].is_monotonic_increasing and drawn[0]["x"].iloc[-1] == pd.Timestamp("2020-01-05")
    with pytest.raises(TypeError, match=r"the time column expects numbers or dates"):
        panels.forecast_panels(stand_in(time_col="day"), frame.assign(day="soon"), table)


def test_write_forecast_plot_draws_the_panels(tmp_path, monkeypatch):
    from lstmkit.forecast import plots

    drawn = []
    monkeypatch.setattr(plots, "plot_series_forecasts", lambda p, path, **kw: drawn.append((p, path, kw)))
    frame = pd.DataFrame({"y": np.arange(10.0)})
    table = pd.DataFrame({"step": [1, 2], "y": [10.0, 11.0]})
    path = panels.write_forecast_plot(stand_in(), frame, table, tmp_path / "f.png")
    assert path == tmp_path / "f.png" and drawn[0][2] == {"ylabel": "y"}
    assert drawn[0][0][0]["forecast_x"] == [10, 11]
    monkeypatch.undo()
    panels.write_forecast_plot(stand_in(), frame, table, tmp_path / "real.png")
    assert (tmp_path / "real.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
