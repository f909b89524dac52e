"""``Forecaster``: from a table (one or many series) to a trained model, forecasts and evaluations.

What ``lstmkit train / forecast / evaluate`` run: the command line only parses arguments and reads files.
The Forecaster composes the pieces: :mod:`.specs` (the config, model spec), :mod:`.framing` (tables to
series), :mod:`.transforms` (log, differencing, scaling), :mod:`.windowed` and :mod:`.whole_series`
(the two methods' training and prediction), :mod:`.choices` (what fit chooses), :mod:`.scoring`
(validation scores, evaluate, cross_validation), :mod:`.probabilistic` (quantile and likelihood heads,
``loss=``) and :mod:`.storage` (its folder).
A ``Forecaster`` holds the framing (target and feature columns, series id and time columns, look-back,
horizon, optional differencing), the scaler fitted on the training part, and the model; it saves all of
it to a folder (``model.lstmkit`` + ``forecaster.json``, no pickle) and loads it back.

Framing, ``method="recursive"`` (default): for every series (rows grouped by ``id_col``, ordered by
``time_col``), each ``lookback`` rows of the features (targets first, then the other features) are an
input and the next ``horizon`` rows of the targets its output. The last ``validation`` fraction of each
series' windows is held out. Horizon 1 models forecast further by feeding predictions back into the last
window (``forecast.recursive``, future values of the other features taken from the table's future
rows); horizon H models predict H steps at once (direct) from the last window of every feature, so
they need no future rows (future rows given are ignored).
Past covariates (``past_features``) join the window but are never needed after the origin; static
covariates (``static_features``) are repeated along it (see :mod:`.covariates`).

``method="stateful"``: a stateful ``return_sequences`` model reads every series from its first row,
trained in chunks of ``lookback`` steps with the state carried between chunks; it forecasts by warming
its state up on the whole history and carrying it forward (``forecast.stateful``, see
:mod:`.whole_series`). The last ``validation`` fraction of each series' steps is held out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from .._lazy import pandas as pd

from .. import _validation
from ..data.scaling import SeriesScaler
from ..models import Sequential
from . import (choices, combination, covariates, framing, intervals, probabilistic, scoring, storage, streamed,
               whole_series, windowed)
from .builders import KINDS, build_model, check_forward
from .framing import Series, as_time
from .specs import SPEC, ForecasterConfig, parse_model_spec
from .storage import FORMAT, check_output_folder
from .training import MIN_TRAIN, MIN_VALIDATION, TrainOptions, warn_if_few

_Series = Series  # the old private name

__all__ = ["Forecaster", "ForecasterConfig", "parse_model_spec", "build_model", "check_output_folder", "as_time"]


class Forecaster:
    """Train, save, load, forecast and evaluate a recurrent forecaster on tabular series.

    Args:
        target: the column(s) to forecast.
        features: future-known covariates: input columns per step besides the targets whose values are
            known for the forecast rows too (NeuralForecast's ``futr_exog_list``); default none.
        past_features: past covariates (``hist_exog_list``): inputs known only up to the forecast origin,
            never needed in forecast rows. A horizon-1 model with them forecasts one step; use
            ``horizon=H`` for H steps. Default none.
        static_features: per-series constants (``stat_exog_list``; needs ``id_col``): numbers standardised,
            text one-hot encoded, fed to every window. Default none. See :mod:`.covariates`.
        id_col: the column naming each series (several series in one table); default one series.
        time_col: the column to order rows by (numbers or dates); default the table's order.
        lookback: steps per input window; default two seasons (8 steps without one), at most a third of
            the shortest series. With ``method="stateful"``: the steps per training chunk, default
            ``min(200, max(8, shortest // 4))``.
        horizon: steps the model predicts at once (1 = one step, forecast recursively). Default 1.
        model: ``"lstm:32"`` (default), ``"lstm:64,32"``, ``"gru:32"``, ``"bilstm:32@0.1"``, ...
        scaler: ``"minmax"`` (default), ``"standard"`` or ``"robust"``, fitted on the training part.
        scale_per_id: one scaler per series instead of one for all. Default None: yes when ``id_col``
            names several series.
        difference: model the step-to-step changes of the targets (trending series). Default False.
        log: model the logarithm of the targets (growth in percent; seasonality that grows with the
            level); the targets must be positive. Default False.
        season: steps per season (seasonal naive, MASE, look-back, seasonal differencing). Default None:
            from the time column's frequency, else from the data (see :mod:`.seasonality`).
        transform: ``"none"``, ``"log"``, ``"difference"``, ``"log-difference"``,
            ``"seasonal-difference"`` or ``"log-seasonal-difference"``. Default None (or ``"auto"``): with
            neither ``difference`` nor ``log``, chosen by rolling-origin validation (see :mod:`.choices`).
        ensemble: models trained from consecutive seeds whose forecasts are averaged. Default 1.
        method: ``"recursive"`` (default): a window model, its forecasts fed back into the last window;
            ``"stateful"``: a model reading whole series with carried state, forecasting by carrying
            (h, c) forward (horizon 1, forward layers; ``lookback`` is then the chunk length of
            truncated back-propagation and the shortest warm-up).
        loss: ``"mse"`` (default; intervals by split conformal calibration), or a probabilistic head
            whose intervals the network predicts itself (see :mod:`.probabilistic`): ``"quantile"``
            (quantile regression, pinball loss; the point forecast is the median), ``"normal"`` or
            ``"student_t"`` (location and scale by negative log-likelihood; the point forecast is the
            location). These need ``method="recursive"``. A ``horizon=H`` head gives H steps of
            quantiles directly (and refuses differencing); a horizon-1 head's intervals past the first
            step come from sampled paths, each taken back to the targets' units on its own, differencing
            included (see :mod:`.sample_paths`).
        quantile_levels: the interval levels a ``loss="quantile"`` head learns; default ``[80, 95]``.
        combine: the point forecast: ``"network"``, ``"seasonal-naive"``, ``"naive"``,
            ``"network+seasonal-naive"`` or ``"network+naive"`` (equal weights) for every series. Default
            None (or ``"auto"``): chosen per series on the held-out origins (see :mod:`.combination`).

    Example:
        >>> f = Forecaster("Passengers", time_col="Month")   # season, transform, look-back chosen by fit
        >>> f.fit(frame)                                     # or f.fit_files("data/*.parquet"): streamed
        >>> f.predict(frame, steps=24, level=[80, 95])       # step, Month, Passengers, Passengers-lo-80, ...
    """

    def __init__(self, target: Any, features: Any = None, id_col: str | None = None, time_col: str | None = None,
                 lookback: int | None = None, horizon: int = 1, model: str = "lstm:32", scaler: str = "minmax",
                 scale_per_id: bool | None = None, difference: bool = False, log: bool = False,
                 method: str = "recursive", season: int | None = None, transform: str | None = None,
                 ensemble: int = 1, past_features: Any = None, static_features: Any = None, loss: str = "mse",
                 quantile_levels: Any = None, combine: str | None = None):
        targets = [target] if isinstance(target, str) else list(target)
        extra = covariates.as_list(features)
        past, static = covariates.as_list(past_features), covariates.as_list(static_features)
        owner = "Forecaster"
        if not targets:
            raise _validation.value_error(owner, "`target`", "at least one column", "none")
        covariates.check_kinds(owner, targets, [c for c in extra if c not in targets], past, static)
        if method == "stateful" and (past or static):
            raise _validation.value_error(owner, "`method`", "'recursive' with past or static features",
                                          "'stateful'", "Use method='recursive' (the default).")
        loss, quantile_levels = probabilistic.check_loss(owner, loss, quantile_levels)
        if method == "stateful" and loss != "mse":
            raise _validation.value_error(owner, "`loss`", "'mse' with method='stateful' (its intervals are "
                                          "conformal)", repr(loss),
                                          f"Use method='recursive' (the default) for loss={loss!r}.")
        if lookback is not None:
            lookback = _validation.positive_int(owner, "lookback", lookback)
        parse_model_spec(model)
        _validation.choice(owner, "scaler", scaler, ("minmax", "standard", "robust"))
        _validation.choice(owner, "method", method, ("recursive", "stateful"))
        if transform is not None:
            _validation.choice(owner, "transform", transform, ("auto",) + choices.TRANSFORMS)
            if transform != "auto" and (difference or log):
                raise _validation.value_error(owner, "`transform`", "either transform or difference/log",
                                              f"transform={transform!r} with difference={difference}, log={log}")
        if season is not None:
            season = _validation.positive_int(owner, "season", season)
        combine = "auto" if combine is None else combine
        _validation.choice(owner, "combine", combine, ("auto",) + tuple(combination.CANDIDATES))
        if loss != "mse" and combine not in ("auto", "network"):
            raise _validation.value_error(owner, "`combine`", "'auto' or 'network' with a probabilistic head "
                                          "(its intervals describe the network alone)", repr(combine),
                                          "Use loss='mse' (conformal intervals) to combine with baselines.")
        fixed = transform not in (None, "auto") or difference or log
        flags = choices.transform_flags(transform) if transform not in (None, "auto") else {
            "log": bool(log), "difference": bool(difference), "seasonal_difference": False}
        # what was asked for; None = chosen by fit from the data (see lstmkit.forecast.choices)
        self._requested = {"transform": choices.transform_name(**flags) if fixed else None, "lookback": lookback,
                           "season": season, "scale_per_id": scale_per_id}
        if method == "stateful" and horizon != 1:
            raise _validation.value_error(owner, "`horizon`", "1 with method='stateful' (it forecasts step by "
                                          "step, carrying the state)", repr(horizon),
                                          "Use horizon=1, or method='recursive' for a direct multi-step head.")
        self.config = ForecasterConfig(
            target=targets, features=targets + [c for c in extra if c not in targets] + past, id_col=id_col,
            time_col=time_col, lookback=lookback, horizon=_validation.positive_int(owner, "horizon", horizon),
            model=model, scaler=scaler, scale_per_id=bool(scale_per_id), difference=flags["difference"],
            log=flags["log"], method=method, season=season, seasonal_difference=flags["seasonal_difference"],
            ensemble=_validation.positive_int(owner, "ensemble", ensemble), past_features=past,
            static_features=static, loss=loss, quantile_levels=quantile_levels, combine=combine)
        probabilistic.check_transform(owner, self.config)
        if method == "stateful":
            check_forward(parse_model_spec(model))
            if ensemble != 1:
                raise _validation.value_error(owner, "`ensemble`", "1 with method='stateful'", repr(ensemble),
                                              "Use method='recursive' for ensembles.")
        self.models: list[Sequential] = []  # the ensemble's members (``model`` is the first)
        self.scaler: SeriesScaler | None = None
        self.history: dict = {}
        self.metrics: dict = {}
        self.calibration: dict | None = None  # conformal errors per step (see .intervals)

    @property
    def model(self) -> Sequential | None:
        """The (first) trained model; setting it replaces the whole ensemble with that one model (and
        forecasts with it alone, the combination having been validated for the replaced models; unless
        ``combine=`` fixed one, which stays)."""
        return self.models[0] if self.models else None

    @model.setter
    def model(self, value: Sequential | None) -> None:
        self.models = [] if value is None else [value]
        made = (self.metrics or {}).get("choices") if hasattr(self, "metrics") else None
        if made and "combination" in made:
            fixed = None if self.config.combine == "auto" else self.config.combine
            made["combination"] = combination.unvalidated(fixed, "the model was replaced after fit: not validated")

    # -- training ------------------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, epochs: int | None = None, batch_size: int = 32, validation: float = 0.2,
            patience: int | None = None, learning_rate: float | None = None, seed: int = 0, verbose: Any = 1,
            device: str = "auto") -> dict:
        """Frame ``frame``, choose what was left to choose (season, transform, per-series scaling,
        look-back: see ``metrics["choices"]``), fit the scaler on the training part, train ``ensemble``
        models (seeds ``seed``, ``seed + 1``, ...) with early stopping on the held-out windows, then score
        them there against persistence and seasonal naive (one step and several steps ahead) and keep
        their held-out errors to calibrate conformal prediction intervals.

        ``epochs`` / ``patience`` / ``learning_rate`` default to 300 / 30 / 2e-3 (recursive) and
        600 / 100 / 3e-3 (stateful: an epoch is one pass of ``batch_size`` series at a time, chunk by
        chunk, so a few series make few, noisy updates per epoch).

        Returns:
            ``self.metrics``: ``{"choices": {...}, "validation": {"model": {...}, "persistence": {...},
            "seasonal_naive": {...}}, "validation_multi_step": {...}, "warnings": [...], ...}`` with MAE,
            RMSE, MAPE, sMAPE in the targets' units and MASE.
        """
        owner = "Forecaster.fit"
        cfg = self.config
        stateful_method = cfg.method == "stateful"
        epochs = (600 if stateful_method else 300) if epochs is None else epochs
        patience = (100 if stateful_method else 30) if patience is None else patience
        learning_rate = (3e-3 if stateful_method else 2e-3) if learning_rate is None else learning_rate
        validation = float(validation)
        if not 0.0 <= validation < 1.0:
            raise _validation.value_error(owner, "`validation`", "a fraction in [0, 1)", repr(validation))
        if self._requested["transform"] is None:  # a refit chooses again
            cfg.log = cfg.difference = cfg.seasonal_difference = False
        if cfg.static_features:
            if not isinstance(frame, pd.DataFrame):
                raise _validation.type_error(owner, "the data", "a pandas DataFrame", type(frame).__name__)
            cfg.static_encoding = covariates.fit_encoding(owner, cfg, frame)
        series = framing.split_series(cfg, owner, frame, allow_future=False)
        made = choices.resolve(cfg, self._requested, series, validation)
        framing.check_lengths(cfg, owner, series, extra=1 if validation else 0)
        options = TrainOptions(epochs, batch_size, validation, patience, learning_rate, verbose, device, seed)
        fitted = (whole_series if stateful_method else windowed).fit(cfg, series, options)
        self.models, self.scaler, self.history, self._held_out = (fitted.models, fitted.scaler, fitted.history,
                                                                  fitted.held_out)
        self._calibration_origins = fitted.calibration or fitted.held_out
        self.metrics = {"choices": made, **fitted.metrics, "covariates": covariates.describe(cfg), "loss": cfg.loss}
        if probabilistic.is_probabilistic(cfg):
            self.metrics["intervals"] = probabilistic.describe(cfg)
        self.calibration = None
        if validation:
            scoring.validate(self)
        else:
            self.metrics["choices"]["combination"] = combination.unvalidated(
                None if cfg.combine == "auto" else cfg.combine, "no held-out part (validation=0)")
        return self.metrics

    def fit_files(self, paths: Any, epochs: int | None = None, batch_size: int = 32, validation: float = 0.2,
                  patience: int | None = None, learning_rate: float | None = None, seed: int = 0, verbose: Any = 1,
                  device: str = "auto", chunk_rows: int = 100_000) -> dict:
        """Train on a long table larger than memory, streamed from its files (a glob such as
        ``"data/*.parquet"``, a folder of Parquet files, or a list; rows sorted by id, then time, in each
        file), with the window method; the same folder as ``fit`` is saved afterwards.

        Scaling statistics come from one pass over the training rows (per series, or global past
        ``streamed.PER_ID_LIMIT`` series), the season from a bounded sample, the transform is ``none``;
        validation is each series' last ``validation`` fraction of windows, disjoint in time from the
        training windows' targets (see :mod:`.streamed`). Under torchrun each rank reads its own pieces.

        Returns:
            ``self.metrics``: ``{"streamed": True, "choices": {...}, "train_windows", "validation_windows",
            "validation_scaled": {"model": {MAE, RMSE}, "persistence": {...}}, "windows_per_second", "loss",
            ...}``. A probabilistic head (``loss != "mse"``) adds ``"intervals"`` and, per level, the share
            of held-out targets inside its band, ``validation_scaled["model"]["coverage-<level>"]``: its own
            intervals are streamed training's only ones (no conformal calibration).
        """
        epochs = 300 if epochs is None else epochs
        options = TrainOptions(_validation.positive_int("Forecaster.fit_files", "epochs", epochs),
                               _validation.positive_int("Forecaster.fit_files", "batch_size", batch_size),
                               validation, 30 if patience is None else patience,
                               2e-3 if learning_rate is None else learning_rate, verbose, device, seed)
        return streamed.fit(self, paths, options, chunk_rows=chunk_rows)

    # -- forecasting -----------------------------------------------------------------------------------
    def predict(self, frame: pd.DataFrame, steps: int | None = None, level: Any = None) -> pd.DataFrame:
        """The same as ``forecast`` (statsforecast's and NeuralForecast's name for it)."""
        return self.forecast(frame, steps=steps, level=level)

    def forecast(self, frame: pd.DataFrame, steps: int | None = None, level: Any = None) -> pd.DataFrame:
        """Forecast every series of ``frame`` ``steps`` ahead from its last rows, in the targets' units.

        With other features than the targets and horizon 1, their future values must be in ``frame``: rows
        at the end of each series with an empty target; ``steps`` defaults to (and may not exceed) their
        number. A horizon-H model reads only past rows (future rows given are ignored); ``steps``
        defaults to H. ``level`` (e.g. ``[80, 95]``) adds prediction intervals: conformal, or the
        probabilistic head's (``loss``; a quantile head gives only the levels it was trained for).

        Returns:
            One row per series and step: ``[id_col], step, [time_col], *targets`` and, per level and
            target, ``<target>-lo-<level>``, ``<target>-hi-<level>``.
        """
        owner = "Forecaster.forecast"
        self._check_trained(owner)
        cfg = self.config
        series = framing.split_series(cfg, owner, frame, allow_future=True)
        steps = framing.forecast_steps(cfg, owner, series, steps)
        levels = scoring.checked_levels(self, owner, level)
        framing.check_lengths(cfg, owner, series, extra=0, training=False)
        histories = [(s, len(s.values) - 1) for s in series]
        predicted, banded = scoring.forecasts_with_bands(self, histories, steps, [
            s.future[:steps] if s.future is not None else None for s in series], levels)
        rows = []
        for (s, anchor), values, bands in zip(histories, predicted, banded):
            times = framing.future_times(s.times, steps)
            for k in range(steps):
                row = {} if cfg.id_col is None else {cfg.id_col: s.id}
                row["step"] = k + 1
                if cfg.time_col is not None:
                    row[cfg.time_col] = times[k]
                row.update({name: float(values[k, j]) for j, name in enumerate(cfg.target)})
                for lvl, (lo, hi) in bands.items():
                    for j, name in enumerate(cfg.target):
                        lo_name, hi_name = intervals.column_names(name, lvl)
                        row[lo_name], row[hi_name] = float(lo[k, j]), float(hi[k, j])
                rows.append(row)
        return pd.DataFrame(rows)

    def one_step(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model's one-step-ahead prediction at every row of ``frame`` that has a full window before it
        (in-sample fit and held-out alike), next to the truth: ``[id_col], row, [time_col], <target>,
        <target>_predicted`` — what the validation plot draws."""
        owner = "Forecaster.one_step"
        self._check_trained(owner)
        cfg = self.config
        series = framing.split_series(cfg, owner, frame, allow_future=False)
        framing.check_lengths(cfg, owner, series, extra=1, training=False)
        first = framing.offset(cfg) + cfg.lookback - 1
        anchors = [(s, a) for s in series for a in range(first, len(s.values) - 1)]
        predicted = self._predict(anchors, 1, framing.known_futures(cfg, anchors, 1))[:, 0]
        table = pd.DataFrame({"row": [a + 1 for _, a in anchors]})
        if cfg.id_col is not None:
            table.insert(0, cfg.id_col, [s.id for s, _ in anchors])
        if cfg.time_col is not None:
            table[cfg.time_col] = [s.times.iloc[a + 1] for s, a in anchors]
        for j, name in enumerate(cfg.target):
            table[name] = [s.values[a + 1, j] for s, a in anchors]
            table[f"{name}_predicted"] = predicted[:, j]
        return table

    # -- scoring (see :mod:`.scoring`) ---------------------------------------------------------------
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
        return scoring.evaluate(self, frame, steps=steps, season=season, n_origins=n_origins, baselines=baselines,
                                level=level)

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
        return scoring.cross_validation(self, frame, h, n_windows=n_windows, step_size=step_size, level=level)

    # -- saving ----------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``model.lstmkit`` and ``forecaster.json`` (framing, scaler, history, metrics) to ``folder``
        (see :mod:`.storage`)."""
        self._check_trained("Forecaster.save")
        return storage.save(self, folder)

    @classmethod
    def load(cls, folder: str | Path, safe_mode: bool = True, compile: bool = True) -> "Forecaster":
        """A Forecaster saved by ``save`` (JSON and safetensors only; nothing is unpickled; the model
        loaded with ``safe_mode`` as in ``load_model``). ``compile=False`` skips restoring the models'
        optimizers (they can still predict; building an optimizer costs torch 1-2 s of imports), as
        ``lstmkit forecast`` / ``evaluate`` do."""
        config, state = storage.read_state(folder)
        n_targets = len(config.target)
        forecaster = cls(config.target, config.features[n_targets:n_targets + covariates.n_future(config)],
                         config.id_col, config.time_col,
                         config.lookback, config.horizon, config.model, config.scaler, config.scale_per_id,
                         method=config.method, season=config.season, ensemble=config.ensemble,
                         transform=choices.transform_name(config.log, config.difference, config.seasonal_difference),
                         past_features=config.past_features, static_features=config.static_features,
                         loss=config.loss, quantile_levels=config.quantile_levels or None,
                         combine=config.combine)
        forecaster.config.static_encoding = config.static_encoding
        return storage.restore(forecaster, folder, state, safe_mode, compile)

    # -- the parts -----------------------------------------------------------------------------------------
    def held_out_from(self, n_rows: int) -> int | None:
        """The first row (0-based, in time order) of the part of an ``n_rows``-row series that ``fit`` held
        out for validation; None if it held out nothing (or the forecaster predates the record)."""
        cfg = self.config
        count = framing.held_out_count(cfg, n_rows, float(self.metrics.get("validation_fraction", 0.0)))
        if not count:
            return None
        return n_rows - count if cfg.method == "stateful" else n_rows - cfg.horizon + 1 - count

    def _offset(self) -> int:
        """Rows the transform consumes at the start of a series (1 differencing, a season seasonal)."""
        return framing.offset(self.config)

    def _predict(self, histories: list[tuple[Series, int]], steps: int, futures: list) -> np.ndarray:
        """Forecasts ``(n, steps, n_targets)`` in target units, each from the rows up to its anchor index."""
        if self.config.method == "stateful":
            model = whole_series.predict(self.config, self.scaler, self.model, histories, steps, futures)
        else:
            model = windowed.predict(self.config, self.scaler, self.models, histories, steps, futures)
        return combination.apply(self, histories, steps, model)  # the network alone unless validated

    def _check_trained(self, owner: str) -> None:
        if self.model is None or self.scaler is None:
            raise _validation.value_error(owner, "the forecaster", "a trained or loaded Forecaster",
                                          "one that was never fitted", "Call fit(frame) or Forecaster.load(folder).")
