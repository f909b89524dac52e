"""The optional C++ library (``csrc/lstm_bptt.cpp``, ``csrc/buffer_pool.cpp``): build it once, load it
when present.

``ops.bptt`` runs the LSTM recurrence with recurrent dropout as a hand-written forward and backward.
In pure PyTorch each step costs ~14 element-wise kernel launches and a BLAS call; the C++ loop gives each
thread blocks of rows for the whole sequence (rows never depend on each other), with one register-blocked
recurrent product and one fused vectorized pass per step and block, so threads never wait on each other
between steps. LSTM(128), batch 64, 13 steps, forward + backward, medians of three processes each on
2 AVX-512 cores: 1.23-1.33 ms, against 1.99-2.01 ms when each step called ATen's BLAS and ran its
element-wise pass on one thread (the library was built without OpenMP, so ``at::parallel_for`` in it
ran serially). ``ops.infer_loop`` runs small-batch LSTM inference without oneDNN's
per-call setup (``lstm_infer``). ``ops.buffer_pool`` keeps a training step's large CPU buffers for the
next step (``pool_*``). The library is compiled on the user's machine against the installed torch,
because an extension is tied to torch's exact version and the CPU's vector width:

    lstmkit kernels build     # scripts/dev.sh runs this after installing
    lstmkit kernels status    # where it is, or why it is not used

The library lives in ``$LSTMKIT_KERNEL_DIR`` (default ``~/.cache/lstmkit/kernels``), in a folder named
by a hash of the sources, torch's version, Python's ABI and the build flags, so a stale build is never
loaded. Nothing is compiled at run time: when the library is absent (no compiler, not built yet,
``LSTMKIT_NATIVE=0``), ``ops.bptt`` runs its pure-PyTorch loops, which are the specification the C++
loop is tested against, and buffers are allocated as torch does by default.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import torch

SOURCES = (Path(__file__).with_name("csrc") / "lstm_bptt.cpp",  # the loops
           Path(__file__).with_name("csrc") / "buffer_pool.cpp")  # ops.buffer_pool's allocator
LIBRARY = "lstmkit_native"  # the torch.ops namespace the source registers
_SUFFIX = ".pyd" if os.name == "nt" else ".so"  # what torch.utils.cpp_extension names a built library
_DTYPES = (torch.float32, torch.float64)

_loaded: bool | None = None  # None: not tried yet in this process
_load_error: str | None = None


def build_flags() -> list[str]:
    """Compiler flags matching the vector width torch itself dispatches to on this CPU, plus OpenMP."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability == "AVX512":
        vector = ["-O3", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma",
                  "-DCPU_CAPABILITY=AVX512", "-DCPU_CAPABILITY_AVX512"]
    elif capability == "AVX2":
        vector = ["-O3", "-mavx2", "-mfma", "-DCPU_CAPABILITY=AVX2", "-DCPU_CAPABILITY_AVX2"]
    else:
        vector = ["-O3"]  # ATen's portable vector type: correct everywhere, vectorized by the compiler
    return vector + openmp_flags()


def openmp_flags() -> list[str]:
    """``-fopenmp`` where torch's own threads run on GNU OpenMP and the compiler is GCC, else nothing.

    ``at::parallel_for`` is inlined into the library as an OpenMP region: compiled without the flag it
    runs every block of rows on the calling thread. Elsewhere (macOS, MSVC, clang, whose OpenMP calls
    libgomp does not provide, a torch on another threading runtime) the library is built without it and
    runs on one thread.
    """
    return ["-fopenmp"] if _torch_libgomp() is not None and _compiler_is_gcc() else []


def link_flags() -> list[str]:
    """Link the GNU OpenMP runtime torch runs on by its path, so the loader shares torch's copy (one thread
    pool, which ``torch.set_num_threads`` sizes) rather than loading the system's next to it."""
    return [str(_torch_libgomp())] if openmp_flags() else []


@functools.cache
def _torch_libgomp() -> Path | None:
    """The libgomp torch itself calls (its wheel's copy, whatever its name or folder, or conda's), found
    by asking the dynamic linker where libtorch_cpu's ``omp_get_max_threads`` comes from; None where torch
    runs on another runtime or this cannot be asked (then the library is built without OpenMP)."""
    if not (sys.platform.startswith("linux") and torch.backends.openmp.is_available()):
        return None
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p),
                    ("dli_sname", ctypes.c_char_p), ("dli_saddr", ctypes.c_void_p)]

    try:
        libtorch = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
        address = ctypes.cast(libtorch.omp_get_max_threads, ctypes.c_void_p)
        info = DlInfo()
        dladdr = ctypes.CDLL(None).dladdr
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        if not dladdr(address, ctypes.byref(info)) or not info.dli_fname:
            return None
    except (OSError, AttributeError):  # no such library or symbol: not a GNU OpenMP build of torch
        return None
    path = Path(os.fsdecode(info.dli_fname))
    return path if path.name.startswith("libgomp") else None


@functools.cache
def _compiler_is_gcc() -> bool:
    """Whether the compiler torch.utils.cpp_extension will call (``$CXX``, else ``c++``) is GCC."""
    try:
        done = subprocess.run([os.environ.get("CXX") or "c++", "--version"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    first = (done.stdout or "").splitlines()[:1]
    return done.returncode == 0 and bool(first) and "clang" not in first[0].lower() and (
        "gcc" in first[0].lower() or "g++" in first[0].lower() or "Free Software Foundation" in done.stdout)


def cache_dir() -> Path:
    root = os.environ.get("LSTMKIT_KERNEL_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lstmkit" / "kernels"


def library_path() -> Path:
    """Where the library for these sources, torch, Python and CPU lives (whether or not it is built)."""
    digest = hashlib.sha256()
    for part in (*(source.read_bytes() for source in SOURCES), torch.__version__.encode(),
                 sysconfig.get_config_var("SOABI") or "", platform.machine(), " ".join(build_flags() + link_flags())):
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return cache_dir() / digest.hexdigest()[:16] / f"{LIBRARY}{_SUFFIX}"


def build(verbose: bool = False) -> Path:
    """Compile the library (~10 s) and install it atomically at ``library_path()``; returns that path.

    A library already there is kept only if it loads (tried in a child process). The compiler also
    runs in a child process, so this process never holds two copies of the operators (a second
    registration would abort it), and a crash mid-build leaves no library behind: the file appears only
    once it is complete. Raises ``RuntimeError`` with the compiler's message when it cannot be built
    (no C++ compiler or ninja).
    """
    global _loaded, _load_error
    target = library_path()
    if not (target.exists() and _child(["import sys, torch; torch.ops.load_library(sys.argv[1])", str(target)],
                                       verbose=False).returncode == 0):
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix="build-") as work:
            _compile(Path(work), verbose)
            staged = target.with_name(f".{target.name}.{os.getpid()}")
            shutil.copyfile(Path(work) / f"{LIBRARY}{_SUFFIX}", staged)
            os.replace(staged, target)
    if not _loaded:  # a copy loaded earlier in this process (another cache folder) stays in use
        _loaded, _load_error = _try_load()
    return target


def _compile(work: Path, verbose: bool) -> None:
    """``torch.utils.cpp_extension`` in a child Python: the library in ``work`` or ``RuntimeError``."""
    script = ("import json, sys, torch.utils.cpp_extension as c; "
              "c.load(sys.argv[1], json.loads(sys.argv[2]), extra_cflags=sys.argv[6:], "
              "extra_ldflags=json.loads(sys.argv[5]), build_directory=sys.argv[3], "
              "is_python_module=False, verbose=sys.argv[4] == '1')")
    sources = json.dumps([str(source) for source in SOURCES])
    done = _child([script, LIBRARY, sources, str(work), "1" if verbose else "0", json.dumps(link_flags()),
                   *build_flags()], verbose)
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        detail = "\n".join(lines[-12:]) or f"exit code {done.returncode}"
        raise RuntimeError(f"compiling {' and '.join(source.name for source in SOURCES)} failed:\n{detail}")


def _child(arguments: list[str], verbose: bool) -> subprocess.CompletedProcess:
    """``python -c arguments[0] arguments[1:]`` with this interpreter (output captured unless verbose)."""
    return subprocess.run([sys.executable, "-c", *arguments], capture_output=not verbose, text=True)


def load() -> bool:
    """Load the built library once per process; False (with ``load_error()``) when it cannot be."""
    global _loaded, _load_error
    if _loaded is None:
        _loaded, _load_error = _try_load()
    return _loaded


def _try_load() -> tuple[bool, str | None]:
    if os.environ.get("LSTMKIT_NATIVE", "1") == "0":
        return False, "disabled by LSTMKIT_NATIVE=0"
    if _registered():  # loaded already (a second copy's registration would abort the process)
        return True, None
    try:
        path = library_path()
    except OSError as error:  # the source is missing from this installation
        return False, f"its source is not installed ({error})"
    if not path.exists():
        return False, (f"not built for this torch ({torch.__version__}): run `lstmkit kernels "
                       f"build` once (needs a C++ compiler and ninja)")
    try:
        torch.ops.load_library(str(path))
    except (OSError, RuntimeError) as error:
        return False, f"{path} could not be loaded ({error}); delete it and build again"
    return True, None


def _registered() -> bool:
    try:
        getattr(torch.ops, LIBRARY).bptt_forward
    except (AttributeError, RuntimeError):
        return False
    return True


def load_error() -> str | None:
    """Why the library is not loaded (None when it is, or before the first ``load()``)."""
    return _load_error


def unavailable_reason(*tensors: torch.Tensor) -> str | None:
    """Why ``ops.bptt`` cannot run its C++ loop on ``tensors`` (None when it can)."""
    first = tensors[0]
    if first.device.type != "cpu":
        return f"{first.device.type} tensors: the C++ loop is CPU-only"
    if first.dtype not in _DTYPES:
        return f"{first.dtype}: the C++ loop handles float32 and float64"
    if any(t.dtype != first.dtype or t.device != first.device for t in tensors[1:]):
        return "mixed dtypes (a mixed-precision policy): the C++ loop takes one dtype throughout"
    if torch.compiler.is_compiling():
        return "torch.compile traces the pure-PyTorch loop"
    if not load():
        return f"the C++ library is not loaded: {_load_error}"
    return None


def ops():
    """The registered operators (after a successful ``load()``)."""
    return getattr(torch.ops, LIBRARY)
