"""Fuzz ``fit`` / ``evaluate`` / ``predict`` of Sequential and functional models (issue 13): random ranks and
dims (0 samples, 1 step), mismatched x / y lengths, ragged lists, NaN / inf, ints, float16 / float64, dicts,
pandas frames, odd batch sizes. Every outcome is a correct result (one prediction per sample, finite losses
for finite data) or a clear ValueError / TypeError (see harness)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from lstmkit import layers
from lstmkit.models import Model, Sequential

from .harness import ERROR, FUZZ, arrays, expect, finite, outcome, shape_mentions

STEPS, FEATURES = 3, 2


def make_model(kind: str):
    if kind == "sequential_input":
        model = Sequential([layers.Input((STEPS, FEATURES)), layers.LSTM(2), layers.Dense(1)])
    elif kind == "sequential_free_time":
        model = Sequential([layers.LSTM(2, input_shape=(None, FEATURES)), layers.Dense(1)])
    elif kind == "sequential_unbuilt":
        model = Sequential([layers.GRU(2), layers.Dense(1)])
    elif kind == "functional":
        inputs = layers.Input((STEPS, FEATURES), name="series")
        model = Model(inputs, layers.Dense(1)(layers.SimpleRNN(2)(inputs)))
    else:  # two inputs, addressed by name in dicts
        a, b = layers.Input((STEPS, FEATURES), name="a"), layers.Input((FEATURES,), name="b")
        merged = layers.Concatenate()([layers.LSTM(2)(a), b])
        model = Model([a, b], layers.Dense(1)(merged))
    model.compile("sgd", "mse")
    return model


MODELS = ["sequential_input", "sequential_free_time", "sequential_unbuilt", "functional", "two_inputs"]


@st.composite
def inputs(draw, n: int, kind: str):
    """x for ``kind``: well formed (most of the time) or a random array / ragged list / frame / dict."""
    form = draw(st.sampled_from(["good", "good", "random", "ragged", "frame", "dict", "empty"]))
    rng = np.random.default_rng(n)
    good = rng.normal(size=(n, STEPS, FEATURES)).astype(draw(st.sampled_from(["float32", "float64", "float16"])))
    if draw(st.booleans()) and good.size:
        good.flat[0] = draw(st.sampled_from([np.nan, np.inf]))
    if form == "random":
        return draw(arrays(max_dim=3))
    if form == "ragged":
        return [rng.normal(size=(int(k), FEATURES)).tolist() for k in draw(st.lists(st.integers(1, 4), min_size=2,
                                                                                     max_size=4))]
    if form == "frame":
        return pd.DataFrame(rng.normal(size=(n, FEATURES)))
    if form == "empty":
        return np.zeros((0, STEPS, FEATURES), "float32")
    if kind == "two_inputs":
        b = rng.normal(size=(draw(st.sampled_from([n, n + 1])), FEATURES)).astype("float32")
        if form == "dict":
            return {"a": good, **({"b": b} if draw(st.booleans()) else {"c": b})}
        return [good, b]
    if form == "dict":
        return {draw(st.sampled_from(["series", "other"])): good}
    return good


@st.composite
def cases(draw):
    kind = draw(st.sampled_from(MODELS))
    n = draw(st.integers(0, 5))
    x = draw(inputs(n, kind))
    y_rows = draw(st.sampled_from([n, n, n + 1, max(n - 1, 0)]))
    y = draw(st.one_of(st.just(np.random.default_rng(7).normal(size=(y_rows, 1)).astype("float32")),
                       arrays(max_rank=3, max_dim=3)))
    batch_size = draw(st.sampled_from([None, 1, 2, 32, 0, -1, 2.5]))
    return kind, x, y, batch_size


def leaves(x):
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
        return x
    return [x]


def mentions(x, y, batch_size):
    found = [str(batch_size), "ragged", "object", "dict", "input", "samples", "first dimension"]
    for leaf in leaves(x) + [y]:
        found += shape_mentions(np.asarray(leaf) if not isinstance(leaf, list) else np.zeros(len(leaf)))
    return found


def rows(x) -> int | None:
    """The number of samples a well-formed x holds (None when x is not one)."""
    first = leaves(x)[0]
    return len(first) if hasattr(first, "__len__") else None


def finite_data(*objs) -> bool:
    for obj in objs:
        for leaf in leaves(obj):
            try:
                array = np.asarray(leaf, dtype=float)
            except (TypeError, ValueError):
                return False
            if not np.isfinite(array).all():
                return False
    return True


@FUZZ(150)
@given(case=cases(), entry=st.sampled_from(["fit", "evaluate", "predict"]))
def test_fit_evaluate_predict_is_a_result_or_a_clear_error(case, entry):
    kind, x, y, batch_size = case
    model = make_model(kind)
    label = (kind, entry, type(x).__name__, [np.shape(v) for v in leaves(x)] if not isinstance(x, list) or
             isinstance(x[0], np.ndarray) else "ragged", np.shape(y), batch_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if entry == "fit":
            run = lambda: model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # noqa: E731
        elif entry == "evaluate":
            run = lambda: model.evaluate(x, y, batch_size=batch_size, verbose=0)  # noqa: E731
        else:
            run = lambda: model.predict(x, batch_size=batch_size, verbose=0)  # noqa: E731
        result = outcome(run, mentions(x, y, batch_size), label)
    if result is ERROR:
        return
    n = rows(x)
    if entry == "predict":
        expect(np.shape(result)[0] == n, f"predict gave {np.shape(result)[0]} rows for {n} samples", label)
        if finite_data(x):
            expect(finite(result), "predict gave NaN/inf for finite input", label)
    else:
        expect(np.shape(y)[0] == n, f"{entry} ran on x with {n} rows and y with {np.shape(y)[0]}", label)
        loss = result.history["loss"][-1] if entry == "fit" else result
        if finite_data(x, y):
            expect(bool(np.isfinite(loss).all()), f"{entry} gave a loss of {loss} for finite data", label)


@FUZZ(80)
@given(n=st.integers(0, 6), sw=st.one_of(st.none(), arrays(max_rank=2, max_dim=7, dtypes=["float32", "int64"])),
       split=st.sampled_from([0.0, 0.2, 0.5, 0.99, 1.0, -0.1, 2]), val=st.sampled_from([None, "ok", "short", "nan"]),
       class_weight=st.sampled_from([None, {0: 1.0}, {0: 1.0, 1: 2.0}, "bad"]))
def test_fit_options_are_a_result_or_a_clear_error(n, sw, split, val, class_weight):
    model = make_model("sequential_input")
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, STEPS, FEATURES)).astype("float32")
    y = (rng.random((n, 1)) > 0.5).astype("float32")
    vx = rng.normal(size=(3, STEPS, FEATURES)).astype("float32")
    vy = {"ok": np.zeros((3, 1), "float32"), "short": np.zeros((2, 1), "float32"),
          "nan": np.full((3, 1), np.nan, "float32")}.get(val)
    label = (n, np.shape(sw), split, val, class_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = outcome(lambda: model.fit(x, y, sample_weight=sw, validation_split=split,
                                           validation_data=None if vy is None else (vx, vy),
                                           class_weight=class_weight, batch_size=2, epochs=1, verbose=0),
                         shape_mentions(x, sw, vy) + [str(split), str(class_weight), "validation"], label)
    if result is ERROR:
        return
    expect(sw is None or np.shape(sw)[:1] == (n,), f"fit ran with sample_weight {np.shape(sw)} for {n} rows", label)
    loss = result.history["loss"][-1]
    if sw is None or finite(sw):
        expect(bool(np.isfinite(loss)), f"fit gave a loss of {loss} for finite data", label)
    if vy is not None and "val_loss" in result.history and val != "nan":
        expect(bool(np.isfinite(result.history["val_loss"][-1])), "val_loss not finite", label)
