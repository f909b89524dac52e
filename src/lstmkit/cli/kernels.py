"""``lstmkit kernels build|status``: compile the optional C++ loop for recurrent dropout (``ops.native``),
or say where it is loaded from and why it is not used."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(commands: Any) -> None:
    kernels = commands.add_parser("kernels", help="build the optional C++ loop for recurrent dropout, or show "
                                  "whether it is used")
    kernels.add_argument("action", choices=("build", "status"))
    kernels.add_argument("--verbose", action="store_true", help="show the compiler's commands")
    kernels.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import native

    if args.action == "build":
        try:
            path = native.build(verbose=args.verbose)
        except (RuntimeError, OSError, ImportError) as error:
            print(f"lstmkit kernels: the C++ loop was not built: {error}\nTraining with recurrent_dropout "
                  "uses the pure-PyTorch loop instead (the same numbers, slower).", file=sys.stderr)
            return 1
        print(f"built {path}")
        return 0
    if native.load():
        print(f"the C++ loop for recurrent dropout is loaded from {native.library_path()}")
        return 0
    print(f"the C++ loop for recurrent dropout is not used: {native.load_error()}")
    return 1
