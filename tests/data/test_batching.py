"""stateful_batches: slot assignment, chunking, resets, padding weights and the inverse layout."""

import numpy as np
import pytest

from lstmkit.data.batching import stateful_batches


def ramp(length, start, features=1):
    return (start + np.arange(length * features, dtype=np.float32)).reshape(length, features)


def test_equal_sequences_keep_their_slot_and_chunk_in_time_order():
    tanks = [ramp(5, 0, 2), ramp(5, 100, 2)]  # seed 004: tanks A and B, 5 steps, 2 features
    b = stateful_batches(tanks, batch_size=2, chunk=2)
    assert b.x.shape == (6, 2, 2) and len(b) == 3
    # slot 0 of batches 0, 1, 2 is tank A's steps [0:2], [2:4], [4:5] + padding
    np.testing.assert_array_equal(b.x[0], tanks[0][0:2])
    np.testing.assert_array_equal(b.x[2], tanks[0][2:4])
    np.testing.assert_array_equal(b.x[4, :1], tanks[0][4:5])
    np.testing.assert_array_equal(b.x[4, 1:], 0.0)
    np.testing.assert_array_equal(b.x[1], tanks[1][0:2])
    np.testing.assert_array_equal(b.resets, [[True, True], [False, False], [False, False]])
    np.testing.assert_array_equal(b.sample_weight[4], [1.0, 0.0])
    np.testing.assert_array_equal(b.sample_weight[:4], 1.0)


def test_ragged_sequences_take_the_first_free_slot_and_reset_it():
    seqs = [ramp(5, 0), ramp(2, 10), ramp(3, 20)]
    b = stateful_batches(seqs, batch_size=2, chunk=2)
    # slot 0: seq 0 chunks at 0, 2, 4; slot 1: seq 1 chunk at 0, then seq 2 at 0, 2
    np.testing.assert_array_equal(b.source[:, 0], [[0, 0], [0, 2], [0, 4]])
    np.testing.assert_array_equal(b.source[:, 1], [[1, 0], [2, 0], [2, 2]])
    np.testing.assert_array_equal(b.resets, [[True, True], [False, True], [False, False]])
    np.testing.assert_array_equal(b.x[3, :, 0], [20, 21])
    np.testing.assert_array_equal(b.sample_weight[5], [1.0, 0.0])


def test_idle_slots_get_weightless_padding_and_a_reset():
    b = stateful_batches([ramp(4, 0)], batch_size=3, chunk=2)
    np.testing.assert_array_equal(b.source[:, 1:, 0], -1)
    np.testing.assert_array_equal(b.sample_weight.reshape(2, 3, 2)[:, 1:], 0.0)
    assert b.resets[:, 1:].all()


def test_targets_follow_the_inputs_and_to_sequences_inverts_the_layout():
    seqs = [ramp(7, 0, 3), ramp(4, 50, 3), ramp(6, 90, 3)]
    targets = [s[:, :1] * 2 for s in seqs]
    b = stateful_batches(seqs, targets, batch_size=2, chunk=3)
    assert b.y.shape == (len(b) * 2, 3, 1)
    for back, original in zip(b.to_sequences(b.y), targets):
        np.testing.assert_array_equal(back, original)
    for back, original in zip(b.to_sequences(b.x), seqs):
        np.testing.assert_array_equal(back, original)


def test_a_3d_array_and_no_chunk_means_one_batch_of_whole_sequences():
    x = np.random.default_rng(0).normal(size=(4, 6, 2))
    b = stateful_batches(x, batch_size=4)
    assert len(b) == 1 and b.chunk == 6
    np.testing.assert_allclose(b.x, x.astype(np.float32))


def test_iteration_yields_batches_in_order():
    seqs = [ramp(4, 0), ramp(4, 10)]
    b = stateful_batches(seqs, [s * 0 for s in seqs], batch_size=2, chunk=2)
    batches = list(b)
    assert len(batches) == 2
    np.testing.assert_array_equal(batches[1][0][:, :, 0], [[2, 3], [12, 13]])


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"targets\[1\]`.*3 steps.*received 2 steps"):
        stateful_batches([ramp(3, 0), ramp(3, 0)], [ramp(3, 0), ramp(2, 0)])
    with pytest.raises(ValueError, match=r"NaN or inf in 1 row\(s\): 1"):
        stateful_batches([np.array([[0.0], [np.nan], [1.0]])])
    with pytest.raises(ValueError, match=r"pass \[sequences\]"):
        stateful_batches(ramp(5, 0))
    with pytest.raises(ValueError, match="same features"):
        stateful_batches([ramp(3, 0, 2), ramp(3, 0, 1)])
    with pytest.raises(ValueError, match="batch_size"):
        stateful_batches([ramp(3, 0)], batch_size=0)
    with pytest.raises(ValueError, match="per-step outputs"):
        stateful_batches([ramp(3, 0)], chunk=2).to_sequences(np.zeros((2, 1)))


def test_per_step_target_arrays_and_mixed_target_dtypes():
    b = stateful_batches(np.zeros((4, 6, 2)), np.arange(24.0).reshape(4, 6), batch_size=2, chunk=3)
    assert b.y.shape == (8, 3)
    np.testing.assert_array_equal(b.to_sequences(b.y)[3], np.arange(18.0, 24.0))
    mixed = stateful_batches([np.zeros((2, 1)), np.zeros((2, 1))], [np.array([1, 2]), np.array([1.5, 2.5])],
                             batch_size=2)
    np.testing.assert_array_equal(mixed.y[1], [1.5, 2.5])  # not truncated to the first target's ints
