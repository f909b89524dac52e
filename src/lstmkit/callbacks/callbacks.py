"""Keras callbacks: hooks into ``fit`` / ``evaluate`` / ``predict`` with Keras's names, arguments and rules.

``Callback`` has every Keras hook; ``History`` records epoch logs (``fit`` returns it);
``EarlyStopping``, ``ModelCheckpoint`` (atomic writes, ``{epoch}`` / ``{val_loss}`` in file names),
``LearningRateScheduler``, ``ReduceLROnPlateau``, ``CSVLogger``, ``TerminateOnNaN``, ``LambdaCallback``
and ``ProgbarLogger`` (Keras's bar of ``verbose=1`` and one line per epoch of ``verbose=2``).
"""

from __future__ import annotations

import csv
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np
import torch

from .. import _validation
from .progbar import Progbar


class Callback:
    """Base class: override any hook. ``self.model`` is the model being trained, ``self.params`` the
    run's settings (``epochs``, ``steps``, ``verbose``)."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # Keras 2 names, still called by Keras 3 for old user code
    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...


BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
               "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class CallbackList:
    """Calls every callback's hook in order. ``wants_batch_logs`` tells the loop whether per-batch metric
    values must be computed (reading them synchronises with the GPU)."""

    def __init__(self, callbacks: Iterable[Callback] | None, model: Any, params: dict):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise _validation.type_error("fit", "callbacks", "lstmkit.callbacks.Callback objects",
                                             type(cb).__name__)
            cb.set_model(model)
            cb.set_params(params)
        self.wants_batch_logs = any(  # overridden in a subclass, or set on the instance (LambdaCallback)
            hook in vars(cb) or getattr(type(cb), hook) is not getattr(Callback, hook)
            for cb in self.callbacks if not _quiet_bar(cb) for hook in BATCH_HOOKS)
        # only lstmkit's History (whose batch hooks are the base class's no-ops): a loop may skip the batch
        # calls; a user's callback sees every hook called, overridden or not, as in Keras
        self.only_epoch_hooks = all(type(cb) is History for cb in self.callbacks)

    def call(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)
            if hook == "on_train_batch_begin":
                cb.on_batch_begin(*args)
            elif hook == "on_train_batch_end":
                cb.on_batch_end(*args)


def _quiet_bar(cb: Callback) -> bool:
    """lstmkit's own ProgbarLogger below ``verbose=1``: it counts batches but shows no per-batch values
    (``verbose=2`` prints the epoch's logs once), so its batch hooks need no per-batch logs."""
    return type(cb) is ProgbarLogger and cb.verbose != 1 and not any(hook in vars(cb) for hook in BATCH_HOOKS)


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]``, ``history.epoch``."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


def _monitor_mode(owner: str, monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise _validation.value_error(owner, "mode", "'auto', 'min' or 'max'", repr(mode))
    if mode != "auto":
        return mode
    return "max" if monitor.endswith(("acc", "accuracy", "auc")) else "min"


def _monitored(owner: str, monitor: str, logs: dict | None) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{owner}: the monitored value {monitor!r} is not in the logs (available: "
                      f"{', '.join(sorted(logs or {}))}); pass validation data for val_* values.", stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: the logged value to watch (default ``"val_loss"``).
        min_delta: the smallest change that counts as an improvement (default 0).
        patience: epochs without improvement before stopping (default 0).
        verbose: 1 prints when it stops and when it restores weights.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (max for accuracy / auc names, else min).
        baseline: a value the monitor must beat; epochs that do not count towards patience.
        restore_best_weights: at the end of training, put back the weights of the best epoch.
        start_from_epoch: epochs to wait before watching.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__()
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.mode = _monitor_mode("EarlyStopping", monitor, mode)
        self.min_delta = abs(float(min_delta)) * (1 if self.mode == "max" else -1)

    def _improved(self, value: float, reference: float) -> bool:
        if self.mode == "max":
            return value - self.min_delta > reference
        return value - self.min_delta < reference

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_weights: list[torch.Tensor] | None = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = _monitored("EarlyStopping", self.monitor, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _snapshot(self.model)
        self.wait += 1
        if self._improved(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.model)
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0  # restart the count only when the baseline is beaten too
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            _restore(self.model, self.best_weights)


def _snapshot(model: Any) -> list[torch.Tensor]:
    return [w.detach().clone() for w in model.weights]


def _restore(model: Any, weights: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for param, value in zip(model.weights, weights):
            param.copy_(value)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during training; every write is atomic.

    Args:
        filepath: where to save; may hold ``{epoch}`` (1-based) and any log, e.g.
            ``"ckpt-{epoch:02d}-{val_loss:.3f}.lstmkit"``. The suffix picks the format (see ``Model.save``).
        monitor / mode: the value compared with ``save_best_only`` (default ``"val_loss"``, auto).
        save_best_only: save only when ``monitor`` improves.
        save_weights_only: ``save_weights`` instead of ``save``.
        save_freq: ``"epoch"`` or a number of batches.
        initial_value_threshold: a value the first save must beat (with ``save_best_only``).
    """

    def __init__(self, filepath: str | Path, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None):
        super().__init__()
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.mode = _monitor_mode("ModelCheckpoint", monitor, mode)
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise _validation.value_error("ModelCheckpoint", "save_freq", "'epoch' or a positive number of batches",
                                          repr(save_freq))
        self.save_freq = save_freq
        default = -math.inf if self.mode == "max" else math.inf
        self.best = default if initial_value_threshold is None else float(initial_value_threshold)
        self._batches = 0
        self._epoch = 0

    def _improved(self, value: float) -> bool:
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self._epoch, logs, batch)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def _save(self, epoch: int, logs: dict | None, batch: int | None = None) -> None:
        logs = dict(logs or {})
        path = self._path(epoch, logs, batch)
        if self.save_best_only:
            current = _monitored("ModelCheckpoint", self.monitor, logs)
            if current is None or not self._improved(current):
                if self.verbose > 0 and current is not None:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _path(self, epoch: int, logs: dict, batch: int | None) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, batch=None if batch is None else batch + 1, **logs)
        except KeyError as error:
            raise _validation.value_error("ModelCheckpoint", "filepath", "placeholders among {epoch} and the "
                                          f"logged values ({', '.join(sorted(logs))})",
                                          f"{self.filepath!r} with {{{error.args[0]}}}") from None


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from ``schedule(epoch, lr)`` (or ``schedule(epoch)``).

    A Keras ``LearningRateSchedule`` (e.g. ``ExponentialDecay``) works too: it is called with the epoch.
    """

    def __init__(self, schedule: Callable, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        optimizer = self.model.optimizer
        current = float(optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, current)
        except TypeError:  # a one-argument schedule (Keras's rule)
            lr = self.schedule(epoch)
        lr = float(lr.item() if torch.is_tensor(lr) else lr)
        if not math.isfinite(lr):
            raise _validation.value_error("LearningRateScheduler", "schedule's output", "a finite float",
                                          repr(lr))
        optimizer.learning_rate = lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving for ``patience`` epochs.

    Args: monitor ("val_loss"), factor (0.1), patience (10), verbose, mode ("auto"), min_delta (1e-4),
        cooldown (epochs to wait after a reduction, 0), min_lr (0).
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        if factor >= 1.0:
            raise _validation.value_error("ReduceLROnPlateau", "factor", "a value below 1.0", repr(factor),
                                          "The learning rate is multiplied by it; use e.g. 0.5.")
        self.monitor, self.factor, self.patience, self.verbose = monitor, float(factor), int(patience), verbose
        self.mode = _monitor_mode("ReduceLROnPlateau", monitor, mode)
        self.min_delta, self.cooldown, self.min_lr = float(min_delta), int(cooldown), float(min_lr)

    def _improved(self, value: float) -> bool:
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.best = -math.inf if self.mode == "max" else math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = _monitored("ReduceLROnPlateau", self.monitor, logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                if np.float32(old) > np.float32(self.min_lr):  # the rate is stored in float32
                    new = max(old * self.factor, self.min_lr)
                    optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class CSVLogger(Callback):
    """Append one CSV row per epoch (``epoch`` and every logged value) to ``filename``."""

    def __init__(self, filename: str | Path, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = Path(filename), separator, append
        self._file = None
        self._writer = None
        self._keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        exists = self.append and self.filename.exists() and self.filename.stat().st_size > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header_written = exists
        self._keys = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self._keys], delimiter=self.separator)
            if not self._header_written:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self._keys}}
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, **hooks: Callable):
        super().__init__()
        for name, fn in hooks.items():
            if not hasattr(Callback, name):
                raise _validation.value_error("LambdaCallback", name, "a Callback hook name (e.g. on_epoch_end)",
                                              repr(name))
            setattr(self, name, fn)


class ProgbarLogger(Callback):
    """Keras's progress display (``verbose=1`` a bar per epoch, ``verbose=2`` one line per epoch), as Keras 3's
    ``ProgbarLogger``: ``Epoch i/N`` when there are several epochs, validation inside ``fit`` silent, metrics
    shown as the model reports them (running means). The bar itself is ``lstmkit.utils.Progbar``.

    Args: verbose (1), file (lstmkit: the stream, default ``sys.stdout``); Keras 2's ``count_mode`` ("steps")
    and ``stateful_metrics`` are accepted (every metric is already shown as reported).
    """

    def __init__(self, verbose: int = 1, file: Any = None, count_mode: str = "steps",
                 stateful_metrics: Any = None):
        super().__init__()
        _validation.choice("ProgbarLogger", "count_mode", count_mode, ("steps",))
        self.verbose = verbose
        self.file = file
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.seen = 0
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", self.verbose)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs") or 1
        self.target = params.get("steps")

    def _reset(self) -> None:
        self.seen = 0
        self.progbar = None

    def _bar(self) -> "Progbar":
        if self.progbar is None:
            self.progbar = Progbar(self.target, verbose=self.verbose, unit_name="step", stateless_metrics=set(),
                                   file=self.file)
        return self.progbar

    def _update(self, batch: int, logs: dict | None) -> None:
        self.seen = batch + 1
        if self.verbose == 1:
            self._bar().update(self.seen, _keras_order(logs), finalize=False)

    def _finalize(self, logs: dict | None) -> None:
        bar = self._bar()
        if self.target is None:
            self.target = bar.target = self.seen
        bar.update(self.target, _keras_order(logs), finalize=True)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._called_in_fit = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._reset()
        self._bar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", file=self.file or sys.stdout, flush=True)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._finalize(logs)

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._reset()
            self._bar()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._reset()
        self._bar()

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._update(batch, None)  # Keras does not show predictions

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._finalize(None)


def _keras_order(logs: dict | None) -> list[tuple[str, float]]:
    """Logs as Keras 3 hands them to callbacks: names sorted, the ``val_`` ones after the training ones."""
    return [(k, float(v)) for k, v in sorted((logs or {}).items(), key=lambda kv: (kv[0].startswith("val_"),
                                                                                   kv[0]))]


def format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {_number(v)}" for k, v in logs.items())


def _number(value: Any) -> str:
    value = float(value)
    return f"{value:.4e}" if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5) else f"{value:.4f}"
