"""The three kinds of covariates, as NeuralForecast (``futr/hist/stat_exog_list``) and Darts
(future / past / static covariates) name them.

* future-known (``features``): values known for the forecast rows too; a horizon-1 model reads them
  from the forecast table's rows with empty targets.
* past (``past_features``): values known only up to the forecast origin. They enter the look-back window
  and are never needed for forecast rows. A horizon-1 model forecasts one step only (it cannot feed
  back values it does not predict); train with ``horizon=H`` for H steps at once (direct).
* static (``static_features``): one value per series, fed to every window as constant input columns.
  Numeric statics are standardised over the series (mean and scale saved), text statics one-hot
  encoded (the category list saved); both bypass the per-step scaler. Saved in ``forecaster.json``.

A series' values are laid out ``(T, targets + future + past + static columns)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _validation
from .._lazy import pandas as pd


def as_list(columns: Any) -> list[str]:
    """``None`` / one name / names as a list of names."""
    return [] if columns is None else ([columns] if isinstance(columns, str) else list(columns))


def check_kinds(owner: str, targets: list, future: list, past: list, static: list) -> None:
    """A ValueError for a column named in two kinds (or a target named as a covariate)."""
    kinds = {"target": targets, "future-known feature": future, "past feature": past, "static feature": static}
    seen: dict = {}
    for kind, columns in kinds.items():
        for column in columns:
            if column in seen and seen[column] != kind:
                raise _validation.value_error(owner, f"column {column!r}", "one kind per column",
                                              f"both a {seen[column]} and a {kind}",
                                              "Name it in one of --features, --past-features, --static.")
            seen[column] = kind


def n_past(cfg: Any) -> int:
    return len(getattr(cfg, "past_features", []) or [])


def n_future(cfg: Any) -> int:
    """Future-known feature columns (the features after the targets, before the past ones)."""
    return len(cfg.features) - len(cfg.target) - n_past(cfg)


def n_static(cfg: Any) -> int:
    """Input columns the static features encode to (one per numeric, one per category)."""
    return sum(1 if e["kind"] == "numeric" else len(e["categories"]) for e in getattr(cfg, "static_encoding", []))


def input_width(cfg: Any) -> int:
    """Input columns per step: targets, future-known, past, then the encoded statics."""
    return len(cfg.features) + n_static(cfg)


def per_series(owner: str, cfg: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """One row per series of the static columns (indexed by id), or a ValueError naming the series and
    column that varies within a series or is empty."""
    statics = list(cfg.static_features)
    missing = [c for c in statics if c not in frame.columns]
    if missing:
        raise _validation.value_error(owner, "the data", f"the static column(s) {missing}",
                                      f"columns {list(frame.columns)}", "Add them, or train without --static.")
    if cfg.id_col is None:
        raise _validation.value_error(owner, "`static_features`", "an id column (statics are per series)",
                                      "no id_col", "Pass --id, or use --features for a single series.")
    for column in statics:
        if frame[column].isna().any():
            ids = list(frame.loc[frame[column].isna(), cfg.id_col].unique()[:3])
            raise _validation.value_error(owner, f"static column {column!r}", "a value in every row",
                                          f"empty values in series {ids}", "Fill them (one value per series).")
        counts = frame.groupby(cfg.id_col, sort=False)[column].nunique()
        varying = counts[counts > 1]
        if len(varying):
            key = varying.index[0]
            seen = list(frame.loc[frame[cfg.id_col] == key, column].unique()[:4])
            raise _validation.value_error(owner, f"static column {column!r}", "one value per series",
                                          f"series {key!r} with values {seen}",
                                          "Make it constant within each series, or pass it as --past-features.")
    return frame.groupby(cfg.id_col, sort=False)[statics].first()


def fit_encoding(owner: str, cfg: Any, frame: pd.DataFrame) -> list[dict]:
    """How each static column becomes input columns: ``{"column", "kind": "numeric", "mean", "scale"}``
    or ``{"column", "kind": "categorical", "categories"}`` (learned from the training table)."""
    table = per_series(owner, cfg, frame)
    encoding = []
    for column in cfg.static_features:
        values = table[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            numbers = values.to_numpy(dtype=np.float64)
            if not np.isfinite(numbers).all():
                raise _validation.value_error(owner, f"static column {column!r}", "finite numbers", "NaN or inf")
            scale = float(numbers.std()) or 1.0
            encoding.append({"column": column, "kind": "numeric", "mean": float(numbers.mean()), "scale": scale})
        else:
            encoding.append({"column": column, "kind": "categorical",
                             "categories": sorted({str(v) for v in values})})
    return encoding


def encoded(owner: str, cfg: Any, frame: pd.DataFrame) -> dict:
    """``{series id: (n_static,) encoded statics}`` for the series of ``frame``; a ValueError for a
    category not seen in training."""
    if not cfg.static_features:
        return {}
    table = per_series(owner, cfg, frame)
    out = {}
    for key, row in table.iterrows():
        parts = []
        for e in cfg.static_encoding:
            value = row[e["column"]]
            if e["kind"] == "numeric":
                parts.append([(float(value) - e["mean"]) / e["scale"]])
            else:
                if str(value) not in e["categories"]:
                    raise _validation.value_error(owner, f"static column {e['column']!r}",
                                                  f"one of the training categories {e['categories']}",
                                                  f"{str(value)!r} for series {key!r}",
                                                  "Retrain with this category, or map it to a known one.")
                parts.append([1.0 if str(value) == c else 0.0 for c in e["categories"]])
        out[key] = np.concatenate(parts)
    return out


def describe(cfg: Any) -> dict:
    """The covariates by kind, for ``metrics.json``."""
    n_targets = len(cfg.target)
    return {"future": cfg.features[n_targets:n_targets + n_future(cfg)], "past": list(cfg.past_features),
            "static": list(cfg.static_features)}


def check_steps(owner: str, cfg: Any, steps: int) -> int:
    """``steps``, or a ValueError when a horizon-1 model with past features is asked for more than one
    step: it would need the past features' future values, which it neither has nor predicts."""
    if cfg.horizon == 1 and n_past(cfg) and steps > 1:
        raise _validation.value_error(owner, "`steps`", "1 for a horizon-1 model with past features "
                                      f"{list(cfg.past_features)} (their values after the origin are unknown)",
                                      repr(steps), f"Train with --horizon {steps} (horizon={steps}) to forecast "
                                      f"{steps} steps at once from the observed window.")
    return steps


def missing_future(owner: str, cfg: Any, column: str, rows: int) -> ValueError:
    """The error for a future-known feature without values in the forecast rows."""
    return _validation.value_error(owner, "the data", f"values of every future-known feature in the forecast "
                                   "rows (empty targets)", f"none for {column!r}",
                                   f"`{column}` is a future-known feature: give its values for the {rows} "
                                   f"forecast rows, or train with --past-features {column}.")
