"""The forecast combination: per series, the point forecast is one of a small menu of equal-weight
combinations of the network with two baselines we own, seasonal naive and naive (the last value).

The menu (``CANDIDATES``, simplest first) is seasonal naive, naive, the network, network + seasonal
naive and network + naive (halves); with season 1 naive is seasonal naive, so three remain. Each
series scores them by the MASE of their multi-step forecasts from each of its held-out origins and takes
the simplest whose mean is within one standard error (over origins, of the paired difference) of the
best: the one-standard-error rule, as a few origins cannot tell closer candidates apart. A series with
fewer than ``MIN_ORIGINS`` origins (or one unseen at fit time) takes the panel's choice, made the same
way on all series' origins pooled. Equal weights, not weights fitted
on a grid: on a few origins estimated weights overfit, the "forecast combination puzzle" (Smith & Wallis
2009), and the M4 finding is that simple combinations are robust. The choice, each candidate's
validation MASE and the per-series choices are in ``metrics["choices"]["combination"]``; the intervals
are then calibrated on the combined forecast. ``Forecaster(combine=...)`` fixes one candidate for all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .metrics import naive_scale

# name -> weights of (network, seasonal naive, naive); simplest first (the one-standard-error rule's order)
CANDIDATES = {"seasonal-naive": (0.0, 1.0, 0.0), "naive": (0.0, 0.0, 1.0), "network": (1.0, 0.0, 0.0),
              "network+seasonal-naive": (0.5, 0.5, 0.0), "network+naive": (0.5, 0.0, 0.5)}
MIN_ORIGINS = 3  # fewer held-out origins than this: a series takes the panel's choice
USE_NAIVE = ("naive", "network+naive")  # left out with season 1, where naive is seasonal naive


def seasonal_naive(values: np.ndarray, anchor: int, steps: int, season: int) -> np.ndarray:
    """``(steps, n_targets)``: each step's value one season (or more) before it, from rows ``<= anchor``
    of ``values`` ``(rows, n_targets)``; with fewer than a season of rows, the last row repeated."""
    m = season if season and anchor + 1 >= season else 1
    rows = [anchor - m + 1 + (k % m) for k in range(steps)]
    return values[rows]


def choose(model: np.ndarray, seasonal: np.ndarray, truths: list, scales: list, last: np.ndarray | None = None,
           keys: list | None = None, fixed: str | None = None) -> dict:
    """``model`` / ``seasonal`` / ``last`` (naive; None: not a candidate) ``(n, steps, n_targets)`` forecasts
    from ``n`` origins, ``truths[i]`` ``(<= steps, n_targets)``, ``scales[i]`` ``(n_targets,)``, ``keys[i]``
    the origin's series (None: one series) -> the record of the choice (see the module doc); ``fixed``
    a candidate's name to use for every series (scores still recorded)."""
    names = [n for n in CANDIDATES if last is not None or n not in USE_NAIVE]
    if fixed is not None and fixed not in names:
        names.append(fixed)
    keys = [None] * len(model) if keys is None else [None if k is None else str(k) for k in keys]
    base = {"network": model, "seasonal": seasonal, "last": seasonal if last is None else last}
    used = [i for i, t in enumerate(truths) if len(t)]
    if not used:
        return unvalidated(fixed, "no held-out origins to validate on")
    per_origin = {}  # name -> (len(used),): each origin's MASE (mean absolute scaled error over its steps)
    for name in names:
        p = blend(CANDIDATES[name], base["network"], base["seasonal"], base["last"])
        errors = np.array([np.mean(np.abs(truths[i] - p[i][:len(truths[i])]) / scales[i]) for i in used])
        per_origin[name] = np.where(np.isnan(errors), np.inf, errors)  # a NaN forecast is never chosen

    def scored(rows: np.ndarray) -> dict:
        return {n: float(per_origin[n][rows].mean()) for n in names}

    def best(rows: np.ndarray) -> str:
        """The simplest candidate within one standard error (over origins) of the best one's MASE, the
        paired difference: the one-standard-error rule, since a few origins cannot tell closer apart."""
        if fixed:
            return fixed
        scores = scored(rows)
        top = min(names, key=lambda n: (round(scores[n], 12), names.index(n)))
        for name in names:
            gap = per_origin[name][rows] - per_origin[top][rows]
            se = gap.std(ddof=1) / np.sqrt(len(gap)) if len(gap) > 1 else 0.0
            if gap.mean() <= se + 1e-12:
                return name
        return top

    everything = np.arange(len(used))
    pooled, panel = scored(everything), best(everything)
    series = {}
    origin_keys = np.array([keys[i] for i in used], dtype=object)
    for key in dict.fromkeys(origin_keys):
        if key is None:
            continue
        rows = np.flatnonzero(origin_keys == key)
        choice = best(rows) if len(rows) >= MIN_ORIGINS else panel
        series[key] = {"choice": choice, "origins": len(rows), "validation_mase": scored(rows)}
    made = {"choice": panel, "weights": _named(CANDIDATES[panel]), "model_weight": CANDIDATES[panel][0],
            "validation_mase": pooled, "validation_mase_model": pooled["network"],
            "validation_mase_seasonal_naive": pooled["seasonal-naive"], "validation_mase_combined": pooled[panel]}
    counts = {}
    for record in series.values():
        counts[record["choice"]] = counts.get(record["choice"], 0) + 1
    if len(counts) > 1:
        made["value"] = "per series: " + ", ".join(f"{n} {c}" for n, c in sorted(counts.items(), key=lambda x: -x[1]))
    else:
        made["value"] = next(iter(counts)) if counts else panel
    made["chosen_by"] = ("you (validation MASE still recorded)" if fixed else
                         f"the simplest within one standard error of the best validation MASE over {len(used)} "
                         "held-out origins" + (f", per series (the panel's with fewer than {MIN_ORIGINS})" if series
                                               else "") + "; pooled: " + ", ".join(f"{n} {pooled[n]:.3f}" for n in names))
    if series:
        made["series"] = series
    return made


def unvalidated(fixed: str | None, why: str) -> dict:
    """The record when nothing is validated (``why``): ``fixed`` (the user's) or the network alone."""
    name = fixed or "network"
    return {"value": name, "choice": name, "weights": _named(CANDIDATES[name]), "model_weight": CANDIDATES[name][0],
            "chosen_by": "you" if fixed else f"{why}: the network alone"}


def _named(weights: tuple) -> dict:
    return dict(zip(("network", "seasonal_naive", "naive"), weights))


def fit(f: Any, anchors: list, steps: int, futures: list) -> dict:
    """Choose the combination on ``anchors`` (``[(series, row)]``) for the trained forecaster ``f``."""
    cfg = f.config
    n_targets, season = len(cfg.target), cfg.season or 1
    f.metrics.setdefault("choices", {})["combination"] = {"model_weight": 1.0}  # the model alone while choosing
    model = f._predict(anchors, steps, futures)
    seasonal = np.stack([seasonal_naive(s.values[:, :n_targets], a, steps, season) for s, a in anchors])
    last = np.stack([seasonal_naive(s.values[:, :n_targets], a, steps, 1) for s, a in anchors]) if season > 1 else None
    truths = [s.values[a + 1:a + 1 + steps, :n_targets] for s, a in anchors]
    scales = [naive_scale(s.values[:a + 1, :n_targets], season) for s, a in anchors]
    keys = [s.id for s, _ in anchors] if cfg.id_col is not None else None
    combine = getattr(cfg, "combine", "auto")
    made = choose(model, seasonal, truths, scales, last, keys, None if combine == "auto" else combine)
    f.metrics["choices"]["combination"] = made
    return made


def weights_for(made: dict, key: Any) -> tuple:
    """The (network, seasonal naive, naive) weights of series ``key`` in the record ``made`` (the panel's
    for a series it does not name; a record from before the menu: its model weight with seasonal naive)."""
    record = (made.get("series") or {}).get(str(key))
    if record is not None:
        return CANDIDATES[record["choice"]]
    if "weights" in made:
        w = made["weights"]
        return (w["network"], w["seasonal_naive"], w["naive"])
    w = float(made.get("model_weight", 1.0))
    return (w, 1.0 - w, 0.0)


def apply(f: Any, histories: list, steps: int, model: np.ndarray) -> np.ndarray:
    """Combine the model's forecasts ``(n, steps, n_targets)`` with the baselines by each series' weights."""
    made = ((f.metrics or {}).get("choices") or {}).get("combination", {})
    weights = [weights_for(made, s.id) for s, _ in histories]
    if all(w[0] >= 1.0 for w in weights):
        return model
    n_targets, season = len(f.config.target), f.config.season or 1
    out = np.empty_like(model)
    for i, ((s, a), w) in enumerate(zip(histories, weights)):
        values = s.values[:, :n_targets]
        out[i] = blend(w, model[i], seasonal_naive(values, a, steps, season), seasonal_naive(values, a, steps, 1))
    return out


def blend(weights: tuple, network: np.ndarray, seasonal: np.ndarray, last: np.ndarray) -> np.ndarray:
    """``weights`` ``(network, seasonal naive, naive)`` applied to the three forecasts; a term of weight 0
    is left out, so a baseline stays finite where the network's forecast is not (0 * inf is NaN)."""
    terms = [w * f for w, f in zip(weights, (network, seasonal, last)) if w]
    return sum(terms[1:], terms[0]) if terms else np.zeros_like(network)


def warning(made: dict) -> str | None:
    """Plain words when validation moved some series away from the network alone (None otherwise, and
    when the combination was fixed by the user: nothing was decided by validation)."""
    if str(made.get("chosen_by", "")).startswith("you"):
        return None
    series = made.get("series") or {}
    moved = {k: r["choice"] for k, r in series.items() if r["choice"] != "network"}
    if not series and made.get("choice", "network") == "network":
        return None
    if series and not moved:
        return None
    if not series:
        w, scores = made["weights"], made["validation_mase"]
        worse = [b for b in ("seasonal-naive", "naive") if scores.get(b, np.inf) < scores["network"]]
        verdict = f"worse than {worse[0].replace('-', '_')}" if worse else "improved by a combination"
        parts = " + ".join(f"{v:.1f} x {n.replace('_', ' ')}" for n, v in w.items() if v)
        return (f"the network alone was {verdict} on the validation origins (MASE {scores['network']:.3f} vs "
                f"seasonal naive {scores['seasonal-naive']:.3f}): forecasts are {parts} (MASE "
                f"{made['validation_mase_combined']:.3f}).")
    named = ", ".join(f"{k}: {v}" for k, v in list(moved.items())[:6]) + (", ..." if len(moved) > 6 else "")
    return (f"for {len(moved)} of {len(series)} series the network alone was not the best on validation: they "
            f"are forecast by seasonal naive, naive or the network's equal-weight mean with one ({named}; see "
            f"choices.combination.series in metrics.json).")
