"""What every fuzz test of issue 13 asserts about one call into lstmkit.

An outcome is either a result (the caller then checks its shape / value) or a ``ValueError`` / ``TypeError``
that lstmkit itself raised, saying what it expected and what it received (and mentioning the received value,
shape or dtype). Anything else fails the test: a bare torch / NumPy / pandas error (even one that subclasses
ValueError, as NumPy's AxisError or pandas' ParserError), IndexError, KeyError, ZeroDivisionError,
RuntimeError, ...

Settings: ``FUZZ(n)`` is bounded and derandomized (the same examples on every run, no example database) so
CI is deterministic and the whole suite takes a couple of minutes on two cores.
"""

from __future__ import annotations

import os
import traceback
from typing import Any, Callable, Iterable

import numpy as np
import torch
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import lstmkit

PACKAGE = os.path.dirname(os.path.abspath(lstmkit.__file__))
ERROR = object()  # the sentinel ``outcome`` returns for a clear error


def FUZZ(max_examples: int) -> settings:  # noqa: N802 - reads as a decorator
    """Bounded, derandomized settings; FUZZ_SCALE=k (exploring, not CI) runs k times as many examples."""
    scale = float(os.environ.get("FUZZ_SCALE", "1"))
    return settings(max_examples=max(1, int(max_examples * scale)), deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


def raised_in_lstmkit(error: BaseException) -> bool:
    """True when the innermost frame that raised ``error`` is lstmkit's code (not torch / NumPy / pandas)."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and os.path.abspath(frames[-1].filename).startswith(PACKAGE)


def assert_clear(error: BaseException, mentions: Iterable[Any] = ()) -> None:
    """``error`` is a ValueError / TypeError raised by lstmkit that says expected / received (and a mention)."""
    text = str(error)
    where = "".join(traceback.format_exception(type(error), error, error.__traceback__)[-3:])
    assert type(error) in (ValueError, TypeError) or type(error).__module__.startswith("lstmkit"), \
        f"not a plain ValueError/TypeError: {type(error).__module__}.{type(error).__name__}: {text}\n{where}"
    assert raised_in_lstmkit(error), f"raised outside lstmkit (a bare library error): {text}\n{where}"
    lower = text.lower()
    assert "expect" in lower or "must" in lower or "need" in lower, f"does not say what was expected: {text}"
    assert any(w in lower for w in ("receiv", "given", "got", "found", "but")), \
        f"does not say what was received: {text}"
    mentions = [str(m) for m in mentions if m is not None]
    if mentions:
        assert any(m in text for m in mentions), f"names none of {mentions}: {text}"


# FUZZ_COLLECT=1 (exploring, not CI): record every failed property instead of stopping at the first one, and
# print the distinct ones at exit, so that one run lists every defect found.
COLLECT = os.environ.get("FUZZ_COLLECT") == "1"
FOUND: dict[str, str] = {}
COUNTS = {"result": 0, "error": 0}
ERRORS: dict[str, int] = {}


def _record(kind: str, text: str, case: str) -> None:
    key = kind + ": " + " ".join(w for w in text.split()[:12] if not any(c.isdigit() for c in w))
    FOUND.setdefault(key, f"{text[:600]}\n    case: {case[:400]}")


def expect(condition: bool, text: str, case: Any = "") -> None:
    """``assert condition, text`` (recorded instead when collecting)."""
    if condition:
        return
    if COLLECT:
        _record("result", text, repr(case))
        return
    raise AssertionError(text)


def outcome(call: Callable[[], Any], mentions: Iterable[Any] = (), case: Any = "") -> Any:
    """``call()``'s result, or ``ERROR`` after checking that the error it raised is a clear one."""
    try:
        result = call()
        COUNTS["result"] += 1
        return result
    except Exception as error:  # noqa: BLE001 - judged below
        if os.path.dirname(traceback.extract_tb(error.__traceback__)[-1].filename) == os.path.dirname(__file__):
            raise  # the test's own callback failing on purpose (e.g. a forecaster that raises)
        COUNTS["error"] += 1
        if os.environ.get("FUZZ_SHOW_ERRORS") == "1":
            key = " ".join(str(error).split()[:9])
            ERRORS[key] = ERRORS.get(key, 0) + 1
        if not COLLECT:
            if not isinstance(error, (ValueError, TypeError)):
                raise
            assert_clear(error, mentions)
            return ERROR
        try:
            assert_clear(error, mentions)
        except AssertionError as failure:
            where = traceback.extract_tb(error.__traceback__)[-1]
            _record(type(error).__name__, f"{type(error).__name__} at {os.path.basename(where.filename)}:"
                    f"{where.lineno}: {failure}", repr(case))
        return ERROR


if COLLECT:
    import atexit

    @atexit.register
    def _report() -> None:
        print(f"\n==== {len(FOUND)} distinct fuzz findings; outcomes {COUNTS} ====")
        for key, count in sorted(ERRORS.items(), key=lambda kv: -kv[1])[:25]:
            print(f"  {count:4d} x {key}")
        for key, text in FOUND.items():
            print(f"- {text}\n")


def shape_mentions(*arrays: Any) -> list[str]:
    """How an error may name what it received: shapes, lengths, dtypes."""
    out: list[str] = []
    for a in arrays:
        shape = tuple(getattr(a, "shape", ()))
        out += [str(shape), *(str(d) for d in shape)] + (["scalar"] if hasattr(a, "shape") and not shape else [])
        dtype = getattr(a, "dtype", None)
        if dtype is not None:
            out += [str(dtype).replace("torch.", "")]
    return out + ["NaN", "inf", "finite", "float64", "int64", "empty"]


def finite(value: Any) -> bool:
    if torch.is_tensor(value):
        return bool(torch.isfinite(value.float()).all()) if value.is_floating_point() else True
    array = np.asarray(value)
    return bool(np.isfinite(array).all()) if np.issubdtype(array.dtype, np.floating) else True


# -- strategies -----------------------------------------------------------------------------------------------
DTYPES = ["float32", "float64", "float16", "int64", "int32", "bool"]


@st.composite
def arrays(draw: Any, min_rank: int = 0, max_rank: int = 4, max_dim: int = 4, dtypes: list[str] = DTYPES,
           special: bool = True) -> np.ndarray:
    """An array of random rank / dims (0 included) / dtype; floats may hold NaN or inf at a random spot."""
    rank = draw(st.integers(min_rank, max_rank))
    shape = tuple(draw(st.lists(st.integers(0, max_dim), min_size=rank, max_size=rank)))
    dtype = draw(st.sampled_from(dtypes))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype == "bool":
        array = rng.random(shape) > 0.5
    elif dtype.startswith("int"):
        array = rng.integers(0, 5, size=shape).astype(dtype)
    else:
        array = rng.normal(size=shape).astype(dtype)
        if special and array.size and draw(st.booleans()):
            array.flat[draw(st.integers(0, array.size - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    return np.asarray(array)  # a 0-D array, not a NumPy scalar


def as_kind(array: np.ndarray, kind: str) -> Any:
    """The same data as NumPy, a torch tensor or nested Python lists."""
    if kind == "torch":
        return torch.from_numpy(array.copy())  # (np.ascontiguousarray would make a 0-D array 1-D)
    if kind == "list":
        return array.tolist()
    return array
