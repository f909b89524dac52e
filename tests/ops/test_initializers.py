from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstmkit import initializers as I
from lstmkit.ops import initializers as ops_init

ALL_CLASSES = [I.Zeros, I.Ones, I.Constant, I.Identity, I.RandomNormal, I.TruncatedNormal, I.RandomUniform,
               I.VarianceScaling, I.GlorotUniform, I.GlorotNormal, I.HeUniform, I.HeNormal, I.LecunUniform,
               I.LecunNormal, I.Orthogonal]

NON_DEFAULT = [
    I.Zeros(), I.Ones(), I.Constant(3.5), I.Identity(gain=2.0),
    I.RandomNormal(mean=1.0, stddev=0.2, seed=3), I.TruncatedNormal(mean=-1.0, stddev=0.3, seed=4),
    I.RandomUniform(minval=-2.0, maxval=5.0, seed=5),
    I.VarianceScaling(scale=2.5, mode="fan_out", distribution="uniform", seed=6, input_axes=[0],
                      output_axes=[1]),
    I.GlorotUniform(seed=7), I.GlorotNormal(seed=8), I.HeUniform(seed=9), I.HeNormal(seed=10),
    I.LecunUniform(seed=11), I.LecunNormal(seed=12, input_axes=[0], output_axes=[1]),
    I.Orthogonal(gain=0.5, seed=13),
]


def test_glorot_uniform_bounds_and_variance():
    torch.manual_seed(0)
    w = I.GlorotUniform()((400, 600))
    limit = math.sqrt(6.0 / 1000)
    assert w.shape == (400, 600) and w.dtype == torch.float32
    assert float(w.abs().max()) <= limit
    assert float(w.abs().max()) > 0.99 * limit
    assert float(w.var()) == pytest.approx(limit ** 2 / 3, rel=0.03)
    assert abs(float(w.mean())) < 0.01 * limit


def test_truncated_normal_is_cut_at_two_stddev():
    w = I.TruncatedNormal(mean=1.0, stddev=0.5, seed=1)((500, 400))
    assert float((w - 1.0).abs().max()) < 2 * 0.5
    assert float(w.std()) == pytest.approx(0.87962566 * 0.5, rel=0.02)
    assert float(w.mean()) == pytest.approx(1.0, abs=0.01)


def test_random_normal_and_uniform_statistics():
    n = I.RandomNormal(mean=2.0, stddev=3.0, seed=0)((200_000,))
    assert float(n.mean()) == pytest.approx(2.0, abs=0.05)
    assert float(n.std()) == pytest.approx(3.0, rel=0.02)
    u = I.RandomUniform(minval=-1.0, maxval=3.0, seed=0)((200_000,))
    assert float(u.min()) >= -1.0 and float(u.max()) < 3.0
    assert float(u.mean()) == pytest.approx(1.0, abs=0.02)
    assert float(u.var()) == pytest.approx(16.0 / 12, rel=0.03)


@pytest.mark.parametrize("mode,fan", [("fan_in", 300), ("fan_out", 500), ("fan_avg", 400)])
def test_variance_scaling_truncated_std(mode, fan):
    w = I.VarianceScaling(scale=2.0, mode=mode, seed=2)((300, 500))
    expected = math.sqrt(2.0 / fan)
    assert float(w.std()) == pytest.approx(expected, rel=0.03)
    assert float(w.abs().max()) < 2 * expected / 0.87962566103423978


def test_variance_scaling_untruncated_and_uniform():
    w = I.VarianceScaling(scale=3.0, distribution="untruncated_normal", seed=0)((300, 400))
    assert float(w.std()) == pytest.approx(math.sqrt(3.0 / 300), rel=0.03)
    assert float(w.abs().max()) > 3 * math.sqrt(3.0 / 300)  # tails are not cut
    u = I.VarianceScaling(scale=3.0, mode="fan_out", distribution="uniform", seed=0)((300, 400))
    limit = math.sqrt(9.0 / 400)
    assert float(u.abs().max()) <= limit
    assert float(u.var()) == pytest.approx(limit ** 2 / 3, rel=0.03)


def test_presets_match_keras_formulas():
    shape = (300, 500)
    he = I.HeNormal(seed=0)(shape)
    assert float(he.std()) == pytest.approx(math.sqrt(2 / 300), rel=0.03)
    lecun = I.LecunNormal(seed=0)(shape)
    assert float(lecun.std()) == pytest.approx(math.sqrt(1 / 300), rel=0.03)
    glorot_n = I.GlorotNormal(seed=0)(shape)
    assert float(glorot_n.std()) == pytest.approx(math.sqrt(2 / 800), rel=0.03)
    assert float(I.HeUniform(seed=0)(shape).abs().max()) <= math.sqrt(6 / 300)
    assert float(I.LecunUniform(seed=0)(shape).abs().max()) <= math.sqrt(3 / 300)
    g = I.GlorotUniform(seed=0)
    assert (g.scale, g.mode, g.distribution) == (1.0, "fan_avg", "uniform")


def test_legacy_normal_distribution_means_truncated():
    assert I.VarianceScaling(distribution="Normal").distribution == "truncated_normal"


def test_compute_fans():
    assert ops_init.compute_fans((7,)) == (7, 7)
    assert ops_init.compute_fans((3, 5)) == (3, 5)
    assert ops_init.compute_fans((3, 4, 5)) == (12, 15)
    assert ops_init.compute_fans((2, 3, 4, 5)) == (24, 30)
    assert ops_init.compute_fans((3, 4, 5), input_axes=[0, 1], output_axes=[2]) == (12, 5)
    # only one of the two: Keras falls back to the default rule
    assert ops_init.compute_fans((3, 4, 5), input_axes=[0]) == (12, 15)


def test_conv_shape_uses_receptive_field():
    w = I.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=0)((3, 4, 5))
    assert float(w.abs().max()) <= math.sqrt(3.0 / 12)
    w = I.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform", seed=0,
                          input_axes=[0], output_axes=[2])((3, 4, 5))
    assert float(w.abs().max()) <= math.sqrt(3.0 / 3)


@pytest.mark.parametrize("shape", [(4, 16), (16, 4), (8, 8), (2, 3, 12)])
def test_orthogonal(shape):
    w = I.Orthogonal(seed=0)(shape)
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    rows, cols = m.shape
    gram = m @ m.T if rows < cols else m.T @ m
    assert torch.allclose(gram, torch.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_gain_and_rank_check():
    w = I.Orthogonal(gain=3.0, seed=1)((6, 6))
    assert torch.allclose(w @ w.T, 9.0 * torch.eye(6), atol=1e-4)
    assert torch.allclose(w, 3.0 * I.Orthogonal(seed=1)((6, 6)), atol=1e-6)
    with pytest.raises(ValueError, match="rank >= 2"):
        I.Orthogonal()((5,))


def test_identity():
    assert torch.equal(I.Identity(gain=2.0)((2, 3)), torch.tensor([[2.0, 0, 0], [0, 2.0, 0]]))
    with pytest.raises(ValueError, match="2-D"):
        I.Identity()((2, 2, 2))


def test_constants_and_dtypes():
    assert torch.equal(I.Zeros()((2, 3)), torch.zeros(2, 3))
    assert torch.equal(I.Ones()((2,), dtype="int64"), torch.ones(2, dtype=torch.int64))
    c = I.Constant(0.25)((3, 2), dtype=torch.float64)
    assert c.dtype == torch.float64 and torch.all(c == 0.25)
    assert I.GlorotUniform(seed=0)((3, 3), dtype="float64").dtype == torch.float64
    with pytest.raises(TypeError, match="floating-point"):
        I.RandomNormal()((2, 2), dtype=torch.int32)
    with pytest.raises(TypeError, match="scalar"):
        I.Constant([1.0, 2.0])


@pytest.mark.parametrize("cls", [I.RandomNormal, I.TruncatedNormal, I.RandomUniform, I.VarianceScaling,
                                 I.GlorotUniform, I.HeNormal, I.Orthogonal])
def test_seeded_initializer_repeats_and_seed_matters(cls):
    a = cls(seed=42)((16, 8))
    assert torch.equal(a, cls(seed=42)((16, 8)))
    init = cls(seed=42)
    assert torch.equal(init((16, 8)), init((16, 8)))  # same values on every call, as Keras 3
    assert not torch.equal(a, cls(seed=43)((16, 8)))


def test_unseeded_follows_torch_global_rng():
    torch.manual_seed(123)
    a = I.GlorotUniform()((10, 10))
    b = I.GlorotUniform()((10, 10))
    torch.manual_seed(123)
    assert torch.equal(a, I.GlorotUniform()((10, 10)))
    assert not torch.equal(a, b)


def test_argument_validation():
    with pytest.raises(ValueError, match="stddev"):
        I.RandomNormal(stddev=-1.0)
    with pytest.raises(ValueError, match="stddev"):
        I.TruncatedNormal(stddev=-0.1)
    with pytest.raises(ValueError, match="minval <= maxval"):
        I.RandomUniform(minval=1.0, maxval=0.0)
    with pytest.raises(ValueError, match="positive"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="fan_avg"):
        I.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="untruncated_normal"):
        I.VarianceScaling(distribution="cauchy")
    with pytest.raises(TypeError, match="seed"):
        I.GlorotUniform(seed="abc")
    with pytest.raises(ValueError, match="shape"):
        I.Zeros()((2, -1))


def test_exact_keras_serialized_forms():
    assert I.serialize(I.GlorotUniform()) == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None, "input_axes": None, "output_axes": None}, "registered_name": None}
    assert I.serialize(I.Orthogonal()) == {
        "module": "keras.initializers", "class_name": "Orthogonal",
        "config": {"seed": None, "gain": 1.0}, "registered_name": None}
    assert I.VarianceScaling().get_config() == {
        "seed": None, "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
        "input_axes": None, "output_axes": None}
    assert I.RandomNormal().get_config() == {"seed": None, "mean": 0.0, "stddev": 0.05}
    assert I.TruncatedNormal().get_config() == {"seed": None, "mean": 0.0, "stddev": 0.05}
    assert I.RandomUniform().get_config() == {"seed": None, "minval": -0.05, "maxval": 0.05}
    assert I.Constant().get_config() == {"value": 0.0}
    assert I.Identity().get_config() == {"gain": 1.0}
    assert I.Zeros().get_config() == {} and I.Ones().get_config() == {}


@pytest.mark.parametrize("init", NON_DEFAULT, ids=lambda i: type(i).__name__)
def test_config_round_trip(init):
    data = I.serialize(init)
    assert data["module"] == "keras.initializers" and data["class_name"] == type(init).__name__
    back = I.deserialize(data)
    assert type(back) is type(init) and back.get_config() == init.get_config()
    without_module = {k: v for k, v in data.items() if k != "module"}
    assert I.get(without_module).get_config() == init.get_config()
    shape = (4, 4)
    assert torch.equal(back(shape), init(shape))  # seeded or deterministic: same values


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_get_by_class_name_and_snake_name(cls):
    from lstmkit.ops.serialization import snake_case
    assert type(I.get(cls.__name__)) is cls
    assert type(I.get(snake_case(cls.__name__))) is cls
    assert type(I.get(cls)) is cls


@pytest.mark.parametrize("name,cls", [("uniform", I.RandomUniform), ("normal", I.RandomNormal),
                                      ("zero", I.Zeros), ("one", I.Ones), ("orthogonal", I.Orthogonal),
                                      ("OrthogonalInitializer", I.Orthogonal),
                                      ("IdentityInitializer", I.Identity),
                                      ("glorot_uniform", I.GlorotUniform), ("he_normal", I.HeNormal),
                                      ("lecun_uniform", I.LecunUniform), ("identity", I.Identity)])
def test_keras_aliases(name, cls):
    assert type(I.get(name)) is cls


def test_get_passthrough_and_errors():
    init = I.HeUniform(seed=1)
    assert I.get(init) is init
    assert I.get(None) is None
    with pytest.raises(ValueError, match="glorot_uniform.*received 'glorot_unifrom'"):
        I.get("glorot_unifrom")
    with pytest.raises(ValueError, match="one of .*orthogonal"):
        I.get({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match="initializer"):
        I.get(3.5)
    with pytest.raises(ValueError, match="unknown keys"):
        I.get({"class_name": "GlorotUniform", "config": {"seed": None, "bogus": 1}})


def test_keras2_style_config_loads():
    # Keras 2 / early Keras 3 wrote only the seed for GlorotUniform.
    init = I.get({"class_name": "GlorotUniform", "config": {"seed": 5}})
    assert init.get_config() == {"seed": 5, "input_axes": None, "output_axes": None}


def test_plain_callables_are_wrapped():
    def halves(shape, dtype=None):
        return np.full(shape, 0.5)

    init = I.get(halves)
    assert isinstance(init, I.Initializer)
    out = init((2, 3))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32 and torch.all(out == 0.5)
    assert init((2,), dtype="float64").dtype == torch.float64
    assert I.serialize(init)["class_name"] == "function"
    assert I.serialize(init)["config"] == "halves"

    torch_init = I.get(lambda shape, dtype=None: torch.arange(float(np.prod(shape))).reshape(shape))
    assert torch.equal(torch_init((2, 2)), torch.tensor([[0.0, 1.0], [2.0, 3.0]]))
