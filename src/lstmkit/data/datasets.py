"""Small datasets shipped with lstmkit, for the examples, the tests and ``lstmkit demo``.

``airline_passengers.csv``: monthly totals of international airline passengers (thousands),
January 1949 to December 1960, 144 values — Box & Jenkins (1976), *Time Series Analysis:
Forecasting and Control*, Series G; the same numbers as R's ``datasets::AirPassengers``.
"""

from __future__ import annotations

from importlib import resources

from .._lazy import pandas as pd


def load_airline_passengers() -> pd.DataFrame:
    """The airline passengers series as a frame with columns ``Month`` (datetime) and ``Passengers`` (int)."""
    with resources.files(__package__).joinpath("airline_passengers.csv").open("r") as handle:
        frame = pd.read_csv(handle)
    frame["Month"] = pd.to_datetime(frame["Month"], format="%Y-%m")
    return frame
