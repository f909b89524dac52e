"""Keras 3's distribution names on PyTorch's own engine (``torch.distributed``).

Keras 3 spreads one program over a device mesh (JAX SPMD). On PyTorch the standard is one process per
device joined in a process group, which ``torchrun`` (or ``lstmkit train --nproc N``) starts. This
package gives that setup Keras's vocabulary:

- ``list_devices()``: ``["gpu:0", "gpu:1"]`` / ``["cpu:0"]`` (one per process once a group is running).
- ``initialize(job_addresses, num_processes, process_id)``: join the process group (torchrun's
  environment, ``KERAS_DISTRIBUTION_*`` variables or the arguments); gloo on CPU, nccl on CUDA.
- ``DataParallel(devices=None, auto_shard_dataset=True)``: every process holds the whole model; each
  global batch of ``fit``/``evaluate``/``predict`` is split across the processes
  (``models.distributed`` does the work, with ``DistributedDataParallel``).
- ``set_distribution(value)`` / ``distribution()``: the distribution ``fit`` uses.

A script with no distribution code launched by ``torchrun --nproc-per-node N`` gets an implicit
``DataParallel()``: ``fit`` sees torchrun's ``WORLD_SIZE`` and joins the group itself.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import os
from typing import Any

import torch
import torch.distributed as dist

from .. import _validation

_STATE: dict[str, Any] = {"distribution": None, "implicit": None}

__all__ = ["list_devices", "get_device_count", "initialize", "DataParallel", "set_distribution", "distribution",
           "is_initialized", "world_size", "rank", "local_rank", "is_chief", "backend_for"]


# -- the process group --------------------------------------------------------------------------------------
def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise _validation.value_error("lstmkit.distribution", f"the environment variable {name}", "an integer",
                                      repr(value)) from None


def is_initialized() -> bool:
    """True when this process belongs to a running ``torch.distributed`` process group."""
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    """The number of processes: the running group's, else torchrun's ``WORLD_SIZE``, else 1."""
    return dist.get_world_size() if is_initialized() else _env_int("WORLD_SIZE", 1)


def rank() -> int:
    """This process's rank (0 is the chief, which alone prints and writes files)."""
    return dist.get_rank() if is_initialized() else _env_int("RANK", 0)


def local_rank() -> int:
    """This process's index on its machine (torchrun's ``LOCAL_RANK``): the GPU it uses."""
    return _env_int("LOCAL_RANK", 0)


def is_chief() -> bool:
    """True on rank 0 (and in a single process)."""
    return rank() == 0


def backend_for(device_type: str) -> str:
    """PyTorch's recommended backend: nccl for CUDA devices, gloo for CPUs."""
    return "nccl" if device_type in ("cuda", "gpu") and dist.is_nccl_available() else "gloo"


def initialize(job_addresses: str | None = None, num_processes: int | None = None, process_id: int | None = None,
               backend: str | None = None, timeout_s: float = 1800.0) -> None:
    """Join the process group (Keras's ``keras.distribution.initialize``).

    Args:
        job_addresses: ``"host:port,host2:port2"``; the first address is the coordinator (rank 0's
            rendezvous). Default: ``KERAS_DISTRIBUTION_JOB_ADDRESSES``, else torchrun's
            ``MASTER_ADDR``/``MASTER_PORT``.
        num_processes: the world size (default ``KERAS_DISTRIBUTION_NUM_PROCESSES``, else ``WORLD_SIZE``).
        process_id: this process's rank in ``[0, num_processes)`` (default ``KERAS_DISTRIBUTION_PROCESS_ID``,
            else ``RANK``).
        backend: ``"gloo"`` / ``"nccl"``; default nccl when CUDA is available, else gloo.
    Calling it in a process that already belongs to a group is a no-op.
    """
    if is_initialized():
        return
    owner = "lstmkit.distribution.initialize"
    if job_addresses is None:
        job_addresses = os.environ.get("KERAS_DISTRIBUTION_JOB_ADDRESSES")
    if num_processes is None:
        num_processes = _env_int("KERAS_DISTRIBUTION_NUM_PROCESSES", _env_int("WORLD_SIZE", 0)) or None
    if process_id is None:
        process_id = _env_int("KERAS_DISTRIBUTION_PROCESS_ID", _env_int("RANK", -1))
        process_id = None if process_id < 0 else process_id
    if num_processes is None or process_id is None:
        raise _validation.value_error(owner, "num_processes / process_id", "both (or torchrun's WORLD_SIZE and "
                                      "RANK in the environment)", f"num_processes={num_processes}, "
                                      f"process_id={process_id}", "Launch with `torchrun --nproc-per-node N "
                                      "script.py` (or `lstmkit train ... --nproc N`), or pass both arguments.")
    num_processes = _validation.positive_int(owner, "num_processes", num_processes)
    if not 0 <= int(process_id) < num_processes:
        raise _validation.value_error(owner, "process_id", f"an integer in [0, {num_processes})", repr(process_id))
    if job_addresses:
        coordinator = str(job_addresses).split(",")[0].strip()
        if ":" not in coordinator:
            raise _validation.value_error(owner, "job_addresses", "'host:port' entries separated by commas",
                                          repr(job_addresses))
        init_method = f"tcp://{coordinator}"
    elif "MASTER_ADDR" in os.environ and "MASTER_PORT" in os.environ:
        init_method = "env://"
    else:
        raise _validation.value_error(owner, "job_addresses", "the coordinator's 'host:port' (or torchrun's "
                                      "MASTER_ADDR and MASTER_PORT)", "none",
                                      "Launch with torchrun, or pass job_addresses='10.0.0.1:29500,...'.")
    backend = backend or backend_for("cuda" if torch.cuda.is_available() else "cpu")
    if backend not in ("gloo", "nccl", "mpi", "ucc"):
        raise _validation.value_error(owner, "backend", "'gloo' or 'nccl'", repr(backend))
    if backend == "nccl":
        torch.cuda.set_device(local_rank())
    dist.init_process_group(backend, init_method=init_method, world_size=num_processes, rank=int(process_id),
                            timeout=datetime.timedelta(seconds=timeout_s))
    atexit.register(_leave_group)  # a group left to the interpreter's teardown can abort in gloo's threads


def _leave_group() -> None:
    """Destroy the group this module created, before interpreter exit tears down gloo's threads (an
    undestroyed group intermittently ends the process with "terminate called without an active exception")."""
    if is_initialized():
        dist.destroy_process_group()


def single_process() -> bool:
    """True when ``active`` would answer None for any device without joining anything: no distribution set,
    no process group running, no torchrun job described (``WORLD_SIZE`` unset or 1). Checked per call."""
    return (_STATE["distribution"] is None and os.environ.get("WORLD_SIZE") in (None, "", "1")
            and not is_initialized())


def ensure_initialized(device_type: str) -> bool:
    """Join the group torchrun describes when there is one (``WORLD_SIZE`` > 1); True when running distributed."""
    if is_initialized():
        return dist.get_world_size() > 1
    if _env_int("WORLD_SIZE", 1) > 1:
        initialize(backend=backend_for(device_type))
        return True
    return False


# -- devices ------------------------------------------------------------------------------------------------
def _device_type(device_type: str | None) -> str:
    if device_type is None:
        return "gpu" if torch.cuda.is_available() else "cpu"
    kind = str(device_type).lower()
    kind = "gpu" if kind == "cuda" else kind
    if kind not in ("cpu", "gpu"):
        raise _validation.value_error("lstmkit.distribution.list_devices", "device_type", "'cpu' or 'gpu'",
                                      repr(device_type))
    return kind


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices ``DataParallel`` can use, as ``"gpu:0"``/``"cpu:0"`` strings (Keras's format).

    Without a process group: this machine's GPUs (default when CUDA is available) or its one CPU device.
    In a process group: one device per process (the global devices, as Keras lists them).
    """
    kind = _device_type(device_type)
    if is_initialized():
        return [f"{kind}:{i}" for i in range(dist.get_world_size())]
    if kind == "gpu":
        return [f"gpu:{i}" for i in range(torch.cuda.device_count())]
    return ["cpu:0"]


def get_device_count(device_type: str | None = None) -> int:
    """``len(list_devices(device_type))``."""
    return len(list_devices(device_type))


# -- the distribution ------------------------------------------------------------------------------------------
class DataParallel:
    """Data parallelism: the model replicated in every process, each global batch split between them.

    Args:
        device_mesh: not supported (lstmkit has no device meshes); pass ``devices``.
        devices: the devices, one per process (``["gpu:0", "gpu:1"]``); default ``list_devices()``.
            In a process group their number must equal the world size; each process uses
            its machine's GPU ``LOCAL_RANK``. More than one device without a group is an error (start one process per
            device with torchrun).
        auto_shard_dataset: split the batches of iterable data (a DataLoader, a generator) between the
            processes (every process reads the whole iterable). ``False`` when each process's iterable is
            already its own shard (a ``DistributedSampler``, ``lstmkit.data`` streaming datasets).
    """

    def __init__(self, device_mesh: Any = None, devices: list | None = None, auto_shard_dataset: bool = True):
        owner = "DataParallel"
        if device_mesh is not None:
            raise _validation.type_error(owner, "device_mesh", "None (lstmkit runs one process per device)",
                                         type(device_mesh).__name__, "Pass devices=[...] or nothing.")
        self.auto_shard_dataset = _validation.boolean(owner, "auto_shard_dataset", auto_shard_dataset)
        if devices is None:
            devices = list_devices()
        if isinstance(devices, (str, torch.device)) or not len(devices):
            raise _validation.value_error(owner, "devices", "a non-empty list such as ['gpu:0', 'gpu:1']",
                                          repr(devices))
        self.devices = [_device_name(d) for d in devices]
        kinds = {d.split(":")[0] for d in self.devices}
        if len(kinds) > 1:
            raise _validation.value_error(owner, "devices", "devices of one type", repr(self.devices))
        self.device_type = kinds.pop()
        if is_initialized() and len(self.devices) not in (1, dist.get_world_size()):
            raise _validation.value_error(owner, "devices", f"{dist.get_world_size()} devices (one per process of "
                                          "the running group)", f"{len(self.devices)}: {self.devices}")
        if not is_initialized() and _env_int("WORLD_SIZE", 1) == 1 and len(self.devices) > 1:
            raise _validation.value_error(owner, "devices", "one device per process", f"{len(self.devices)} "
                                          "devices in a single process", f"Launch one process per device: "
                                          f"`torchrun --nproc-per-node {len(self.devices)} script.py` (or "
                                          f"`lstmkit train ... --nproc {len(self.devices)}`).")

    @property
    def num_processes(self) -> int:
        return world_size()

    @property
    def process_id(self) -> int:
        return rank()

    @property
    def num_model_replicas(self) -> int:
        return world_size()

    def torch_device(self) -> torch.device:
        """The device this process trains on: ``devices[rank]`` (``cuda:<local index>`` for GPUs)."""
        if self.device_type == "cpu":
            return torch.device("cpu")
        return torch.device("cuda", local_rank())  # torchrun's one process per GPU of each machine

    @contextlib.contextmanager
    def scope(self):
        """Make this the current distribution inside the block."""
        previous = _STATE["distribution"]
        set_distribution(self)
        try:
            yield self
        finally:
            set_distribution(previous)

    def __repr__(self) -> str:
        return f"<DataParallel devices={self.devices} processes={world_size()}>"


def _device_name(device: Any) -> str:
    text = str(device).lower().replace("cuda", "gpu")
    kind, _, index = text.partition(":")
    if kind not in ("cpu", "gpu") or (index and not index.isdigit()):
        raise _validation.value_error("DataParallel", "devices", "names such as 'gpu:0' or 'cpu:0'", repr(device))
    return f"{kind}:{index or 0}"


def set_distribution(value: DataParallel | None) -> None:
    """Make ``value`` the distribution ``fit``/``evaluate``/``predict`` use (``None``: the default)."""
    if value is not None and not isinstance(value, DataParallel):
        raise _validation.type_error("set_distribution", "value", "a DataParallel or None", type(value).__name__)
    _STATE["distribution"] = value


def distribution() -> DataParallel | None:
    """The distribution set with ``set_distribution`` (None when none was set)."""
    return _STATE["distribution"]


def active(device_type: str) -> DataParallel | None:
    """The data parallelism in force for a model on ``device_type``, joining the group when needed.

    The distribution set with ``set_distribution``, or, in a process of a torchrun job (``WORLD_SIZE`` >
    1) with none set, an implicit ``DataParallel()``. None in a single process (answered first, without
    parsing or joining anything: every predict / fit call asks).
    """
    if single_process():
        return None
    chosen = _STATE["distribution"]
    if chosen is not None:
        device_type = "cuda" if chosen.device_type == "gpu" else "cpu"
    if not ensure_initialized(device_type):
        return None
    if chosen is not None:
        return chosen
    implicit = _STATE["implicit"]
    if implicit is None:
        kind = "gpu" if device_type == "cuda" else "cpu"
        implicit = DataParallel(devices=[f"{kind}:{i}" for i in range(dist.get_world_size())])
        _STATE["implicit"] = implicit
    return implicit
