"""``fit`` / ``evaluate`` / ``predict`` on several processes: Keras's ``DataParallel`` on PyTorch's DDP.

Each process (one per device, started by torchrun) holds the whole model wrapped in
``torch.nn.parallel.DistributedDataParallel``, which broadcasts rank 0's weights at the start and
averages the gradients during ``backward``. ``batch_size`` is the *global* batch, as in Keras: every
process walks the same global batches (rank 0 draws the shuffle order and broadcasts it) and takes its
own contiguous shard of each (sizes differ by at most one; ``numpy.array_split``'s rule).

Equal to one process: Keras's loss is the mean over the global batch of ``B`` samples. Rank ``r``'s loss
is the mean over its ``b_r`` samples, and DDP divides the summed gradients by the world size ``W``, so
each rank scales its loss by ``b_r * W / B`` before ``backward``; the averaged gradient is then exactly
the global batch's (regularization penalties included, since ``sum(b_r) = B``). A rank whose shard of a
global batch is empty (a last batch smaller than ``W``) runs a stand-in step on one sample with weight
0: it joins DDP's all-reduce with zero gradients and takes the same optimizer step, so weights and
optimizer states stay identical everywhere and nothing waits for a rank that has no data.

Metrics are sums (``total``/``count``), so logs are computed from their all-reduced states: every rank's
callbacks see the global values, and ``EarlyStopping`` stops every rank at the same epoch (the stop
flag is all-reduced as well). Only rank 0 prints and keeps the file-writing callbacks (progress bar,
``ModelCheckpoint``, ``CSVLogger``, ``TensorBoard``). ``predict`` gives each rank a contiguous block of
the samples and all-gathers the outputs in order.

Stateful models: batch slot ``i`` carries sequence ``i``, and every global batch is cut at the same
bounds, so a slot stays on one rank for the whole epoch (the stateful layers hold only their rank's
slots during the call; the full ``(B, units)`` memory is gathered back at the end).
"""

from __future__ import annotations

import contextlib
import io
import math
from typing import Any, Callable, Iterator

import torch
import torch.distributed as dist

from .. import _validation
from .. import distribution as distribution_mod
from ..data.batching import StatefulBatches
from ..layers.rnn.rnn import RNN
from . import data_adapter as data

CHIEF_ONLY = ("ProgbarLogger", "ModelCheckpoint", "CSVLogger", "TensorBoard", "RemoteMonitor")


def shard_bounds(size: int, world: int, rank: int) -> tuple[int, int]:
    """``[lo, hi)`` of rank ``rank``'s part of ``size`` items (the first ``size % world`` ranks get one more)."""
    base, extra = divmod(size, world)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def begin(model: Any, owner: str) -> "Replicas | None":
    """The distributed context of one ``fit``/``evaluate``/``predict`` call, or None in a single process
    (or inside a call that is already distributed)."""
    if (distribution_mod.single_process() or model.__dict__.get("_replicas") is not None
            or model.__dict__.get("_replicas_off")):
        return None
    device = getattr(model, "device", None) or torch.device("cpu")
    strategy = distribution_mod.active(device.type)
    if strategy is None or dist.get_world_size() == 1:
        return None
    replicas = Replicas(model, strategy, owner)
    model.__dict__["_replicas"] = replicas
    return replicas


def current(model: Any) -> "Replicas | None":
    return model.__dict__.get("_replicas")


class Replicas:
    """One distributed call: the process group, the DDP wrapper, the per-step shard weight."""

    def __init__(self, model: Any, strategy: Any, owner: str):
        self.model, self.strategy, self.owner = model, strategy, owner
        self.world, self.rank = dist.get_world_size(), dist.get_rank()
        self.weight = 1.0  # b_r * W / B of the current training step
        self.stand_in = False  # the current batch is a stand-in (this rank's shard is empty)
        self.global_batch = 0  # samples in the current global batch
        self.masked = False  # the current step's output carries a mask
        self.ddp: torch.nn.parallel.DistributedDataParallel | None = None
        self._stateful: list | None = None  # [(layer, declared shape, full batch)] while slots are sharded
        self._quiet = contextlib.ExitStack()
        device = strategy.torch_device()
        if getattr(model, "device", None) is not None and model.device != device:
            model.device = device
            if any(True for _ in model.parameters()):
                model.to(device)
        self.comm_device = device if dist.get_backend() == "nccl" else torch.device("cpu")
        if self.rank != 0:  # only rank 0 prints (progress, callbacks' messages)
            self._quiet.enter_context(contextlib.redirect_stdout(io.StringIO()))
        if model.built and any(True for _ in model.parameters()):
            self.broadcast_weights()

    # -- life cycle ----------------------------------------------------------------------------------
    def end(self) -> None:
        """Gather stateful slots back, drop the DDP wrapper, restore printing."""
        try:
            self._unshard_stateful()
        finally:
            self.ddp = None
            self.model.__dict__.pop("_replicas", None)
            self._quiet.close()

    def broadcast_weights(self) -> None:
        """Rank 0's parameters and buffers everywhere (DDP does the same when it wraps the model)."""
        with torch.no_grad():
            for tensor in [*self.model.parameters(), *self.model.buffers()]:
                buf = tensor.detach().to(self.comm_device)
                dist.broadcast(buf, src=0)
                tensor.copy_(buf.to(tensor.device))

    # -- collectives ---------------------------------------------------------------------------------
    def all_sum(self, values: list[float]) -> list[float]:
        t = torch.tensor(values, dtype=torch.float64, device=self.comm_device)
        dist.all_reduce(t)
        return t.cpu().tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when it is True on one (a stop decision taken together)."""
        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self.comm_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def broadcast_order(self, order: torch.Tensor) -> torch.Tensor:
        t = order.to(self.comm_device)
        dist.broadcast(t, src=0)
        return t.cpu()

    # -- callbacks and logs --------------------------------------------------------------------------
    def callbacks(self, cbs: list) -> list:
        """Rank 0 keeps every callback; other ranks drop the ones that print or write files."""
        if self.rank == 0:
            return cbs
        return [cb for cb in cbs if not any(k.__name__ in CHIEF_ONLY for k in type(cb).__mro__)]

    def agree(self, callback_list: Any) -> None:
        """Every rank computes per-batch logs (a collective) when any rank's callbacks want them."""
        callback_list.wants_batch_logs = self.any(callback_list.wants_batch_logs)

    def logs(self, model: Any, local_logs: Callable[[], dict]) -> dict:
        """``local_logs()`` computed from the metrics' states summed over the ranks."""
        metrics = [model._loss_tracker, *getattr(model, "_output_loss_trackers", []),
                   *[m for _, m, _, _ in model._compiled_metrics or []]]
        slots = [(m, name) for m in metrics for name, v in sorted(vars(m).items())
                 if torch.is_tensor(v) and v.is_floating_point()]
        saved = [getattr(m, name) for m, name in slots]
        if not slots:
            return local_logs()
        flat = torch.stack([v.detach().to(self.comm_device, torch.float64).reshape(()) for v in saved])
        dist.all_reduce(flat)
        try:
            for (m, name), old, new in zip(slots, saved, flat):
                setattr(m, name, new.to(old.device, old.dtype))
            return local_logs()
        finally:
            for (m, name), old in zip(slots, saved):
                setattr(m, name, old)

    # -- training ------------------------------------------------------------------------------------
    def forward(self, x: Any) -> Any:
        """The training forward pass through DDP (wrapping the model, which broadcasts rank 0's weights)."""
        if self.ddp is None:
            device = next(self.model.parameters()).device
            self.ddp = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[device.index] if device.type == "cuda" else None)
        return self.ddp(x, training=True)

    def scale(self, loss: torch.Tensor, y_pred: Any) -> torch.Tensor:
        """The local loss weighted so that DDP's mean gradient is the global batch's.

        Unmasked, Keras's loss is a mean over samples: the weight is ``b_r * W / B``, set with the batch.
        With a masked output the loss is a mean over the unmasked steps, so the weight comes from the
        ranks' mask counts instead (one all-reduce per step).
        """
        masks = [getattr(p, "_keras_mask", None) for p in data.leaves(y_pred)]
        self.masked = any(m is not None for m in masks)
        if self.masked:
            if len(masks) > 1:
                raise _validation.value_error(self.owner, "the model's outputs", "at most one output when an "
                                              "output carries a mask (the global masked mean is computed for one)",
                                              f"{len(masks)} outputs with a mask on one of them",
                                              "Train on one process, or drop the mask (sample weights instead).")
            local = 0.0 if self.stand_in else float(masks[0].detach().float().sum())
            total = self.all_sum([local])[0]
            self.weight = local * self.world / total if total else 0.0
        return loss * self.weight

    def logged(self, loss: torch.Tensor, batch: int) -> torch.Tensor:
        """The value to log with weight ``batch`` so that the ranks' weighted mean is the global batch's loss."""
        if not self.masked:
            return loss
        return loss * (self.weight * self.global_batch / (self.world * batch))

    # -- batches -------------------------------------------------------------------------------------
    def shard(self, prepared: dict) -> dict:
        """``prepared`` (from ``Trainer._prepare``) with batches cut to this rank's shards."""
        if "stateful" in prepared:
            return {**prepared, "batches": lambda: self._stateful_batches(prepared["stateful"])}
        if "arrays" in prepared:
            x, y, sw, batch_size, shuffle, steps = prepared["arrays"]
            self._shard_stateful(batch_size)
            return {**prepared, "batches": lambda: self._array_batches(x, y, sw, batch_size, shuffle, steps)}
        source = prepared["batches"]
        source_data = prepared.get("source")  # a DataLoader's dataset may read its own shard (data.streaming)
        rank_aware = getattr(source_data, "rank_aware", False) or getattr(getattr(source_data, "dataset", None),
                                                                          "rank_aware", False)
        if self.strategy.auto_shard_dataset and not rank_aware:
            return {**prepared, "batches": lambda: self._split_batches(source())}
        return {**prepared, "batches": lambda: self._own_batches(source())}

    def _take(self, batch: tuple, lo: int, hi: int) -> tuple:
        size = data.num_samples(*batch)
        self.global_batch = size
        if hi > lo:
            self.weight, self.stand_in = (hi - lo) * self.world / size, False
            index = slice(lo, hi)
        else:  # empty shard: one sample with weight 0 keeps this rank in the collective step
            self.weight, self.stand_in = 0.0, True
            index = slice(0, 1)
        return tuple(data.take(part, index) for part in batch)

    def _array_batches(self, x: Any, y: Any, sw: Any, batch_size: int, shuffle: Any, steps: int | None
                       ) -> Iterator[tuple]:
        n = data.num_samples(x, y, sw)
        count = math.ceil(n / batch_size)
        order = starts = None
        if shuffle == "batch":
            starts = self.broadcast_order(torch.randperm(count)).tolist()
        elif shuffle:
            order = self.broadcast_order(torch.randperm(n))
        for step in range(count):
            if steps is not None and step >= steps:
                return
            b = starts[step] if starts is not None else step
            start, stop = b * batch_size, min(n, (b + 1) * batch_size)
            lo, hi = shard_bounds(stop - start, self.world, self.rank)
            index = order[start:stop] if order is not None else torch.arange(start, stop)
            part = index[lo:hi] if hi > lo else index[:1]
            self.weight, self.stand_in = ((hi - lo) * self.world / (stop - start), False) if hi > lo else (0.0, True)
            self.global_batch = stop - start
            yield data.take(x, part), data.take(y, part), data.take(sw, part)

    def _split_batches(self, batches: Iterator[tuple]) -> Iterator[tuple]:
        """Every rank reads the same iterable; each keeps its shard of every batch."""
        for batch in batches:
            lo, hi = shard_bounds(data.num_samples(*batch), self.world, self.rank)
            yield self._take(batch, lo, hi)

    def _own_batches(self, batches: Iterator[tuple]) -> Iterator[tuple]:
        """Each rank's iterable is already its shard: agree on the step's global batch, stop together
        when every rank has run out, and stand in (weight 0) for a rank that ran out first."""
        template = None
        iterator = iter(batches)
        while True:
            batch = next(iterator, None)
            local = 0 if batch is None else data.num_samples(*batch)
            has, total, missing = self.all_sum([float(batch is not None), float(local),
                                                float(batch is None and template is None)])
            if has == 0:
                return
            if missing:
                raise _validation.value_error(self.owner, "the data", "at least one batch on every process",
                                              "a process whose shard of the data is empty",
                                              "Use fewer processes or more data (or smaller shards).")
            self.global_batch = int(total)
            if batch is None:
                self.weight, self.stand_in = 0.0, True
                yield tuple(data.take(part, slice(0, 1)) for part in template)
                continue
            template = batch
            self.weight, self.stand_in = local * self.world / total, False
            yield batch

    # -- stateful models -----------------------------------------------------------------------------
    def _stateful_layers(self) -> list[RNN]:
        return [m for m in self.model.modules() if isinstance(m, RNN) and m.stateful]

    def _shard_stateful(self, batch_size: int) -> None:
        """Stateful layers keep only this rank's slots (the same contiguous slots in every batch)."""
        layers = self._stateful_layers()
        if not layers or self._stateful is not None:
            return
        if batch_size % self.world:
            raise _validation.value_error(self.owner, "batch_size", f"a multiple of the {self.world} processes for "
                                          "a stateful model (each process keeps whole batch slots)",
                                          repr(batch_size), f"Use a batch size divisible by {self.world}.")
        lo, hi = shard_bounds(batch_size, self.world, self.rank)
        self._stateful = []
        for layer in layers:
            shape = layer._batch_input_shape
            self._stateful.append((layer, shape, batch_size))
            layer._batch_input_shape = None if shape is None else (hi - lo, *shape[1:])
            if layer.states is not None:
                if layer.states[0].shape[0] != batch_size:
                    raise _validation.value_error(self.owner, "batch_size", f"the stateful memory's batch "
                                                  f"({layer.states[0].shape[0]})", repr(batch_size))
                layer.states = [s[lo:hi] for s in layer.states]

    def _unshard_stateful(self) -> None:
        if self._stateful is None:
            return
        for layer, shape, batch_size in self._stateful:
            layer._batch_input_shape = shape
            if layer.states is not None:
                layer.states = [self._gather_rows(s, [shard_bounds(batch_size, self.world, r)
                                                      for r in range(self.world)]) for s in layer.states]
        self._stateful = None

    def _stateful_batches(self, source: StatefulBatches) -> Iterator[tuple]:
        """A ``stateful_batches`` layout split by slots: rank r runs slots ``[lo, hi)`` of every batch."""
        self._shard_stateful(source.batch_size)
        lo, hi = shard_bounds(source.batch_size, self.world, self.rank)
        self.weight, self.stand_in = 1.0, False  # equal shards (batch size divisible by the world)
        self.global_batch = source.batch_size
        for k, (bx, by, bsw) in enumerate(source):
            resets = source.resets[k][lo:hi]
            if resets.all():
                self.model.reset_states()
            elif resets.any():
                self.model.reset_states(slots=resets)
            yield (data.tensors(bx[lo:hi]), None if by is None else data.tensors(by[lo:hi]),
                   data.tensors(bsw[lo:hi]))

    # -- predict ---------------------------------------------------------------------------------------
    def _gather_rows(self, tensor: torch.Tensor, bounds: list[tuple[int, int]]) -> torch.Tensor:
        """Every rank's rows (``bounds[r]`` sizes), concatenated in rank order, on every rank."""
        longest = max(hi - lo for lo, hi in bounds)
        local = tensor.detach().to(self.comm_device)
        pad = longest - local.shape[0]
        if pad:
            local = torch.cat([local, local.new_zeros((pad, *local.shape[1:]))])
        parts = [torch.empty_like(local) for _ in range(self.world)]
        dist.all_gather(parts, local.contiguous())
        return torch.cat([p[:hi - lo] for p, (lo, hi) in zip(parts, bounds)]).to(tensor.device)

    def predict(self, run_local: Callable[[Any, int], Any], x: Any, batch_size: int, steps: int | None) -> Any:
        """Rank r predicts samples ``[lo, hi)`` with ``run_local(x_part, batch)``; outputs gathered in order."""
        x_t = data.tensors(x)
        n = data.num_samples(x_t, owner="predict")
        if steps is not None:
            n = min(n, steps * batch_size)
        bounds = [shard_bounds(n, self.world, r) for r in range(self.world)]
        lo, hi = bounds[self.rank]
        part = data.take(x_t, slice(lo, hi) if hi > lo else slice(0, 1))
        local = run_local(part, max(1, math.ceil(batch_size / self.world)))
        leaves = [torch.as_tensor(leaf) for leaf in data.leaves(local)]
        if hi <= lo:
            leaves = [leaf[:0] for leaf in leaves]
        gathered = iter([self._gather_rows(leaf, bounds).numpy() for leaf in leaves])
        return data.map_leaves(lambda _: next(gathered), local)
