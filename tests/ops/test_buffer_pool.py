"""ops.buffer_pool: inside a scope, large CPU blocks freed earlier are handed out again; nothing else
changes (small blocks, other threads, forked children, the numbers a model computes), the cache stays
within the peak the scope had in use, and it is freed when the outermost scope ends or on request."""

from __future__ import annotations

import gc
import os
import threading
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from lstmkit.layers import LSTM, Bidirectional, Input
from lstmkit.models import Sequential
from lstmkit.ops import buffer_pool

MIB = 1 << 20


@pytest.fixture(autouse=True)
def pool(native_library):
    """Each test starts and ends with no scope open and an empty cache. Blocks earlier tests' models
    still hold are collected first, and the collector is off during the test, so no block of theirs is
    freed into a scope mid-test."""
    gc.collect()
    gc.disable()
    buffer_pool.release_buffers()
    assert buffer_pool.stats().open_scopes == 0 and buffer_pool.stats().idle == 0
    yield
    gc.enable()
    assert buffer_pool.stats().open_scopes == 0, "a test left a scope open"
    buffer_pool.release_buffers()


def floats(nbytes: int) -> torch.Tensor:
    return torch.empty(nbytes // 4, dtype=torch.float32)


def test_a_freed_large_block_is_handed_out_again_inside_a_scope():
    before = buffer_pool.stats()
    with buffer_pool.reuse_buffers():
        first = floats(MIB)
        address = first.data_ptr()
        del first
        second = floats(MIB)
        assert second.data_ptr() == address
        during = buffer_pool.stats()
        assert during.open_scopes == 1 and during.in_use >= MIB
        del second
    after = buffer_pool.stats()
    assert after.hits == before.hits + 1 and after.misses == before.misses + 1
    assert after.idle == 0 and after.in_use == before.in_use  # the outermost scope freed the cache


def test_sizes_share_a_block_within_their_class():
    """Four classes per power of two: 1 MiB + 4 KiB and 1 MiB + 200 kB are both 1.25 MiB blocks; 1 MiB
    + 400 kB is a 1.5 MiB one."""
    with buffer_pool.reuse_buffers():
        first = floats(MIB + 4096)
        address = first.data_ptr()
        del first
        second = floats(MIB + 200_000)
        assert second.data_ptr() == address
        del second
        misses = buffer_pool.stats().misses
        third = floats(MIB + 400_000)
        assert buffer_pool.stats().misses == misses + 1
        del third


def test_small_blocks_and_code_outside_a_scope_use_the_system_allocator():
    before = buffer_pool.stats()
    with buffer_pool.reuse_buffers():
        for _ in range(10):
            small = torch.empty(1000)  # 4 KB: glibc's heap serves it without page faults
            del small
    outside = floats(MIB)
    del outside
    after = buffer_pool.stats()
    assert (after.hits, after.misses, after.in_use) == (before.hits, before.misses, before.in_use)


def test_other_threads_allocate_as_before_while_a_scope_is_open():
    seen = {}

    def other():
        first = floats(MIB)
        seen["count"] = buffer_pool.stats().misses + buffer_pool.stats().hits
        del first

    with buffer_pool.reuse_buffers():
        count = buffer_pool.stats().misses + buffer_pool.stats().hits
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen["count"] == count


def test_keep_leaves_the_cache_for_the_next_scope_and_release_frees_it():
    base = buffer_pool.stats().in_use
    with buffer_pool.reuse_buffers(keep=True):
        block = floats(4 * MIB)
        address = block.data_ptr()
        del block
    assert buffer_pool.stats().idle == 4 * MIB
    with buffer_pool.reuse_buffers(keep=True):
        again = floats(4 * MIB)
        assert again.data_ptr() == address
    del again  # freed with no scope open: to the system, not the cache
    assert buffer_pool.stats().idle == 0 and buffer_pool.stats().in_use == base
    with buffer_pool.reuse_buffers(keep=True):
        del_me = floats(4 * MIB)
        del del_me
    assert buffer_pool.stats().idle == 4 * MIB
    buffer_pool.release_buffers()
    assert buffer_pool.stats().idle == 0


def test_a_block_outliving_its_scope_is_freed_later_without_harm():
    base = buffer_pool.stats().in_use
    with buffer_pool.reuse_buffers():
        kept = floats(MIB).fill_(3.0)
    assert buffer_pool.stats().in_use == base + MIB
    assert torch.all(kept == 3.0)
    del kept
    assert buffer_pool.stats().in_use == base and buffer_pool.stats().idle == 0  # freed, not cached


def test_a_scope_ended_on_another_thread_is_closed():
    """A ``with`` inside a generator can end wherever the generator is closed: the scope it opened (on
    this thread) is the one that closes."""
    def batches():
        with buffer_pool.reuse_buffers():
            yield 1

    running = batches()
    next(running)
    assert buffer_pool.stats().open_scopes == 1
    closer = threading.Thread(target=running.close)
    closer.start()
    closer.join()
    assert buffer_pool.stats().open_scopes == 0
    counts = buffer_pool.stats().hits + buffer_pool.stats().misses
    del_me = floats(MIB)  # this thread allocates as before again
    del del_me
    assert buffer_pool.stats().hits + buffer_pool.stats().misses == counts


def test_threads_in_scopes_at_once_keep_their_own_values():
    errors = []

    def work(seed):
        try:
            with buffer_pool.reuse_buffers():
                for step in range(30):
                    block = torch.full(((step % 5 + 1) * 65536,), float(seed * 1000 + step))
                    time.sleep(0)
                    assert torch.all(block == seed * 1000 + step)
        except AssertionError as error:  # reported below: an assert in a thread would not fail the test
            errors.append(error)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    state = buffer_pool.stats()
    assert state.open_scopes == 0 and state.idle == 0 and state.hits > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(16, 1024).map(lambda kib: ("new", kib * 1024)),
                          st.integers(0, 50).map(lambda i: ("free", i))), min_size=1, max_size=60))
def test_live_blocks_are_never_handed_out_twice_and_the_cache_stays_under_the_most_in_use(steps):
    """Random allocations and frees inside a scope: every live tensor keeps its own values (no block is
    given to two tensors), and idle + in use never exceeds the most that was in use at once (each step
    allocates at most one block, so looking after each step sees that maximum)."""
    live: list[tuple[torch.Tensor, float]] = []
    most_in_use = buffer_pool.stats().in_use
    with buffer_pool.reuse_buffers():
        for number, (kind, value) in enumerate(steps):
            if kind == "new":
                live.append((torch.full((value // 4,), float(number)), float(number)))
            elif live:
                live.pop(value % len(live))
            state = buffer_pool.stats()
            most_in_use = max(most_in_use, state.in_use)
            assert state.idle + state.in_use <= most_in_use
            for tensor, expected in live:
                assert tensor[0] == expected and tensor[-1] == expected
    assert buffer_pool.stats().idle == 0


def test_the_cache_makes_room_for_new_sizes_by_freeing_the_oldest_idle_blocks():
    base = buffer_pool.stats().in_use
    with buffer_pool.reuse_buffers():
        blocks = [floats(MIB) for _ in range(4)]  # 4 MiB in use at most
        del blocks
        assert buffer_pool.stats().idle == 4 * MIB
        other = floats(3 * MIB)  # a new size: 3 MiB of idle blocks are freed to stay within 4 MiB
        state = buffer_pool.stats()
        assert state.peak == base + 4 * MIB and state.idle + state.in_use <= state.peak
        assert state.idle == MIB and state.in_use == base + 3 * MIB
        del other


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX-only")
def test_a_child_forked_inside_a_scope_starts_with_none_open():
    """The child allocates as before (no scope open, nothing served by the pool) and does not hang on a
    lock the parent held."""
    read, write = os.pipe()
    with buffer_pool.reuse_buffers():
        pid = os.fork()
        if pid == 0:  # the child: allocate, report, leave without running the parent's cleanup
            try:
                before = buffer_pool.stats()
                block = floats(MIB)
                block.numpy()[:] = 1.0  # NumPy: an OpenMP region after fork would hang torch itself
                after = buffer_pool.stats()
                served = after.hits + after.misses - before.hits - before.misses
                os.write(write, f"{after.open_scopes} {served}".encode())
            finally:
                os._exit(0)
        deadline = time.monotonic() + 60
        while (done := os.waitpid(pid, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        if done == (0, 0):
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child hung")
    os.close(write)
    assert os.read(read, 64) == b"0 0" and done[1] == 0
    os.close(read)


def model(seed: int) -> Sequential:
    torch.manual_seed(seed)
    m = Sequential([Input((30, 8)), Bidirectional(LSTM(32, return_sequences=True)), LSTM(16)])
    m.compile(optimizer="adam", loss="mse")
    return m


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 30, 8)).astype("float32"), rng.normal(size=(64, 16)).astype("float32")


def test_training_with_the_pool_gives_the_same_numbers_as_without(monkeypatch):
    x, y = data()
    pooled = model(0)
    before = buffer_pool.stats().hits
    pooled_losses = [pooled.train_on_batch(x, y) for _ in range(3)]
    assert buffer_pool.stats().hits > before  # the pool served this training
    monkeypatch.setenv("LSTMKIT_BUFFER_POOL", "0")
    plain = model(0)
    plain_losses = [plain.train_on_batch(x, y) for _ in range(3)]
    assert pooled_losses == plain_losses
    for a, b in zip(pooled.weights, plain.weights):
        assert torch.equal(a.detach(), b.detach())


def test_fit_frees_the_cache_when_it_ends_and_train_on_batch_keeps_it():
    x, y = data()
    m = model(1)
    m.fit(x, y, batch_size=32, epochs=2, verbose=0)
    assert buffer_pool.stats().idle == 0
    m.train_on_batch(x, y)
    assert buffer_pool.stats().idle > 0  # for the next call
    m.predict(x, batch_size=16, verbose=0)  # several batches: a scope of its own, freed at its end
    assert buffer_pool.stats().idle == 0


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("LSTMKIT_BUFFER_POOL", "0")
    before = buffer_pool.stats()
    with buffer_pool.reuse_buffers():
        first = floats(MIB)
        del first
        floats(MIB)
    assert buffer_pool.stats().hits == before.hits and buffer_pool.stats().misses == before.misses
