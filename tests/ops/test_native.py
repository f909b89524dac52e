"""ops.native: the C++ loop for recurrent dropout equals ops.bptt's PyTorch loops (the specification),
its backward is the derivative of its forward, and a missing, stale or corrupt library means the PyTorch
loops run instead, with the reason said."""

from __future__ import annotations

import shutil

import pytest
import torch

from lstmkit.cli.main import main
from lstmkit.layers import GRU, LSTM
from lstmkit.ops import bptt, native


@pytest.fixture(scope="module")
def library(native_library):
    return native_library


@pytest.fixture
def calls(library, monkeypatch):
    """Counts the C++ operators' calls, so a test knows the loop it meant to test is the one that ran."""
    counted = {"bptt_forward": 0, "bptt_backward": 0}

    class Counting:
        def __getattr__(self, name):
            def call(*args):
                if name in counted:  # the training loop's operators (not the inference loop's)
                    counted[name] += 1
                return getattr(library, name)(*args)
            return call

    monkeypatch.setattr(native, "ops", Counting)
    return counted


def buffers(batch, steps, units, dtype, seed=0):
    g = torch.Generator().manual_seed(seed)
    xp = torch.randn(steps, batch, 4 * units, generator=g, dtype=dtype)
    h0, c0 = (torch.randn(batch, units, generator=g, dtype=dtype) for _ in range(2))
    rk = torch.randn(units, 4 * units, generator=g, dtype=dtype) * 0.3
    mask = (torch.rand(batch, units, generator=g) > 0.25).to(dtype) / 0.75
    return xp, h0, c0, rk, mask


# units off the vector width too; 19 and 9 rows: blocks of 8 rows, then 2 + 1 and 1 (the product's row tails)
SHAPES = [(64, 13, 128), (3, 5, 7), (1, 1, 1), (2, 4, 17), (5, 2, 33), (19, 3, 20), (9, 2, 36),
          (45, 7, 24)]  # 45 rows = 5 blocks of 8 + 4 + 1, split over the threads


@pytest.mark.parametrize("dtype,atol", [(torch.float32, 2e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("batch,steps,units", SHAPES)
def test_the_c_loop_equals_the_pytorch_loops(library, batch, steps, units, dtype, atol):
    xp, h0, c0, rk, mask = buffers(batch, steps, units, dtype)
    expected = bptt._forward_loop(xp, h0, c0, rk, mask)  # act, cells, tanh_cells, dropped, outputs
    got = library.bptt_forward(xp, h0, c0, rk, mask)
    for name, a, b in zip(["act", "cells", "tanh_cells", "dropped", "outputs"], got, expected):
        torch.testing.assert_close(a, b, atol=atol, rtol=0, msg=lambda m: f"{name}: {m}")
    g = torch.Generator().manual_seed(1)
    d_out = torch.randn(steps, batch, units, generator=g, dtype=dtype)
    d_h, d_c = (torch.randn(batch, units, generator=g, dtype=dtype) for _ in range(2))
    act, cells, tanh_cells = expected[:3]
    for outputs_gradient in (d_out, None):  # None: only the final states carry a gradient
        want = bptt._backward_loop(outputs_gradient, d_h, d_c, act, cells, tanh_cells, rk, mask)
        have = library.bptt_backward(outputs_gradient, d_h, d_c, act, cells, tanh_cells, rk, mask)
        for name, a, b in zip(["d_act", "dh0", "dc0"], have, want):
            torch.testing.assert_close(a, b, atol=atol * 10, rtol=0, msg=lambda m: f"{name}: {m}")


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="needs two threads to compare with one")
def test_the_c_loop_gives_the_same_bits_on_one_thread_or_several(library):
    """Each block of rows runs every step on one thread, so the numbers cannot depend on the thread count."""
    xp, h0, c0, rk, mask = buffers(45, 6, 24, torch.float32)
    d_out = torch.randn(6, 45, 24, generator=torch.Generator().manual_seed(1))
    runs = []
    threads = torch.get_num_threads()
    for count in (1, threads):
        torch.set_num_threads(count)
        try:
            forward = library.bptt_forward(xp, h0, c0, rk, mask)
            runs.append([*forward, *library.bptt_backward(d_out, h0, c0, *forward[:3], rk, mask)])
        finally:
            torch.set_num_threads(threads)
    for one, several in zip(*runs):
        assert torch.equal(one, several)


def test_the_library_runs_on_torchs_threads(library):
    """Built with OpenMP, the library must share torch's runtime: a second one would keep its own thread
    pool, oversubscribe the cores and ignore torch.set_num_threads."""
    threads = torch.get_num_threads()
    try:
        for count in (1, threads + 1):
            torch.set_num_threads(count)
            assert library.parallel_threads() == (count if native.openmp_flags() else 1)
    finally:
        torch.set_num_threads(threads)


def test_without_torchs_openmp_the_library_is_built_without_it_and_named_apart(monkeypatch):
    if not native.openmp_flags():
        pytest.skip("built without OpenMP here already")
    with_openmp = native.library_path()
    assert "-fopenmp" in native.build_flags() and native.link_flags()
    for no_openmp in ("torch_libgomp", "compiler_is_gcc"):  # torch on another runtime; clang (no libgomp ABI)
        with monkeypatch.context() as patch:
            patch.setattr(native, f"_{no_openmp}", lambda: None if no_openmp == "torch_libgomp" else False)
            assert native.openmp_flags() == native.link_flags() == [] and "-fopenmp" not in native.build_flags()
            assert native.library_path() != with_openmp  # a build with other flags is never loaded in its place


def test_the_openmp_runtime_linked_is_the_one_torch_calls(library):
    runtime = native._torch_libgomp()
    if runtime is None:
        pytest.skip("torch does not run on GNU OpenMP here")
    with open("/proc/self/maps", encoding="utf-8") as maps:
        assert str(runtime) in maps.read()  # loaded by torch already: linking it adds no second runtime


def test_the_c_backward_is_the_derivative_of_the_c_forward(calls):
    """gradcheck in float64: finite differences of the C++ forward against the C++ backward."""
    xp, h0, c0, rk, mask = buffers(3, 4, 5, torch.float64)
    inputs = [t.requires_grad_() for t in (xp, h0, c0, rk)]
    assert torch.autograd.gradcheck(lambda *a: bptt._LSTMRecurrence.apply(*a, mask), inputs)
    assert calls["bptt_forward"] > 0 and calls["bptt_backward"] > 0


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_an_lstm_with_recurrent_dropout_runs_the_c_loop_and_equals_the_reference(calls, go_backwards,
                                                                                 return_sequences):
    options = dict(recurrent_dropout=0.3, seed=2, return_state=True, go_backwards=go_backwards,
                   return_sequences=return_sequences)
    fast, reference = LSTM(9, **options), LSTM(9, use_fused=False, **options)
    x = torch.randn(4, 6, 3)
    with torch.no_grad():
        fast(x, training=False), reference(x, training=False)
    reference.set_weights(fast.get_weights())
    out_f, grads_f = outputs_and_grads(fast, x)
    assert fast.last_path == "bptt" and calls == {"bptt_forward": 1, "bptt_backward": 1}
    out_r, grads_r = outputs_and_grads(reference, x)
    for a, b in zip(out_f + grads_f, out_r + grads_r):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def outputs_and_grads(layer, x):
    x = x.clone().requires_grad_()
    outputs = layer(x, training=True)
    loss = sum((o * torch.linspace(-1, 1, o.numel()).reshape(o.shape)).sum() for o in outputs)
    return [o.detach() for o in outputs], list(torch.autograd.grad(loss, [x, *layer.weights]))


def test_an_lstm_recording_a_gradient_trains_on_the_c_loop(calls):
    """Without recurrent dropout too, where the loop was measured faster than oneDNN (ops/bptt.py)."""
    layer = LSTM(16, return_sequences=True)
    x = torch.randn(4, 6, 3)
    layer(x).sum().backward()
    assert layer.last_path == "bptt" and calls == {"bptt_forward": 1, "bptt_backward": 1}
    assert layer.cell.recurrent_kernel.grad is not None


def _training_reason(layer, x):
    cell = layer.cell
    return bptt.plain_training_reason(cell.math, x, cell.kernel, cell.recurrent_kernel, cell.bias)


@pytest.mark.parametrize("make, dtype, grad, reason", [
    (lambda: LSTM(256), torch.float32, True, "units=256: the recurrent kernel exceeds 256 KiB, where oneDNN"),
    (lambda: LSTM(8, dtype="float64"), torch.float64, True, "torch.float64: the C++ loop was measured against oneDNN in float32 only"),
    (lambda: LSTM(8), torch.float32, False, "no gradient is recorded"),
    (lambda: LSTM(128), torch.float32, True, "batch 65 x units 128 > 8192: oneDNN's training kernel is as fast"),
    (lambda: GRU(8), torch.float32, True, "gru: the hand-written backward covers the LSTM step only"),
    (lambda: LSTM(8, recurrent_activation="hard_sigmoid"), torch.float32, True, "non-standard activations"),
])
def test_the_dispatch_says_why_an_lstm_trains_on_onednn_instead(library, make, dtype, grad, reason):
    layer = make()
    x = torch.randn(65 if "batch 65" in reason else 2, 4, 3, dtype=dtype)
    with torch.no_grad():
        layer(x)
    with torch.set_grad_enabled(grad):
        assert reason in _training_reason(layer, x)
        layer(x)
    assert layer.last_path in ("fused", "native", "reference")


def test_under_autocast_an_lstm_trains_on_onednn(library):
    layer = LSTM(8)
    x = torch.randn(2, 4, 3)
    layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert "autocast" in _training_reason(layer, x)


def test_without_the_library_the_pytorch_loops_give_the_same_numbers(calls, monkeypatch):
    layer, twin = (LSTM(6, recurrent_dropout=0.2, seed=3, return_sequences=True) for _ in range(2))
    x = torch.randn(3, 5, 2)
    with torch.no_grad():
        layer(x, training=False), twin(x, training=False)
    twin.set_weights(layer.get_weights())  # same weights, same seeded masks
    with_c = outputs_and_grads(layer, x)
    assert calls == {"bptt_forward": 1, "bptt_backward": 1}
    monkeypatch.setattr(native, "_loaded", False)
    monkeypatch.setattr(native, "_load_error", "disabled for this test")
    assert native.unavailable_reason(x) == "the C++ library is not loaded: disabled for this test"
    without = outputs_and_grads(twin, x)
    assert calls == {"bptt_forward": 1, "bptt_backward": 1}  # the PyTorch loops ran
    for a, b in zip(with_c[0] + with_c[1], without[0] + without[1]):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_the_c_loop_is_cpu_float32_float64_and_eager_only(library):
    assert "CPU-only" in native.unavailable_reason(torch.zeros(1, device="meta"))
    assert "float32 and float64" in native.unavailable_reason(torch.zeros(1, dtype=torch.bfloat16))
    assert "mixed dtypes" in native.unavailable_reason(torch.zeros(1), torch.zeros(1, dtype=torch.float64))


@pytest.mark.parametrize("implementation", [1, 2])
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_with_recurrent_dropout_trains_on_the_pytorch_loops(calls, policy, implementation):
    """Under a mixed policy the projection may come out float32 while the states are half precision."""
    layer = LSTM(5, recurrent_dropout=0.3, seed=0, dtype=policy, implementation=implementation)
    x = torch.randn(2, 4, 3)
    out = layer(x, training=True)
    out.float().sum().backward()
    assert layer.last_path == "bptt" and calls == {"bptt_forward": 0, "bptt_backward": 0}
    assert torch.isfinite(layer.cell.recurrent_kernel.grad).all()


def test_an_empty_batch_gives_an_empty_output(library):
    layer = LSTM(4, recurrent_dropout=0.3, return_sequences=True)
    out = layer(torch.zeros(0, 3, 2), training=True)
    assert out.shape == (0, 3, 4) and layer.last_path == "bptt"


def test_a_missing_or_corrupt_library_is_reported_and_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTMKIT_KERNEL_DIR", str(tmp_path))
    monkeypatch.setattr(native, "_loaded", None)
    monkeypatch.setattr(native, "_registered", lambda: False)  # as in a process that never loaded it
    assert native.load() is False
    assert "lstmkit kernels build" in native.load_error()
    path = native.library_path()
    assert path.is_relative_to(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a shared library")
    monkeypatch.setattr(native, "_loaded", None)
    assert native.load() is False
    assert "could not be loaded" in native.load_error() and "build again" in native.load_error()
    layer = LSTM(4, recurrent_dropout=0.5, seed=0)  # training still works, on the PyTorch loops
    x = torch.randn(2, 3, 1)
    layer(x, training=True).sum().backward()
    assert layer.last_path == "bptt"


def test_disabled_by_environment(monkeypatch):
    monkeypatch.setenv("LSTMKIT_NATIVE", "0")
    monkeypatch.setattr(native, "_loaded", None)
    assert native.load() is False and native.load_error() == "disabled by LSTMKIT_NATIVE=0"


def test_a_library_is_never_reused_across_sources_or_torch_versions(tmp_path, monkeypatch):
    """The cache folder is named by a hash of the source, torch's version, Python's ABI and the flags."""
    first = native.library_path()
    monkeypatch.setattr(torch, "__version__", "0.0.0-other")
    assert native.library_path() != first
    monkeypatch.undo()
    edited = tmp_path / "lstm_bptt.cpp"
    edited.write_bytes(native.SOURCES[0].read_bytes() + b"\n// edited\n")
    monkeypatch.setattr(native, "SOURCES", (edited, native.SOURCES[1]))
    assert native.library_path() != first


def needs_compiler():
    if shutil.which("c++") is None or shutil.which("ninja") is None:
        pytest.skip("no C++ compiler or ninja")


def test_a_failed_build_says_why_and_leaves_no_library_behind(tmp_path, monkeypatch):
    needs_compiler()
    broken = tmp_path / "lstm_bptt.cpp"
    broken.write_text("#error deliberately broken\n")
    monkeypatch.setenv("LSTMKIT_KERNEL_DIR", str(tmp_path / "kernels"))
    monkeypatch.setattr(native, "SOURCES", (broken, native.SOURCES[1]))
    with pytest.raises(RuntimeError, match="compiling lstm_bptt.cpp and buffer_pool.cpp failed:(.|\n)*deliberately broken"):
        native.build()
    assert not native.library_path().exists()
    assert list(native.library_path().parent.iterdir()) == []  # no half-written file, no build folder


def test_build_replaces_a_corrupt_library_without_loading_a_second_copy(library, tmp_path, monkeypatch):
    """The process has the operators loaded already; building into another folder must not load them
    again (a second registration aborts the process) and must replace the unloadable file."""
    needs_compiler()
    monkeypatch.setenv("LSTMKIT_KERNEL_DIR", str(tmp_path))
    path = native.library_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a shared library")
    assert native.build() == path
    assert path.read_bytes()[:4] == b"\x7fELF"
    assert native._child(["import sys, torch; torch.ops.load_library(sys.argv[1])", str(path)],
                         verbose=False).returncode == 0
    assert native.load() and native.unavailable_reason(torch.zeros(1)) is None
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_the_operators_reject_wrong_buffers_with_a_message(library):
    xp, h0, c0, rk, mask = buffers(2, 3, 4, torch.float32)
    with pytest.raises(RuntimeError, match="states and mask must be contiguous \\(2, 4\\)"):
        library.bptt_forward(xp, h0[:1], c0, rk, mask)
    with pytest.raises(RuntimeError, match="recurrent kernel must be"):
        library.bptt_forward(xp, h0, c0, rk.t().contiguous(), mask)
    with pytest.raises(RuntimeError, match="every input must be a CPU tensor of xp's dtype"):
        library.bptt_forward(xp, h0.double(), c0, rk, mask)
    act, cells, tanh_cells, _, _ = library.bptt_forward(xp, h0, c0, rk, mask)
    with pytest.raises(RuntimeError, match="expected a contiguous CPU tensor of shape \\[4, 2, 4\\]"):
        library.bptt_backward(None, h0, c0, act, cells[1:], tanh_cells, rk, mask)


def test_the_backward_can_itself_be_differentiated(calls):
    """create_graph=True recomputes the forward in differentiable ops: gradgradcheck in float64."""
    xp, h0, c0, rk, mask = buffers(2, 3, 4, torch.float64)
    inputs = [t.requires_grad_() for t in (xp, h0, c0, rk)]
    assert torch.autograd.gradgradcheck(lambda *a: bptt._LSTMRecurrence.apply(*a, mask), inputs)
    assert calls["bptt_forward"] > 0


@pytest.mark.parametrize("options", [{}, {"recurrent_dropout": 0.3, "seed": 0}], ids=["plain", "recurrent_dropout"])
def test_a_gradient_penalty_through_the_c_loop_equals_the_reference(calls, options):
    fast, reference = (LSTM(5, return_sequences=True, use_fused=use, **options) for use in ("auto", False))
    x = torch.randn(3, 4, 2)
    with torch.no_grad():
        fast(x, training=False), reference(x, training=False)
    reference.set_weights(fast.get_weights())
    results = []
    for layer in (fast, reference):
        xg = x.clone().requires_grad_()
        out = layer(xg, training=True)
        (gx,) = torch.autograd.grad((out * torch.linspace(-1, 1, out.numel()).reshape(out.shape)).sum(), xg,
                                    create_graph=True)
        results.append(torch.autograd.grad(gx.square().sum(), [xg, *layer.weights]))
    # the C++ forward ran; the backward under create_graph is the differentiable recomputation
    assert fast.last_path == "bptt" and calls == {"bptt_forward": 1, "bptt_backward": 0}
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_one_tensor_given_as_both_initial_states_gets_its_gradient_once(calls):
    """initial_state=[s, s]: a second-order backward must not count s's share twice."""
    fast, reference = (LSTM(4, return_sequences=True, use_fused=use) for use in ("auto", False))
    x = torch.randn(2, 3, 2)
    with torch.no_grad():
        fast(x, training=False), reference(x, training=False)
    reference.set_weights(fast.get_weights())
    grads, state = [], torch.randn(2, 4)
    for layer in (fast, reference):
        s = state.clone().requires_grad_()
        (g,) = torch.autograd.grad(layer(x, initial_state=[s, s], training=True).sum(), s, create_graph=True)
        grads.append((g, *torch.autograd.grad(g.square().sum(), s)))
    assert fast.last_path == "bptt" and calls["bptt_forward"] == 1
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_torch_func_transforms_run_an_lstm_on_the_native_kernel(calls):
    """torch.func.grad / vmap cannot see through the hand-written autograd.Function: the dispatch leaves it."""
    layer = LSTM(4)
    x = torch.randn(2, 3, 2)
    layer(x)
    params = {k: v.detach() for k, v in layer.named_parameters()}
    grads = torch.func.grad(lambda p: torch.func.functional_call(layer, p, (x,), {"training": True}).sum())(params)
    assert layer.last_path == "fused" and calls["bptt_forward"] == 1  # only the building call
    expected = torch.autograd.grad(layer(x, training=True).sum(), list(layer.parameters()))
    for (name, got), want in zip(grads.items(), expected):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-5, msg=name)


def test_kernels_command_reports_status_and_build_failures(library, capsys, monkeypatch):
    assert main(["kernels", "status"]) == 0
    assert str(native.library_path()) in capsys.readouterr().out

    def no_compiler(verbose=False):
        raise RuntimeError("Ninja is required to load C++ extensions")

    monkeypatch.setattr(native, "build", no_compiler)
    assert main(["kernels", "build"]) == 1
    err = capsys.readouterr().err
    assert "Ninja is required" in err and "pure-PyTorch loop" in err
