"""Every layer ``lstmkit.layers`` exports passes ``run_layer_test``: a catalogue with one small case per
layer, and a check that no exported layer is missing from it (a new layer cannot skip the contracts)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

from lstmkit import layers as L

from .layer_checks import run_layer_test

RNG = np.random.default_rng(14)
X = RNG.standard_normal((2, 6, 3)).astype("float32")      # (batch, steps, features)
Y = RNG.standard_normal((2, 6, 3)).astype("float32")
V = RNG.standard_normal((2, 4, 3)).astype("float32")      # values / keys of another length
IDS = RNG.integers(1, 9, size=(2, 6)).astype("float32")   # token ids for Embedding

# name -> (init kwargs, inputs, output shape, trainable weights, non-trainable weights, options)
CASES = {
    "LSTM": ({"units": 4}, X, (2, 4), 3, 0, {}),
    "GRU": ({"units": 4, "return_sequences": True}, X, (2, 6, 4), 3, 0, {}),
    "SimpleRNN": ({"units": 4, "go_backwards": True}, X, (2, 4), 3, 0, {}),
    "RNN": (lambda: {"cell": L.LSTMCell(4), "return_sequences": True}, X, (2, 6, 4), 3, 0, {}),
    "Bidirectional": (lambda: {"layer": L.LSTM(4, return_sequences=True)}, X, (2, 6, 8), 6, 0, {}),
    "TimeDistributed": (lambda: {"layer": L.Dense(5)}, X, (2, 6, 5), 2, 0, {}),
    "Dense": ({"units": 5}, X, (2, 6, 5), 2, 0, {}),
    "Activation": ({"activation": "tanh"}, X, (2, 6, 3), 0, 0, {}),
    "Dropout": ({"rate": 0.5}, X, (2, 6, 3), 0, 0, {}),
    "Masking": ({"mask_value": 0.0}, X, (2, 6, 3), 0, 0, {}),
    "Embedding": ({"input_dim": 10, "output_dim": 4}, IDS, (2, 6, 4), 1, 0,
                  {"grad_inputs": False, "supports_double": False}),
    "Flatten": ({}, X, (2, 18), 0, 0, {}),
    "Reshape": ({"target_shape": (3, 6)}, X, (2, 3, 6), 0, 0, {}),
    "RepeatVector": ({"n": 3}, X[:, 0], (2, 3, 3), 0, 0, {}),
    "Permute": ({"dims": (2, 1)}, X, (2, 3, 6), 0, 0, {}),
    "ZeroPadding1D": ({"padding": (1, 2)}, X, (2, 9, 3), 0, 0, {}),
    "Cropping1D": ({"cropping": (1, 2)}, X, (2, 3, 3), 0, 0, {}),
    "UpSampling1D": ({"size": 2}, X, (2, 12, 3), 0, 0, {}),
    "Conv1D": ({"filters": 4, "kernel_size": 3, "padding": "causal"}, X, (2, 6, 4), 2, 0, {}),
    "MaxPooling1D": ({"pool_size": 2}, X, (2, 3, 3), 0, 0, {}),
    "AveragePooling1D": ({"pool_size": 3, "strides": 2, "padding": "same"}, X, (2, 3, 3), 0, 0, {}),
    "GlobalMaxPooling1D": ({}, X, (2, 3), 0, 0, {}),
    "GlobalAveragePooling1D": ({"keepdims": True}, X, (2, 1, 3), 0, 0, {}),
    "BatchNormalization": ({}, X, (2, 6, 3), 2, 2, {}),
    "LayerNormalization": ({}, X, (2, 6, 3), 2, 0, {}),
    "SpatialDropout1D": ({"rate": 0.5}, X, (2, 6, 3), 0, 0, {}),
    "GaussianNoise": ({"stddev": 0.1}, X, (2, 6, 3), 0, 0, {}),
    "GaussianDropout": ({"rate": 0.2}, X, (2, 6, 3), 0, 0, {}),
    "ActivityRegularization": ({"l1": 0.01}, X, (2, 6, 3), 0, 0, {}),
    "Add": ({}, [X, Y], (2, 6, 3), 0, 0, {}),
    "Subtract": ({}, [X, Y], (2, 6, 3), 0, 0, {}),
    "Multiply": ({}, [X, Y], (2, 6, 3), 0, 0, {}),
    "Average": ({}, [X, Y], (2, 6, 3), 0, 0, {}),
    "Maximum": ({}, [X, Y], (2, 6, 3), 0, 0, {}),
    "Minimum": ({}, [X, Y], (2, 6, 3), 0, 0, {}),
    "Concatenate": ({"axis": -1}, [X, Y], (2, 6, 6), 0, 0, {}),
    "Dot": ({"axes": 2}, [X, V], (2, 6, 4), 0, 0, {}),
    "Attention": ({"use_scale": True}, [X, V], (2, 6, 3), 1, 0, {}),
    "AdditiveAttention": ({}, [X, V], (2, 6, 3), 1, 0, {}),
    "MultiHeadAttention": ({"num_heads": 2, "key_dim": 2}, [X, V], (2, 6, 3), 8, 0, {"separate_arguments": True}),
}
# Aliases (the same class under Keras's other name), cells (run inside RNN above), and layers that are
# not built from arguments alone: the base classes, InputLayer (Input's node), Lambda (holds code: its
# safe-mode loading has its own tests), Keras graph op nodes (AnyOf, NotEqual: only in loaded graphs).
NOT_STANDALONE = {"MaxPool1D", "AvgPool1D", "GlobalMaxPool1D", "GlobalAvgPool1D", "LSTMCell", "GRUCell",
                  "SimpleRNNCell", "Layer", "RecurrentCell", "InputLayer", "Lambda", "AnyOf", "NotEqual"}


def _exported_layers() -> set[str]:
    return {name for name in dir(L) if not name.startswith("_") and inspect.isclass(getattr(L, name))
            and issubclass(getattr(L, name), torch.nn.Module)}


def test_every_exported_layer_is_in_the_catalogue():
    missing = _exported_layers() - set(CASES) - NOT_STANDALONE
    assert not missing, f"add a run_layer_test case for {sorted(missing)}"
    assert not set(CASES) & NOT_STANDALONE


def test_layers_namespace_leaks_no_loop_variables():
    assert not [name for name in vars(L) if name.startswith("_") and inspect.isclass(vars(L)[name])]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_contracts(name, tmp_path):
    kwargs, inputs, shape, trainable, non_trainable, options = CASES[name]
    run_layer_test(getattr(L, name), kwargs, inputs, shape, tmp_path, trainable_weights=trainable,
                   non_trainable_weights=non_trainable, **options)


def test_trainable_and_non_trainable_weights_follow_keras():
    """Keras's lists: moving statistics and frozen layers are non-trainable, in ``weights`` order; Keras 3's
    ``*_variables`` names give the same lists; ``fit`` trains exactly ``trainable_weights``."""
    norm = L.BatchNormalization()
    norm(torch.from_numpy(X))
    names = lambda ws: [tuple(w.shape) for w in ws]  # noqa: E731
    assert [w is v for w, v in zip(norm.trainable_weights, (norm.gamma, norm.beta))] == [True, True]
    assert [w is v for w, v in zip(norm.non_trainable_weights, (norm.moving_mean, norm.moving_variance))] == [True] * 2
    assert norm.variables == norm.weights and norm.trainable_variables == norm.trainable_weights
    assert norm.non_trainable_variables == norm.non_trainable_weights

    inner = L.LSTM(4, return_sequences=True)
    wrapper = L.Bidirectional(inner)
    wrapper(torch.from_numpy(X))
    assert names(wrapper.trainable_weights) == names(wrapper.weights) and len(wrapper.weights) == 6
    wrapper.trainable = False
    assert wrapper.trainable_weights == [] and len(wrapper.non_trainable_weights) == 6

    from lstmkit import Sequential
    model = Sequential([L.Input((6, 3)), L.Dense(4), L.Dense(1)])
    model.layers[0].trainable = False
    assert [w is v for w, v in zip(model.trainable_weights, model.layers[1].weights)] == [True, True]
    assert len(model.non_trainable_weights) == 2
    before = [w.detach().clone() for w in model.weights]
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X[:, :, :1], epochs=1, verbose=0)
    changed = [not torch.equal(b, w.detach()) for b, w in zip(before, model.weights)]
    assert changed == [False, False, True, True]
