"""Scores of a trained Forecaster (``forecast.scoring``): exact baseline scores, evaluate on backtest's origins."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.forecast.forecaster import Forecaster

from .tables import panel


def test_persistence_scores_are_exact():
    data = pd.DataFrame({"t": np.arange(30), "y": np.arange(30, dtype=float) * 2 + 1})
    f = Forecaster("y", time_col="t", lookback=3)
    f.fit(data, epochs=1, verbose=0)
    scores = f.evaluate(data, steps=2, n_origins=3)
    # persistence misses by 2 then 4 on a line of slope 2: MAE 3, RMSE sqrt(10)
    assert scores.loc["persistence", "MAE"] == pytest.approx(3.0)
    assert scores.loc["persistence", "RMSE"] == pytest.approx(np.sqrt(10.0))


def test_evaluate_scores_backtests_rolling_origins():
    """evaluate's origins are backtest's: the persistence baseline scores what backtest scores for it."""
    from lstmkit.forecast import framing, scoring
    from lstmkit.forecast.backtest import backtest, rolling_origins

    y = np.sin(np.arange(40) / 3) * 5 + np.arange(40) * 0.3
    data = pd.DataFrame({"t": np.arange(40), "y": y})
    f = Forecaster("y", time_col="t", lookback=4, transform="none", season=1)
    f.fit(data, epochs=1, verbose=0)
    series = framing.split_series(f.config, "test", data, allow_future=False)
    anchors = scoring.origins(f.config, "test", series, 3, 4, 2)
    assert [a for _, a in anchors] == [t - 1 for t in rolling_origins(40, 3, 4, 2, 4)]
    reference = backtest(lambda h: np.repeat(h[-1:], 3), y, horizon=3, n_origins=4, step=2, min_history=4)
    assert reference.origins.tolist() == [a + 1 for _, a in anchors]
    scores = f.evaluate(data, steps=3, n_origins=4)  # origins `steps` apart
    persistence = backtest(lambda h: np.repeat(h[-1:], 3), y, horizon=3, n_origins=4, min_history=4)
    assert scores.loc["persistence", "MAE"] == pytest.approx(persistence.metrics.loc["overall", "MAE"])
    assert scores.loc["persistence", "RMSE"] == pytest.approx(persistence.metrics.loc["overall", "RMSE"])
    # a short series keeps the origins that have a full window before them; none is an error
    assert [a for _, a in scoring.origins(f.config, "test", series[:1], 3, 30, 2)] == list(range(4, 37, 2))
    with pytest.raises(ValueError, match=r"series of at least 8 rows \(a window of 4 rows, then 4 step\(s\) to score\)"):
        scoring.origins(f.config, "test", [framing.Series(None, np.ones((7, 1)), None)], 4, 2, 1)
