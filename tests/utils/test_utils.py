"""lstmkit.utils / lstmkit.preprocessing: Keras's helpers, checked against Keras's rules and hand results."""

from __future__ import annotations

import io
import re
import json
import os
import tarfile
import warnings

import numpy as np
import pytest
import torch

import lstmkit as keras
from lstmkit.preprocessing.text import Tokenizer, text_to_word_sequence, tokenizer_from_json
from lstmkit.utils import DownloadUnavailable


# -- pad_sequences --------------------------------------------------------------------------------------
def test_pad_sequences_every_option():
    seqs = [[1, 2, 3, 4], [5], []]
    pad = keras.utils.pad_sequences
    np.testing.assert_array_equal(pad(seqs), [[1, 2, 3, 4], [0, 0, 0, 5], [0, 0, 0, 0]])
    np.testing.assert_array_equal(pad(seqs, maxlen=2), [[3, 4], [0, 5], [0, 0]])
    np.testing.assert_array_equal(pad(seqs, maxlen=2, truncating="post"), [[1, 2], [0, 5], [0, 0]])
    np.testing.assert_array_equal(pad(seqs, maxlen=3, padding="post", value=-1), [[2, 3, 4], [5, -1, -1],
                                                                                  [-1, -1, -1]])
    assert pad(seqs).dtype == np.int32 and pad(seqs, dtype="float64").dtype == np.float64
    np.testing.assert_array_equal(pad([[1.9, -1.9]]), [[1, -1]])  # int32 cast truncates toward zero
    assert pad([], maxlen=3).shape == (0, 3)
    vectors = pad([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")  # items that are vectors
    assert vectors.shape == (2, 2, 3) and vectors[1, 0].sum() == 0


def test_pad_sequences_strings_and_errors():
    words = keras.utils.pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert words.tolist() == [["a", "b"], ["<pad>", "c"]]
    assert keras.utils.pad_sequences([["ab"], []], dtype="<U3", value="-").tolist() == [["ab"], ["-"]]
    with pytest.raises(ValueError, match=r"string '<pad>'.*dtype=object"):
        keras.utils.pad_sequences([["a"]], value="<pad>")
    with pytest.raises(ValueError, match=r"padding.*'pre', 'post'.*'middle'"):
        keras.utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match=r"truncating"):
        keras.utils.pad_sequences([[1]], truncating="both")
    with pytest.raises(ValueError, match=r"non-iterable 5 at position 1"):
        keras.utils.pad_sequences([[1], 5])
    with pytest.raises(ValueError, match=r"sequence 1.*shape \(3,\).*\(2,\)"):
        keras.utils.pad_sequences([np.ones((1, 3)), np.ones((1, 2))], dtype="float32")


# -- to_categorical / normalize -----------------------------------------------------------------------
def test_to_categorical_shapes_dtypes_and_errors():
    one_hot = keras.utils.to_categorical(np.array([[2], [0]]))
    assert one_hot.shape == (2, 3) and one_hot.dtype == np.float64
    np.testing.assert_array_equal(one_hot, [[0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(keras.utils.to_categorical([-1], num_classes=3), [[0, 0, 1]])  # as Keras
    tensor = keras.utils.to_categorical(torch.tensor([1, 0]), num_classes=2)
    assert torch.is_tensor(tensor) and tensor.dtype == torch.float32
    with pytest.raises(ValueError, match=r"labels in \[0, 3\); received label 3.*num_classes > 3"):
        keras.utils.to_categorical([0, 3], num_classes=3)
    with pytest.raises(IndexError):  # Keras raises IndexError: the error is both
        keras.utils.to_categorical([5], num_classes=2)


def test_normalize_by_hand():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], dtype="float32")
    got = keras.utils.normalize(x)
    np.testing.assert_allclose(got, [[0.6, 0.8], [0, 0]])
    assert got.dtype == np.float32
    np.testing.assert_allclose(keras.utils.normalize(x, axis=0, order=1), [[1.0, 1.0], [0, 0]])  # a true axis 0
    t = keras.utils.normalize(torch.tensor([[3.0, 4.0]]))
    assert torch.is_tensor(t) and torch.allclose(t, torch.tensor([[0.6, 0.8]]))
    with pytest.raises(ValueError, match="axis"):
        keras.utils.normalize(x, axis=2)


# -- set_random_seed, timeseries ------------------------------------------------------------------------
def test_set_random_seed_repeats_weights_and_numpy():
    def draw():
        keras.utils.set_random_seed(7)
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return np.random.rand(), layer.get_weights()[0]

    (a, wa), (b, wb) = draw(), draw()
    assert a == b and np.array_equal(wa, wb)
    with pytest.raises(TypeError, match="integer"):
        keras.utils.set_random_seed(1.5)


def test_timeseries_helpers_are_the_data_package_ones():
    assert keras.utils.timeseries_dataset_from_array is keras.data.timeseries_dataset_from_array
    assert keras.preprocessing.timeseries_dataset_from_array is keras.data.timeseries_dataset_from_array


def test_timeseries_generator_windows_and_targets():
    gen = keras.preprocessing.sequence.TimeseriesGenerator(np.arange(20), np.arange(20) * 10, length=5,
                                                           sampling_rate=2, stride=3, batch_size=2)
    # targets at rows 5, 8, 11, 14, 17 -> 3 batches
    assert len(gen) == 3
    x, y = gen[0]
    np.testing.assert_array_equal(x, [[0, 2, 4], [3, 5, 7]])
    np.testing.assert_array_equal(y, [50, 80])
    x, y = gen[2]
    assert x.shape == (1, 3) and y.tolist() == [170]
    with pytest.raises(IndexError):
        gen[3]
    rev = keras.preprocessing.sequence.TimeseriesGenerator(np.arange(8), np.arange(8), length=3, reverse=True)
    np.testing.assert_array_equal(rev[0][0][0], [2, 1, 0])
    with pytest.raises(ValueError, match="start_index \\+ length"):
        keras.preprocessing.sequence.TimeseriesGenerator(np.arange(4), np.arange(4), length=4)


# -- Tokenizer -------------------------------------------------------------------------------------------
def test_tokenizer_numbering_num_words_oov_and_json():
    assert text_to_word_sequence("Hello, World!  hello") == ["hello", "world", "hello"]
    tok = Tokenizer(num_words=4)
    tok.fit_on_texts(["the cat sat", "the dog sat", "the end"])
    assert tok.word_index == {"the": 1, "sat": 2, "cat": 3, "dog": 4, "end": 5}  # by count, ties first-seen
    assert tok.texts_to_sequences(["the dog ate the cat"]) == [[1, 1, 3]]  # index >= num_words dropped
    assert tok.sequences_to_texts([[1, 3, 4]]) == ["the cat"]
    matrix = tok.texts_to_matrix(["the the cat"], mode="count")
    np.testing.assert_array_equal(matrix, [[0, 2, 0, 1]])
    tfidf = tok.texts_to_matrix(["cat"], mode="tfidf")
    assert tfidf[0, 3] == pytest.approx(np.log(1 + 3 / 2))
    oov = Tokenizer(oov_token="<oov>")
    oov.fit_on_texts(["a b b"])
    assert oov.word_index == {"<oov>": 1, "b": 2, "a": 3} and oov.texts_to_sequences(["b z"]) == [[2, 1]]
    again = tokenizer_from_json(oov.to_json())
    assert again.word_index == oov.word_index and again.texts_to_sequences(["a z"]) == [[3, 1]]
    with pytest.raises(TypeError, match="list of strings"):
        tok.fit_on_texts("a single string")


# -- get_file, plot_model ---------------------------------------------------------------------------------
def test_get_file_names_the_url_and_the_path_to_save_it_at(tmp_path):
    url = "https://example.invalid/data/jena_climate.zip"
    with pytest.raises(DownloadUnavailable, match=r"does not download.*https://example\.invalid/data/"
                       r"jena_climate\.zip.*save it as .*datasets.jena_climate\.zip"):
        keras.utils.get_file(origin=url, cache_dir=tmp_path)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "jena_climate.zip").write_bytes(b"by hand")
    assert keras.utils.get_file(origin=url, cache_dir=tmp_path) == str(tmp_path / "datasets" / "jena_climate.zip")
    with pytest.raises(ValueError, match="md5"):
        keras.utils.get_file(origin=url, cache_dir=tmp_path, md5_hash="0" * 32)


def test_get_file_copies_a_local_origin_and_extracts_tar(tmp_path, monkeypatch):
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("hello")
    archive = tmp_path / "data.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / "a.txt", arcname="inner/a.txt")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    folder = keras.utils.get_file("data.tar.gz", origin=archive.as_uri(), extract=True)
    assert folder.endswith("data_extracted")
    assert (tmp_path / "home" / "datasets" / "data_extracted" / "inner" / "a.txt").read_text() == "hello"
    with pytest.raises(ValueError, match="without folders"):
        keras.utils.get_file("a/b.txt", origin=archive.as_uri())


def test_plot_model_writes_dot_and_explains_missing_graphviz(tmp_path, monkeypatch):
    inputs = keras.Input(shape=(5, 2))
    out = keras.layers.Dense(1)(keras.layers.LSTM(3)(inputs))
    model = keras.Model(inputs, out)
    keras.utils.plot_model(model, to_file=str(tmp_path / "m.dot"), show_shapes=True)
    text = (tmp_path / "m.dot").read_text()
    assert f"{model.layers[1].name} (LSTM)" in text and "(None, 5, 2)" in text and text.count("->") == 2
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(ImportError, match=r"Graphviz.*\.dot"):
        keras.utils.plot_model(model, to_file=str(tmp_path / "m.png"))


# -- PyDataset / Sequence in fit, evaluate, predict; fit_generator & co ---------------------------------------
class Batches(keras.utils.Sequence):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.epochs_ended = x, y, batch_size, 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, i):
        part = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _data(n=24):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4, 2)).astype("float32")
    return x, x.sum(axis=(1, 2))[:, None].astype("float32")


def _model():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input(shape=(4, 2)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    return model


@pytest.mark.parametrize("workers", [1, 3])
def test_sequence_trains_like_the_arrays_it_holds(workers):
    x, y = _data()
    a, b = _model(), _model()
    seq = Batches(x, y, 8, workers=workers, max_queue_size=2)
    a.fit(seq, epochs=2, verbose=0, shuffle=False)
    b.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    assert seq.epochs_ended == 2
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a.predict(Batches(x, y, 5), verbose=0), b.predict(x, verbose=0), atol=1e-6)
    assert a.evaluate(seq, verbose=0) == pytest.approx(b.evaluate(x, y, verbose=0), rel=1e-5)


def test_generator_methods_warn_and_delegate():
    x, y = _data()
    model = _model()

    def forever():
        while True:
            for i in range(0, 24, 8):
                yield x[i:i + 8], y[i:i + 8]

    with pytest.warns(DeprecationWarning, match="fit_generator is deprecated.*Model.fit"):
        history = model.fit_generator(forever(), steps_per_epoch=3, epochs=3, verbose=0, workers=2,
                                      use_multiprocessing=False, max_queue_size=4)
    assert len(history.history["loss"]) == 3
    with pytest.warns(DeprecationWarning, match="evaluate_generator"):
        loss = model.evaluate_generator(forever(), steps=3)
    assert loss == pytest.approx(model.evaluate(x, y, batch_size=8, verbose=0), rel=1e-5)
    with pytest.warns(DeprecationWarning, match="predict_generator"):
        out = model.predict_generator((x[i:i + 8] for i in range(0, 24, 8)), steps=3)
    assert out.shape == (24, 1)
    with pytest.raises(TypeError, match="samples_per_epoch.*steps_per_epoch"):
        model.fit(x, y, samples_per_epoch=24, verbose=0)
    with pytest.raises(TypeError, match="unknown \\['bogus'\\]"):
        model.evaluate(x, y, bogus=1, verbose=0)
    with pytest.raises(TypeError, match="workers"):
        model.predict(x, workers=0.5, verbose=0)


# -- TensorFlow names -------------------------------------------------------------------------------------
@pytest.mark.parametrize("reach, name, hint", [
    (lambda: keras.backend.tf, "tf", "torch"),
    (lambda: keras.tf, "tf", "torch"),
    (lambda: keras.backend.reduce_mean, "reduce_mean", "lstmkit.backend.mean"),
    (lambda: keras.GradientTape, "GradientTape", "backward"),
    (lambda: keras.backend.get_session, "get_session", "no session"),
])
def test_tensorflow_names_say_what_they_are_and_what_to_use(reach, name, hint):
    with pytest.raises(AttributeError, match=rf"'{name}' is (TensorFlow, not Keras|tf\.keras 2's TensorFlow "
                       rf"backend).*Instead: .*{re.escape(hint)}"):
        reach()
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        keras.backend.no_such_thing
    assert not hasattr(keras, "no_such_thing") and hasattr(keras.backend, "mean")


def test_keras2_import_paths():
    from lstmkit.utils.data_utils import Sequence, get_file
    from lstmkit.utils.np_utils import to_categorical

    assert to_categorical is keras.utils.to_categorical and get_file is keras.utils.get_file
    assert Sequence is keras.utils.PyDataset
    assert keras.preprocessing.sequence.TimeseriesGenerator.__mro__[1] is keras.utils.PyDataset
