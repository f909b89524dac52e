"""What a Forecaster is asked to be: the model spec string and the framing configuration.

``"[bi]lstm|gru|rnn[:UNITS[,UNITS...]][@DROPOUT]"`` names a stack of recurrent layers (e.g.
``"bilstm:64,32@0.1"``); :class:`ForecasterConfig` holds the framing (targets, features, id and time
columns, look-back, horizon, transform, scaler, method) and is what ``forecaster.json`` stores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import _validation

SPEC = re.compile(r"^(bi)?(lstm|gru|rnn)(?::(\d+(?:,\d+)*))?(?:@(0?\.\d+|0))?$")


def parse_model_spec(spec: str) -> dict:
    """``"[bi]lstm|gru|rnn[:UNITS[,UNITS...]][@DROPOUT]"`` -> its parts, e.g. ``"bilstm:64,32@0.1"`` ->
    ``{"kind": "lstm", "bidirectional": True, "units": [64, 32], "dropout": 0.1}``."""
    match = SPEC.match(str(spec).strip().lower())
    if match is None:
        raise _validation.value_error(
            "Forecaster", "`model`", "a spec like 'lstm:32', 'lstm:64,32', 'gru:32', 'bilstm:32@0.1' (kind, "
            "units per layer, optional dropout)", repr(spec))
    bi, kind, units, dropout = match.groups()
    return {"kind": kind, "bidirectional": bool(bi), "units": [int(u) for u in (units or "32").split(",")],
            "dropout": float(dropout or 0.0)}


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
    past_features: list[str] = field(default_factory=list)  # inputs known up to the origin (last in features)
    static_features: list[str] = field(default_factory=list)  # one value per series (see .covariates)
    static_encoding: list[dict] = field(default_factory=list)  # how fit encoded them
    loss: str = "mse"  # "mse" (conformal intervals) or a probabilistic head (see .probabilistic)
    quantile_levels: list = field(default_factory=list)  # the levels a loss="quantile" head predicts
    combine: str = "auto"  # the point forecast's combination with baselines (see .combination)
