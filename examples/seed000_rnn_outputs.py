"""Seed 000, section 0 ("return_sequences / return_state / stateful") on lstmkit: what an LSTM layer
returns, printed as the post prints it, and what ``stateful=True`` carries from one call to the next.

The post's code (seed 000, lines 1-150) with ``tensorflow.keras`` -> ``lstmkit``; lines changed for another
reason are marked ``# FIXED:``, additions ``# ADDED:``. Sections 0.1 and 0.2 build
``Model(Input(shape=(3, 1)), LSTM(4, ...))`` and print the prediction on two sequences of three steps; the
values differ from the post's (random initial weights), the shapes are the same. Also the Keras
documentation's ``whole_seq_output, final_memory_state, final_carry_state`` example (ADDED), and, for
section 0.3 (the post explains ``stateful`` in words, without code), a stateful LSTM fed a sequence in two
calls: the states are carried between the calls (the same outputs as one call on the whole sequence) until
``model.reset_states()``. Writes ``stateful.png`` (the hidden state over the steps, carried and reset) and
``metrics.json`` (every shape, the checks) to ``--out``.

    python examples/seed000_rnn_outputs.py                 # a few seconds
    python examples/seed000_rnn_outputs.py --quick --out /tmp/seed000_outputs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # FIXED: write PNG files instead of showing windows
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from numpy import array  # noqa: E402

from lstmkit.layers import LSTM, Input  # noqa: E402
from lstmkit.models import Model  # noqa: E402


def shapes_of(p) -> list:
    return [list(a.shape) for a in p] if isinstance(p, list) else list(p.shape)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity: this demo is already quick")
    parser.add_argument("--out", default="seed000_rnn_outputs_out", help="folder for stateful.png and metrics.json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)  # ADDED: the same random weights at every run
    np.set_printoptions(precision=8, suppress=True)  # ADDED: print as the post does
    metrics: dict = {"shapes": {}}

    # 0.1 return_sequences=False: only the last output h3 (Batch Size 2, Time Stamp 3, Feature 1, LSTM units 4)
    print("0.1 return_sequences=False")
    inputs1 = Input(shape=(3, 1))
    lstm1 = LSTM(4)(inputs1)
    model = Model(inputs=inputs1, outputs=lstm1)

    data = array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]).reshape((2, 3, 1))

    p = model.predict(data, verbose=0)  # ADDED: verbose=0 (no progress bar between the printed values)

    print(p)  # FIXED: the post's listing shows the values and the shape but lost the print lines
    print(p.shape)
    metrics["shapes"]["LSTM(4)"] = shapes_of(p)

    # 0.1 return_sequences=True: every time step's output, (Batch Size, Time Stamp, LSTM units)
    print("\n0.1 return_sequences=True")
    inputs1 = Input(shape=(3, 1))
    lstm1 = LSTM(4, return_sequences=True)(inputs1)

    model = Model(inputs=inputs1, outputs=lstm1)

    data = array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]).reshape((2, 3, 1))

    p = model.predict(data, verbose=0)

    print(p)
    print(p.shape)
    metrics["shapes"]["LSTM(4, return_sequences=True)"] = shapes_of(p)

    # 0.2 return_state=True: the last output, the hidden state and the cell state
    print("\n0.2 return_state=True")
    inputs1 = Input(shape=(3, 1))
    lstm1, state_h, state_c = LSTM(4, return_state=True)(inputs1)

    model = Model(inputs=inputs1, outputs=[lstm1, state_h, state_c])

    data = array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]).reshape((2, 3, 1))

    p = model.predict(data, verbose=0)

    print("LSTM 출력 (output)\n", p[0], p[0].shape)
    print("Hidden State 출력 (hidden state)\n", p[1], p[1].shape)
    print("Cell State 출력 (cell state)\n", p[2], p[2].shape)
    metrics["shapes"]["LSTM(4, return_state=True)"] = shapes_of(p)
    output_equals_h = bool(np.array_equal(p[0], p[1]))  # ADDED: the post's remark, checked
    print("output == hidden state:", output_equals_h)

    # 0.2 return_sequences=True and return_state=True
    print("\n0.2 return_sequences=True, return_state=True")
    inputs1 = Input(shape=(3, 1))
    lstm1, state_h, state_c = LSTM(4, return_sequences=True, return_state=True)(inputs1)

    model = Model(inputs=inputs1, outputs=[lstm1, state_h, state_c])

    data = array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]).reshape((2, 3, 1))

    p = model.predict(data, verbose=0)

    print("LSTM 출력 (output)\n", p[0], p[0].shape)
    print("Hidden State 출력 (hidden state)\n", p[1], p[1].shape)
    print("Cell State 출력 (cell state)\n", p[2], p[2].shape)
    metrics["shapes"]["LSTM(4, return_sequences=True, return_state=True)"] = shapes_of(p)
    last_output_equals_h = bool(np.array_equal(p[0][:, -1], p[1]))  # ADDED: the last step's output is h
    print("output[:, -1] == hidden state:", last_output_equals_h)

    # ADDED: the Keras LSTM documentation's example, on the layer alone (no Model needed)
    print("\nKeras docs: whole_seq_output, final_memory_state, final_carry_state")
    inputs = np.random.default_rng(0).random((32, 10, 8)).astype("float32")
    lstm = LSTM(4)
    output = lstm(inputs)
    print("LSTM(4)(inputs):", tuple(output.shape))
    lstm = LSTM(4, return_sequences=True, return_state=True)
    whole_seq_output, final_memory_state, final_carry_state = lstm(inputs)
    print("whole_seq_output:", tuple(whole_seq_output.shape))
    print("final_memory_state:", tuple(final_memory_state.shape))
    print("final_carry_state:", tuple(final_carry_state.shape))
    metrics["shapes"]["docs LSTM(4)"] = list(output.shape)
    metrics["shapes"]["whole_seq_output"] = list(whole_seq_output.shape)
    metrics["shapes"]["final_memory_state"] = list(final_memory_state.shape)
    metrics["shapes"]["final_carry_state"] = list(final_carry_state.shape)

    # 0.3 stateful (ADDED: the post explains it in words; this is the code). A stateful layer needs the
    # batch size up front: (Batch Size, Time Stamp, Feature Number); None time steps allow any length.
    print("\n0.3 stateful=True: a sequence of 6 steps fed in two calls of 3 steps")
    sequence = array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]]).reshape((2, 6, 1))
    inputs1 = Input(batch_shape=(2, None, 1))
    lstm1 = LSTM(4, return_sequences=True, stateful=True)(inputs1)
    model = Model(inputs=inputs1, outputs=lstm1)
    layer = model.layers[-1]

    model.reset_states()
    whole = model.predict(sequence, verbose=0)  # one call, all six steps
    model.reset_states()
    first = model.predict(sequence[:, :3], verbose=0)  # steps 1-3 ...
    h_after_first = layer.states[0].numpy().copy()
    print("after steps 1-3, the layer keeps h =\n", h_after_first)
    second = model.predict(sequence[:, 3:], verbose=0)  # ... then steps 4-6 start from the kept states
    carried = np.concatenate([first, second], axis=1)
    carried_diff = float(np.abs(carried - whole).max())
    print("steps 1-3 then 4-6 (states carried) vs all six in one call: max |difference| =", carried_diff)

    model.reset_states()  # a new, unrelated sequence starts: forget the states
    print("after model.reset_states(), the layer's states:", layer.states, "(zeros at the next call)")
    restarted = model.predict(sequence[:, 3:], verbose=0)  # steps 4-6 alone, from zero states
    reset_diff = float(np.abs(restarted - second).max())
    print("steps 4-6 after reset vs steps 4-6 carried: max |difference| =", reset_diff)
    inputs2 = Input(shape=(None, 1))
    stateless = Model(inputs=inputs2, outputs=LSTM(4, return_sequences=True)(inputs2))
    stateless.set_weights(model.get_weights())
    stateless_diff = float(np.abs(stateless.predict(sequence[:, 3:], verbose=0) - restarted).max())
    print("steps 4-6 after reset vs a stateless LSTM with the same weights: max |difference| =", stateless_diff)
    model.reset_states()

    metrics["stateful"] = {"carried_vs_one_call_max_abs_diff": carried_diff,
                           "reset_vs_carried_max_abs_diff": reset_diff,
                           "reset_vs_stateless_max_abs_diff": stateless_diff,
                           "h_after_first_call_shape": list(h_after_first.shape)}
    metrics["output_equals_hidden_state"] = output_equals_h
    metrics["last_sequence_output_equals_hidden_state"] = last_output_equals_h

    steps = np.arange(1, 7)
    fig, ax = plt.subplots(figsize=(8, 4))
    for unit in range(4):
        line, = ax.plot(steps, whole[0, :, unit], "o-", label=f"unit {unit}: one call / carried")
        ax.plot(steps[3:], restarted[0, :, unit], "x--", color=line.get_color(), label=f"unit {unit}: after reset")
    ax.axvline(3.5, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("time step (second call starts after the dotted line)")
    ax.set_ylabel("LSTM output h (sequence 0)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "stateful.png", dpi=80)
    plt.close(fig)

    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"\nwrote {out / 'stateful.png'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
