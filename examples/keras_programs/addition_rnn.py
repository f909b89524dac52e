"""Learning to add with an LSTM encoder -> ``RepeatVector`` -> LSTM decoder (the pattern of Keras's
``addition_rnn``): questions like ``"12+345"`` in, answers like ``"357"`` out, one character per step.

Characters are one-hot **boolean** arrays (as the Keras example builds them), queries reversed, the model a
``Sequential`` of ``LSTM(input_shape=...)``, ``RepeatVector(digits + 1)``, ``LSTM(return_sequences=True)`` and a
softmax ``Dense`` applied at every step, trained epoch by epoch with ``validation_data`` while a
``LambdaCallback(on_epoch_end=...)`` records a few decoded validation answers. Writes ``metrics.json`` (loss,
per-character and whole-answer accuracy, sample answers) to ``--out``.

    python examples/keras_programs/addition_rnn.py --out /tmp/addition
    python examples/keras_programs/addition_rnn.py --quick --out /tmp/addition
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import lstmkit as keras
from lstmkit import layers

CHARS = "0123456789+ "


class CharTable:
    """One-hot encoding of fixed-length strings over ``CHARS`` and back."""

    def __init__(self, chars: str):
        self.chars = sorted(set(chars))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str, rows: int) -> np.ndarray:
        x = np.zeros((rows, len(self.chars)), dtype=bool)
        for i, c in enumerate(text):
            x[i, self.index[c]] = True
        return x

    def decode(self, x: np.ndarray, calc_argmax: bool = True) -> str:
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.chars[int(i)] for i in x)


def make_questions(count: int, digits: int, rng: np.random.Generator) -> tuple[list[str], list[str]]:
    maxlen = 2 * digits + 1
    seen, questions, answers = set(), [], []
    while len(questions) < count:
        a, b = (int(rng.integers(0, 10 ** rng.integers(1, digits + 1))) for _ in range(2))
        if (min(a, b), max(a, b)) in seen:
            continue
        seen.add((min(a, b), max(a, b)))
        questions.append(f"{a}+{b}".ljust(maxlen)[::-1])  # reversed, as the example (helps the LSTM)
        answers.append(str(a + b).ljust(digits + 1))
    return questions, answers


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=2)
    parser.add_argument("--questions", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--quick", action="store_true", help="800 questions, 3 epochs")
    parser.add_argument("--out", type=Path, default=Path("addition_out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.questions, args.epochs = 800, 3
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    table = CharTable(CHARS)
    questions, answers = make_questions(args.questions, args.digits, rng)
    maxlen = 2 * args.digits + 1
    x = np.stack([table.encode(q, maxlen) for q in questions])
    y = np.stack([table.encode(a, args.digits + 1) for a in answers])
    split = len(x) - len(x) // 10
    (x_train, x_val), (y_train, y_val) = (x[:split], x[split:]), (y[:split], y[split:])
    print("x", x.shape, x.dtype, "y", y.shape, y.dtype)

    model = keras.Sequential()
    model.add(layers.LSTM(128, input_shape=(maxlen, len(table.chars))))
    model.add(layers.RepeatVector(args.digits + 1))
    model.add(layers.LSTM(128, return_sequences=True))
    model.add(layers.Dense(len(table.chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.summary()

    samples: list[list[str]] = []

    def show(epoch: int, logs: dict) -> None:
        guesses = model.predict(x_val[:3], verbose=0).argmax(axis=-1)
        samples.append([f"{table.decode(x_val[i])[::-1].strip()} = {table.decode(g, calc_argmax=False).strip()}"
                        for i, g in enumerate(guesses)])

    history = {"loss": [], "val_accuracy": []}
    for _ in range(args.epochs):  # one fit per epoch, as the example, to look at answers in between
        step = model.fit(x_train, y_train, batch_size=32, epochs=1, validation_data=(x_val, y_val), verbose=2,
                         callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=show)])
        history["loss"] += step.history["loss"]
        history["val_accuracy"] += step.history["val_accuracy"]
    guesses = model.predict(x_val, verbose=0).argmax(axis=-1)
    exact = float(np.mean([table.decode(g, calc_argmax=False) == table.decode(t) for g, t in zip(guesses, y_val)]))
    metrics = {**history, "answer_accuracy": exact, "samples": samples[-1], "x_dtype": str(x.dtype),
               "prediction_shape": list(model.predict(x_val[:2], verbose=0).shape)}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print("last answers:", *samples[-1], sep="\n  ")
    print(f"whole answers right: {exact:.3f}")
    return metrics


if __name__ == "__main__":
    main()
