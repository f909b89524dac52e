"""Fixtures shared across the test packages: the optional C++ library, and switching its inference and
training loops off."""

from __future__ import annotations

import shutil

import pytest

from lstmkit.ops import bptt, infer_loop, native


@pytest.fixture(scope="session")
def native_library():
    """The built C++ library, loaded. Built here when the setup did not (~15 s); skipped only without a compiler."""
    if not native.load():
        if shutil.which("c++") is None or shutil.which("ninja") is None:
            pytest.skip(f"no C++ compiler or ninja to build the C++ loops: {native.load_error()}")
        native.build()
    assert native.load(), native.load_error()
    return native.ops()


@pytest.fixture
def without_training_loop(monkeypatch):
    """LSTM training on the native kernel (oneDNN) instead of ``ops.bptt``'s C++ loop, which the dispatch
    prefers where it measured faster: for tests of the kernel's training path."""
    monkeypatch.setattr(bptt, "plain_training_reason", lambda *args, **kwargs: "switched off by the test")


@pytest.fixture
def without_infer_loop(monkeypatch):
    """Small-batch inference on the native kernel instead of the C++ inference loop (``ops.infer_loop``),
    for tests of what that kernel's path keeps (cached weights, zero states)."""
    monkeypatch.setattr(infer_loop, "unavailable_reason", lambda *args, **kwargs: "switched off by the test")
