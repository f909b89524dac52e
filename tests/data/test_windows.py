"""lstmkit.data.windows: Keras's timeseries_dataset_from_array, tf.data-style windows, windowed, lookback.

Expected values come from the documented semantics: the examples of Keras 3's
``timeseries_dataset_from_array`` docstring (keras/src/utils/timeseries_dataset_utils.py), the examples of
tf.data's ``Dataset.window`` docstring and ``WindowDataset`` op docs, and the seed tutorials' own code
(seed 000's window/zip, seed 001's pandas shift framing, seed 004's create_dataset), written out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.data.windows import TimeseriesDataset, lookback, timeseries_dataset_from_array, windowed, windows


def as_lists(result):
    return [np.asarray(w).tolist() for w in result]


# =============================================================================================================
# windows: tf.data window(size, shift, stride, drop_remainder) + flat_map(batch(size))
# =============================================================================================================


@pytest.mark.parametrize("kwargs, expected", [
    # tf.data.Dataset.window docstring ("Shift" and "Stride" sections)
    (dict(size=3, shift=1, drop_remainder=True), [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]]),
    (dict(size=3, shift=1, stride=2, drop_remainder=True), [[0, 2, 4], [1, 3, 5], [2, 4, 6]]),
    # Dataset.range(7).window(3): tf's shift defaults to size
    (dict(size=3, shift=3, drop_remainder=False), [[0, 1, 2], [3, 4, 5], [6]]),
    # WindowDataset op docs: window(2), window(3, 2, 1, True), window(3, 1, 2, True)
    (dict(size=2, shift=2, drop_remainder=False), [[0, 1], [2, 3], [4, 5], [6]]),
    (dict(size=3, shift=2, stride=1, drop_remainder=True), [[0, 1, 2], [2, 3, 4], [4, 5, 6]]),
    (dict(size=3, shift=1, stride=2, drop_remainder=True), [[0, 2, 4], [1, 3, 5], [2, 4, 6]]),
])
def test_windows_reproduce_tf_data_documented_examples(kwargs, expected):
    assert as_lists(windows(np.arange(7), **kwargs)) == expected


def test_windows_short_trailing_windows_follow_the_window_kernel():
    # Starts 0, 2, 4, 6, 8 (all < 10); each window keeps the rows left, 2 apart (span 5 for a full one).
    result = windows(np.arange(10), 3, shift=2, stride=2, drop_remainder=False)
    assert isinstance(result, list)
    assert as_lists(result) == [[0, 2, 4], [2, 4, 6], [4, 6, 8], [6, 8], [8]]
    assert as_lists(windows(np.arange(10), 3, shift=2, stride=2)) == [[0, 2, 4], [2, 4, 6], [4, 6, 8]]
    # a shift longer than the window skips rows; starts stay k * shift
    assert as_lists(windows(np.arange(7), 2, shift=5)) == [[0, 1], [5, 6]]
    assert as_lists(windows(np.arange(6), 2, shift=5, drop_remainder=False)) == [[0, 1], [5]]
    # no full window at all: drop_remainder=False still gives the short ones, an empty series none
    assert as_lists(windows(np.arange(2), 3, drop_remainder=False)) == [[0, 1], [1]]
    assert windows(np.arange(0), 3, drop_remainder=False) == []


def test_windows_is_a_read_only_view_of_the_input():
    x = np.arange(12.0).reshape(6, 2)
    w = windows(x, 3, shift=2, stride=1)
    assert w.shape == (2, 3, 2)
    assert np.shares_memory(w, x) and not w.flags.writeable
    x[4, 1] = -1.0  # a view: the change shows through
    assert w[1, 2, 1] == -1.0
    with pytest.raises(ValueError, match="read-only"):
        w[0, 0, 0] = 5.0
    assert all(np.shares_memory(part, x) for part in windows(x, 4, shift=3, drop_remainder=False))


def test_windows_multivariate_and_1d_shapes():
    x = np.random.default_rng(0).random((11, 3, 2))
    w = windows(x, 4, shift=3, stride=2)  # span 7: starts 0, 3
    assert w.shape == (2, 4, 3, 2)
    for k in range(2):
        for j in range(4):
            np.testing.assert_array_equal(w[k, j], x[3 * k + 2 * j])
    assert windows(np.arange(5), 2).shape == (4, 2)  # 1-D: no feature axis added


def test_windows_accepts_pandas_and_torch():
    frame = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0) * 10})
    w = windows(frame, 2, shift=2)
    np.testing.assert_array_equal(w, [[[0, 0], [1, 10]], [[2, 20], [3, 30]]])
    np.testing.assert_array_equal(windows(pd.Series([1, 2, 3]), 2), [[1, 2], [2, 3]])
    np.testing.assert_array_equal(windows(torch.arange(4), 3), [[0, 1, 2], [1, 2, 3]])


def test_windows_errors():
    with pytest.raises(ValueError, match=r"windows: `size` expects a positive integer; received 0"):
        windows(np.arange(5), 0)
    with pytest.raises(ValueError, match=r"`shift` expects a positive integer; received -1"):
        windows(np.arange(5), 2, shift=-1)
    with pytest.raises(TypeError, match=r"`stride` expects a positive integer; received 1.5"):
        windows(np.arange(5), 2, stride=1.5)
    with pytest.raises(TypeError, match=r"`drop_remainder` expects True or False"):
        windows(np.arange(5), 2, drop_remainder="no")
    with pytest.raises(ValueError, match=r"`x` expects an array whose first axis is time; received a scalar"):
        windows(np.float64(3.0), 2)
    with pytest.raises(ValueError, match=r"windows: `size` expects a window that fits in the series; received "
                       r"size=3 with stride=4, which spans \(size-1\)\*stride\+1 = 9 steps, but the series has 5 "
                       r"steps\. Use a smaller size or stride, a longer series, or drop_remainder=False\."):
        windows(np.arange(5), 3, stride=4)


# =============================================================================================================
# windowed: windows aligned with targets
# =============================================================================================================


def seed000_pairs(x, y, window_size):
    """Seed 000's windowed_dataset, written out: window(size, shift=1, stride=1, drop_remainder=True) +
    flat_map(batch(size)), zipped with y[window_size:] (zip stops at the shorter side)."""
    ds_x = [x[s:s + window_size] for s in range(len(x)) if s + window_size <= len(x)]
    ds_y = y[window_size:]
    pairs = list(zip(ds_x, ds_y))
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def test_windowed_matches_seed000_window_zip():
    x = np.random.default_rng(1).random((10, 4))
    y = np.arange(10.0) * 10
    X, Y = windowed(x, y, 3)
    ref_x, ref_y = seed000_pairs(x, y, 3)
    assert X.shape == (7, 3, 4) and Y.shape == (7,)
    np.testing.assert_array_equal(X, ref_x)
    np.testing.assert_array_equal(Y, ref_y)
    assert Y.tolist() == [30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]  # window k -> y[k + 3]
    assert np.shares_memory(X, x) and np.shares_memory(Y, y)


def test_windowed_offset_shift_and_stride():
    x, y = np.arange(12), np.arange(12) * 10
    X, Y = windowed(x, y, 3, offset=0)  # target at the window's last step: every window kept
    assert len(X) == 10 and Y.tolist() == (np.arange(2, 12) * 10).tolist()
    # starts 0, 2, 4, 6 (span 5); targets rows s + 4 + 2 = 6, 8, 10, (12: past the end, window dropped)
    X, Y = windowed(x, y, 3, shift=2, stride=2, offset=2)
    assert X.tolist() == [[0, 2, 4], [2, 4, 6], [4, 6, 8]]
    assert Y.tolist() == [60, 80, 100]


def test_windowed_accepts_pandas_targets_and_multi_column_y():
    frame = pd.DataFrame({"u": np.arange(6.0), "p": np.arange(6.0) ** 2})
    X, Y = windowed(frame[["u"]], frame["p"], 2)
    assert X.shape == (4, 2, 1) and Y.tolist() == [4.0, 9.0, 16.0, 25.0]
    X, Y = windowed(frame, frame.to_numpy(), 4)
    assert X.shape == (2, 4, 2) and Y.shape == (2, 2) and Y[0].tolist() == [4.0, 16.0]


def test_windowed_errors():
    with pytest.raises(ValueError, match=r"windowed: `x` and `y` expects the same number of rows .*; received x "
                       r"with 5 rows and y with 4\. Align y with x first"):
        windowed(np.arange(5), np.arange(4), 2)
    with pytest.raises(ValueError, match=r"`offset` expects an integer >= 0; received -1"):
        windowed(np.arange(5), np.arange(5), 2, offset=-1)
    with pytest.raises(ValueError, match=r"windowed: `size` expects a window with a target inside the series; "
                       r"received size=5, stride=1, offset=1: the first target is row .* = 5 .* the series has 5 rows"):
        windowed(np.arange(5), np.arange(5), 5)
    with pytest.raises(ValueError, match=r"`size` expects a positive integer"):
        windowed(np.arange(5), np.arange(5), 0)


# =============================================================================================================
# lookback
# =============================================================================================================


def create_dataset(dataset, look_back=1):
    """Seed 004's create_dataset, as the seed has it."""
    dataX, dataY = [], []
    for i in range(len(dataset) - look_back - 1):
        a = dataset[i:(i + look_back), 0]
        dataX.append(a)
        dataY.append(dataset[i + look_back, 0])
    return np.array(dataX), np.array(dataY)


def test_lookback_equals_seed004_create_dataset_plus_its_dropped_last_pair():
    dataset = np.random.default_rng(2).random((20, 1)).astype("float32")
    look_back = 3
    trainX, trainY = create_dataset(dataset, look_back)
    X, y = lookback(dataset, look_back)
    assert X.shape == (17, 3, 1) and y.shape == (17, 1) and len(trainX) == 16  # one more sample
    np.testing.assert_array_equal(X[:-1, :, 0], trainX)
    np.testing.assert_array_equal(y[:-1, 0], trainY)
    np.testing.assert_array_equal(X[-1], dataset[-4:-1])  # the pair create_dataset's "- 1" drops
    assert y[-1, 0] == dataset[-1, 0] and X.dtype == np.float32


def test_lookback_equals_seed001_pandas_shift_framing():
    data = np.sin(np.arange(60) * (20 * np.pi / 1000)).reshape(-1, 1)
    scaled_data = pd.DataFrame(data, columns=["data"])
    time_step = 14
    for shift in range(1, time_step):
        scaled_data["shifted_{:02}".format(time_step - shift)] = scaled_data["data"].shift(shift)
    scaled_data = scaled_data[scaled_data.columns[::-1]]
    framed = scaled_data.dropna()
    x = framed.drop("data", axis=1).values
    y = framed[["data"]].values
    x = x.reshape(x.shape[0], x.shape[1], 1)

    X, Y = lookback(pd.DataFrame(data, columns=["data"])["data"], 13)
    assert X.shape == x.shape == (47, 13, 1) and Y.shape == y.shape == (47, 1)
    np.testing.assert_array_equal(X, x)
    np.testing.assert_array_equal(Y, y)


def test_lookback_multivariate_targets_and_horizon():
    series = np.column_stack([np.arange(10), np.arange(10) * 100])
    X, y = lookback(series, 3)
    assert X.shape == (7, 3, 2) and y.shape == (7, 2)
    assert X[2].tolist() == [[2, 200], [3, 300], [4, 400]] and y[2].tolist() == [5, 500]
    X, y = lookback(series, 3, horizon=2)  # n = 10 - 3 - 2 + 1
    assert X.shape == (6, 3, 2) and y.shape == (6, 2, 2)
    assert y[0].tolist() == [[3, 300], [4, 400]] and y[-1].tolist() == [[8, 800], [9, 900]]
    _, y = lookback(series, 3, horizon=2, targets=1)
    assert y.shape == (6, 2, 1) and y[0, :, 0].tolist() == [300, 400]
    _, y = lookback(series, 3, targets=[-1, 0])
    assert y[0].tolist() == [300, 3]


def test_lookback_selects_dataframe_columns_by_name():
    frame = pd.DataFrame({"temp": np.arange(8.0), "load": np.arange(8.0) * 2, "price": np.arange(8.0) * 3})
    X, y = lookback(frame, 4, targets="load")
    assert X.shape == (4, 4, 3) and y.shape == (4, 1) and y[:, 0].tolist() == [8.0, 10.0, 12.0, 14.0]
    _, y = lookback(frame, 4, targets=["price", "temp"])
    assert y[0].tolist() == [12.0, 4.0]
    _, y = lookback(frame, 4, targets=frame.columns[:1])
    assert y[:, 0].tolist() == [4.0, 5.0, 6.0, 7.0]
    X, y = lookback(frame["load"], 2, targets="load")  # a named Series
    assert X.shape == (6, 2, 1) and y[0, 0] == 4.0


def test_lookback_names_non_finite_rows_by_index_label():
    frame = pd.DataFrame({"v": [1.0, 2.0, np.nan, 4.0, 5.0, np.inf]},
                         index=pd.date_range("2024-01-01", periods=6, freq="D"))
    with pytest.raises(ValueError, match=r"lookback: `series` expects finite values; received NaN or inf in 2 "
                       r"row\(s\): 2024-01-03 00:00:00, 2024-01-06 00:00:00\. Drop or fill them"):
        lookback(frame, 2)
    with pytest.raises(ValueError, match=r"NaN or inf in 1 row\(s\): 1\."):
        lookback([1.0, np.nan, 3.0, 4.0], 2)


def test_lookback_errors():
    frame = pd.DataFrame({"a": np.arange(5.0), "b": np.arange(5.0)})
    with pytest.raises(ValueError, match=r"lookback: `targets` expects columns of the frame \('a', 'b'\); "
                       r"received 'c'\. Use one of those names"):
        lookback(frame, 2, targets="c")
    with pytest.raises(TypeError, match=r"`targets` expects column positions \(ints\) for an array without "
                       r"names; received 'a'\. Pass a pandas DataFrame"):
        lookback(frame.to_numpy(), 2, targets="a")
    with pytest.raises(ValueError, match=r"`targets` expects column positions in \[0, 2\); received 2"):
        lookback(frame, 2, targets=2)
    with pytest.raises(ValueError, match=r"`targets` expects at least one column; received an empty list"):
        lookback(frame, 2, targets=[])
    with pytest.raises(TypeError, match=r"`targets` expects None, a column position"):
        lookback(frame, 2, targets=1.5)
    with pytest.raises(ValueError, match=r"`lookback` \+ `horizon` expects at most the series length \(5\); "
                       r"received lookback=4 \+ horizon=2 = 6\. Use a shorter lookback"):
        lookback(frame, 4, horizon=2)
    with pytest.raises(ValueError, match=r"`lookback` expects a positive integer; received 0"):
        lookback(frame, 0)
    with pytest.raises(TypeError, match=r"`horizon` expects a positive integer; received 1.0"):
        lookback(frame, 2, horizon=1.0)
    with pytest.raises(ValueError, match=r"`series` expects a 1-D \(steps,\) or 2-D \(steps, features\) array; "
                       r"received a 3-D array of shape \(5, 2, 2\)"):
        lookback(np.zeros((5, 2, 2)), 2)
    with pytest.raises(TypeError, match=r"`series` expects numeric values; received an array of dtype object"):
        lookback(pd.DataFrame({"a": ["x", "y", "z", "w"]}), 2)


# =============================================================================================================
# timeseries_dataset_from_array
# =============================================================================================================


def test_keras_example1_indices_sampling_rate_and_stride():
    # "Consider indices [0, 1, ... 98]. With sequence_length=10, sampling_rate=2, sequence_stride=3 ..."
    ds = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                       sequence_stride=3, shuffle=False)
    (batch,) = list(ds)  # 27 windows fit in one batch of 128
    assert isinstance(ds, TimeseriesDataset) and len(ds) == 1 and batch.shape == (27, 10)
    assert batch[0].tolist() == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert batch[1].tolist() == [3, 5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert batch[2].tolist() == [6, 8, 10, 12, 14, 16, 18, 20, 22, 24]
    assert batch[-1].tolist() == [78, 80, 82, 84, 86, 88, 90, 92, 94, 96]  # the last 2 points are discarded
    # with 100 points (indices 0..99) one more window fits: it starts at 81 and ends on 99
    (batch,) = list(timeseries_dataset_from_array(np.arange(100), None, 10, sampling_rate=2, sequence_stride=3))
    assert batch.shape == (28, 10) and batch[-1].tolist() == list(range(81, 100, 2))


def test_keras_example2_temporal_regression():
    data = np.arange(100.0) * 0.5
    input_data, targets = data[:-10], data[10:]
    dataset = timeseries_dataset_from_array(input_data, targets, sequence_length=10)
    for batch in dataset:
        inputs, targets_ = batch
        assert np.array_equal(inputs[0], data[:10])  # First sequence: steps [0-9]
        assert np.array_equal(targets_[0], data[10])  # Corresponding target: step 10
        break
    (x, y), = list(dataset)
    assert x.shape == (81, 10) and y.shape == (81,) and x.dtype == y.dtype == torch.float32
    for i in (0, 40, 80):
        np.testing.assert_array_equal(x[i], data[i:i + 10])
        assert y[i] == data[i + 10]


def test_keras_example3_many_to_many_non_overlapping():
    X = np.arange(100)
    Y = X * 2
    sample_length = 20
    input_dataset = timeseries_dataset_from_array(X, None, sequence_length=sample_length,
                                                  sequence_stride=sample_length)
    target_dataset = timeseries_dataset_from_array(Y, None, sequence_length=sample_length,
                                                   sequence_stride=sample_length)
    for batch in zip(input_dataset, target_dataset):
        inputs, targets = batch
        assert np.array_equal(inputs[0], X[:sample_length])
        assert np.array_equal(targets[1], Y[sample_length:2 * sample_length])  # timestamps 20-40
        assert inputs.shape == (5, 20) and inputs.dtype == torch.int64
        break


def test_len_batches_and_unbatched_samples():
    data = np.arange(99)
    ds = timeseries_dataset_from_array(data, None, 10, sequence_stride=3, sampling_rate=2, batch_size=4)
    batches = list(ds)
    assert len(ds) == len(batches) == 7 and ds.num_samples == 27
    assert [len(b) for b in batches] == [4] * 6 + [3]
    assert batches[1][0].tolist() == list(range(12, 31, 2))  # window 4 starts at 12
    single = timeseries_dataset_from_array(data, data * 10, 10, sequence_stride=3, sampling_rate=2,
                                           batch_size=None)
    samples = list(single)
    assert len(single) == len(samples) == 27
    x, y = samples[1]
    assert x.shape == (10,) and y.shape == () and x[0] == 3 and y == 30
    assert list(ds)[1].tolist() == batches[1].tolist()  # re-iterable, same batches


def test_multivariate_data_and_targets_shapes_and_dtypes():
    rng = np.random.default_rng(3)
    data = rng.random((50, 3))  # float64 -> float32
    targets = rng.integers(0, 5, size=(50, 2))  # integers -> int64
    ds = timeseries_dataset_from_array(data, targets, 6, sampling_rate=2, batch_size=8)
    x, y = next(iter(ds))
    assert x.shape == (8, 6, 3) and y.shape == (8, 2)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    np.testing.assert_allclose(x[5].numpy(), data[5:16:2].astype("float32"))
    assert y[5].tolist() == targets[5].tolist()
    assert ds.num_samples == 50 - 10


def test_pandas_and_torch_inputs():
    frame = pd.DataFrame({"a": np.arange(30.0), "b": -np.arange(30.0)})
    ds = timeseries_dataset_from_array(frame, frame["a"].shift(-5), 5, batch_size=None,
                                       end_index=25)  # shifted targets' NaN rows are never used
    x, y = next(iter(ds))
    assert x.shape == (5, 2) and x[:, 1].tolist() == [0, -1, -2, -3, -4] and y == 5.0
    assert len(ds) == 21
    x, = [b for b in timeseries_dataset_from_array(torch.arange(12.0), None, 4, batch_size=100)]
    assert x.shape == (9, 4) and x[-1].tolist() == [8, 9, 10, 11]


def test_start_and_end_index():
    data = np.arange(50)
    targets = data * 10
    ds = timeseries_dataset_from_array(data, targets, 5, start_index=10, end_index=30, batch_size=None)
    pairs = list(ds)
    assert len(pairs) == 16  # rows [10, 30): 20 - (5 - 1) starts
    assert pairs[0][0].tolist() == [10, 11, 12, 13, 14] and pairs[0][1] == 100
    assert pairs[-1][0].tolist() == [25, 26, 27, 28, 29] and pairs[-1][1] == 250
    assert ds.start_positions.tolist() == list(range(10, 26))


def test_targets_shorter_than_the_windows_is_an_error():
    # issue 13: Keras caps the windows at len(targets) without a word; 16 windows but 12 targets must not
    # silently become 12 windows.
    with pytest.raises(ValueError, match=r"each of the 16 windows.*at least 16 rows.*received 12 rows, enough for "
                                         r"12 window\(s\).*end_index=16"):
        timeseries_dataset_from_array(np.arange(20), np.arange(12), 5, batch_size=None)
    data = np.arange(20.0)  # the common slip: targets data[k:] with the whole data
    with pytest.raises(ValueError, match="18 windows.*received 17 rows"):
        timeseries_dataset_from_array(data, data[3:], 3)
    with pytest.raises(ValueError, match="received 0 rows, enough for 0 window"):
        timeseries_dataset_from_array(data, data[:0], 3)
    # the remedies the message names give every window its target
    short = timeseries_dataset_from_array(np.arange(20), np.arange(12), 5, batch_size=None, end_index=16)
    assert len(short) == 12 and [int(y) for _, y in short] == list(range(12))
    aligned = timeseries_dataset_from_array(data[:-3], data[3:], 3, batch_size=None)
    assert len(aligned) == 15 and float(list(aligned)[-1][1]) == 17.0  # window [14, 15, 16] -> 17
    # with a stride the last window's start is what counts; longer targets stay fine (as Keras)
    assert len(timeseries_dataset_from_array(np.arange(20), np.arange(13), 5, sequence_stride=4,
                                             batch_size=None)) == 4
    assert len(timeseries_dataset_from_array(np.arange(20), np.arange(40), 5, batch_size=None)) == 16


def test_shuffle_is_reproducible_and_reshuffled_each_iteration():
    data = np.arange(200)
    make = lambda seed: timeseries_dataset_from_array(data, data, 4, batch_size=3, shuffle=True, seed=seed)
    a, b = make(7), make(7)
    # Keras's first step: the start positions permuted with np.random.RandomState(seed).shuffle
    assert a.start_positions.tolist() == np.random.RandomState(7).permutation(197).tolist()
    a1, a2, b1, b2 = ([y.tolist() for _, y in d] for d in (a, a, b, b))
    assert a1 == b1 and a2 == b2  # same seed -> same batches, iteration by iteration
    assert a1 != a2  # reshuffled at every iteration, as Keras's tf.data shuffle
    assert sorted(sum(a1, [])) == sorted(sum(a2, [])) == list(range(197))  # each window once per epoch
    # buffered shuffle of 8 * batch_size: the first batch comes from the first 24 permuted starts
    assert set(a1[0]) <= set(a.start_positions[:24].tolist())
    for x, y in make(7):
        assert x[:, 0].tolist() == y.tolist()  # windows stay paired with their targets
    c1 = [y.tolist() for _, y in make(8)]
    assert c1 != a1
    np.random.seed(0)
    d = timeseries_dataset_from_array(data, data, 4, shuffle=True)  # seed drawn from NumPy's global RNG
    np.random.seed(0)
    e = timeseries_dataset_from_array(data, data, 4, shuffle=True)
    assert d.seed == e.seed and [y.tolist() for _, y in d] == [y.tolist() for _, y in e]
    unshuffled = timeseries_dataset_from_array(data, data, 4, batch_size=3)
    assert sum((y.tolist() for _, y in unshuffled), []) == list(range(197))  # chronological, every pass


def test_non_finite_values_in_the_rows_used_are_named():
    data = np.arange(20.0)
    data[12] = np.nan
    with pytest.raises(ValueError, match=r"timeseries_dataset_from_array: `data` expects finite values; received "
                       r"NaN or inf in 1 row\(s\): 12\. Drop or fill them"):
        timeseries_dataset_from_array(data, None, 3)
    assert len(timeseries_dataset_from_array(data, None, 3, end_index=12, batch_size=None)) == 10
    targets = pd.Series(np.arange(20.0), index=[f"t{i}" for i in range(20)])
    targets.iloc[4] = np.inf
    with pytest.raises(ValueError, match=r"`targets` expects finite values; received NaN or inf in 1 row\(s\): t4"):
        timeseries_dataset_from_array(np.arange(20.0), targets, 3)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(start_index=-1), ValueError, r"`start_index` expects an integer >= 0; received -1"),
    (dict(start_index=30), ValueError, r"`start_index` expects an integer lower than the length of `data` \(30\); "
                                       r"received 30"),
    (dict(end_index=30), ValueError, r"`end_index` expects an integer lower than the length of `data` \(30\), as "
                                     r"in Keras; received 30\. Leave end_index=None"),
    (dict(start_index=10, end_index=10), ValueError, r"`end_index` expects an integer higher than `start_index` "
                                                     r"\(10\); received 10"),
    (dict(end_index=0), ValueError, r"`end_index` expects an integer higher than 0; received 0"),
    (dict(end_index=-5), ValueError, r"`end_index` expects an integer higher than 0; received -5"),
    (dict(end_index=2.5), TypeError, r"`end_index` expects an integer or None; received 2.5"),
    (dict(sampling_rate=0), ValueError, r"`sampling_rate` expects a positive integer; received 0"),
    (dict(sampling_rate=30), ValueError, r"`sampling_rate` expects an integer lower than the length of `data` "
                                         r"\(30\); received 30"),
    (dict(sequence_stride=-2), ValueError, r"`sequence_stride` expects a positive integer; received -2"),
    (dict(sequence_stride=31), ValueError, r"`sequence_stride` expects an integer lower than the length"),
    (dict(sequence_length=0), ValueError, r"`sequence_length` expects a positive integer; received 0"),
    (dict(sequence_length="5"), TypeError, r"`sequence_length` expects a positive integer; received '5'"),
    (dict(batch_size=0), ValueError, r"`batch_size` expects a positive integer; received 0"),
    (dict(shuffle="yes"), TypeError, r"`shuffle` expects True or False"),
    (dict(seed=-1), ValueError, r"`seed` expects an integer >= 0; received -1"),
    (dict(seed=2**32), ValueError, r"`seed` expects an integer in \[0, 2\*\*32\)"),
    (dict(sequence_length=11, sampling_rate=3), ValueError,
     r"`sequence_length` expects a window that fits in the rows in use; received sequence_length=11 with "
     r"sampling_rate=3 \(a span of 31 rows\) for 30 rows \[0, 30\)\. Use a shorter"),
    (dict(start_index=20, sequence_length=11), ValueError, r".*for 10 rows \[20, 30\)"),
])
def test_argument_errors(kwargs, error, message):
    args = dict(data=np.arange(30.0), targets=None, sequence_length=5)
    args.update(kwargs)
    with pytest.raises(error, match=r"^timeseries_dataset_from_array: " + message):
        timeseries_dataset_from_array(**args)


def test_data_and_targets_errors():
    # rows [10, 30) hold 16 windows (starts 10..25, targets[s] for each): 12 target rows cover starts 10, 11
    with pytest.raises(ValueError, match=r"`targets` expects a target for each of the 16 windows the data gives, "
                       r"i.e. at least 26 rows .*received 12 rows, enough for 2 window\(s\).*end_index=16"):
        timeseries_dataset_from_array(np.arange(30), np.arange(12), 5, start_index=10)
    with pytest.raises(TypeError, match=r"`data` expects numeric values; received an array of dtype <U1"):
        timeseries_dataset_from_array(np.array(list("abcdefgh")), None, 3)
    with pytest.raises(ValueError, match=r"`data` expects an array whose first axis is time; received a scalar"):
        timeseries_dataset_from_array(3.0, None, 3)


def test_fit_and_predict_on_a_timeseries_dataset():
    import lstmkit

    torch.manual_seed(0)
    L, F = 5, 2
    series = np.random.default_rng(4).random((40, F))
    train = timeseries_dataset_from_array(series[:-L], series[L:, :1], L, batch_size=8, shuffle=True, seed=1)
    model = lstmkit.Sequential([lstmkit.layers.Input((L, F)), lstmkit.layers.LSTM(4), lstmkit.layers.Dense(1)])
    model.compile(loss="mse", optimizer="adam")
    history = model.fit(train, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1 and np.isfinite(history.history["loss"][0])
    inputs = timeseries_dataset_from_array(series, None, L, batch_size=16)  # x-only batches
    predictions = model.predict(inputs, verbose=0)
    assert predictions.shape == (36, 1)
    expected = model.predict(np.ascontiguousarray(windows(series, L)), verbose=0)
    np.testing.assert_allclose(predictions, expected, rtol=1e-5, atol=1e-6)


def test_lookback_on_an_empty_series_says_it_is_too_short():
    # issue 13 fuzz: NumPy's bare "cannot reshape array of size 0 into shape (0,newaxis)" before
    with pytest.raises(ValueError, match=r"lookback: `lookback` \+ `horizon` expects at most the series length "
                                         r"\(0\)"):
        lookback(np.zeros((0, 2)), 1)


def test_lookback_keeps_look_back_as_a_deprecated_spelling():
    """One spelling, ``lookback``, across data and forecast; ``look_back=`` warns and gives the same pairs."""
    series = np.arange(10.0)
    X, y = lookback(series, lookback=3)
    with pytest.warns(DeprecationWarning, match=r"lookback: `look_back` is deprecated; use `lookback`"):
        X_old, y_old = lookback(series, look_back=3)
    np.testing.assert_array_equal(X_old, X)
    np.testing.assert_array_equal(y_old, y)
    with pytest.raises(TypeError, match=r"`look_back` expects `lookback` alone"):
        lookback(series, 3, look_back=3)
    with pytest.raises(TypeError, match=r"`look_back` expects `lookback` alone"):
        lookback(series, lookback=3, look_back=3)
