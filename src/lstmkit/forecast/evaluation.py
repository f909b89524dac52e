"""Honest scores for a forecaster: MASE and sMAPE beside the seasonal naive and persistence baselines,
statsforecast's AutoETS / AutoARIMA on the same origins, empirical interval coverage, and plain-words
warnings when the model loses to a baseline.

Every method is scored on the same forecast origins and the same steps. MASE divides each absolute
error by the in-sample mean absolute error of the seasonal naive forecast on the history before the
origin (per series and target), so scores pool across series of different scales and below 1 means
better than repeating the last season in-sample.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from .. import _validation
from .metrics import forecast_errors, mase
from .seasonality import seasonal_naive

BASELINES = {"ets": "AutoETS", "arima": "AutoARIMA"}


def parse_baselines(owner: str, names: Any) -> list[str]:
    """``"ets,arima"`` / ``["ets"]`` / None -> statsforecast model names, checked."""
    if names is None:
        return []
    items = [n.strip().lower() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]
    unknown = [n for n in items if n not in BASELINES]
    if unknown:
        raise _validation.value_error(owner, "`baselines`", f"names among {sorted(BASELINES)}", repr(unknown),
                                      "Pass e.g. --baselines ets,arima.")
    return [BASELINES[n] for n in dict.fromkeys(items)]


def naive_forecasts(histories: Sequence[np.ndarray], steps: int, season: int) -> dict[str, np.ndarray]:
    """Persistence and seasonal naive ``(n, steps, n_targets)`` from each history ``(T_i, n_targets)``."""
    persistence = np.stack([np.repeat(h[-1:], steps, axis=0) for h in histories])
    out = {"persistence": persistence}
    if season > 1:
        out["seasonal_naive"] = np.stack([seasonal_naive(h, steps, season) for h in histories])
    return out


def statsforecast_forecasts(histories: Sequence[np.ndarray], steps: int, season: int,
                            names: Sequence[str]) -> dict[str, np.ndarray]:
    """AutoETS / AutoARIMA (statsforecast, fitted on each history and target column alone) ``(n, steps,
    n_targets)``; an ImportError naming the extra when statsforecast is missing."""
    if not names:
        return {}
    try:
        from statsforecast import models as sf_models
    except ImportError:
        raise ImportError("the ets/arima baselines need statsforecast: pip install 'lstmkit[baselines]'") from None
    out = {}
    for name in names:
        forecasts = np.empty((len(histories), steps, histories[0].shape[1]))
        for i, history in enumerate(histories):
            for j in range(history.shape[1]):
                y = np.asarray(history[:, j], dtype=np.float64)
                # a season the history cannot estimate twice over is dropped (statsforecast would fail)
                model = getattr(sf_models, name)(season_length=season if len(y) >= 2 * season + 2 else 1)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    forecasts[i, :, j] = model.forecast(y=y, h=steps)["mean"]
        out[name] = forecasts
    return out


def score(truth: np.ndarray, forecasts: dict[str, np.ndarray], scale: np.ndarray) -> dict[str, dict[str, float]]:
    """MAE, RMSE, MAPE, sMAPE and MASE of each method's ``(n, steps, n_targets)`` forecasts against
    ``truth``; ``scale`` ``(n, 1, n_targets)`` is each origin's in-sample seasonal naive MAE."""
    scores = {}
    with warnings.catch_warnings():  # MAPE's zero-truth note: sMAPE and MASE are the scores to read then
        warnings.filterwarnings("ignore", message="mape: ", category=RuntimeWarning)
        for name, predicted in forecasts.items():
            row = forecast_errors(truth, predicted)
            row["MASE"] = mase(truth, predicted, scale)
            scores[name] = {k: float(v) for k, v in row.items()}
    return scores


def coverage(truth: np.ndarray, bands: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    """The share of ``truth`` inside each level's ``(lo, hi)`` band: ``{"coverage-80": 0.83, ...}``."""
    return {f"coverage-{level}": float(np.mean((truth >= lo) & (truth <= hi))) for level, (lo, hi) in bands.items()}


def losing_warnings(scores: dict[str, dict[str, float]], where: str) -> list[str]:
    """Plain-words warnings for each baseline whose MASE beats the model's."""
    if "model" not in scores:
        return []
    model = scores["model"]["MASE"]
    words = {"persistence": "repeating the last value", "seasonal_naive": "repeating the last season",
             "AutoETS": "statsforecast's AutoETS", "AutoARIMA": "statsforecast's AutoARIMA"}
    out = []
    for name, row in scores.items():
        if name != "model" and np.isfinite(row["MASE"]) and row["MASE"] < model:
            out.append(f"{where}: the model forecasts worse than {name} ({words.get(name, name)}): MASE "
                       f"{model:.3g} against {row['MASE']:.3g}. Prefer the baseline for these series, or "
                       "retrain (more epochs, --ensemble, another --transform or --lookback).")
    return out
