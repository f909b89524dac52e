"""Dense, Activation, Dropout, Masking, Embedding and Lambda: Keras 3's semantics, configs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers
from lstmkit.layers import LSTM, Activation, Dense, Dropout, Embedding, Lambda, Masking

from ..conformance.corpus import arrays, assert_close, cases, numbered

RNG = np.random.default_rng(0)
X2 = RNG.standard_normal((4, 6)).astype("float32")
X3 = RNG.standard_normal((3, 5, 6)).astype("float32")
BASE_KEYS = ["name", "trainable", "dtype"]


def round_trip(layer):
    """get_config -> from_config -> JSON serialize/deserialize gives the same config back."""
    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    again = layers.deserialize(json.loads(json.dumps(layers.serialize(clone))))
    assert type(again) is type(layer) and again.get_config() == config
    return config


def corpus_layer_config(class_name):
    """The first config of ``class_name`` anywhere in the corpus (inside models too)."""
    def walk(obj):
        if isinstance(obj, dict):
            if obj.get("class_name") == class_name and isinstance(obj.get("config"), dict):
                return obj
            for v in obj.values():
                found = walk(v)
                if found:
                    return found
        if isinstance(obj, list):
            for v in obj:
                found = walk(v)
                if found:
                    return found
        return None
    return walk([c["config"] for c in cases()])


# -- Dense ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("x", [X2, X3], ids=["2d", "3d"])
def test_dense_matches_numpy_on_the_last_axis(x):
    layer = Dense(3, activation="relu")
    y = layer(x).detach().numpy()
    kernel, bias = layer.get_weights()
    assert kernel.shape == (6, 3) and bias.shape == (3,)
    np.testing.assert_allclose(y, np.maximum(x @ kernel + bias, 0), atol=1e-6, rtol=1e-5)
    assert y.shape == x.shape[:-1] + (3,)
    assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + x.shape[1:-1] + (3,)


def test_dense_counts_and_shares_weights_across_time():
    from lstmkit.models import Sequential

    assert Sequential([Dense(1, input_shape=(128,))]).count_params() == 129  # built from the declared input
    layer = Dense(8)
    y = layer(X3)
    assert layer.count_params() == 6 * 8 + 8  # independent of the 5 time steps
    for t in range(X3.shape[1]):
        torch.testing.assert_close(y[:, t], layer(X3[:, t]))
    assert [n for n, _ in layer.named_parameters()] == ["kernel", "bias"]


def test_dense_without_bias_and_declared_shape():
    layer = Dense(2, use_bias=False, batch_input_shape=(None, 6))
    assert layer.built  # issue 16: a declared input size materialises the weights at construction
    assert [w.shape for w in layer.get_weights()] == [(6, 2)]
    layer(X2)
    np.testing.assert_allclose(layer(X2).detach().numpy(), X2 @ layer.get_weights()[0], atol=1e-6)


def test_dense_keras_conformance_and_config():
    case = next(c for c in cases() if c["id"] == "dense_3d")
    data = arrays(case)
    layer = layers.deserialize(case["config"])
    assert layer.get_config() == case["config"]["config"]
    assert list(layer.get_config()) == BASE_KEYS + [
        "units", "activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
        "bias_regularizer", "kernel_constraint", "bias_constraint", "quantization_config"]
    layer.set_weights(numbered(data, "weights_"))
    assert_close(layer(data["x"]), data["y0"], case, "output")


EVERY_DENSE_ARGUMENT = dict(
    activation="tanh", use_bias=False, kernel_initializer=lstmkit.initializers.Orthogonal(gain=2.0, seed=3),
    bias_initializer=lstmkit.initializers.Constant(0.2), kernel_regularizer=lstmkit.regularizers.L1L2(0.1, 0.2),
    bias_regularizer="l1", activity_regularizer=lstmkit.regularizers.L2(0.3),
    kernel_constraint=lstmkit.constraints.MaxNorm(3.0), bias_constraint="non_neg", name="every", trainable=False,
    dtype="float64")


def test_dense_every_argument_round_trips_with_keras_key_order():
    config = round_trip(Dense(4, **EVERY_DENSE_ARGUMENT))
    # Keras's base Layer writes a set activity_regularizer right after dtype
    assert list(config)[:5] == BASE_KEYS + ["activity_regularizer", "units"]
    assert config["activation"] == "tanh" and config["use_bias"] is False and config["trainable"] is False
    assert config["dtype"]["config"]["name"] == "float64"
    assert config["kernel_initializer"]["config"] == {"seed": 3, "gain": 2.0}
    assert "activity_regularizer" not in Dense(4).get_config()


def test_dense_regularization_losses():
    layer = Dense(2, kernel_regularizer=lstmkit.regularizers.L2(0.5),
                  activity_regularizer=lstmkit.regularizers.L1(0.1))
    y = layer(X2)
    kernel_penalty, activity = layer.losses
    torch.testing.assert_close(kernel_penalty, 0.5 * (layer.kernel ** 2).sum())
    torch.testing.assert_close(activity, 0.1 * y.abs().sum())


def test_dense_errors():
    layer = Dense(3)
    layer(np.zeros((2, 8), "float32"))
    with pytest.raises(ValueError, match=r"Dense 'dense\w*': input expects 8 features .*received 5 features"):
        layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"input expects shape \(batch, \.\.\., features\); received a 1-D "
                                         r"array of shape \(7,\)\. .*x\.reshape\(7, 1\)"):
        Dense(3)(np.zeros(7))
    with pytest.raises(ValueError, match=r"`units` expects a positive integer; received 0"):
        Dense(0)
    with pytest.raises(ValueError, match=r"`lora_rank` expects None .*not implemented"):
        Dense(3, lora_rank=4)


def test_dense_passes_the_mask_on():
    x = X3.copy()
    x[:, 2] = 0
    out = Dense(2)(Masking()(x))
    assert out._keras_mask.tolist() == (np.abs(x).sum(-1) > 0).tolist()


# -- Activation -----------------------------------------------------------------------------------
def test_activation_layer():
    layer = Activation("relu")
    np.testing.assert_array_equal(layer(X2).numpy(), np.maximum(X2, 0))
    assert layer.get_config()["activation"] == "relu" and list(layer.get_config()) == BASE_KEYS + ["activation"]
    round_trip(Activation("softsign", name="act"))
    assert Activation("tanh").compute_output_shape((None, 3)) == (None, 3)
    assert "build_config" not in layers.serialize(layer)  # Keras builds weightless layers at construction


# -- Dropout --------------------------------------------------------------------------------------
def test_dropout_train_and_eval():
    x = np.ones((200, 50), "float32")
    layer = Dropout(0.3)
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x)
    y = layer(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.03
    layer.train()
    assert (layer(x).numpy() == 0).any()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_dropout_seed_and_noise_shape():
    x = np.ones((4, 6, 5), "float32")
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first = a(x, training=True)
    torch.testing.assert_close(first, b(x, training=True))  # same seed, same draws
    assert not torch.equal(first, a(x, training=True))  # the generator moves on
    y = Dropout(0.5, noise_shape=(None, 1, 5), seed=1)(x, training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))  # one mask for all time steps


def test_dropout_config_and_errors():
    keras = corpus_layer_config("Dropout")
    assert Dropout.from_config(keras["config"]).get_config() == keras["config"]
    config = round_trip(Dropout(0.25, noise_shape=(None, 1, 3), seed=3, name="drop"))
    assert list(config) == BASE_KEYS + ["rate", "seed", "noise_shape"] and config["noise_shape"] == [None, 1, 3]
    for rate in (1.0, -0.1):
        with pytest.raises(ValueError, match=r"Dropout: `rate` expects a float in \[0, 1\); received"):
            Dropout(rate)
    with pytest.raises(ValueError, match=r"`noise_shape` expects positive integers or None"):
        Dropout(0.1, noise_shape=(2, 0))
    with pytest.raises(ValueError, match=r"`noise_shape` expects 3 entries"):
        Dropout(0.1, noise_shape=(1, 1))(np.ones((2, 3, 4)), training=True)


# -- Masking --------------------------------------------------------------------------------------
def masked_input():
    x = RNG.standard_normal((3, 6, 2)).astype("float32")
    x[0, 4:] = 0.0
    x[1, 1] = 0.0
    x[2, 2, 0] = 0.0  # one zero feature only: the step stays
    return x


def test_masking_zeroes_steps_and_attaches_the_mask():
    x = masked_input()
    out = Masking()(x)
    expected = np.any(x != 0, axis=-1)
    assert out._keras_mask.dtype == torch.bool and out._keras_mask.tolist() == expected.tolist()
    np.testing.assert_array_equal(out.numpy(), x * expected[..., None])
    x_minus = np.where(x == 0, -1.0, x).astype("float32")
    assert Masking(mask_value=-1.0).compute_mask(x_minus).tolist() == expected.tolist()


def test_masking_feeds_lstm_like_an_explicit_mask():
    x = masked_input()
    lstm = LSTM(4, return_sequences=True)
    implicit = lstm(Masking()(x))
    explicit = lstm(x, mask=np.any(x != 0, axis=-1))
    torch.testing.assert_close(implicit, explicit)
    assert implicit._keras_mask.tolist() == np.any(x != 0, axis=-1).tolist()


def test_masking_config_matches_keras():
    keras = corpus_layer_config("Masking")
    layer = Masking.from_config(keras["config"])
    assert layer.get_config() == keras["config"]
    round_trip(Masking(mask_value=-1.0, name="m"))


# -- Embedding ------------------------------------------------------------------------------------
IDS = np.array([[1, 5, 0, 0], [3, 3, 9, 0]])


def test_embedding_lookup_shapes_and_initializer():
    layer = Embedding(10, 4)
    out = layer(IDS)
    (table,) = layer.get_weights()
    assert table.shape == (10, 4) and [n for n, _ in layer.named_parameters()] == ["embeddings"]
    assert np.all(np.abs(table) <= 0.05)  # Keras's "uniform": RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(out.detach().numpy(), table[IDS])
    assert out.dtype == torch.float32 and layer.compute_output_shape((None, 4)) == (None, 4, 4)
    assert getattr(out, "_keras_mask", None) is None and layer.count_params() == 40
    np.testing.assert_array_equal(layer(IDS.astype("float32")).detach().numpy(), table[IDS])


def test_embedding_mask_zero_feeds_lstm():
    emb = Embedding(10, 3, mask_zero=True, weights=RNG.standard_normal((10, 3)).astype("float32"))
    out = emb(IDS)
    assert out._keras_mask.tolist() == (IDS != 0).tolist()
    lstm = LSTM(2)
    torch.testing.assert_close(lstm(out), lstm(out.detach(), mask=IDS != 0))


def test_embedding_config_and_errors():
    config = round_trip(Embedding(7, 2, embeddings_initializer="glorot_uniform", embeddings_regularizer="l2",
                                  embeddings_constraint="non_neg", mask_zero=True, name="emb"))
    assert list(config) == BASE_KEYS + ["input_dim", "output_dim", "embeddings_initializer",
                                        "embeddings_regularizer", "activity_regularizer",
                                        "embeddings_constraint", "mask_zero", "quantization_config"]
    with_activity = Embedding(7, 2, activity_regularizer="l1").get_config()
    assert list(with_activity)[3] == "activity_regularizer"
    with pytest.raises(TypeError, match=r"Embedding 'embedding\w*': input expects integer indices .*"
                                        r"non-integer values of dtype .*astype\('int64'\)"):
        Embedding(10, 2)(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match=r"indices in \[0, 10\) .*received indices from 0 to 12"):
        Embedding(10, 2)(np.array([[0, 12]]))


# -- Lambda ---------------------------------------------------------------------------------------
def scale(x, factor=1.0):
    return x * factor


def test_lambda_calls_and_infers_shapes():
    layer = Lambda(scale, arguments={"factor": 3.0})
    np.testing.assert_allclose(layer(X3).numpy(), 3 * X3, rtol=1e-6)
    assert layer.compute_output_shape((None, 5, 6)) == (None, 5, 6)
    last = Lambda(lambda t: t[:, -1])
    assert last.compute_output_shape((None, None, 6)) == (None, 6)
    assert Lambda(lambda t: t.sum(-1), output_shape=(5,)).compute_output_shape((8, 5, 6)) == (8, 5)
    assert Lambda(lambda t: t, output_shape=lambda s: s[:2]).compute_output_shape((8, 5, 6)) == (8, 5)
    pair = Lambda(lambda ts: ts[0] + ts[1])
    assert pair.compute_output_shape([(None, 3), (None, 3)]) == (None, 3)


def test_lambda_masks():
    x = masked_input()
    assert getattr(Lambda(scale)(Masking()(x)), "_keras_mask", None) is None  # Keras: no mask unless given
    keep = Lambda(scale, mask=lambda inputs, mask: mask)(Masking()(x))
    assert keep._keras_mask.tolist() == np.any(x != 0, -1).tolist()
    seen = {}

    def spy(t, mask=None):
        seen["mask"] = mask
        return t
    Lambda(spy)(Masking()(x))
    assert seen["mask"].tolist() == np.any(x != 0, -1).tolist()


def test_lambda_config():
    from lstmkit.models import custom_object_scope

    with custom_object_scope({"scale": scale}):  # safe mode: a config names only functions the caller allows
        config = round_trip(Lambda(scale, output_shape=(5, 6), arguments={"factor": 2.0}, name="scale"))
    assert config["function"] == {"module": __name__, "class_name": "function", "config": "scale",
                                  "registered_name": "scale"}
    assert list(config) == BASE_KEYS + ["function", "output_shape", "arguments"]
    assert Lambda.from_config(config, custom_objects={"scale": scale}).function is scale
    assert Lambda.from_config(config, safe_mode=False).function is scale  # this module is imported
    with pytest.raises(ValueError, match=r"`function` expects a function safe mode allows .* received the name "
                                         r"'tests.layers.test_core.scale'.*custom_objects=\{'scale': scale\}"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match=r"get_config \(`function`\) expects a named function \(def\); "
                                         r"received a lambda"):
        Lambda(lambda t: t).get_config()
    with pytest.raises(ValueError, match=r"bytecode"):
        Lambda.from_config({"function": {"class_name": "__lambda__", "config": {"code": "..."}}}, safe_mode=False)
    keras2 = {"name": "l", "function": ["bytecode...", None, None], "function_type": "lambda",
              "module": "__main__", "output_shape": None, "output_shape_type": "raw", "arguments": {}}
    with pytest.raises(ValueError, match=r"bytecode"):
        Lambda.from_config(keras2, safe_mode=False)
    named = {"name": "l", "function": "scale", "function_type": "function", "module": __name__,
             "output_shape": None, "output_shape_type": "raw", "arguments": {}}
    assert Lambda.from_config(named, custom_objects={"scale": scale}).function is scale  # Keras 2's named form


def test_lambda_activation_names_need_no_permission():
    layer = Lambda.from_config({"name": "l", "function": {"module": "keras.activations", "class_name": "function",
                                                          "config": "tanh", "registered_name": None}})
    np.testing.assert_allclose(layer(X3).numpy(), np.tanh(X3), rtol=1e-6)


def test_a_built_lambda_saves_its_output_shape_so_loading_never_calls_it():
    layer = Lambda(scale)
    layer.maybe_build((None, 5, 6))
    assert layer.get_config()["output_shape"] == [5, 6]


def test_masking_needs_a_batch_and_a_features_axis():
    # issue 13 fuzz: a 0-D input gave an output of shape (1,), a 1-D one a whole-batch mask
    from lstmkit.layers import Masking

    for bad in (np.float32(3.0), np.zeros(4, "float32")):
        with pytest.raises(ValueError, match=r"Masking '.*': input expects \(batch, timesteps, features\) or "
                                             r"\(batch, features\); received a [01]-D array"):
            Masking()(np.asarray(bad))
