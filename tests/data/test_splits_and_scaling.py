"""lstmkit.data.splits and lstmkit.data.scaling, proved against scikit-learn itself."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GroupKFold, KFold, train_test_split
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from lstmkit.data.scaling import SeriesScaler
from lstmkit.data.sequences import sequences
from lstmkit.data.splits import _shuffled_group_folds, chronological_split, group_kfold, group_split

# --- chronological_split -----------------------------------------------------------------------------


@pytest.mark.parametrize("test_size", [0.25, 0.2, 3])
def test_chronological_split_equals_train_test_split_without_shuffle(test_size):
    x = np.arange(40).reshape(20, 2)
    y = pd.Series(np.arange(20) * 10.0, index=np.arange(100, 120))
    ours = chronological_split(x, y, test_size=test_size)
    theirs = train_test_split(x, y, test_size=test_size, shuffle=False)
    assert len(ours) == 4
    for a, b in zip(ours, theirs):
        if isinstance(b, pd.Series):
            pd.testing.assert_series_equal(a, b)
        else:
            np.testing.assert_array_equal(a, b)


def test_chronological_split_with_val_and_gap_exact_rows():
    x = np.arange(20)
    frame = pd.DataFrame({"v": np.arange(20)}, index=pd.date_range("2024-01-01", periods=20))
    x_train, x_val, x_test, f_train, f_val, f_test = chronological_split(x, frame, test_size=4, val_size=0.2, gap=2)
    np.testing.assert_array_equal(x_train, np.arange(0, 8))  # 20 - 4 test - 4 val - 2 * 2 gap
    np.testing.assert_array_equal(x_val, np.arange(10, 14))
    np.testing.assert_array_equal(x_test, np.arange(16, 20))
    assert f_val.index[0] == pd.Timestamp("2024-01-11") and list(f_test["v"]) == [16, 17, 18, 19]
    train, test = chronological_split(list(range(10)), test_size=0.3, gap=1)
    assert train == [0, 1, 2, 3, 4, 5] and test == [7, 8, 9]


@pytest.mark.parametrize("args, kwargs, error, pattern", [
    ((), {}, ValueError, r"chronological_split: `\*arrays` expects at least one array"),
    ((np.zeros(5), np.zeros(6)), {}, ValueError, r"expects arrays of the same length.*lengths \[5, 6\]"),
    ((np.zeros(5),), {"test_size": 3, "val_size": 2}, ValueError,
     r"more rows than the 3 test \+ 2 val \+ 0 gap rows.*received 5 rows.*Lower test_size"),
    ((np.zeros(5),), {"test_size": 0.5, "gap": 2}, ValueError, r"3 test \+ 2 gap rows.*received 5 rows"),
    ((np.zeros(5),), {"test_size": 1.5}, ValueError, r"`test_size` expects a float in \(0, 1\) or an int count"),
    ((np.zeros(5),), {"test_size": 0}, ValueError, r"`test_size` expects a float in \(0, 1\) or an int count >= 1"),
    ((np.zeros(5),), {"test_size": "20%"}, TypeError, r"`test_size` expects a float in \(0, 1\).*'20%'"),
    ((np.zeros(5),), {"gap": -1}, ValueError, r"`gap` expects an integer >= 0"),
    ((np.float64(3.0),), {}, ValueError, r"`arrays\[0\]` expects an array with at least one axis"),
])
def test_chronological_split_errors(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        chronological_split(*args, **kwargs)


# --- group_split / group_kfold -----------------------------------------------------------------------

def breath_frame(n_breaths=10, steps=4):
    return pd.DataFrame({"breath_id": np.repeat(np.arange(n_breaths) + 1, steps),
                         "u_in": np.arange(n_breaths * steps, dtype=float)})


def test_group_split_keeps_groups_whole():
    frame = breath_frame()
    train_idx, test_idx = group_split(frame, "breath_id", test_size=0.3, seed=0)
    train_groups = set(frame["breath_id"].iloc[train_idx])
    test_groups = set(frame["breath_id"].iloc[test_idx])
    assert not train_groups & test_groups and len(test_groups) == 3 and len(train_groups) == 7
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(40))
    assert (np.diff(train_idx) > 0).all() and train_idx.dtype == np.int64
    # the same split from the labels alone, and from data + a label array; reproducible by seed
    again = group_split(frame["breath_id"].to_numpy(), test_size=0.3, seed=0)
    other = group_split(frame[["u_in"]], frame["breath_id"], test_size=0.3, seed=0)
    for a, b in zip((train_idx, test_idx), again):
        np.testing.assert_array_equal(a, b)
    for a, b in zip((train_idx, test_idx), other):
        np.testing.assert_array_equal(a, b)
    _, two = group_split(frame, "breath_id", test_size=2, seed=1)
    assert frame["breath_id"].iloc[two].nunique() == 2


@pytest.mark.parametrize("args, kwargs, error, pattern", [
    ((np.ones(5),), {}, ValueError, r"group_split: `groups` expects at least 2 distinct groups; received 1"),
    ((breath_frame(), "breath"), {}, KeyError, r"missing column\(s\) 'breath'.*'breath_id', 'u_in'"),
    ((np.zeros(4), [1, 2, 3]), {}, ValueError, r"`groups` expects one label per row of data \(4\); received 3"),
    ((np.array([1.0, np.nan, 2.0]),), {}, ValueError, r"expects a group label in every row.*row\(s\) 1"),
    ((np.arange(4),), {"test_size": 4}, ValueError, r"`test_size` expects an int in \[1, 3\] \(groups\)"),
    ((np.arange(4),), {"test_size": 0.9}, ValueError, r"`test_size` expects a fraction leaving a training group"),
    ((np.arange(4),), {"test_size": 1.0}, ValueError, r"`test_size` expects a float in \(0, 1\)"),
    ((np.arange(4),), {"seed": -1}, ValueError, r"`seed` expects an integer >= 0"),
    ((np.zeros((4, 2)),), {}, ValueError, r"`data` expects a 1-D array of group labels"),
])
def test_group_split_errors(args, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        group_split(*args, **kwargs)


def test_group_kfold_each_group_validated_once():
    ids = breath_frame(n_breaths=7)["breath_id"].to_numpy()  # row-level ids: 4 rows per breath
    folds = list(group_kfold(ids, n_splits=3))
    assert len(folds) == 3
    seen = np.concatenate([val for _, val in folds])
    np.testing.assert_array_equal(np.sort(seen), np.arange(len(ids)))
    for train_idx, val_idx in folds:
        assert not set(ids[train_idx]) & set(ids[val_idx])
        np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, val_idx])), np.arange(len(ids)))
    for (ours, _), (theirs, _) in zip(folds, GroupKFold(3).split(ids, groups=ids)):
        np.testing.assert_array_equal(ours, theirs)


def test_group_kfold_matches_seed_000_kfold_over_breaths():
    """Seed 000: KFold(n_splits=5, shuffle=True, random_state=2021).split(train) on (n_breaths, 80, F)."""
    frame = pd.DataFrame({"breath_id": np.repeat([2, 5, 7, 8, 11, 13, 20, 21, 30, 31, 40], 3),
                          "u_in": np.arange(33.0)})
    seq = sequences(frame, "breath_id", feature_cols="u_in")
    ours = list(group_kfold(seq.ids, n_splits=5, shuffle=True, seed=2021))
    theirs = list(KFold(n_splits=5, shuffle=True, random_state=2021).split(seq.x))
    for (a_train, a_val), (b_train, b_val) in zip(ours, theirs):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_val, b_val)


def test_shuffled_group_folds_fallback_matches_group_kfold():
    labels = np.repeat([4, 1, 3, 9, 7], [2, 3, 1, 2, 2])
    ours = list(_shuffled_group_folds(labels, 3, 5))
    try:
        theirs = [val for _, val in GroupKFold(3, shuffle=True, random_state=5).split(labels, groups=labels)]
    except TypeError:
        pytest.skip("scikit-learn < 1.6 has no GroupKFold(shuffle=True)")
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"n_splits": 6}, ValueError, r"`n_splits` expects an int in \[2, 5\] \(the number of groups\); received 6"),
    ({"n_splits": 1}, ValueError, r"`n_splits` expects an int in \[2, 5\]"),
    ({"n_splits": 2.5}, TypeError, r"`n_splits` expects a positive integer"),
    ({"seed": 3}, ValueError, r"`seed` expects None when shuffle=False.*shuffle=True"),
    ({"shuffle": "yes"}, TypeError, r"`shuffle` expects True or False"),
])
def test_group_kfold_errors_are_raised_before_iterating(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        group_kfold(np.arange(5), **{"n_splits": 2, **kwargs})


# --- SeriesScaler ------------------------------------------------------------------------------------

def data3d(seed=0, n=6, steps=5, features=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, steps, features)) * [1.0, 10.0, 100.0]).astype(np.float32)


@pytest.mark.parametrize("name, reference", [("minmax", MinMaxScaler()), ("robust", RobustScaler()),
                                             ("standard", StandardScaler())])
def test_scaler_matches_sklearn_on_the_2d_reshape(name, reference):
    x = data3d()
    flat = x.reshape(-1, 3)
    ours = SeriesScaler(name).fit(x)
    expected = reference.fit(flat).transform(flat)
    scaled = ours.transform(x)
    assert scaled.shape == x.shape and scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, expected.reshape(x.shape))
    np.testing.assert_array_equal(SeriesScaler(name).fit(flat).transform(flat), expected)  # 2-D in, 2-D out
    np.testing.assert_array_equal(ours.inverse_transform(scaled),
                                  reference.inverse_transform(expected).reshape(x.shape))
    np.testing.assert_array_equal(SeriesScaler(name).fit_transform(x), scaled)


def test_scaler_instance_is_cloned_not_fitted_in_place():
    user = MinMaxScaler(feature_range=(-1, 1))
    x = data3d()
    scaled = SeriesScaler(user).fit_transform(x)
    assert not hasattr(user, "data_min_")
    assert scaled.min() == -1 and scaled.max() == 1


def test_column_subset_inverse_equals_full_inverse_column():
    x = data3d(seed=1)
    scaler = SeriesScaler("minmax").fit(x)
    scaled = scaler.transform(x)
    full = scaler.inverse_transform(scaled)
    np.testing.assert_array_equal(scaler.inverse_transform(scaled[..., 2], columns=[2]), full[..., 2])  # (n, T)
    np.testing.assert_array_equal(scaler.inverse_transform(scaled[..., 2:], columns=[2]), full[..., 2:])  # (n, T, 1)
    np.testing.assert_array_equal(scaler.inverse_transform(scaled[..., [2, 0]], columns=[-1, 0]), full[..., [2, 0]])
    np.testing.assert_array_equal(scaler.inverse_transform(scaled[:, 0, 1], columns=1), full[:, 0, 1])  # (rows,)
    np.testing.assert_allclose(full, x, rtol=1e-5, atol=1e-4)
    # the tutorial bug: inverting with the first column's statistics gives something else
    assert not np.allclose(MinMaxScaler().fit(x.reshape(-1, 3)[:, :1]).inverse_transform(scaled[..., 2].reshape(-1, 1)),
                           full[..., 2].reshape(-1, 1))


def test_dataframe_in_dataframe_out_and_named_inverse():
    frame = pd.DataFrame({"breath_id": ["a", "a", "b", "b"], "u_in": [1.0, 2.0, 3.0, 5.0],
                          "pressure": [10, 20, 30, 40]}, index=[7, 8, 9, 10])
    scaler = SeriesScaler("minmax", columns=["u_in", "pressure"]).fit(frame)
    scaled = scaler.transform(frame)
    pd.testing.assert_index_equal(scaled.index, frame.index)
    assert list(scaled.columns) == list(frame.columns)
    pd.testing.assert_series_equal(scaled["breath_id"], frame["breath_id"])
    np.testing.assert_array_equal(scaled["u_in"], [0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(scaled["pressure"], [0.0, 1 / 3, 2 / 3, 1.0])
    pd.testing.assert_frame_equal(scaler.inverse_transform(scaled), frame.astype({"pressure": float}))
    pred = pd.DataFrame({"pressure": [0.5, 1.0]}, index=["x", "y"])
    np.testing.assert_allclose(scaler.inverse_transform(pred)["pressure"], [25.0, 40.0])
    np.testing.assert_allclose(scaler.inverse_transform(np.array([0.5, 1.0]), columns=["pressure"]), [25.0, 40.0])
    np.testing.assert_allclose(scaler.inverse_transform(np.array([0.5]), columns="pressure"), [25.0])
    # a frame fitted by position, as seed 000's scaled columns, and an array transformed after a frame fit
    np.testing.assert_array_equal(scaler.transform(frame[["breath_id"]].assign(u_in=3.0, pressure=40))["u_in"], 0.5)


def test_fit_on_train_only_does_not_leak_test_statistics():
    series = np.arange(20, dtype=float).reshape(-1, 1)
    train, test = chronological_split(series, test_size=0.25)
    scaler = SeriesScaler("minmax").fit(train)
    np.testing.assert_array_equal(scaler.scaler_.data_max_, [14.0])
    np.testing.assert_allclose(scaler.transform(test)[:, 0], np.arange(15, 20) / 14.0)  # above 1
    assert scaler.transform(test).max() > 1.0
    reference = MinMaxScaler().fit(train)
    np.testing.assert_array_equal(scaler.transform(test), reference.transform(test))


def test_mask_keeps_padding_out_of_fit():
    frame = pd.DataFrame({"id": [1, 1, 1, 2, 3, 3], "a": [1.0, 2.0, 3.0, 10.0, 4.0, 6.0]})
    seq = sequences(frame, "id", feature_cols="a", padding="post", pad_value=-1000.0)
    scaler = SeriesScaler("robust").fit(seq.x, mask=seq.mask)
    reference = RobustScaler().fit(frame[["a"]].to_numpy(np.float32))
    np.testing.assert_array_equal(scaler.transform(seq.x)[seq.mask], reference.transform(seq.x[seq.mask]))
    unmasked = SeriesScaler("robust").fit(seq.x)
    assert unmasked.scaler_.center_[0] != scaler.scaler_.center_[0]


def test_per_group_scalers():
    frame = pd.DataFrame({"g": ["a", "a", "a", "b", "b"], "v": [0.0, 5.0, 10.0, 100.0, 300.0]})
    scaler = SeriesScaler("minmax", per_group=True).fit(frame[["v"]], groups=frame["g"])
    assert set(scaler.scalers_) == {"a", "b"}
    np.testing.assert_array_equal(scaler.transform(frame[["v"]], groups=frame["g"])["v"], [0, 0.5, 1, 0, 1])
    by_name = SeriesScaler("minmax", per_group=True, columns=["v"]).fit(frame, groups="g")
    np.testing.assert_array_equal(by_name.transform(frame, groups="g")["v"], [0, 0.5, 1, 0, 1])
    np.testing.assert_array_equal(by_name.inverse_transform(np.array([1.0, 0.5]), columns="v", groups=["a", "b"]),
                                  [10.0, 200.0])
    # 3-D with one id per sequence, each equal to a MinMaxScaler fitted on that sequence's group alone
    x = data3d(seed=2, n=4)
    ids = np.array([7, 9, 7, 9])
    scaled = SeriesScaler("minmax", per_group=True).fit_transform(x, groups=ids)
    for group in (7, 9):
        block = x[ids == group].reshape(-1, 3)
        np.testing.assert_array_equal(scaled[ids == group].reshape(-1, 3), MinMaxScaler().fit_transform(block))


def test_per_group_errors():
    x = data3d(n=4)
    scaler = SeriesScaler("minmax", per_group=True).fit(x, groups=[1, 1, 2, 2])
    with pytest.raises(ValueError, match=r"`groups` expects groups seen by fit \(2 of them\); "
                                         r"received 2 unseen group\(s\): 3, 4"):
        scaler.transform(x, groups=[1, 3, 4, 2])
    with pytest.raises(ValueError, match=r"`groups` expects one group id per item of axis 0 when per_group=True; "
                                         r"received None"):
        scaler.transform(x)
    with pytest.raises(ValueError, match=r"`groups` expects one group id per item of axis 0 \(4,\)"):
        scaler.transform(x, groups=[1, 2])
    with pytest.raises(ValueError, match=r"`groups` expects None when per_group=False.*per_group=True"):
        SeriesScaler().fit(x, groups=[1, 1, 2, 2])


def test_not_fitted_error():
    for call in (lambda s: s.transform(np.zeros((2, 1))), lambda s: s.inverse_transform(np.zeros((2, 1)))):
        with pytest.raises(NotFittedError, match=r"expects a fitted SeriesScaler.*Call fit\(train_data\) first"):
            call(SeriesScaler())


@pytest.mark.parametrize("kwargs, error, pattern", [
    ({"scaler": "maxabs"}, ValueError, r"`scaler` expects one of 'minmax', 'standard', 'robust'; received 'maxabs'"),
    ({"scaler": MinMaxScaler}, TypeError, r"received the class MinMaxScaler\. Pass an instance: MinMaxScaler\(\)"),
    ({"scaler": object()}, TypeError, r"a transformer instance with fit and transform; received object"),
    ({"columns": []}, ValueError, r"`columns` expects None \(all\) or at least one column"),
    ({"per_group": "no"}, TypeError, r"`per_group` expects True or False"),
])
def test_constructor_errors(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        SeriesScaler(**kwargs)


def test_data_errors():
    x = data3d()
    scaler = SeriesScaler().fit(x)
    with pytest.raises(ValueError, match=r"`data` expects 3 features on the last axis \(as fitted\); received a 3-D "
                                         r"array of shape \(6, 5, 2\)\. Pass columns=\[\.\.\.\] to invert only"):
        scaler.inverse_transform(x[..., :2])
    with pytest.raises(ValueError, match=r"`data` expects 3 features on the last axis"):
        scaler.transform(x[..., :2])
    with pytest.raises(ValueError, match=r"`data` expects a 2-D \(rows, F\) or 3-D \(n, T, F\) array.*"
                                         r"reshape\(-1, 1\)"):
        SeriesScaler().fit(np.arange(5.0))
    with pytest.raises(TypeError, match=r"`data` expects numeric values; received dtype <U1"):
        SeriesScaler().fit(np.array([["a"], ["b"]]))
    with pytest.raises(ValueError, match=r"`columns` expects column positions \(ints\) for array data; "
                                         r"received 'u_in'"):
        scaler.inverse_transform(x[..., 0], columns=["u_in"])
    with pytest.raises(ValueError, match=r"`columns` expects positions in \[0, 3\); received 3"):
        scaler.inverse_transform(x[..., 0], columns=[3])
    with pytest.raises(ValueError, match=r"`columns` expects each column once"):
        scaler.inverse_transform(x[..., :2], columns=[1, 1])
    with pytest.raises(ValueError, match=r"`mask` expects a bool array of shape \(6, 5\)"):
        SeriesScaler().fit(x, mask=np.ones((6, 4), bool))
    with pytest.raises(TypeError, match=r"`mask` expects a bool array \(True = a real step\)"):
        SeriesScaler().fit(x, mask=np.ones((6, 5)))
    with pytest.raises(ValueError, match=r"`data` expects at least one row to fit on.*mask"):
        SeriesScaler().fit(x, mask=np.zeros((6, 5), bool))


def test_frame_errors():
    frame = pd.DataFrame({"id": ["a", "b"], "u_in": [1.0, np.nan], "p": [1.0, 2.0]}, index=["r0", "r1"])
    with pytest.raises(TypeError, match=r"non-numeric column\(s\) 'id'.*columns=\[\.\.\.\]"):
        SeriesScaler().fit(frame)
    with pytest.raises(ValueError, match=r"`data` expects finite values.*row\(s\): r1"):
        SeriesScaler(columns=["u_in", "p"]).fit(frame)
    scaler = SeriesScaler(columns=["p"]).fit(frame)
    with pytest.raises(KeyError, match=r"missing column\(s\) 'p'.*Available columns: 'id'"):
        scaler.transform(frame[["id"]])
    with pytest.raises(KeyError, match=r"unknown column 'pressure'.*Available columns"):
        scaler.inverse_transform(np.zeros(2), columns=["pressure"])
    with pytest.raises(ValueError, match=r"`data` expects columns among the fitted ones"):
        scaler.inverse_transform(pd.DataFrame({"pressure": [0.5]}))
    with pytest.raises(KeyError, match=r"`columns`.*unknown column 'zz'"):
        SeriesScaler(columns=["zz"]).fit(frame)


def test_seed_000_robust_scaling_then_reshape():
    """Seed 000: RS.fit_transform(train) then .reshape(-1, 80, F) equals scaling the frame, then sequences()."""
    rng = np.random.default_rng(4)
    train = pd.DataFrame({"breath_id": np.repeat([1, 2, 3], 80), "u_in": rng.uniform(0, 100, 240),
                          "u_out": rng.integers(0, 2, 240), "R": np.repeat([5, 20, 50], 80)})
    features = ["u_in", "u_out", "R"]
    expected = RobustScaler().fit_transform(train[features]).reshape(-1, 80, 3)
    scaled = SeriesScaler("robust", columns=features).fit_transform(train)
    pd.testing.assert_series_equal(scaled["breath_id"], train["breath_id"])
    seq = sequences(scaled, "breath_id", feature_cols=features)
    np.testing.assert_array_equal(seq.x, expected.astype(np.float32))
    # scaling the sequences instead gives the same numbers
    raw = sequences(train, "breath_id", feature_cols=features)
    np.testing.assert_allclose(SeriesScaler("robust").fit_transform(raw.x), expected, rtol=1e-5, atol=1e-5)


def test_array_fitted_scaler_on_frames_by_position():
    x = np.array([[0.0, 5.0, 1.0], [10.0, 7.0, 3.0]])
    scaler = SeriesScaler("minmax", columns=[0, 2]).fit(x)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    out = scaler.transform(frame)
    np.testing.assert_array_equal(out.to_numpy(), [[0.0, 5.0, 0.0], [1.0, 7.0, 1.0]])
    with pytest.raises(ValueError, match=r"`data` expects a frame of 3 columns \(fitted on an array\); received 2"):
        scaler.transform(frame[["a", "b"]])


@pytest.mark.parametrize("kind", ["minmax", "standard", "robust"])
def test_scaler_state_round_trips_through_json(kind):
    import json

    from lstmkit.data.scaling import SeriesScaler

    rng = np.random.default_rng(3)
    train, test = rng.normal(size=(40, 3)) * [1, 10, 100], rng.normal(size=(7, 3))
    scaler = SeriesScaler(kind).fit(train)
    restored = SeriesScaler.from_state(json.loads(json.dumps(scaler.get_state())))
    np.testing.assert_array_equal(restored.transform(test), scaler.transform(test))
    np.testing.assert_array_equal(restored.inverse_transform(test[:, 1], columns=[1]),
                                  scaler.inverse_transform(test[:, 1], columns=[1]))
    groups = np.repeat(["a", "b"], 20)
    per = SeriesScaler(kind, per_group=True).fit(train, groups=groups)
    back = SeriesScaler.from_state(json.loads(json.dumps(per.get_state())))
    np.testing.assert_array_equal(back.transform(test[:2], groups=["b", "a"]), per.transform(test[:2], groups=["b", "a"]))
    with pytest.raises(ValueError, match="a state written by SeriesScaler.get_state"):
        SeriesScaler.from_state({"class": "os", "scalers": []})


def test_issue13_fuzz_findings_are_clear_errors_or_results():
    # mixed group labels: NumPy's bare "'<' not supported between instances of 'int' and 'str'" before
    with pytest.raises(TypeError, match=r"group_split: `data` expects group labels of one type; received a mix "
                                        r"of int, str"):
        group_split(np.array(["a", 0, "a", 1], dtype=object), test_size=0.5)
    # a scaler fitted on no features: NumPy's bare "cannot reshape array of size 0" before
    with pytest.raises(ValueError, match=r"expects at least one row and one feature.*shape \(3, 0\)"):
        SeriesScaler().fit(np.zeros((3, 0)))
    # transforming 0 rows is an empty result (scikit-learn refused "0 sample(s)")
    scaler = SeriesScaler().fit(np.arange(6.0).reshape(3, 2))
    assert scaler.transform(np.zeros((0, 2))).shape == (0, 2)
    assert scaler.inverse_transform(np.zeros((0, 4, 2))).shape == (0, 4, 2)
    # a missing column is a ValueError (the user's to fix) that is still pandas' KeyError
    with pytest.raises(ValueError, match=r"missing column\(s\) 'zz'"):
        group_split(pd.DataFrame({"id": [1, 2]}), "zz")
