from __future__ import annotations

import math

import pytest
import torch

from lstmkit import regularizers as R

W = torch.tensor([[1.0, -2.0], [3.0, -4.0]])  # sum|w| = 10, sum w^2 = 30


def test_penalties_on_known_tensor():
    assert float(R.L1(0.1)(W)) == pytest.approx(1.0)
    assert float(R.L2(0.1)(W)) == pytest.approx(3.0)
    assert float(R.L1L2(l1=0.1, l2=0.01)(W)) == pytest.approx(1.0 + 0.3)
    assert float(R.L1L2()(W)) == 0.0
    assert float(R.L1()(W)) == pytest.approx(0.1)  # default 0.01
    assert float(R.L2()(W)) == pytest.approx(0.3)


def test_penalty_is_a_differentiable_scalar_tensor():
    w = W.clone().requires_grad_(True)
    p = R.L2(0.5)(w)
    assert isinstance(p, torch.Tensor) and p.shape == () and p.dtype == torch.float32
    p.backward()
    assert torch.allclose(w.grad, 2 * 0.5 * W)
    assert R.L1(0.1)(W.double()).dtype == torch.float64


def test_orthogonal_regularizer_formula():
    # rows (1, 0), (1, 1)/sqrt2, (0, 1): cosines 1/sqrt2, 0, 1/sqrt2 over 3 pairs
    w = torch.tensor([[2.0, 0.0], [1.0, 1.0], [0.0, 3.0]])
    expected = 0.5 * 0.5 * (2 * (2 / math.sqrt(2))) / 3  # factor*0.5*sum|offdiag|/pairs
    assert float(R.OrthogonalRegularizer(factor=0.5)(w)) == pytest.approx(expected, rel=1e-6)
    assert float(R.OrthogonalRegularizer(factor=1.0)(torch.eye(4))) == pytest.approx(0.0, abs=1e-7)
    cols = R.OrthogonalRegularizer(factor=0.5, mode="columns")(w.T)
    assert float(cols) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(ValueError, match="2-D"):
        R.OrthogonalRegularizer()(torch.ones(2, 2, 2))
    with pytest.raises(ValueError, match="rows"):
        R.OrthogonalRegularizer(mode="diagonal")


def test_validation():
    with pytest.raises(ValueError, match="non-negative"):
        R.L1(-0.1)
    with pytest.raises(ValueError, match="non-negative"):
        R.L1L2(l2=-1.0)
    with pytest.raises(ValueError, match="non-negative"):
        R.L2(float("nan"))
    with pytest.raises(TypeError, match="l1"):
        R.L1("big")
    assert R.L1(None).l1 == 0.01 and R.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}


def test_configs_and_serialized_form():
    assert R.L1(0.2).get_config() == {"l1": 0.2}
    assert R.L2(1).get_config() == {"l2": 1.0} and isinstance(R.L2(1).l2, float)
    assert R.L1L2(0.1, 0.2).get_config() == {"l1": 0.1, "l2": 0.2}
    assert R.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    assert R.serialize(R.L2(0.5)) == {"module": "keras.regularizers", "class_name": "L2",
                                     "config": {"l2": 0.5}, "registered_name": None}


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.4), R.L1L2(0.1, 0.2),
                                 R.OrthogonalRegularizer(0.2, "columns")], ids=lambda r: type(r).__name__)
def test_round_trip(reg):
    data = R.serialize(reg)
    back = R.deserialize(data)
    assert type(back) is type(reg) and back.get_config() == reg.get_config()
    assert R.get({k: v for k, v in data.items() if k != "module"}).get_config() == reg.get_config()
    assert float(back(W)) == pytest.approx(float(reg(W)))


@pytest.mark.parametrize("name,cls", [("l1", R.L1), ("L1", R.L1), ("l2", R.L2), ("L2", R.L2),
                                      ("L1L2", R.L1L2), ("l1_l2", R.L1L2),
                                      ("orthogonal_regularizer", R.OrthogonalRegularizer),
                                      ("OrthogonalRegularizer", R.OrthogonalRegularizer)])
def test_get_by_name(name, cls):
    assert type(R.get(name)) is cls


def test_name_defaults():
    assert R.get("l1").l1 == 0.01 and R.get("l2").l2 == 0.01
    assert R.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}  # Keras's documented string default
    assert R.get("L1L2").get_config() == {"l1": 0.0, "l2": 0.0}  # class defaults
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2


def test_get_other_identifiers():
    reg = R.L2(0.1)
    assert R.get(reg) is reg and R.get(None) is None
    assert type(R.get(R.L1)) is R.L1
    with pytest.raises(ValueError, match="one of .*l1_l2.*received 'l3'"):
        R.get("l3")
    with pytest.raises(TypeError):
        R.get(0.1)


def test_plain_callable_is_wrapped():
    def total(w):
        return float(w.sum())

    reg = R.get(total)
    assert isinstance(reg, R.Regularizer)
    out = reg(W)
    assert isinstance(out, torch.Tensor) and float(out) == pytest.approx(-2.0)
    assert R.serialize(reg)["class_name"] == "function"
