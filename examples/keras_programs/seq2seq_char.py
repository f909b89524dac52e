"""Character-level sequence-to-sequence (the encoder-decoder LSTM pattern of Keras's ``lstm_seq2seq``) on
generated data: the model learns to spell words backwards.

The pattern as Keras programs write it: one-hot characters, ``Input(shape=(None, tokens))`` for encoder and
decoder, ``LSTM(latent, return_state=True)`` whose ``[h, c]`` start the decoder ``LSTM(...,
return_sequences=True, return_state=True)(decoder_inputs, initial_state=...)``, a softmax ``Dense``,
``fit([encoder_x, decoder_x], decoder_y, validation_split=0.2)`` with teacher forcing, ``model.save`` to
``.keras`` and ``load_model``. Inference rebuilds two models *from the loaded model's own tensors*:
``Model(model.input[0], model.layers[2].output[1:])`` (the encoder) and a one-step decoder that reuses
``model.layers[3]`` and ``model.layers[4]`` on new ``Input`` states, then decodes greedily character by
character. Writes ``s2s.keras``, ``training.png`` and ``metrics.json`` (losses, word accuracy, how far the
step-by-step decoder is from the trained model's teacher-forced output) to ``--out``.

    python examples/keras_programs/seq2seq_char.py --out /tmp/s2s          # about a minute on a CPU core
    python examples/keras_programs/seq2seq_char.py --quick --out /tmp/s2s
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

import lstmkit as keras  # noqa: E402

START, END = "\t", "\n"
LETTERS = "abcdefghij"


def make_words(count: int, rng: np.random.Generator) -> list[str]:
    """Random distinct words of 2 to 6 letters."""
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice(list(LETTERS), size=rng.integers(2, 7))))
    return sorted(words)


def one_hot(texts: list[str], index: dict[str, int], length: int, pad: str) -> np.ndarray:
    """``(len(texts), length, len(index))`` float32; each text padded with ``pad`` to ``length``."""
    out = np.zeros((len(texts), length, len(index)), dtype="float32")
    for i, text in enumerate(texts):
        padded = text + pad * (length - len(text))
        out[i, np.arange(length), [index[c] for c in padded]] = 1.0
    return out


def build(encoder_tokens: int, decoder_tokens: int, latent: int) -> keras.Model:
    encoder_inputs = keras.Input(shape=(None, encoder_tokens))
    _, state_h, state_c = keras.layers.LSTM(latent, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent, return_sequences=True, return_state=True)
    sequence, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    outputs = keras.layers.Dense(decoder_tokens, activation="softmax")(sequence)
    model = keras.Model([encoder_inputs, decoder_inputs], outputs)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def inference_models(model: keras.Model, latent: int) -> tuple[keras.Model, keras.Model]:
    """Encoder and one-step decoder built from the trained model's tensors and layers (by index, as Keras
    programs do: layers 0 and 1 are the Inputs, 2 the encoder LSTM, 3 the decoder LSTM, 4 the Dense)."""
    _, state_h, state_c = model.layers[2].output
    encoder = keras.Model(model.input[0], [state_h, state_c])
    h_in, c_in = keras.Input(shape=(latent,)), keras.Input(shape=(latent,))
    sequence, h_out, c_out = model.layers[3](model.input[1], initial_state=[h_in, c_in])
    decoder = keras.Model([model.input[1], h_in, c_in], [model.layers[4](sequence), h_out, c_out])
    return encoder, decoder


def decode(encoder: keras.Model, decoder: keras.Model, x: np.ndarray, index: dict[str, int],
           max_length: int) -> list[str]:
    """Greedy decoding of a whole batch: feed the start character, then each predicted character."""
    characters = {i: c for c, i in index.items()}
    h, c = encoder.predict(x, verbose=0)
    step = np.zeros((len(x), 1, len(index)), dtype="float32")
    step[:, 0, index[START]] = 1.0
    texts = [""] * len(x)
    done = np.zeros(len(x), dtype=bool)
    for _ in range(max_length):
        probabilities, h, c = decoder.predict([step, h, c], verbose=0)
        chosen = probabilities[:, -1].argmax(axis=-1)
        for i, k in enumerate(chosen):
            if not done[i]:
                done[i] = characters[k] == END
                texts[i] += "" if done[i] else characters[k]
        step = np.zeros_like(step)
        step[np.arange(len(x)), 0, chosen] = 1.0
        if done.all():
            break
    return texts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--latent", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="400 words, 4 epochs (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("seq2seq_char_out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.samples, args.latent, args.epochs = 400, 32, 4
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    words = [str(w) for w in rng.permutation(make_words(args.samples, rng))]
    targets = [START + w[::-1] + END for w in words]
    encoder_index = {c: i for i, c in enumerate(" " + LETTERS)}
    decoder_index = {c: i for i, c in enumerate(START + END + " " + LETTERS)}
    enc_len, dec_len = max(map(len, words)), max(map(len, targets))
    encoder_x = one_hot(words, encoder_index, enc_len, " ")
    decoder_x = one_hot(targets, decoder_index, dec_len, " ")
    decoder_y = np.zeros_like(decoder_x)
    decoder_y[:, :-1] = decoder_x[:, 1:]  # the decoder's target is its input one step ahead
    decoder_y[:, -1, decoder_index[" "]] = 1.0
    print("encoder input", encoder_x.shape, "decoder input", decoder_x.shape)

    model = build(len(encoder_index), len(decoder_index), args.latent)
    model.summary()
    history = model.fit([encoder_x, decoder_x], decoder_y, batch_size=64, epochs=args.epochs,
                        validation_split=0.2, verbose=2)
    path = args.out / "s2s.keras"
    model.save(path)

    restored = keras.models.load_model(path)
    encoder, decoder = inference_models(restored, args.latent)
    held_out = slice(int(len(words) * 0.8), None)  # validation_split's rows: never trained on
    decoded = decode(encoder, decoder, encoder_x[held_out], decoder_index, dec_len)
    truth = [w[::-1] for w in words[held_out]]
    accuracy = float(np.mean([d == t for d, t in zip(decoded, truth)]))
    for word, guess in list(zip(words[held_out], decoded))[:5]:
        print(f"{word!r:10} -> {guess!r}")

    # the rebuilt decoder, run one step at a time with teacher forcing, reproduces the trained model
    sample = slice(0, 16)
    full = restored.predict([encoder_x[sample], decoder_x[sample]], verbose=0)
    h, c = encoder.predict(encoder_x[sample], verbose=0)
    steps = []
    for t in range(dec_len):
        probabilities, h, c = decoder.predict([decoder_x[sample, t:t + 1], h, c], verbose=0)
        steps.append(probabilities)
    difference = float(np.abs(np.concatenate(steps, axis=1) - full).max())

    plt.figure(figsize=(6, 3.5))
    plt.plot(history.history["loss"], label="loss")
    plt.plot(history.history["val_loss"], label="val_loss")
    plt.xlabel("epoch")
    plt.legend()
    plt.title("seq2seq: reversing words")
    plt.tight_layout()
    plt.savefig(args.out / "training.png")
    metrics = {"loss": history.history["loss"], "val_loss": history.history["val_loss"],
               "held_out_word_accuracy": accuracy, "step_decoder_max_abs_difference": difference,
               "encoder_state_shapes": [list(a.shape) for a in encoder.predict(encoder_x[:2], verbose=0)],
               "layers": [type(layer).__name__ for layer in restored.layers]}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"held-out word accuracy {accuracy:.3f}; step decoder vs model max |diff| {difference:.2e}")
    return metrics


if __name__ == "__main__":
    main()
