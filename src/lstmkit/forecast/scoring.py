"""The Forecaster's choosing and scoring half: what ``fit`` chooses (season, per-series scaling,
transform, look-back), the held-out scores and interval calibration after training, ``evaluate``
(MASE, sMAPE, baselines, coverage) and ``cross_validation`` frames.

A mixin of :class:`~lstmkit.forecast.forecaster.Forecaster`: its methods use the forecaster's framing
(``config``, ``_split_series``, ``_predict``, ...); kept apart so each file stays readable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import _validation
from . import choices, evaluation, framing, intervals
from .backtest import rolling_origins
from .metrics import naive_scale
from .seasonality import season_length
from .specs import parse_model_spec


class ScoringMixin:
    """``_choose``, ``_validate``, ``evaluate``, ``cross_validation`` and their helpers."""

    config: Any
    calibration: dict | None
    metrics: dict
    def _choose(self, series: list, validation: float) -> dict:
        """Resolve season, per-series scaling, transform and look-back left as None; returns the record
        of each choice and why (``metrics["choices"]``)."""
        cfg, asked = self.config, self._requested
        made = {}
        if asked["season"] is None:
            cfg.season, source = season_length([s.times for s in series], [s.values[:, 0] for s in series])
            made["season"] = {"value": cfg.season, "chosen_by": f"the time column's frequency" if source ==
                              "frequency" else "the autocorrelation of the data"}
        else:
            made["season"] = {"value": cfg.season, "chosen_by": "you"}
        if asked["scale_per_id"] is None:
            cfg.scale_per_id = cfg.id_col is not None and len(series) > 1
            made["scale_per_id"] = {"value": cfg.scale_per_id, "chosen_by": "one scaler per series when there "
                                    "is an id column"}
        else:
            made["scale_per_id"] = {"value": cfg.scale_per_id, "chosen_by": "you"}
        shortest = min(len(s.values) for s in series)
        if asked["transform"] is None and cfg.method == "recursive":
            train_parts = [s.values[:len(s.values) - int(round(len(s.values) * validation)), 0] for s in series]
            proxy_lookback = asked["lookback"] or choices.default_lookback(cfg.season, shortest, 0)
            name, scores = choices.choose_transform(train_parts, cfg.season, proxy_lookback)
            flags = choices.transform_flags(name)
            cfg.log, cfg.difference, cfg.seasonal_difference = (flags["log"], flags["difference"],
                                                                flags["seasonal_difference"])
            made["transform"] = {"value": name, "chosen_by": "rolling-origin validation of a ridge "
                                 "autoregression on the training part (MASE per candidate)", "scores": scores}
        else:
            made["transform"] = {"value": choices.transform_name(cfg.log, cfg.difference, cfg.seasonal_difference),
                                 "chosen_by": "you" if asked["transform"] else "the stateful method's default"}
        if asked["lookback"] is None:
            if cfg.method == "stateful":  # the chunk of truncated back-propagation, a few seasons long
                cfg.lookback = int(min(200, max(8, shortest // 4)))
            else:
                cfg.lookback = choices.default_lookback(cfg.season, shortest, self._offset())
            made["lookback"] = {"value": cfg.lookback, "chosen_by": "two seasons (8 steps without one), at most "
                                "a third of the shortest series" if cfg.method == "recursive" else
                                "a quarter of the shortest series, 8 to 200"}
        else:
            cfg.lookback = asked["lookback"]
            made["lookback"] = {"value": cfg.lookback, "chosen_by": "you"}
        return made

    def _validate(self, series: list, validation: float) -> None:
        """Score the trained model on the held-out origins (one step, and ``K`` steps: the horizon, or a
        season and at least 6 steps), warn when a baseline beats it, and keep the scaled held-out errors
        per step ahead for conformal intervals (see :mod:`.intervals`)."""
        cfg = self.config
        n_targets = len(cfg.target)
        anchors = self._held_out
        self.metrics["validation"] = self._score(anchors, cfg.horizon if cfg.horizon > 1 else 1)
        steps = cfg.horizon if cfg.horizon > 1 else max(6, cfg.season or 1)
        futures = []
        for s, a in anchors:  # exogenous futures padded past the series' end (those steps are not scored)
            if len(cfg.features) == n_targets:
                futures.append(None)
                continue
            future = s.values[a + 1:a + 1 + steps, n_targets:]
            futures.append(np.concatenate([future, np.repeat(future[-1:], steps - len(future), axis=0)]))
        predicted = self._predict(anchors, steps, futures)
        errors = [[] for _ in range(steps)]
        for (s, a), forecast in zip(anchors, predicted):
            scale = naive_scale(s.values[:a + 1, :n_targets], cfg.season or 1)
            truth = s.values[a + 1:a + 1 + steps, :n_targets]
            for k in range(len(truth)):
                errors[k].extend(np.abs(truth[k] - forecast[k]) / scale)
        errors = [e for e in errors if e]
        self.calibration = intervals.calibration_state(errors) if errors else None
        full = max(1, min(steps, max(len(s.values) - 1 - a for s, a in anchors)))
        usable = [(s, a) for s, a in anchors if len(s.values) - 1 - a >= full]
        where = "validation (one step ahead)"
        warned = evaluation.losing_warnings(self.metrics["validation"], where)
        if full > 1:
            self.metrics["validation_multi_step"] = {"steps": full, **self._score(usable, full)}
            where = f"validation ({full} steps ahead)"
            warned += evaluation.losing_warnings({k: v for k, v in self.metrics["validation_multi_step"].items()
                                                  if k != "steps"}, where)
        if self.calibration is not None:
            self.metrics["intervals"] = {"method": "conformal, from the held-out origins",
                                         "calibrated_steps": len(errors), "errors_per_step": len(errors[0])}
        self.metrics["warnings"] = warned

    def cross_validation(self, frame: pd.DataFrame, h: int, n_windows: int = 1, step_size: int | None = None,
                         level: Any = None) -> pd.DataFrame:
        """The trained model's rolling forecasts over the end of every series, like NeuralForecast's
        ``cross_validation``: ``n_windows`` cutoffs ``step_size`` apart (default ``h``), the last ``h``
        rows before the end, each forecast ``h`` steps ahead from the rows up to its cutoff. The model is
        not refitted: fit it on data that ends before the first cutoff for an out-of-sample reading.

        Returns:
            Columns ``unique_id, ds, cutoff, <Model>, [<Model>-lo-<level>, <Model>-hi-<level>, ...], y``
            (``<Model>`` the spec's kind, e.g. ``LSTM``; ``ds``/``cutoff`` row numbers without a time
            column; ``unique_id`` the series id, or ``"series"`` for one series). One target only.
        """
        owner = "Forecaster.cross_validation"
        self._check_trained(owner)
        cfg = self.config
        if len(cfg.target) != 1:
            raise _validation.value_error(owner, "the forecaster", "one target", f"{len(cfg.target)} targets",
                                          "Cross-validate one target at a time.")
        h = self._evaluation_steps(owner, h)
        n_windows = _validation.positive_int(owner, "n_windows", n_windows)
        step_size = h if step_size is None else _validation.positive_int(owner, "step_size", step_size)
        levels = self._levels(owner, level)
        series = framing.split_series(self.config, owner, frame, allow_future=False)
        anchors = self._origins(owner, series, h, n_windows, step_size)
        name = parse_model_spec(cfg.model)["kind"].upper()
        predicted = self._predict(anchors, h, framing.known_futures(cfg, anchors, h))
        rows = []
        for (s, a), values in zip(anchors, predicted):
            bands = self._bands(s, a, values, levels)
            for k in range(h):
                row = {"unique_id": "series" if s.id is None else s.id,
                       "ds": s.times.iloc[a + 1 + k] if s.times is not None else a + 1 + k,
                       "cutoff": s.times.iloc[a] if s.times is not None else a, name: float(values[k, 0])}
                for lvl, (lo, hi) in bands.items():
                    row[f"{name}-lo-{lvl}"], row[f"{name}-hi-{lvl}"] = float(lo[k, 0]), float(hi[k, 0])
                row["y"] = float(s.values[a + 1 + k, 0])
                rows.append(row)
        return pd.DataFrame(rows)

    def evaluate(self, frame: pd.DataFrame, steps: int | None = None, season: int | None = None,
                 n_origins: int = 5, baselines: Any = None, level: Any = None) -> pd.DataFrame:
        """Rolling-origin evaluation on ``frame``: from each of the last ``n_origins`` origins of each series
        (``steps`` apart), forecast ``steps`` ahead and score against what followed. Baselines on the same
        origins: persistence (the last value), seasonal naive (the value one season before; ``season``
        defaults to the one ``fit`` chose) and, with ``baselines="ets,arima"`` (statsforecast installed),
        AutoETS and AutoARIMA. ``level`` (default ``[80, 95]`` when the forecaster has calibrated
        intervals) adds the share of the truths inside each interval.

        Returns:
            One row per method, columns MAE, RMSE, MAPE, sMAPE, MASE [, coverage-<level>...];
            ``.attrs["warnings"]``: plain-words notes for each baseline that beats the model.
        """
        owner = "Forecaster.evaluate"
        self._check_trained(owner)
        steps = self._evaluation_steps(owner, steps)
        n_origins = _validation.positive_int(owner, "n_origins", n_origins)
        names = evaluation.parse_baselines(owner, baselines)
        season = self.config.season if season is None else _validation.positive_int(owner, "season", season)
        levels = self._levels(owner, [80, 95] if level is None and self.calibration else level)
        series = framing.split_series(self.config, owner, frame, allow_future=False)
        anchors = self._origins(owner, series, steps, n_origins, steps)
        scores = self._score(anchors, steps, season=season, baselines=names, levels=levels)
        table = pd.DataFrame(scores).T
        table.attrs["warnings"] = evaluation.losing_warnings(scores, f"evaluation ({steps} steps ahead)")
        return table

    def _evaluation_steps(self, owner: str, steps: int | None) -> int:
        cfg = self.config
        steps = _validation.positive_int(owner, "steps", steps or cfg.horizon)
        if cfg.horizon > 1 and steps > cfg.horizon:
            raise _validation.value_error(owner, "`steps`", f"at most the model's horizon ({cfg.horizon})",
                                          repr(steps), "Evaluate fewer steps, or train with --horizon 1.")
        return steps

    def _origins(self, owner: str, series: list, steps: int, n_origins: int,
                 step_size: int) -> list[tuple]:
        """The last ``n_origins`` origins (last rows seen), ``step_size`` apart, each with ``steps`` rows
        after it, in time order per series."""
        cfg = self.config
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

    def _levels(self, owner: str, level: Any) -> list:
        levels = intervals.parse_levels(owner, level)
        if levels and self.calibration is None:
            raise _validation.value_error(owner, "`level`", "a forecaster with calibrated intervals (fit with "
                                          "validation > 0)", f"level={levels} for one without",
                                          "Train again with a held-out part (--validation 0.2).")
        return levels

    def _bands(self, s: Any, anchor: int, values: np.ndarray, levels: list) -> dict:
        """``{level: (lo, hi)}`` around ``values`` ``(steps, n_targets)`` forecast from ``anchor``."""
        if not levels:
            return {}
        scale = naive_scale(s.values[:anchor + 1, :len(self.config.target)], self.config.season or 1)
        return intervals.bands(values, scale, self.calibration, levels)

    def _score(self, anchors: list[tuple], steps: int, season: int | None = None,
               baselines: Any = (), levels: Any = ()) -> dict:
        """Model and baseline (persistence, seasonal naive, statsforecast ``baselines``) scores over the
        forecasts from ``anchors`` (MASE scaled by each origin's in-sample seasonal naive MAE), with the
        model's interval coverage per level."""
        cfg = self.config
        n_targets = len(cfg.target)
        season = cfg.season or 1 if season is None else season
        model = self._predict(anchors, steps, framing.known_futures(cfg, anchors, steps))
        truth = np.stack([s.values[a + 1:a + 1 + steps, :n_targets] for s, a in anchors])
        histories = [s.values[:a + 1, :n_targets] for s, a in anchors]
        scale = np.stack([naive_scale(h, season) for h in histories])[:, None, :]
        forecasts = {"model": model, **evaluation.naive_forecasts(histories, steps, season),
                     **evaluation.statsforecast_forecasts(histories, steps, season, baselines)}
        scores = evaluation.score(truth, forecasts, scale)
        if levels:
            bands = [self._bands(s, a, m, levels) for (s, a), m in zip(anchors, model)]
            scores["model"].update(evaluation.coverage(truth, {lvl: (np.stack([b[lvl][0] for b in bands]),
                                                                     np.stack([b[lvl][1] for b in bands]))
                                                               for lvl in levels}))
        return scores
