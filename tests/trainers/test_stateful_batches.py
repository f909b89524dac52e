"""fit / predict / evaluate on stateful_batches(...): slot continuity, per-slot resets, padding weights."""

import copy

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers as L
from lstmkit.data.batching import stateful_batches


def build(stateful, batch=None, seed=0):
    torch.manual_seed(seed)
    shape = dict(batch_shape=(batch, None, 2)) if stateful else dict(shape=(None, 2))
    return lstmkit.Sequential([L.Input(**shape), L.LSTM(6, return_sequences=True, stateful=stateful),
                               L.LSTM(4, return_sequences=True, stateful=stateful), L.Dense(1)])


def sequences(seed=1):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(n, 2)).astype(np.float32) for n in (7, 3, 5, 6)]
    ys = [np.cumsum(x[:, :1], axis=0) for x in xs]
    return xs, ys


def test_chunked_stateful_predictions_equal_each_sequence_run_whole():
    xs, _ = sequences()
    plain = build(stateful=False)
    stateful = build(stateful=True, batch=2)
    stateful.set_weights(plain.get_weights())
    b = stateful_batches(xs, batch_size=2, chunk=2)
    predicted = b.to_sequences(stateful.predict(b, verbose=0))
    for x, got in zip(xs, predicted):
        np.testing.assert_allclose(got, plain.predict(x[None], verbose=0)[0], atol=1e-6)


def test_without_the_resets_a_new_sequence_would_inherit_the_previous_state():
    xs, _ = sequences()
    stateful = build(stateful=True, batch=2)
    b = stateful_batches(xs, batch_size=2, chunk=2)
    flat = stateful.predict(b.x, batch_size=2, verbose=0)  # plain arrays: no resets between sequences
    stateful.reset_states()
    assert not np.allclose(b.to_sequences(flat)[2], b.to_sequences(stateful.predict(b, verbose=0))[2], atol=1e-4)


def test_fit_equals_a_manual_loop_of_slot_resets_and_weighted_train_on_batch():
    xs, ys = sequences()
    b = stateful_batches(xs, ys, batch_size=2, chunk=3)
    auto = build(stateful=True, batch=2)
    manual = copy.deepcopy(auto)
    for model in (auto, manual):
        model.compile(optimizer=lstmkit.optimizers.Adam(0.01), loss="mse")
    history = auto.fit(b, epochs=2, verbose=0)
    for _ in range(2):
        for k, (bx, by, bw) in enumerate(b):
            manual.reset_states(slots=np.flatnonzero(b.resets[k]))
            manual.train_on_batch(bx, by, sample_weight=bw)
    for got, want in zip(auto.get_weights(), manual.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert len(history.history["loss"]) == 2


def test_padding_steps_carry_no_weight_in_evaluate():
    xs, ys = sequences()
    model = build(stateful=True, batch=2)
    model.compile(optimizer="adam", loss="mae")
    b = stateful_batches(xs, ys, batch_size=2, chunk=4)
    loss = model.evaluate(b, verbose=0)
    pred = model.predict(b, verbose=0)  # predict applies the same resets, so the same outputs
    # Keras's sum_over_batch_size: per batch, the weighted sum over every (slot, step) / all of them
    per_batch = [(np.abs(p - y).mean(-1) * w).mean() for p, y, w in
                 zip(np.split(pred, len(b)), np.split(b.y, len(b)), np.split(b.sample_weight, len(b)))]
    np.testing.assert_allclose(loss, np.mean(per_batch), rtol=1e-5)
    # padding comes only after a sequence's last step and before a reset: its value cannot matter
    loud = stateful_batches(xs, ys, batch_size=2, chunk=4, pad_value=1000.0)
    assert (loud.x != b.x).any()
    np.testing.assert_allclose(model.evaluate(loud, verbose=0), loss, rtol=1e-6)


def test_clear_errors_for_a_mismatched_model_or_arguments():
    xs, ys = sequences()
    b = stateful_batches(xs, ys, batch_size=2, chunk=3)
    plain = build(stateful=False)
    plain.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="stateful=True recurrent layers"):
        plain.fit(b, verbose=0)
    other = build(stateful=True, batch=3)
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"layout's batch size \(2\).*received 3"):
        other.fit(b, verbose=0)
    model = build(stateful=True, batch=2)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="travel with it"):
        model.fit(b, ys, verbose=0)


def test_reset_states_slots_zero_only_those_slots():
    model = build(stateful=True, batch=3)
    x = np.ones((3, 4, 2), np.float32)
    model.predict(x, verbose=0)
    before = [s.clone() for s in model.layers[0].states]
    model.reset_states(slots=[1])
    after = model.layers[0].states
    assert torch.count_nonzero(after[0][1]) == 0 and torch.count_nonzero(after[1][1]) == 0
    torch.testing.assert_close(after[0][[0, 2]], before[0][[0, 2]])
    with pytest.raises(ValueError, match=r"slot indices in \[0, 3\)"):
        model.reset_states(slots=[3])


def test_bool_slot_masks_reset_the_true_slots():
    model = build(stateful=True, batch=3)
    model.predict(np.ones((3, 4, 2), np.float32), verbose=0)
    kept = model.layers[0].states[0][:2].clone()
    model.reset_states(slots=np.array([False, False, True]))  # a StatefulBatches.resets row
    assert torch.count_nonzero(model.layers[0].states[0][2]) == 0
    torch.testing.assert_close(model.layers[0].states[0][:2], kept)
    with pytest.raises(ValueError, match=r"one entry per batch slot \(3\)"):
        model.reset_states(slots=[True, False])


def test_layouts_of_another_batch_size_start_from_a_full_reset():
    xs, ys = sequences()
    model = build(stateful=True)  # no fixed batch size: any layout may follow another
    model.compile(optimizer="adam", loss="mse")
    b2, b4 = stateful_batches(xs, ys, batch_size=2, chunk=3), stateful_batches(xs, ys, batch_size=4, chunk=3)
    model.predict(b4, verbose=0)
    got = b2.to_sequences(model.predict(b2, verbose=0))
    plain = build(stateful=False)
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(got[0], plain.predict(xs[0][None], verbose=0)[0], atol=1e-6)
    history = model.fit(b2, validation_data=b4, epochs=1, verbose=0)
    assert "val_loss" in history.history
