"""Fuzz ``lstmkit.forecast`` (issue 13): recursive / stateful / direct forecasts, backtests and metrics with
random history ranks and lengths (0 and 1 included), steps, targets, exogenous shapes and NaN / inf. Every
outcome is a correct result (recursive checked against a hand-written loop of ``predict``, metrics against
NumPy) or a clear ValueError / TypeError (see harness)."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from lstmkit import forecast, layers
from lstmkit.models import Sequential

from .harness import ERROR, FUZZ, arrays, expect, finite, outcome, shape_mentions

torch.manual_seed(0)
LOOKBACK = 3
ONE = Sequential([layers.Input((LOOKBACK, 1)), layers.LSTM(2), layers.Dense(1)])  # one feature, 3 steps
FREE = Sequential([layers.Input((None, 2)), layers.LSTM(2, return_sequences=True), layers.Dense(2)])
HORIZON = 2
DIRECT = forecast.direct_model(LOOKBACK, 1, HORIZON, units=2)
MODELS = {"one": ONE, "free": FREE, "direct": DIRECT}
STEPS = st.sampled_from([1, 2, 3, 1, 2, 0, -1, 1.5, None])


def mentions(*values):
    return shape_mentions(*[v for v in values if hasattr(v, "shape")]) + [repr(v) for v in values] + \
        [str(v) for v in values] + ["steps", "timesteps", "features", "exogenous", "history", "series", "rows"]


@st.composite
def histories(draw, features: int = 1):
    """Well-formed histories most of the time ((T,), (T, F), (n, T, F)), else any array."""
    if draw(st.integers(0, 3)) == 3:  # (hypothesis favours small draws: 0 is the well-formed side)
        return draw(arrays(max_rank=3, max_dim=6, dtypes=["float32", "float64", "int64"]))
    steps = draw(st.integers(1, 7))
    shape = draw(st.sampled_from([(steps,), (steps, features), (2, steps, features), (1, steps, features)]))
    shape = shape if features == 1 or len(shape) > 1 else (steps, features)
    history = np.random.default_rng(steps).normal(size=shape).astype(draw(st.sampled_from(["float32", "float64"])))
    if draw(st.integers(0, 5)) == 5:
        history.flat[0] = np.nan
    return history


def recursive_reference(model, history, steps):
    h = list(np.asarray(history, dtype="float32"))
    for _ in range(steps):
        h.append(float(model.predict(np.asarray(h[-LOOKBACK:], "float32")[None, :, None], verbose=0)[0, 0]))
    return np.asarray(h[-steps:])


@FUZZ(120)
@given(name=st.sampled_from(["one", "free"]), data=st.data(), steps=STEPS,
       targets=st.sampled_from([None, None, None, [0], [1], [5], [0, 0], "a"]),
       exogenous=st.sampled_from([None, None, None, "ok", "short", "nan"]),
       window=st.sampled_from([None, None, 2, 0, 9]), strategy=st.sampled_from(["recursive", "stateful"]))
def test_recursive_and_stateful(name, data, steps, targets, exogenous, window, strategy):
    model = MODELS[name]
    history = data.draw(histories(1 if name == "one" else 2))
    exo = None
    if exogenous is not None and isinstance(steps, int) and steps > 0:
        exo = np.zeros((steps - (exogenous == "short"), 1), "float32")
        if exogenous == "nan" and exo.size:
            exo[0, 0] = np.nan
    case = (name, strategy, history.shape, str(history.dtype), steps, targets, exogenous, window)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if strategy == "recursive":
            run = lambda: forecast.recursive(model, history, steps, targets=targets, exogenous=exo,  # noqa: E731
                                             window=window)
        else:
            run = lambda: forecast.stateful(model, history, steps, targets=targets, exogenous=exo)  # noqa: E731
        out = outcome(run, mentions(history, steps, targets, exo, window), case)
    if out is ERROR:
        return
    out = np.asarray(out)
    lead = (history.shape[0],) if history.ndim == 3 else ()
    expect(out.shape[len(lead)] == steps and out.shape[:len(lead)] == lead,
           f"{strategy} gave shape {out.shape} for steps={steps}, history {history.shape}", case)
    if finite(history) and (exo is None or finite(exo)):
        expect(finite(out), f"{strategy} gave NaN/inf for finite history", case)
    else:
        expect(False, f"{strategy} ran on a history / exogenous holding NaN or inf", case)
    if (strategy == "recursive" and name == "one" and history.ndim == 1 and window is None and targets is None
            and exo is None):
        expect(np.allclose(out, recursive_reference(model, history, steps), atol=1e-5),
               "recursive differs from the loop of predict", case)


@FUZZ(60)
@given(history=histories(), exogenous=st.sampled_from([None, None, None, "ok"]))
def test_direct(history, exogenous):
    exo = None if exogenous is None else np.zeros((HORIZON, 1), "float32")
    case = ("direct", history.shape, str(history.dtype), exogenous)
    out = outcome(lambda: forecast.direct(DIRECT, history, exogenous=exo), mentions(history, exo), case)
    if out is ERROR:
        return
    out = np.asarray(out)
    lead = (history.shape[0],) if history.ndim == 3 else ()
    expect(out.shape[:len(lead) + 1] == (*lead, HORIZON), f"direct gave shape {out.shape}", case)
    expect(finite(history) and finite(out), "direct ran on NaN/inf or gave NaN/inf", case)


@FUZZ(80)
@given(series=st.one_of(st.integers(1, 12).map(lambda n: np.sin(np.arange(n, dtype="float64"))),
                        st.integers(1, 12).map(lambda n: np.cos(np.arange(2 * n, dtype="float32")).reshape(n, 2)),
                        arrays(max_rank=3, max_dim=8, dtypes=["float32", "float64", "int64"])),
       horizon=STEPS, n_origins=st.sampled_from([1, 2, 2, 5, 0, -1]), step=st.sampled_from([None, None, 1, 2, 0]),
       min_history=st.sampled_from([None, None, 1, 3, 0, 50]),
       forecaster=st.sampled_from(["naive", "naive", "naive", "wrong_length", "nan", "scalar", "raises"]))
def test_backtest(series, horizon, n_origins, step, min_history, forecaster):
    def naive(history):
        history = np.asarray(history, dtype=float)
        last = history[-1]
        if forecaster == "wrong_length":
            return np.repeat(last[None], horizon + 1, axis=0)
        if forecaster == "nan":
            return np.full((horizon, *last.shape), np.nan)
        if forecaster == "scalar":
            return 1.0
        if forecaster == "raises":
            raise RuntimeError("user code failed")
        return np.repeat(last[None], horizon, axis=0)

    case = ("backtest", series.shape, str(series.dtype), horizon, n_origins, step, min_history, forecaster)
    try:
        result = outcome(lambda: forecast.backtest(naive, series, horizon, n_origins=n_origins, step=step,
                                                   min_history=min_history),
                         mentions(series, horizon, n_origins, step, min_history) + ["forecast", "origin"], case)
    except RuntimeError as error:  # the user's own forecaster failing is theirs to see, unchanged
        expect(str(error) == "user code failed", f"backtest changed the user's error: {error}", case)
        return
    if result is ERROR:
        return
    expect(forecaster == "naive", f"backtest accepted a {forecaster} forecaster", case)
    expect(len(result.origins) == n_origins, f"{len(result.origins)} origins for n_origins={n_origins}", case)
    values = np.asarray(series, dtype=float)
    for origin, predicted in zip(result.origins, result.forecasts):
        expect(np.allclose(np.asarray(predicted).reshape(-1),
                           np.repeat(values[origin - 1][None], horizon, axis=0).reshape(-1)),
               "backtest forecasts differ from the forecaster's", case)
    if finite(series):
        expect(bool(np.isfinite(result.metrics.to_numpy(dtype=float)[:, :2]).all()), "metrics not finite", case)


@FUZZ(120)
@given(y_true=arrays(max_rank=2, max_dim=4, dtypes=["float32", "float64", "int64", "bool"]),
       y_pred=arrays(max_rank=2, max_dim=4, dtypes=["float32", "float64", "int64"]),
       same=st.booleans(), name=st.sampled_from(["mae", "rmse", "mape", "smape", "forecast_errors"]))
def test_metrics(y_true, y_pred, same, name):
    if same:
        y_pred = np.random.default_rng(1).normal(size=y_true.shape)
    case = (name, y_true.shape, str(y_true.dtype), y_pred.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = outcome(lambda: getattr(forecast, name)(y_true, y_pred), mentions(y_true, y_pred), case)
    if value is ERROR:
        return
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    expect(t.shape == p.shape and t.size > 0, f"{name} ran on shapes {t.shape} and {p.shape}", case)
    expect(finite(t) and finite(p), f"{name} ran on NaN/inf and gave {value}", case)
    reference = {"mae": np.mean(np.abs(t - p)), "rmse": np.sqrt(np.mean((t - p) ** 2))}
    got = value if name != "forecast_errors" else value["MAE"]
    if name in reference or name == "forecast_errors":
        expect(np.isclose(got, reference.get(name, reference["mae"])), f"{name} = {got}", case)
    if name == "smape":
        expect(0 <= value <= 200, f"smape = {value}", case)
