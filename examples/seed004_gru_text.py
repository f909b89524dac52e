"""Seed 004's GRU text model on lstmkit: ``Embedding`` -> ``GRU(512)`` -> ``GRU(128)`` ->
``TimeDistributed(Dense(vocabularySize))`` -> ``TimeDistributed(Activation("softmax"))``, trained with
``sparse_categorical_crossentropy``, here as a character model on a bundled public-domain text.

The answer's code (seed 004, the "Embedding ... GRU ... TimeDistributed" snippet) with ``keras`` ->
``lstmkit``; lines changed for another reason are marked ``# FIXED:``, additions ``# ADDED:``. The
answer gives the model and its compile only; the text is the opening of Lewis Carroll's *Alice's
Adventures in Wonderland* (1865, public domain; ``examples/data/alice_chapter1.txt``, see
``examples/data/README.md``). Each training sequence is ``maxSequenceLength`` characters and its target
the same characters one step later, so the model predicts the next character at every step; the last
10% of the text is held out. After training it writes text: a prompt from the corpus, then one sampled
character at a time. Writes ``training.png`` (loss and accuracy curves), ``sample.txt`` and
``metrics.json`` (loss / accuracy, the unigram baseline's loss, the sample) to ``--out``.

    python examples/seed004_gru_text.py                  # the answer's sizes, about 6 minutes on a CPU core
    python examples/seed004_gru_text.py --quick --out /tmp/gru_text
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

from lstmkit import optimizers  # noqa: E402
from lstmkit.layers import GRU, Activation, Embedding, Input, TimeDistributed, Dense  # noqa: E402
from lstmkit.models import Model  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "data" / "alice_chapter1.txt"


class CharGRU:
    """ADDED: a holder for the answer's ``self.`` attributes (the answer's code is a method of some class)."""

    def __init__(self, vocabularySize, maxSequenceLength=64, EmbeddingDimension=32, units=(512, 128)):
        self.vocabularySize = vocabularySize
        self.maxSequenceLength = maxSequenceLength
        self.EmbeddingDimension = EmbeddingDimension
        self.units = units

    def build(self):
        words = Input(batch_shape=(None, self.maxSequenceLength), name="input")
        # Build a matrix of size vocabularySize x EmbeddingDimension
        # where each row corresponds to a "word embedding" vector.
        # This layer will convert replace each word-id with a word-vector of size Embedding Dimension.
        embeddings = Embedding(self.vocabularySize, self.EmbeddingDimension,  # FIXED: keras.layers.embeddings.Embedding
                               name="embeddings")(words)
        # Pass the word-vectors to the LSTM layer.
        # We are setting the hidden-state size to 512.
        # The output will be batchSize x maxSequenceLength x hiddenStateSize
        hiddenStates = GRU(self.units[0], return_sequences=True,  # ADDED: the sizes as options (answer: 512, 128)
                           input_shape=(self.maxSequenceLength,
                                        self.EmbeddingDimension),
                           name="rnn")(embeddings)
        hiddenStates2 = GRU(self.units[1], return_sequences=True,
                            input_shape=(self.maxSequenceLength, self.EmbeddingDimension),
                            name="rnn2")(hiddenStates)
        denseOutput = TimeDistributed(Dense(self.vocabularySize),
                                      name="linear")(hiddenStates2)
        predictions = TimeDistributed(Activation("softmax"),
                                      name="softmax")(denseOutput)
        # Build the computational graph by specifying the input, and output of the network.
        model = Model(inputs=words, outputs=predictions)  # FIXED: Keras 1's input= / output= are inputs= / outputs=
        # model.compile(loss='kullback_leibler_divergence', \
        with warnings.catch_warnings():  # ADDED: lstmkit warns that decay= is tf.keras 2's legacy decay
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            model.compile(loss='sparse_categorical_crossentropy',
                          optimizer=optimizers.Adam(lr=0.009,
                                                    beta_1=0.9,
                                                    beta_2=0.999,
                                                    epsilon=None,
                                                    decay=0.01,
                                                    amsgrad=False),
                          metrics=["accuracy"])  # ADDED: per-character accuracy
        return model


def sequences(ids: np.ndarray, length: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: windows of ``length`` ids every ``stride`` characters, ``y`` the same window one character later."""
    starts = np.arange(0, len(ids) - length - 1 + 1, stride)
    x = np.stack([ids[s:s + length] for s in starts])
    y = np.stack([ids[s + 1:s + length + 1] for s in starts])
    return x, y


def sample_text(model, prompt_ids: np.ndarray, n: int, length: int, temperature: float, rng) -> list[int]:
    """Feed the last ``length`` ids, sample the next character from the last step's softmax, append, repeat."""
    ids = list(prompt_ids)
    for _ in range(n):
        probs = model.predict(np.array([ids[-length:]]), verbose=0)[0, -1].astype(np.float64)
        logits = np.log(np.maximum(probs, 1e-12)) / temperature
        p = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(p), p=p / p.sum())))
    return ids[len(prompt_ids):]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--units", type=int, nargs=2, default=[512, 128], help="the two GRUs' sizes (the answer's)")
    parser.add_argument("--length", type=int, default=64, help="maxSequenceLength: characters per sequence")
    parser.add_argument("--sample", type=int, default=300, help="characters to generate")
    parser.add_argument("--temperature", type=float, default=0.5)
    parser.add_argument("--quick", action="store_true", help="small GRUs, 2 epochs, a short sample")
    parser.add_argument("--out", default="seed004_gru_text_out")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.units, args.length, args.sample = 2, [64, 32], 32, 40
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    # ADDED: the data. Characters -> ids; the last 10% of the text is held out for validation.
    text = CORPUS.read_text(encoding="utf-8")
    chars = sorted(set(text))
    char_to_id = {c: i for i, c in enumerate(chars)}
    ids = np.array([char_to_id[c] for c in text], dtype=np.int64)
    split = int(len(ids) * 0.9)
    x_train, y_train = sequences(ids[:split], args.length, stride=3)
    x_val, y_val = sequences(ids[split:], args.length, stride=args.length // 2)
    print(f"{len(text)} characters, {len(chars)} distinct; {len(x_train)} training and {len(x_val)} validation "
          f"sequences of {args.length}")

    model = CharGRU(len(chars), maxSequenceLength=args.length, units=args.units).build()
    model.summary()
    started = time.perf_counter()
    history = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs, batch_size=32,
                        verbose=2)
    seconds = time.perf_counter() - started
    val_loss, keras_val_acc = model.evaluate(x_val, y_val, verbose=0)
    # ADDED: the accuracy counted directly (the share of next characters whose top prediction is right),
    # next to the value of the compiled "accuracy" metric
    val_acc = float(np.mean(model.predict(x_val, verbose=0).argmax(-1) == y_val))
    train_acc = float(np.mean(model.predict(x_train, verbose=0).argmax(-1) == y_train))

    # the unigram baseline: predict every character with its training frequency
    freq = np.bincount(ids[:split], minlength=len(chars)) / split
    unigram_loss = float(-np.mean(np.log(np.maximum(freq[y_val.ravel()], 1e-12))))
    print(f"validation loss {val_loss:.4f} (unigram baseline {unigram_loss:.4f}), accuracy {val_acc:.4f} "
          f"(the compiled metric says {keras_val_acc:.4f})")

    prompt = text[split:split + args.length]  # a held-out passage as the prompt
    generated = "".join(chars[i] for i in sample_text(model, np.array([char_to_id[c] for c in prompt]),
                                                      args.sample, args.length, args.temperature, rng))
    print(f"prompt:\n{prompt}\nsampled (temperature {args.temperature}):\n{generated}")
    (out / "sample.txt").write_text(f"{prompt}|{generated}\n", encoding="utf-8")

    fig, ax0 = plt.subplots(figsize=(10, 4))
    ax1 = ax0.twinx()
    ax0.plot(history.history["loss"], label="loss")
    ax0.plot(history.history["val_loss"], label="val_loss")
    ax0.axhline(unigram_loss, color="grey", ls=":", label="unigram baseline")
    ax1.plot(history.history["accuracy"], "r-.", label="accuracy")
    ax1.plot(history.history["val_accuracy"], "g-.", label="val_accuracy")
    ax0.set_xlabel("epoch")
    ax0.set_ylabel("loss")
    ax1.set_ylabel("accuracy")
    ax0.legend(loc="upper left")
    ax1.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=80)
    plt.close(fig)

    metrics = {"characters": len(text), "vocabulary": len(chars), "corpus_chars": "".join(chars),
               "sequence_length": args.length, "units": list(args.units), "epochs": args.epochs,
               "train_sequences": len(x_train), "val_sequences": len(x_val),
               "train_loss": float(history.history["loss"][-1]), "train_accuracy": train_acc,
               "val_loss": float(val_loss), "val_accuracy": val_acc, "keras_metric_val_accuracy": float(keras_val_acc),
               "unigram_val_loss": unigram_loss,
               "val_perplexity": math.exp(val_loss), "train_seconds": seconds, "prompt": prompt,
               "sample": generated, "temperature": args.temperature,
               "history": {k: [float(v) for v in vals] for k, vals in history.history.items()}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"wrote {out / 'training.png'}, {out / 'sample.txt'} and {out / 'metrics.json'}")
    return metrics


if __name__ == "__main__":
    main()
