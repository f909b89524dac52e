"""The seed tutorials' shape walkthrough (seeds 000, 002, 003), on lstmkit.

Every recurrent layer takes (batch, timesteps, features). What comes out depends on return_sequences
and return_state; this tour prints each case with a one-line explanation, then what a Dense layer and
TimeDistributed(Dense) make of those outputs (seeds 002 / 003). Runs in seconds on a CPU.

    python examples/shapes_tour.py
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from lstmkit.layers import GRU, LSTM, Dense, SimpleRNN, TimeDistributed


def show(label: str, outputs, explanation: str) -> None:
    outputs = outputs if isinstance(outputs, list) else [outputs]
    shapes = ", ".join(str(tuple(o.shape)) for o in outputs)
    print(f"  {label:<50} -> {shapes:<30} {explanation}")


def show_params(label: str, layer, explanation: str) -> None:
    print(f"  {label:<50} -> {layer.count_params():<30} {explanation}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity: the tour is already quick")
    parser.add_argument("--out", default=None, help="accepted for uniformity: the tour only prints")
    parser.parse_args(argv)
    torch.manual_seed(0)
    # Seed 000: two sequences of three steps, one feature each: shape (batch=2, timesteps=3, features=1).
    data = np.array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]).reshape((2, 3, 1))
    print("Seed 000: LSTM(4) on data of shape", data.shape, "(batch, timesteps, features)")
    show("LSTM(4)", LSTM(4)(data), "last step only: (batch, units)")
    show("LSTM(4, return_sequences=True)", LSTM(4, return_sequences=True)(data),
         "every step: (batch, timesteps, units)")
    out, h, c = LSTM(4, return_state=True)(data)
    show("LSTM(4, return_state=True)", [out, h, c], "[output, h, c]; output equals h")
    assert torch.equal(out, h)
    out, h, c = LSTM(4, return_sequences=True, return_state=True)(data)
    show("LSTM(4, return_sequences=True, return_state=True)", [out, h, c],
         "all outputs, then the last h and c; output[:, -1] equals h")
    assert torch.equal(out[:, -1], h)

    # Seed 002: 32 samples of 25 steps with one feature.
    x = np.random.default_rng(0).random((32, 25, 1)).astype("float32")
    print("\nSeed 002: LSTM(20) on x of shape", x.shape)
    show("LSTM(20)", LSTM(20)(x), "one 20-vector per sample")
    show("LSTM(20, return_sequences=True)", LSTM(20, return_sequences=True)(x),
         "a 20-vector for each of the 25 steps")

    # Seeds 002 / 003: what comes after the LSTM. Dense works on the last axis, so it takes both outputs.
    output_a = LSTM(20)(x)
    output_b = LSTM(20, return_sequences=True)(x)
    print("\nSeeds 002/003: Dense(10) after LSTM(20), and TimeDistributed(Dense(10))")
    dense_2d = Dense(10)
    show("Dense(10) on LSTM(20) output (32, 20)", dense_2d(output_a), "2-D: the 20 units become 10")
    dense = Dense(10)
    show("Dense(10) on return_sequences output (32, 25, 20)", dense(output_b),
         "3-D: acts on the last axis, at every step")
    time = TimeDistributed(Dense(10))
    show("TimeDistributed(Dense(10)) on (32, 25, 20)", time(output_b),
         "the same Dense at every step: the same shape")
    show_params("params: Dense(10) on 20 features", dense, "20 * 10 kernel + 10 bias, on 2-D or 3-D")
    show_params("params: TimeDistributed(Dense(10))", time, "the same: one Dense shared by all 25 steps")
    assert dense.count_params() == time.count_params() == dense_2d.count_params() == 20 * 10 + 10
    time.set_weights(dense.get_weights())
    assert torch.allclose(time(output_b), dense(output_b), atol=1e-6)
    print("  With the same weights, TimeDistributed(Dense) and Dense give the same outputs on 3-D input.")
    print("  TimeDistributed needs the time axis; the 2-D output of LSTM(20) is refused:")
    try:
        TimeDistributed(Dense(10))(output_a)
    except ValueError as error:
        print("   ", error)

    print("\nThe other recurrent layers follow the same rules (their state is [h] only):")
    show("GRU(20, return_state=True)", GRU(20, return_state=True)(x), "[output, h]")
    show("SimpleRNN(20, return_sequences=True)", SimpleRNN(20, return_sequences=True)(x),
         "(batch, timesteps, units)")

    print("\nThe most common mistake: a 2-D array. lstmkit says what it wants and how to fix it:")
    try:
        LSTM(4)(x.reshape(32, 25))
    except ValueError as error:
        print(" ", error)


if __name__ == "__main__":
    main()
