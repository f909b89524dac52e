"""Per-stream state: predict(x, streams=ids) / StreamState equal running each stream alone."""

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers as L
from lstmkit.trainers.streams import StreamState


def many_to_many(seed=0, batch=None, stateful=False):
    torch.manual_seed(seed)
    shape = dict(batch_shape=(batch, None, 3)) if batch else dict(shape=(None, 3))
    return lstmkit.Sequential([
        L.Input(**shape), L.LSTM(8, return_sequences=True, stateful=stateful),
        L.GRU(5, return_sequences=True, stateful=stateful), L.SimpleRNN(4, return_sequences=True, stateful=stateful),
        L.TimeDistributed(L.Dense(2))])


def series(n=3, length=24, seed=1):
    return np.random.default_rng(seed).normal(size=(n, length, 3)).astype(np.float32)


def test_interleaved_chunks_in_any_batch_composition_equal_each_stream_run_alone():
    model = many_to_many()
    data = series()
    alone = model.predict(data, verbose=0)
    rng = np.random.default_rng(7)
    pos = [0, 0, 0]
    got = [[], [], []]
    while min(pos) < data.shape[1]:
        active = [s for s in range(3) if pos[s] < data.shape[1]]
        members = list(rng.permutation(active)[:rng.integers(1, len(active) + 1)])
        length = int(min(rng.integers(1, 6), *(data.shape[1] - pos[s] for s in members)))
        chunk = np.stack([data[s, pos[s]:pos[s] + length] for s in members])
        out = model.predict(chunk, streams=[f"s{s}" for s in members])
        for row, s in enumerate(members):
            got[s].append(out[row])
            pos[s] += length
    for s in range(3):
        np.testing.assert_allclose(np.concatenate(got[s]), alone[s], atol=1e-5)


def test_streams_match_keras_style_stateful_mode_with_the_same_weights():
    plain = many_to_many()
    keras_style = many_to_many(batch=1, stateful=True)
    keras_style.set_weights(plain.get_weights())
    data = series(n=1)
    stateful_out = np.concatenate([keras_style.predict(data[:, i:i + 4], verbose=0) for i in range(0, 24, 4)], 1)
    stream_out = np.concatenate([keras_style.predict(data[:, i:i + 4], streams=["x"]) for i in range(0, 24, 4)], 1)
    np.testing.assert_allclose(stream_out, stateful_out, atol=1e-5)


def test_streams_leave_the_keras_slot_memory_alone():
    model = many_to_many(batch=2, stateful=True)
    data = series(n=2)
    model.predict(data[:, :5], verbose=0)
    memory = [s.clone() for s in model.layers[0].states]
    model.predict(data[:1, :7], streams=["a"])  # batch 1 on a model with fixed batch 2: fine for streams
    for before, after in zip(memory, model.layers[0].states):
        torch.testing.assert_close(before, after)


def test_new_ids_start_from_zeros_and_reset_forgets_one_some_or_all():
    model = many_to_many()
    data = series(n=3)
    fresh = model.predict(data[:, :6], verbose=0)
    model.predict(data[:, :6], streams=["a", "b", "c"])
    cont = model.predict(data[:, :6], streams=["a", "b", "c"])
    assert not np.allclose(cont, fresh, atol=1e-4)  # the second chunk continues the first
    model.reset_streams("b")
    out = model.predict(data[:, :6], streams=["a", "b", "c"])
    np.testing.assert_allclose(out[1], fresh[1], atol=1e-6)
    assert not np.allclose(out[0], fresh[0], atol=1e-4)
    model.reset_streams(["a", "c"])
    np.testing.assert_allclose(model.predict(data[:, :6], streams=["a", "c", "b"])[:2], fresh[:2], atol=1e-6)
    model.reset_streams()
    assert len(model.stream_state) == 0


def test_a_separate_stream_state_saves_and_restores_exactly(tmp_path):
    model = many_to_many()
    data = series(n=3)
    state = StreamState(model)
    ids = ["tank A", 7, ("site", 2)]
    state.predict(data[:, :10], ids)
    path = tmp_path / "streams.safetensors"
    state.save(path)
    expected = state.predict(data[:, 10:], ids)
    restored = StreamState(many_to_many())
    restored.load(path)
    assert restored.ids == ids
    np.testing.assert_allclose(restored.predict(data[:, 10:], ids), expected, atol=1e-6)
    np.testing.assert_allclose(model.predict(data, verbose=0)[:, 10:], expected, atol=1e-5)
    assert [len(v) for v in state.states(7).values()] == [2, 1, 1]  # LSTM [h, c], GRU [h], SimpleRNN [h]


def test_masked_padding_holds_the_state_so_chunks_of_different_lengths_can_share_a_call():
    torch.manual_seed(0)
    model = lstmkit.Sequential([L.Input((None, 3)), L.Masking(0.0), L.LSTM(6, return_sequences=True), L.Dense(1)])
    data = series(n=2)
    alone = model.predict(data, verbose=0)
    first = np.zeros((2, 8, 3), np.float32)
    first[0], first[1, :5] = data[0, :8], data[1, :5]  # stream b's chunk is 5 steps, post-padded
    model.predict(first, streams=["a", "b"])
    out = model.predict(np.stack([data[0, 8:16], data[1, 5:13]]), streams=["a", "b"])
    np.testing.assert_allclose(out[0], alone[0, 8:16], atol=1e-5)
    np.testing.assert_allclose(out[1], alone[1, 5:13], atol=1e-5)


def test_many_to_one_model_gives_the_prediction_after_each_chunk_and_batch_size_splits_rows():
    torch.manual_seed(0)
    model = lstmkit.Sequential([L.Input((None, 3)), L.LSTM(6), L.Dense(1)])
    data = series(n=5)
    calls = []
    original = StreamState.predict

    def counted(self, x, ids):
        calls.append(len(ids))
        return original(self, x, ids)

    StreamState.predict = counted
    try:
        model.predict(data[:, :9], streams=list(range(5)), batch_size=2)
        out = model.predict(data[:, 9:15], streams=list(range(5)), batch_size=2)
    finally:
        StreamState.predict = original
    assert calls == [2, 2, 1, 2, 2, 1]  # rows split into calls of at most batch_size
    np.testing.assert_allclose(out, model.predict(data[:, :15], verbose=0), atol=1e-5)


def test_errors_say_what_is_wrong():
    model = many_to_many()
    data = series(n=2)
    with pytest.raises(ValueError, match=r"different ids within one call.*'a' more than once"):
        model.predict(data, streams=["a", "a"])
    with pytest.raises(ValueError, match=r"one id per row of x \(2\).*3 ids"):
        model.predict(data, streams=["a", "b", "c"])
    with pytest.raises(ValueError, match="one of the 0 known streams"):
        StreamState(model).states("nope")
    bi = lstmkit.Sequential([L.Input((None, 3)), L.Bidirectional(L.LSTM(3))])
    with pytest.raises(ValueError, match="reads the sequence backwards"):
        bi.predict(data, streams=[0, 1])
    conv = lstmkit.Sequential([L.Input((None, 3)), L.Conv1D(4, 3, padding="causal"), L.LSTM(3)])
    with pytest.raises(ValueError, match="mixes 3 neighbouring steps"):
        StreamState(conv)
    dense = lstmkit.Sequential([L.Input((3,)), L.Dense(2)])
    with pytest.raises(ValueError, match="no recurrent layer"):
        StreamState(dense)


def test_loading_a_foreign_file_is_refused(tmp_path):
    path = tmp_path / "x.safetensors"
    path.write_bytes(b"not a safetensors file at all")
    with pytest.raises(ValueError, match="a file written by StreamState.save"):
        StreamState(many_to_many()).load(path)


def test_a_failed_call_leaves_no_stream_behind(tmp_path):
    model = many_to_many()
    state = StreamState(model)
    with pytest.raises(ValueError):
        state.predict(np.zeros((1, 3, 5), np.float32), ["new"])  # 5 features for a 3-feature model
    assert "new" not in state and state.ids == []
    state.predict(series(n=1)[:, :4], ["ok"])
    state.save(tmp_path / "s.safetensors")
    StreamState(model).load(tmp_path / "s.safetensors")


def test_states_restore_into_a_fresh_copy_but_not_into_another_architecture(tmp_path):
    model = many_to_many()
    data = series(n=2)
    model.predict(data[:, :10], streams=["a", "b"])
    path = tmp_path / "s.safetensors"
    model.stream_state.save(path)
    twin = many_to_many()  # the same architecture, other auto-generated layer names
    twin.set_weights(model.get_weights())
    assert [layer.name for layer in twin.layers] != [layer.name for layer in model.layers]
    twin.stream_state.load(path)
    np.testing.assert_allclose(twin.predict(data[:, 10:], streams=["a", "b"]),
                               model.predict(data[:, 10:], streams=["a", "b"]), atol=1e-6)
    torch.manual_seed(0)
    other = lstmkit.Sequential([L.Input((None, 3)), L.GRU(8, return_sequences=True), L.Dense(2)])
    with pytest.raises(ValueError, match=r"states of 1 recurrent layer\(s\).*states of 3 layer\(s\)"):
        other.stream_state.load(path)


def test_predict_with_streams_refuses_steps_and_callbacks():
    with pytest.raises(ValueError, match="None with streams"):
        many_to_many().predict(series(n=1), streams=["a"], steps=2)


def test_stream_predictions_run_without_dropout_and_keep_the_training_mode():
    torch.manual_seed(0)
    model = lstmkit.Sequential([L.Input((None, 3)), L.LSTM(6, return_sequences=True, dropout=0.5,
                                                          recurrent_dropout=0.5), L.Dropout(0.5), L.Dense(1)])
    model.train()
    data = series(n=1)
    first = model.predict(data, streams=["a"])
    model.reset_streams()
    np.testing.assert_allclose(model.predict(data, streams=["a"]), first)  # deterministic: no dropout
    np.testing.assert_allclose(first, model.predict(data, verbose=0), atol=1e-6)
    assert model.training


def test_the_same_ids_tuple_again_steps_the_same_streams_as_a_fresh_list_would():
    """A tuple of ids passed again reuses the previous call's rows (forecast.stateful's loop); a list
    each time takes the general path. Both must give the same numbers, also across resets, new streams
    and evictions between the calls."""
    model = many_to_many()
    data = series(n=4, length=30)
    ids = ("a", "b", "c")
    fast, general = StreamState(model, max_streams=4), StreamState(model, max_streams=4)

    def both(chunk, tuple_ids):
        one = fast.predict(chunk, tuple_ids)
        two = general.predict(chunk, list(tuple_ids))
        np.testing.assert_array_equal(one, two)
        return one

    for start in range(0, 9, 3):
        both(data[:3, start:start + 3], ids)
    fast.reset("b"), general.reset("b")  # b restarts from zeros, the cached rows must not serve it
    both(data[:3, 9:12], ids)
    both(data[3:, :2], ("d",))  # a fourth stream: the store is full
    both(data[:3, 12:15], ids)
    both(data[3:, 2:4], ("e",))  # evicts the least recently used stream
    assert fast.evicted == general.evicted == 1 and sorted(map(str, fast.ids)) == sorted(map(str, general.ids))
    out = both(data[:3, 15:18], ids)
    assert out.shape == (3, 3, 2)
    for stream in fast.ids:
        for name, tensors in fast.states(stream).items():
            for mine, theirs in zip(tensors, general.states(stream)[name]):
                torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def test_a_bare_layer_keeps_its_dtype_handling():
    """A bare recurrent layer as the model gets its full call: a mixed policy runs under autocast, and a
    float32 layer inside an autocast region computes in float32 (only a model's call is shortcut)."""
    x = np.random.default_rng(0).normal(size=(2, 4, 1))
    torch.manual_seed(0)
    mixed = L.LSTM(3, return_sequences=True, dtype="mixed_bfloat16")
    expected = mixed(torch.from_numpy(x), training=False).float().detach().numpy()
    np.testing.assert_array_equal(StreamState(mixed).predict(x, ids=[0, 1]), expected)
    plain = L.LSTM(3, return_sequences=True)
    reference = plain(torch.from_numpy(x).float()).detach().numpy()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = StreamState(plain).predict(x, ids=[0, 1])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference, rtol=1e-6, atol=1e-7)
