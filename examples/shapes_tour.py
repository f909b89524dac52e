"""The seed tutorials' shape walkthrough (seeds 000, 002, 003), on lstmkit.

Every recurrent layer takes (batch, timesteps, features). What comes out depends on return_sequences
and return_state; this tour prints each case with a one-line explanation. Runs in seconds on a CPU.

    python examples/shapes_tour.py
"""

from __future__ import annotations

import numpy as np
import torch

from lstmkit.layers import GRU, LSTM, SimpleRNN


def show(label: str, outputs, explanation: str) -> None:
    outputs = outputs if isinstance(outputs, list) else [outputs]
    shapes = ", ".join(str(tuple(o.shape)) for o in outputs)
    print(f"  {label:<50} -> {shapes:<30} {explanation}")


def main() -> None:
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
