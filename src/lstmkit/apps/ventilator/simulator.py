"""A simulator of the "Google Brain - Ventilator Pressure Prediction" data (the table seed 000 trains on).

The real data cannot be fetched here (and its licence is non-commercial), so this module makes the same
table with the same physics and quirks, following ``shared/design/VENTILATOR.md``:

* per breath: ``R`` in {5, 20, 50}, ``C`` in {10, 20, 50} (the real skew or uniform), a target peak
  pressure PIP in {10, ..., 35}, PI gains Kp, Ki in {0, 0.1, ..., 0.9, 1, 2, ..., 10} (redrawn if both are
  0), a valve gain ``g`` (+-10 %) and an exploration bump (p = 0.85 a triangle of height U(-30, 30),
  duration U(0.1, 0.5) s, start U(0, 1 - duration); p = 0.15 a bump at t = 0 of height U(0, 100) falling
  linearly to 0 by U(0.05, 0.3) s);
* time: ``dt ~ N(0.0336, 0.0006^2)`` clipped to [0.031, 0.040], with a rare extra gap (probability 0.001
  per step, ``U(0.01, 0.1)`` s); ``u_out = 1[t > 1.0]``;
* controller on the *measured* (noisy, quantised) pressure ``p``: ``e = target(t) - p`` (target = PIP to
  1 s, a linear ramp to PEEP = 5 by 1.5 s, then PEEP), leaky integral ``I += s (e - I)``,
  ``s = dt / (dt + 0.5)``, ``u_in = clip(Kp e + Ki I + bump(t) [+ actuator noise], 0, 100)`` during
  inspiration; during expiration ``u_in`` relaxes toward 5 (see *Tuning*);
* plant (Q in L/s, V in mL, P in cmH2O), 4 sub-steps per sample: valve flow
  ``q_cmd = g u(t - one sample) max(0, 1 - P_alv / 90)`` through a first-order lag (tau = 0.05 s, exact
  over each sub-step), exhalation ``q_ex = u_out [max(0, (P_alv - PEEP) / (R + 10)) + 0.6 q_in]``,
  ``dV/dt = 1000 (q_in - q_ex)``, ``P_alv = PEEP + V / C``, airway ``P = P_alv + R (q_in - q_ex)``;
* sensor: ``P + N(0, 0.05^2)`` snapped to the 950-level ADC grid (:data:`PRESSURE_GRID`: minimum
  -1.895744294564641, step 0.07030214545121005, maximum 64.820992), clipped at both ends.

The controller acts on the measured pressure at each sample and the valve applies the previous sample's
command, so the recorded pressure lags ``u_in`` by 2-3 samples, as in the real data. :func:`replay`
runs the same plant open loop on recorded commands.

Tuning (what differs from the recipe, and why; each moves a figure toward the real data's):

* valve gain ``g = 0.0175 L/s per unit`` (the recipe's 0.0135 x 1.3), +-10 % per breath as the recipe.
  With 0.0135 the inspiratory pressure is too low (mean 10.5, upper quartile 11.7 against the real 13.64)
  and the controllers push ``u_in`` too high (mean 9.2 against 7.32). 0.0175 puts both near the real
  figures; 0.02 matched them slightly better but clips ~13 % of breaths at the ADC maximum (R = 50 with a
  large Kp), against ~9 % with 0.0175;
* expiration: the recipe routes the whole expiratory bias flow (``u_in`` ~ 5) through the lung, so
  ``P_alv - PEEP`` settles at ``q_in (R + 10)``: ~9 cmH2O for R = 50 and an expiratory median far above the
  real ~6.5. Here 60 % of the valve flow leaves at the Y-piece through the open exhalation valve
  (``0.6 q_in`` in ``q_ex``), which brings the pressure median and lower quartile to the real ones;
* expiratory ``u_in``: the recipe's ``5 (1 - exp(-(t - 1) / 0.2))`` leaves almost no ``u_in`` near 0,
  so the lower ``u_in`` quartile was ~2.5 against the real 0.39. The valve stays shut for a per-breath
  delay ``U(0.2, 0.6)`` s after ``u_out`` opens, then relaxes toward a per-breath level ``U(4.8, 5.0)`` with
  time constant 0.25 s, plus ``N(0, 0.02^2)`` (clipped at 0). The scored inspiratory phase is untouched;
* the R/C mix for ``rc_mix="real"`` is a hand-made table with the documented skew (R=20 mostly with
  C=50; R=5 and R=50 mostly with C=10); the real counts are not available here (:data:`RC_WEIGHTS_REAL`).

What limits a model: the per-breath valve gain (+-10 %) is not in the table. The lung replayed with the
nominal gain on the recorded ``u_in`` (:func:`replay`) scores ~0.55-0.6 MAE on inspiration, so a model
that does not infer each breath's gain (it can only do so through the controller's reaction to the
pressure) cannot go below that; with ``gain_spread=0.03`` that bound is ~0.19, with 0 it is the sensor
floor 0.04. ``gain_spread`` keeps the recipe's 0.1 by default.

Measured (``simulate_arrays(20_000, seed=0)``, this container; real figures in brackets):

* speed: 30,000-45,000 breaths per second for the arrays, 27,000-38,000 for the DataFrame (20,000
  breaths in ~0.5 s; numpy, vectorised over breaths, a loop over 80 samples x 4 sub-steps);
* inspiratory fraction (``u_out == 0``) 0.375 [0.380], ~30 steps per breath;
* pressure mean 11.09, std 8.51 [11.22, 8.11]; quartiles 6.12 / 7.03 / 12.73 [6.33 / 7.03 / 13.64];
  minimum 4.78 (the real data dips below PEEP to -1.9; this lung never does); 9.5 % of breaths touch the
  ADC maximum 64.82 somewhere (0.4 % of inspiratory rows);
* ``u_in`` mean 7.91, quartiles 0.61 / 4.39 / 4.91 [7.32; 0.39 / 4.39 / 4.98];
* sensor floor (inspiratory MAE between the recorded pressure and the noise-free airway pressure
  clipped to the ADC range): 0.0426; analytic ``E|N(0, 0.05^2) + U(-h/2, h/2)|``, h the grid step:
  0.0431 (:func:`noise_floor`). Unclipped, the clean pressure of the breaths above the ADC maximum makes it
  0.060: clipping is deterministic, so a model can learn it and it is not part of the floor.

``actuator_noise`` (default 0) adds ``N(0, actuator_noise^2)`` to the inspiratory command before
clipping, recorded in ``u_in`` and applied to the valve: without it, ``u_in`` is a deterministic
function of past measured pressure and a model can partly read the pressure back by inverting the PI
law instead of learning the lung.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from ..._lazy import pandas as pd

from ... import _validation

#: The competition's columns, in order, with the dtypes ``pandas.read_csv`` gives them.
COLUMNS = ("id", "breath_id", "R", "C", "time_step", "u_in", "u_out", "pressure")
DTYPES = {"id": "int64", "breath_id": "int64", "R": "int64", "C": "int64", "time_step": "float64",
          "u_in": "float64", "u_out": "int64", "pressure": "float64"}

STEPS = 80                                   # rows per breath
PRESSURE_STEP = 0.07030214545121005          # ADC resolution (cmH2O)
PRESSURE_MIN = -1.895744294564641
PRESSURE_LEVELS = 950
#: The 950 pressure values of the real data (ADC grid): ``PRESSURE_MIN + k * PRESSURE_STEP``.
PRESSURE_GRID = PRESSURE_MIN + PRESSURE_STEP * np.arange(PRESSURE_LEVELS, dtype=np.float64)
PRESSURE_MAX = float(PRESSURE_GRID[-1])      # 64.820992 (to 6 decimals, as in the data)

R_VALUES = (5, 20, 50)
C_VALUES = (10, 20, 50)
#: Share of breaths per (R, C) for ``rc_mix="real"``: rows R = 5, 20, 50; columns C = 10, 20, 50.
RC_WEIGHTS_REAL = np.array([[0.12, 0.06, 0.08],
                            [0.08, 0.06, 0.14],
                            [0.20, 0.14, 0.12]])
PIP_VALUES = (10, 15, 20, 25, 30, 35)
GAIN_VALUES = tuple([round(0.1 * i, 1) for i in range(10)] + [float(i) for i in range(1, 11)])
PEEP = 5.0

# Physics and controller constants (see the module docstring).
DT_MEAN, DT_STD, DT_MIN, DT_MAX = 0.0336, 0.0006, 0.031, 0.040
GAP_PROBABILITY, GAP_RANGE = 0.001, (0.01, 0.1)
INSPIRATION_END = 1.0
RAMP_END = 1.5
INTEGRAL_TAU = 0.5
VALVE_GAIN, VALVE_GAIN_SPREAD, VALVE_TAU = 0.0175, 0.10, 0.05
P_VALVE_CUTOFF = 90.0
EXHALE_EXTRA_R = 10.0
SUBSTEPS = 4
SENSOR_NOISE = 0.05
BUMP_TRIANGLE_PROBABILITY = 0.85
EXPIRATORY_DELAY = (0.2, 0.6)
EXPIRATORY_LEVEL = (4.8, 5.0)
EXPIRATORY_TAU = 0.25
EXPIRATORY_NOISE = 0.02
BIAS_FLOW_BYPASS = 0.6

#: Per-breath parameters :func:`draw_params` draws and ``simulate(params=...)`` can override.
PARAM_NAMES = ("R", "C", "pip", "kp", "ki", "gain", "bump_kind", "bump_height", "bump_start",
               "bump_duration", "exp_delay", "exp_level")

_OWNER = "ventilator.simulate"


def snap_to_grid(values: Any) -> np.ndarray:
    """Snap pressures to the nearest of the 950 ADC levels (:data:`PRESSURE_GRID`), clipping at both ends.

    Args:
        values: array-like of pressures (any shape).

    Returns:
        float64 array of the same shape whose values are exactly elements of :data:`PRESSURE_GRID`.

    Example:
        >>> snap_to_grid([5.0, 100.0])
        array([ 4.99069583, 64.82099174])
    """
    array = np.asarray(values, dtype=np.float64)
    index = np.clip(np.rint((array - PRESSURE_MIN) / PRESSURE_STEP), 0, PRESSURE_LEVELS - 1).astype(np.int64)
    return PRESSURE_GRID[index]


def draw_params(n_breaths: int, rng: np.random.Generator, rc_mix: str = "real",
                gain_spread: float = VALVE_GAIN_SPREAD) -> dict:
    """Draw the per-breath settings: lung (R, C), controller (PIP, Kp, Ki), valve gain, bump, expiration.

    Args:
        n_breaths: number of breaths.
        rng: a ``numpy.random.Generator``.
        rc_mix: ``"real"`` (the skewed mix :data:`RC_WEIGHTS_REAL`) or ``"uniform"``.
        gain_spread: the valve gain is ``VALVE_GAIN * U(1 - gain_spread, 1 + gain_spread)`` (default 0.1).

    Returns:
        A dict of ``(n_breaths,)`` arrays keyed by :data:`PARAM_NAMES`. ``bump_kind`` is 1 for a triangle
        (height ``U(-30, 30)``, duration ``U(0.1, 0.5)`` s, start ``U(0, 1 - duration)``) and 2 for a bump
        at t = 0 (height ``U(0, 100)``, falling linearly to 0 by ``U(0.05, 0.3)`` s).
    """
    _validation.choice(_OWNER, "rc_mix", rc_mix, ("real", "uniform"))
    n = n_breaths
    weights = RC_WEIGHTS_REAL.ravel() if rc_mix == "real" else np.full(9, 1 / 9)
    cell = rng.choice(9, size=n, p=weights / weights.sum())
    gains = np.asarray(GAIN_VALUES)
    kp, ki = rng.choice(gains, size=n), rng.choice(gains, size=n)
    zero = (kp == 0) & (ki == 0)
    while zero.any():  # redraw breaths with no controller at all
        kp[zero], ki[zero] = rng.choice(gains, size=zero.sum()), rng.choice(gains, size=zero.sum())
        zero = (kp == 0) & (ki == 0)
    triangle = rng.random(n) < BUMP_TRIANGLE_PROBABILITY
    duration = np.where(triangle, rng.uniform(0.1, 0.5, n), rng.uniform(0.05, 0.3, n))
    height = np.where(triangle, rng.uniform(-30, 30, n), rng.uniform(0, 100, n))
    start = np.where(triangle, rng.uniform(0, 1, n) * (1 - duration), 0.0)
    return {
        "R": np.asarray(R_VALUES)[cell // 3], "C": np.asarray(C_VALUES)[cell % 3],
        "pip": rng.choice(np.asarray(PIP_VALUES), size=n).astype(np.float64), "kp": kp, "ki": ki,
        "gain": VALVE_GAIN * (1 + gain_spread * rng.uniform(-1, 1, n)),
        "bump_kind": np.where(triangle, 1, 2), "bump_height": height, "bump_start": start,
        "bump_duration": duration,
        "exp_delay": rng.uniform(*EXPIRATORY_DELAY, n), "exp_level": rng.uniform(*EXPIRATORY_LEVEL, n),
    }


def _bump(t: np.ndarray, p: Mapping[str, np.ndarray]) -> np.ndarray:
    """The exploration residual ``(n, T)`` at times ``t``: a triangle, or a ramp down from t = 0."""
    start, duration, height = p["bump_start"][:, None], p["bump_duration"][:, None], p["bump_height"][:, None]
    phase = (t - start) / duration                                   # 0..1 across the bump
    triangle = height * np.clip(1 - np.abs(2 * phase - 1), 0, None)  # peak at the middle
    ramp = height * np.clip(1 - t / duration, 0, None)               # height at t = 0, 0 by `duration`
    return np.where(p["bump_kind"][:, None] == 1, triangle, np.where(p["bump_kind"][:, None] == 2, ramp, 0.0))


def _target(t: np.ndarray, pip: np.ndarray) -> np.ndarray:
    """The controller's target pressure ``(n, T)``: PIP, a ramp down to PEEP from 1 s to 1.5 s, then PEEP."""
    pip = pip[:, None]
    ramp = pip + (PEEP - pip) * (t - INSPIRATION_END) / (RAMP_END - INSPIRATION_END)
    return np.where(t <= INSPIRATION_END, pip, np.where(t <= RAMP_END, ramp, PEEP))


class _Lung:
    """The plant: proportional valve with a first-order lag, single-compartment lung, exhalation valve."""

    def __init__(self, R: np.ndarray, C: np.ndarray, gain: np.ndarray):
        self.R, self.C, self.gain = R, C, gain
        n = len(R)
        self.volume, self.flow = np.zeros(n), np.zeros(n)   # mL above the PEEP volume; valve flow (L/s)
        self.exhale = np.zeros(n)                           # exhalation flow of the interval just ended

    def airway_pressure(self) -> np.ndarray:
        return PEEP + self.volume / self.C + self.R * (self.flow - self.exhale)

    def advance(self, command: np.ndarray, valve_open: np.ndarray, dt: np.ndarray) -> None:
        """Integrate one sample interval ``dt`` (``SUBSTEPS`` sub-steps) with the valve command held."""
        h = dt / SUBSTEPS
        lag = 1 - np.exp(-h / VALVE_TAU)                    # exact first-order lag over a sub-step
        for _ in range(SUBSTEPS):
            alveolar = PEEP + self.volume / self.C
            q_cmd = self.gain * command * np.maximum(0.0, 1 - alveolar / P_VALVE_CUTOFF)
            self.flow += (q_cmd - self.flow) * lag
            # Exhalation through R and the valve, plus the share of the bias flow leaving at the Y-piece.
            self.exhale = valve_open * (np.maximum(0.0, (alveolar - PEEP) / (self.R + EXHALE_EXTRA_R))
                                        + BIAS_FLOW_BYPASS * self.flow)
            self.volume = np.maximum(self.volume + 1000 * (self.flow - self.exhale) * h, 0.0)


def replay(u_in: Any, time_step: Any, u_out: Any, R: Any, C: Any, gain: Any = VALVE_GAIN) -> np.ndarray:
    """The lung's noise-free airway pressure for recorded valve commands (open loop, no controller).

    With each breath's true ``gain`` this reproduces ``simulate_arrays(...)["pressure_clean"]`` exactly;
    with the nominal gain (the default) it is the best any model can do that knows the physics but not
    the breath's valve gain: its MAE is reported by the pipeline as ``physics_nominal_gain``.

    Args:
        u_in, time_step, u_out: ``(n_breaths, T)`` arrays.
        R, C: ``(n_breaths,)`` arrays (or scalars).
        gain: valve gain per breath, L/s per unit of ``u_in`` (default: the nominal :data:`VALVE_GAIN`).

    Returns:
        float64 ``(n_breaths, T)`` airway pressure (cmH2O), before the sensor noise and the ADC.
    """
    u_in, t, u_out = (np.asarray(a, dtype=np.float64) for a in (u_in, time_step, u_out))
    n, steps = u_in.shape
    R, C, gain = (np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for v in (R, C, gain))
    lung = _Lung(R, C, gain)
    out, u_prev = np.empty((n, steps)), np.zeros(n)
    for k in range(steps):
        out[:, k] = lung.airway_pressure()
        if k < steps - 1:
            lung.advance(u_prev, u_out[:, k], t[:, k + 1] - t[:, k])
        u_prev = u_in[:, k]
    return out


def simulate_arrays(n_breaths: int, seed: int = 0, actuator_noise: float = 0.0, rc_mix: str = "real",
                    sensor_noise: float = SENSOR_NOISE, params: Mapping[str, Any] | None = None,
                    gain_spread: float = VALVE_GAIN_SPREAD) -> dict:
    """Simulate breaths as ``(n_breaths, 80)`` arrays (the engine behind :func:`simulate`).

    Args: as :func:`simulate`.

    Returns:
        A dict with ``time_step``, ``u_in``, ``u_out``, ``pressure`` (measured: noisy, on the grid) and
        ``pressure_clean`` (the airway pressure before the sensor), each ``(n_breaths, 80)``, and
        ``params`` (the per-breath settings used, a dict of ``(n_breaths,)`` arrays).
    """
    n = _validation.positive_int(_OWNER, "n_breaths", n_breaths)
    actuator_noise = _non_negative(actuator_noise, "actuator_noise")
    sensor_noise = _non_negative(sensor_noise, "sensor_noise")
    rng = np.random.default_rng(seed)
    gain_spread = _non_negative(gain_spread, "gain_spread")
    p = draw_params(n, rng, rc_mix, gain_spread)
    for name, value in (params or {}).items():
        if name not in PARAM_NAMES:
            raise _validation.value_error(_OWNER, "`params`", f"keys among {PARAM_NAMES}", repr(name))
        p[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()

    # Time axis: t_0 = 0, dt ~ N(0.0336, 0.0006^2) clipped, rare gaps.
    dt = np.clip(rng.normal(DT_MEAN, DT_STD, (n, STEPS - 1)), DT_MIN, DT_MAX)
    gaps = rng.random((n, STEPS - 1)) < GAP_PROBABILITY
    dt = dt + gaps * rng.uniform(*GAP_RANGE, (n, STEPS - 1))
    t = np.concatenate([np.zeros((n, 1)), np.cumsum(dt, axis=1)], axis=1)       # (n, T)
    u_out = (t > INSPIRATION_END).astype(np.int64)
    target, bump = _target(t, p["pip"]), _bump(t, p)
    after = np.maximum(t - INSPIRATION_END - p["exp_delay"][:, None], 0.0)
    expiratory = p["exp_level"][:, None] * (1 - np.exp(-after / EXPIRATORY_TAU))
    expiratory = np.maximum(expiratory + EXPIRATORY_NOISE * rng.standard_normal((n, STEPS)) * (after > 0), 0.0)
    sensor = sensor_noise * rng.standard_normal((n, STEPS))
    actuator = actuator_noise * rng.standard_normal((n, STEPS))
    smoothing = np.concatenate([dt[:, :1], dt], axis=1)
    smoothing = smoothing / (smoothing + INTEGRAL_TAU)                             # s = dt / (dt + 0.5)

    R, C, kp, ki, gain = (p[k].astype(np.float64) for k in ("R", "C", "kp", "ki", "gain"))
    lung = _Lung(R, C, gain)
    integral, u_prev = np.zeros(n), np.zeros(n)
    u_in, measured, clean = np.empty((n, STEPS)), np.empty((n, STEPS)), np.empty((n, STEPS))
    for k in range(STEPS):
        airway = lung.airway_pressure()
        clean[:, k] = airway
        reading = snap_to_grid(airway + sensor[:, k])
        measured[:, k] = reading
        error = target[:, k] - reading
        integral += smoothing[:, k] * (error - integral)
        command = np.clip(kp * error + ki * integral + bump[:, k] + actuator[:, k], 0.0, 100.0)
        u = np.where(u_out[:, k] == 0, command, expiratory[:, k])
        u_in[:, k] = u
        if k < STEPS - 1:
            lung.advance(u_prev, u_out[:, k], dt[:, k])   # the valve applies the previous sample's command
        u_prev = u
    return {"time_step": t, "u_in": u_in, "u_out": u_out, "pressure": measured, "pressure_clean": clean,
            "params": p}


def simulate(n_breaths: int, seed: int = 0, start_breath_id: int = 1, actuator_noise: float = 0.0,
             rc_mix: str = "real", sensor_noise: float = SENSOR_NOISE, params: Mapping[str, Any] | None = None,
             clean: bool = False, gain_spread: float = VALVE_GAIN_SPREAD) -> pd.DataFrame:
    """Simulate ventilator breaths as the competition's table (80 rows per breath).

    Args:
        n_breaths: number of breaths.
        seed: seed of ``numpy.random.default_rng`` (default 0): the same seed gives the same table.
        start_breath_id: ``breath_id`` of the first breath (default 1); breath ids are consecutive and
            ``id = (breath_id - 1) * 80 + step + 1``, so tables made with ``start_breath_id = n + 1``
            continue the ids of an ``n``-breath table, as the competition's test file continues train's.
        actuator_noise: standard deviation of noise added to the inspiratory valve command (default 0.0;
            see the module docstring).
        rc_mix: ``"real"`` (default: the competition's skewed R/C mix) or ``"uniform"``.
        sensor_noise: standard deviation (cmH2O) of the pressure sensor noise (default 0.05).
        params: optional overrides of the per-breath settings (:data:`PARAM_NAMES`), scalars or
            ``(n_breaths,)`` arrays, e.g. ``{"kp": 0, "ki": 0, "bump_height": 0}``.
        clean: if True, add a ``pressure_clean`` column (the airway pressure before the sensor noise and
            the ADC), default False.
        gain_spread: per-breath spread of the valve gain, ``+-gain_spread`` relative (default 0.1, the
            recipe's +-10 %). It is the main error source of a model that cannot infer a breath's gain
            (see :func:`replay`); 0 gives one valve for all breaths.

    Returns:
        A DataFrame with columns ``id, breath_id, R, C, time_step, u_in, u_out, pressure`` (int64 except
        ``time_step``, ``u_in`` and ``pressure``, float64), ``n_breaths * 80`` rows.

    Example:
        >>> train = simulate(1000, seed=0)
        >>> train.groupby("breath_id").size().unique()
        array([80])
    """
    start_breath_id = _validation.positive_int(_OWNER, "start_breath_id", start_breath_id)
    arrays = simulate_arrays(n_breaths, seed, actuator_noise, rc_mix, sensor_noise, params, gain_spread)
    return _table(arrays, start_breath_id, clean)


def _table(arrays: dict, start_breath_id: int, clean: bool = False) -> pd.DataFrame:
    n = arrays["u_in"].shape[0]
    breath = np.repeat(np.arange(start_breath_id, start_breath_id + n, dtype=np.int64), STEPS)
    p = arrays["params"]
    columns = {
        "id": (start_breath_id - 1) * STEPS + 1 + np.arange(n * STEPS, dtype=np.int64),
        "breath_id": breath,
        "R": np.repeat(p["R"].astype(np.int64), STEPS),
        "C": np.repeat(p["C"].astype(np.int64), STEPS),
        "time_step": arrays["time_step"].ravel(),
        "u_in": arrays["u_in"].ravel(),
        "u_out": arrays["u_out"].ravel().astype(np.int64),
        "pressure": arrays["pressure"].ravel(),
    }
    if clean:
        columns["pressure_clean"] = arrays["pressure_clean"].ravel()
    return pd.DataFrame(columns)


def write_competition_files(folder: str | os.PathLike, n_train: int = 75_450, n_test: int = 50_300,
                            seed: int = 0, **kwargs: Any) -> dict:
    """Write ``train.csv``, ``test.csv`` and ``sample_submission.csv`` as the competition laid them out.

    Args:
        folder: destination folder (created if missing).
        n_train / n_test: breaths in each file (default: the competition's 75,450 and 50,300).
        seed: simulator seed (default 0). Train and test come from one simulation of
            ``n_train + n_test`` breaths, split: test's ``breath_id`` and ``id`` continue after train's.
        **kwargs: passed to :func:`simulate` (``actuator_noise``, ``rc_mix``, ...).

    Returns:
        A dict of the three written paths (``"train"``, ``"test"``, ``"sample_submission"``).

    Example:
        >>> paths = write_competition_files("data", n_train=2000, n_test=500)
    """
    n_train = _validation.positive_int("write_competition_files", "n_train", n_train)
    n_test = _validation.positive_int("write_competition_files", "n_test", n_test)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = simulate(n_train + n_test, seed=seed, **kwargs)
    split = n_train * STEPS
    test = frame.iloc[split:].drop(columns=[c for c in ("pressure", "pressure_clean") if c in frame.columns])
    train = frame.iloc[:split]
    paths = {"train": folder / "train.csv", "test": folder / "test.csv",
             "sample_submission": folder / "sample_submission.csv"}
    train.to_csv(paths["train"], index=False)
    test.to_csv(paths["test"], index=False)
    pd.DataFrame({"id": test["id"].to_numpy(), "pressure": 0.0}).to_csv(paths["sample_submission"], index=False)
    return {key: str(path) for key, path in paths.items()}


def noise_floor(sensor_noise: float = SENSOR_NOISE, step: float = PRESSURE_STEP) -> float:
    """Analytic MAE of the sensor: ``E|N(0, sensor_noise^2) + quantisation|`` (about 0.043 by default).

    The quantisation error of a fine uniform grid is ``U(-step/2, step/2)``; the sum with the Gaussian
    noise is computed by numerical integration (it is close to a Gaussian of variance
    ``sensor_noise^2 + step^2 / 12``).
    """
    # E|X + U| for X ~ N(0, s^2), U ~ U(-h/2, h/2): average E|X + u| = s*phi-term over a grid of u.
    u = (np.arange(2001) / 2000 - 0.5) * step
    if sensor_noise == 0:
        return float(np.mean(np.abs(u)))
    z = u / sensor_noise
    phi = np.exp(-z ** 2 / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + np.vectorize(math.erf)(z / math.sqrt(2)))
    folded = sensor_noise * 2 * phi + u * (2 * cdf - 1)             # E|u + X| for a fixed u
    return float(np.mean(folded))


def _non_negative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise _validation.type_error(_OWNER, f"`{name}`", "a number >= 0", repr(value))
    if not value >= 0:
        raise _validation.value_error(_OWNER, f"`{name}`", "a number >= 0", repr(value))
    return float(value)
