"""What both Forecaster methods share when training: the options, the compiled fit with early
stopping on the held-out part, the record a method returns, and the warning on too little data."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from ..data.scaling import SeriesScaler
from ..models import Sequential
from ..callbacks.callbacks import EarlyStopping
from ..optimizers.optimizers import Adam

MIN_TRAIN, MIN_VALIDATION = 20, 5  # below these a fit and its scores say little (see warn_if_few)


@dataclass
class TrainOptions:
    """``Forecaster.fit``'s training arguments, resolved (defaults per method filled in)."""

    epochs: int
    batch_size: int
    validation: float
    patience: int
    learning_rate: float
    verbose: Any
    device: str
    seed: int


@dataclass
class Fitted:
    """What a method's ``fit`` returns: the ensemble's models, the scaler, the first model's history,
    the training counts for ``metrics``, the held-out origins ``[(series, anchor row), ...]`` and those of
    them early stopping did not see (``calibration``, for the intervals; empty: use ``held_out``)."""

    models: list[Sequential]
    scaler: SeriesScaler
    history: dict
    metrics: dict
    held_out: list = field(default_factory=list)
    calibration: list = field(default_factory=list)  # held-out origins early stopping did not see


def train(model: Sequential, options: TrainOptions, x: Any, y: Any = None, validation_data: Any = None,
          shuffle: bool = True, loss: Any = "mse") -> Any:
    """Compile ``model`` (Adam at ``options.learning_rate``, ``loss``: MSE unless a probabilistic head's)
    and fit it, stopping early on
    ``val_loss`` (best weights restored) when there is ``validation_data``; returns the History."""
    model.compile(optimizer=Adam(options.learning_rate), loss=loss, device=options.device)
    callbacks = [] if validation_data is None else [
        EarlyStopping(monitor="val_loss", patience=options.patience, restore_best_weights=True)]
    arguments = {} if y is None else {"batch_size": options.batch_size, "shuffle": shuffle}
    return model.fit(x, y, epochs=options.epochs, validation_data=validation_data, callbacks=callbacks,
                     verbose=options.verbose, **arguments)


def history_record(history: Any) -> dict:
    """A History's per-epoch values as plain floats (JSON)."""
    return {k: [float(v) for v in vals] for k, vals in history.history.items()}


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
