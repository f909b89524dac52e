"""Keep a training step's large CPU buffers for the next step instead of faulting them in again.

Every step of a big recurrent model allocates the same buffers (gates, oneDNN workspaces, gradients),
and glibc gives blocks over its mmap threshold back to the system on free, so each step pays a page
fault per 4 KiB of them: for W3's 4-layer bidirectional stack (batch 256) ~280,000 faults and about a
third of the step. This is what a caching allocator saves (PyTorch's own allocator does it on CUDA;
preloaded allocators such as jemalloc are made for it).

``reuse_buffers()`` opens a scope on this thread: inside it, CPU blocks of at least 64 KiB come from a
cache of blocks freed earlier in the scope and go back to it (``csrc/buffer_pool.cpp``). Only this
thread's allocations are affected, and the numbers are the same (the memory holds the same values
whoever allocates it). The cache never holds more than the most the scope has had in use at once;
leaving the outermost scope frees it unless ``keep=True``: ``train_on_batch`` and ``test_on_batch``,
called in a loop, keep it for the next call, so up to one step's peak stays allocated after them until
a ``fit`` / ``evaluate`` / multi-batch ``predict`` ends or ``release_buffers()`` is called. A scope ends
wherever its ``with`` block ends, on this thread or another. Without the C++ library it does nothing.

``fit``, ``evaluate`` and ``predict`` run inside a scope; a hand-written PyTorch loop can too::

    with reuse_buffers():
        for x, y in batches:
            loss = loss_fn(model(x), y); loss.backward(); optimizer.step(); optimizer.zero_grad()
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import NamedTuple

from lstmkit.ops import native


class PoolStats(NamedTuple):
    """The pool's state: bytes of its blocks now in use and idle (cached); ``peak``, the most it has held
    at once, in use and idle together (which idle blocks are freed to stay within: with one thread, the
    most it has had in use at once); how many requests a cached block served (hits) or the system did
    (misses). ``installed``: the pool is in front of torch's CPU allocator."""

    installed: bool
    open_scopes: int
    in_use: int
    idle: int
    peak: int
    hits: int
    misses: int


def enabled() -> bool:
    """Whether scopes reuse buffers here: the C++ library is loaded and ``LSTMKIT_BUFFER_POOL`` is not 0."""
    return os.environ.get("LSTMKIT_BUFFER_POOL", "1") != "0" and native.load()


@contextlib.contextmanager
def reuse_buffers(keep: bool = False) -> Iterator[None]:
    """A scope on this thread in which large CPU buffers are reused (see the module's docstring)."""
    if not enabled():
        yield
        return
    ops = native.ops()
    token = ops.pool_enter.default()  # names this thread's scope, wherever the scope ends
    if token < 0:  # another CPU allocator was installed with a higher priority
        yield
        return
    try:
        yield
    finally:
        ops.pool_exit.default(token, not keep)


def release_buffers() -> None:
    """Free the idle cached blocks now (blocks still in use are freed when their tensors are)."""
    if native.load():
        native.ops().pool_release()


def stats() -> PoolStats:
    """The pool's counters (all zero when the C++ library is not loaded)."""
    if not native.load():
        return PoolStats(False, 0, 0, 0, 0, 0, 0)
    installed, *rest = native.ops().pool_stats()
    return PoolStats(bool(installed), *rest)
