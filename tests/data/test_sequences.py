"""lstmkit.data.sequences: long table -> (n_groups, T, F) sequences and back."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data.sequences import Sequences, sequences


def small_frame():
    """3 groups of lengths 2, 3, 1, first seen in the order 2, 1, 3; values exact in float32."""
    return pd.DataFrame({
        "id": [2, 2, 1, 1, 1, 3],
        "t": [0, 1, 0, 1, 2, 0],
        "a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "b": [10, 20, 30, 40, 50, 60],
        "y": [0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
    }, index=[f"r{i}" for i in range(6)])


def ventilator_frame(n_breaths=4, steps=80, seed=0):
    """Seed 000's train.csv layout: sorted by breath_id, 80 rows per breath."""
    rng = np.random.default_rng(seed)
    n = n_breaths * steps
    return pd.DataFrame({
        "id": np.arange(1, n + 1),
        "breath_id": np.repeat(np.arange(1, n_breaths + 1) * 3, steps),
        "R": np.repeat(rng.choice([5, 20, 50], n_breaths), steps),
        "C": np.repeat(rng.choice([10, 20, 50], n_breaths), steps),
        "time_step": np.tile(np.arange(steps) * 0.0335, n_breaths),
        "u_in": rng.uniform(0, 100, n),
        "u_out": rng.integers(0, 2, n),
        "pressure": rng.uniform(-2, 60, n),
    })


# --- shapes and exact values -------------------------------------------------------------------------

def test_post_padding_exact_values():
    seq = sequences(small_frame(), "id", "t", ["a", "b"], "y", padding="post")
    assert isinstance(seq, Sequences) and len(seq) == 3
    assert seq.x.dtype == np.float32 and seq.x.shape == (3, 3, 2)
    np.testing.assert_array_equal(seq.ids, [2, 1, 3])  # order of first appearance
    np.testing.assert_array_equal(seq.lengths, [2, 3, 1])
    np.testing.assert_array_equal(seq.x[..., 0], [[1, 2, 0], [3, 4, 5], [6, 0, 0]])
    np.testing.assert_array_equal(seq.x[..., 1], [[10, 20, 0], [30, 40, 50], [60, 0, 0]])
    np.testing.assert_array_equal(seq.y[..., 0], [[0.5, 1, 0], [1.5, 2, 2.5], [3, 0, 0]])
    np.testing.assert_array_equal(seq.mask, [[1, 1, 0], [1, 1, 1], [1, 0, 0]])
    assert seq.mask.dtype == bool and seq.y.dtype == np.float32
    assert seq.feature_cols == ["a", "b"] and seq.target_cols == ["y"]


def test_pre_padding_pad_value_and_max_len():
    seq = sequences(small_frame(), "id", "t", "a", padding="pre", max_len=4, pad_value=-1.0)
    assert seq.y is None and seq.target_cols == []
    np.testing.assert_array_equal(seq.x[..., 0], [[-1, -1, 1, 2], [-1, 3, 4, 5], [-1, -1, -1, 6]])
    np.testing.assert_array_equal(seq.mask, [[0, 0, 1, 1], [0, 1, 1, 1], [0, 0, 0, 1]])
    np.testing.assert_array_equal(seq.positions, [[-1, -1, 0, 1], [-1, 2, 3, 4], [-1, -1, -1, 5]])


def test_truncating_pre_keeps_last_steps_and_post_keeps_first():
    pre = sequences(small_frame(), "id", "t", "a", padding="post", max_len=2, truncating="pre")
    np.testing.assert_array_equal(pre.x[..., 0], [[1, 2], [4, 5], [6, 0]])
    post = sequences(small_frame(), "id", "t", "a", padding="pre", max_len=2, truncating="post")
    np.testing.assert_array_equal(post.x[..., 0], [[1, 2], [3, 4], [0, 6]])
    np.testing.assert_array_equal(post.lengths, [2, 2, 1])


def test_default_features_are_numeric_columns_except_id_time_and_targets():
    frame = small_frame().assign(name=list("uvwxyz"), flag=[True, False] * 3)
    seq = sequences(frame, "id", "t", target_cols="y", padding="post")
    assert seq.feature_cols == ["a", "b", "flag"]
    np.testing.assert_array_equal(seq.x[1, :, 2], [1, 0, 1])  # rows r2, r3, r4


def test_string_ids_and_datetime_time():
    frame = pd.DataFrame({"sensor": ["s2", "s1", "s2", "s1"],
                          "when": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-02"]),
                          "v": [4.0, 1.0, 3.0, 2.0]})
    seq = sequences(frame, "sensor", "when", "v", sort=True)
    assert list(seq.ids) == ["s1", "s2"]
    np.testing.assert_array_equal(seq.x[..., 0], [[1, 2], [3, 4]])


def test_seed_000_equivalence_with_reshape():
    """Seed 000: train sorted by breath_id, 80 rows per breath, x.reshape(-1, 80, F)."""
    train = ventilator_frame()
    features = ["R", "C", "u_in", "u_out"]
    seq = sequences(train, "breath_id", "time_step", features, "pressure")
    np.testing.assert_array_equal(seq.x, train[features].to_numpy().reshape(-1, 80, 4).astype(np.float32))
    np.testing.assert_array_equal(seq.y[..., 0], train["pressure"].to_numpy().reshape(-1, 80).astype(np.float32))
    np.testing.assert_array_equal(seq.ids, train["breath_id"].unique())
    assert seq.mask.all() and (seq.lengths == 80).all()
    # the default features: every numeric column but breath_id, time_step and pressure (the row id too)
    assert sequences(train, "breath_id", "time_step", target_cols="pressure").feature_cols == \
        ["id", "R", "C", "u_in", "u_out"]


def test_seed_000_submission_written_back_with_to_frame():
    test = ventilator_frame(n_breaths=3, seed=1)
    seq = sequences(test, "breath_id", "time_step", ["R", "C", "u_in", "u_out"])
    predictions = seq.x[..., 2] * 2.0  # a "model" predicting 2 * u_in per step
    submission = pd.DataFrame({"id": test["id"]})
    submission["pressure"] = seq.to_frame(predictions, name="pressure")
    np.testing.assert_array_equal(submission["pressure"].to_numpy(), (test["u_in"].to_numpy(np.float32) * 2.0))


# --- to_frame round trips ----------------------------------------------------------------------------

def test_to_frame_round_trip_in_table_order():
    frame = small_frame()
    seq = sequences(frame, "id", "t", target_cols="y", padding="post")
    back = seq.to_frame(seq.y, name="y")
    assert isinstance(back, pd.Series) and back.name == "y"
    pd.testing.assert_index_equal(back.index, frame.index)
    np.testing.assert_array_equal(back.to_numpy(), frame["y"].to_numpy())
    frame["pred"] = seq.to_frame(seq.y[..., 0])  # 2-D predictions too; assignment aligns
    np.testing.assert_array_equal(frame["pred"].to_numpy(), frame["y"].to_numpy())


@pytest.mark.parametrize("padding", ["post", "pre"])
def test_to_frame_round_trip_shuffled_rows_sorted(padding):
    frame = small_frame().sample(frac=1.0, random_state=3)
    seq = sequences(frame, "id", "t", ["a", "b"], "y", padding=padding, sort=True)
    np.testing.assert_array_equal(seq.ids, [1, 2, 3])
    back = seq.to_frame(seq.y)
    pd.testing.assert_index_equal(back.index, frame.index)  # the shuffled frame's own row order
    np.testing.assert_array_equal(back.to_numpy(), frame["y"].to_numpy())


def test_to_frame_round_trip_seed_frame_shuffled():
    train = ventilator_frame(n_breaths=3)
    shuffled = train.sample(frac=1.0, random_state=0)
    seq = sequences(shuffled, "breath_id", "time_step", ["u_in"], "pressure", sort=True)
    np.testing.assert_array_equal(seq.x[..., 0], train["u_in"].to_numpy(np.float32).reshape(-1, 80))
    back = seq.to_frame(seq.y)
    np.testing.assert_array_equal(back.to_numpy(), shuffled["pressure"].to_numpy(np.float32))


def test_to_frame_several_outputs_and_truncated_rows():
    frame = small_frame()
    seq = sequences(frame, "id", "t", ["a", "b"], padding="post", max_len=2, truncating="pre")
    both = seq.to_frame(seq.x)
    assert list(both.columns) == ["prediction_0", "prediction_1"]
    named = seq.to_frame(seq.x, name=["a", "b"])
    assert list(named.columns) == ["a", "b"]
    kept = seq.mask.sum()
    assert named.notna().all(axis=1).sum() == kept == 5
    assert named.loc["r2"].isna().all()  # the first row of group 1 was truncated away
    np.testing.assert_array_equal(named.drop(index="r2").to_numpy(), frame[["a", "b"]].drop(index="r2").to_numpy())


def test_to_frame_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    seq = sequences(small_frame(), "id", "t", "a", "y", padding="post")
    back = seq.to_frame(torch.from_numpy(seq.y))
    np.testing.assert_array_equal(back.to_numpy(), small_frame()["y"].to_numpy())


# --- errors ------------------------------------------------------------------------------------------

def test_unequal_lengths_without_padding_names_groups():
    pattern = r"same number of rows.*lengths from 1 to 3.*groups 2 \(2 rows\), 1 \(3 rows\).*padding='post'"
    with pytest.raises(ValueError, match=pattern):
        sequences(small_frame(), "id", "t", "a")


def test_time_out_of_order_names_group_and_rows():
    frame = small_frame()
    frame.loc["r3", "t"] = 5  # group 1: times 0, 5, 2
    with pytest.raises(ValueError, match=r"group 1 where row r4 \(time 2\) comes after row r3 \(time 5\).*sort=True"):
        sequences(frame, "id", "t", "a", padding="post")
    seq = sequences(frame, "id", "t", "a", padding="post", sort=True)
    np.testing.assert_array_equal(seq.x[0, :, 0], [3, 5, 4])  # ids ascending, rows by time


def test_duplicate_times_raise_even_when_sorted():
    frame = small_frame()
    frame.loc["r1", "t"] = 0
    with pytest.raises(ValueError, match=r"duplicate time 0 in group 2 at rows r0 and r1.*drop_duplicates"):
        sequences(frame, "id", "t", "a", padding="post", sort=True)


@pytest.mark.parametrize("kwargs, column", [
    ({"id_col": "breath"}, "'breath'"),
    ({"time_col": "time"}, "'time'"),
    ({"feature_cols": ["a", "zz"]}, "'zz'"),
    ({"target_cols": "pressure"}, "'pressure'"),
])
def test_missing_columns_are_named_with_available_ones(kwargs, column):
    args = {"id_col": "id", "padding": "post", **kwargs}
    with pytest.raises(KeyError, match=rf"missing column\(s\) {column}.*Available columns: 'id', 't', 'a', 'b', 'y'"):
        sequences(small_frame(), **args)


def test_non_numeric_feature_and_time_columns():
    frame = small_frame().assign(name=list("uvwxyz"))
    with pytest.raises(TypeError, match=r"`feature_cols` expects numeric or bool columns.*'name'"):
        sequences(frame, "id", feature_cols=["a", "name"], padding="post")
    with pytest.raises(TypeError, match=r"`target_cols` expects numeric.*'name'"):
        sequences(frame, "id", feature_cols="a", target_cols="name", padding="post")
    with pytest.raises(TypeError, match=r"`time_col` 'name' expects numeric or datetime"):
        sequences(frame, "id", "name", "a", padding="post")


def test_nan_and_inf_name_rows_by_label():
    frame = small_frame()
    frame.loc["r4", "a"] = np.nan
    with pytest.raises(ValueError, match=r"`feature_cols` expects finite values.*1 row\(s\): r4"):
        sequences(frame, "id", "t", "a", padding="post")
    frame = small_frame()
    frame.loc["r5", "y"] = np.inf
    with pytest.raises(ValueError, match=r"`target_cols` expects finite values.*r5"):
        sequences(frame, "id", "t", "a", "y", padding="post")
    frame = small_frame().astype({"id": float})
    frame.loc["r0", "id"] = np.nan
    with pytest.raises(ValueError, match=r"`id_col` 'id' expects a value in every row.*r0"):
        sequences(frame, "id", "t", "a", padding="post")


def test_too_long_groups_need_truncating():
    with pytest.raises(ValueError, match=r"max_len=2 and 1 longer group\(s\): 1 \(3 rows\).*truncating='pre'"):
        sequences(small_frame(), "id", "t", "a", padding="post", max_len=2)


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"padding": "both"}, ValueError, r"`padding` expects one of None, 'post', 'pre'; received 'both'"),
    ({"padding": "post", "truncating": "middle"}, ValueError, r"`truncating` expects one of"),
    ({"max_len": 3}, ValueError, r"`max_len` expects None when padding=None.*padding='post'"),
    ({"padding": "post", "max_len": 0}, ValueError, r"`max_len` expects a positive integer"),
    ({"padding": "post", "pad_value": "zero"}, TypeError, r"`pad_value` expects a number"),
    ({"padding": "post", "sort": "yes"}, TypeError, r"`sort` expects True or False"),
    ({"padding": "post", "feature_cols": []}, ValueError, r"`feature_cols` expects at least one column"),
])
def test_bad_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        sequences(small_frame(), "id", "t", **{"feature_cols": "a", **kwargs})


def test_bad_frame():
    with pytest.raises(TypeError, match=r"`frame` expects a pandas DataFrame.*received ndarray"):
        sequences(np.zeros((4, 2)), "id")
    with pytest.raises(ValueError, match=r"`frame` expects at least one row"):
        sequences(small_frame().iloc[:0], "id")
    with pytest.raises(ValueError, match=r"`feature_cols` expects at least one numeric column"):
        sequences(small_frame()[["id", "t", "y"]], "id", "t", target_cols="y", padding="post")


def test_to_frame_wrong_shape_and_names():
    seq = sequences(small_frame(), "id", "t", "a", padding="post")
    with pytest.raises(ValueError, match=r"`predictions` expects an array of shape \(3, 3\) or \(3, 3, k\); "
                                         r"received a 2-D array of shape \(3, 2\)"):
        seq.to_frame(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"`predictions` expects.*received a 1-D array of shape \(6,\)"):
        seq.to_frame(np.zeros(6))
    with pytest.raises(ValueError, match=r"`name` expects a name or a list of 2 names"):
        seq.to_frame(np.zeros((3, 3, 2)), name=["only_one"])


def test_unequal_lengths_names_only_the_odd_groups():
    frame = pd.DataFrame({"id": [1, 1, 2, 2, 9, 3, 3], "v": np.arange(7.0)})
    with pytest.raises(ValueError, match=r"lengths from 1 to 2 \(most often 2\); groups 9 \(1 rows\)\. Pass padding"):
        sequences(frame, "id")


def test_sort_without_time_col_is_stable_by_id():
    frame = pd.DataFrame({"id": [3, 1, 3, 1], "v": [1.0, 2.0, 3.0, 4.0]})
    seq = sequences(frame, "id", sort=True)
    np.testing.assert_array_equal(seq.ids, [1, 3])
    np.testing.assert_array_equal(seq.x[..., 0], [[2, 4], [1, 3]])
    np.testing.assert_array_equal(sequences(frame, "id").x[..., 0], [[1, 3], [2, 4]])  # interleaved rows, no sort
