"""Turning a model's one-step prediction into the next input step: the one place that does it.

Every step-by-step strategy (``recursive`` here, the carried-state one in ``forecast.stateful``) uses
these three functions, so the feature layout of a fed-back step is decided once:

* ``resolve_targets``: which input features the model's outputs stand for.
* ``last_step_output``: a model's output reduced to one ``(batch, n_out)`` step.
* ``next_step``: the ``(batch, 1, n_features)`` input step built from the prediction and the known
  future values of the other (exogenous) features.
* ``StepWriter``: ``next_step``'s writes without its checks, for the steps after a first one that
  ``next_step`` checked (a loop of many small steps need not check the same layout each time).
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np

from .. import _validation


def resolve_targets(targets: Sequence[int] | None, n_features: int, n_out: int,
                    has_exogenous: bool) -> list[int]:
    """The input feature positions that the model's ``n_out`` outputs are fed back into, validated.

    Args:
        targets: feature positions (ints in ``[0, n_features)``, no repeats), one per model output, in
            output order; None picks the default below. Default None.
        n_features: features per input step.
        n_out: values the model predicts per step.
        has_exogenous: whether the future values of the other features are given.

    Returns:
        A list of ``n_out`` ints. Default without exogenous: every feature is fed back, so ``n_out`` must
        equal ``n_features`` (``[0, ..., n_features - 1]``); with exogenous: the first ``n_out`` features.

    Example:
        >>> resolve_targets(None, 3, 1, has_exogenous=True)
        [0]
    """
    owner = "resolve_targets"
    n_features = _validation.positive_int(owner, "n_features", n_features)
    n_out = _validation.positive_int(owner, "n_out", n_out)
    if targets is None:
        if not has_exogenous and n_out != n_features:
            raise _validation.value_error(
                owner, "the model's outputs", f"one value per input feature ({n_features}) when no exogenous "
                "values are given, since every feature is fed back", f"{n_out} output(s) per step",
                f"Pass `exogenous` with the known future values of the other {n_features - n_out} feature(s)"
                if n_out < n_features else "Make the model predict one value per input feature.")
        targets = list(range(n_out))
    targets = _check_positions(owner, targets, n_features)
    if len(targets) != n_out:
        raise _validation.value_error(owner, "`targets`", f"one feature position per model output ({n_out})",
                                      f"{len(targets)} position(s) {targets}",
                                      "List the input feature each output stands for, in output order.")
    if has_exogenous and len(targets) == n_features:
        raise _validation.value_error(owner, "`exogenous`", "None when every feature is a target",
                                      f"exogenous values, but targets {targets} cover all {n_features} features",
                                      "Drop `exogenous`, or name fewer `targets`.")
    if not has_exogenous and len(targets) < n_features:
        raise _validation.value_error(owner, "`exogenous`", f"the future values of the {n_features - n_out} "
                                      "non-target feature(s)", "None",
                                      "Pass `exogenous` (known future covariates), or target every feature.")
    return targets


def _check_positions(owner: str, targets: Any, n_features: int) -> list[int]:
    if isinstance(targets, numbers.Integral) and not isinstance(targets, bool):
        targets = [targets]
    try:
        values = list(targets)
    except TypeError:
        raise _validation.type_error(owner, "`targets`", "a list of feature positions (ints)",
                                     repr(targets)) from None
    if not values or any(isinstance(t, bool) or not isinstance(t, numbers.Integral) for t in values):
        raise _validation.type_error(owner, "`targets`", "a non-empty list of feature positions (ints)",
                                     repr(targets))
    values = [int(t) for t in values]
    bad = [t for t in values if not 0 <= t < n_features]
    if bad:
        raise _validation.value_error(owner, "`targets`", f"positions in [0, {n_features - 1}]",
                                      f"{values} (out of range: {bad})",
                                      f"The input has {n_features} feature(s) per step.")
    if len(set(values)) != len(values):
        raise _validation.value_error(owner, "`targets`", "distinct positions", f"{values}",
                                      "Each output is fed back into one feature.")
    return values


def last_step_output(output: Any) -> np.ndarray:
    """A model's output as one ``(batch, n_out)`` step: the last step of a sequence output.

    Args:
        output: ``(batch, n_out)`` (passed through) or ``(batch, T, n_out)`` from a model that returns
            sequences (the last step ``[:, -1]`` is taken); NumPy or a torch tensor.

    Returns:
        A float NumPy array of shape ``(batch, n_out)``.

    Example:
        >>> last_step_output(np.zeros((4, 10, 2))).shape
        (4, 2)
    """
    owner = "last_step_output"
    if isinstance(output, (list, tuple, dict)):
        raise _validation.value_error(owner, "`output`", "one array (a single-output model)",
                                      f"a {type(output).__name__} of {len(output)} outputs",
                                      "Forecast with a model that has one output, or wrap it to return one.")
    if hasattr(output, "detach"):
        output = output.detach().cpu().numpy()
    array = np.asarray(output)
    if array.ndim == 3:
        return array[:, -1, :]
    if array.ndim == 2:
        return array
    raise _validation.value_error(owner, "`output`", "a (batch, n_out) or (batch, timesteps, n_out) array",
                                  _validation.describe_array(array),
                                  "The model must predict a vector of values per sample (end it in Dense).")


def next_step(prediction: Any, n_features: int, targets: Sequence[int],
              exogenous_step: Any = None) -> np.ndarray:
    """The next input step: the prediction in the ``targets`` positions, exogenous values in the rest.

    Args:
        prediction: ``(batch, n_targets)`` one-step prediction (``len(targets) == n_targets``).
        n_features: features per input step.
        targets: the feature positions of the prediction's columns, in column order (see
            ``resolve_targets``).
        exogenous_step: ``(batch, n_features - n_targets)`` known values of the other features at the
            predicted time, filling the non-target positions in increasing order; required when
            ``n_targets < n_features``. Default None.

    Returns:
        A float64 NumPy array of shape ``(batch, 1, n_features)``.

    Example:
        >>> next_step(np.array([[9.0]]), 3, [1], np.array([[1.0, 2.0]]))
        array([[[1., 9., 2.]]])
    """
    owner = "next_step"
    n_features = _validation.positive_int(owner, "n_features", n_features)
    targets = _check_positions(owner, targets, n_features)
    prediction = np.asarray(prediction, dtype=np.float64)
    if prediction.ndim != 2 or prediction.shape[1] != len(targets):
        raise _validation.value_error(owner, "`prediction`", f"shape (batch, {len(targets)}): one column per "
                                      f"target {targets}", _validation.describe_array(prediction),
                                      "Pass last_step_output(model output), or fix `targets`.")
    batch = prediction.shape[0]
    writer = StepWriter(owner, n_features, targets, prediction.shape)
    others = writer.others
    step = np.empty((batch, 1, n_features), dtype=np.float64)
    if not others:
        if exogenous_step is not None and np.asarray(exogenous_step).size:
            raise _validation.value_error(owner, "`exogenous_step`", "None when every feature is a target",
                                          _validation.describe_array(np.asarray(exogenous_step)),
                                          "Drop `exogenous_step`, or name fewer `targets`.")
        writer.write(step[:, 0], prediction)
        return step
    if exogenous_step is None:
        raise _validation.value_error(owner, "`exogenous_step`", f"shape ({batch}, {len(others)}): the known "
                                      f"values of features {others}", "None",
                                      "Pass the future exogenous values for this step.")
    exogenous_step = np.asarray(exogenous_step, dtype=np.float64)
    if exogenous_step.shape != (batch, len(others)):
        raise _validation.value_error(owner, "`exogenous_step`", f"shape ({batch}, {len(others)}): the known "
                                      f"values of features {others}", _validation.describe_array(exogenous_step),
                                      "One row per series, one column per non-target feature in order.")
    writer.write(step[:, 0], prediction, exogenous_step)
    return step


class StepWriter:
    """Writes fed-back steps laid out as ``next_step`` lays them out, once ``next_step`` has checked the
    layout on a first step: ``write(row, prediction, exogenous_step)`` fills ``row (batch, n_features)`` in
    place; ``check(prediction)`` refuses a prediction of another shape than the first one's (``shape``),
    which would otherwise be broadcast into the targets. Contiguous targets are written through a slice."""

    def __init__(self, owner: str, n_features: int, targets: Sequence[int], shape: tuple):
        self.owner, self.shape = owner, tuple(shape)
        self.others = [i for i in range(n_features) if i not in set(targets)]
        first, k = targets[0], len(targets)
        self.targets = slice(first, first + k) if list(targets) == list(range(first, first + k)) else list(targets)

    def check(self, prediction: np.ndarray) -> None:
        if prediction.shape != self.shape:
            raise _validation.value_error(self.owner, "the model's output", f"shape {self.shape} at every step "
                                          "(as at the first)", _validation.describe_array(prediction))

    def write(self, row: np.ndarray, prediction: np.ndarray, exogenous_step: Any = None) -> None:
        row[:, self.targets] = prediction
        if self.others and exogenous_step is not None:
            row[:, self.others] = exogenous_step
