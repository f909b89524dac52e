"""Multi-step forecasts from a trained stateless model: recursive, direct and seq2seq.

* ``recursive``: one step at a time, each prediction fed back as the next input step (seed 001's
  loop), for many series at once: one ``predict`` call per step for all of them.
* ``direct``: one ``predict`` of a model whose head outputs the whole horizon (``builders.direct_model``).
* ``seq2seq``: one ``predict`` of an encoder-decoder (``builders.seq2seq_model``), with the known
  future exogenous values as its second input when it has one.

Layouts, the same for every function here: ``history`` is ``(T,)`` (one univariate series),
``(T, F)`` (one series of F features) or ``(n_series, T, F)``; the forecast comes back as
``(steps,)``, ``(steps, n_targets)`` or ``(n_series, steps, n_targets)`` respectively.

Stateful models (``stateful=True`` layers) are refused: their memory would carry from one call to the
next and mix windows; forecast with ``lstmkit.forecast.stateful`` instead, which carries state on
purpose.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _validation
from ..layers.rnn.rnn import RNN
from ..trainers.trainer import Trainer
from .feedback import StepWriter, last_step_output, next_step, resolve_targets
from .layout import as_series, exogenous_array, restore_layout


def recursive(model: Any, history: Any, steps: int, targets: Sequence[int] | None = None,
              exogenous: Any = None, window: int | None = None, batch_size: int | None = None) -> np.ndarray:
    """Forecast ``steps`` ahead by feeding each one-step prediction back as the next input step.

    Args:
        model: a trained stateless single-input model mapping ``(batch, timesteps, F)`` to ``(batch, n_targets)``
            (or ``(batch, timesteps, n_targets)``; the last step is used).
        history: ``(T,)``, ``(T, F)`` or ``(n_series, T, F)`` observed values.
        steps: how many steps to forecast (>= 1).
        targets: the input features the model's outputs are fed back into (see
            ``feedback.resolve_targets``). Default None: all features without exogenous, the first
            ``n_targets`` with it.
        exogenous: known future values of the other features, ``(steps, F - n_targets)`` for one series
            or ``(n_series, steps, F - n_targets)``; row i is the time of forecast i (the last row is
            accepted for alignment with the horizon but nothing is predicted after it). Default None.
        window: how many of the last steps the model sees. Default None: the model's declared input
            timesteps when it has them, else the whole growing history, which makes each step cost
            O(T); for O(1) steps carry the state with ``lstmkit.forecast.stateful``.
        batch_size: ``predict``'s batch size. Default None: all series in one batch.

    Returns:
        ``(steps,)`` for a ``(T,)`` history, ``(steps, n_targets)`` for ``(T, F)``,
        ``(n_series, steps, n_targets)`` for ``(n_series, T, F)``.

    Example:
        >>> model = Sequential([Input(shape=(5, 1)), LSTM(8), Dense(1)])
        >>> recursive(model, np.arange(20.0), steps=3).shape
        (3,)
    """
    owner = "recursive"
    _check_model(owner, model)
    series, layout = as_series(owner, history)
    n_series, length, n_features = series.shape
    steps = _validation.positive_int(owner, "steps", steps)
    if len(_model_inputs(model)) > 1:
        raise _validation.value_error(owner, "`model`", "a single-input model", f"a model with "
                                      f"{len(_model_inputs(model))} inputs",
                                      "Use seq2seq() or direct() for models with a future-exogenous input.")
    window = _window(owner, model, length, window)
    if batch_size is not None:
        batch_size = _validation.positive_int(owner, "batch_size", batch_size)
    buffer = np.empty((n_series, length + steps, n_features), dtype=_window_dtype(model, series, exogenous))
    buffer[:, :length] = series
    forecast = exogenous_steps = writer = None
    for i in range(steps):
        end = length + i
        inputs = buffer[:, end - window:end] if window else buffer[:, :end]
        prediction = _one_step(owner, model, inputs, batch_size or n_series)
        if i == 0:
            targets = resolve_targets(targets, n_features, prediction.shape[1], exogenous is not None)
            exogenous_steps = exogenous_array(owner, exogenous, layout, (n_series, steps, n_features - len(targets)))
            forecast = np.empty((n_series, steps, len(targets)), dtype=np.float64)
            exogenous_step = None if exogenous_steps is None else exogenous_steps[:, 0]
            buffer[:, end:end + 1] = next_step(prediction, n_features, targets, exogenous_step)  # checks all
            writer = StepWriter(owner, n_features, targets, prediction.shape)
        else:  # next_step's writes, its checks made at step 0
            writer.check(prediction)
            writer.write(buffer[:, end], prediction, None if exogenous_steps is None else exogenous_steps[:, i])
        forecast[:, i] = prediction
    return restore_layout(layout, forecast)


def direct(model: Any, history: Any, exogenous: Any = None) -> np.ndarray:
    """Forecast a whole horizon with one ``predict`` of a model whose head outputs every step.

    Args:
        model: a stateless model (e.g. ``builders.direct_model``) mapping ``(batch, timesteps, F)`` to
            ``(batch, horizon, n_targets)`` or ``(batch, horizon)`` (one target); a second input for
            known future values is allowed, then ``exogenous`` is required.
        history: ``(T,)``, ``(T, F)`` or ``(n_series, T, F)``; the model sees its last ``timesteps``
            steps when it declares them, else all of them.
        exogenous: ``(horizon, E)`` or ``(n_series, horizon, E)`` known future values, for a model with
            a second input of that shape only. Default None.

    Returns:
        ``(horizon,)``, ``(horizon, n_targets)`` or ``(n_series, horizon, n_targets)`` by ``history``'s layout.

    Example:
        >>> direct(direct_model(lookback=8, n_features=1, horizon=4), np.arange(30.0)).shape
        (4,)
    """
    return _one_shot("direct", model, history, exogenous)


def seq2seq(model: Any, history: Any, exogenous: Any = None) -> np.ndarray:
    """Forecast a whole horizon with one ``predict`` of an encoder-decoder from ``builders.seq2seq_model``.

    Args:
        model: a seq2seq model mapping ``(batch, lookback, F)`` (and, when built with
            ``future_features > 0``, ``(batch, horizon, future_features)``) to ``(batch, horizon, n_targets)``.
        history: ``(T,)``, ``(T, F)`` or ``(n_series, T, F)`` with ``T >= lookback``.
        exogenous: ``(horizon, future_features)`` or ``(n_series, horizon, future_features)``: required
            exactly when the model has the future input. Default None.

    Returns:
        ``(horizon,)``, ``(horizon, n_targets)`` or ``(n_series, horizon, n_targets)`` by ``history``'s layout.

    Example:
        >>> model = seq2seq_model(lookback=8, n_features=2, horizon=4, future_features=1)
        >>> seq2seq(model, np.ones((30, 2)), exogenous=np.ones((4, 1))).shape
        (4, 1)
    """
    return _one_shot("seq2seq", model, history, exogenous)


# -- helpers ------------------------------------------------------------------------------------------------
def _one_shot(owner: str, model: Any, history: Any, exogenous: Any) -> np.ndarray:
    """One predict on the last window (plus the future exogenous input when the model has one)."""
    _check_model(owner, model)
    series, layout = as_series(owner, history)
    n_series, length, _ = series.shape
    inputs = _model_inputs(model)
    if len(inputs) > 2:
        raise _validation.value_error(owner, "`model`", "one input (history) or two (history, future exogenous)",
                                      f"{len(inputs)} inputs", "Wrap the model to take these two inputs.")
    takes_future = len(inputs) == 2
    if takes_future and exogenous is None:
        raise _validation.value_error(owner, "`exogenous`", f"the known future values for the model's second "
                                      f"input {inputs[1].shape}", "None",
                                      "Pass exogenous=(horizon, future_features) per series.")
    if not takes_future and exogenous is not None:
        raise _validation.value_error(owner, "`exogenous`", "None for a model with one input",
                                      _validation.describe_array(np.asarray(exogenous)),
                                      "Build the model with a future input (seq2seq_model(future_features=...)).")
    window = _window(owner, model, length, None)
    x: Any = series[:, -window:] if window else series
    if takes_future:
        future_shape = tuple(inputs[1].shape[1:])
        expected = (n_series, *future_shape) if len(future_shape) == 2 else (n_series, None, None)
        x = [x, exogenous_array(owner, exogenous, layout, expected)]
    output = model.predict(x, batch_size=n_series, verbose=0)
    if isinstance(output, (list, tuple, dict)):
        raise _validation.value_error(owner, "`model`", "a single-output model", f"{len(output)} outputs",
                                      "Forecast with a model that has one output.")
    output = np.asarray(output, dtype=np.float64)
    if output.ndim == 2:
        output = output[:, :, None]
    if output.ndim != 3:
        raise _validation.value_error(owner, "the model's output", "(batch, horizon, n_targets) or "
                                      "(batch, horizon)", _validation.describe_array(output),
                                      "End the model in Dense(horizon * n_targets) + Reshape((horizon, n_targets)).")
    return restore_layout(layout, output)


def _window_dtype(model: Any, series: np.ndarray, exogenous: Any) -> type:
    """float32 for the fed-back windows when that changes nothing: an lstmkit model's ``predict`` reads
    any float array as float32 (Keras's floatx), so rounding its predictions and a history of float32
    values to float32 first gives it the same input, without a conversion per step. Else float64."""
    if (exogenous is None and getattr(type(model), "predict", None) is Trainer.predict
            and "predict" not in getattr(model, "__dict__", {})  # not replaced on the instance
            and np.array_equal(series, series.astype(np.float32))):
        return np.float32
    return np.float64


def _check_model(owner: str, model: Any) -> None:
    if not callable(getattr(model, "predict", None)):
        raise _validation.type_error(owner, "`model`", "an lstmkit model (with predict)", type(model).__name__)
    stateful = [m.name for m in model.modules() if isinstance(m, RNN) and m.stateful] \
        if hasattr(model, "modules") else []
    if stateful:
        raise _validation.value_error(
            owner, "`model`", "a stateless model (each call sees a whole window)",
            f"stateful layer(s) {stateful}",
            "Use lstmkit.forecast.stateful to forecast with carried state, or rebuild the model with "
            "stateful=False and copy the weights (set_weights(get_weights())).")


def _model_inputs(model: Any) -> list:
    try:
        return list(getattr(model, "inputs", None) or [])
    except (AttributeError, TypeError):
        return []


def model_timesteps(model: Any) -> int | None:
    """The fixed input timesteps a model declares (``Input(shape=(T, F))``, ``input_shape=``), else None."""
    inputs = _model_inputs(model)
    shape = tuple(getattr(inputs[0], "shape", ())) if inputs else ()
    return int(shape[1]) if len(shape) == 3 and shape[1] is not None else None


def _window(owner: str, model: Any, length: int, window: int | None) -> int | None:
    """The number of last steps the model sees (None: all of them), checked against the history."""
    declared = model_timesteps(model)
    if window is not None:
        window = _validation.positive_int(owner, "window", window)
        if declared is not None and window != declared:
            raise _validation.value_error(owner, "`window`", f"the model's input timesteps ({declared})",
                                          str(window), "Leave window=None to use the model's.")
    else:
        window = declared
    if window is not None and length < window:
        raise _validation.value_error(owner, "`history`", f"at least {window} steps (the model's input window)",
                                      f"{length} steps", f"Pass a history of >= {window} steps.")
    return window


def _one_step(owner: str, model: Any, inputs: np.ndarray, batch_size: int) -> np.ndarray:
    output = model.predict(inputs, batch_size=batch_size, verbose=0)
    prediction = last_step_output(output)
    if prediction.shape[0] != inputs.shape[0]:
        raise _validation.value_error(owner, "the model's output", f"one row per series ({inputs.shape[0]})",
                                      _validation.describe_array(prediction))
    return prediction
