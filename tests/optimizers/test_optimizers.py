"""Optimizers: Keras's update rules against NumPy references written out here, plus the Keras API around them.

The references run in float64 from Keras's formulas; the optimizers run on float32 parameters. A few
tests also emulate Keras's float32 operation order in NumPy and require bit-equal results.
"""

import copy
import json
import warnings

import numpy as np
import pytest
import torch

from lstmkit import optimizers
from lstmkit.optimizers import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, Optimizer, RMSprop,
                                schedules)

RNG = np.random.default_rng(1234)
INIT = [RNG.standard_normal((3, 4)).astype(np.float32), RNG.standard_normal(5).astype(np.float32)]
GRADS = [[(RNG.standard_normal(w.shape) * 0.1).astype(np.float32) for w in INIT] for _ in range(6)]
RTOL, ATOL = 0.0, 1e-6


def parameters(init=INIT, dtype=torch.float32):
    return [torch.nn.Parameter(torch.tensor(w, dtype=dtype)) for w in init]


def run(opt, grads=GRADS, init=INIT, params=None):
    """Build on fresh parameters, apply each step's gradients, return the weights as NumPy arrays."""
    params = parameters(init) if params is None else params
    opt.build(params)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g, dtype=p.dtype)
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def reference(update, init=INIT, grads=GRADS, **hyper):
    """Apply a per-parameter float64 reference rule ``update(w, g, t, state, **hyper)`` step by step."""
    weights = [w.astype(np.float64) for w in init]
    states = [{} for _ in init]
    for t, step in enumerate(grads, start=1):
        weights = [update(w, g.astype(np.float64), t, s, **hyper) for w, g, s in zip(weights, step, states)]
    return weights


def assert_matches(ours, ref, rtol=RTOL, atol=ATOL):
    for o, r in zip(ours, ref):
        assert o.dtype == np.float32
        np.testing.assert_allclose(o, r, rtol=rtol, atol=atol)


# -- float64 references, written from Keras's update rules -------------------------------------------
def sgd_rule(w, g, t, s, lr=0.01, momentum=0.0, nesterov=False):
    if momentum == 0:
        return w - lr * g
    s["m"] = momentum * s.get("m", 0.0) - lr * g
    return w + (momentum * s["m"] - lr * g if nesterov else s["m"])


def adam_rule(w, g, t, s, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    s["m"] = s.get("m", 0.0) + (g - s.get("m", 0.0)) * (1 - beta_1)
    s["v"] = s.get("v", 0.0) + (g * g - s.get("v", 0.0)) * (1 - beta_2)
    v = s["v"]
    if amsgrad:
        s["v_hat"] = v = np.maximum(s.get("v_hat", 0.0), s["v"])
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return w - alpha * s["m"] / (np.sqrt(v) + epsilon)


def nadam_rule(w, g, t, s, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    u_t = beta_1 * (1 - 0.5 * 0.96 ** t)
    u_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    s["u_product"] = s.get("u_product", 1.0) * u_t
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g * g
    m_hat = u_next * s["m"] / (1 - s["u_product"] * u_next) + (1 - u_t) * g / (1 - s["u_product"])
    v_hat = s["v"] / (1 - beta_2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon)


def rmsprop_rule(w, g, t, s, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g * g
    denominator = s["v"] + epsilon
    if centered:
        s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
        denominator = denominator - s["a"] ** 2
    increment = lr * g / np.sqrt(denominator)
    if momentum > 0:
        s["mom"] = momentum * s.get("mom", 0.0) + increment
        increment = s["mom"]
    return w - increment


def adagrad_rule(w, g, t, s, lr=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    s["acc"] = s.get("acc", initial_accumulator_value) + g * g
    return w - lr * g / np.sqrt(s["acc"] + epsilon)


def adamax_rule(w, g, t, s, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["u"] = np.maximum(beta_2 * s.get("u", 0.0), np.abs(g))
    return w - lr / (1 - beta_1 ** t) * s["m"] / (s["u"] + epsilon)


def adadelta_rule(w, g, t, s, lr=0.001, rho=0.95, epsilon=1e-7):
    s["eg"] = rho * s.get("eg", 0.0) + (1 - rho) * g * g
    delta = -np.sqrt(s.get("ed", 0.0) + epsilon) / np.sqrt(s["eg"] + epsilon) * g
    s["ed"] = rho * s.get("ed", 0.0) + (1 - rho) * delta * delta
    return w + lr * delta


@pytest.mark.parametrize("opt, rule, hyper", [
    (SGD(0.1), sgd_rule, dict(lr=0.1)),
    (SGD(0.1, momentum=0.9), sgd_rule, dict(lr=0.1, momentum=0.9)),
    (SGD(0.1, momentum=0.9, nesterov=True), sgd_rule, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (Adam(0.01), adam_rule, dict(lr=0.01)),
    (Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-3), adam_rule, dict(lr=0.01, beta_1=0.8, beta_2=0.99,
                                                                       epsilon=1e-3)),
    (Adam(0.01, amsgrad=True), adam_rule, dict(lr=0.01, amsgrad=True)),
    (Nadam(0.01), nadam_rule, dict(lr=0.01)),
    (RMSprop(0.01), rmsprop_rule, dict(lr=0.01)),
    (RMSprop(0.01, momentum=0.5), rmsprop_rule, dict(lr=0.01, momentum=0.5)),
    (RMSprop(0.01, rho=0.8, centered=True), rmsprop_rule, dict(lr=0.01, rho=0.8, centered=True)),
    (RMSprop(0.01, momentum=0.5, centered=True), rmsprop_rule, dict(lr=0.01, momentum=0.5, centered=True)),
    (Adagrad(0.1), adagrad_rule, dict(lr=0.1)),
    (Adagrad(0.1, initial_accumulator_value=0.5), adagrad_rule, dict(lr=0.1, initial_accumulator_value=0.5)),
    (Adamax(0.01), adamax_rule, dict(lr=0.01)),
    (Adadelta(1.0), adadelta_rule, dict(lr=1.0)),
], ids=lambda x: type(x).__name__ if isinstance(x, Optimizer) else None)
def test_update_rule_matches_keras_formula(opt, rule, hyper):
    assert_matches(run(opt), reference(rule, **hyper))
    assert opt.iterations == len(GRADS)


def test_default_hyperparameters_are_keras_defaults():
    assert_matches(run(Adam()), reference(adam_rule))
    assert_matches(run(Nadam()), reference(nadam_rule))
    assert_matches(run(RMSprop()), reference(rmsprop_rule))
    assert_matches(run(SGD()), reference(sgd_rule))
    assert_matches(run(Adagrad()), reference(adagrad_rule))
    assert_matches(run(Adadelta()), reference(adadelta_rule))
    assert_matches(run(AdamW()), [w for w in reference(lambda w, g, t, s: adam_rule(w - w * 0.004 * 0.001, g, t, s))])


def test_float64_parameters_update_in_float64():
    params = parameters(dtype=torch.float64)
    run(Nadam(0.01), params=params)
    for p, r in zip(params, reference(nadam_rule, lr=float(np.float32(0.01)))):
        np.testing.assert_allclose(p.detach().numpy(), r, rtol=1e-13, atol=1e-15)


def test_adam_epsilon_is_keras_epsilon_hat_not_torch_epsilon():
    """torch.optim.Adam bias-corrects before adding epsilon; Keras adds epsilon to sqrt(v) uncorrected."""
    grads = [[g * 1e-3 for g in step] for step in GRADS]
    ours = run(Adam(0.01, epsilon=1e-3), grads)
    keras = reference(adam_rule, grads=grads, lr=0.01, epsilon=1e-3)
    assert_matches(ours, keras)
    params = parameters()
    torch_opt = torch.optim.Adam(params, lr=0.01, betas=(0.9, 0.999), eps=1e-3)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        torch_opt.step()
    difference = max(np.abs(p.detach().numpy() - k).max() for p, k in zip(params, keras))
    assert difference > 1e-4   # hundreds of times the tolerance: the rules really differ


def f32(x):
    return np.float32(x)


def test_adam_and_nadam_are_bit_exact_with_keras_float32_operation_order():
    """Emulate Keras's float32 arithmetic (scalars cast to float32, Keras's op order) in NumPy."""
    w, grads = INIT[0].copy(), [step[0] for step in GRADS]
    m, v = np.zeros_like(w), np.zeros_like(w)
    lr = f32(0.01)
    for t, g in enumerate(grads, start=1):
        alpha = lr * np.sqrt(f32(1) - np.power(f32(0.999), f32(t))) / (f32(1) - np.power(f32(0.9), f32(t)))
        m = m + (g - m) * f32(1 - 0.9)
        v = v + (g * g - v) * f32(1 - 0.999)
        w = w - (m * alpha) / (np.sqrt(v) + f32(1e-7))
    assert np.array_equal(run(Adam(0.01))[0], w)

    w, m, v, u_product = INIT[0].copy(), np.zeros_like(w), np.zeros_like(w), f32(1)
    b1, b2 = f32(0.9), f32(0.999)
    for t, g in enumerate(grads, start=1):
        u_t = b1 * (f32(1) - f32(0.5) * np.power(f32(0.96), f32(t)))
        u_next = b1 * (f32(1) - f32(0.5) * np.power(f32(0.96), f32(t + 1)))
        u_product = u_product * b1 * (f32(1) - f32(0.5) * np.power(f32(0.96), f32(t)))
        m = m + (g - m) * (f32(1) - b1)
        v = v + (g * g - v) * (f32(1) - b2)
        m_hat = (m * u_next) / (f32(1) - u_product * u_next) + (g * (f32(1) - u_t)) / (f32(1) - u_product)
        v_hat = v / (f32(1) - np.power(b2, f32(t)))
        w = w - (m_hat * lr) / (np.sqrt(v_hat) + f32(1e-7))
    assert np.array_equal(run(Nadam(0.01))[0], w)


def test_rmsprop_is_bit_exact_with_keras_float32_operation_order():
    w, grads = INIT[1].copy(), [step[1] for step in GRADS]
    velocity = np.zeros_like(w)
    for g in grads:
        velocity = f32(0.9) * velocity + f32(1 - 0.9) * (g * g)
        w = w - (f32(0.01) * g) / np.sqrt(velocity + f32(1e-7))
    assert np.array_equal(run(RMSprop(0.01))[1], w)

    w, velocity, average, momentum = INIT[1].copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        velocity = f32(0.8) * velocity + f32(1 - 0.8) * (g * g)
        average = f32(0.8) * average + f32(1 - 0.8) * g
        increment = (f32(0.01) * g) / np.sqrt(velocity - average * average + f32(1e-7))
        momentum = f32(0.5) * momentum + increment
        w = w - momentum
    assert np.array_equal(run(RMSprop(0.01, rho=0.8, momentum=0.5, centered=True))[1], w)


# -- clipping, weight decay, loss scaling ---------------------------------------------------------
def test_clipnorm_clips_each_gradient_to_its_own_norm():
    ours = run(SGD(1.0, clipnorm=0.2), GRADS[:1])
    for w, o, g in zip(INIT, ours, GRADS[0]):
        g = g.astype(np.float64)
        np.testing.assert_allclose(o, w - g * 0.2 / max(np.linalg.norm(g), 0.2), rtol=RTOL, atol=ATOL)


def test_global_clipnorm_scales_all_gradients_together():
    ours = run(SGD(1.0, global_clipnorm=0.2), GRADS[:1])
    norm = np.sqrt(sum((g.astype(np.float64) ** 2).sum() for g in GRADS[0]))
    assert norm > 0.2
    for w, o, g in zip(INIT, ours, GRADS[0]):
        np.testing.assert_allclose(o, w - g * (0.2 / norm), rtol=RTOL, atol=ATOL)


def test_clipvalue_clips_elementwise():
    ours = run(SGD(1.0, clipvalue=0.05), GRADS[:1])
    for w, o, g in zip(INIT, ours, GRADS[0]):
        np.testing.assert_allclose(o, w - np.clip(g, -0.05, 0.05), rtol=RTOL, atol=ATOL)


def test_clipnorm_of_a_zero_gradient_is_zero_not_nan():
    zeros = [[np.zeros_like(w) for w in INIT]]
    for o, w in zip(run(SGD(1.0, clipnorm=1.0), zeros), INIT):
        assert np.array_equal(o, w)


def test_weight_decay_is_applied_before_the_update_with_the_current_learning_rate():
    ours = run(SGD(0.1, weight_decay=0.5))
    assert_matches(ours, reference(lambda w, g, t, s: sgd_rule(w - w * 0.5 * 0.1, g, t, s, lr=0.1)))
    ours = run(AdamW(0.01, weight_decay=0.1, amsgrad=True))
    assert_matches(ours, reference(lambda w, g, t, s: adam_rule(w - w * 0.1 * 0.01, g, t, s, lr=0.01, amsgrad=True)))


def test_exclude_from_weight_decay_by_parameter_or_name():
    named = list(zip(["dense/kernel", "dense/bias"], parameters()))
    opt = SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.build(named)
    for (_, p), g in zip(named, GRADS[0]):
        p.grad = torch.tensor(g)
    opt.step()
    kernel, bias = (p.detach().numpy() for _, p in named)
    np.testing.assert_allclose(kernel, INIT[0] - INIT[0] * 0.05 - 0.1 * GRADS[0][0], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(bias, INIT[1] - 0.1 * GRADS[0][1], rtol=RTOL, atol=ATOL)

    params = parameters()
    opt = SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[params[0]])
    out = run(opt, GRADS[:1], params=params)
    np.testing.assert_allclose(out[0], INIT[0] - 0.1 * GRADS[0][0], rtol=RTOL, atol=ATOL)


def test_loss_scale_factor_scales_the_loss_and_unscales_gradients():
    opt = Adam(0.01, loss_scale_factor=8.0)
    assert float(opt.scale_loss(torch.tensor(2.0))) == 16.0
    scaled = [[g * 8 for g in step] for step in GRADS]
    assert_matches(run(opt, scaled), reference(adam_rule, lr=0.01))
    assert Adam().scale_loss(3.0) == 3.0


# -- EMA and gradient accumulation ------------------------------------------------------------------
def ema_reference(momentum):
    weights = [w.astype(np.float64) for w in INIT]
    averages = None
    for step in GRADS:
        weights = [w - 0.1 * g for w, g in zip(weights, step)]
        averages = list(weights) if averages is None else [momentum * a + (1 - momentum) * w
                                                           for a, w in zip(averages, weights)]
    return weights, averages


def test_ema_tracks_the_weights_and_finalize_copies_it_in():
    opt = SGD(0.1, use_ema=True, ema_momentum=0.9)
    params = parameters()
    ours = run(opt, params=params)
    weights, averages = ema_reference(0.9)
    assert_matches(ours, weights)   # EMA does not touch the weights during training
    assert_matches([opt.state[p]["average"].numpy() for p in params], averages)
    opt.finalize_variable_values()
    assert_matches([p.detach().numpy() for p in params], averages)


def test_ema_overwrite_frequency_replaces_the_weights_periodically():
    opt = SGD(0.1, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=2)
    params = parameters()
    run(opt, GRADS[:2], params=params)
    # step 1: average = w1; step 2: average = 0.9 w1 + 0.1 w2, then copied into the weights
    w1 = [w - 0.1 * g for w, g in zip(INIT, GRADS[0])]
    w2 = [w - 0.1 * g for w, g in zip(w1, GRADS[1])]
    assert_matches([p.detach().numpy() for p in params], [0.9 * a + 0.1 * b for a, b in zip(w1, w2)])


def test_gradient_accumulation_applies_the_mean_every_n_steps():
    opt = Adam(0.01, gradient_accumulation_steps=3)
    params = parameters()
    opt.build(params)
    for k, step in enumerate(GRADS, start=1):
        for p, g in zip(params, step):
            p.grad = torch.tensor(g)
        opt.step()
        if k in (1, 2):
            assert all(np.array_equal(p.detach().numpy(), w) for p, w in zip(params, INIT))
    assert opt.iterations == 2 and opt._iterations == 6
    means = [[np.mean([GRADS[k][i] for k in range(s, s + 3)], axis=0) for i in range(2)] for s in (0, 3)]
    assert_matches([p.detach().numpy() for p in params], reference(adam_rule, grads=means, lr=0.01))
    assert all(not opt.state[p]["gradient_accumulator"].any() for p in params)


def test_schedules_see_raw_steps_under_gradient_accumulation():
    opt = SGD(schedules.PiecewiseConstantDecay([1], [1.0, 0.5]), gradient_accumulation_steps=2)
    run(opt, GRADS[:3])
    assert opt.iterations == 1 and opt.learning_rate == 0.5


# -- learning rate -----------------------------------------------------------------------------------
def test_schedule_is_evaluated_at_the_step_count_before_the_increment():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = SGD(schedule)
    assert opt.learning_rate == schedule(0)
    ours = run(opt, GRADS[:3])
    expected = [w - sum(0.1 * 0.5 ** k * GRADS[k][i] for k in range(3)) for i, w in enumerate(INIT)]
    assert_matches(ours, expected)
    assert opt.learning_rate == schedule(3)


def test_learning_rate_is_float32_like_keras_variable_and_settable():
    opt = Adam(0.001)
    assert opt.learning_rate == float(np.float32(0.001)) == 0.0010000000474974513
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    opt.learning_rate = torch.tensor(0.25)
    assert opt.learning_rate == 0.25
    opt.learning_rate = schedules.InverseTimeDecay(0.1, 1, 1.0)
    assert opt.learning_rate == pytest.approx(0.1)
    with pytest.raises(ValueError, match="learning_rate.*>= 0"):
        Adam().learning_rate = -1.0


def test_setting_a_float_on_a_schedule_optimizer_is_a_type_error():
    opt = SGD(schedules.ExponentialDecay(0.1, 10, 0.9))
    with pytest.raises(TypeError, match="LearningRateSchedule.*not settable.*float learning_rate"):
        opt.learning_rate = 0.01


def test_callable_learning_rate():
    opt = SGD(lambda: 0.5)
    assert opt.learning_rate == 0.5
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        opt.get_config()


def test_legacy_lr_alias_warns():
    with pytest.warns(DeprecationWarning, match="learning_rate"):
        opt = Adam(lr=1e-2)
    assert opt.learning_rate == float(np.float32(1e-2))
    with pytest.raises(TypeError, match="one of `learning_rate` and `lr`"):
        Adam(learning_rate=0.1, lr=0.2)
    with pytest.warns(DeprecationWarning):
        assert opt.lr == opt.learning_rate


def test_tf_keras_2_epsilon_none_means_backend_epsilon():
    assert Adam(epsilon=None).epsilon == Nadam(epsilon=None).epsilon == RMSprop(epsilon=None).epsilon == 1e-7


def test_legacy_decay_is_tf_keras_2_inverse_time_decay():
    with pytest.warns(DeprecationWarning, match="decay"):
        opt = SGD(learning_rate=0.1, decay=0.5)
    ours = run(opt, GRADS[:3])
    expected = [w - sum(0.1 / (1 + 0.5 * k) * GRADS[k][i] for k in range(3)) for i, w in enumerate(INIT)]
    assert_matches(ours, expected)
    assert opt.learning_rate == float(np.float32(0.1))   # the base rate, as tf.keras 2's optimizer.lr
    assert opt.current_learning_rate == pytest.approx(0.1 / (1 + 0.5 * 3))
    assert opt.get_config()["decay"] == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Adam(decay=0.0)   # tf.keras 2 configs carry "decay": 0.0


# -- argument validation -----------------------------------------------------------------------------
def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="unexpected `betas`"):
        Adam(betas=(0.9, 0.99))


@pytest.mark.parametrize("make, error, match", [
    (lambda: Adam(-1e-3), ValueError, r"learning_rate.*>= 0.*received -0.001"),
    (lambda: Adam("fast"), TypeError, "learning_rate"),
    (lambda: Adam(clipnorm=1.0, global_clipnorm=1.0), ValueError, "at most one of `clipnorm`"),
    (lambda: SGD(clipvalue=0.5, clipnorm=1.0), ValueError, "Keep one"),
    (lambda: Adam(clipnorm=-1.0), ValueError, "clipnorm"),
    (lambda: Adam(gradient_accumulation_steps=1), ValueError, "gradient_accumulation_steps.*>= 2"),
    (lambda: Adam(use_ema=True, ema_momentum=1.5), ValueError, "ema_momentum"),
    (lambda: Adam(use_ema=True, ema_overwrite_frequency=0), ValueError, "ema_overwrite_frequency"),
    (lambda: AdamW(weight_decay=None), ValueError, "weight_decay"),
    (lambda: SGD(momentum=1.5), ValueError, "momentum"),
    (lambda: Adam(beta_1=1.0), ValueError, "beta_1"),
    (lambda: Adam(amsgrad="yes"), TypeError, "amsgrad"),
    (lambda: Adam(loss_scale_factor=0), ValueError, "loss_scale_factor"),
    (lambda: Adam(torch.nn.Linear(2, 2).parameters()), TypeError, "learning rate first.*params="),
])
def test_invalid_arguments_are_rejected_with_the_fix(make, error, match):
    with pytest.raises(error, match=match):
        make()


# -- building ---------------------------------------------------------------------------------------
def test_params_keyword_builds_immediately_and_build_is_idempotent():
    params = parameters()
    opt = Adam(0.01, params=params)
    assert opt.built and set(opt.state[params[0]]) == {"momentum", "velocity"}
    opt.build(params)   # same parameters: nothing happens
    with pytest.raises(ValueError, match="create a new Adam"):
        opt.build(parameters())


def test_step_needs_build_and_gradients():
    with pytest.raises(ValueError, match=r"build\(model.parameters\(\)\)"):
        Adam().step()
    opt = Adam(params=parameters())
    with pytest.raises(ValueError, match="loss.backward"):
        opt.step()


def test_parameters_without_gradient_are_skipped_with_one_warning():
    params = parameters()
    opt = SGD(0.1, params=params)
    params[0].grad = torch.tensor(GRADS[0][0])
    with pytest.warns(UserWarning, match="no gradients"):
        opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert np.array_equal(params[1].detach().numpy(), INIT[1])
    np.testing.assert_allclose(params[0].detach().numpy(), INIT[0] - 0.2 * GRADS[0][0], rtol=RTOL, atol=ATOL)
    assert opt.iterations == 2


def test_keras_apply_gradients_api():
    params = parameters()
    opt = Adam(0.01)
    for step in GRADS:
        opt.apply_gradients(zip([torch.tensor(g) for g in step], params))
    assert_matches([p.detach().numpy() for p in params], reference(adam_rule, lr=0.01))


def test_training_loop_usage_with_a_closure_and_zero_grad():
    model = torch.nn.Linear(3, 1)
    opt = RMSprop(0.01)
    opt.build(list(model.parameters()))
    x, y = torch.randn(8, 3), torch.randn(8, 1)

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    first = opt.step(closure).item()
    for _ in range(20):
        last = opt.step(closure).item()
    assert last < first and opt.iterations == 21


# -- config and serialization ----------------------------------------------------------------------
BASE_KEYS = ["name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
             "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps"]


@pytest.mark.parametrize("opt, name, own_keys", [
    (Adam(), "adam", ["beta_1", "beta_2", "epsilon", "amsgrad"]),
    (AdamW(), "adamw", ["beta_1", "beta_2", "epsilon", "amsgrad"]),
    (Nadam(), "nadam", ["beta_1", "beta_2", "epsilon"]),
    (SGD(), "SGD", ["momentum", "nesterov"]),
    (RMSprop(), "rmsprop", ["rho", "momentum", "epsilon", "centered"]),
    (Adagrad(), "adagrad", ["initial_accumulator_value", "epsilon"]),
    (Adamax(), "adamax", ["beta_1", "beta_2", "epsilon"]),
    (Adadelta(), "adadelta", ["rho", "epsilon"]),
], ids=lambda x: type(x).__name__ if isinstance(x, Optimizer) else None)
def test_config_has_keras_keys_and_round_trips(opt, name, own_keys):
    config = opt.get_config()
    assert list(config) == BASE_KEYS + own_keys
    assert config["name"] == name
    json.dumps(config)
    again = type(opt).from_config(config)
    assert again.get_config() == config
    data = optimizers.serialize(opt)
    assert data == {"module": "keras.optimizers", "class_name": type(opt).__name__, "config": config,
                    "registered_name": None}
    assert optimizers.deserialize(json.loads(json.dumps(data))).get_config() == config


KERAS_ADAM = {"module": "keras.optimizers", "class_name": "adam", "config": {
    "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None, "clipnorm": None,
    "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
    "ema_overwrite_frequency": None, "loss_scale_factor": None, "gradient_accumulation_steps": None,
    "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}, "registered_name": None}


def keras_config(class_name, name, **own):
    base = copy.deepcopy(KERAS_ADAM)
    config = {k: v for k, v in base["config"].items() if k in BASE_KEYS}
    config.update(name=name, **own)
    return {"module": "keras.optimizers", "class_name": class_name, "config": config, "registered_name": None}


def test_deserialize_real_keras_configs():
    adam = optimizers.deserialize(json.loads(json.dumps(KERAS_ADAM)))
    assert type(adam) is Adam and adam.learning_rate == 0.0010000000474974513
    assert adam.get_config() == KERAS_ADAM["config"]

    nadam = optimizers.deserialize(keras_config("nadam", "nadam", beta_1=0.9, beta_2=0.999, epsilon=1e-07))
    assert type(nadam) is Nadam and nadam.beta_2 == 0.999
    sgd = optimizers.deserialize(keras_config("sgd", "SGD", momentum=0.9, nesterov=True))
    assert type(sgd) is SGD and sgd.momentum == 0.9 and sgd.nesterov
    rms = optimizers.deserialize(keras_config("rmsprop", "rm_sprop", rho=0.9, momentum=0.0, epsilon=1e-07,
                                              centered=False))
    assert type(rms) is RMSprop and rms.name == "rm_sprop" and rms.rho == 0.9
    camel = optimizers.deserialize(keras_config("RMSprop", "rmsprop", rho=0.8, momentum=0.1, epsilon=1e-07,
                                                centered=True))
    assert camel.centered and camel.momentum == 0.1


def test_deserialize_tf_keras_2_configs():
    legacy = {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.001, "decay": 0.0,
                                               "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}
    assert type(optimizers.deserialize(legacy)) is Adam
    tf211 = {"class_name": "Custom>Adam", "config": {**KERAS_ADAM["config"], "jit_compile": True,
                                                     "is_legacy_optimizer": False}}
    assert optimizers.deserialize(tf211).get_config() == KERAS_ADAM["config"]


def test_schedule_in_config_round_trips():
    opt = Nadam(schedules.ExponentialDecay(1e-3, 400 * ((1000 * 0.8) / 32), 1e-5))
    config = opt.get_config()
    assert config["learning_rate"]["module"] == "keras.optimizers.schedules"
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert isinstance(again._learning_rate, schedules.ExponentialDecay)
    assert again.get_config() == config


def test_get_by_name_dict_or_instance():
    for name, cls in [("adam", Adam), ("Adam", Adam), ("ADAM", Adam), ("nadam", Nadam), ("rmsprop", RMSprop),
                      ("RMSprop", RMSprop), ("sgd", SGD), ("SGD", SGD), ("adamw", AdamW), ("adagrad", Adagrad),
                      ("adamax", Adamax), ("adadelta", Adadelta)]:
        opt = optimizers.get(name)
        assert type(opt) is cls and not opt.built
    assert optimizers.get("rmsprop").learning_rate == float(np.float32(0.001))
    opt = SGD()
    assert optimizers.get(opt) is opt
    assert type(optimizers.get(KERAS_ADAM)) is Adam
    assert optimizers.get(None) is None


def test_get_errors_list_the_names():
    with pytest.raises(ValueError, match=r'"sgd", "adam", "adamw", "nadam", "rmsprop".*received \'adamm\''):
        optimizers.get("adamm")
    with pytest.raises(TypeError, match="lstmkit.optimizers"):
        optimizers.get(torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1))
    with pytest.raises(TypeError, match="optimizer name"):
        optimizers.get(3)


# -- state_dict ------------------------------------------------------------------------------------
def json_round_trip(state):
    """What a safetensors + JSON save does: tensors aside, everything else through JSON (int keys -> str)."""
    tensors = {(i, k): v.clone() for i, slots in state["state"].items() for k, v in slots.items()}
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())
    rest = json.loads(json.dumps({k: v for k, v in state.items() if k != "state"}))
    rest["state"] = {str(i): {} for i in state["state"]}
    for (i, k), v in tensors.items():
        rest["state"][str(i)][k] = v
    return rest


@pytest.mark.parametrize("make", [
    lambda: Nadam(0.01),
    lambda: Adam(0.01, amsgrad=True, use_ema=True, gradient_accumulation_steps=2),
    lambda: RMSprop(0.01, momentum=0.5, centered=True),
    lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda: Adagrad(0.1),
    lambda: Adamax(schedules.ExponentialDecay(0.01, 2, 0.5)),
    lambda: Adadelta(1.0, global_clipnorm=0.1),
])
def test_state_dict_resume_continues_exactly(make):
    params = parameters()
    opt = make()
    run(opt, GRADS[:3], params=params)
    saved_weights = [p.detach().clone() for p in params]
    saved = json_round_trip(opt.state_dict())
    uninterrupted = run(opt, GRADS[3:], params=params)

    fresh = [torch.nn.Parameter(w.clone()) for w in saved_weights]
    resumed = type(opt).from_config(opt.get_config())
    resumed.build(fresh)
    resumed.load_state_dict(saved)
    assert resumed.iterations == 3 // (opt.gradient_accumulation_steps or 1)
    for a, b in zip(run(resumed, GRADS[3:], params=fresh), uninterrupted):
        assert np.array_equal(a, b)


def test_state_dict_restores_a_changed_learning_rate():
    opt = Adam(0.01, params=parameters())
    opt.learning_rate = 0.002
    other = Adam(0.01, params=parameters())
    other.load_state_dict(opt.state_dict())
    assert other.learning_rate == opt.learning_rate == float(np.float32(0.002))


def test_load_state_dict_rejects_another_optimizers_state():
    adam = Adam(params=parameters())
    sgd = SGD(momentum=0.9, params=parameters())
    with pytest.raises(ValueError, match=r"slots \['momentum'\].*\['momentum', 'velocity'\]"):
        sgd.load_state_dict(adam.state_dict())
    with pytest.raises(ValueError, match="state_dict"):
        adam.load_state_dict(torch.optim.Adam(parameters(), lr=0.1).state_dict())
