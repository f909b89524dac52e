"""IMDB-style text classification with recurrent layers, on generated reviews: ``Tokenizer`` ->
``pad_sequences`` -> ``Embedding(mask_zero=True)`` -> ``Bidirectional(LSTM)`` -> sigmoid, then a three-class
``GRU`` model on ``to_categorical`` labels.

The patterns of Keras's IMDB examples and the many tutorials built on them, with generated text instead of a
download: reviews mix sentiment words with filler, the label says which sentiment wins. ``Tokenizer(num_words,
oov_token)`` numbers the words, ``texts_to_sequences`` + ``pad_sequences(maxlen)`` make the ids, the model
trains with ``EarlyStopping(restore_best_weights=True)``, ``ModelCheckpoint(save_best_only=True)`` and
``TensorBoard``, is evaluated (``[loss, accuracy]``) and classifies new sentences. The second model predicts
the review's topic (three classes) with ``categorical_crossentropy``. Writes ``best.keras``, ``logs/``
(TensorBoard runs), ``tokenizer.json`` and ``metrics.json`` to ``--out``.

    python examples/keras_programs/text_sentiment.py --out /tmp/sentiment
    python examples/keras_programs/text_sentiment.py --quick --out /tmp/sentiment
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

import lstmkit as keras
from lstmkit.preprocessing.sequence import pad_sequences
from lstmkit.preprocessing.text import Tokenizer, tokenizer_from_json
from lstmkit.utils import to_categorical

POSITIVE = "great wonderful superb moving brilliant delightful charming gripping".split()
NEGATIVE = "awful boring dull clumsy tedious painful shallow messy".split()
TOPICS = {"drama": "family grief memory village letters".split(),
          "action": "chase explosion heist soldier pilot".split(),
          "comedy": "jokes wedding prank sitcom clown".split()}
FILLER = "the a this film movie story was and but it with of plot actors scenes really quite".split()


def make_reviews(count: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Reviews of 6-40 words: filler, 1-4 topic words, and sentiment words where one side wins."""
    texts, sentiment, topic = [], np.zeros(count, "int64"), np.zeros(count, "int64")
    names = list(TOPICS)
    for i in range(count):
        sentiment[i], topic[i] = rng.integers(0, 2), rng.integers(0, 3)
        wins, loses = (POSITIVE, NEGATIVE) if sentiment[i] else (NEGATIVE, POSITIVE)
        n_win = rng.integers(2, 5)
        words = list(rng.choice(wins, n_win)) + list(rng.choice(loses, rng.integers(0, n_win - 1)))
        words += list(rng.choice(TOPICS[names[topic[i]]], rng.integers(1, 5)))
        words += list(rng.choice(FILLER, rng.integers(3, 30)))
        texts.append(" ".join(rng.permutation(words)).capitalize() + ".")
    return texts, sentiment, topic


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=3000)
    parser.add_argument("--maxlen", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="600 reviews, 3 epochs")
    parser.add_argument("--out", type=Path, default=Path("text_sentiment_out"))
    args = parser.parse_args(argv)
    if args.quick:
        args.reviews, args.epochs = 600, 3
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)

    texts, sentiment, topic = make_reviews(args.reviews, rng)
    split = int(0.8 * len(texts))
    tokenizer = Tokenizer(num_words=40, oov_token="<unk>")  # the 39 most frequent words; the rest -> <unk>
    tokenizer.fit_on_texts(texts[:split])
    (args.out / "tokenizer.json").write_text(tokenizer.to_json())
    sequences = tokenizer.texts_to_sequences(texts)
    x = pad_sequences(sequences, maxlen=args.maxlen, truncating="post")
    print("vocabulary", len(tokenizer.word_index), "x", x.shape, x.dtype, "first row", x[0][-8:])
    x_train, x_test = x[:split], x[split:]

    inputs = keras.Input(shape=(None,), dtype="int32")
    h = keras.layers.Embedding(40, 16, mask_zero=True)(inputs)
    h = keras.layers.Bidirectional(keras.layers.LSTM(16))(h)
    outputs = keras.layers.Dense(1, activation="sigmoid")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
                 keras.callbacks.ModelCheckpoint(str(args.out / "best.keras"), monitor="val_loss",
                                                 save_best_only=True),
                 keras.callbacks.TensorBoard(log_dir=str(args.out / "logs"))]
    history = model.fit(x_train, sentiment[:split], batch_size=32, epochs=args.epochs, validation_split=0.2,
                        callbacks=callbacks, verbose=2)
    loss, accuracy = model.evaluate(x_test, sentiment[split:], verbose=0)
    best = keras.models.load_model(args.out / "best.keras")
    same = tokenizer_from_json((args.out / "tokenizer.json").read_text())
    new = ["A wonderful and gripping story, really superb.", "Dull, tedious and messy: an awful film."]
    scores = best.predict(pad_sequences(same.texts_to_sequences(new), maxlen=args.maxlen), verbose=0)
    for text, score in zip(new, scores[:, 0]):
        print(f"{score:.3f}  {text}")

    # three topics: one-hot labels, softmax, categorical cross-entropy
    labels = to_categorical(topic, num_classes=3)
    topics = keras.Sequential([keras.Input(shape=(args.maxlen,), dtype="int32"),
                               keras.layers.Embedding(40, 16, mask_zero=True),
                               keras.layers.GRU(16),
                               keras.layers.Dense(3, activation="softmax")])
    topics.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="categorical_crossentropy",
                   metrics=["accuracy"])
    topic_history = topics.fit(x_train, labels[:split], batch_size=32, epochs=args.epochs, verbose=0,
                               validation_data=(x_test, labels[split:]))
    topic_loss, topic_accuracy = topics.evaluate(x_test, labels[split:], verbose=0)
    predicted = topics.predict(x_test[:4], verbose=0)

    metrics = {"loss": history.history["loss"], "val_loss": history.history["val_loss"],
               "test_loss": loss, "test_accuracy": accuracy, "new_review_scores": scores[:, 0].tolist(),
               "topic_loss": topic_history.history["loss"], "topic_test_accuracy": topic_accuracy,
               "x_shape": list(x.shape), "x_dtype": str(x.dtype), "labels_shape": list(labels.shape),
               "topic_prediction_shape": list(predicted.shape), "epochs_run": len(history.history["loss"])}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(f"sentiment test accuracy {accuracy:.3f}; topic test accuracy {topic_accuracy:.3f}")
    return metrics


if __name__ == "__main__":
    main()
