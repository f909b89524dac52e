"""Data-parallel training throughput: lstmkit ``fit`` under torchrun vs a raw PyTorch DDP loop, 1 and N processes.

    python benchmarks/distributed.py                  # 1 and 2 processes on CPU (gloo)
    python benchmarks/distributed.py --nproc 1 2 4 --device cuda --samples 200000 --batch 1024

Workload: LSTM(64) + Dense(1) on windows (samples x 24 steps x 4 features), MSE, Adam, global batch
``--batch``. Each configuration runs in its own torchrun job; inside, one warm-up epoch, then
``--epochs`` timed epochs (rank 0's wall clock, after a barrier). The raw baseline is the same model in
``torch.nn.LSTM`` + ``nn.Linear`` wrapped in ``DistributedDataParallel``, each rank slicing its part of
every global batch: the ratio is lstmkit's cost over PyTorch's own data-parallel loop, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time


def worker(args: argparse.Namespace) -> None:
    import numpy as np
    import torch
    import torch.distributed as dist

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.samples, 24, 4)).astype(np.float32)
    y = x[:, :, :1].sum(axis=1).astype(np.float32)
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if args.device == "cuda" else \
        torch.device("cpu")
    results = {}
    if args.impl == "lstmkit":
        import lstmkit
        from lstmkit import layers as L

        torch.manual_seed(0)
        model = lstmkit.Sequential([L.Input(shape=(24, 4)), L.LSTM(64), L.Dense(1)])
        model.compile(optimizer="adam", loss="mse", device=args.device)
        model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)  # warm-up (and joins the group)
        if dist.is_initialized():
            dist.barrier()
        start = time.perf_counter()
        model.fit(x, y, batch_size=args.batch, epochs=args.epochs, verbose=0)
    else:
        if int(os.environ.get("WORLD_SIZE", 1)) > 1:
            dist.init_process_group("nccl" if args.device == "cuda" else "gloo")
        world = dist.get_world_size() if dist.is_initialized() else 1
        rank = dist.get_rank() if dist.is_initialized() else 0

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm, self.head = torch.nn.LSTM(4, 64, batch_first=True), torch.nn.Linear(64, 1)

            def forward(self, t):
                return self.head(self.lstm(t)[0][:, -1])

        torch.manual_seed(0)
        net = Net().to(device)
        if world > 1:
            net = torch.nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.index
                                                            is not None else None)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)

        def epoch():
            order = torch.randperm(len(xt))
            for s in range(0, len(xt), args.batch):
                index = order[s:s + args.batch]
                part = index[rank * len(index) // world:(rank + 1) * len(index) // world]
                opt.zero_grad()
                loss = torch.nn.functional.mse_loss(net(xt[part].to(device)), yt[part].to(device))
                loss.backward()
                opt.step()

        epoch()
        if world > 1:
            dist.barrier()
        start = time.perf_counter()
        for _ in range(args.epochs):
            epoch()
    if dist.is_initialized():
        dist.barrier()
    seconds = time.perf_counter() - start
    if int(os.environ.get("RANK", 0)) == 0:
        results = {"samples_per_s": args.samples * args.epochs / seconds, "seconds": seconds}
        print("RESULT " + json.dumps(results), flush=True)


def run(impl: str, nproc: int, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
           __file__, "--worker", "--impl", impl, "--samples", str(args.samples), "--batch", str(args.batch),
           "--epochs", str(args.epochs), "--device", args.device]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{impl} x{nproc} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][7:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1, help="OMP threads per process (default 1)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--impl", default="lstmkit", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    print(f"LSTM(64)+Dense(1), {args.samples} x 24 x 4, global batch {args.batch}, {args.epochs} epochs, "
          f"{args.device}, {args.threads} thread(s) per process")
    print(f"{'processes':>9} {'lstmkit samples/s':>18} {'raw DDP samples/s':>18} {'lstmkit/raw time':>17}")
    for n in args.nproc:
        ours, raw = run("lstmkit", n, args), run("raw", n, args)
        print(f"{n:>9} {ours['samples_per_s']:>18.0f} {raw['samples_per_s']:>18.0f} "
              f"{raw['samples_per_s'] / ours['samples_per_s']:>16.2f}x")


if __name__ == "__main__":
    main()
