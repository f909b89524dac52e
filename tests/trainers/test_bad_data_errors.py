"""Issue 13 fuzz findings in fit / evaluate / predict, each a clear error now (see tests/fuzz/)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit.layers import LSTM, Dense, Input
from lstmkit.models import Sequential


def model():
    m = Sequential([Input((3, 2), name="series"), LSTM(2), Dense(1)])
    m.compile("sgd", "mse")
    return m


X = np.zeros((4, 3, 2), "float32")
Y = np.zeros((4, 1), "float32")


@pytest.mark.parametrize("entry", ["fit", "evaluate", "predict"])
def test_zero_samples_is_an_error(entry):
    # was: fit warned "the data ran out" and returned an empty History; evaluate returned a loss of 0
    m, x0, y0 = model(), X[:0], Y[:0]
    run = {"fit": lambda: m.fit(x0, y0, verbose=0), "evaluate": lambda: m.evaluate(x0, y0, verbose=0),
           "predict": lambda: m.predict(x0, verbose=0)}[entry]
    with pytest.raises(ValueError, match=r"expects at least one sample; received 0 samples \(x of shape \(0, 3, 2\)"):
        run()


def test_ragged_nested_lists_are_a_value_error_naming_the_lengths():
    # was: NumPy's bare "setting an array element with a sequence ... inhomogeneous shape"
    ragged = [[[0.0, 1.0]] * 3, [[0.0, 1.0]] * 2]
    with pytest.raises(ValueError, match=r"predict: the data expects a rectangular array.*row lengths \[3, 2\].*Pad"):
        model().predict(ragged, verbose=0)


def test_a_scalar_sample_weight_stays_a_scalar_and_is_refused():
    # was: np.ascontiguousarray turned the 0-D weight into shape (1,), silently accepted for one sample
    with pytest.raises(ValueError, match="sample_weight expects arrays with a first .* received a scalar"):
        model().fit(X[:1], Y[:1], sample_weight=np.array(0.5, "float32"), verbose=0)


@pytest.mark.parametrize("bad", ["bad", {}, {"a": 1.0}, {0: "x"}, {-1: 2.0}, [1.0, 2.0]])
def test_class_weight_must_be_a_dict_of_class_indices(bad):
    # was: "'>' not supported between instances of 'int' and 'str'" from inside class_sample_weights
    with pytest.raises(TypeError, match=r"class_weight expects a dict \{class index"):
        model().fit(X, Y, class_weight=bad, verbose=0)


def test_sequential_takes_a_dict_keyed_by_its_input_name_or_refuses_it():
    # was: torch's "can't convert np.ndarray of type numpy.object_"
    m = model()
    assert m.predict({"series": X}, verbose=0).shape == (4, 1)
    assert m.predict([X], verbose=0).shape == (4, 1)
    with pytest.raises(ValueError, match=r"a dict keyed by the input's name 'series'.*received a dict with keys "
                                         r"\['other'\]"):
        m.predict({"other": X}, verbose=0)
    with pytest.raises(ValueError, match=r"expects one array; received a list of 2 arrays"):
        m([X, X])
