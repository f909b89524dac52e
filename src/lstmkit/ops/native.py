"""The optional C++ loop for recurrent dropout (``csrc/lstm_bptt.cpp``): build it once, load it when present.

``ops.bptt`` runs the LSTM recurrence with recurrent dropout as a hand-written forward and backward.
In pure PyTorch each step costs ~14 element-wise kernel launches; the C++ loop fuses them into one
vectorized pass per step around the same ATen matrix products (measured: ~1.6x faster forward and
backward at LSTM(128), batch 64). It is compiled on the user's machine against the installed torch,
because an extension is tied to torch's exact version and the CPU's vector width:

    lstmkit kernels build     # scripts/dev.sh runs this after installing
    lstmkit kernels status    # where it is, or why it is not used

The library lives in ``$LSTMKIT_KERNEL_DIR`` (default ``~/.cache/lstmkit/kernels``), in a folder named
by a hash of the source, torch's version, Python's ABI and the build flags, so a stale build is never
loaded. Nothing is compiled at run time: when the library is absent (no compiler, not built yet,
``LSTMKIT_NATIVE=0``), ``ops.bptt`` runs its pure-PyTorch loops, which are the specification the C++
loop is tested against.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sysconfig
import tempfile
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("csrc") / "lstm_bptt.cpp"
LIBRARY = "lstmkit_native"  # the torch.ops namespace the source registers
_DTYPES = (torch.float32, torch.float64)

_loaded: bool | None = None  # None: not tried yet in this process
_load_error: str | None = None


def build_flags() -> list[str]:
    """Compiler flags matching the vector width torch itself dispatches to on this CPU."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability == "AVX512":
        return ["-O3", "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma",
                "-DCPU_CAPABILITY=AVX512", "-DCPU_CAPABILITY_AVX512"]
    if capability == "AVX2":
        return ["-O3", "-mavx2", "-mfma", "-DCPU_CAPABILITY=AVX2", "-DCPU_CAPABILITY_AVX2"]
    return ["-O3"]  # ATen's portable vector type: correct everywhere, vectorized by the compiler


def cache_dir() -> Path:
    root = os.environ.get("LSTMKIT_KERNEL_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lstmkit" / "kernels"


def library_path() -> Path:
    """Where the library for this source, torch, Python and CPU lives (whether or not it is built)."""
    digest = hashlib.sha256()
    for part in (SOURCE.read_bytes(), torch.__version__.encode(), sysconfig.get_config_var("SOABI") or "",
                 platform.machine(), " ".join(build_flags())):
        digest.update(part if isinstance(part, bytes) else str(part).encode())
    return cache_dir() / digest.hexdigest()[:16] / f"{LIBRARY}.so"


def build(verbose: bool = False) -> Path:
    """Compile the library (~10 s) and install it atomically at ``library_path()``; returns that path.

    Raises ``RuntimeError`` with the compiler's message when it cannot be built (no C++ compiler or
    ninja). A crash mid-build leaves no library behind: the file appears only once it is complete.
    """
    from torch.utils import cpp_extension  # imported here: heavy, and only a build needs it

    target = library_path()
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix="build-") as work:
        cpp_extension.load(LIBRARY, [str(SOURCE)], extra_cflags=build_flags(), build_directory=work,
                           is_python_module=False, verbose=verbose)
        staged = target.with_name(f".{target.name}.{os.getpid()}")
        shutil.copyfile(Path(work) / f"{LIBRARY}.so", staged)
        os.replace(staged, target)
    global _loaded, _load_error
    _loaded, _load_error = True, None  # cpp_extension.load has loaded it into this process
    return target


def load() -> bool:
    """Load the built library once per process; False (with ``load_error()``) when it cannot be."""
    global _loaded, _load_error
    if _loaded is None:
        _loaded, _load_error = _try_load()
    return _loaded


def _try_load() -> tuple[bool, str | None]:
    if os.environ.get("LSTMKIT_NATIVE", "1") == "0":
        return False, "disabled by LSTMKIT_NATIVE=0"
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


def load_error() -> str | None:
    """Why the library is not loaded (None when it is, or before the first ``load()``)."""
    return _load_error


def unavailable_reason(tensor: torch.Tensor) -> str | None:
    """Why ``ops.bptt`` cannot run its C++ loop on ``tensor`` (None when it can)."""
    if tensor.device.type != "cpu":
        return f"{tensor.device.type} tensors: the C++ loop is CPU-only"
    if tensor.dtype not in _DTYPES:
        return f"{tensor.dtype}: the C++ loop handles float32 and float64"
    if torch.compiler.is_compiling():
        return "torch.compile traces the pure-PyTorch loop"
    if not load():
        return f"the C++ library is not loaded: {_load_error}"
    return None


def ops():
    """The registered operators (after a successful ``load()``)."""
    return getattr(torch.ops, LIBRARY)
