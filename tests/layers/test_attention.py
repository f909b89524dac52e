"""Attention, AdditiveAttention, MultiHeadAttention against NumPy re-computations of Keras's formulas
(the corpus checks the recorded options; these add the gate, sliding windows, masks from Masking,
dropout), mask propagation, symbolic calls, configs, files, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstmkit import layers, models
from lstmkit.layers import (LSTM, AdditiveAttention, Attention, Dense, GlobalAveragePooling1D, Input, Masking,
                            MultiHeadAttention)

from .layer_checks import check_saved_model, config_round_trip, numpy

RNG = np.random.default_rng(11)
Q = RNG.standard_normal((2, 5, 3)).astype("float32")
V = RNG.standard_normal((2, 4, 3)).astype("float32")
K = RNG.standard_normal((2, 4, 3)).astype("float32")


def softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attend(scores, value, keep=None, query_mask=None):
    if keep is not None:
        scores = np.where(keep, scores, scores - 1e9)
    weights = softmax(scores)
    out = weights @ value
    if query_mask is not None:
        out = np.where(query_mask[..., None], out, 0.0)
    return out, weights


def test_attention_dot_scale_masks_and_causal():
    layer = Attention(use_scale=True)
    qm = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    vm = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool)
    out, scores = layer([Q, V, K], mask=[qm, vm], return_attention_scores=True, use_causal_mask=True)
    layer.set_weights([np.float32(0.7)])
    out, scores = layer([Q, V, K], mask=[qm, vm], return_attention_scores=True, use_causal_mask=True)
    causal = np.tril(np.ones((5, 4), bool))[None]
    want, want_w = attend(0.7 * Q @ K.transpose(0, 2, 1), V, vm[:, None] & causal, qm)
    np.testing.assert_allclose(numpy(out), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(numpy(scores), want_w, rtol=1e-5, atol=1e-6)  # rows of masked queries kept
    np.testing.assert_array_equal(numpy(out._keras_mask), qm)  # the output carries the query mask


def test_tf_keras2_causal_argument_is_use_causal_mask():
    old = layers.deserialize({"class_name": "Attention", "config": {"name": "a", "use_scale": False,
                                                                    "causal": True, "dropout": 0.0}})
    np.testing.assert_allclose(numpy(old([Q, V])), numpy(Attention()([Q, V], use_causal_mask=True)), rtol=1e-6)
    assert config_round_trip(old)["causal"] is True and "causal" not in Attention().get_config()


def test_attention_concat_and_key_defaults_to_value():
    layer = Attention(use_scale=True, score_mode="concat")
    layer([Q, V])
    layer.set_weights([np.float32(0.5), np.float32(1.3)])
    got = layer([Q, V])
    scores = 1.3 * np.tanh(0.5 * (Q[:, :, None] + V[:, None])).sum(-1)
    np.testing.assert_allclose(numpy(got), attend(scores, V)[0], rtol=1e-5, atol=1e-6)
    assert [w.shape for w in layer.get_weights()] == [(), ()]


def test_additive_attention_formula():
    layer = AdditiveAttention()
    layer([Q, V, K])
    scale = RNG.uniform(-0.6, 0.6, 3).astype("float32")
    layer.set_weights([scale])
    vm = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], bool)
    got = layer([Q, V, K], mask=[None, vm])
    scores = (scale * np.tanh(Q[:, :, None] + K[:, None])).sum(-1)
    np.testing.assert_allclose(numpy(got), attend(scores, V, vm[:, None])[0], rtol=1e-5, atol=1e-6)
    assert "score_mode" not in config_round_trip(layer)
    assert AdditiveAttention(use_scale=False).count_params() == 0


def test_attention_dropout_only_in_training():
    layer = Attention(dropout=0.5, seed=1)
    eval_out = numpy(layer([Q, V], training=False))
    np.testing.assert_allclose(eval_out, attend(Q @ V.transpose(0, 2, 1), V)[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(numpy(layer([Q, V], training=True)), eval_out)


def test_attention_in_a_model_with_masks_scores_and_files(tmp_path):
    def build():
        inputs = Input(shape=(5, 3))
        h = LSTM(4, return_sequences=True)(Masking()(inputs))
        context, scores = Attention(use_scale=True)([h, h], return_attention_scores=True)
        assert scores.shape == (None, 5, 5)
        additive = AdditiveAttention()([h, h], use_causal_mask=True)
        pooled = GlobalAveragePooling1D()(layers.concatenate([context, additive]))
        return models.Model(inputs, [Dense(1)(pooled), scores])

    x = Q.copy()
    x[0, 3:] = 0.0
    check_saved_model(build, x, tmp_path)


def mha_numpy(layer, q, v, k=None, mask=None, causal=False, window=None):
    """Keras's MultiHeadAttention in NumPy from the layer's weights (weights order query, key, [gate,]
    value, attention_output)."""
    k = v if k is None else k
    w = layer.get_weights()
    wq, bq, wk, bk = w[:4]
    gate = None
    if layer.use_gate:
        wg, bg = w[4:6]
        gate = 1 / (1 + np.exp(-(np.einsum("btf,fnh->btnh", q, wg) + bg)))
        w = w[:4] + w[6:]
    wv, bv, wo, bo = w[4:]
    qh = (np.einsum("btf,fnh->btnh", q, wq) + bq) / np.sqrt(layer.key_dim)
    kh = np.einsum("bsf,fnh->bsnh", k, wk) + bk
    vh = np.einsum("bsf,fnh->bsnh", v, wv) + bv
    scores = np.einsum("bsnh,btnh->bnts", kh, qh)
    t, s = q.shape[1], v.shape[1]
    keep = np.ones((q.shape[0], t, s), bool) if mask is None else mask.copy()
    if causal:
        keep &= np.tril(np.ones((t, s), bool))
    if window is not None:
        keep &= np.abs(np.arange(t)[:, None] - np.arange(s)[None]) < window
    keep = keep[:, None]
    probs = np.where(keep, softmax(np.where(keep, scores, -1e9)), 0.0)
    out = np.einsum("bnts,bsnh->btnh", probs, vh)
    if gate is not None:
        out = out * gate
    return np.einsum("btnh,nho->bto", out, wo) + bo, probs


def test_mha_weights_layout_and_formula_with_gate_and_window():
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, use_gate=True, sliding_window=2,
                               output_shape=5)
    layer(Q, V, K)
    shapes = [w.shape for w in layer.get_weights()]
    assert shapes == [(3, 2, 3), (2, 3), (3, 2, 3), (2, 3), (3, 2, 2), (2, 2), (3, 2, 2), (2, 2), (2, 2, 5), (5,)]
    layer.set_weights([RNG.uniform(-0.6, 0.6, s).astype("float32") for s in shapes])
    out, probs = layer(Q, V, K, return_attention_scores=True, use_causal_mask=True)
    want, want_p = mha_numpy(layer, Q, V, K, causal=True, window=2)
    np.testing.assert_allclose(numpy(out), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(numpy(probs), want_p, rtol=1e-5, atol=1e-6)


def test_mha_masks_from_inputs_combine_with_attention_mask():
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    q, v = Q.copy(), V.copy()
    q[1, 4:] = 0.0
    v[0, 2:] = 0.0
    mq, mv = Masking()(q), Masking()(v)
    given = RNG.uniform(size=(2, 5, 4)) > 0.3
    given[:, :, 0] = True
    out = layer(mq, mv, attention_mask=given)
    qm, vm = np.any(q != 0, -1), np.any(v != 0, -1)
    want, _ = mha_numpy(layer, q, v, mask=given & qm[:, :, None] & vm[:, None])
    np.testing.assert_allclose(numpy(out), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(numpy(out._keras_mask), qm)  # the query's mask passes on


def test_mha_symbolic_config_and_files(tmp_path):
    layer = MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.1)
    assert layer.get_config()["attention_axes"] is None

    def build():
        inputs = Input(shape=(5, 3))
        attended, scores = MultiHeadAttention(2, 4)(inputs, inputs, return_attention_scores=True,
                                                    use_causal_mask=True)
        assert attended.shape == (None, 5, 3) and scores.shape == (None, 2, 5, 5)
        h = layers.LayerNormalization()(layers.add([inputs, attended]))
        return models.Model(inputs, [Dense(1)(layers.GlobalMaxPooling1D()(h)), scores])

    check_saved_model(build, Q, tmp_path)
    layer(Q, V)
    serialized = layers.serialize(layer)
    assert serialized["build_config"] == {"shapes_dict": {"query_shape": [2, 5, 3], "value_shape": [2, 4, 3]}}
    clone = layers.deserialize(serialized)
    assert clone.built and clone.get_config() == layer.get_config()
    assert clone.get_config()["attention_axes"] == [1]
    np.testing.assert_allclose(numpy(layer(Q, V, training=False)), mha_numpy(layer, Q, V)[0], rtol=1e-5,
                               atol=1e-5)


def test_mha_trains_in_fit():
    torch.manual_seed(0)  # the initial weights and dropout: unseeded, 5 epochs went up in about 1 run of 12
    inputs = Input(shape=(5, 3))
    h = MultiHeadAttention(2, 4, dropout=0.1, seed=0)(inputs, inputs)
    model = models.Model(inputs, Dense(1)(LSTM(3)(h)))
    model.compile(optimizer="adam", loss="mse", device="cpu")
    target = Q.sum((1, 2))[:, None]
    history = model.fit(Q, target, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_errors():
    with pytest.raises(ValueError, match="list"):
        Attention()((Q, V))  # Keras rejects a tuple too
    with pytest.raises(ValueError, match="2 or 3"):
        Attention()([Q])
    with pytest.raises(ValueError, match="score_mode"):
        Attention(score_mode="general")
    with pytest.raises(ValueError, match="num_heads"):
        MultiHeadAttention(0, 4)
    with pytest.raises(ValueError, match="attention_axes"):
        MultiHeadAttention(2, 4, attention_axes=2)(Q, V)
    with pytest.raises(ValueError, match="3-D"):
        MultiHeadAttention(2, 4)(Q[:, 0], V[:, 0])
    with pytest.raises(ValueError, match="attention_mask"):
        MultiHeadAttention(2, 4)(Q, V, attention_mask=np.ones((2, 4, 5), bool))
    with pytest.raises(ValueError, match="flash_attention"):
        MultiHeadAttention(2, 4, flash_attention=True)
