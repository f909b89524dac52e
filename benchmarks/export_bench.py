"""Exported-model inference (issue 16): onnxruntime vs lstmkit's predict vs raw PyTorch, in one run.

    python benchmarks/export_bench.py            # from the repository root
    python benchmarks/export_bench.py --quick
    python benchmarks/export_bench.py --parity   # max relative error per model kind of tests/models/test_export.py

W1's model (Sequential([Input((13, 1)), LSTM(128), Dense(1)]), 5100 windows of 13 steps) exported with
``model.export(..., format="onnx")`` and ``format="torch"``, then timed on CPU:
  E1  inference over the 5100 windows, batch 64 (as W4's inference);
  E2  one window at a time (batch 1), 100 calls: the serving latency.
Baseline: raw ``nn.LSTM(1, 128)`` + ``nn.Linear`` with the same weights under ``torch.no_grad``.
onnxruntime gets as many threads as torch. Variants are interleaved; medians are printed, with the
largest difference between the exported outputs and predict's.
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np
import torch
from torch import nn

from run import interleaved, report  # benchmarks/run.py: same timing and report rules

from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Sequential


def raw_twin(model: Sequential) -> nn.Module:
    """nn.LSTM + nn.Linear holding the lstmkit model's weights (Keras i, f, c, o = torch i, f, g, o)."""
    kernel, recurrent, bias, dense_w, dense_b = [w.detach() for w in model.weights]
    lstm, head = nn.LSTM(1, 128, batch_first=True), nn.Linear(128, 1)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(kernel.t())
        lstm.weight_hh_l0.copy_(recurrent.t())
        lstm.bias_ih_l0.copy_(bias)
        lstm.bias_hh_l0.zero_()
        head.weight.copy_(dense_w.t())
        head.bias.copy_(dense_b)

    class Raw(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.head = lstm, head

        def forward(self, x):
            return self.head(self.lstm(x)[0][:, -1])

    return Raw().eval()


def parity() -> None:
    """Max relative error against predict (batches 1, 7, 64; lengths 3, 9; traced 5) per model kind."""
    import sys

    import onnxruntime  # noqa: F401

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from tests.models.test_export import KINDS, make, onnx_runner, worst_error

    folder = tempfile.mkdtemp()
    print(f"{'model kind':<36} {'ONNX (onnxruntime)':>20}")
    for kind in KINDS:
        model = make(kind)
        path = os.path.join(folder, kind + ".onnx")
        model.export(path, verbose=False)
        error = worst_error(kind, model, onnx_runner(path), np.random.default_rng(0))
        print(f"{kind:<36} {error:>20.2e}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--parity", action="store_true", help="only the parity table, no timings")
    args = parser.parse_args()
    if args.parity:
        parity()
        return
    import onnxruntime

    repeats = 2 if args.quick else 3
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    model = Sequential([Input((13, 1)), LSTM(128), Dense(1)])
    raw = raw_twin(model)
    x = np.random.default_rng(0).normal(size=(5100, 13, 1)).astype(np.float32)
    xt = torch.from_numpy(x)
    folder = tempfile.mkdtemp()
    onnx_path, torch_path = os.path.join(folder, "w1.onnx"), os.path.join(folder, "w1.pt2")
    model.export(onnx_path, verbose=False)
    model.export(torch_path, format="torch", verbose=False)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    program = torch.export.load(torch_path).module()
    print(f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, CPU, {threads} threads")

    expected = model.predict(x, batch_size=64, verbose=0)
    with torch.no_grad():
        raw_out = raw(xt).numpy()
        program_out = torch.cat([program(xt[s:s + 64])[0] for s in range(0, len(x), 64)]).numpy()
    onnx_out = np.concatenate([session.run(None, {"input_layer": x[s:s + 64]})[0] for s in range(0, len(x), 64)])
    scale = np.abs(expected).max()
    for name, out in (("raw torch", raw_out), ("onnxruntime", onnx_out), ("torch.export program", program_out)):
        print(f"  max |{name} - predict| / max |predict| = {np.abs(out - expected).max() / scale:.2e}")

    def batched(run_one):
        def run():
            for start in range(0, len(x), 64):
                run_one(start, start + 64)
        return run

    def torch_call(module):
        def run_one(a, b):
            with torch.no_grad():
                module(xt[a:b])
        return run_one

    tasks = {
        "torch nn.LSTM, no_grad loop": batched(torch_call(raw)),
        "lstmkit model.predict (NumPy in/out)": lambda: model.predict(x, batch_size=64, verbose=0),
        "onnxruntime session.run loop": batched(lambda a, b: session.run(None, {"input_layer": x[a:b]})),
        "torch.export program, no_grad loop": batched(torch_call(program)),
    }
    report("E1  W1 model, inference over 5100 windows x 13 steps, batch 64 (s)", interleaved(tasks, repeats),
           "torch nn.LSTM, no_grad loop")

    calls = 100

    def single(run_one):
        def run():
            for i in range(calls):
                run_one(i, i + 1)
        return run

    def predict_one(a, b):
        model.predict(x[a:b], verbose=0)

    tasks = {
        "torch nn.LSTM, no_grad": single(torch_call(raw)),
        "lstmkit model.predict": single(predict_one),
        "lstmkit model(x) under no_grad": single(torch_call(model)),
        "onnxruntime session.run": single(lambda a, b: session.run(None, {"input_layer": x[a:b]})),
        "torch.export program": single(torch_call(program)),
    }
    times = {name: seconds / calls * 1e3 for name, seconds in interleaved(tasks, repeats).items()}
    report(f"E2  W1 model, one window per call (batch 1), {calls} calls: ms per call", times,
           "torch nn.LSTM, no_grad", unit="ms")


if __name__ == "__main__":
    main()
