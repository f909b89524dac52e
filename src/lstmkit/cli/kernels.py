"""``lstmkit kernels build|status``: compile the optional C++ library (``ops.native``: recurrent
dropout in training, small-batch LSTM inference, training buffers kept between steps), or say where it is
loaded from and why it is not used."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(commands: Any) -> None:
    kernels = commands.add_parser("kernels", help="build the optional C++ loops (recurrent dropout, small-batch "
                                  "inference, training buffer reuse), or show whether they are used")
    kernels.add_argument("action", choices=("build", "status"))
    kernels.add_argument("--verbose", action="store_true", help="show the compiler's commands")
    kernels.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import native

    if args.action == "build":
        try:
            path = native.build(verbose=args.verbose)
        except (RuntimeError, OSError, ImportError) as error:
            print(f"lstmkit kernels: the C++ loops were not built: {error}\nTraining with recurrent_dropout "
                  "uses the pure-PyTorch loop instead, small-batch inference oneDNN's kernel, and training "
                  "steps torch's default allocator (the same numbers, slower).", file=sys.stderr)
            return 1
        print(f"built {path}")
        return 0
    what = "the C++ loops (recurrent dropout, small-batch inference, buffer reuse)"
    if native.load():
        print(f"{what} are loaded from {native.library_path()}")
        return 0
    print(f"{what} are not used: {native.load_error()}")
    return 1
