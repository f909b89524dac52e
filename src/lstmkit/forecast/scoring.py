"""The Forecaster's scores: the held-out scores and interval calibration after training (``validate``),
``evaluate`` (MASE, sMAPE, baselines, coverage over backtest's rolling origins) and ``cross_validation``
frames, as functions of a trained forecaster ``f`` (its ``config``, ``calibration``, ``metrics`` and
``_predict``); ``Forecaster.evaluate`` / ``cross_validation`` call them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _validation
from . import combination, covariates, evaluation, framing, intervals, probabilistic, windowed
from .backtest import rolling_origins
from .metrics import naive_scale
from .specs import parse_model_spec


def validate(f: Any) -> None:
    """Score the trained model on the held-out origins (one step, and ``K`` steps: the horizon, or a
    season and at least 6 steps), warn when a baseline beats it, and keep the scaled held-out errors
    per step ahead for conformal intervals (see :mod:`.intervals`)."""
    cfg = f.config
    n_targets = len(cfg.target)
    anchors = f._held_out
    steps = cfg.horizon if cfg.horizon > 1 else 1 if covariates.n_past(cfg) else max(6, cfg.season or 1)
    if probabilistic.is_probabilistic(cfg):
        _validate_head(f, anchors)
        return
    calibration = getattr(f, "_calibration_origins", None) or anchors
    # the combination is chosen on every held-out origin: the calibration tail is the only part where the
    # network was not early-stopped, so it alone scores it without bias, and more origins choose better
    chosen = combination.fit(f, anchors, steps, _padded_futures(cfg, anchors, steps))
    f.metrics["validation"] = score(f, anchors, cfg.horizon if cfg.horizon > 1 else 1)
    futures = _padded_futures(cfg, calibration, steps)
    predicted = f._predict(calibration, steps, futures)
    errors = [[] for _ in range(steps)]
    for (s, a), forecast in zip(calibration, predicted):
        scale = naive_scale(s.values[:a + 1, :n_targets], cfg.season or 1)
        truth = s.values[a + 1:a + 1 + steps, :n_targets]
        for k in range(len(truth)):
            errors[k].extend(np.abs(truth[k] - forecast[k]) / scale)
    errors = [e for e in errors if e]
    f.calibration = intervals.calibration_state(errors) if errors else None
    full = max(1, min(steps, max(len(s.values) - 1 - a for s, a in anchors)))
    usable = [(s, a) for s, a in anchors if len(s.values) - 1 - a >= full]
    where = "validation (one step ahead)"
    warned = evaluation.losing_warnings(f.metrics["validation"], where)
    if full > 1:
        f.metrics["validation_multi_step"] = {"steps": full, **score(f, usable, full)}
        where = f"validation ({full} steps ahead)"
        warned += evaluation.losing_warnings({k: v for k, v in f.metrics["validation_multi_step"].items()
                                              if k != "steps"}, where)
    if f.calibration is not None:
        method = ("conformal, from the held-out origins early stopping did not see (calibration tail)"
                  if len(calibration) < len(anchors) else "conformal, from the held-out origins")
        f.metrics["intervals"] = {"method": method, "calibrated_steps": len(errors),
                                  "errors_per_step": len(errors[0]), "calibration_origins": len(calibration)}
    note = combination.warning(chosen)
    if note:
        warned.append(note)
    f.metrics["warnings"] = warned


def _validate_head(f: Any, anchors: list) -> None:
    """``validate`` for a probabilistic head: scores and interval coverage on every held-out origin
    (nothing is calibrated; the head's intervals are its own), and no combination with seasonal naive
    (its intervals describe the network's forecast alone)."""
    cfg = f.config
    f.calibration = None
    f.metrics.setdefault("choices", {})["combination"] = {
        "value": "network", "choice": "network", "model_weight": 1.0,
        "chosen_by": f"not combined: the {probabilistic.METHODS[cfg.loss]} intervals describe the network alone"}
    levels = default_levels(f)
    f.metrics["validation"] = score(f, anchors, cfg.horizon, levels=levels)
    warned = evaluation.losing_warnings(f.metrics["validation"], "validation" if cfg.horizon > 1 else
                                        "validation (one step ahead)")
    f.metrics["intervals"] = {**probabilistic.describe(cfg), "validation_origins": len(anchors)}
    f.metrics["warnings"] = warned


def default_levels(f: Any) -> list:
    """The levels evaluated when none are asked for: ``[80, 95]`` with conformal calibration or a
    Normal / Student-t head, a quantile head's own; none without intervals."""
    cfg = f.config
    if probabilistic.is_probabilistic(cfg):
        return probabilistic.default_levels(cfg)
    return [80, 95] if f.calibration else []


def forecasts_with_bands(f: Any, anchors: list, steps: int, futures: list, levels: list) -> tuple[np.ndarray, list]:
    """The forecasts ``(n, steps, n_targets)`` from ``anchors`` and, per anchor, ``{level: (lo, hi)}``:
    conformal around the point forecast, or a probabilistic head's own quantiles."""
    if levels and probabilistic.is_probabilistic(f.config):
        point, bands = windowed.predict_bands(f.config, f.scaler, f.models, anchors, steps, futures, levels)
        return point, [{lvl: (lo[i], hi[i]) for lvl, (lo, hi) in bands.items()} for i in range(len(anchors))]
    predicted = f._predict(anchors, steps, futures)
    return predicted, [bands_at(f, s, a, values, levels) for (s, a), values in zip(anchors, predicted)]


def _padded_futures(cfg: Any, anchors: list, steps: int) -> list:
    """Exogenous futures after each anchor, padded past the series' end (those steps are not scored)."""
    n_targets = len(cfg.target)
    futures = []
    for s, a in anchors:
        if s.values.shape[1] == n_targets:
            futures.append(None)
            continue
        future = s.values[a + 1:a + 1 + steps, n_targets:]
        futures.append(np.concatenate([future, np.repeat(future[-1:], steps - len(future), axis=0)]))
    return futures


def cross_validation(f: Any, frame: pd.DataFrame, h: int, n_windows: int = 1, step_size: int | None = None,
                     level: Any = None) -> pd.DataFrame:
    """``Forecaster.cross_validation`` (documented there): rolling forecasts from ``n_windows`` cutoffs,
    as NeuralForecast's frame."""
    owner = "Forecaster.cross_validation"
    f._check_trained(owner)
    cfg = f.config
    if len(cfg.target) != 1:
        raise _validation.value_error(owner, "the forecaster", "one target", f"{len(cfg.target)} targets",
                                      "Cross-validate one target at a time.")
    h = evaluation_steps(f.config, owner, h)
    n_windows = _validation.positive_int(owner, "n_windows", n_windows)
    step_size = h if step_size is None else _validation.positive_int(owner, "step_size", step_size)
    levels = checked_levels(f, owner, level)
    series = framing.split_series(f.config, owner, frame, allow_future=False)
    anchors = origins(f.config, owner, series, h, n_windows, step_size)
    name = parse_model_spec(cfg.model)["kind"].upper()
    predicted, banded = forecasts_with_bands(f, anchors, h, framing.known_futures(cfg, anchors, h), levels)
    rows = []
    for (s, a), values, bands in zip(anchors, predicted, banded):
        for k in range(h):
            row = {"unique_id": "series" if s.id is None else s.id,
                   "ds": s.times.iloc[a + 1 + k] if s.times is not None else a + 1 + k,
                   "cutoff": s.times.iloc[a] if s.times is not None else a, name: float(values[k, 0])}
            for lvl, (lo, hi) in bands.items():
                row[f"{name}-lo-{lvl}"], row[f"{name}-hi-{lvl}"] = float(lo[k, 0]), float(hi[k, 0])
            row["y"] = float(s.values[a + 1 + k, 0])
            rows.append(row)
    return pd.DataFrame(rows)


def evaluate(f: Any, frame: pd.DataFrame, steps: int | None = None, season: int | None = None,
             n_origins: int = 5, baselines: Any = None, level: Any = None) -> pd.DataFrame:
    """``Forecaster.evaluate`` (documented there): model and baselines scored over backtest's rolling
    origins, one row per method."""
    owner = "Forecaster.evaluate"
    f._check_trained(owner)
    steps = evaluation_steps(f.config, owner, steps)
    n_origins = _validation.positive_int(owner, "n_origins", n_origins)
    names = evaluation.parse_baselines(owner, baselines)
    season = f.config.season if season is None else _validation.positive_int(owner, "season", season)
    levels = checked_levels(f, owner, default_levels(f) if level is None else level)
    series = framing.split_series(f.config, owner, frame, allow_future=False)
    anchors = origins(f.config, owner, series, steps, n_origins, steps)
    scores = score(f, anchors, steps, season=season, baselines=names, levels=levels)
    table = pd.DataFrame(scores).T
    table.attrs["warnings"] = evaluation.losing_warnings(scores, f"evaluation ({steps} steps ahead)")
    return table


def evaluation_steps(cfg: Any, owner: str, steps: int | None) -> int:
    """``steps`` to evaluate, default the horizon; at most the horizon of a direct model."""
    steps = covariates.check_steps(owner, cfg, _validation.positive_int(owner, "steps", steps or cfg.horizon))
    if cfg.horizon > 1 and steps > cfg.horizon:
        raise _validation.value_error(owner, "`steps`", f"at most the model's horizon ({cfg.horizon})",
                                      repr(steps), "Evaluate fewer steps, or train with --horizon 1.")
    return steps


def origins(cfg: Any, owner: str, series: list, steps: int, n_origins: int, step_size: int) -> list[tuple]:
    """The last ``n_origins`` origins (last rows seen), ``step_size`` apart, each with ``steps`` rows
    after it, in time order per series."""
    first = framing.offset(cfg) + cfg.lookback - 1  # the earliest origin with a full window before it
    short = [(s.id, len(s.values)) for s in series if len(s.values) - 1 - steps < first]
    if short:
        named = ", ".join(f"{i!r}: {n}" if i is not None else str(n) for i, n in short[:5])
        raise _validation.value_error(owner, "the data", f"series of at least {first + 1 + steps} rows (a "
                                      f"window of {first + 1} rows, then {steps} step(s) to score)",
                                      f"shorter series ({named} rows)", "Evaluate fewer steps or more data.")
    # backtest's origins t (rows seen), the last at len - steps; the anchor is the last row seen, t - 1
    return [(s, int(t) - 1) for s in series
            for t in rolling_origins(len(s.values), steps, n_origins, step_size, first + 1, allow_fewer=True)]


def checked_levels(f: Any, owner: str, level: Any) -> list:
    """``level`` parsed; a ValueError when the forecaster has no calibrated intervals, or a quantile head
    was not trained for these levels (see ``probabilistic.check_levels``)."""
    levels = intervals.parse_levels(owner, level)
    if probabilistic.is_probabilistic(f.config):
        probabilistic.check_levels(owner, f.config, levels)
        return levels
    if levels and f.calibration is None:
        raise _validation.value_error(owner, "`level`", "a forecaster with calibrated intervals (fit with "
                                      "validation > 0)", f"level={levels} for one without",
                                      "Train again with a held-out part (--validation 0.2).")
    return levels


def bands_at(f: Any, s: Any, anchor: int, values: np.ndarray, levels: list) -> dict:
    """``{level: (lo, hi)}`` around ``values`` ``(steps, n_targets)`` forecast from ``anchor``."""
    if not levels:
        return {}
    scale = naive_scale(s.values[:anchor + 1, :len(f.config.target)], f.config.season or 1)
    return intervals.bands(values, scale, f.calibration, levels)


def score(f: Any, anchors: list[tuple], steps: int, season: int | None = None,
          baselines: Any = (), levels: Any = ()) -> dict:
    """Model and baseline (persistence, seasonal naive, statsforecast ``baselines``) scores over the
    forecasts from ``anchors`` (MASE scaled by each origin's in-sample seasonal naive MAE), with the
    model's interval coverage per level."""
    cfg = f.config
    n_targets = len(cfg.target)
    season = cfg.season or 1 if season is None else season
    model, bands = forecasts_with_bands(f, anchors, steps, framing.known_futures(cfg, anchors, steps), list(levels))
    truth = np.stack([s.values[a + 1:a + 1 + steps, :n_targets] for s, a in anchors])
    histories = [s.values[:a + 1, :n_targets] for s, a in anchors]
    scale = np.stack([naive_scale(h, season) for h in histories])[:, None, :]
    forecasts = {"model": model, **evaluation.naive_forecasts(histories, steps, season),
                 **evaluation.statsforecast_forecasts(histories, steps, season, baselines)}
    scores = evaluation.score(truth, forecasts, scale)
    if levels:
        scores["model"].update(evaluation.coverage(truth, {lvl: (np.stack([b[lvl][0] for b in bands]),
                                                                 np.stack([b[lvl][1] for b in bands]))
                                                           for lvl in levels}))
    return scores
