"""Forecasting benchmark: lstmkit's defaults against seasonal naive, AutoETS and AutoARIMA on real series.

    PYTHONPATH=src python benchmarks/forecasting.py [--out docs/forecasting_benchmark.md] [--datasets a,b] [--seed S]

Every dataset ships inside an installed package (lstmkit's airline series, statsmodels.datasets);
nothing is downloaded. Each series' last H rows are held out (monthly 12, quarterly 8, yearly 6); every
method sees the rest and forecasts H steps:

- ``lstmkit``: ``Forecaster(target, id_col, time_col)`` with every default (the CLI's ``lstmkit train``
  with no flags but --target/--id/--time), intervals at 80 and 95 %.
- ``lstmkit (old defaults)``: the defaults before issue 17 (no transform, one scaler, look-back
  ``min(24, max(3, shortest // 5))``, 200 epochs, patience 20, learning rate 1e-3), for comparison.
- ``seasonal naive``, statsforecast's ``AutoETS`` and ``AutoARIMA`` (season from the frequency).

MASE divides by the in-sample seasonal naive MAE of each series' training part. CPU seconds are
process time with one torch thread (fit + forecast, per series). No per-series tuning anywhere.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HORIZON = {"monthly": 12, "quarterly": 8, "yearly": 6}


# -- the data (all packaged) -------------------------------------------------------------------------------
def _statsmodels(name: str) -> pd.DataFrame:
    import statsmodels.api as sm

    return getattr(sm.datasets, name).load_pandas().data


def airline() -> pd.DataFrame:
    from lstmkit.data import load_airline_passengers

    frame = load_airline_passengers()
    return pd.DataFrame({"id": "passengers", "ds": frame.Month, "y": frame.Passengers.astype(float)})


def co2() -> pd.DataFrame:
    weekly = _statsmodels("co2")["co2"]
    monthly = weekly.resample("MS").mean().interpolate()
    return pd.DataFrame({"id": "co2", "ds": monthly.index, "y": monthly.to_numpy()})


def sunspots() -> pd.DataFrame:
    data = _statsmodels("sunspots")
    return pd.DataFrame({"id": "sunspots", "ds": pd.to_datetime(data.YEAR.astype(int).astype(str)),
                         "y": data.SUNACTIVITY.astype(float)})


def nile() -> pd.DataFrame:
    data = _statsmodels("nile")
    return pd.DataFrame({"id": "nile", "ds": pd.to_datetime(data.year.astype(int).astype(str)),
                         "y": data.volume.astype(float)})


def elnino() -> pd.DataFrame:
    data = _statsmodels("elnino")
    long = data.melt(id_vars="YEAR", var_name="month", value_name="y")
    months = {m: i + 1 for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                              "NOV", "DEC"])}
    long["ds"] = pd.to_datetime(dict(year=long.YEAR.astype(int), month=long.month.map(months), day=1))
    return long.assign(id="nino12_sst").sort_values("ds")[["id", "ds", "y"]].reset_index(drop=True)


def _quarterly(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    ds = pd.PeriodIndex.from_fields(year=data.year.astype(int), quarter=data.quarter.astype(int),
                                    freq="Q").to_timestamp()
    return pd.concat([pd.DataFrame({"id": c, "ds": ds, "y": data[c].astype(float).to_numpy()}) for c in columns],
                     ignore_index=True)


def macro() -> pd.DataFrame:
    return _quarterly(_statsmodels("macrodata"), ["realgdp", "realcons", "realinv", "cpi", "m1", "unemp"])


def interest_inflation() -> pd.DataFrame:
    return _quarterly(_statsmodels("interest_inflation"), ["Dp", "R"])


def danish() -> pd.DataFrame:
    data = _statsmodels("danish_data")
    return pd.concat([pd.DataFrame({"id": c, "ds": data.index, "y": data[c].astype(float).to_numpy()})
                      for c in data.columns], ignore_index=True)


def fertility() -> pd.DataFrame:
    data = _statsmodels("fertility").set_index("Country Code")
    years = [c for c in data.columns if c.isdigit()]
    rows = []
    for code in ("USA", "FRA", "JPN", "BRA", "IND", "NGA", "CHN", "SWE"):
        values = data.loc[code, years].astype(float)
        values = values[values.notna()]
        rows.append(pd.DataFrame({"id": code, "ds": pd.to_datetime(values.index), "y": values.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


DATASETS = {  # name -> (loader, frequency, domain)
    "airline": (airline, "monthly", "transport (passengers)"),
    "co2": (co2, "monthly", "atmosphere (Mauna Loa CO2)"),
    "elnino": (elnino, "monthly", "ocean (sea surface temperature)"),
    "sunspots": (sunspots, "yearly", "astronomy (sunspot activity)"),
    "nile": (nile, "yearly", "hydrology (Nile flow)"),
    "fertility": (fertility, "yearly", "demography (8 countries' fertility rates)"),
    "macro": (macro, "quarterly", "US macroeconomy (6 series)"),
    "interest_inflation": (interest_inflation, "quarterly", "German inflation and interest rate"),
    "danish": (danish, "quarterly", "Danish money demand (5 series)"),
}


# -- the methods ---------------------------------------------------------------------------------------------
def split(frame: pd.DataFrame, horizon: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = frame.sort_values(["id", "ds"])
    test = frame.groupby("id").tail(horizon)
    return frame.drop(test.index), test


def run_lstmkit(train: pd.DataFrame, horizon: int, old: bool, ensemble: int | None,
                epochs: int | None, seed: int = 0) -> tuple[dict, dict, float, dict]:
    from lstmkit.forecast.forecaster import Forecaster

    start = time.process_time()
    n_series = train.id.nunique()
    id_col = "id" if n_series > 1 else None
    if old:
        shortest = int(train.groupby("id").size().min())
        f = Forecaster("y", id_col=id_col, time_col="ds", lookback=min(24, max(3, shortest // 5)), transform="none",
                       scale_per_id=False)
        metrics = f.fit(train, epochs=200 if epochs is None else epochs, patience=20, learning_rate=1e-3, verbose=0,
                        seed=seed)
        table = f.predict(train, steps=horizon)
    else:
        kwargs = {} if ensemble is None else {"ensemble": ensemble}
        f = Forecaster("y", id_col=id_col, time_col="ds", **kwargs)
        metrics = f.fit(train, epochs=epochs, verbose=0, seed=seed)
        table = f.predict(train, steps=horizon, level=[80, 95])
    seconds = time.process_time() - start
    if id_col is None:
        table["id"] = train.id.iloc[0]
    point = {k: g.y.to_numpy() for k, g in table.groupby("id")}
    bands = {} if old else {k: {lvl: (g[f"y-lo-{lvl}"].to_numpy(), g[f"y-hi-{lvl}"].to_numpy()) for lvl in (80, 95)}
                            for k, g in table.groupby("id")}
    return point, bands, seconds, metrics.get("choices", {})


def run_statsforecast(train: pd.DataFrame, horizon: int, season: int, name: str) -> tuple[dict, float]:
    from statsforecast import models

    start = time.process_time()
    out = {}
    for key, part in train.groupby("id"):
        y = part.y.to_numpy()
        model = getattr(models, name)(season_length=season if len(y) >= 2 * season + 2 else 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[key] = model.forecast(y=y, h=horizon)["mean"]
    return out, time.process_time() - start


def seasonal_naive_forecast(train: pd.DataFrame, horizon: int, season: int) -> dict:
    from lstmkit.forecast.seasonality import seasonal_naive

    return {k: seasonal_naive(g.y.to_numpy(), horizon, season) for k, g in train.groupby("id")}


# -- scoring -------------------------------------------------------------------------------------------------
def scores(train: pd.DataFrame, test: pd.DataFrame, forecasts: dict, season: int) -> dict:
    """Per series MASE (in-sample seasonal naive scale) and sMAPE."""
    from lstmkit.forecast.metrics import mase, naive_scale, smape

    out = {}
    for key, part in test.groupby("id"):
        history = train[train.id == key].y.to_numpy()
        truth = part.y.to_numpy()
        out[key] = {"MASE": mase(truth, forecasts[key], naive_scale(history, season)[0]),
                    "sMAPE": smape(truth, forecasts[key])}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", help="comma-separated subset of " + ", ".join(DATASETS))
    parser.add_argument("--out", help="write the Markdown report there (e.g. docs/forecasting_benchmark.md)")
    parser.add_argument("--ensemble", type=int, help="override the default ensemble size")
    parser.add_argument("--epochs", type=int, help="override the default epoch cap")
    parser.add_argument("--no-old", action="store_true", help="skip the pre-issue-17 defaults")
    parser.add_argument("--seed", type=int, default=0, help="the networks' first seed (default 0, as fit's)")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    from lstmkit.forecast.seasonality import season_from_times

    names = args.datasets.split(",") if args.datasets else list(DATASETS)
    rows, per_series, covered = [], [], {80: [], 95: []}
    for name in names:
        loader, frequency, domain = DATASETS[name]
        frame = loader()
        horizon = HORIZON[frequency]
        train, test = split(frame, horizon)
        season = season_from_times(train[train.id == train.id.iloc[0]].ds.reset_index(drop=True)) or 1
        point, bands, seconds, made = run_lstmkit(train, horizon, old=False, ensemble=args.ensemble,
                                                  epochs=args.epochs, seed=args.seed)
        methods = {"lstmkit": (point, seconds)}
        if not args.no_old:
            old_point, _, old_seconds, _ = run_lstmkit(train, horizon, old=True, ensemble=None, epochs=args.epochs,
                                                       seed=args.seed)
            methods["lstmkit (old defaults)"] = (old_point, old_seconds)
        methods["seasonal naive"] = (seasonal_naive_forecast(train, horizon, season), 0.0)
        for sf_name in ("AutoETS", "AutoARIMA"):
            methods[sf_name] = run_statsforecast(train, horizon, season, sf_name)
        n_series = train.id.nunique()
        scored = {method: scores(train, test, fc, season) for method, (fc, _) in methods.items()}
        for key, part in test.groupby("id"):
            truth = part.y.to_numpy()
            for level in (80, 95):
                lo, hi = bands[key][level]
                covered[level].extend(((truth >= lo) & (truth <= hi)).tolist())
            per_series.append({"dataset": name, "series": key,
                               **{m: scored[m][key]["MASE"] for m in methods}})
        row = {"dataset": name, "frequency": frequency, "domain": domain, "series": n_series,
               "length": int(frame.groupby("id").size().min()), "H": horizon,
               "choices": f"{made['transform']['value']}, lookback {made['lookback']['value']}, season {season}"
                          + (f", {made['combination']['value']}" if "combination" in made else "")}
        for method, (_, secs) in methods.items():
            row[f"MASE {method}"] = float(np.mean([v["MASE"] for v in scored[method].values()]))
            row[f"CPU s/series {method}"] = secs / n_series
        row["coverage 80"] = float(np.mean([((test[test.id == k].y.to_numpy() >= bands[k][80][0]) &
                                             (test[test.id == k].y.to_numpy() <= bands[k][80][1])).mean()
                                            for k in bands]))
        rows.append(row)
        print(f"{name}: " + ", ".join(f"{m} {row[f'MASE {m}']:.3f}" for m in methods)
              + f", cov80 {row['coverage 80']:.2f}, {seconds / n_series:.1f} CPU s/series", flush=True)
    report = render(pd.DataFrame(rows), pd.DataFrame(per_series), covered, list(methods))
    print(report)
    if args.out:
        Path(args.out).write_text(report)
    return 0


def render(table: pd.DataFrame, per_series: pd.DataFrame, covered: dict, methods: list[str]) -> str:
    ratio = per_series["lstmkit"] / per_series["AutoETS"]
    geo = float(np.exp(np.mean(np.log(ratio))))
    losses = per_series[per_series["lstmkit"] > per_series["seasonal naive"]]
    lines = ["# Forecasting benchmark", "",
             "Generated by `PYTHONPATH=src python benchmarks/forecasting.py --out docs/forecasting_benchmark.md` "
             "(last H rows of each series held out; MASE against the in-sample seasonal naive; mean over a "
             "dataset's series; CPU seconds per series, one torch thread, on a shared 2-core machine).", "",
             "| dataset | freq | series | H | " + " | ".join(f"MASE {m}" for m in methods)
             + " | cov. 80% | lstmkit CPU s | old CPU s | lstmkit choices |",
             "|---|---|---|---|" + "---|" * len(methods) + "---|---|---|---|"]
    for _, r in table.iterrows():
        best = min(r[f"MASE {m}"] for m in methods)
        cells = [f"**{r[f'MASE {m}']:.3f}**" if r[f"MASE {m}"] == best else f"{r[f'MASE {m}']:.3f}" for m in methods]
        old = r.get("CPU s/series lstmkit (old defaults)", float("nan"))
        lines.append(f"| {r.dataset} ({r.domain}) | {r.frequency} | {r.series} | {r.H} | " + " | ".join(cells)
                     + f" | {r['coverage 80']:.2f} | {r['CPU s/series lstmkit']:.1f} | {old:.1f} | {r.choices} |")
    lines += ["", f"- Series: {len(per_series)} in {len(table)} datasets.",
              f"- Geometric mean over series of MASE(lstmkit) / MASE(AutoETS): **{geo:.3f}** (target <= 1.0).",
              f"- Series where lstmkit's defaults lose to seasonal naive on MASE: **{len(losses)}** "
              + (f"({', '.join(f'{d}/{s}' for d, s in zip(losses.dataset, losses.series))})" if len(losses) else "")
              + " (target 0).",
              "- Series where each method loses to seasonal naive on MASE (the same splits): "
              + ", ".join(f"{m} {int((per_series[m] > per_series['seasonal naive']).sum())}"
                          for m in methods if m != "seasonal naive") + ".",
              f"- Pooled coverage of the 80 % interval: **{np.mean(covered[80]):.2f}** (target 0.70-0.90); "
              f"95 %: **{np.mean(covered[95]):.2f}** ({len(covered[80])} held-out points).",
              f"- Mean MASE over series: " + ", ".join(f"{m} {per_series[m].mean():.3f}" for m in methods) + ".",
              ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
