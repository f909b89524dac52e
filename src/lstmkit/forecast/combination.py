"""The forecast combination with seasonal naive: the point forecast is ``w * model + (1 - w) * naive``.

The weight ``w`` (0, 0.1, ..., 1) is the one with the smallest mean scaled absolute error (MASE terms) of
the combined multi-step forecasts over the held-out origins that early stopping saw; the later
held-out origins (the calibration tail) are left for the intervals, which are then calibrated on the
combined forecast. A network that loses to seasonal naive on data it did not train on thus leans
toward it (weight 0: seasonal naive alone), one that wins keeps weight 1. Forecast combinations are
the well-founded M4/M5 finding; the weight and the validation MASE of both ends are in
``metrics["choices"]["combination"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .metrics import naive_scale

WEIGHTS = tuple(i / 10 for i in range(11))


def seasonal_naive(values: np.ndarray, anchor: int, steps: int, season: int) -> np.ndarray:
    """``(steps, n_targets)``: each step's value one season (or more) before it, from rows ``<= anchor``
    of ``values`` ``(rows, n_targets)``; with fewer than a season of rows, the last row repeated."""
    m = season if season and anchor + 1 >= season else 1
    rows = [anchor - m + 1 + (k % m) for k in range(steps)]
    return values[rows]


def choose(model: np.ndarray, naive: np.ndarray, truths: list, scales: list) -> dict:
    """``model`` / ``naive`` ``(n, steps, n_targets)`` forecasts, ``truths[i]`` ``(<= steps, n_targets)``,
    ``scales[i]`` ``(n_targets,)`` -> ``{"model_weight", "validation_mase_model", ..._naive, ..._combined}``."""
    def mase(w: float) -> float:
        terms = [np.abs(t - (w * m[:len(t)] + (1 - w) * n[:len(t)])) / s
                 for m, n, t, s in zip(model, naive, truths, scales) if len(t)]
        return float(np.mean(np.concatenate([x.ravel() for x in terms]))) if terms else float("nan")
    scored = {w: mase(w) for w in WEIGHTS}
    if any(np.isnan(v) for v in scored.values()):
        return {"value": "model weight 1.0", "chosen_by": "no held-out origins to validate on: the model alone",
                "model_weight": 1.0}
    best = min(WEIGHTS, key=lambda w: (round(scored[w], 12), -w))  # ties keep more of the model
    return {"value": f"model weight {best:.1f}",
            "chosen_by": f"vs seasonal naive, validation MASE model {scored[1.0]:.3f}, seasonal naive "
                         f"{scored[0.0]:.3f}, combined {scored[best]:.3f}",
            "model_weight": best, "validation_mase_model": scored[1.0], "validation_mase_seasonal_naive": scored[0.0],
            "validation_mase_combined": scored[best]}


def fit(f: Any, anchors: list, steps: int, futures: list) -> dict:
    """Choose the weight on ``anchors`` (``[(series, row)]``) for the trained forecaster ``f``."""
    cfg = f.config
    n_targets = len(cfg.target)
    f.metrics.setdefault("choices", {})["combination"] = {"model_weight": 1.0}  # the model alone while choosing
    model = f._predict(anchors, steps, futures)
    naive = np.stack([seasonal_naive(s.values[:, :n_targets], a, steps, cfg.season or 1) for s, a in anchors])
    truths = [s.values[a + 1:a + 1 + steps, :n_targets] for s, a in anchors]
    scales = [naive_scale(s.values[:a + 1, :n_targets], cfg.season or 1) for s, a in anchors]
    made = choose(model, naive, truths, scales)
    f.metrics["choices"]["combination"] = made
    return made


def apply(f: Any, histories: list, steps: int, model: np.ndarray) -> np.ndarray:
    """Combine the model's forecasts ``(n, steps, n_targets)`` with seasonal naive by the chosen weight."""
    w = float(((f.metrics or {}).get("choices") or {}).get("combination", {}).get("model_weight", 1.0))
    if w >= 1.0:
        return model
    n_targets = len(f.config.target)
    naive = np.stack([seasonal_naive(s.values[:, :n_targets], a, steps, f.config.season or 1) for s, a in histories])
    return w * model + (1 - w) * naive


def warning(made: dict) -> str:
    """The plain words said when validation moved weight from the network to seasonal naive."""
    w = made["model_weight"]
    verdict = ("worse than seasonal_naive" if made["validation_mase_model"] > made["validation_mase_seasonal_naive"]
               else "improved by seasonal_naive")
    return (f"the network alone was {verdict} on the validation origins (MASE {made['validation_mase_model']:.3f} "
            f"vs {made['validation_mase_seasonal_naive']:.3f}): forecasts are {w:.1f} x model + {1 - w:.1f} x "
            f"seasonal naive (MASE {made['validation_mase_combined']:.3f}).")
