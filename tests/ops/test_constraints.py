from __future__ import annotations

import pytest
import torch

from lstmkit import constraints as C

EPS = 1e-7
# column norms over axis 0: 5 and 0.5
W = torch.tensor([[3.0, 0.3], [4.0, -0.4]])


def test_max_norm_clips_column_norms():
    out = C.MaxNorm(max_value=2.0)(W)
    expected = torch.stack([W[:, 0] * (2.0 / (EPS + 5.0)), W[:, 1] * (0.5 / (EPS + 0.5))], dim=1)
    assert torch.allclose(out, expected, atol=0, rtol=1e-6)
    norms = out.norm(dim=0)
    assert torch.allclose(norms, torch.tensor([2.0, 0.5]), atol=1e-5)


def test_max_norm_axis_1_and_list_axis():
    out = C.MaxNorm(max_value=1.0, axis=1)(W)  # row norms sqrt(9.09), sqrt(16.16)
    assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)
    k = torch.randn(3, 4, 5) * 10
    out = C.MaxNorm(max_value=1.0, axis=[0, 1])(k)
    assert torch.all(out.square().sum(dim=(0, 1)).sqrt() <= 1.0 + 1e-5)


def test_unit_norm():
    out = C.UnitNorm()(W)
    expected = W / (EPS + torch.tensor([[5.0, 0.5]]))
    assert torch.allclose(out, expected, rtol=1e-6, atol=0)
    assert torch.allclose(out.norm(dim=0), torch.ones(2), atol=1e-5)


def test_non_neg():
    assert torch.equal(C.NonNeg()(torch.tensor([-1.0, 0.0, 2.5])), torch.tensor([0.0, 0.0, 2.5]))


def test_min_max_norm_with_partial_rate():
    # norms 5 and 0.5, interval [1, 2], rate 0.5: desired = 0.5*clip + 0.5*n -> 3.5 and 0.75
    out = C.MinMaxNorm(min_value=1.0, max_value=2.0, rate=0.5)(W)
    expected = torch.stack([W[:, 0] * (3.5 / (EPS + 5.0)), W[:, 1] * (0.75 / (EPS + 0.5))], dim=1)
    assert torch.allclose(out, expected, rtol=1e-6, atol=0)
    strict = C.MinMaxNorm(min_value=1.0, max_value=2.0)(W)
    assert torch.allclose(strict.norm(dim=0), torch.tensor([2.0, 1.0]), atol=1e-5)


def test_zero_column_stays_zero():
    w = torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert torch.equal(C.UnitNorm()(w)[:, 0], torch.zeros(2))
    assert torch.equal(C.MaxNorm(1.0)(w)[:, 0], torch.zeros(2))


def test_validation():
    with pytest.raises(ValueError, match="max_value"):
        C.MaxNorm(max_value=-1)
    with pytest.raises(ValueError, match="min_value <= max_value"):
        C.MinMaxNorm(min_value=2.0, max_value=1.0)
    with pytest.raises(ValueError, match="rate"):
        C.MinMaxNorm(rate=1.5)
    with pytest.raises(TypeError, match="axis"):
        C.UnitNorm(axis="rows")
    with pytest.raises(ValueError, match="axis"):
        C.UnitNorm(axis=2)(W)


def test_configs_and_serialized_form():
    assert C.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert C.UnitNorm().get_config() == {"axis": 0}
    assert C.NonNeg().get_config() == {}
    assert C.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert C.serialize(C.MaxNorm(3)) == {"module": "keras.constraints", "class_name": "MaxNorm",
                                        "config": {"max_value": 3, "axis": 0}, "registered_name": None}


@pytest.mark.parametrize("c", [C.MaxNorm(1.5, axis=[0, 1]), C.NonNeg(), C.UnitNorm(axis=1),
                               C.MinMaxNorm(0.5, 2.0, 0.3, 1)], ids=lambda c: type(c).__name__)
def test_round_trip(c):
    data = C.serialize(c)
    back = C.deserialize(data)
    assert type(back) is type(c) and back.get_config() == c.get_config()
    assert C.get({k: v for k, v in data.items() if k != "module"}).get_config() == c.get_config()
    assert torch.equal(back(W), c(W))


@pytest.mark.parametrize("name,cls", [("max_norm", C.MaxNorm), ("MaxNorm", C.MaxNorm),
                                      ("non_neg", C.NonNeg), ("NonNeg", C.NonNeg),
                                      ("unit_norm", C.UnitNorm), ("UnitNorm", C.UnitNorm),
                                      ("min_max_norm", C.MinMaxNorm), ("MinMaxNorm", C.MinMaxNorm)])
def test_get_by_name(name, cls):
    assert type(C.get(name)) is cls


def test_get_other_identifiers():
    c = C.NonNeg()
    assert C.get(c) is c and C.get(None) is None and type(C.get(C.UnitNorm)) is C.UnitNorm
    with pytest.raises(ValueError, match="one of .*max_norm.*received 'maxnorms'"):
        C.get("maxnorms")
    wrapped = C.get(lambda w: w * 2)
    assert isinstance(wrapped, C.Constraint) and torch.equal(wrapped(W), W * 2)


class _Cell(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.kernel = torch.nn.Parameter(W.clone())
        self.bias = torch.nn.Parameter(torch.tensor([-1.0, 2.0]))
        self.free = torch.nn.Parameter(torch.tensor([-5.0]))
        self._constraints = {"kernel": C.MaxNorm(1.0), "bias": C.get("non_neg"), "free": None}


def test_apply_constraints_on_module():
    model = torch.nn.Sequential(_Cell(), torch.nn.Linear(2, 2))
    cell = model[0]
    kernel_param = cell.kernel
    linear_before = model[1].weight.detach().clone()
    C.apply_constraints(model)
    assert cell.kernel is kernel_param  # updated in place, optimizer state stays attached
    assert torch.allclose(cell.kernel.norm(dim=0), torch.tensor([1.0, 0.5]), atol=1e-5)
    assert torch.equal(cell.bias.detach(), torch.tensor([0.0, 2.0]))
    assert torch.equal(cell.free.detach(), torch.tensor([-5.0]))
    assert torch.equal(model[1].weight.detach(), linear_before)
    assert cell.kernel.requires_grad and cell.kernel.grad is None


def test_apply_constraints_after_optimizer_step():
    cell = _Cell()
    opt = torch.optim.SGD(cell.parameters(), lr=1.0)
    (-(cell.bias.sum()) * 10 + cell.kernel.sum() * -10).backward()
    opt.step()
    C.apply_constraints(cell)
    assert torch.all(cell.kernel.detach().norm(dim=0) <= 1.0 + 1e-5)
    assert torch.all(cell.bias.detach() >= 0)


def test_apply_constraints_unknown_parameter():
    cell = _Cell()
    cell._constraints = {"kernal": C.NonNeg()}
    with pytest.raises(ValueError, match="kernal"):
        C.apply_constraints(cell)
