"""lstmkit vs raw PyTorch (and Keras when installed), measured in one run.

    python benchmarks/run.py            # all workloads
    python benchmarks/run.py --quick    # fewer repeats, for a smoke check

Workloads (issue #2):
  W1   LSTM(128) on windows (N=5100, 13 steps, 1 feature), batch 64, one training epoch with a Dense(1)
       head and MSE (Adam); lstmkit trains on its C++ loop (ops.bptt), and also on oneDNN with it off.
  W1d  the same with recurrent_dropout=0.2 (lstmkit only: raw torch has no recurrent dropout); also
       against a plain Python per-step loop that re-slices tensors, the usual hand-written baseline.
  W2   seed 001's recursive forecast, batch 1: Sequential([Input((13, 1)), LSTM(128, go_backwards=True),
       Dropout(0.2), Dense(1, relu)]) forecasting 1280 steps one window at a time: a model.predict loop
       (as the seed writes it), model(x) under no_grad, predict_on_batch, forecast.recursive, against
       the same weights in raw nn.LSTM + nn.Linear (fixed per-call overhead is what this measures).
  W3   a 4-layer bidirectional LSTM stack, units [128, 128, 64, 64], on (256, 80, 52): one training step
       and one inference pass; built from go_backwards layer pairs and as Sequential(Bidirectional(LSTM)),
       whose fused path makes one bidirectional kernel call per layer; also under Keras's mixed_bfloat16
       policy against raw torch under autocast(bfloat16). A roofline line compares each step with this
       machine's matrix-product peak in its dtype. Training also as Keras users run a step
       (train_on_batch, whose large buffers are reused from step to step: ops.buffer_pool), and raw torch
       inside the same buffer-reuse scope, to show what the allocator alone is worth.
  W4   seed 004's stateful LSTM(4), batch_input_shape=(1, 3, 1), Dense(1), Adam, MSE: one fit epoch over
       93 windows with batch 1 (then reset_states), against a hand-written eager loop over nn.LSTM +
       nn.Linear + torch.optim.Adam carrying (h, c); also train_on_batch per window and
       compile(jit_compile=True) (torch.compile'd steps; compiled before timing).
  W1k  the Keras workflow on W1's data: Sequential([Input, LSTM(128), Dense(1)]).compile("adam", "mse")
       then fit(batch_size=64, epochs=1, shuffle=False) and predict(batch_size=64), against the same
       model in a hand-written PyTorch loop (torch.optim.Adam) and raw nn.LSTM: the cost of fit/predict.
  W5   forecasting 100 steps ahead for 64 series after a 500-step history, Sequential([Input((None, 1)),
       LSTM(64, return_sequences=True), Dense(1)]): lstmkit.forecast.stateful (one warm-up pass, then one
       carried-state step per forecast) against raw nn.LSTM carrying (h, c) by hand, and against
       forecast.recursive re-running the growing history each step (what a window-less model costs
       without carried state).
Variants are interleaved across repeats so drift (frequency, caches) hits all alike; medians are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from lstmkit.layers import LSTM, Bidirectional, Dense, Input
from lstmkit.models import Sequential
from lstmkit.ops import bptt, buffer_pool


# -- W1: one epoch of LSTM(128) -> Dense(1) ----------------------------------------------------------
class Head(nn.Module):
    """An LSTM returning its last output, then Dense(1)."""

    def __init__(self, recurrent: nn.Module, last: Callable):
        super().__init__()
        self.recurrent, self.dense, self.last = recurrent, nn.Linear(128, 1), last
        recurrent(torch.zeros(1, 13, 1))  # lstmkit layers build on their first input (before the optimizer)

    def forward(self, x):
        return self.dense(self.last(self.recurrent(x)))


class NaiveDropoutLSTM(nn.Module):
    """The hand-written baseline: nn.LSTMCell in a Python loop, x[:, t] slicing, h * mask per step."""

    def __init__(self, rate: float):
        super().__init__()
        self.cell, self.rate = nn.LSTMCell(1, 128), rate

    def forward(self, x):
        h = c = x.new_zeros(x.shape[0], 128)
        mask = torch.bernoulli(torch.full_like(h, 1 - self.rate)) / (1 - self.rate)
        for t in range(x.shape[1]):
            h, c = self.cell(x[:, t], (h * mask, c))
        return h


class OneDNNTraining(nn.Module):
    """A layer trained on oneDNN's kernel: ops.bptt's C++ loop, which the dispatch prefers where it
    measured faster, switched off for its calls (what the loop is worth)."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        rule = bptt.plain_training_reason
        bptt.plain_training_reason = lambda *args: "switched off by the benchmark"
        try:
            return self.layer(x)
        finally:
            bptt.plain_training_reason = rule


def w1_models(recurrent_dropout: bool) -> dict[str, Callable[[], nn.Module]]:
    if not recurrent_dropout:
        return {
            "torch nn.LSTM": lambda: Head(nn.LSTM(1, 128, batch_first=True), lambda o: o[0][:, -1]),
            "lstmkit LSTM": lambda: Head(LSTM(128), lambda o: o),
            "lstmkit LSTM on oneDNN (C++ loop off)": lambda: Head(OneDNNTraining(LSTM(128)), lambda o: o),
            "lstmkit LSTM (reference loop)": lambda: Head(LSTM(128, use_fused=False),
                                                          lambda o: o),
        }
    return {
        "lstmkit LSTM (no dropout)": lambda: Head(LSTM(128), lambda o: o),
        "lstmkit LSTM recurrent_dropout=0.2": lambda: Head(LSTM(128, recurrent_dropout=0.2),
                                                           lambda o: o),
        "naive per-step loop with dropout": lambda: Head(NaiveDropoutLSTM(0.2), lambda o: o),
    }


def w1_epoch(model: nn.Module, optimizer, x, y) -> None:
    model.train()
    for start in range(0, len(x), 64):
        xb, yb = x[start:start + 64], y[start:start + 64]
        loss = ((model(xb) - yb) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


# -- W3: 4-layer bidirectional stack -------------------------------------------------------------------
class LstmkitBiStack(nn.Module):
    """Keras's Bidirectional(LSTM(u, return_sequences=True)) x4 with merge_mode='concat', built from a
    forward layer and a go_backwards layer (whose reversed output is flipped back), as Keras does."""

    def __init__(self, units=(128, 128, 64, 64), features=52):
        super().__init__()
        self.pairs = nn.ModuleList()
        for u in units:
            self.pairs.append(nn.ModuleList([LSTM(u, return_sequences=True),
                                             LSTM(u, return_sequences=True, go_backwards=True)]))
        self(torch.zeros(1, 80, features))  # layers build on their first input, as in Keras

    def forward(self, x):
        for forward, backward in self.pairs:
            x = torch.cat([forward(x), backward(x).flip(1)], dim=-1)
        return x


def keras_bi_stack(units=(128, 128, 64, 64), features=52, dtype=None) -> nn.Module:
    """The same stack as Keras users write it: Sequential of Bidirectional(LSTM) layers (one
    bidirectional native kernel call per layer on lstmkit's fused path), in a dtype policy if given."""
    model = Sequential([Input(shape=(80, features))])
    for u in units:
        model.add(Bidirectional(LSTM(u, return_sequences=True, dtype=dtype), dtype=dtype))
    return model


class TorchBiStack(nn.Module):
    def __init__(self, units=(128, 128, 64, 64), features=52):
        super().__init__()
        self.layers = nn.ModuleList()
        for u in units:
            self.layers.append(nn.LSTM(features, u, batch_first=True, bidirectional=True))
            features = 2 * u

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)[0]
        return x


# -- W2: recursive forecast, batch 1 (seed 001) ------------------------------------------------------------
def w2(repeats: int, quick: bool) -> None:
    from lstmkit import forecast
    from lstmkit.layers import Dropout

    torch.manual_seed(0)
    model = Sequential([Input((13, 1)), LSTM(128, go_backwards=True), Dropout(0.2), Dense(1, activation="relu")])
    model.compile(optimizer="nadam", loss="mse", device="cpu")
    kernel, recurrent, bias = (w.detach() for w in model.layers[0].cell.parameters())
    lstm, dense = nn.LSTM(1, 128, batch_first=True), nn.Linear(128, 1)
    with torch.no_grad():  # the same weights in torch's layout
        lstm.weight_ih_l0.copy_(kernel.T), lstm.weight_hh_l0.copy_(recurrent.T)
        lstm.bias_ih_l0.copy_(bias), lstm.bias_hh_l0.zero_()
        dense.weight.copy_(model.layers[2].kernel.T), dense.bias.copy_(model.layers[2].bias)
    lstm.eval(), dense.eval()
    steps = 128 if quick else 1280
    history = (np.sin(np.arange(200) * 0.1) * 0.4 + 0.5).astype("float32")

    def raw():
        window, out = torch.from_numpy(history[-13:].reshape(1, 13, 1)), []
        with torch.no_grad():
            for _ in range(steps):
                y = torch.relu(dense(lstm(window.flip(1))[0][:, -1]))
                out.append(float(y))
                window = torch.cat([window[:, 1:], y.reshape(1, 1, 1)], dim=1)
        return np.array(out)

    def loop(call):
        xhat, out = history[-13:].reshape(13, 1), []
        for _ in range(steps):
            y = call(xhat[None])
            out.append(float(y.reshape(-1)[0]))
            xhat = np.vstack([xhat[1:], y.reshape(1, 1)])
        return np.array(out)

    def call_no_grad(x):
        with torch.no_grad():
            return model(torch.from_numpy(x), training=False).numpy()

    tasks = {"torch nn.LSTM, no_grad loop": raw,
             "lstmkit model.predict loop": lambda: loop(lambda x: model.predict(x, batch_size=1, verbose=0)),
             "lstmkit model(x) loop (no_grad)": lambda: loop(call_no_grad),
             "lstmkit predict_on_batch loop": lambda: loop(model.predict_on_batch),
             "lstmkit forecast.recursive": lambda: forecast.recursive(model, history, steps)}
    reference = raw()
    for name, task in tasks.items():  # every variant computes the raw numbers
        np.testing.assert_allclose(task(), reference, rtol=1e-4, atol=1e-5, err_msg=name)
    report(f"W2  {steps}-step recursive forecast, batch 1, LSTM(128) (s)", interleaved(tasks, repeats),
           "torch nn.LSTM, no_grad loop")
    x = history[-13:].reshape(1, 13, 1)
    one = {"torch nn.LSTM, one call": lambda: raw_one(lstm, dense, x),
           "lstmkit model.predict, one call": lambda: model.predict(x, verbose=0)}
    report("W2  one predict on (1, 13, 1) (s per 100 calls)",
           interleaved({k: (lambda f=f: [f() for _ in range(100)]) for k, f in one.items()}, repeats),
           "torch nn.LSTM, one call")


def w3_flops(batch: int, steps: int = 80, features: int = 52, units=(128, 128, 64, 64)) -> float:
    """Floating-point operations of one W3 training step: the gate products (inputs and state against
    4u gate columns, 2 flops a multiply-add) of both directions, forward once and backward twice (the
    gradients of the inputs and of the weights); element-wise work is left out."""
    total = 0.0
    for u in units:
        total += 2 * steps * batch * (features + u) * 4 * u * 2
        features = 2 * u
    return 3 * total


def gemm_peak(batch: int, device: torch.device, dtype: torch.dtype, repeats: int) -> float:
    """This machine's matrix-product throughput (GFLOP/s) in ``dtype``: the best of a square 2048 product
    and the step's own recurrent products, (batch x u) @ (u x 4u) for u = 128 and 256 (cache-resident,
    so compute-bound; the large input projections are bounded by memory traffic instead)."""
    best = 0.0
    for m, k, n in ((2048, 2048, 2048), (batch, 128, 512), (batch, 256, 1024)):
        a = torch.randn(m, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        reps = max(1, int(2e9 / (2 * m * k * n)))  # ~2 GFLOP per timed call

        def gemm():
            for _ in range(reps):
                a @ b
            if device.type == "cuda":
                torch.cuda.synchronize()
        seconds = interleaved({"gemm": gemm}, max(5, repeats))["gemm"]
        best = max(best, 2 * m * k * n * reps / seconds / 1e9)
    return best


def w3_roofline(times: dict[str, float], batch: int, device: torch.device, repeats: int) -> None:
    """How close each W3 training step runs to this machine's matrix-product peak in its dtype (rows named
    'bfloat16' against the bfloat16 peak): the step is matrix products throughout, so the peak bounds
    any LSTM implementation."""
    peaks = {dtype: gemm_peak(batch, device, dtype, repeats) for dtype in (torch.float32, torch.bfloat16)}
    flops = w3_flops(batch)
    base = next(iter(times.values()))
    print(f"  roofline: matrix products peak at {peaks[torch.float32]:.0f} GFLOP/s in float32 and "
          f"{peaks[torch.bfloat16]:.0f} in bfloat16 here; a training step is {flops / 1e9:.0f} GFLOP of gate "
          f"products: {flops / 1e9 / peaks[torch.float32]:.3f} s at the float32 peak, "
          f"{flops / 1e9 / peaks[torch.float32] / base:.2f}x the first row")
    for name, seconds in times.items():
        peak = peaks[torch.bfloat16 if "bfloat16" in name else torch.float32]
        print(f"    {name:<48} {flops / seconds / 1e9:6.0f} GFLOP/s, {flops / seconds / 1e9 / peak:4.0%} of the peak")


def w3_faults(tasks: dict[str, Callable[[], None]]) -> None:
    """Minor page faults of one training step (the median of three): memory the step takes fresh from
    the system and touches for the first time, which is what ``ops.buffer_pool`` keeps between steps."""
    try:
        import resource
    except ImportError:  # not POSIX
        return

    def faults(task):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        task()
        return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    print("  minor page faults per step: " + ", ".join(
        f"{name} {statistics.median(faults(task) for _ in range(3)):,.0f}" for name, task in tasks.items()))


def raw_one(lstm, dense, x):
    with torch.no_grad():
        return torch.relu(dense(lstm(torch.from_numpy(x).flip(1))[0][:, -1])).numpy()


# -- W4: seed 004's stateful LSTM(4), batch 1 -----------------------------------------------------------
def w4_stateful(repeats: int) -> None:
    rng = np.random.default_rng(0)
    n = 93  # the airline tutorial's training windows (look_back=3)
    x, y = rng.random((n, 3, 1)).astype("float32"), rng.random((n, 1)).astype("float32")
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def keras_model(**compile_args):
        torch.manual_seed(0)
        model = Sequential()
        model.add(LSTM(4, batch_input_shape=(1, 3, 1), stateful=True))
        model.add(Dense(1))
        model.compile(loss="mean_squared_error", optimizer="adam", device="cpu", **compile_args)
        return model

    lstm, dense = nn.LSTM(1, 4, batch_first=True), nn.Linear(4, 1)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(dense.parameters()), lr=1e-3)

    def raw_epoch():
        state = None
        for i in range(n):
            out, state = lstm(xt[i:i + 1], state)
            state = tuple(s.detach() for s in state)
            loss = ((dense(out[:, -1]) - yt[i:i + 1]) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    fitted, stepped = keras_model(), keras_model()

    def fit(model):
        model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
        model.reset_states()

    def on_batch():
        for i in range(n):
            stepped.train_on_batch(x[i:i + 1], y[i:i + 1])
        stepped.reset_states()

    tasks = {"torch eager loop (nn.LSTM + Adam)": raw_epoch, "lstmkit model.fit": lambda: fit(fitted),
             "lstmkit train_on_batch loop": on_batch}
    compiled = keras_model(jit_compile=True)
    fit(compiled)  # compiles here, outside the timing
    tasks["lstmkit fit, jit_compile=True"] = lambda: fit(compiled)
    report("W4  stateful LSTM(4), batch 1, one epoch of 93 steps (s)", interleaved(tasks, repeats),
           "torch eager loop (nn.LSTM + Adam)")


# -- W1k: compile / fit / predict against hand-written loops ---------------------------------------------
def w1k(x: torch.Tensor, y: torch.Tensor, device: torch.device, repeats: int) -> None:
    def keras_model():
        torch.manual_seed(0)
        model = Sequential([Input((13, 1)), LSTM(128), Dense(1)])
        model.compile(optimizer="adam", loss="mse", device=device)
        return model

    fitted, looped = keras_model(), keras_model()
    looped_opt = torch.optim.Adam(looped.parameters(), lr=1e-3)
    raw = Head(nn.LSTM(1, 128, batch_first=True), lambda o: o[0][:, -1]).to(device)
    raw_opt = torch.optim.Adam(raw.parameters(), lr=1e-3)
    x_np, y_np = x.cpu().numpy(), y.cpu().numpy()
    sync = (lambda: torch.cuda.synchronize()) if device.type == "cuda" else (lambda: None)
    tasks = {
        "torch nn.LSTM, hand-written loop": lambda: (w1_epoch(raw, raw_opt, x, y), sync()),
        "lstmkit model, hand-written loop": lambda: (w1_epoch(looped, looped_opt, x, y), sync()),
        "lstmkit model.fit (NumPy in)": lambda: (fitted.fit(x_np, y_np, batch_size=64, epochs=1, shuffle=False,
                                                            verbose=0), sync()),
    }
    report("W1k Sequential(LSTM(128), Dense(1)) training epoch, batch 64 (s)", interleaved(tasks, repeats),
           "torch nn.LSTM, hand-written loop")

    def raw_predict():
        raw.eval()
        with torch.no_grad():
            for start in range(0, len(x), 64):
                raw(x[start:start + 64])
        sync()

    tasks = {"torch nn.LSTM, no_grad loop": raw_predict,
             "lstmkit model.predict (NumPy in/out)": lambda: fitted.predict(x_np, batch_size=64, verbose=0)}
    report("W1k same model, inference over the 5100 windows, batch 64 (s)", interleaved(tasks, repeats),
           "torch nn.LSTM, no_grad loop")


# -- W5: multi-step forecasting with carried state ----------------------------------------------------
def w5(device: torch.device, repeats: int, quick: bool) -> None:
    from lstmkit import forecast

    torch.manual_seed(0)
    model = Sequential([Input((None, 1)), LSTM(64, return_sequences=True), Dense(1)]).to(device)
    model.eval()
    kernel, recurrent, bias = (w.detach() for w in model.layers[0].cell.parameters())
    raw_lstm = nn.LSTM(1, 64, batch_first=True).to(device)  # the same weights, torch's (i, f, g, o) layout
    with torch.no_grad():
        raw_lstm.weight_ih_l0.copy_(kernel.T)
        raw_lstm.weight_hh_l0.copy_(recurrent.T)
        raw_lstm.bias_ih_l0.copy_(bias)
        raw_lstm.bias_hh_l0.zero_()
    dense = model.layers[1]
    history = torch.randn(64, 500, 1).cumsum(1).mul(0.05).to(device)
    steps = 20 if quick else 100
    history_np = history.cpu().numpy()

    def raw(n_steps=steps):
        outputs = []
        with torch.no_grad():
            out, state = raw_lstm(history)
            step = dense(out[:, -1:])
            outputs.append(step)
            for _ in range(n_steps - 1):
                out, state = raw_lstm(step, state)
                step = dense(out)
                outputs.append(step)
        if device.type == "cuda":
            torch.cuda.synchronize()
        return torch.cat(outputs, 1)

    tasks = {"torch nn.LSTM, hand-carried (h, c)": raw,
             "lstmkit forecast.stateful": lambda: forecast.stateful(model, history_np, steps),
             "lstmkit forecast.recursive (re-run)": lambda: forecast.recursive(model, history_np, steps)}
    reference = forecast.recursive(model, history_np, 5)  # all three compute the same numbers
    np.testing.assert_allclose(forecast.stateful(model, history_np, 5), reference, atol=1e-4)
    np.testing.assert_allclose(raw(5).cpu().numpy(), reference, atol=1e-4)
    report(f"W5  {steps}-step forecast of 64 series after 500 steps, LSTM(64) (s)", interleaved(tasks, repeats),
           "torch nn.LSTM, hand-carried (h, c)")


# -- timing --------------------------------------------------------------------------------------------
def interleaved(tasks: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    for task in tasks.values():  # warm-up
        task()
    samples: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(repeats):
        for name, task in tasks.items():
            start = time.perf_counter()
            task()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def report(title: str, times: dict[str, float], baseline: str, unit: str = "s") -> None:
    print(f"\n{title}")
    base = times[baseline]
    for name, seconds in times.items():
        print(f"  {name:<40} {seconds:8.3f} {unit}   {seconds / base:5.2f}x  vs {baseline}")


def keras_available() -> bool:
    try:
        import keras  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a smaller W3 batch")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--only", default="W1,W1d,W1k,W2,W3,W4,W5",
                        help="comma-separated workloads to run (W2 and W4 always run on the CPU: batch 1)")
    args = parser.parse_args()
    only = set(args.only.upper().split(","))
    device = torch.device(args.device)
    repeats = 2 if args.quick else 5
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} threads; "
          f"Keras {'installed' if keras_available() else 'not installed (no Keras column)'}")

    x = torch.randn(5100, 13, 1, device=device)
    y = torch.randn(5100, 1, device=device)

    def epoch_task(factory):
        model = factory().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        return lambda: (w1_epoch(model, optimizer, x, y), torch.cuda.synchronize() if device.type == "cuda" else None)

    if "W1" in only:
        times = interleaved({n: epoch_task(f) for n, f in w1_models(False).items()}, repeats)
        report("W1  LSTM(128), 5100 windows x 13 steps x 1 feature, batch 64, one epoch (s)", times,
               "torch nn.LSTM")
    if "W1D" in only:
        times = interleaved({n: epoch_task(f) for n, f in w1_models(True).items()}, repeats)
        report("W1d recurrent_dropout=0.2, same epoch (s)", times, "lstmkit LSTM (no dropout)")
    if "W2" in only:
        w2(repeats, args.quick)
    if "W4" in only:
        w4_stateful(repeats)
    if "W1K" in only:
        w1k(x, y, device, repeats)
    if "W5" in only:
        w5(device, repeats, args.quick)
    if "W3" not in only:
        return

    batch = 64 if args.quick else 256
    xb = torch.randn(batch, 80, 52, device=device)
    stacks = {"torch nn.LSTM(bidirectional) x4": TorchBiStack().to(device),
              "lstmkit LSTM fwd+go_backwards x4": LstmkitBiStack().to(device),
              "lstmkit Bidirectional(LSTM) x4": keras_bi_stack().to(device),
              # float32 weights, bfloat16 compute: Keras's mixed policy against torch's own autocast
              "torch x4 under autocast(bfloat16)": TorchBiStack().to(device),
              "lstmkit x4, policy mixed_bfloat16": keras_bi_stack(dtype="mixed_bfloat16").to(device)}

    def autocast(name):
        if "autocast" in name:
            return torch.autocast(device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def train_task(name, model):
        optimizer = torch.optim.Adam(model.parameters())

        def run():
            with autocast(name):
                out = model(xb)
            loss = out.float().square().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
        return run

    def infer_task(name, model):
        def run():
            with torch.no_grad(), autocast(name):
                model(xb)
            if device.type == "cuda":
                torch.cuda.synchronize()
        return run

    # Keras's own step: train_on_batch, whose scope reuses the step's large buffers (ops.buffer_pool);
    # and raw torch inside the same scope, since the pool is not specific to lstmkit's layers
    keras_model = keras_bi_stack()
    keras_model.compile(optimizer="adam", loss="mse")
    zeros = torch.zeros(batch, 80, 128, device=device)  # MSE against zeros: the hand-written steps' loss
    raw_step = train_task("raw", TorchBiStack().to(device))

    def raw_in_pool():
        with buffer_pool.reuse_buffers(keep=True):
            raw_step()
    train_tasks = {n: train_task(n, m) for n, m in stacks.items()}
    train_tasks["lstmkit Bidirectional x4, train_on_batch"] = lambda: keras_model.train_on_batch(xb, zeros)
    train_tasks["torch x4 in lstmkit's reuse_buffers()"] = raw_in_pool
    w3 = max(2, repeats - 2)
    train_times = interleaved(train_tasks, w3)
    report(f"W3  4-layer BiLSTM [128,128,64,64] on ({batch}, 80, 52): training step (s)",
           train_times, "torch nn.LSTM(bidirectional) x4")
    w3_faults({n: train_tasks[n] for n in ("torch nn.LSTM(bidirectional) x4", "lstmkit Bidirectional(LSTM) x4",
                                           "lstmkit Bidirectional x4, train_on_batch",
                                           "torch x4 in lstmkit's reuse_buffers()")})
    w3_roofline(train_times, batch, device, w3)
    buffer_pool.release_buffers()  # what train_on_batch kept: inference is measured without it
    report("W3  same stack: inference (s)",
           interleaved({n: infer_task(n, m) for n, m in stacks.items()}, w3), "torch nn.LSTM(bidirectional) x4")


if __name__ == "__main__":
    np.random.seed(0)
    main()
