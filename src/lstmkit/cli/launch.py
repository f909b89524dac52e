"""``--nproc N``: run a CLI command as N data-parallel processes through ``torch.distributed.run``.

``lstmkit train data.csv --target y --nproc 4`` starts ``python -m torch.distributed.run --standalone
--nproc-per-node 4 -m lstmkit.cli.worker``: four processes on this machine (one per GPU with ``--device
cuda``), each running the same command (handed over in ``LSTMKIT_CLI_ARGV``); ``fit`` finds torchrun's environment and
trains data-parallel (``lstmkit.trainers.distributed``). Rank 0 writes the outputs and prints; the other
ranks write into a temporary folder that is removed when they finish. Several machines: run ``torchrun``
yourself (``torchrun --nnodes 2 --node-rank 0 --rdzv-endpoint HOST:PORT -m lstmkit train ...``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from typing import Any, Callable, Sequence

from .._validation import InputError

LAUNCHER = [sys.executable, "-m", "torch.distributed.run"]


def add_nproc_argument(parser: argparse.ArgumentParser, command: Sequence[str]) -> None:
    """Register ``--nproc`` on ``parser`` and wrap its handler (call after ``set_defaults(handler=...)``)."""
    parser.add_argument("--nproc", type=int, default=1,
                        help="train data-parallel in N processes on this machine (torch.distributed.run; with "
                             "--device cuda, one per GPU). --batch-size stays the global batch")
    handler = parser.get_default("handler")
    parser.set_defaults(handler=lambda args: run(args, handler, parser, list(command)))


def under_torchrun() -> bool:
    """True in a process that torchrun started (it sets ``WORLD_SIZE`` and ``LOCAL_RANK``)."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def run(args: argparse.Namespace, handler: Callable[[argparse.Namespace], int], parser: argparse.ArgumentParser,
        command: list[str]) -> int:
    """Relaunch through torchrun (``--nproc`` > 1 outside torchrun), else run the command; in a torchrun
    worker other than rank 0, with its outputs sent to a temporary folder and its printing dropped."""
    nproc = args.nproc
    if nproc < 1:
        raise InputError(f"--nproc expects a positive number of processes; received {nproc}")
    if nproc > 1 and not under_torchrun():
        check_devices(nproc, getattr(args, "device", "cpu"))
        cmd = [*LAUNCHER, "--standalone", "--nproc-per-node", str(nproc), "-m", "lstmkit.cli.worker"]
        line = json.dumps(command_line(parser, args, command))  # read by cli/worker.py in each process
        return subprocess.run(cmd, env={**os.environ, "LSTMKIT_CLI_ARGV": line}, check=False).returncode
    if not under_torchrun() or int(os.environ.get("RANK", "0")) == 0:
        return handler(args)
    scratch = tempfile.mkdtemp(prefix="lstmkit-rank-")
    try:  # a copy of the outputs that nobody reads; rank 0 writes the real ones
        if hasattr(args, "out"):
            args.out = os.path.join(scratch, "out")
        with contextlib.redirect_stdout(io.StringIO()):
            return handler(args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def check_devices(nproc: int, device: str) -> None:
    """One GPU per process with ``--device cuda`` (or ``auto`` on a machine with CUDA)."""
    import torch

    kind = str(device).split(":")[0]
    if kind == "cuda" or (kind == "auto" and torch.cuda.is_available()):
        count = torch.cuda.device_count()
        if count < nproc:
            raise InputError(f"--nproc {nproc} with --device {device} needs {nproc} GPUs (one per process); this "
                             f"machine has {count}. Use --nproc {max(count, 1)} or --device cpu.")
    elif kind != "cpu" and kind != "auto":
        raise InputError(f"--nproc {nproc} runs on --device cpu, cuda or auto; received {device!r}")


def command_line(parser: argparse.ArgumentParser, args: argparse.Namespace, command: list[str]) -> list[str]:
    """The arguments that give ``args`` again when parsed by ``parser`` (after ``command``)."""
    line: list[str] = list(command)
    positionals: list[str] = []
    for action in parser._actions:  # argparse keeps no public list of a parser's arguments
        if isinstance(action, argparse._HelpAction) or action.dest == argparse.SUPPRESS:
            continue
        value = getattr(args, action.dest, action.default)
        if not action.option_strings:
            positionals += [str(v) for v in value] if action.nargs in ("+", "*") else [_text(value)]
            continue
        if value == action.default:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") else action.option_strings[0]
        if isinstance(action, argparse.BooleanOptionalAction):  # --flag / --no-flag, no value
            line.append(action.option_strings[0] if value else action.option_strings[1])
        elif isinstance(action, argparse._StoreTrueAction):
            line.append(flag)
        elif isinstance(action, argparse._StoreFalseAction):
            line.append(flag)
        else:
            line.append(f"{flag}={_text(value)}")  # one token: a value may start with "-"
    return [*command, *positionals, *line[len(command):]]


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)
