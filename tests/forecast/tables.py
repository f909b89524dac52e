"""A shared test table for the Forecaster's tests: several daily store series, rows shuffled."""

import numpy as np
import pandas as pd


def panel(n_series=3, length=60, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_series):
        t = np.arange(length)
        level = 10 + 3 * k + np.sin(t / 3 + k) + 0.05 * t + rng.normal(scale=0.05, size=length)
        temp = np.cos(t / 5 + k)
        rows.append(pd.DataFrame({"store": f"s{k}", "day": pd.date_range("2024-01-01", periods=length, freq="D"),
                                  "sales": level, "temp": temp}))
    return pd.concat(rows, ignore_index=True).sample(frac=1.0, random_state=1)  # shuffled rows: sorted by time
