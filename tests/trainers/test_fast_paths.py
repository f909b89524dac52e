"""Cached per-model facts and cached kernel weights never serve stale answers (issue 19)."""

import numpy as np
import pytest
import torch
from torch import nn

from lstmkit import callbacks
from lstmkit.layers import LSTM, Bidirectional, Dense, Dropout, Input
from lstmkit.models import Sequential
from lstmkit.trainers import plan
from lstmkit.ops import fused_weights


def small_model(cls=Sequential, **lstm):
    torch.manual_seed(0)
    model = cls([Input((5, 2)), LSTM(3, **lstm), Dense(1)])
    model.compile("adam", "mse", device="cpu")
    return model


X = np.random.default_rng(0).random((4, 5, 2)).astype("float32")
Y = np.random.default_rng(1).random((4, 1)).astype("float32")


def eager_reference(model, x):
    """The model's outputs without any cache: the reference loop, grad on."""
    lstm = model.layers[0]
    lstm.use_fused = False
    try:
        return model(torch.from_numpy(x), training=False).detach().numpy()
    finally:
        lstm.use_fused = "auto"


@pytest.mark.parametrize("change", ["set_weights", "train_on_batch", "load_state_dict", "inplace_no_grad",
                                    "data_assignment"])
@pytest.mark.parametrize("path", ["fused", "native"])
def test_cached_kernel_weights_follow_every_weight_change(change, path, request):
    request.getfixturevalue("without_infer_loop" if path == "fused" else "native_library")
    model = small_model()
    before = model.predict(X, verbose=0)
    assert model.layers[0].last_path == path
    if change == "set_weights":
        model.layers[0].set_weights([w * 0.5 for w in model.layers[0].get_weights()])
    elif change == "train_on_batch":
        model.train_on_batch(X, Y)
    elif change == "load_state_dict":
        model.load_state_dict({k: v + 0.1 for k, v in model.state_dict().items()})
    elif change == "inplace_no_grad":
        with torch.no_grad():
            model.layers[0].cell.recurrent_kernel.mul_(-1)
    else:  # a new tensor behind the parameter (what .to() does): a new data_ptr
        kernel = model.layers[0].cell.kernel
        kernel.data = kernel.data * 0.5
    after = model.predict(X, verbose=0)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, eager_reference(model, X), rtol=1e-5, atol=1e-6)


def test_writes_through_data_need_invalidate():
    model = small_model()
    model.predict(X, verbose=0)
    model.layers[0].cell.kernel.data.mul_(2.0)  # bypasses the version counter, as it bypasses autograd
    fused_weights.invalidate(model)
    np.testing.assert_allclose(model.predict(X, verbose=0), eager_reference(model, X), rtol=1e-5, atol=1e-6)


def test_bidirectional_cache_follows_training():
    torch.manual_seed(0)
    model = Sequential([Input((5, 2)), Bidirectional(LSTM(3)), Dense(1)])
    model.compile("sgd", "mse", device="cpu")
    before = model.predict(X, verbose=0)
    model.train_on_batch(X, Y)
    after = model.predict(X, verbose=0)
    assert not np.allclose(before, after)
    with torch.no_grad():
        for layer in (model.layers[0].forward_layer, model.layers[0].backward_layer):
            layer.use_fused = False
        expected = model(torch.from_numpy(X), training=False).numpy()
    np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-6)


def test_plan_sees_added_and_removed_layers():
    model = small_model()
    assert model.predict(X, verbose=0).shape == (4, 1)
    model.add(Dense(2))
    assert model.predict(X, verbose=0).shape == (4, 2)
    model.pop()
    assert model.predict(X, verbose=0).shape == (4, 1)


def test_plan_sees_stateful_flag_and_is_reused():
    model = small_model()
    first = plan.plan(model)
    model.predict(X, verbose=0)
    assert plan.plan(model) is first  # nothing changed: the same plan, no walk
    assert not first.stateful
    model.layers[0].stateful = True
    assert plan.plan(model).stateful


def test_predict_restores_each_modules_own_training_flag():
    model = Sequential([Input((5, 2)), LSTM(3), Dropout(0.5), Dense(1)])
    model.compile("adam", "mse", device="cpu")
    model.eval()
    model.layers[1].train()  # one module in training mode, the rest not
    a = model.predict(X, verbose=0)
    np.testing.assert_array_equal(a, model.predict(X, verbose=0))  # dropout off inside predict
    assert [m.training for m in model.layers] == [False, True, False] and not model.training


def test_custom_train_override_still_called():
    calls = []

    class Tracking(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

        def forward(self, x):
            return x

    model = Sequential([Input((5, 2)), LSTM(3), Dense(1)])
    model.add_module("tracker", Tracking())
    model.compile("adam", "mse", device="cpu")
    calls.clear()
    model.predict(X, verbose=0)
    assert False in calls and calls[-1] is True  # switched to eval, then back to training mode


def test_predict_fast_path_still_rejects_nan():
    model = small_model()
    bad = X.copy()
    bad[2, 1, 0] = np.nan
    with pytest.raises(ValueError, match="NaN/inf values, the first \\(NaN\\) at sample 2"):
        model.predict(bad, verbose=0)
    with pytest.raises(ValueError, match="at least one sample"):
        model.predict(X[:0], verbose=0)


def test_predict_fast_path_equals_callback_path():
    model = small_model()
    fast = model.predict(X, batch_size=3, verbose=0)
    seen = []

    class Count(callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(batch)

    slow = model.predict(X, batch_size=3, verbose=0, callbacks=[Count()])  # callbacks: the general path
    assert seen == [0, 1]
    np.testing.assert_array_equal(fast, slow)


def test_predict_fast_path_checks_every_kind_of_array():
    model = small_model()
    expected = model.predict(X, verbose=0)
    for variant in (X.astype("float64"), np.asfortranarray(X), torch.from_numpy(X), X.tolist()):
        np.testing.assert_allclose(model.predict(variant, verbose=0), expected, rtol=1e-6)
    for bad_value in (np.inf, -np.inf):
        bad = X.astype("float64")
        bad[3, 4, 1] = bad_value
        with pytest.raises(ValueError, match="the first \\(inf\\) at sample 3"):
            model.predict(bad, verbose=0)
    with pytest.raises(ValueError, match="a scalar"):
        model.predict(np.array(1.0, dtype="float32"), verbose=0)


def test_predict_returns_its_own_array_not_a_view_of_the_input():
    model = Sequential([Input((5, 2)), Dropout(0.5)])  # the identity at inference
    model.compile("adam", "mse", device="cpu")
    x = X.copy()
    out = model.predict(x, verbose=0)
    np.testing.assert_array_equal(out, X)
    out[:] = -1.0
    np.testing.assert_array_equal(x, X)  # the caller's data is untouched


def test_predict_runs_hooks_and_an_overridden_predict_step():
    model = small_model()
    seen = []
    handle = model.register_forward_hook(lambda module, args, out: seen.append(tuple(out.shape)))
    model.predict(X, verbose=0)
    handle.remove()
    assert seen == [(4, 1)]

    class Doubled(Sequential):
        def predict_step(self, x):
            return 2 * super().predict_step(x)

    np.testing.assert_allclose(small_model(Doubled).predict(X, verbose=0), 2 * small_model().predict(X, verbose=0),
                               rtol=1e-6)


def test_predict_refuses_nan_hidden_by_a_masked_array():
    model = small_model()
    bad = X.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="the first \\(NaN\\) at sample 1"):
        model.predict(np.ma.masked_invalid(bad), verbose=0)


def test_a_tensor_mask_is_ignored_whatever_the_batch_size():
    """As before the fast path: predict's batches are slices, so a ``_keras_mask`` on the whole tensor
    never reaches the model, whether the data fits one batch or not."""
    model = small_model()
    t = torch.from_numpy(X.copy())
    mask = torch.ones(4, 5, dtype=torch.bool)
    mask[:, 3:] = False
    t._keras_mask = mask
    unmasked = model.predict(X, verbose=0)
    np.testing.assert_array_equal(model.predict(t, verbose=0), unmasked)
    np.testing.assert_allclose(model.predict(t, batch_size=2, verbose=0), unmasked, rtol=1e-6)


def test_predict_honours_instance_overrides_call_overrides_and_torch_compile():
    import types

    model = small_model()
    base = model.predict(X, verbose=0)
    original = type(model).predict_step
    model.predict_step = types.MethodType(lambda self, batch: 2 * original(self, batch), model)
    np.testing.assert_allclose(model.predict(X, verbose=0), 2 * base, rtol=1e-6)

    class Clipped(Sequential):
        def __call__(self, *args, **kwargs):
            return super().__call__(*args, **kwargs).clamp(max=0.0)

    np.testing.assert_allclose(small_model(Clipped).predict(X, verbose=0), np.minimum(base, 0.0), rtol=1e-6)

    compiled, calls = small_model(), []

    def backend(graph_module, example_inputs):
        calls.append(1)
        return graph_module.forward

    torch.nn.Module.compile(compiled, backend=backend)
    np.testing.assert_allclose(compiled.predict(X, verbose=0), base, rtol=1e-5, atol=1e-6)
    assert calls  # the user's compiled module ran


def test_a_model_whose_forward_takes_no_training_argument():
    class Doubling(Sequential):
        def forward(self, inputs):
            return 2 * super().forward(inputs)

    np.testing.assert_allclose(small_model(Doubling).predict(X, verbose=0), 2 * small_model().predict(X, verbose=0),
                               rtol=1e-6)


def test_mode_entered_twice_restores_each_level():
    model = small_model()
    model.train()
    switch = plan.mode(model, training=False)
    with switch:
        with switch:
            assert not model.training
        assert not model.training
    assert all(m.training for m in model.modules())


def test_mode_restores_flags_after_an_error():
    model = small_model()
    model.train()
    with pytest.raises(RuntimeError, match="boom"):
        with plan.mode(model, training=False):
            assert not any(m.training for m in model.modules())
            raise RuntimeError("boom")
    assert all(m.training for m in model.modules())


def test_train_on_batch_rebinds_after_a_layer_is_frozen():
    model = small_model()
    model.train_on_batch(X, Y)
    model.layers[0].trainable = False
    with pytest.raises(ValueError, match="a different set"):
        model.train_on_batch(X, Y)


def test_optimizer_step_hooks_still_run_in_fit():
    model = small_model()
    model.train_on_batch(X, Y)
    calls = []
    model.optimizer.register_step_post_hook(lambda *args: calls.append(1))
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    assert len(calls) == 2  # the hook sees every step: the unwrapped step is used only without hooks


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")  # 1e300 as float32, then our error
@pytest.mark.parametrize("rows", [1, 64])  # 13 values (summed in Python) and 832 (NumPy's isfinite)
def test_predict_finite_check_on_small_and_large_windows(rows):
    model = Sequential([Input((13, 1)), LSTM(4), Dense(1)])
    model.compile("adam", "mse", device="cpu")
    x = np.random.default_rng(2).random((rows, 13, 1))
    big = x.astype("float32") * np.float32(3e38)  # finite, though their sum in float32 would not be
    model.predict(big, verbose=0)  # no false alarm on finite values
    for bad_value, kind in ((np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "inf"), (1e300, "inf")):
        bad = x.copy()  # float64: 1e300 becomes inf in float32, the dtype the model reads
        bad[rows - 1, 5, 0] = bad_value
        with pytest.raises(ValueError, match=f"the first \\({kind}\\) at sample {rows - 1}"):
            model.predict(bad, verbose=0)


def test_eval_call_zero_states_follow_batch_size_and_dtype(without_infer_loop):
    model = small_model()
    for rows in (1, 3, 1, 4):
        np.testing.assert_allclose(model.predict(X[:rows], verbose=0), eager_reference(model, X[:rows]),
                                   rtol=1e-5, atol=1e-6)
    model.double()
    with torch.no_grad():
        fast = model(torch.from_numpy(X.astype("float64")), training=False).numpy()
    assert fast.dtype == np.float64 and model.layers[0].last_path == "fused"
    lstm = model.layers[0]
    lstm.use_fused = False
    with torch.no_grad():
        np.testing.assert_allclose(fast, model(torch.from_numpy(X.astype("float64")), training=False).numpy(),
                                   rtol=1e-10)


def test_cell_options_changed_after_build_reach_the_dispatch():
    """The cell's cached CellMath is rebuilt when an option changes: a relu activation set after the
    first call is not run on the native kernel (which computes tanh)."""
    model = small_model()
    before = model.predict(X, verbose=0)
    lstm = model.layers[0]
    lstm.cell.activation = torch.relu
    after = model.predict(X, verbose=0)
    assert lstm.last_path == "reference"
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, eager_reference(model, X), rtol=1e-5, atol=1e-6)


def test_predict_on_batch_fast_path_equals_predict_and_checks_its_input():
    model = small_model()
    expected = model.predict(X, verbose=0)
    for variant in (X, X.astype("float64"), torch.from_numpy(X), X.tolist()):
        np.testing.assert_allclose(model.predict_on_batch(variant), expected, rtol=1e-6)
    bad = X.copy()
    bad[1, 2, 0] = np.inf
    with pytest.raises(ValueError, match="predict_on_batch.*the first \\(inf\\) at sample 1"):
        model.predict_on_batch(bad)
    seen = []
    handle = model.register_forward_hook(lambda *a: seen.append(1))
    model.predict_on_batch(X)
    handle.remove()
    assert seen == [1]  # a hooked model takes the full call
    identity = Sequential([Input((5, 2)), Dropout(0.5)])
    identity.compile("adam", "mse", device="cpu")
    x = X.copy()
    identity.predict_on_batch(x)[:] = -1.0
    np.testing.assert_array_equal(x, X)  # the result is not a view of the caller's array


def test_predict_on_batch_honours_a_tensor_mask():
    """A tensor carrying a Keras mask is one batch here (unlike predict's slices): the mask is used."""
    torch.manual_seed(0)
    model = Sequential([Input((5, 2)), LSTM(3, return_sequences=True)])
    t = torch.from_numpy(X.copy())
    t._keras_mask = torch.tensor([[True] * 3 + [False] * 2] * 4)
    masked = model.predict_on_batch(t)
    np.testing.assert_allclose(masked[:, 3], masked[:, 2])  # masked steps repeat the last valid output
    assert not np.allclose(model.predict_on_batch(X)[:, 3], masked[:, 3])


@pytest.mark.parametrize("wrap", ["dense parametrize", "cell parametrize", "cell prune", "dense weight_norm"])
def test_weights_moved_out_of_parameters_take_the_full_call(wrap):
    """torch.nn.utils.parametrize / prune / weight_norm replace a parameter by a computed attribute: the
    fast paths, which read the parameter dict, step aside and the full call reads the attribute."""
    model = small_model()
    expected = model.predict(X, verbose=0)
    dense, cell = model.layers[1], model.layers[0].cell
    if wrap == "dense parametrize":
        nn.utils.parametrize.register_parametrization(dense, "kernel", nn.Identity())
    elif wrap == "cell parametrize":
        nn.utils.parametrize.register_parametrization(cell, "kernel", nn.Identity())
    elif wrap == "cell prune":
        import torch.nn.utils.prune as prune

        prune.l1_unstructured(cell, "kernel", amount=0.5)
    else:
        nn.utils.parametrizations.weight_norm(dense, "kernel")
    got = model.predict(X, verbose=0)
    if wrap == "cell prune":  # half the kernel zeroed: other numbers, the reference loop's
        np.testing.assert_allclose(got, eager_reference(model, X), rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    if "parametrize" in wrap:  # (prune and weight_norm leave non-leaf weights fit refuses, as before)
        model.fit(X, Y, epochs=1, verbose=0)  # train_call steps aside too


@pytest.mark.parametrize("call", ["predict", "predict_on_batch"])
def test_a_mask_computed_inside_never_lands_on_the_callers_tensor(call):
    from lstmkit.layers import Lambda

    torch.manual_seed(0)
    model = Sequential([Input((5, 1)), Lambda(lambda t: t, mask=lambda inputs, mask: inputs[..., 0] != 0), LSTM(3)])
    t = torch.rand(2, 5, 1)
    t[1, 3:] = 0
    getattr(model, call)(t) if call == "predict_on_batch" else model.predict(t, verbose=0)
    assert "_keras_mask" not in t.__dict__


def test_a_gru_subclass_computing_reset_after_gets_its_own_math():
    from lstmkit.layers import GRU, RNN
    from lstmkit.layers.rnn.gru import GRUCell

    class PropertyGRUCell(GRUCell):  # reset_after as a property: not in the instance __dict__
        @property
        def reset_after(self):
            return self.__dict__["_reset_after"]

        @reset_after.setter
        def reset_after(self, value):
            self.__dict__["_reset_after"] = value

    x = np.random.default_rng(0).random((2, 5, 1)).astype("float32")
    torch.manual_seed(0)
    sub = Sequential([Input((5, 1)), RNN(PropertyGRUCell(3, reset_after=False, use_bias=False))])
    torch.manual_seed(0)
    plain = Sequential([Input((5, 1)), GRU(3, reset_after=False, use_bias=False)])
    assert sub.layers[0].cell.math.reset_after is False
    np.testing.assert_allclose(sub.predict(x, verbose=0), plain.predict(x, verbose=0), rtol=1e-6)


def test_cached_zero_states_follow_the_units():
    model = small_model()
    model.predict(X, verbose=0)  # caches (1, 4, 3) zero states
    lstm = model.layers[0]
    cell = lstm.cell
    cell.units = 2  # an unusual edit: a smaller recurrent kernel shape
    with torch.no_grad():
        cell.recurrent_kernel = nn.Parameter(cell.recurrent_kernel[:2, :8].clone())
        cell.kernel = nn.Parameter(cell.kernel[:, :8].clone())
        cell.bias = nn.Parameter(cell.bias[:8].clone())
    with torch.no_grad():
        out = lstm(torch.from_numpy(X), training=False)
    assert out.shape == (4, 2)
