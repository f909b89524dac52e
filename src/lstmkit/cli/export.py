"""``lstmkit export MODEL OUT [--format onnx|torch] [--states]``: a saved model as an ONNX file or a
``torch.export`` program (``Model.export``), for inference without lstmkit."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> None:
    export = commands.add_parser("export", help="export a model to ONNX (onnxruntime) or a torch.export program")
    export.add_argument("model", help="a folder from `lstmkit train`, an .lstmkit file, or a .keras / .h5 file")
    export.add_argument("out", help="the file to write, e.g. model.onnx or model.pt2")
    export.add_argument("--format", choices=("onnx", "torch"), default="onnx", help="default onnx")
    export.add_argument("--states", action="store_true",
                        help="recurrent states as extra inputs and outputs (streaming, chunk by chunk)")
    export.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from .model_files import load_any_model

    model = load_any_model(args.model)
    model.export(args.out, format=args.format, verbose=False, states=args.states)
    print(f"wrote {args.out}")
    return 0
