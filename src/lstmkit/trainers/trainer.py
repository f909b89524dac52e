"""``compile`` / ``fit`` / ``evaluate`` / ``predict`` and the ``*_on_batch`` methods every lstmkit model has.

Keras's rules, kept where users rely on them: ``validation_split`` takes the *last* fraction before
shuffling; a stateful model keeps its states across the batches of an epoch (and needs batches that
divide the data); regularization penalties join the loss; constraints run after each optimizer step;
dropout is on only in training steps. Training runs on ``compile(device=...)``'s device (the GPU when
there is one, by default).
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings
from typing import Any, Iterable

import numpy as np
import torch

from .. import _validation
from ..mixed_precision.loss_scale_optimizer import LossScaleOptimizer
from ..mixed_precision.policy import to_numpy
from ..ops import buffer_pool
from ..ops import constraints as constraints_mod
from ..layers.base import Layer, call_is_forward, train_call_of, train_calls_allowed
from ..data.batching import StatefulBatches
from ..layers.rnn.rnn import RNN
from ..callbacks import callbacks as callbacks_mod
from . import compiled
from . import data_adapter as data
from . import distributed
from . import legacy as legacy_mod
from ..losses import losses as losses_mod
from ..metrics import metrics as metrics_mod
from ..optimizers import base_optimizer as optimizer_base
from .plan import mode, plan
from .streams import StreamState, stream_ids


class Trainer:
    """The training API mixed into ``Model`` (and so ``Sequential``)."""

    optimizer: Any = None
    compiled = False
    stop_training = False
    history: Any = None

    # -- compile --------------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None, loss_weights: Any = None,
                weighted_metrics: Any = None, run_eagerly: Any = None, steps_per_execution: int = 1,
                jit_compile: Any = "auto", auto_scale_loss: bool = True, device: str | torch.device | None = "auto",
                **kwargs: Any) -> None:
        """Configure training.

        Args:
            optimizer: a name (``"adam"``, ``"Nadam"``), a Keras serialized dict or an optimizer object.
            loss: a name (``"mse"``, ``"huber"``), a loss object or ``fn(y_true, y_pred)``; a list / dict
                (by output name) for several outputs.
            metrics: names (``"mae"``, ``"acc"``, ``"rmse"``), metric objects or callables; a dict by output
                name or a list of lists for several outputs (a flat list applies to every output).
            loss_weights: weights of the outputs' losses in the total (list or dict).
            device: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
            jit_compile: ``True`` runs the train and predict steps through ``torch.compile`` (see
                ``models.compiled``); ``"auto"`` (default), ``False`` or ``run_eagerly=True``: eager steps.
        Keras-only arguments (``run_eagerly``, ``steps_per_execution``) are accepted and have no other effect.
        """
        from ..optimizers import optimizers as optimizers_mod  # models.optimizers

        unknown = set(kwargs) - {"sample_weight_mode", "target_tensors", "experimental_run_tf_function"}
        if unknown:
            raise _validation.type_error(f"{type(self).__name__}.compile", "its arguments",
                                         "optimizer, loss, metrics, loss_weights, device", f"unknown {sorted(unknown)}")
        if loss is None:
            raise _validation.value_error(f"{type(self).__name__}.compile", "loss", "a loss for training "
                                          "(e.g. loss='mse')", "None")
        self._compiled_steps = compiled.CompiledSteps(self) if compiled.wanted(jit_compile, run_eagerly) else None
        self.optimizer = optimizers_mod.get(optimizer)
        if auto_scale_loss and self.dtype_policy.name == "mixed_float16" and self.optimizer is not None and \
                not isinstance(self.optimizer, LossScaleOptimizer):  # as Keras: float16 needs a loss scale
            self.optimizer = LossScaleOptimizer(self.optimizer)
        self._optimizer_params = None  # bound to the trainable weights at the first step
        self._step_plan = None  # (parameter, constraint) pairs, found again at each fit / train_on_batch
        self.loss = loss
        self._loss_spec, self._loss_weights_spec = loss, loss_weights
        self._metrics_spec, self._weighted_metrics_spec = metrics, weighted_metrics
        self._compiled_losses: list | None = None  # resolved at the first step, when outputs are known
        self._compiled_metrics: list | None = None
        self._loss_tracker = metrics_mod.Mean(name="loss")
        self.device = resolve_device(device)
        if any(True for _ in self.parameters()):
            self.to(self.device)
        self.compiled = True
        self.stop_training = False

    def _assert_compiled(self, what: str) -> None:
        if not self.compiled:
            raise _validation.value_error(f"{type(self).__name__} '{self.name}'", what, "a compiled model",
                                          "a model that was never compiled",
                                          "Call model.compile(optimizer='adam', loss='mse') first.")

    # -- outputs, losses, metrics -----------------------------------------------------------------------
    def output_names(self, count: int) -> list[str]:
        outputs = getattr(self, "outputs", None) or []
        if len(outputs) == count and all(t.history for t in outputs):
            structure = getattr(self, "_output_structure", None)
            if isinstance(structure, dict):
                return list(structure)
            return [t.history[0].name for t in outputs]
        return ["output"] if count == 1 else [f"output_{i + 1}" for i in range(count)]

    def _resolve(self, count: int) -> None:
        """Match the compiled losses, loss weights and metrics to the model's ``count`` outputs."""
        if self._compiled_losses is not None:
            if getattr(self, "_output_names", None) is None:  # resolved by a copy made before it was kept
                self._output_names = self.output_names(count)
            return
        names = self.output_names(count)
        self._output_names = names  # the losses are bound to these outputs until compile() runs again
        specs = per_output(self._loss_spec, names, "loss")
        self._compiled_losses = [None if s is None else losses_mod.get(s) for s in specs]
        weights = per_output(self._loss_weights_spec, names, "loss_weights", default=1.0)
        self._loss_weights = [1.0 if w is None else float(w) for w in weights]
        self._compiled_metrics = []  # (output index, metric, log name, weighted by sample_weight)
        for weighted, spec in ((False, self._metrics_spec), (True, self._weighted_metrics_spec)):
            for i, specs_i in enumerate(per_output(spec, names, "metrics", metrics_list=True)):
                for item in specs_i or []:
                    metric = metrics_mod.get(item, loss=specs[i])
                    if any(m is metric for _, m, _, _ in self._compiled_metrics):
                        metric = copy.deepcopy(metric)  # one object listed for several outputs: one per output
                    log_name = metric.name if count == 1 else f"{names[i]}_{metric.name}"
                    if weighted and log_name in [n for _, _, n, _ in self._compiled_metrics]:
                        log_name = f"weighted_{log_name}"  # Keras 2's name when both lists hold a metric
                    self._compiled_metrics.append((i, metric, log_name, weighted))
        self._output_loss_trackers = ([metrics_mod.Mean(name=f"{n}_loss") for n in names] if count > 1 else [])

    def _reset_metrics(self) -> None:
        self._loss_tracker.reset_state()
        for tracker in getattr(self, "_output_loss_trackers", []):
            tracker.reset_state()
        for _, metric, _, _ in self._compiled_metrics or []:
            metric.reset_state()

    def _logs(self) -> dict[str, float]:
        replicas = distributed.current(self)  # several processes: the metrics summed over them
        return replicas.logs(self, self._local_logs) if replicas is not None else self._local_logs()

    def _local_logs(self) -> dict[str, float]:
        logs = {"loss": self._loss_tracker.result_float()}
        for tracker in getattr(self, "_output_loss_trackers", []):
            logs[tracker.name] = tracker.result_float()
        for _, metric, name, _ in self._compiled_metrics or []:
            logs[name] = metric.result_float()
        return logs

    @property
    def metrics_names(self) -> list[str]:
        names = ["loss"] + [t.name for t in getattr(self, "_output_loss_trackers", [])]
        return names + [name for _, _, name, _ in self._compiled_metrics or []]

    def compute_loss(self, y: Any, y_pred: Any, sample_weight: Any = None, count_batch: int | None = None
                     ) -> torch.Tensor:
        """The training loss: every output's loss times its weight, plus the layers' regularization losses."""
        preds = flat_outputs(y_pred)
        self._resolve(len(preds))
        names = self._output_names
        targets = flat_targets(y, len(preds), names)
        total = single_loss(self, preds, targets, sample_weight)
        if total is None:
            total = torch.zeros((), device=preds[0].device, dtype=preds[0].dtype)
            for i, (loss_fn, weight) in enumerate(zip(self._compiled_losses, self._loss_weights)):
                if loss_fn is None:
                    continue
                if targets[i] is None:
                    raise _validation.value_error("fit", "y", f"a target for output '{names[i]}'", "none",
                                                  "Pass y as a list / dict with one array per output.")
                value = loss_fn(targets[i], preds[i], output_weight(sample_weight, i, names))
                if self._output_loss_trackers and count_batch:
                    self._output_loss_trackers[i].update_state(value.detach(), sample_weight=count_batch)
                total = total + weight * value
        penalties = self.losses if plan(self).may_have_penalties() else None
        if penalties:
            total = total + torch.stack([p.to(total.device) for p in penalties]).sum()
        return total

    def _update_metrics(self, y: Any, y_pred: Any, sample_weight: Any) -> None:
        if not self._compiled_metrics:
            return
        preds = flat_outputs(y_pred)
        names = self._output_names
        targets = flat_targets(y, len(preds), names)
        with torch.no_grad():
            for i, metric, _, weighted in self._compiled_metrics:  # Keras: only weighted_metrics see weights
                metric.update_state(targets[i], preds[i], output_weight(sample_weight, i, names) if weighted else None)

    # -- one step ------------------------------------------------------------------------------------------
    def train_step(self, x: Any, y: Any, sample_weight: Any = None) -> None:
        """One optimizer step on one batch: forward with dropout on, loss, backward, update, constraints."""
        x, y, sample_weight = self._to_model_device(x, y, sample_weight)
        replicas = distributed.current(self)  # DDP: the forward through its wrapper, the loss weighted
        batch = batch_count(x)
        steps = getattr(self, "_compiled_steps", None)
        if steps is not None and replicas is None:  # compile(jit_compile=True): the whole step in one graph
            done = steps.whole.run(x, y, sample_weight)
            if done is not None:
                constraints_mod.project(self._step_plan)
                self._loss_tracker.update_scalar(done[0], batch)
                self._update_metrics(y, done[1], sample_weight)
                return
        if replicas is not None:
            y_pred = replicas.forward(x)
            loss = self.compute_loss(y, y_pred, sample_weight, count_batch=batch)
        elif steps is not None:  # compile(jit_compile=True)
            loss, y_pred = steps.train_forward(x, y, sample_weight, batch)
        else:  # a model's train_call (Sequential) skips its per-call work, else the full call
            y_pred = train_call_of(self, x) if train_calls_allowed(True) else NotImplemented
            if y_pred is NotImplemented:
                y_pred = self(x, training=True)
            loss = self.compute_loss(y, y_pred, sample_weight, count_batch=batch)
        if not loss.requires_grad:
            raise _validation.value_error(f"{type(self).__name__} '{self.name}'", "fit",
                                          "a loss that depends on trainable weights",
                                          "a loss with no gradient (every layer frozen?)")
        if self._step_plan is None:  # bound again when _check_binding saw a change
            self._step_plan = self._bind_optimizer()
            self._step_key = self._binding_key()
        if not optimizer_base.fast_zero_grad(self.optimizer):
            self.optimizer.zero_grad(set_to_none=True)
        scale = getattr(self.optimizer, "scale_loss", None)
        weighted = loss if replicas is None else replicas.scale(loss, y_pred)
        (scale(weighted) if scale is not None else weighted).backward()
        if not optimizer_base.fast_step(self.optimizer):
            self.optimizer.step()
        constraints_mod.project(self._step_plan)
        if replicas is not None and replicas.stand_in:
            return  # this rank had no sample in the global batch: it only took part in the step
        logged = loss.detach() if replicas is None else replicas.logged(loss.detach(), batch)
        self._loss_tracker.update_scalar(logged, batch)
        self._update_metrics(y, y_pred, sample_weight)

    def test_step(self, x: Any, y: Any, sample_weight: Any = None) -> None:
        x, y, sample_weight = self._to_model_device(x, y, sample_weight)
        with torch.no_grad():
            y_pred = self(x, training=False)
            batch = batch_count(x)
            loss = self.compute_loss(y, y_pred, sample_weight, count_batch=batch)
        replicas = distributed.current(self)
        if replicas is not None:  # several processes: this rank's part of the global batch's loss
            replicas.scale(loss, y_pred)
            if replicas.stand_in:
                return
            loss = replicas.logged(loss, batch)
        self._loss_tracker.update_scalar(loss, batch)
        self._update_metrics(y, y_pred, sample_weight)

    def predict_step(self, x: Any) -> Any:
        x, _, _ = self._to_model_device(x, None, None)
        steps = getattr(self, "_compiled_steps", None)
        with torch.no_grad():
            return self(x, training=False) if steps is None else steps.predict(x)

    def _predict_batch(self, x: torch.Tensor) -> Any:
        """``predict_step(x)`` for one batch (a slice: no mask) of an in-memory array. It runs ``forward``
        itself where ``__call__`` would only add the output mask, which the NumPy result drops
        (``call_is_forward``), and nothing else would run: compiled steps (``jit_compile``) or an overridden
        ``predict_step`` (on the class or the instance)."""
        if (type(self).predict_step is not Trainer.predict_step or "predict_step" in self.__dict__
                or getattr(self, "_compiled_steps", None) is not None or not call_is_forward(self, x)):
            return self.predict_step(x)
        if not self.built or plan(self).first_param is None:
            return self.predict_step(x)  # which builds the model first
        device = self.__dict__.get("device") or _CPU  # compile()'s device, as _to_model_device moves to
        if x.device != device:
            x = x.to(device)
        with torch.no_grad():
            return self.forward(x, training=False)

    def _bind_optimizer(self) -> list[tuple[torch.nn.Parameter, Any]]:
        """Bind the optimizer to the trainable weights (checking they did not change since) and return the
        constrained parameters, which each step projects after its update."""
        params = trainable_weights(self)
        sync_requires_grad(self, params)
        bound = getattr(self, "_optimizer_params", None)
        if bound is None:
            self.optimizer.build(params)
            self._optimizer_params = [id(p) for p in params]
        elif bound != [id(p) for p in params]:
            raise _validation.value_error(f"{type(self).__name__} '{self.name}'", "fit",
                                          "the trainable weights the optimizer was built for",
                                          "a different set (a layer's trainable flag changed or layers were "
                                          "added)", "Call compile() again after changing trainable layers.")
        return constraints_mod.constrained_parameters(self)

    def _binding_key(self) -> tuple:
        """What ``_bind_optimizer`` depends on: the structure (plan) and every layer's trainable flag and
        constraints; equal keys mean the last binding still holds."""
        found = plan(self)
        return (found, id(self.optimizer), [getattr(m, "trainable", None) for m in found.modules],
                [tuple(c.values()) for c in found.constraint_dicts],  # the constraint objects themselves
                [p.requires_grad for p in found.params])  # a flag set by hand is synced again

    def _check_binding(self) -> None:
        """Forget the optimizer binding when what it depends on changed (else it is reused: a fit per
        epoch, as stateful tutorials write, does not walk the model each time)."""
        if self._step_plan is not None and getattr(self, "_step_key", None) != self._binding_key():
            self._step_plan = None

    # -- device and building ------------------------------------------------------------------------------
    def _to_model_device(self, x: Any, y: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
        device = getattr(self, "device", None) or torch.device("cpu")
        if not self.built or plan(self).first_param is None:
            build_for(self, x)
            self.to(device)
        return data.to_device(x, device), data.to_device(y, device), data.to_device(sample_weight, device)

    # -- fit ------------------------------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool | str = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, **legacy: Any) -> callbacks_mod.History:
        """Train for ``epochs`` epochs; returns the ``History`` (also ``model.history``).

        ``x`` / ``y``: arrays (NumPy, torch, pandas), lists / dicts of arrays for several inputs / outputs,
        or an iterable of ``(x, y[, sample_weight])`` batches (a DataLoader). ``validation_split`` holds out
        the last fraction of the arrays before shuffling; ``validation_data`` is ``(x, y[, sw])`` or an iterable.
        """
        epochs = _legacy_epochs(epochs, legacy)
        self._assert_compiled("fit")
        verbose = _verbosity(verbose)
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data wins
        train, steps, count, batch_size = self._prepare(x, y, sample_weight, batch_size, shuffle, class_weight,
                                                        steps_per_epoch, "fit", validation_split)
        replicas = distributed.begin(self, "fit")
        try:
            return self._fit(train, steps, count, batch_size, replicas, epochs, verbose, callbacks, validation_split,
                             validation_data, validation_steps, validation_batch_size, validation_freq, initial_epoch)
        finally:
            if replicas is not None:
                replicas.end()

    def _fit(self, train: dict, steps: Any, count: Any, batch_size: int, replicas: Any, epochs: int, verbose: int,
             callbacks: Any, validation_split: float, validation_data: Any, validation_steps: Any,
             validation_batch_size: Any, validation_freq: int, initial_epoch: int) -> callbacks_mod.History:
        val = None
        if validation_split:
            (train_x, train_y, train_sw), (vx, vy, vsw) = train["split"]
            val = self._prepare(vx, vy, vsw, validation_batch_size or batch_size, False, None, validation_steps,
                                "fit (validation_split)")[0]
        elif validation_data is not None:
            vx, vy, vsw = unpack_validation(validation_data)
            default = None if isinstance(vx, StatefulBatches) else batch_size  # a layout has its own batch size
            val = self._prepare(vx, vy, vsw, validation_batch_size or default, False, None, validation_steps,
                                "fit (validation_data)")[0]
        history = callbacks_mod.History()
        cbs = list(callbacks or [])  # Keras's order: the user's, the progress bar, then History
        if verbose:
            cbs.append(callbacks_mod.ProgbarLogger(verbose))
        cbs.append(history)
        params = {"verbose": verbose, "epochs": epochs, "steps": steps, "samples": count, "batch_size": batch_size}
        if replicas is not None:  # each rank its shard of every batch; rank 0 alone prints and writes files
            train, val, cbs = replicas.shard(train), val and replicas.shard(val), replicas.callbacks(cbs)
        cb = callbacks_mod.CallbackList(cbs, self, params)
        if replicas is not None:
            replicas.agree(cb)
        batch_logs = cb.wants_batch_logs or verbose == 1
        batch_calls = batch_logs or not cb.only_epoch_hooks  # History alone: nothing to call per batch
        self.stop_training = False
        self._check_binding()
        cb.call("on_train_begin", {})
        initial_epoch = self.__dict__.pop("_resume_epoch", initial_epoch)  # set by BackupAndRestore
        epoch_logs: dict = {}
        with mode(self, training=True), buffer_pool.reuse_buffers():  # steps reuse their buffers
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                cb.call("on_epoch_begin", epoch, {})
                seen = 0
                for step, (bx, by, bsw) in enumerate(train["batches"]()):
                    if batch_calls:
                        cb.call("on_train_batch_begin", step, {})
                    self.train_step(bx, by, bsw)
                    seen += 1
                    if batch_calls:
                        cb.call("on_train_batch_end", step, self._logs() if batch_logs else {})
                    if replicas is not None:
                        self.stop_training = replicas.any(self.stop_training)
                    if self.stop_training:
                        break
                if seen == 0:
                    warnings.warn("fit: the data ran out (no batch in this epoch); stopping.", stacklevel=2)
                    break
                epoch_logs = self._logs()
                if val is not None and (epoch + 1) % validation_freq == 0:
                    params["in_fit"] = True
                    val_logs = self._run_evaluation(val, cb, in_fit=True)
                    params["in_fit"] = False
                    epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
                cb.call("on_epoch_end", epoch, epoch_logs)
                if replicas is not None:
                    self.stop_training = replicas.any(self.stop_training)
                if self.stop_training:
                    break
            finalize = getattr(self.optimizer, "finalize_variable_values", None)
            if finalize is not None and getattr(self.optimizer, "use_ema", False):
                finalize()
        cb.call("on_train_end", epoch_logs)
        self.history = history
        return history

    def _prepare(self, x: Any, y: Any, sample_weight: Any, batch_size: int | None, shuffle: Any,
                 class_weight: dict | None, steps: int | None, owner: str, validation_split: float = 0.0
                 ) -> tuple[dict, int | None, int | None, int]:
        """Check the data once and return ``({"batches": fn}, steps per epoch, samples, batch_size)``."""
        if x is None:
            raise _validation.value_error(owner, "x", "input data", "None")
        if isinstance(x, StatefulBatches):
            return self._prepare_stateful(x, y, sample_weight, batch_size, owner, validation_split)
        if not data.is_array_like(x):
            if y is not None:
                raise _validation.value_error(owner, "y", "None when x is an iterable of (x, y) batches",
                                              f"{type(y).__name__}", "Put the targets inside the batches.")
            if validation_split:
                raise _validation.value_error(owner, "validation_split", "array inputs",
                                              f"an iterable ({type(x).__name__})", "Pass validation_data instead.")
            total = data.batch_count(x)
            return ({"batches": self._iterable_batches(x, steps), "source": x}, steps or total, None,
                    batch_size or getattr(x, "batch_size", None) or 0)
        x_t, y_t, sw_t = data.tensors(x, owner), data.tensors(y, owner), data.tensors(sample_weight, owner)
        n = data.num_samples(x_t, y_t, sw_t, owner)
        data.check_finite(x_t, "x", owner)
        data.check_finite(y_t, "y", owner)
        batch_size = self._batch_size(batch_size, n, owner, shuffle)
        prepared: dict = {}
        if validation_split:
            (x_t, y_t, sw_t), held_out = data.split_validation(x_t, y_t, sw_t, validation_split)
            n = data.num_samples(x_t, y_t, sw_t, owner)
            self._batch_size(batch_size, n, owner, shuffle)
            prepared["split"] = ((x_t, y_t, sw_t), held_out)
        if class_weight is not None:  # the training part only, as Keras
            sw_t = class_sample_weights(y_t, class_weight, sw_t)
        prepared["batches"] = lambda: data.array_batches(x_t, y_t, sw_t, batch_size, shuffle, steps)
        prepared["arrays"] = (x_t, y_t, sw_t, batch_size, shuffle, steps)  # for models.distributed's shards
        count = math.ceil(n / batch_size)
        return prepared, min(count, steps) if steps else count, n, batch_size

    def _prepare_stateful(self, source: StatefulBatches, y: Any, sample_weight: Any, batch_size: int | None,
                          owner: str, validation_split: float) -> tuple[dict, int, int, int]:
        """Batches of a ``StatefulBatches`` layout, zeroing the slots where a new sequence starts first."""
        given = {"y": y, "sample_weight": sample_weight, "validation_split": validation_split or None}
        extra = [name for name, value in given.items() if value is not None]
        if extra:
            raise _validation.value_error(owner, ", ".join(extra), "None with stateful_batches(...) data (its "
                                          "targets and padding weights travel with it)", "a value",
                                          "Pass targets to stateful_batches(..., targets=...); validate with "
                                          "validation_data=stateful_batches(...).")
        if not is_stateful(self):
            raise _validation.value_error(owner, "x", "a model with stateful=True recurrent layers for "
                                          "stateful_batches(...) data", "a model without stateful layers",
                                          "Create the recurrent layers with stateful=True and a fixed batch size.")
        fixed = fixed_batch_size(self)
        if batch_size not in (None, source.batch_size) or fixed not in (None, source.batch_size):
            raise _validation.value_error(owner, "batch_size", f"the layout's batch size ({source.batch_size})",
                                          f"{batch_size if batch_size not in (None, source.batch_size) else fixed}"
                                          + ("" if batch_size not in (None, source.batch_size)
                                             else " (the model's fixed batch size)"),
                                          "Build the layout with stateful_batches(..., batch_size=<the model's>).")

        def batches():
            for k, (bx, by, bsw) in enumerate(source):
                if source.resets[k].all():
                    self.reset_states()  # every slot starts a sequence (also forgets memory of another batch size)
                elif source.resets[k].any():
                    self.reset_states(slots=source.resets[k])
                yield data.tensors(bx), data.tensors(by), data.tensors(bsw)

        return ({"batches": batches, "stateful": source}, len(source), len(source) * source.batch_size,
                source.batch_size)

    @staticmethod
    def _iterable_batches(source: Iterable, steps: int | None):
        state = {"it": None}

        def batches():
            if steps is None:
                yield from data.iterable_batches(source)
                return
            for _ in range(steps):  # Keras: with steps_per_epoch, epochs continue one iterator
                if state["it"] is None:
                    state["it"] = data.iterable_batches(source)
                try:
                    yield next(state["it"])
                except StopIteration:
                    state["it"] = data.iterable_batches(source)
                    try:
                        yield next(state["it"])
                    except StopIteration:
                        return

        return batches

    def _batch_size(self, batch_size: int | None, n: int, owner: str, shuffle: Any = False) -> int:
        fixed = fixed_batch_size(self)
        if batch_size is None:
            batch_size = fixed or 32
        batch_size = _validation.positive_int(owner, "batch_size", batch_size)
        if is_stateful(self):
            if fixed is not None and batch_size != fixed:
                raise _validation.value_error(owner, "batch_size", f"{fixed}, the stateful model's fixed batch "
                                              "size (its input batch_shape)", repr(batch_size),
                                              f"Pass batch_size={fixed}, or rebuild the model for another size.")
            if n % batch_size:
                divisors = [d for d in range(batch_size, 0, -1) if n % d == 0][:3]
                raise _validation.value_error(
                    owner, "the data", f"a number of samples that batch_size={batch_size} divides (a stateful "
                    "model carries each batch slot's state into the next batch)", f"{n} samples",
                    (f"Drop the remainder (x[:{n - n % batch_size}], y[:{n - n % batch_size}]) or pick a batch "
                     if n > batch_size else "Pick a batch ")  # fewer samples than one batch: nothing to keep
                    + f"size that divides {n} (e.g. {', '.join(map(str, divisors))}).")
            if shuffle is True and owner == "fit":
                warnings.warn("fit: shuffle=True on a stateful model breaks the continuity its states rely on; "
                              "pass shuffle=False.", stacklevel=4)
        return batch_size

    # -- evaluate / predict --------------------------------------------------------------------------------
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: list | None = None,
                 return_dict: bool = False, **kwargs: Any) -> Any:
        """The loss and metrics on ``(x, y)``: a float (loss only), a list ``[loss, *metrics]`` or a dict."""
        legacy_mod.loader_arguments("evaluate", kwargs)
        self._assert_compiled("evaluate")
        prepared, total, _, batch_size = self._prepare(x, y, sample_weight, batch_size, False, None, steps,
                                                       "evaluate")
        verbose = _verbosity(verbose)
        cbs = list(callbacks or []) + ([callbacks_mod.ProgbarLogger(verbose)] if verbose else [])
        replicas = distributed.begin(self, "evaluate")
        try:
            if replicas is not None:
                prepared, cbs = replicas.shard(prepared), replicas.callbacks(cbs)
            cb = callbacks_mod.CallbackList(cbs, self, {"verbose": verbose, "steps": total})
            if replicas is not None:
                replicas.agree(cb)
            logs = self._run_evaluation(prepared, cb)
        finally:
            if replicas is not None:
                replicas.end()
        return logs if return_dict else _flatten_logs(logs)

    def _run_evaluation(self, prepared: dict, cb: callbacks_mod.CallbackList, in_fit: bool = False) -> dict:
        self._reset_metrics()
        cb.call("on_test_begin", {})
        with mode(self, training=False), buffer_pool.reuse_buffers():
            for step, (bx, by, bsw) in enumerate(prepared["batches"]()):
                cb.call("on_test_batch_begin", step, {})
                self.test_step(bx, by, bsw)
                cb.call("on_test_batch_end", step, self._logs() if cb.wants_batch_logs else {})
        logs = self._logs()
        cb.call("on_test_end", logs)
        return logs

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto", steps: int | None = None,
                callbacks: list | None = None, streams: Any = None, **kwargs: Any) -> Any:
        """Outputs for ``x`` as NumPy (a list / dict of arrays for several outputs), computed in batches.

        ``streams`` (lstmkit): one id per row of ``x``; row i continues stream ``streams[i]`` from the state
        its last chunk left in ``model.stream_state`` (zeros for a new id) — any batch size, any order.
        """
        if kwargs:
            legacy_mod.loader_arguments("predict", kwargs)
        if streams is not None:
            if steps is not None or callbacks:
                raise _validation.value_error("predict", "steps / callbacks", "None with streams=... (one call "
                                              "advances each stream by one chunk)", "a value")
            return self._predict_streams(x, streams, batch_size)
        verbose = _verbosity(verbose)
        if data.is_array_like(x) and not is_stateful(self):
            replicas = distributed.begin(self, "predict")  # several processes: a block of samples each
            if replicas is not None:
                try:
                    return replicas.predict(lambda part, size: self._predict_alone(part, size, verbose, callbacks),
                                            x, self._batch_size(batch_size, 1, "predict"), steps)
                finally:
                    replicas.end()
        if not verbose and not callbacks and steps is None and isinstance(x, (np.ndarray, torch.Tensor)):
            x_t, n = data.checked_array(x, "predict")  # one array, no callbacks: no callback machinery
            if batch_size is not None or plan(self).stateful:
                batch_size = self._batch_size(batch_size, n, "predict")
            else:
                batch_size = 32  # Keras's default
            # batches are slices, which carry no ``_keras_mask`` (as the general path's batches)
            with mode(self, training=False):
                if n <= batch_size and x_t is not x and "_keras_mask" not in x_t.__dict__:
                    return concat_batches([self._predict_batch(x_t)])  # one batch of our own tensor: no slice
                with buffer_pool.reuse_buffers():  # several batches: each reuses the last one's buffers
                    outputs = [self._predict_batch(x_t[i:i + batch_size]) for i in range(0, n, batch_size)]
            return concat_batches(outputs)
        if isinstance(x, StatefulBatches):
            prepared, total, _, _ = self._prepare_stateful(x, None, None, batch_size, "predict", 0.0)
            batches = (bx for bx, _, _ in prepared["batches"]())
        elif data.is_array_like(x):
            x_t = data.tensors(x, "predict")
            n = data.num_samples(x_t, owner="predict")
            data.check_finite(x_t, "x", "predict")
            batch_size = self._batch_size(batch_size, n, "predict")
            count = math.ceil(n / batch_size)
            batches = (bx for bx, _, _ in data.array_batches(x_t, None, None, batch_size, False, steps))
            total = min(count, steps) if steps else count
        else:
            batches = (bx for bx, _, _ in data.iterable_batches(x))
            total = steps or data.batch_count(x)
        cbs = list(callbacks or []) + ([callbacks_mod.ProgbarLogger(verbose)] if verbose else [])
        cb = callbacks_mod.CallbackList(cbs, self, {"verbose": verbose, "steps": total})
        outputs = []
        cb.call("on_predict_begin", {})
        with mode(self, training=False), buffer_pool.reuse_buffers():
            for step, bx in enumerate(batches):
                if steps is not None and step >= steps:
                    break
                cb.call("on_predict_batch_begin", step, {})
                out = self.predict_step(bx)
                outputs.append(data.map_leaves(lambda t: t.detach().cpu(), out))
                cb.call("on_predict_batch_end", step, {"outputs": out})
        cb.call("on_predict_end", {})
        if not outputs:
            raise _validation.value_error("predict", "x", "at least one sample", "empty data")
        return concat_batches(outputs)

    def _predict_alone(self, x: Any, batch_size: int, verbose: int, callbacks: Any) -> Any:
        """``predict`` in this process only (a rank's block of a distributed predict)."""
        self.__dict__["_replicas_off"] = True
        try:
            return self.predict(x, batch_size=batch_size, verbose=verbose, callbacks=callbacks)
        finally:
            self.__dict__.pop("_replicas_off", None)

    @property
    def stream_state(self) -> StreamState:
        """The per-stream states ``predict(x, streams=ids)`` reads and advances (created at first use)."""
        state = self.__dict__.get("_stream_state")
        if state is None:
            state = StreamState(self)
            self.__dict__["_stream_state"] = state
        return state

    def reset_streams(self, ids: Any = None) -> None:
        """Forget every stream's state (``ids=None``) or those of ``ids``; they restart from zeros."""
        self.stream_state.reset(ids)

    def _predict_streams(self, x: Any, streams: Any, batch_size: int | None) -> Any:
        ids = stream_ids(streams)
        if batch_size is None or batch_size >= len(ids):
            return self.stream_state.predict(x, ids)
        x_t = data.tensors(x)
        parts = [self.stream_state.predict(data.take(x_t, slice(i, i + batch_size)), ids[i:i + batch_size])
                 for i in range(0, len(ids), batch_size)]
        return concat_batches([data.map_leaves(torch.from_numpy, p) for p in parts])

    # -- on one batch ----------------------------------------------------------------------------------------
    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       reset_metrics: bool = True, return_dict: bool = False) -> Any:
        """One training step on exactly this batch; returns its loss (and metrics, if compiled with some)."""
        self._assert_compiled("train_on_batch")
        x, y, sample_weight = self._batch_tensors(x, y, sample_weight, "train_on_batch")
        if class_weight is not None:
            sample_weight = class_sample_weights(y, class_weight, sample_weight)
        if reset_metrics:  # the returned values are this batch's alone
            self._reset_metrics()
        self._check_binding()  # a layer was frozen / added since the last call: bind again
        with mode(self, training=True), buffer_pool.reuse_buffers(keep=True):  # kept for the next call
            self.train_step(x, y, sample_weight)
        logs = self._logs()
        return logs if return_dict else _flatten_logs(logs)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, reset_metrics: bool = True,
                      return_dict: bool = False) -> Any:
        """The loss (and metrics) on exactly this batch, without training."""
        self._assert_compiled("test_on_batch")
        x, y, sample_weight = self._batch_tensors(x, y, sample_weight, "test_on_batch")
        if reset_metrics:
            self._reset_metrics()
        with mode(self, training=False), buffer_pool.reuse_buffers(keep=True):
            self.test_step(x, y, sample_weight)
        logs = self._logs()
        return logs if return_dict else _flatten_logs(logs)

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for exactly this batch, as NumPy."""
        if (type(x) is np.ndarray and x.ndim and len(x)) or (type(x) is torch.Tensor and x.ndim and len(x)
                                                            and "_keras_mask" not in x.__dict__):
            x_t, _ = data.checked_array(x, "predict_on_batch")  # one plain array: predict's one-batch path
            if x_t is x:  # a mask a layer computes is attached to the tensor it returns: never to the caller's
                x_t = x_t.view(x_t.shape)
            with mode(self, training=False):
                return concat_batches([self._predict_batch(x_t)])
        x_t = data.tensors(x)
        data.check_finite(x_t, "x", "predict_on_batch")
        with mode(self, training=False):
            out = self.predict_step(x_t)
        return concat_batches([data.map_leaves(lambda t: t.detach().cpu(), out)])

    def _batch_tensors(self, x: Any, y: Any, sample_weight: Any, owner: str) -> tuple[Any, Any, Any]:
        arrays = (x, y, sample_weight)
        if all(a is None or isinstance(a, (np.ndarray, torch.Tensor)) for a in arrays):  # single arrays
            x, y, sample_weight = (None if a is None else data.as_tensor(a, owner) for a in arrays)
            n = x.shape[0] if x.dim() else 0
            if n and all(a is None or (a.dim() and a.shape[0] == n) for a in (y, sample_weight)):
                data.check_finite(x, "x", owner)
                data.check_finite(y, "y", owner)
                return x, y, sample_weight
        x, y, sample_weight = data.tensors(x), data.tensors(y), data.tensors(sample_weight)
        data.num_samples(x, y, sample_weight, owner)
        data.check_finite(x, "x", owner)
        data.check_finite(y, "y", owner)
        return x, y, sample_weight


# -- helpers -----------------------------------------------------------------------------------------------
def resolve_device(device: Any) -> torch.device:
    """``device`` (``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``) as a device this
    machine has, or a ValueError saying which names are valid."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise _validation.value_error("compile", "device", "'auto', 'cpu', 'cuda' or 'cuda:N'", repr(device),
                                      "Use device='auto' for the GPU when there is one.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise _validation.value_error("compile", "device", "a device this machine has", repr(str(device)),
                                      "CUDA is not available here; use device='auto' or 'cpu'.")
    return device


def per_output(spec: Any, names: list[str], what: str, default: Any = None, metrics_list: bool = False) -> list:
    """One entry per output from a single value, a list (in output order) or a dict (by output name)."""
    count = len(names)
    if isinstance(spec, dict):
        unknown = set(spec) - set(names)
        if unknown:
            raise _validation.value_error("compile", what, f"keys among the output names {names}",
                                          f"unknown keys {sorted(unknown)}")
        values = [spec.get(n, default) for n in names]
        return [_as_list(v) for v in values] if metrics_list else values
    if metrics_list:
        if spec is None:
            return [[] for _ in names]
        spec = list(spec) if isinstance(spec, (list, tuple)) else [spec]
        if count > 1 and len(spec) == count and all(isinstance(s, (list, tuple)) or s is None for s in spec):
            return [_as_list(s) for s in spec]
        return [spec for _ in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != count:
            raise _validation.value_error("compile", what, f"one entry per output ({count}: {names})",
                                          f"a list of {len(spec)}")
        return list(spec)
    return [spec if spec is not None else default for _ in names]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def single_loss(model: Any, preds: list, targets: list, sample_weight: Any) -> torch.Tensor | None:
    """The total loss of a model with one output weighing 1.0: that output's loss itself, which is what
    ``0 + 1.0 * loss`` gives bit for bit (gradient included) without the two ops; None otherwise."""
    if len(preds) != 1 or model._loss_weights[0] != 1.0 or model._compiled_losses[0] is None or targets[0] is None:
        return None
    value = model._compiled_losses[0](targets[0], preds[0], output_weight(sample_weight, 0, model._output_names))
    if torch.is_tensor(value) and value.dim() == 0 and value.dtype == preds[0].dtype \
            and value.device == preds[0].device:
        return value
    return torch.zeros((), device=preds[0].device, dtype=preds[0].dtype) + 1.0 * value  # promotes as it did


def flat_outputs(y_pred: Any) -> list[torch.Tensor]:
    if isinstance(y_pred, dict):
        return list(y_pred.values())
    if isinstance(y_pred, (list, tuple)):
        return list(y_pred)
    return [y_pred]


def flat_targets(y: Any, count: int, names: list[str]) -> list[Any]:
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing and len(y) == count and count == 1:
            return list(y.values())
        return [y.get(n) for n in names]
    if isinstance(y, (list, tuple)) and count > 1:
        if len(y) != count:
            raise _validation.value_error("fit", "y", f"one target array per output ({count}: {names})",
                                          f"{len(y)} arrays")
        return list(y)
    if count > 1:
        raise _validation.value_error("fit", "y", f"a list or dict of {count} target arrays (outputs {names})",
                                      "a single array")
    return [y]


def output_weight(sample_weight: Any, index: int, names: list[str]) -> Any:
    """The sample weights of output ``index``: one array for all outputs, or a list / dict (by name) of them."""
    if isinstance(sample_weight, (list, tuple)):
        return sample_weight[index]
    if isinstance(sample_weight, dict):
        return sample_weight.get(names[index])
    return sample_weight


def batch_count(x: Any) -> int:
    first = data.leaves(x)[0]
    return int(first.shape[0])


_NUMPY_FLOATS = (torch.float32, torch.float64, torch.float16)
_CPU = torch.device("cpu")


def concat_batches(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, dict):
        return {k: concat_batches([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [concat_batches([o[i] for o in outputs]) for i in range(len(first))]
    if len(outputs) == 1:  # one batch: a copy (the output may be the caller's input or a layer's tensor)
        if type(first) is torch.Tensor and first.device.type == "cpu" and first.dtype in _NUMPY_FLOATS:
            return first.detach().numpy().copy()  # the common case in two calls
        return np.array(to_numpy(first))
    return to_numpy(torch.cat(outputs, dim=0))  # bfloat16 comes back as float32, as in Keras


def _flatten_logs(logs: dict) -> Any:
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _verbosity(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise _validation.value_error("fit", "verbose", "'auto', 0, 1 or 2", repr(verbose))
    return int(verbose)


def _legacy_epochs(epochs: int, legacy: dict) -> int:
    if "nb_epoch" in legacy:
        warnings.warn("fit: nb_epoch is Keras 1's name; use epochs=.", DeprecationWarning, stacklevel=3)
        epochs = legacy.pop("nb_epoch")
    legacy_mod.loader_arguments("fit", legacy)
    return _validation.positive_int("fit", "epochs", epochs)


def unpack_validation(validation_data: Any) -> tuple[Any, Any, Any]:
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) and \
            data.is_array_like(validation_data[0]):
        return (*validation_data, None)[:3]
    return validation_data, None, None


def class_sample_weights(y: Any, class_weight: dict, sample_weight: Any) -> torch.Tensor:
    """Keras's ``class_weight``: each sample weighs ``class_weight[its class]`` (one-hot or integer targets)."""
    if isinstance(y, (list, dict)):
        raise _validation.value_error("fit", "class_weight", "a model with one output", "several outputs",
                                      "Use sample_weight instead.")
    if not isinstance(class_weight, dict) or not class_weight or not all(
            isinstance(k, numbers.Integral) and not isinstance(k, bool) and k >= 0
            and isinstance(v, numbers.Real) and not isinstance(v, bool) for k, v in class_weight.items()):
        raise _validation.type_error("fit", "class_weight", "a dict {class index (int >= 0): weight (float)}",
                                     repr(class_weight)[:200], "E.g. class_weight={0: 1.0, 1: 5.0}.")
    labels = y.argmax(dim=-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(y.shape[0], -1)[:, 0].round()
    table = torch.zeros(int(max(max(class_weight), int(labels.max())) + 1))
    table.fill_(1.0)
    for cls, weight in class_weight.items():
        table[int(cls)] = float(weight)
    weights = table[labels.long()]
    return weights if sample_weight is None else weights * sample_weight


def trainable_weights(model: Layer) -> list[torch.nn.Parameter]:
    """What ``fit`` trains: Keras's ``model.trainable_weights``, then any plain-torch parameters a
    subclassed model holds (an ``nn.Linear`` beside lstmkit layers)."""
    out = model.trainable_weights
    lstmkit_params = {id(w) for m in model.modules() if isinstance(m, Layer) for w in
                      (getattr(m, n) for n in m._weight_order)}
    seen = {id(w) for w in out}
    return out + [p for p in model.parameters() if id(p) not in lstmkit_params and p.requires_grad
                  and id(p) not in seen]


def sync_requires_grad(model: Layer, trainable: list[torch.nn.Parameter]) -> None:
    """Weights outside ``trainable`` get no gradient (a frozen layer costs no backward work)."""
    ids = {id(p) for p in trainable}
    for module in model.modules():
        if isinstance(module, Layer):
            for name in module._weight_order:
                param = getattr(module, name)
                param.requires_grad_(id(param) in ids)


def is_stateful(model: Layer) -> bool:
    return plan(model).stateful


def fixed_batch_size(model: Layer) -> int | None:
    """The batch size a stateful model was declared with (its input's batch_shape), if any."""
    found = plan(model)
    return found.declared_batch if found.stateful else None


def build_for(model: Any, x: Any) -> None:
    """Build a model that has not seen an input shape yet, without running it (Sequential) or with one
    forward pass on the CPU that leaves stateful memories as they were (subclassed models)."""
    first = data.leaves(x)[0]
    if hasattr(model, "_trace") and not model.built:
        model.build_from_data((None, *first.shape[1:]))  # a shape seen, not declared: not enforced later
        return
    rnns = [m for m in model.modules() if isinstance(m, RNN) and m.stateful]
    saved = [m.states for m in rnns]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad():
        sample = data.map_leaves(lambda t: (t if rnns else t[:1]).to(device), x)  # a stateful batch is fixed
        model(sample, training=False)
    for module, states in zip(rnns, saved):
        module.states = states
    model.built = True
