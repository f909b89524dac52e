"""tf.keras 2's ``keras.preprocessing.text`` (still in Keras 3 as a legacy module): ``Tokenizer``,
``text_to_word_sequence`` and ``tokenizer_from_json``, with Keras's numbering.

Words are numbered from 1 by falling count (ties keep first-seen order); the ``oov_token``, when given, is 1.
``num_words=n`` keeps only indices below ``n`` when converting (the vocabulary itself stays whole), as Keras.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any, Iterable, Iterator

import numpy as np

from .. import _validation

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(input_text: str, filters: str = FILTERS, lower: bool = True, split: str = " ") -> list:
    """Lower-case (optionally), turn every ``filters`` character into ``split``, split, drop empty words."""
    if not isinstance(input_text, str):
        raise _validation.type_error("text_to_word_sequence", "input_text", "a string", type(input_text).__name__)
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


class Tokenizer:
    """Map texts to sequences of word indices (or to count / tf-idf matrices).

    Args:
        num_words: keep the ``num_words - 1`` most frequent words when converting (None: all).
        filters, lower, split: as ``text_to_word_sequence``.
        char_level: every character is a token.
        oov_token: a token (index 1) standing for words outside the vocabulary.
        analyzer: a function text -> tokens replacing the word splitting.
    """

    def __init__(self, num_words: int | None = None, filters: str = FILTERS, lower: bool = True,
                 split: str = " ", char_level: bool = False, oov_token: str | None = None,
                 analyzer: Any = None, document_count: int = 0, **kwargs: Any):
        if "nb_words" in kwargs:
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise _validation.type_error("Tokenizer", "its arguments", "Tokenizer arguments",
                                         f"unknown {sorted(kwargs)}")
        if num_words is not None:
            num_words = _validation.positive_int("Tokenizer", "num_words", num_words)
        self.num_words, self.filters, self.lower, self.split = num_words, filters, lower, split
        self.char_level, self.oov_token, self.analyzer = char_level, oov_token, analyzer
        self.document_count = document_count
        self.word_counts: dict[str, int] = {}
        self.word_docs: defaultdict = defaultdict(int)
        self.index_docs: defaultdict = defaultdict(int)
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def _tokens(self, text: Any) -> list:
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return list(text)
        if self.analyzer is not None:
            return list(self.analyzer(text))
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts: Iterable[Any]) -> None:
        """Count the words of ``texts`` (strings, or lists of tokens) and number them by frequency."""
        if isinstance(texts, str):
            raise _validation.type_error("Tokenizer.fit_on_texts", "texts", "a list of strings",
                                         "a single string", "Wrap it in a list: fit_on_texts([text]).")
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for token in tokens:
                self.word_counts[token] = self.word_counts.get(token, 0) + 1
            for token in set(tokens):
                self.word_docs[token] += 1
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # stable: ties keep order
        vocabulary = ([self.oov_token] if self.oov_token is not None else []) + [w for w, _ in ranked]
        self.word_index = {word: i for i, word in enumerate(vocabulary, start=1)}
        self.index_word = {i: word for word, i in self.word_index.items()}
        for word, count in self.word_docs.items():
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences: Iterable[Iterable[int]]) -> None:
        """Document counts from sequences of indices (what ``sequences_to_matrix(mode="tfidf")`` needs)."""
        sequences = list(sequences)
        self.document_count += len(sequences)
        for sequence in sequences:
            for index in set(sequence):
                self.index_docs[index] += 1

    def _keep(self, index: int) -> bool:
        return not (self.num_words and index >= self.num_words)

    def texts_to_sequences_generator(self, texts: Iterable[Any]) -> Iterator[list]:
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for text in texts:
            out = []
            for token in self._tokens(text):
                index = self.word_index.get(token)
                if index is not None and self._keep(index):
                    out.append(index)
                elif oov is not None:
                    out.append(oov)
            yield out

    def texts_to_sequences(self, texts: Iterable[Any]) -> list[list[int]]:
        """Each text as a list of word indices (unknown or rare words dropped, or the ``oov_token``'s index)."""
        if isinstance(texts, str):
            raise _validation.type_error("Tokenizer.texts_to_sequences", "texts", "a list of strings",
                                         "a single string", "Wrap it in a list.")
        return list(self.texts_to_sequences_generator(texts))

    def sequences_to_texts_generator(self, sequences: Iterable[Iterable[int]]) -> Iterator[str]:
        oov = self.word_index.get(self.oov_token) if self.oov_token is not None else None
        for sequence in sequences:
            words = []
            for index in sequence:
                word = self.index_word.get(int(index))
                if word is not None and self._keep(int(index)):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def sequences_to_texts(self, sequences: Iterable[Iterable[int]]) -> list[str]:
        """Back to space-joined words."""
        return list(self.sequences_to_texts_generator(sequences))

    def texts_to_matrix(self, texts: Iterable[Any], mode: str = "binary") -> np.ndarray:
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences: Iterable[Iterable[int]], mode: str = "binary") -> np.ndarray:
        """A ``(len(sequences), num_words)`` matrix: ``binary``, ``count``, ``freq`` or ``tfidf`` per word."""
        _validation.choice("Tokenizer", "mode", mode, ("binary", "count", "freq", "tfidf"))
        if self.num_words:
            width = self.num_words
        elif self.word_index:
            width = len(self.word_index) + 1
        else:
            raise _validation.value_error("Tokenizer", "sequences_to_matrix", "num_words or a fitted tokenizer",
                                          "neither", "Call fit_on_texts first or pass num_words.")
        if mode == "tfidf" and not self.document_count:
            raise _validation.value_error("Tokenizer", "mode='tfidf'", "a tokenizer fitted on data",
                                          "an unfitted one")
        sequences = list(sequences)
        out = np.zeros((len(sequences), width))
        for row, sequence in enumerate(sequences):
            sequence = list(sequence)
            counts = Counter(j for j in sequence if j < width)
            for j, c in counts.items():
                if mode == "count":
                    out[row, j] = c
                elif mode == "freq":
                    out[row, j] = c / len(sequence)
                elif mode == "binary":
                    out[row, j] = 1
                else:
                    out[row, j] = (1 + np.log(c)) * np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
        return out

    def get_config(self) -> dict:
        """Keras's config (the tables as JSON strings) — what ``to_json`` writes."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token,
                "document_count": self.document_count, "word_counts": json.dumps(self.word_counts),
                "word_docs": json.dumps(self.word_docs), "index_docs": json.dumps(self.index_docs),
                "index_word": json.dumps(self.index_word), "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps({"class_name": "Tokenizer", "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string: str) -> Tokenizer:
    """A ``Tokenizer`` from ``Tokenizer.to_json()`` (Keras's format): data only, nothing is called."""
    config = dict(json.loads(json_string).get("config") or {})
    tables = {key: json.loads(config.pop(key, "{}")) for key in
              ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = dict(tables["word_counts"])
    tokenizer.word_docs = defaultdict(int, tables["word_docs"])
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in tables["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tokenizer.word_index = dict(tables["word_index"])
    return tokenizer


__all__ = ["Tokenizer", "text_to_word_sequence", "tokenizer_from_json"]
