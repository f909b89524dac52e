"""The all-parameters-at-once update (models.flat_update) equals the per-parameter rule bit for bit."""

import pytest
import torch

from lstmkit.optimizers import flat_update
from lstmkit.optimizers import optimizers as optimizers_mod
CASES = [(name, {}) for name in optimizers_mod.ALL_OPTIMIZERS] + [
    ("sgd", {"momentum": 0.9, "nesterov": True}), ("adam", {"amsgrad": True}), ("rmsprop", {"momentum": 0.5,
                                                                                            "centered": True}),
    ("adamw", {"clipnorm": 0.5}), ("adam", {"use_ema": True})]


def train(name, kwargs, flat, reload_at=None):
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(*s)) for s in [(3, 8), (2, 8), (8,), (8, 1), (1,)]]
    opt = optimizers_mod.ALL_OPTIMIZERS[name](**kwargs)
    opt.build(params)
    saved = set(flat_update.ELEMENTWISE_UPDATES)
    if not flat:
        flat_update.ELEMENTWISE_UPDATES.clear()
    try:
        for i in range(6):
            if i == reload_at:  # a state put back from outside replaces the flat buffers' views
                opt.load_state_dict({**opt.state_dict(), "state": {k: {s: v.clone() for s, v in slots.items()}
                                                                   for k, slots in opt.state_dict()["state"].items()}})
            for p in params:
                p.grad = torch.randn_like(p) * (i + 1)
            opt.step()
    finally:
        flat_update.ELEMENTWISE_UPDATES.update(saved)
    return params, opt.state_dict()["state"]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_flat_update_equals_per_parameter_update(name, kwargs):
    flat_params, flat_state = train(name, kwargs, flat=True)
    ref_params, ref_state = train(name, kwargs, flat=False)
    for a, b in zip(flat_params, ref_params):
        assert torch.equal(a, b)
    for index, slots in ref_state.items():
        for slot, value in slots.items():
            assert torch.equal(flat_state[index][slot], value), (index, slot)


def test_flat_update_survives_a_reloaded_state():
    reloaded, _ = train("adam", {}, flat=True, reload_at=3)
    reference, _ = train("adam", {}, flat=False)
    for a, b in zip(reloaded, reference):
        assert torch.equal(a, b)


def test_custom_update_rule_is_not_flattened():
    class NormScaled(optimizers_mod.SGD):  # not elementwise: must run per parameter
        def update_step(self, gradient, variable, state, c):
            variable.sub_(gradient / gradient.norm())

    params = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    opt = NormScaled(learning_rate=1.0)
    opt.build(params)
    params[0].grad, params[1].grad = torch.tensor([3.0, 4.0]), torch.tensor([1.0, 0.0, 0.0])
    opt.step()
    torch.testing.assert_close(params[0].detach(), torch.tensor([1 - 0.6, 1 - 0.8]))
    torch.testing.assert_close(params[1].detach(), torch.tensor([0.0, 1.0, 1.0]))
