"""``Forecaster``: from a table (one or many series) to a trained model, forecasts and evaluations.

What ``lstmkit train / forecast / evaluate`` run: the command line only parses arguments and reads files.
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

``method="stateful"``: a stateful ``return_sequences`` model reads every series from its first row,
trained in chunks of ``lookback`` steps with the state carried between chunks; it forecasts by warming
its state up on the whole history and carrying it forward (``forecast.stateful``, see
:mod:`.whole_series`). The last ``validation`` fraction of each series' steps is held out.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from .._lazy import pandas as pd
import torch

from .. import _validation
from ..data.checks import describe_rows
from ..data.scaling import SeriesScaler
from ..data.windows import lookback as lookback_pairs
from ..layers import GRU, LSTM, Bidirectional, Dense, Input, Reshape, SimpleRNN
from ..models import Sequential, load_model
from ..saving.atomic import atomic_path
from ..saving.file_limits import parse_json
from ..trainers.streams import StreamState
from ..callbacks.callbacks import EarlyStopping
from ..optimizers.optimizers import Adam
from . import choices, intervals
from .scoring import ScoringMixin
from .stateful import stateful
from .strategies import direct, recursive
from .whole_series import build_sequence_model, check_forward, training_layouts

FORMAT = "lstmkit.forecaster/1"
KINDS = {"lstm": LSTM, "gru": GRU, "rnn": SimpleRNN}
SPEC = re.compile(r"^(bi)?(lstm|gru|rnn)(?::(\d+(?:,\d+)*))?(?:@(0?\.\d+|0))?$")


# -- the model -----------------------------------------------------------------------------------------
def parse_model_spec(spec: str) -> dict:
    """``"[bi]lstm|gru|rnn[:UNITS[,UNITS...]][@DROPOUT]"`` -> its parts, e.g. ``"bilstm:64,32@0.1"``."""
    match = SPEC.match(str(spec).strip().lower())
    if match is None:
        raise _validation.value_error(
            "Forecaster", "`model`", "a spec like 'lstm:32', 'lstm:64,32', 'gru:32', 'bilstm:32@0.1' (kind, "
            "units per layer, optional dropout)", repr(spec))
    bi, kind, units, dropout = match.groups()
    return {"kind": kind, "bidirectional": bool(bi), "units": [int(u) for u in (units or "32").split(",")],
            "dropout": float(dropout or 0.0)}


def build_model(spec: str, lookback: int, n_features: int, n_targets: int, horizon: int) -> Sequential:
    """The stacked recurrent model a spec names: ``(batch, lookback, n_features)`` ->
    ``(batch, n_targets)`` (horizon 1) or ``(batch, horizon, n_targets)``."""
    parts = parse_model_spec(spec)
    layers: list = [Input((lookback, n_features))]
    for i, units in enumerate(parts["units"]):
        layer = KINDS[parts["kind"]](units, return_sequences=i < len(parts["units"]) - 1, dropout=parts["dropout"])
        layers.append(Bidirectional(layer) if parts["bidirectional"] else layer)
    layers.append(Dense(n_targets * horizon))
    if horizon > 1:
        layers.append(Reshape((horizon, n_targets)))
    return Sequential(layers)


MIN_TRAIN, MIN_VALIDATION = 20, 5  # below these a fit and its scores say little (see warn_if_few)


def warn_if_few(unit: str, n_train: int, n_validation: int, validation: float, lookback: int | None) -> None:
    """Warn, naming the counts, when a fit rests on too few training samples or its validation scores
    on too few forecasts to mean much (a 5-row series gives 1 and 1)."""
    few_train = n_train < MIN_TRAIN
    few_val = bool(validation) and n_validation < MIN_VALIDATION
    if not (few_train or few_val):
        return
    scores = f", and its validation scores (metrics.json) rest on {n_validation} forecasts" if few_val else ""
    warnings.warn(f"training on {n_train} {unit} and validating on {n_validation}: too few for a reliable "
                  f"model{scores}. Give longer series (or more of them), or a shorter lookback (now {lookback}).",
                  UserWarning, stacklevel=3)


# -- the configuration ---------------------------------------------------------------------------------
@dataclass
class ForecasterConfig:
    """What a Forecaster frames and how; written to ``forecaster.json``."""

    target: list[str]
    features: list[str] = field(default_factory=list)  # all inputs per step: the targets first
    id_col: str | None = None
    time_col: str | None = None
    lookback: int | None = None
    horizon: int = 1
    model: str = "lstm:32"
    scaler: str = "minmax"
    scale_per_id: bool = False
    difference: bool = False
    log: bool = False
    method: str = "recursive"
    season: int | None = None
    seasonal_difference: bool = False
    ensemble: int = 1


@dataclass
class _Series:
    """One series: its id, values ``(T, F)`` in the features' order, times, and future exogenous rows."""

    id: Any
    values: np.ndarray
    times: pd.Series | None
    future: np.ndarray | None = None  # (steps, n_exogenous): known values of the non-target features


class Forecaster(ScoringMixin):
    """Train, save, load, forecast and evaluate a recurrent forecaster on tabular series.

    Args:
        target: the column(s) to forecast.
        features: the input columns per step besides the targets (exogenous); default none.
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

    Example:
        >>> f = Forecaster("Passengers", time_col="Month")   # season, transform, look-back chosen by fit
        >>> f.fit(frame)
        >>> f.predict(frame, steps=24, level=[80, 95])       # step, Month, Passengers, Passengers-lo-80, ...
    """

    def __init__(self, target: Any, features: Any = None, id_col: str | None = None, time_col: str | None = None,
                 lookback: int | None = None, horizon: int = 1, model: str = "lstm:32", scaler: str = "minmax",
                 scale_per_id: bool | None = None, difference: bool = False, log: bool = False,
                 method: str = "recursive", season: int | None = None, transform: str | None = None,
                 ensemble: int = 1):
        targets = [target] if isinstance(target, str) else list(target)
        extra = [] if features is None else ([features] if isinstance(features, str) else list(features))
        owner = "Forecaster"
        if not targets:
            raise _validation.value_error(owner, "`target`", "at least one column", "none")
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
            target=targets, features=targets + [c for c in extra if c not in targets], id_col=id_col,
            time_col=time_col, lookback=lookback, horizon=_validation.positive_int(owner, "horizon", horizon),
            model=model, scaler=scaler, scale_per_id=bool(scale_per_id), difference=flags["difference"],
            log=flags["log"], method=method, season=season, seasonal_difference=flags["seasonal_difference"],
            ensemble=_validation.positive_int(owner, "ensemble", ensemble))
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
        """The (first) trained model; setting it replaces the whole ensemble with that one model."""
        return self.models[0] if self.models else None

    @model.setter
    def model(self, value: Sequential | None) -> None:
        self.models = [] if value is None else [value]

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
        series = self._split_series(owner, frame, allow_future=False)
        made = self._choose(series, validation)
        self._check_lengths(owner, series, extra=1 if validation else 0)
        if cfg.method == "stateful":
            self._fit_stateful(series, epochs, batch_size, validation, patience, learning_rate, verbose, device,
                               seed)
        else:
            self._fit_windows(series, epochs, batch_size, validation, patience, learning_rate, verbose, device, seed)
        self.metrics = {"choices": made, **self.metrics}
        self.calibration = None
        if validation:
            self._validate(series, validation)
        return self.metrics

    def _fit_windows(self, series: list[_Series], epochs: int, batch_size: int, validation: float, patience: int,
                     learning_rate: float, verbose: Any, device: str, seed: int) -> None:
        """``fit`` for ``method="recursive"``: look-back windows, the last ``validation`` of each series
        held out for early stopping; ``ensemble`` models from seeds ``seed``, ``seed + 1``, ..."""
        cfg = self.config
        windows = [self._window_count(s) for s in series]
        n_val = [self._held_out_count(len(s.values), validation) for s in series]
        fit_rows = [self._model_rows(s)[:w - v - 1 + cfg.lookback + cfg.horizon] for s, w, v in
                    zip(series, windows, n_val)]
        self._fit_scaler(series, fit_rows)
        x_train, y_train, x_val, y_val = [], [], [], []
        for s, w, v in zip(series, windows, n_val):
            scaled = self._scale(self._model_rows(s), s.id)
            x, y = lookback_pairs(scaled, cfg.lookback, cfg.horizon, targets=list(range(len(cfg.target))))
            x_train.append(x[:w - v])
            y_train.append(y[:w - v])
            x_val.append(x[w - v:])
            y_val.append(y[w - v:])
        # the held-out origins: the last input row of each held-out window
        self._held_out = [(s, self._offset() + i + cfg.lookback - 1) for s, w, v in zip(series, windows, n_val)
                          for i in range(w - v, w)]
        x_train, y_train = np.concatenate(x_train), np.concatenate(y_train)
        validation_data = (np.concatenate(x_val), np.concatenate(y_val)) if validation else None
        warn_if_few("windows", len(x_train), int(sum(n_val)), validation, cfg.lookback)
        self.models, epochs_run = [], []
        for member in range(cfg.ensemble):
            torch.manual_seed(seed + member)
            np.random.seed(seed + member)
            model = build_model(cfg.model, cfg.lookback, len(cfg.features), len(cfg.target), cfg.horizon)
            model.compile(optimizer=Adam(learning_rate), loss="mse", device=device)
            callbacks = [EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)] \
                if validation else []
            history = model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=True,
                                validation_data=validation_data, callbacks=callbacks, verbose=verbose)
            self.models.append(model)
            epochs_run.append(len(history.epoch))
            if member == 0:
                self.history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.metrics = {"train_windows": int(len(x_train)), "validation_windows": int(sum(n_val)),
                        "epochs_run": epochs_run[0] if len(epochs_run) == 1 else epochs_run,
                        "lookback": cfg.lookback, "horizon": cfg.horizon, "ensemble": cfg.ensemble,
                        "validation_fraction": validation}

    def _fit_stateful(self, series: list[_Series], epochs: int, batch_size: int, validation: float,
                      patience: int, learning_rate: float, verbose: Any, device: str, seed: int) -> None:
        """``fit`` for ``method="stateful"``: every series in chunks of ``lookback`` steps, one batch slot
        each (``batch_size`` slots at most), the state carried from chunk to chunk."""
        cfg = self.config
        rows = [self._model_rows(s) for s in series]
        n_val = [self._held_out_count(len(s.values), validation) for s in series]
        self._fit_scaler(series, [r[:len(r) - v] for r, v in zip(rows, n_val)])
        scaled = [self._scale(r, s.id) for r, s in zip(rows, series)]
        slots = min(_validation.positive_int("Forecaster.fit", "batch_size", batch_size), len(series))
        torch.manual_seed(seed)
        np.random.seed(seed)
        layout, validation_layout = training_layouts(scaled, n_val, len(cfg.target), slots, cfg.lookback)
        self.model = build_sequence_model(KINDS[parse_model_spec(cfg.model)["kind"]], parse_model_spec(cfg.model),
                                          slots, len(cfg.features), len(cfg.target))
        self.model.compile(optimizer=Adam(learning_rate), loss="mse", device=device)
        callbacks = []
        if validation_layout is not None:
            callbacks.append(EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True))
        warn_if_few("steps", int(sum(len(r) - 1 - v for r, v in zip(rows, n_val))), int(sum(n_val)), validation,
                    cfg.lookback)
        history = self.model.fit(layout, epochs=epochs, validation_data=validation_layout, callbacks=callbacks,
                                 verbose=verbose)
        self.model.reset_states()
        self.history = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.metrics = {"train_steps": int(sum(len(r) - 1 - v for r, v in zip(rows, n_val))),
                        "validation_steps": int(sum(n_val)), "epochs_run": len(history.epoch),
                        "lookback": cfg.lookback, "horizon": 1, "method": "stateful",
                        "validation_fraction": validation}
        self._held_out = [(s, len(s.values) - 1 - k) for s, v in zip(series, n_val) for k in range(v, 0, -1)]

    def _fit_scaler(self, series: list[_Series], fit_rows: list[np.ndarray]) -> None:
        """Fit the scaler on the training part of each series' model rows (one scaler per series with
        ``scale_per_id``)."""
        self.scaler = SeriesScaler(self.config.scaler, per_group=self.config.scale_per_id)
        groups = (np.concatenate([[str(s.id)] * len(r) for s, r in zip(series, fit_rows)])
                  if self.config.scale_per_id else None)
        self.scaler.fit(np.concatenate(fit_rows), groups=groups)

    # -- forecasting -----------------------------------------------------------------------------------
    def predict(self, frame: pd.DataFrame, steps: int | None = None, level: Any = None) -> pd.DataFrame:
        """The same as ``forecast`` (statsforecast's and NeuralForecast's name for it)."""
        return self.forecast(frame, steps=steps, level=level)

    def forecast(self, frame: pd.DataFrame, steps: int | None = None, level: Any = None) -> pd.DataFrame:
        """Forecast every series of ``frame`` ``steps`` ahead from its last rows, in the targets' units.

        With other features than the targets and horizon 1, their future values must be in ``frame``: rows
        at the end of each series with an empty target; ``steps`` defaults to (and may not exceed) their
        number. A horizon-H model reads only past rows (future rows given are ignored); ``steps``
        defaults to H. ``level`` (e.g. ``[80, 95]``) adds conformal prediction intervals.

        Returns:
            One row per series and step: ``[id_col], step, [time_col], *targets`` and, per level and
            target, ``<target>-lo-<level>``, ``<target>-hi-<level>``.
        """
        owner = "Forecaster.forecast"
        self._check_trained(owner)
        cfg = self.config
        levels = self._levels(owner, level)
        series = self._split_series(owner, frame, allow_future=True)
        steps = self._steps(owner, series, steps)
        self._check_lengths(owner, series, extra=0, training=False)
        histories = [(s, len(s.values) - 1) for s in series]
        predicted = self._predict(histories, steps, [s.future[:steps] if s.future is not None else None
                                                     for s in series])
        rows = []
        for (s, anchor), values in zip(histories, predicted):
            times = _future_times(s.times, steps)
            bands = self._bands(s, anchor, values, levels)
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
        series = self._split_series(owner, frame, allow_future=False)
        self._check_lengths(owner, series, extra=1, training=False)
        first = self._offset() + cfg.lookback - 1
        anchors = [(s, a) for s in series for a in range(first, len(s.values) - 1)]
        n_targets = len(cfg.target)
        futures = [s.values[a + 1:a + 2, n_targets:] if len(cfg.features) > n_targets else None for s, a in anchors]
        predicted = self._predict(anchors, 1, futures)[:, 0]
        table = pd.DataFrame({"row": [a + 1 for _, a in anchors]})
        if cfg.id_col is not None:
            table.insert(0, cfg.id_col, [s.id for s, _ in anchors])
        if cfg.time_col is not None:
            table[cfg.time_col] = [s.times.iloc[a + 1] for s, a in anchors]
        for j, name in enumerate(cfg.target):
            table[name] = [s.values[a + 1, j] for s, a in anchors]
            table[f"{name}_predicted"] = predicted[:, j]
        return table

    # -- saving ----------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``model.lstmkit`` and ``forecaster.json`` (framing, scaler, history, metrics) to ``folder``."""
        self._check_trained("Forecaster.save")
        folder = check_output_folder("Forecaster.save", folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = {"format": FORMAT, "config": asdict(self.config), "scaler": self.scaler.get_state(),
                 "history": self.history, "metrics": self.metrics, "calibration": self.calibration}
        text = json.dumps(state, indent=2, default=_json_default)
        members = self.models or [self.model]
        # Every file is written in full before any replaces its predecessor: a crash or a full disk
        # while writing leaves the previous set as it was.
        with contextlib.ExitStack() as stack:
            temporary = [stack.enter_context(atomic_path(folder / _member_file(k))) for k in range(len(members))]
            json_tmp = stack.enter_context(atomic_path(folder / "forecaster.json"))
            for model, tmp in zip(members, temporary):
                model.save(tmp)  # the lstmkit archive (the temporary name has no Keras suffix)
            json_tmp.write_text(text)
        return folder

    @classmethod
    def load(cls, folder: str | Path, safe_mode: bool = True) -> "Forecaster":
        """A Forecaster saved by ``save`` (JSON and safetensors only; nothing is unpickled; the model
        loaded with ``safe_mode`` as in ``load_model``)."""
        folder = Path(folder)
        path = folder / "forecaster.json"
        if not path.is_file():
            raise _validation.value_error("Forecaster.load", "folder", "a folder written by `lstmkit train` "
                                          "(holding forecaster.json and model.lstmkit)", f"{str(folder)!r}")
        state = parse_json(path.read_bytes(), str(path), "forecaster.json")  # bounded size and depth
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise _validation.value_error("Forecaster.load", "forecaster.json", f"format {FORMAT!r}",
                                          repr(state.get("format") if isinstance(state, dict) else state))
        try:
            config = ForecasterConfig(**state["config"])
        except (KeyError, TypeError) as error:
            raise _validation.value_error("Forecaster.load", "forecaster.json", "the framing `lstmkit train` "
                                          "wrote (target, features, lookback, ...)", f"a damaged config ({error})",
                                          "Train again.") from None
        forecaster = cls(config.target, config.features[len(config.target):], config.id_col, config.time_col,
                         config.lookback, config.horizon, config.model, config.scaler, config.scale_per_id,
                         method=config.method, season=config.season, ensemble=config.ensemble,
                         transform=choices.transform_name(config.log, config.difference, config.seasonal_difference))
        forecaster.scaler = SeriesScaler.from_state(state["scaler"])
        forecaster.models = [load_model(folder / _member_file(k), safe_mode=safe_mode) for k in range(config.ensemble)]
        forecaster.history, forecaster.metrics = state.get("history", {}), state.get("metrics", {})
        calibration = state.get("calibration")
        if calibration is not None and not (isinstance(calibration, dict) and isinstance(calibration.get("errors"), list)
                                            and all(isinstance(e, list) and e for e in calibration["errors"])):
            raise _validation.value_error("Forecaster.load", "forecaster.json", "interval calibration as "
                                          "`lstmkit train` wrote it", "a damaged 'calibration' entry", "Train again.")
        forecaster.calibration = calibration
        return forecaster

    # -- internals: tables to series ---------------------------------------------------------------------
    def _split_series(self, owner: str, frame: Any, allow_future: bool) -> list[_Series]:
        cfg = self.config
        if not isinstance(frame, pd.DataFrame):
            raise _validation.type_error(owner, "the data", "a pandas DataFrame", type(frame).__name__)
        wanted = cfg.features + [c for c in (cfg.id_col, cfg.time_col) if c is not None]
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise _validation.value_error(owner, "the data", f"the column(s) {missing}",
                                          f"columns {list(frame.columns)}", "Check the spelling, or pass --target/"
                                          "--features/--id/--time with existing column names.")
        bad = [c for c in cfg.features if not pd.api.types.is_numeric_dtype(frame[c])]
        if bad:
            kinds = ", ".join(f"{c!r} ({frame[c].dtype})" for c in bad)
            raise _validation.type_error(owner, "the data", "numeric target and feature columns", kinds,
                                         "Convert or encode them (e.g. pd.to_numeric, one-hot), or leave them out.")
        frame = frame.copy()
        for column, what in ((cfg.id_col, "series id"), (cfg.time_col, "time")):
            if column is not None and frame[column].isna().any():
                rows = describe_rows(list(frame.index[frame[column].isna()]))
                raise _validation.value_error(owner, "the data", f"a {what} in every row of {column!r}",
                                              f"empty values in rows {rows}", "Fill or drop those rows.")
        if cfg.time_col is not None:
            frame[cfg.time_col] = as_time(owner, frame[cfg.time_col])
            unparsed = frame[cfg.time_col].isna()
            if unparsed.any():  # e.g. "NaT" or "" strings pandas read as dates it could not parse
                raise _validation.value_error(owner, "the data", f"a time in every row of {cfg.time_col!r}",
                                              f"missing times in rows {describe_rows(list(frame.index[unparsed]))}",
                                              "Fill or drop those rows.")
            keys = [cfg.id_col, cfg.time_col] if cfg.id_col else [cfg.time_col]
            frame = frame.sort_values(keys, kind="stable")
            dupes = frame.duplicated(keys, keep=False)
            if dupes.any():
                raise _validation.value_error(owner, "the data", f"one row per {' and '.join(keys)}",
                                              f"duplicates in rows {describe_rows(list(frame.index[dupes]))}",
                                              "Aggregate or drop the duplicated rows first.")
        groups = frame.groupby(cfg.id_col, sort=False) if cfg.id_col else [(None, frame)]
        return [self._one_series(owner, key, part, allow_future) for key, part in groups]

    def _one_series(self, owner: str, key: Any, part: pd.DataFrame, allow_future: bool) -> _Series:
        cfg = self.config
        values = part[cfg.features].to_numpy(dtype=np.float64)
        n_targets = len(cfg.target)
        future = None
        missing_target = np.isnan(values[:, :n_targets]).any(axis=1)
        if allow_future and missing_target.any():
            known = len(values) - int(np.argmin(missing_target[::-1])) if not missing_target.all() else 0
            if missing_target[:known].any() or known == 0:
                raise _validation.value_error(owner, "the data", "empty targets only in the last rows of a series "
                                              "(the future to forecast)", "empty targets in rows "
                                              + describe_rows(list(part.index[:known][missing_target[:known]])),
                                              "Fill or drop those rows.")
            future, values = values[known:, n_targets:], values[:known]
            if future.shape[1] == 0:
                future = None
        bad = ~np.isfinite(values).all(axis=1)
        if bad.any():
            raise _validation.value_error(owner, "the data", "finite values in the target and feature columns",
                                          f"NaN or inf in rows {describe_rows(list(part.index[:len(values)][bad]))}"
                                          + ("" if key is None else f" of series {key!r}"),
                                          "Drop or fill them (e.g. frame.dropna() or frame.interpolate()).")
        if cfg.log and (values[:, :n_targets] <= 0).any():
            rows = list(part.index[:len(values)][(values[:, :n_targets] <= 0).any(axis=1)])
            raise _validation.value_error(owner, "the data", "positive targets (log=True takes their logarithm)",
                                          f"zero or negative targets in rows {describe_rows(rows)}"
                                          + ("" if key is None else f" of series {key!r}"),
                                          "Train without --log, or shift the series above zero.")
        if future is not None and not np.isfinite(future).all():
            raise _validation.value_error(owner, "the data", "known values of the other features in the future "
                                          "rows", f"NaN in the future rows of series {key!r}")
        times = part[cfg.time_col].iloc[:len(values)].reset_index(drop=True) if cfg.time_col else None
        return _Series(key, values, times, future)

    def _check_lengths(self, owner: str, series: list[_Series], extra: int, training: bool = True) -> None:
        cfg = self.config
        need = self._offset() + cfg.lookback + (cfg.horizon + extra if training else max(extra, 0))
        short = [(s.id, len(s.values)) for s in series if len(s.values) < need]
        if short:
            named = ", ".join(f"{i!r}: {n}" if i is not None else str(n) for i, n in short[:5])
            raise _validation.value_error(
                owner, "the data", f"series of at least {need} rows (lookback {cfg.lookback} + horizon "
                f"{cfg.horizon}{f' + {self._offset()} for differencing' if self._offset() else ''}"
                f"{f' + {extra} held out' if extra else ''})", f"shorter series ({named} rows)",
                "Use a shorter --lookback, or drop the short series.")

    def _steps(self, owner: str, series: list[_Series], steps: int | None) -> int:
        cfg = self.config
        if cfg.horizon > 1:  # a direct model reads past rows only: future rows are neither needed nor used
            steps = _validation.positive_int(owner, "steps", cfg.horizon if steps is None else steps)
            if steps > cfg.horizon:
                raise _validation.value_error(owner, "`steps`", f"at most the model's horizon ({cfg.horizon})",
                                              repr(steps), "Forecast fewer steps, or train with --horizon 1 "
                                              "(recursive forecasts of any length).")
            return steps
        available = [len(s.future) for s in series if s.future is not None]
        has_exogenous = len(cfg.features) > len(cfg.target)
        if has_exogenous and len(available) < len(series):
            raise _validation.value_error(owner, "the data", "future rows with the other features' known values "
                                          "(empty targets) at the end of every series",
                                          "a series without such rows", "Append the future rows of "
                                          f"{cfg.features[len(cfg.target):]} with the targets left empty.")
        if steps is None:
            steps = min(available) if available else cfg.horizon
        steps = _validation.positive_int(owner, "steps", steps)
        if has_exogenous and steps > min(available):
            raise _validation.value_error(owner, "`steps`", f"at most the {min(available)} future rows given",
                                          repr(steps), "Add future rows, or forecast fewer steps.")
        return steps

    def held_out_from(self, n_rows: int) -> int | None:
        """The first row (0-based, in time order) of the part of an ``n_rows``-row series that ``fit`` held
        out for validation; None if it held out nothing (or the forecaster predates the record)."""
        count = self._held_out_count(n_rows, float(self.metrics.get("validation_fraction", 0.0)))
        if not count:
            return None
        return n_rows - count if self.config.method == "stateful" else n_rows - self.config.horizon + 1 - count

    def _held_out_count(self, n_rows: int, validation: float) -> int:
        """How many of a series' training examples ``fit`` holds out: windows (recursive) or steps
        (stateful), the last ``validation`` fraction, at least one."""
        if not validation:
            return 0
        cfg = self.config
        usable = n_rows - self._offset() - (1 if cfg.method == "stateful" else cfg.lookback + cfg.horizon - 1)
        return max(1, int(round(usable * validation)))

    # -- internals: transforms -------------------------------------------------------------------------------
    def _offset(self) -> int:
        """Rows the transform consumes at the start of a series (1 differencing, a season seasonal)."""
        if self.config.seasonal_difference:
            return int(self.config.season)
        return 1 if self.config.difference else 0

    def _model_rows(self, s: _Series) -> np.ndarray:
        """The series as the model sees it before scaling: the targets' logarithms with ``log``, then their
        step-to-step changes with ``difference``; the other features as they are."""
        n = len(self.config.target)
        targets = np.log(s.values[:, :n]) if self.config.log else s.values[:, :n]
        lag = self._offset()
        if not lag:
            return np.concatenate([targets, s.values[:, n:]], axis=1)
        return np.concatenate([targets[lag:] - targets[:-lag], s.values[lag:, n:]], axis=1)

    def _window_count(self, s: _Series) -> int:
        return len(s.values) - self._offset() - self.config.lookback - self.config.horizon + 1

    def _scale(self, rows: np.ndarray, series_id: Any) -> np.ndarray:
        groups = [str(series_id)] * len(rows) if self.config.scale_per_id else None
        return self.scaler.transform(rows, groups=groups)

    def _predict(self, histories: list[tuple[_Series, int]], steps: int, futures: list) -> np.ndarray:
        """Forecasts ``(n, steps, n_targets)`` in target units, each from the rows up to its anchor index."""
        cfg = self.config
        if cfg.method == "stateful":
            return self._to_units(histories, self._predict_stateful(self.model, histories, steps, futures))
        n_targets, n_features = len(cfg.target), len(cfg.features)
        windows = []
        for s, anchor in histories:
            rows = self._model_rows(_Series(s.id, s.values[:anchor + 1], None))
            windows.append(self._scale(rows, s.id)[-cfg.lookback:])
        x = np.stack(windows)
        exogenous = None
        if cfg.horizon == 1 and n_features > n_targets:
            exogenous = np.stack([self._scale_exogenous(f, s.id) for f, (s, _) in zip(futures, histories)])
        members = []
        for model in self.models:  # the ensemble's forecasts, averaged in the targets' units
            if cfg.horizon == 1:
                scaled = recursive(model, x, steps, targets=list(range(n_targets)), exogenous=exogenous,
                                   window=cfg.lookback)
            else:
                scaled = direct(model, x)[:, :steps]
            members.append(self._to_units(histories, scaled.reshape(len(histories), steps, n_targets)))
        return np.mean(members, axis=0)

    def _predict_stateful(self, model: Sequential, histories: list[tuple[_Series, int]], steps: int,
                          futures: list) -> np.ndarray:
        """Scaled forecasts ``(n, steps, n_targets)`` of the stateful method. One step ahead: one pass over
        each series serves all its anchors (step t's output depends on rows <= t only). Further: per
        anchor, a warm-up over the history, then carried steps."""
        cfg = self.config
        n_targets = len(cfg.target)
        out = np.empty((len(histories), steps, n_targets))
        offset = self._offset()
        if steps == 1:
            state, by_series = StreamState(model), {}
            for i, (s, anchor) in enumerate(histories):
                by_series.setdefault(id(s), (s, []))[1].append((i, anchor))
            for s, items in by_series.values():
                last = max(anchor for _, anchor in items)
                rows = self._scale(self._model_rows(_Series(s.id, s.values[:last + 1], None)), s.id)
                state.reset([0])
                outputs = state.predict(rows[None].astype(np.float32), [0])[0]
                for i, anchor in items:
                    out[i, 0] = outputs[anchor - offset]
            return out
        for i, ((s, anchor), future) in enumerate(zip(histories, futures)):
            rows = self._scale(self._model_rows(_Series(s.id, s.values[:anchor + 1], None)), s.id)
            exogenous = None if future is None else self._scale_exogenous(future, s.id)[None]
            out[i] = stateful(model, rows[None].astype(np.float32), steps, targets=list(range(n_targets)),
                              exogenous=exogenous)[0]
        return out

    def _to_units(self, histories: list[tuple[_Series, int]], scaled: np.ndarray) -> np.ndarray:
        """Scaled model outputs ``(n, steps, n_targets)`` back in the targets' units (inverse scaling, then
        the changes added up from the last observed level with ``difference``, ``exp`` with ``log``)."""
        cfg = self.config
        steps, n_targets = scaled.shape[1], scaled.shape[2]
        out = np.empty_like(scaled)
        for i, (s, anchor) in enumerate(histories):
            groups = [str(s.id)] * steps if cfg.scale_per_id else None
            values = self.scaler.inverse_transform(scaled[i], columns=list(range(n_targets)), groups=groups)
            values = np.asarray(values).reshape(steps, n_targets)
            if cfg.difference:  # the changes, added up from the last observed level
                last = s.values[anchor, :n_targets]
                values = (np.log(last) if cfg.log else last) + np.cumsum(values, axis=0)
            elif cfg.seasonal_difference:  # each step: the level one season before plus the change
                season = int(cfg.season)
                seen = s.values[anchor + 1 - season:anchor + 1, :n_targets]
                path = list(np.log(seen) if cfg.log else seen)
                for k in range(steps):
                    path.append(path[-season] + values[k])
                values = np.asarray(path[season:])
            out[i] = np.exp(values) if cfg.log else values
        return out

    def _scale_exogenous(self, future: np.ndarray, series_id: Any) -> np.ndarray:
        n_targets = len(self.config.target)
        rows = np.concatenate([np.zeros((len(future), n_targets)), future], axis=1)
        return self._scale(rows, series_id)[:, n_targets:]

    def _check_trained(self, owner: str) -> None:
        if self.model is None or self.scaler is None:
            raise _validation.value_error(owner, "the forecaster", "a trained or loaded Forecaster",
                                          "one that was never fitted", "Call fit(frame) or Forecaster.load(folder).")


def check_output_folder(owner: str, folder: str | Path) -> Path:
    """``folder`` as a Path, or a FileExistsError if a file (not a folder) has that name."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(_validation.message(owner, "the output folder", "a folder (new or existing)",
                                                  f"{str(folder)!r}, an existing file",
                                                  "Choose another --out, or move the file."))
    return folder


def as_time(owner: str, column: pd.Series) -> pd.Series:
    """A time column as numbers or datetimes (dates read from a CSV are text), or a TypeError."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_datetime64_any_dtype(column):
        return column
    try:
        return pd.to_datetime(column)
    except (ValueError, TypeError):
        raise _validation.type_error(owner, "the time column", "numbers or dates", f"{column.name!r} holding "
                                     f"e.g. {column.iloc[0]!r}", "Pass a column of numbers or ISO dates.") from None


def _future_times(times: pd.Series | None, steps: int) -> list:
    if times is None or len(times) == 0:
        return [None] * steps
    if pd.api.types.is_datetime64_any_dtype(times):
        with warnings.catch_warnings():  # pandas 3 announces that it will return an offset; both work below
            warnings.simplefilter("ignore")
            freq = pd.infer_freq(times) if len(times) >= 3 else None  # e.g. "MS", "D"
        if freq is not None:
            return list(pd.date_range(times.iloc[-1], periods=steps + 1, freq=freq)[1:])
    delta = times.diff().median() if len(times) > 1 else 1
    if pd.api.types.is_integer_dtype(times) and float(delta).is_integer():
        delta = int(delta)  # step numbers stay integers (the median of integer differences is a float)
    return [times.iloc[-1] + delta * (k + 1) for k in range(steps)]


def _member_file(k: int) -> str:
    """The ensemble's k-th model file: ``model.lstmkit``, then ``model-2.lstmkit``, ..."""
    return "model.lstmkit" if k == 0 else f"model-{k + 1}.lstmkit"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
