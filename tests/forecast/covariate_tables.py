"""A synthetic panel for the covariate tests: a past covariate leads the target by ``lead`` steps and
static covariates set each series' level."""

import numpy as np
import pandas as pd


def covariate_panel(n_series=4, length=90, lead=2, seed=0):
    """``id, t, y, lead, region, size``: ``y[t] = 10 * k + 3 * lead[t - lead] + noise`` for series k,
    ``lead`` white noise (so ``y`` alone cannot foresee it), ``size = k`` and ``region`` text statics."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_series):
        p = rng.normal(size=length)
        level = 10.0 * k
        y = level + 3.0 * np.roll(p, lead) + rng.normal(scale=0.1, size=length)
        y[:lead] = level
        rows.append(pd.DataFrame({"id": f"s{k}", "t": np.arange(length), "y": y, "lead": p,
                                  "region": "north" if k % 2 else "south", "size": float(k)}))
    return pd.concat(rows, ignore_index=True)
