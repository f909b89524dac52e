"""Seed 000's feature engineering for the ventilator table, computed per breath.

``add_features(frame)`` adds the seed's columns (its ``add_features``, same names, same formulas, same
order), each computed within a breath with ``groupby("breath_id")`` so nothing crosses breaths:

* ``area = cumsum(time_step * u_in)`` and ``u_in_cumsum = cumsum(u_in)`` per breath (volume proxies);
* lags ``u_in_lag{k}`` / ``u_out_lag{k}`` and leads ``u_in_lag_back{k}`` / ``u_out_lag_back{k}``,
  k = 1..4 (``shift(+-k)`` per breath), then ``fillna(0)`` as the seed does: the first k rows of each
  breath get 0 for lag k, the last k rows 0 for lead k;
* ``breath_id__u_in__max``, ``breath_id__u_out__max``; diffs ``u_in_diff{k}`` / ``u_out_diff{k}``,
  k = 1..4 (the current value minus the zero-filled lag, so the first row's diff is the value itself);
  ``breath_id__u_in__diffmax`` (breath max - u_in), ``breath_id__u_in__diffmean`` (breath mean - u_in);
* ``cross = u_in * u_out``, ``cross2 = time_step * u_out``;
* one-hot ``R_5, R_20, R_50, C_10, C_20, C_50`` and ``R__C_{r}__{c}`` (the seed's ``pd.get_dummies`` of
  the string columns ``R``, ``C`` and ``R__C``).

Differences from the seed, on purpose:

* all nine ``R__C`` dummies (and the three R / three C ones) always exist, in numeric order, so a test
  file lacking a combination gets the same columns as train (``get_dummies`` would drop the column);
* ``R`` and ``C`` stay in the frame as numbers (the seed replaced them by the dummies) and ``id`` /
  ``breath_id`` are not features (the seed scaled and fed both to the network: an ``id`` carries only
  the row's position in the file). :data:`FEATURE_COLUMNS` lists the model inputs: the seed's 52
  columns minus ``id`` and ``breath_id``.

Rows of each breath must be in time order (the competition files are); the frame's row order and index
are kept.
"""

from __future__ import annotations

from ..._lazy import pandas as pd

from ... import _validation
from ...data.sequences import check_columns
from .simulator import C_VALUES, R_VALUES

LAGS = (1, 2, 3, 4)
RC_COLUMNS = ([f"R_{r}" for r in R_VALUES] + [f"C_{c}" for c in C_VALUES]
              + [f"R__C_{r}__{c}" for r in R_VALUES for c in C_VALUES])
#: The model's input columns, in the seed's order (its 52 columns without ``id`` and ``breath_id``).
FEATURE_COLUMNS = (["time_step", "u_in", "u_out", "area", "u_in_cumsum"]
                   + [f"{col}_{kind}{k}" for k in LAGS for kind in ("lag", "lag_back") for col in ("u_in", "u_out")]
                   + ["breath_id__u_in__max", "breath_id__u_out__max"]
                   + [f"{col}_diff{k}" for k in (1, 2) for col in ("u_in", "u_out")]
                   + ["breath_id__u_in__diffmax", "breath_id__u_in__diffmean"]
                   + [f"{col}_diff{k}" for k in (3, 4) for col in ("u_in", "u_out")]
                   + ["cross", "cross2"] + RC_COLUMNS)
REQUIRED = ("breath_id", "R", "C", "time_step", "u_in", "u_out")


def _lag_name(col: str, k: int) -> str:
    return f"{col}_lag{k}" if k > 0 else f"{col}_lag_back{-k}"


def add_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Seed 000's engineered features, per breath, added to a copy of ``frame``.

    Args:
        frame: the competition table (train or test): at least ``breath_id, R, C, time_step, u_in,
            u_out``, rows of a breath in time order.

    Returns:
        A new DataFrame: ``frame``'s columns (same index and row order) followed by
        :data:`FEATURE_COLUMNS` not already in it (float64, one-hot columns int64).

    Example:
        >>> train = add_features(simulate(100))
        >>> x = train[FEATURE_COLUMNS].to_numpy()    # (8000, 50)
    """
    if not isinstance(frame, pd.DataFrame):
        raise _validation.type_error("add_features", "`frame`", "a pandas DataFrame (the competition table)",
                                     type(frame).__name__)
    check_columns("add_features", "frame", frame, list(REQUIRED))
    df = frame.copy()
    by_breath = df.groupby("breath_id", sort=False)
    new = {}
    new["area"] = (df["time_step"] * df["u_in"]).groupby(df["breath_id"], sort=False).cumsum()
    new["u_in_cumsum"] = by_breath["u_in"].cumsum()
    for k in LAGS:
        for shift in (k, -k):
            for col in ("u_in", "u_out"):
                new[_lag_name(col, shift)] = by_breath[col].shift(shift).fillna(0).astype("float64")
    new["breath_id__u_in__max"] = by_breath["u_in"].transform("max")
    new["breath_id__u_out__max"] = by_breath["u_out"].transform("max")
    for k in LAGS:
        for col in ("u_in", "u_out"):
            new[f"{col}_diff{k}"] = df[col] - new[f"{col}_lag{k}"]
    new["breath_id__u_in__diffmax"] = new["breath_id__u_in__max"] - df["u_in"]
    new["breath_id__u_in__diffmean"] = by_breath["u_in"].transform("mean") - df["u_in"]
    new["cross"] = df["u_in"] * df["u_out"]
    new["cross2"] = df["time_step"] * df["u_out"]
    for r in R_VALUES:
        new[f"R_{r}"] = (df["R"] == r).astype("int64")
    for c in C_VALUES:
        new[f"C_{c}"] = (df["C"] == c).astype("int64")
    for r in R_VALUES:
        for c in C_VALUES:
            new[f"R__C_{r}__{c}"] = ((df["R"] == r) & (df["C"] == c)).astype("int64")
    added = pd.DataFrame({name: new[name] for name in FEATURE_COLUMNS if name in new}, index=df.index)
    return pd.concat([df, added.drop(columns=[c for c in added.columns if c in df.columns])], axis=1)
