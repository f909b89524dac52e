"""Keras's dtype policies and dynamic loss scaling (issue 16)."""

import numpy as np
import pytest
import torch

from lstmkit import mixed_precision, optimizers
from lstmkit.layers import LSTM, Dense
from lstmkit.mixed_precision import DTypePolicy, LossScaleOptimizer, Policy
from lstmkit.models import Sequential, load_model
from lstmkit.ops import fused

X = np.random.default_rng(0).random((16, 5, 2)).astype("float32")
Y = np.random.default_rng(1).random((16, 1)).astype("float32")


@pytest.fixture(autouse=True)
def _restore_global_policy():
    yield
    mixed_precision.set_global_policy("float32")


def test_policies_name_keras_compute_and_variable_dtypes():
    assert Policy is DTypePolicy
    for name, compute, variable in (("float32", "float32", "float32"), ("float64", "float64", "float64"),
                                    ("bfloat16", "bfloat16", "bfloat16"),
                                    ("mixed_bfloat16", "bfloat16", "float32"),
                                    ("mixed_float16", "float16", "float32")):
        policy = DTypePolicy(name)
        assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
        assert DTypePolicy.from_config(policy.get_config()) == policy
    with pytest.raises(ValueError, match="received 'mixed_int8'"):
        DTypePolicy("mixed_int8")


def test_the_global_policy_applies_to_layers_created_afterwards():
    before = LSTM(2)
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.global_policy().name == "mixed_bfloat16"
    after, explicit = LSTM(2), Dense(1, dtype="float32")
    assert before.dtype_name == "float32" and explicit.dtype_name == "float32"
    assert after.dtype_policy == DTypePolicy("mixed_bfloat16") and after.cell.dtype_name == "mixed_bfloat16"
    assert after.get_config()["dtype"]["config"]["name"] == "mixed_bfloat16"


@pytest.mark.parametrize("name, compute", [("mixed_bfloat16", torch.bfloat16), ("mixed_float16", torch.float16)])
def test_a_mixed_layer_keeps_float32_weights_and_computes_in_the_low_precision(name, compute):
    torch.manual_seed(0)
    reference = LSTM(4, return_sequences=True)
    mixed = LSTM(4, return_sequences=True, dtype=name)
    x = torch.as_tensor(X)
    expected = reference(x)
    mixed.load_state_dict(reference.state_dict())
    out = mixed(x)
    assert out.dtype == compute and mixed.cell.kernel.dtype == torch.float32
    # low precision on CPU: the native kernel where oneDNN computes the dtype for an LSTM, else the reference
    assert mixed.last_path == ("fused" if fused._onednn_has(compute) else "reference")
    torch.testing.assert_close(out.float(), expected, rtol=0.05, atol=0.03)
    out.float().sum().backward()
    assert mixed.cell.kernel.grad.dtype == torch.float32  # gradients reach the float32 weights


def test_a_float32_layer_inside_a_mixed_model_computes_in_float32():
    mixed_precision.set_global_policy("mixed_bfloat16")
    model = Sequential([LSTM(3, input_shape=(5, 2)), Dense(1, dtype="float32")])
    assert model(torch.as_tensor(X)).dtype == torch.float32


@pytest.mark.parametrize("name, optimizer_class", [("mixed_bfloat16", "Adam"), ("mixed_float16", "LossScaleOptimizer")])
def test_fit_under_a_global_mixed_policy_and_reload(name, optimizer_class, tmp_path):
    mixed_precision.set_global_policy(name)
    torch.manual_seed(0)
    model = Sequential([LSTM(4), Dense(1, dtype="float32")])
    model.compile("adam", "mse")
    assert type(model.optimizer).__name__ == optimizer_class  # Keras wraps float16 training in a loss scale
    history = model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.layers[0].cell.kernel.dtype == torch.float32
    predicted = model.predict(X, verbose=0)
    assert predicted.dtype == np.float32
    model.save(tmp_path / "m.keras")
    mixed_precision.set_global_policy("float32")
    loaded = load_model(tmp_path / "m.keras")
    assert loaded.layers[0].dtype_name == name
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), predicted)


def test_loss_scale_optimizer_follows_keras_dynamic_rule():
    weight = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    inner = torch.optim.SGD([weight], lr=0.1)
    opt = LossScaleOptimizer(inner, initial_scale=8.0, dynamic_growth_steps=2)
    loss = opt.scale_loss((weight ** 2).sum())
    assert float(loss) == 8.0 * 5.0
    loss.backward()
    opt.step()  # gradients unscaled before the update: 2w
    torch.testing.assert_close(weight.detach(), torch.tensor([0.8, 1.6]))
    assert opt.dynamic_scale == 8.0 and opt.step_counter == 1
    opt.zero_grad()
    opt.scale_loss((weight ** 2).sum()).backward()
    opt.step()
    assert opt.dynamic_scale == 16.0 and opt.step_counter == 0  # doubled after 2 finite steps
    opt.zero_grad()
    weight.grad = torch.tensor([float("inf"), 0.0])
    kept = weight.detach().clone()
    opt.step()  # a non-finite gradient: the step is skipped and the scale halved
    assert torch.equal(weight.detach(), kept) and opt.dynamic_scale == 8.0 and opt.step_counter == 0
    state = opt.state_dict()
    other = LossScaleOptimizer(torch.optim.SGD([weight], lr=0.1))
    other.load_state_dict(state)
    assert other.dynamic_scale == 8.0


def test_loss_scale_optimizer_round_trips_keras_config_and_rejects_bad_arguments():
    opt = LossScaleOptimizer(optimizers.Adam(learning_rate=0.01), initial_scale=1024, dynamic_growth_steps=10)
    assert optimizers.LossScaleOptimizer is LossScaleOptimizer  # keras.optimizers exports it too
    restored = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(restored, LossScaleOptimizer) and restored.initial_scale == 1024.0
    assert restored.dynamic_growth_steps == 10 and restored.learning_rate == pytest.approx(0.01)
    with pytest.raises(TypeError, match="inner_optimizer expects an optimizer"):
        LossScaleOptimizer("adam")
    with pytest.raises(ValueError, match="initial_scale expects a positive number"):
        LossScaleOptimizer(optimizers.Adam(), initial_scale=0)
