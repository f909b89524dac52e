"""tf.keras 2 / Keras 1 spellings that tutorials still use, mapped onto today's methods.

``fit_generator`` / ``evaluate_generator`` / ``predict_generator`` call ``fit`` / ``evaluate`` / ``predict``
with a ``DeprecationWarning`` (as tf.keras 2 did before Keras 3 removed them); Keras 1's ``nb_epoch``,
``nb_val_samples``-free spellings such as ``samples_per_epoch`` are refused with the fix, since they counted
samples, not steps. ``workers`` / ``use_multiprocessing`` / ``max_queue_size`` (tf.keras 2's loader
arguments) are accepted by ``fit`` / ``evaluate`` / ``predict``: they only change how batches are loaded.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import _validation

LOADER_ARGUMENTS = ("workers", "use_multiprocessing", "max_queue_size")


def loader_arguments(owner: str, kwargs: dict) -> None:
    """Pop and check tf.keras 2's loader arguments from ``kwargs``; any other leftover is a TypeError."""
    for name in LOADER_ARGUMENTS:
        if name not in kwargs:
            continue
        value = kwargs.pop(name)
        if name == "use_multiprocessing":
            _validation.boolean(owner, name, value)
        else:
            _validation.positive_int(owner, name, value)
    for old, new in (("samples_per_epoch", "steps_per_epoch"), ("nb_val_samples", "validation_steps"),
                     ("val_samples", "steps")):
        if old in kwargs:
            raise _validation.type_error(owner, old, f"Keras 2's {new} (a number of batches, not samples)",
                                         f"Keras 1's {old}={kwargs[old]!r}",
                                         f"Pass {new}=ceil({old} / batch_size).")
    if kwargs:
        raise _validation.type_error(owner, "its arguments", f"Keras {owner} arguments",
                                     f"unknown {sorted(kwargs)}")


def _call_renamed(model: Any, old: str, new: str, arguments: dict) -> Any:
    """``model.<new>(generator, ...)`` with the old method's arguments (its ``locals()``), after a
    DeprecationWarning that names ``old`` at the caller's line. Why: the three ``*_generator`` methods differ
    only in which method they forward to."""
    warnings.warn(f"Model.{old} is deprecated (removed in Keras 3); use Model.{new}, which accepts generators "
                  "and PyDatasets.", DeprecationWarning, stacklevel=3)
    arguments = {key: value for key, value in arguments.items() if key != "self" and not key.startswith("__")}
    legacy = arguments.pop("legacy", {})
    return getattr(model, new)(arguments.pop("generator"), **arguments, **legacy)


class LegacyMethods:
    """``fit_generator`` & co. and Keras 2's ``predict_classes`` / ``predict_proba`` on ``Model`` and
    ``Sequential``."""

    def predict_classes(self, x: Any, batch_size: int = 32, verbose: Any = 0) -> Any:
        """Keras 2 (removed in TF 2.6): the argmax class for a softmax output, ``probability > 0.5`` (int32,
        shape ``(n, 1)``) for a single sigmoid unit."""
        warnings.warn("Model.predict_classes is deprecated (removed in tf.keras 2.6); use "
                      "np.argmax(model.predict(x), axis=-1), or (model.predict(x) > 0.5).astype('int32') for a "
                      "sigmoid output.", DeprecationWarning, stacklevel=2)
        import numpy as np

        probabilities = self.predict(x, batch_size=batch_size, verbose=verbose)
        if isinstance(probabilities, (list, dict)):
            raise _validation.value_error("predict_classes", "the model", "one output", "several outputs")
        if probabilities.shape[-1] > 1:
            return probabilities.argmax(axis=-1)
        return (probabilities > 0.5).astype("int32")

    def predict_proba(self, x: Any, batch_size: int = 32, verbose: Any = 0) -> Any:
        """Keras 2: ``predict`` under its old name for probability outputs."""
        warnings.warn("Model.predict_proba is deprecated (removed in tf.keras 2.6); use model.predict(x).",
                      DeprecationWarning, stacklevel=2)
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None, epochs: int = 1,
                      verbose: Any = 1, callbacks: list | None = None, validation_data: Any = None,
                      validation_steps: int | None = None, validation_freq: int = 1,
                      class_weight: dict | None = None, max_queue_size: int = 10, workers: int = 1,
                      use_multiprocessing: bool = False, shuffle: bool = True, initial_epoch: int = 0,
                      **legacy: Any) -> Any:
        """tf.keras 2's ``fit_generator``: ``fit(generator, ...)`` with a DeprecationWarning."""
        return _call_renamed(self, "fit_generator", "fit", locals())

    def evaluate_generator(self, generator: Any, steps: int | None = None, callbacks: list | None = None,
                           max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                           verbose: Any = 0) -> Any:
        """tf.keras 2's ``evaluate_generator``: ``evaluate(generator, ...)`` with a DeprecationWarning."""
        return _call_renamed(self, "evaluate_generator", "evaluate", locals())

    def predict_generator(self, generator: Any, steps: int | None = None, callbacks: list | None = None,
                          max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                          verbose: Any = 0) -> Any:
        """tf.keras 2's ``predict_generator``: ``predict(generator, ...)`` with a DeprecationWarning."""
        return _call_renamed(self, "predict_generator", "predict", locals())
