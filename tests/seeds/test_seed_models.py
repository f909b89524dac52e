"""The seed tutorials' models (/work/shared/seeds/000-004), built with lstmkit.

Each model is the seed's code with only the imports changed (``keras.layers`` / ``tf.keras.layers`` ->
``lstmkit.layers``, ``Sequential`` / ``Model`` -> ``lstmkit.models``, ``keras.losses`` / ``keras.backend`` /
``keras.optimizers`` -> ``lstmkit.losses`` / ``lstmkit.backend`` / ``lstmkit.optimizers``), its
``compile`` / ``fit`` / ``train_on_batch`` lines included, run on small data. Where a seed leaves a value
out (a window size) or its listing is cut off, a comment says what was filled in.

Every test checks what the seed shows or explains: output shapes (of a real call on an array shaped like
the seed's data, and of the symbolic model / ``summary()`` table), parameter counts computed here from
Keras's formulas (and the figures the seeds print, where they print them), and value relations (outputs
equal to states, stateful continuation, shared weights giving equal outputs, softmax rows summing to 1).

Note: as documented in the README, ``training=None`` follows PyTorch's ``train()`` / ``eval()`` mode, so
tests that compare values of models containing ``Dropout`` call ``model.eval()`` first (Keras's
``predict`` runs in inference mode).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from numpy import array

from lstmkit import backend as K
from lstmkit import callbacks, losses, optimizers
from lstmkit.optimizers import Adam
from lstmkit.layers import (GRU, LSTM, Activation, Bidirectional, Conv1D, Dense, Dropout, Embedding, Input,
                            RepeatVector, TimeDistributed)
from lstmkit.models import Model, Sequential

# -- Keras's parameter formulas -------------------------------------------------------------------------


def lstm_params(units: int, features: int) -> int:
    """Kernel (features, 4u) + recurrent kernel (u, 4u) + bias (4u)."""
    return 4 * (units * (features + units) + units)


def gru_params(units: int, features: int) -> int:
    """GRU with reset_after=True (the TF2 / Keras 3 default): kernel, recurrent kernel, bias (2, 3u)."""
    return 3 * (units * (features + units) + 2 * units)


def dense_params(units: int, features: int) -> int:
    return features * units + units


def conv1d_params(filters: int, kernel_size: int, channels: int) -> int:
    return kernel_size * channels * filters + filters


# -- summary() table ------------------------------------------------------------------------------------


def summary_text(model) -> str:
    printed: list[str] = []
    returned = model.summary(print_fn=printed.append)
    assert printed == [returned]
    return returned


def summary_rows(model) -> list[tuple[str, str, int]]:
    """(``name (Type)``, output shape, params) per row of a 65-column (sequential-like) summary table."""
    lines = summary_text(model).splitlines()
    assert len(lines[1]) == 65, "expected the sequential-like 3-column table"
    rules = [i for i, line in enumerate(lines) if line and set(line) == {"="}]
    rows = []
    for line in lines[rules[0] + 1:rules[-1]]:
        if set(line) == {"_"}:
            continue
        rows.append((line[:29].strip(), line[29:55].strip(), int(line[55:].strip())))
    return rows


def row_label(layer, type_name: str) -> str:
    """The first column as Keras prints it: ``name (Type)`` cut at the column edge (28 characters)."""
    return f"{layer.name} ({type_name})"[:28].rstrip()


def summary_totals(model) -> tuple[int, int, int]:
    text = summary_text(model)
    found = [int(re.search(rf"^{label} params: ([\d,]+)$", text, re.M).group(1).replace(",", ""))
             for label in ("Total", "Trainable", "Non-trainable")]
    return tuple(found)


def shape(t) -> tuple:
    return tuple(t.shape)


# =======================================================================================================
# Seed 000 (All About LSTM): return_sequences / return_state on (2, 3, 1) data, a stateful Conv1D ->
# LSTM -> Dense model, and the ventilator competition's 4-layer Bidirectional LSTM stack.
# =======================================================================================================

SEED000_DATA = array([[0.1, 0.2, 0.3], [0.2, 0.3, 0.4]]).reshape((2, 3, 1))


def test_seed000_return_sequences_false_then_true():
    inputs1 = Input(shape=(3, 1))
    lstm1 = LSTM( 4 )(inputs1)
    model = Model(inputs=inputs1, outputs=lstm1)

    data = array([[0.1, 0.2, 0.3],[0.2, 0.3, 0.4]]).reshape((2,3,1))

    p = model(data)  # seed: model.predict(data)
    assert shape(p) == (2, 4)  # the seed prints (2, 4): (batch, units)
    assert lstm1.shape == (None, 4)
    assert model.count_params() == lstm_params(4, 1) == 96

    inputs1 = Input(shape=(3, 1))
    lstm1 = LSTM(4, return_sequences = True)(inputs1)

    model_seq = Model(inputs=inputs1, outputs=lstm1)

    p_seq = model_seq(data)
    assert shape(p_seq) == (2, 3, 4)  # the seed prints (2, 3, 4): (batch, timesteps, units)
    assert lstm1.shape == (None, 3, 4)

    # Same weights: the many-to-one output is the last step of the many-to-many output.
    model_seq.set_weights(model.get_weights())
    torch.testing.assert_close(model_seq(data)[:, -1], model(data))


def test_seed000_return_state_model():
    inputs1 = Input(shape=(3, 1))
    lstm1, state_h, state_c = LSTM(4, return_state=True)(inputs1)

    model = Model(inputs=inputs1, outputs=[lstm1, state_h, state_c])

    data = array([[0.1, 0.2, 0.3],[0.2, 0.3, 0.4]]).reshape((2,3,1))

    p = model(data)  # seed: model.predict(data)

    assert isinstance(p, list) and len(p) == 3
    assert [shape(t) for t in p] == [(2, 4), (2, 4), (2, 4)]  # output, hidden state, cell state
    assert [t.shape for t in model.outputs] == [(None, 4)] * 3
    # "Output , Hidden State는 같은 값이므로, 동일한 값이 출력된다": output and h are the same values...
    assert torch.equal(p[0], p[1])
    # ... and the cell state differs: h = o * tanh(c) with 0 < o < 1, so |h| < |c| and same signs.
    h, c = p[1], p[2]
    assert not torch.allclose(h, c)
    assert torch.all(h.abs() < c.abs()) and torch.all(torch.sign(h) == torch.sign(c))

    rows = summary_rows(model)
    # Keras 2's table cuts the three output shapes at the column edge, as it prints them.
    assert [r[1:] for r in rows] == [("[(None, 3, 1)]", 0), ("[(None, 4), (None, 4), (N", 96)]
    assert [r[0] for r in rows] == [row_label(model.layers[0], "InputLayer"), row_label(model.layers[1], "LSTM")]
    assert model.count_params() == lstm_params(4, 1) == 96


def test_seed000_return_sequences_and_return_state_model():
    inputs1 = Input(shape=(3, 1))
    lstm1, state_h, state_c = LSTM(4, return_sequences = True , return_state=True)(inputs1)

    model = Model(inputs=inputs1, outputs=[lstm1, state_h, state_c])

    data = array([[0.1, 0.2, 0.3],[0.2, 0.3, 0.4]]).reshape((2,3,1))

    p = model(data)
    assert [shape(t) for t in p] == [(2, 3, 4), (2, 4), (2, 4)]
    assert [t.shape for t in model.outputs] == [(None, 3, 4), (None, 4), (None, 4)]
    # The hidden state is the output of the last time step.
    assert torch.equal(p[0][:, -1], p[1])
    assert not torch.equal(p[0][:, 0], p[1])


WINDOW_SIZE = 30  # the seed never shows its value; any window longer than the kernel (5) works


def _seed000_stateful_model(first_layer_input: dict) -> Sequential:
    model = Sequential([
            # 1차원 feature map 생성
            Conv1D(filters=32, kernel_size=5,
                   **first_layer_input),
            # LSTM
            LSTM(16, activation='tanh' , stateful = True),
            Dense(16, activation="relu"),
            Dense(1),  # the seed's listing is cut off after Dense(16); its target is one pressure value
    ])
    return model


@pytest.mark.parametrize("first_layer_input", [
    {"batch_input_shape": [1, WINDOW_SIZE, 4]},  # the seed's declaration
    {"batch_size": 1, "input_shape": (WINDOW_SIZE, 4)},  # the same, in Keras's other spelling
], ids=["batch_input_shape", "batch_size"])
def test_seed000_stateful_conv1d_lstm_dense(first_layer_input):
    BATCH_SIZE = 1  # Stateful일때는 Batch Size 는 1
    torch.manual_seed(0)  # fixed weights: some random draws made the two outputs agree to 1e-5
    model = _seed000_stateful_model(first_layer_input)
    steps = WINDOW_SIZE - 5 + 1  # a 'valid' convolution with kernel 5

    rows = summary_rows(model)
    assert [r[1:] for r in rows] == [
        (f"({BATCH_SIZE}, {steps}, 32)", conv1d_params(32, 5, 4)),
        (f"({BATCH_SIZE}, 16)", lstm_params(16, 32)),
        (f"({BATCH_SIZE}, 16)", dense_params(16, 16)),
        (f"({BATCH_SIZE}, 1)", dense_params(1, 16)),
    ]
    assert [r[0] for r in rows] == [row_label(layer, kind) for layer, kind in
                                    zip(model.layers, ["Conv1D", "LSTM", "Dense", "Dense"])]
    assert (672, 3136, 272, 17) == tuple(r[2] for r in rows)
    assert summary_totals(model) == (4097, 4097, 0) and model.count_params() == 4097

    window = np.random.default_rng(0).random((BATCH_SIZE, WINDOW_SIZE, 4)).astype("float32")
    first = model(window)
    assert shape(first) == (1, 1)
    second = model(window)  # the LSTM starts from the state the first call left
    assert not torch.allclose(first, second)
    model.reset_states()  # a new breath (sequence) starts from zero states again
    torch.testing.assert_close(model(window), first, rtol=0, atol=0)

    # The state has one slot per batch entry: the declared batch of 1 is enforced.
    with pytest.raises(ValueError, match="batch of 1"):
        model(np.concatenate([window, window]))


def test_seed000_ventilator_bidirectional_lstm_stack():
    # The seed's `train` after feature engineering and reshaping is (1000, 80, 52); create_lstm_model
    # only reads its last two sizes. A few breaths of random data stand in for it.
    train = np.random.default_rng(0).random((3, 80, 52), dtype=np.float32)

    def create_lstm_model():

        x0 = Input(shape=(train.shape[-2], train.shape[-1]))

        lstm_layers = 4 # number of LSTM layers
        lstm_units = [320, 305, 304, 229]
        lstm = Bidirectional(LSTM(lstm_units[0], return_sequences=True))(x0)
        for i in range(lstm_layers-1):
            lstm = Bidirectional(LSTM(lstm_units[i+1], return_sequences=True))(lstm)
        lstm = Dropout(0.001)(lstm)
        lstm = Dense(100, activation='relu')(lstm)
        lstm = Dense(1)(lstm)

        model = Model(inputs=x0, outputs=lstm)
        model.compile(optimizer="adam", loss="mae")

        return model

    model = create_lstm_model()
    model.eval()  # as predict(): Dropout off

    units = [320, 305, 304, 229]
    features = [52] + [2 * u for u in units[:-1]]  # each Bidirectional concatenates both directions
    bidi_params = [2 * lstm_params(u, f) for u, f in zip(units, features)]
    expected = ([("[(None, 80, 52)]", 0)]
                + [(f"(None, 80, {2 * u})", p) for u, p in zip(units, bidi_params)]
                + [("(None, 80, 458)", 0), ("(None, 80, 100)", dense_params(100, 458)),
                   ("(None, 80, 1)", dense_params(1, 100))])
    rows = summary_rows(model)
    assert [r[1:] for r in rows] == expected
    kinds = ["InputLayer"] + ["Bidirectional"] * 4 + ["Dropout", "Dense", "Dense"]
    assert [r[0] for r in rows] == [row_label(layer, kind) for layer, kind in zip(model.layers, kinds)]
    total = sum(p for _, p in expected)
    assert total == 7_069_617 and summary_totals(model) == (total, total, 0)

    out = model(train)
    assert shape(out) == (3, 80, 1)  # one pressure per time step: return_sequences=True all the way

    # Bidirectional(concat): the first 320 features read the breath forwards, the last 320 backwards
    # (re-aligned with the time axis).
    first = model.layers[1]
    x = torch.as_tensor(train)
    merged = first(x)
    torch.testing.assert_close(merged[..., :320], first.forward_layer(x))
    torch.testing.assert_close(merged[..., 320:], first.backward_layer(x).flip(1))


# =======================================================================================================
# Seed 001 (Keras RNN & LSTM 구현): simpleLSTM and simpleStackedLSTM, subclasses of Sequential.
# =======================================================================================================


def seed001_x_test() -> np.ndarray:
    """The seed's sine data, scaled to [0, 1], cut into windows of 13 steps (plus a target), last 20%."""
    data = np.sin(np.arange(6400)*(20*np.pi/1000))
    data = data.reshape(-1, 1)
    scaled = (data - data.min()) / (data.max() - data.min())  # MinMaxScaler(feature_range=(0,1))
    time_step = 14
    # The seed's pandas shifts: 13 shifted copies (oldest first) then the target, rows with NaN dropped.
    windows = np.lib.stride_tricks.sliding_window_view(scaled[:, 0], time_step)
    x = windows[:, :-1]
    x_test = x[int(len(x) * 0.8):]  # train_test_split(..., test_size=0.20, shuffle=False)
    x_test = x_test.reshape(x_test.shape[0], x_test.shape[1], 1)
    return np.ascontiguousarray(x_test)


def seed001_y_test() -> np.ndarray:
    """Seed 001's y_test: the value after each 13-step window (the "data" column)."""
    data = np.sin(np.arange(6400) * (20 * np.pi / 1000)).reshape(-1, 1)
    scaled = (data - data.min()) / (data.max() - data.min())
    windows = np.lib.stride_tricks.sliding_window_view(scaled[:, 0], 14)
    y = windows[:, -1:]
    return np.ascontiguousarray(y[int(len(y) * 0.8):]).astype(np.float32)


def rmse(y_true, y_pred):  # seed 001, verbatim
    return K.sqrt(K.mean(K.square(y_pred - y_true), axis=-1))


class simpleLSTM(Sequential):  # seed 001, verbatim
    def __init__(self, input_shape=(None, 1), time_step=14, hidden=128, dropout=0.2):
        super().__init__()
        self.add(LSTM(hidden, input_shape=input_shape, name="simpleLSTM00", go_backwards=True))
        self.add(Dropout(dropout, name="dropout00"))
        self.add(Dense(1, activation="relu"))
        self.compile(loss=losses.mse, optimizer="Nadam", metrics=["acc", rmse])


class simpleStackedLSTM(Sequential):  # seed 001, verbatim
    def __init__(self, stacked=3, input_shape=(None, 1), time_step=14, hidden=32, dropout=0.05):
        super().__init__()
        self.add(LSTM(hidden, input_shape=input_shape,
                      return_sequences=True,  # 출력 설정
                      name="simpleLSTM_{:02}".format(0)))
        self.add(Dropout(dropout, name="Dropout_{:02}".format(0)))

        for i in range(1, stacked):
            self.add(LSTM(hidden, return_sequences=True, name="simpleLSTM_{:02}".format(i)))
            self.add(Dropout(dropout, name="Dropout_{:02}".format(i)))

        self.add(LSTM(32, name="simpleLSTM_{:02}".format(stacked)))
        self.add(Dropout(dropout, name="dropout_FIN"))

        self.add(Dense(1, activation="relu", name="OutPut"))
        self.compile(loss=rmse, optimizer="Nadam", metrics=["acc", ])


class CustomHistory(callbacks.Callback):  # seed 001, verbatim (its author's `init` instead of __init__)
    def init(self):
        self.train_loss = []
        self.val_loss = []
        self.acc = []
        self.val_acc = []
        self.rmse = []
        self.val_rmse = []

    def on_epoch_end(self, batch, logs={}):
        self.train_loss.append(logs.get('loss'))
        self.val_loss.append(logs.get('val_loss'))
        self.acc.append(logs.get("acc"))
        self.val_acc.append(logs.get("val_acc"))
        self.rmse.append(logs.get("rmse"))
        self.val_rmse.append(logs.get("val_rmse"))


def test_seed001_simpleLSTM_trains_as_the_seed_does():
    x_test = seed001_x_test()
    y_test = seed001_y_test()
    custom_hist = CustomHistory()
    custom_hist.init()
    lstm = simpleLSTM()
    assert summary_totals(lstm) == (66689, 66689, 0)
    assert isinstance(lstm.optimizer, optimizers.Nadam)
    # seed: epochs=300 on all 1,278 windows; 2 epochs on 256 here
    hist = lstm.fit(x_test[:256], y_test[:256], epochs=2, batch_size=64, callbacks=[custom_hist],
                    validation_split=0.2, shuffle=False, verbose=0)
    assert set(hist.history) == {"loss", "acc", "rmse", "val_loss", "val_acc", "val_rmse"}
    assert len(custom_hist.val_rmse) == 2 and all(v is not None for v in custom_hist.val_rmse)
    loss, accuracy, rmse_value = lstm.evaluate(x_test, y_test, batch_size=100, verbose=0)
    assert 0 <= accuracy <= 1 and loss >= 0 and rmse_value >= 0
    assert lstm.predict(np.array([x_test[0]]), batch_size=1, verbose=0).shape == (1, 1)


def test_seed001_simpleStackedLSTM_trains_with_its_rmse_loss():
    x_test = seed001_x_test()
    y_test = seed001_y_test()
    lstm = simpleStackedLSTM(hidden=32)
    assert summary_totals(lstm) == (29345, 29345, 0)
    first = lstm.evaluate(x_test[:128], y_test[:128], verbose=0)[0]
    lstm.fit(x_test[:128], y_test[:128], epochs=3, batch_size=32, shuffle=False, verbose=0)
    assert lstm.evaluate(x_test[:128], y_test[:128], verbose=0)[0] < first


def test_seed001_simpleLSTM_summary_matches_the_seed():
    lstm = simpleLSTM()
    text = summary_text(lstm)
    rows = summary_rows(lstm)
    # The seed's table: simpleLSTM00 (LSTM) (None, 128) 66560 / dropout00 (Dropout) (None, 128) 0 /
    # dense_1 (Dense) (None, 1) 129 (Keras's automatic name counter gave "dense_1").
    assert rows[:2] == [("simpleLSTM00 (LSTM)", "(None, 128)", 66560), ("dropout00 (Dropout)", "(None, 128)", 0)]
    assert re.fullmatch(r"dense(_\d+)? \(Dense\)", rows[2][0]) and rows[2][1:] == ("(None, 1)", 129)
    assert lstm_params(128, 1) == 66560 and dense_params(1, 128) == 129
    for line in ("Total params: 66,689", "Trainable params: 66,689", "Non-trainable params: 0"):
        assert line in text.splitlines()
    assert lstm.count_params() == 66689


def test_seed001_simpleLSTM_runs_on_the_seed_data():
    lstm = simpleLSTM()
    lstm.eval()  # predict(): Dropout off
    x_test = seed001_x_test()
    assert x_test.shape == (1278, 13, 1)
    out = lstm(x_test)
    assert shape(out) == (1278, 1) and bool(torch.all(out >= 0))  # relu output
    # input_shape=(None, 1): any number of steps.
    assert shape(lstm(x_test[:5, -4:])) == (5, 1)

    # go_backwards=True reads the window from its last step: the same weights on the reversed window.
    backwards = lstm.layers[0]
    forwards = LSTM(128)
    forwards(x_test[:1])
    forwards.set_weights(backwards.get_weights())
    x = torch.as_tensor(x_test[:50], dtype=torch.float32)
    torch.testing.assert_close(backwards(x), forwards(x.flip(1)))
    assert not torch.allclose(backwards(x), forwards(x))

    # The seed's look-ahead loop (lstm.predict(...) -> lstm(...)): each prediction becomes the next step.
    look_ahead = 3
    xhat = x_test[0]
    predictions = np.zeros((look_ahead, 1))
    for i in range(look_ahead):
        prediction = lstm(np.array([xhat])).detach().numpy()  # seed: lstm.predict(np.array([xhat]), batch_size=1)
        predictions[i] = prediction
        xhat = np.vstack([xhat[1:], prediction])
    assert xhat.shape == (13, 1) and np.array_equal(xhat[-look_ahead:], predictions)


def test_seed001_simpleStackedLSTM_summary_matches_the_seed():
    hidden = 32
    lstm = simpleStackedLSTM(hidden=hidden)
    # The seed's table, row by row.
    assert summary_rows(lstm) == [
        ("simpleLSTM_00 (LSTM)", "(None, None, 32)", 4352),
        ("Dropout_00 (Dropout)", "(None, None, 32)", 0),
        ("simpleLSTM_01 (LSTM)", "(None, None, 32)", 8320),
        ("Dropout_01 (Dropout)", "(None, None, 32)", 0),
        ("simpleLSTM_02 (LSTM)", "(None, None, 32)", 8320),
        ("Dropout_02 (Dropout)", "(None, None, 32)", 0),
        ("simpleLSTM_03 (LSTM)", "(None, 32)", 8320),
        ("dropout_FIN (Dropout)", "(None, 32)", 0),
        ("OutPut (Dense)", "(None, 1)", 33),
    ]
    assert (lstm_params(32, 1), lstm_params(32, 32), dense_params(1, 32)) == (4352, 8320, 33)
    text = summary_text(lstm).splitlines()
    for line in ("Total params: 29,345", "Trainable params: 29,345", "Non-trainable params: 0"):
        assert line in text

    lstm.eval()
    x_test = seed001_x_test()
    out = lstm(x_test)
    assert shape(out) == (1278, 1) and bool(torch.all(out >= 0))


@pytest.mark.parametrize("stacked", [1, 5])
def test_seed001_simpleStackedLSTM_other_depths(stacked):
    lstm = simpleStackedLSTM(stacked=stacked, hidden=16)
    rows = summary_rows(lstm)
    assert len(rows) == 2 * (stacked + 1) + 1
    # the first `stacked` LSTMs return sequences of `hidden`; the last LSTM is fixed at 32 units
    expected = lstm_params(16, 1) + (stacked - 1) * lstm_params(16, 16) + lstm_params(32, 16) + dense_params(1, 32)
    assert lstm.count_params() == expected == summary_totals(lstm)[0]
    assert rows[-3][1] == "(None, 32)" and rows[-4][1] == "(None, None, 16)"
    lstm.eval()
    assert shape(lstm(np.zeros((4, 13, 1)))) == (4, 1)


# =======================================================================================================
# Seeds 002 / 003 (TensorFlow LSTM layer 활용법 / LSTM Layer 파헤치기): LSTM(20) on (32, 25, 1), then
# Dense vs TimeDistributed(Dense).
# =======================================================================================================


@pytest.fixture
def seed002_outputs():
    torch.manual_seed(0)
    x = torch.rand(32, 25, 1)  # seed: tf.random.uniform(shape=(32, 25, 1))
    lstm = LSTM(20)
    output_a = lstm(x)
    lstm = LSTM(20, return_sequences=True)
    output_b = lstm(x)
    return x, output_a, output_b


def test_seed002_lstm_output_shapes(seed002_outputs):
    x, output_a, output_b = seed002_outputs
    assert shape(x) == (32, 25, 1)
    assert (shape(output_a), shape(output_b)) == ((32, 20), (32, 25, 20))

    lstm = LSTM(20, return_sequences=True, return_state=True)
    output_c, _hidden, _state = lstm(x)
    assert (shape(output_c), shape(_hidden), shape(_state)) == ((32, 25, 20), (32, 20), (32, 20))
    assert torch.equal(output_c[:, -1], _hidden)


def test_seed002_dense_on_2d_and_3d_inputs(seed002_outputs):
    _, output_a, output_b = seed002_outputs
    dense = Dense(10)
    assert shape(dense(output_a)) == (32, 10)  # 20 units -> 10

    dense = Dense(10)
    out = dense(output_b)
    assert shape(out) == (32, 25, 10)  # every step's 20 units -> 10
    # Dense on a 3-D input acts on the last axis: step t of the output is Dense applied to step t.
    for t in (0, 12, 24):
        torch.testing.assert_close(out[:, t], dense(output_b[:, t]))


def test_seed002_dense_equals_time_distributed_dense(seed002_outputs):
    _, _, output_b = seed002_outputs
    dense = Dense(10)
    dense_out = dense(output_b)

    time = TimeDistributed(Dense(10))
    time_out = time(output_b)
    assert shape(time_out) == shape(dense_out) == (32, 25, 10)

    # The same parameters: one (20, 10) kernel and a bias of 10, shared by every time step.
    assert time.count_params() == dense.count_params() == dense_params(10, 20) == 210
    assert [w.shape for w in time.get_weights()] == [w.shape for w in dense.get_weights()] == [(20, 10), (10,)]
    assert not torch.allclose(time_out, dense_out)  # independent initializations...
    time.set_weights(dense.get_weights())
    torch.testing.assert_close(time(output_b), dense_out)  # ... the same weights: the same outputs


def test_seed002_dense_vs_time_distributed_in_models():
    inputs = Input(shape=(25, 1))
    sequence = LSTM(20, return_sequences=True)(inputs)
    with_dense = Model(inputs, Dense(10, name="d")(sequence))
    with_time = Model(inputs, TimeDistributed(Dense(10), name="td")(sequence))  # short names: no cut-off
    dense_row, time_row = summary_rows(with_dense)[-1], summary_rows(with_time)[-1]
    assert (dense_row[0], time_row[0]) == ("d (Dense)", "td (TimeDistributed)")
    assert dense_row[1:] == time_row[1:] == ("(None, 25, 10)", 210)
    assert with_dense.count_params() == with_time.count_params() == lstm_params(20, 1) + 210


def test_seed002_time_distributed_rejects_2d_input(seed002_outputs):
    # "return_sequences=False로 받은 값은 2차원이기 때문에 TimeDistributed에 넘겨줄 수 없습니다."
    _, output_a, _ = seed002_outputs
    time = TimeDistributed(Dense(10))
    with pytest.raises(ValueError, match=r"at least 3 dimensions .*received shape \(32, 20\)"):
        time(output_a)
    # The same mistake in a model is reported when the layer is called on the symbolic tensor.
    last_step = LSTM(20)(Input(shape=(25, 1)))
    with pytest.raises(ValueError, match=r"at least 3 dimensions .*return_sequences=True"):
        TimeDistributed(Dense(10))(last_step)


# =======================================================================================================
# Seed 004 (Understanding Keras LSTMs): the stateful Brownlee model, one-to-many / many-to-many, the
# stateful loops, encoder / decoder / autoencoder, the Conv1D model, the Embedding -> GRU model.
# =======================================================================================================


def create_dataset(dataset, look_back=1):
    """Brownlee's helper as the seed describes it: windows of look_back steps and the next value."""
    dataX, dataY = [], []
    for i in range(len(dataset) - look_back - 1):
        dataX.append(dataset[i:(i + look_back), 0])
        dataY.append(dataset[i + look_back, 0])
    return np.array(dataX), np.array(dataY)


def test_seed004_stateful_brownlee_model():
    train = np.linspace(0.0, 1.0, 20).reshape(-1, 1)
    look_back = 3
    trainX, trainY = create_dataset(train, look_back)
    # reshape input to be [samples, time steps, features]
    trainX = np.reshape(trainX, (trainX.shape[0], look_back, 1))
    batch_size = 1
    model = Sequential()
    model.add(LSTM(4, batch_input_shape=(batch_size, look_back, 1), stateful=True))
    model.add(Dense(1))
    model.compile(loss='mean_squared_error', optimizer='adam')

    assert trainX.shape == (16, 3, 1)
    rows = summary_rows(model)
    assert [r[1:] for r in rows] == [("(1, 4)", lstm_params(4, 1)), ("(1, 1)", dense_params(1, 4))]
    assert model.count_params() == 96 + 5

    # Stateful: each batch continues the sequences of the previous one, until reset_states().
    first = model(trainX[0:1])
    second = model(trainX[1:2])
    assert shape(first) == shape(second) == (1, 1)
    # The same weights without state: the second output is the one for both windows read in one go.
    stateless = Sequential([LSTM(4, input_shape=(None, 1)), Dense(1)])
    stateless.set_weights(model.get_weights())
    torch.testing.assert_close(second, stateless(np.concatenate([trainX[0:1], trainX[1:2]], axis=1)))
    assert not torch.allclose(second, stateless(trainX[1:2]))
    model.reset_states()
    torch.testing.assert_close(model(trainX[1:2]), stateless(trainX[1:2]))

    # The seed's training loop: one epoch at a time, states reset between epochs.
    trainY = trainY.reshape(-1, 1)
    for i in range(3):
        with pytest.warns(DeprecationWarning, match="nb_epoch"):  # Keras 1's name, kept in the seed
            model.fit(trainX, trainY, nb_epoch=1, batch_size=batch_size, verbose=0, shuffle=False)
        model.reset_states()
    assert model.optimizer.iterations == 3 * len(trainX)
    assert model.predict(trainX, batch_size=batch_size, verbose=0).shape == (16, 1)


def test_seed004_many_to_many_and_many_to_one_single_layers():
    N, units = 6, 7
    inputs = Input(shape=(5, 2))  # N oil tanks, 5 hourly steps, (pressure, temperature)
    tanks = np.random.default_rng(1).random((N, 5, 2))

    outputs = LSTM(units, return_sequences=True)(inputs)
    many_to_many = Model(inputs, outputs)
    assert outputs.shape == (None, 5, units) and shape(many_to_many(tanks)) == (N, 5, units)

    outputs = LSTM(units)(inputs)
    many_to_one = Model(inputs, outputs)
    assert outputs.shape == (None, units) and shape(many_to_one(tanks)) == (N, units)

    many_to_one.set_weights(many_to_many.get_weights())  # "steps were discarded, only the last was returned"
    torch.testing.assert_close(many_to_one(tanks), many_to_many(tanks)[:, -1])


def test_seed004_one_to_many_with_repeat_vector():
    steps, features, units = 4, 3, 5
    inputs = Input(shape=(features,))
    outputs = RepeatVector(steps)(inputs) #where inputs is (batch,features)
    outputs = LSTM(units,return_sequences=True)(outputs)
    #output_shape -> (batch_size, steps, units)
    model = Model(inputs, outputs)

    assert outputs.shape == (None, steps, units)
    x = np.random.default_rng(2).random((2, features)).astype("float32")
    assert shape(model(x)) == (2, steps, units)
    rows = summary_rows(model)
    assert [r[1:] for r in rows] == [(f"[(None, {features})]", 0), (f"(None, {steps}, {features})", 0),
                                     (f"(None, {steps}, {units})", lstm_params(units, features))]
    repeated = model.layers[1](x)
    assert shape(repeated) == (2, steps, features)
    assert all(torch.equal(repeated[:, t], torch.as_tensor(x)) for t in range(steps))


def _seed004_stateful_feedback_model(batch: int, features: int) -> Model:
    # The seed's layer; the stateful state needs a known batch, so its `inputs` declare one.
    inputs = Input(batch_shape=(batch, None, features))
    outputs = LSTM(units=features,
                   stateful=True,
                   return_sequences=True, #just to keep a nice output shape even with length 1
                   input_shape=(None,features))(inputs)
    #units = features because we want to use the outputs as inputs
    #None because we want variable length
    #output_shape -> (batch_size, steps, units)
    return Model(inputs, outputs)


def test_seed004_one_to_many_with_stateful_loop():
    batch, features = 2, 3
    model = _seed004_stateful_feedback_model(batch, features)
    assert model.outputs[0].shape == (batch, None, features)
    assert model.count_params() == lstm_params(features, features)

    input_data = np.random.default_rng(3).random((batch, 1, features)).astype("float32")
    #important, we're starting new sequences, not continuing old ones:
    model.reset_states()
    output_sequence = []
    last_step = input_data
    for i in range(4):  # seed: for i in steps_to_predict
        new_step = model(last_step)  # seed: model.predict(last_step)
        output_sequence.append(new_step)
        last_step = new_step
    #end of the sequences
    model.reset_states()

    assert all(shape(s) == (batch, 1, features) for s in output_sequence)
    # Fed one step at a time, the stateful layer computed exactly what one call on the whole
    # (input, outputs fed back) sequence computes from zero states.
    fed = torch.cat([torch.as_tensor(input_data)] + output_sequence[:-1], dim=1)
    torch.testing.assert_close(model(fed), torch.cat(output_sequence, dim=1))


def test_seed004_many_to_many_with_stateful_loop():
    batch, features = 2, 3
    model = _seed004_stateful_feedback_model(batch, features)
    totalSequences = np.random.default_rng(4).random((batch, 6, features)).astype("float32")
    X = totalSequences[:,:-1] #the entire known sequence, except the last step
    Y = totalSequences[:,1:] #one step ahead of X
    assert X.shape == Y.shape == (batch, 5, features)

    model.reset_states() #starting a new sequence
    predicted = model(totalSequences)  # seed: model.predict(totalSequences)
    firstNewStep = predicted[:,-1:] #the last step of the predictions is the first future step
    assert shape(predicted) == (batch, 6, features) and shape(firstNewStep) == (batch, 1, features)

    output_sequence = [firstNewStep]
    last_step = firstNewStep
    for i in range(3):  # seed: for i in steps_to_predict (no reset here: the model knows where it is)
        new_step = model(last_step)
        output_sequence.append(new_step)
        last_step = new_step
    #end of the sequences
    model.reset_states()

    # The loop continued the sequence: one call from zero states on the known sequence followed by the
    # fed-back predictions reproduces both `predicted` and every new step.
    fed = torch.cat([torch.as_tensor(totalSequences)] + output_sequence[:-1], dim=1)
    whole = model(fed)
    torch.testing.assert_close(whole[:, :6], predicted)
    torch.testing.assert_close(whole[:, 6:], torch.cat(output_sequence[1:], dim=1))


def test_seed004_encoder_decoder_autoencoder():
    steps, features = 5, 2
    hidden1, hidden2, hidden3, hidden4 = 16, 12, 8, 12

    # Encoder:
    inputs = Input((steps,features))
    #a few many to many layers:
    outputs = LSTM(hidden1,return_sequences=True)(inputs)
    outputs = LSTM(hidden2,return_sequences=True)(outputs)
    #many to one layer:
    outputs = LSTM(hidden3)(outputs)
    encoder = Model(inputs,outputs)

    # Decoder:
    inputs = Input((hidden3,))
    #repeat to make one to many:
    outputs = RepeatVector(steps)(inputs)
    #a few many to many layers:
    outputs = LSTM(hidden4,return_sequences=True)(outputs)
    #last layer
    outputs = LSTM(features,return_sequences=True)(outputs)
    decoder = Model(inputs,outputs)

    # Autoencoder:
    inputs = Input((steps,features))
    outputs = encoder(inputs)
    outputs = decoder(outputs)
    autoencoder = Model(inputs,outputs)

    encoder_params = lstm_params(hidden1, features) + lstm_params(hidden2, hidden1) + lstm_params(hidden3, hidden2)
    decoder_params = lstm_params(hidden4, hidden3) + lstm_params(features, hidden4)
    assert [r[1:] for r in summary_rows(encoder)] == [
        (f"[(None, {steps}, {features})]", 0),
        (f"(None, {steps}, {hidden1})", lstm_params(hidden1, features)),
        (f"(None, {steps}, {hidden2})", lstm_params(hidden2, hidden1)),
        (f"(None, {hidden3})", lstm_params(hidden3, hidden2))]
    assert [r[1:] for r in summary_rows(decoder)] == [
        (f"[(None, {hidden3})]", 0), (f"(None, {steps}, {hidden3})", 0),
        (f"(None, {steps}, {hidden4})", lstm_params(hidden4, hidden3)),
        (f"(None, {steps}, {features})", lstm_params(features, hidden4))]
    # The autoencoder's table lists the two nested models as single rows.
    rows = summary_rows(autoencoder)
    assert [r[1:] for r in rows] == [(f"[(None, {steps}, {features})]", 0), (f"(None, {hidden3})", encoder_params),
                                     (f"(None, {steps}, {features})", decoder_params)]
    assert rows[1][0] == f"{encoder.name} (Functional)" and rows[2][0] == f"{decoder.name} (Functional)"
    assert autoencoder.count_params() == encoder_params + decoder_params == summary_totals(autoencoder)[0]
    assert autoencoder.layers[1] is encoder and autoencoder.layers[2] is decoder

    X = np.random.default_rng(5).random((3, steps, features)).astype("float32")
    reconstruction = autoencoder(X)
    assert shape(reconstruction) == X.shape  # "Train with fit(X,X)": the output has the input's shape
    assert shape(encoder(X)) == (3, hidden3)
    torch.testing.assert_close(reconstruction, decoder(encoder(X)))
    # The nested models share their weights with the autoencoder: changing the encoder changes it.
    encoder.set_weights([w * 0 for w in encoder.get_weights()])
    torch.testing.assert_close(autoencoder(X), decoder(np.zeros((3, hidden3), dtype="float32")))


def test_seed004_conv1d_lstm_model():
    def make_data(batch_shape):  # dummy data
        return (np.random.randn(*batch_shape),
                np.random.randint(0, 2, (batch_shape[0], 1)))

    def make_model(batch_shape):  # example model
        ipt = Input(batch_shape=batch_shape)
        x = Conv1D(filters=16, kernel_size=10, strides=2, padding='valid')(ipt)
        x = LSTM(units=16)(x)
        out = Dense(1, activation='sigmoid')(x)  # assuming binary classification
        model = Model(ipt, out)
        with pytest.warns(DeprecationWarning, match="lr"):
            model.compile(Adam(lr=1e-3), 'binary_crossentropy')
        return model

    batch_shape = (32, 100, 16)  # 32 samples, 100 timesteps, 16 channels
    x, y = make_data(batch_shape)
    model = make_model(batch_shape)
    loss = model.train_on_batch(x, y)
    assert isinstance(loss, float) and 0.3 < loss < 3  # binary cross-entropy of a near-0.5 guess: ~0.69

    steps = (100 - 10) // 2 + 1  # 'valid' convolution, stride 2
    assert [r[1:] for r in summary_rows(model)] == [
        ("[(32, 100, 16)]", 0), (f"(32, {steps}, 16)", conv1d_params(16, 10, 16)),
        ("(32, 16)", lstm_params(16, 16)), ("(32, 1)", dense_params(1, 16))]
    assert steps == 46 and model.count_params() == 2576 + 2112 + 17
    out = model(x)
    assert shape(out) == y.shape == (32, 1)
    assert bool(torch.all((out > 0) & (out < 1)))  # sigmoid


def test_seed004_lstm_300_summary_figure():
    model = Sequential()
    model.add(LSTM(300, input_shape=(20,1)))
    rows = summary_rows(model)
    # The seed prints: lstm_7 (LSTM) (None, 300) 362400
    assert re.fullmatch(r"lstm(_\d+)? \(LSTM\)", rows[0][0]) and rows[0][1:] == ("(None, 300)", 362400)
    assert lstm_params(300, 1) == 362400
    output = model(np.zeros((1, 20, 1)))  # seed: model.predict(np.zeros((1, 20, 1)))
    assert shape(output) == (1, 300)

    model.add(Dense(20))  # the question's model: forecast the next 20 steps
    assert summary_rows(model)[1][1:] == ("(None, 20)", dense_params(20, 300))
    assert shape(model(np.zeros((1, 20, 1)))) == (1, 20)


def test_seed004_three_series_model():
    model = Sequential()
    model.add(LSTM(32, input_shape=(5, 3), return_sequences=True)) # Input is shape (5 timesteps x 3 timeseries), output is shape (5 timesteps x 32 variables) because return_sequences = True
    model.add(LSTM(8)) # output is shape (1 timesteps x 8 variables) because return_sequences = False
    model.add(Dense(1, activation='linear')) # output is (1 timestep x 1 output unit on dense layer). It is compare to target variable.
    assert [r[1:] for r in summary_rows(model)] == [("(None, 5, 32)", lstm_params(32, 3)), ("(None, 8)", lstm_params(8, 32)),
                                                   ("(None, 1)", dense_params(1, 8))]
    # The windows of the seed's three series 1..100, 2..200, 3..300: (96 samples x 5 timeSteps x 3 timeSeries)
    series = np.stack([np.arange(1, 101), np.arange(2, 201, 2), np.arange(3, 301, 3)], axis=-1).astype("float32")
    windows = np.lib.stride_tricks.sliding_window_view(series, 5, axis=0).transpose(0, 2, 1)
    assert windows.shape == (96, 5, 3) and windows[0, :, 0].tolist() == [1, 2, 3, 4, 5]
    assert shape(model(np.ascontiguousarray(windows))) == (96, 1)


def test_seed004_stacking_without_return_sequences_is_reported():
    # The question's "sample code": LSTM after LSTM without return_sequences=True (Keras rejects it too).
    model = Sequential()
    model.add(LSTM(32, input_shape=(600, 8))) # (timesteps, features)
    with pytest.raises(ValueError, match="return_sequences=True"):
        model.add(LSTM(32))


class _SeedWordModel:
    """The seed's word-level model lives in a class (self.vocabularySize...). Small vocabulary, short
    sequences; the GRU sizes are the seed's."""

    vocabularySize = 300
    EmbeddingDimension = 24
    maxSequenceLength = 12

    def build(self, stray_input_shape: bool = True):
        words = Input(batch_shape=(None, self.maxSequenceLength), name = "input")
        # Build a matrix of size vocabularySize x EmbeddingDimension
        # where each row corresponds to a "word embedding" vector.
        # This layer will convert replace each word-id with a word-vector of size Embedding Dimension.
        embeddings = Embedding(self.vocabularySize, self.EmbeddingDimension,
                               name = "embeddings")(words)
        # Pass the word-vectors to the LSTM layer.
        # We are setting the hidden-state size to 512.
        # The output will be batchSize x maxSequenceLength x hiddenStateSize
        hiddenStates = GRU(512, return_sequences = True,
                           input_shape=(self.maxSequenceLength,
                                        self.EmbeddingDimension),
                           name = "rnn")(embeddings)
        if stray_input_shape:  # the seed's line: input_shape copied from the first GRU (Keras ignores it)
            hiddenStates2 = GRU(128, return_sequences = True,
                                input_shape=(self.maxSequenceLength, self.EmbeddingDimension),
                                name = "rnn2")(hiddenStates)
        else:
            hiddenStates2 = GRU(128, return_sequences = True,
                                name = "rnn2")(hiddenStates)
        denseOutput = TimeDistributed(Dense(self.vocabularySize),
                                      name = "linear")(hiddenStates2)
        predictions = TimeDistributed(Activation("softmax"),
                                      name = "softmax")(denseOutput)
        # Build the computational graph by specifying the input, and output of the network.
        # (The seed's Keras 1 keywords `input=` / `output=` are Keras 2's `inputs=` / `outputs=`.)
        model = Model(inputs = words, outputs = predictions)
        with pytest.warns(DeprecationWarning):  # tf.keras 2's lr= and decay=, as the seed wrote them
            model.compile(loss='sparse_categorical_crossentropy', \
                          optimizer = Adam(lr=0.009, \
                                           beta_1=0.9,\
                                           beta_2=0.999, \
                                           epsilon=None, \
                                           decay=0.01, \
                                           amsgrad=False))
        return model, denseOutput


def _check_word_model(model, logits_tensor):
    s = _SeedWordModel
    V, E, T = s.vocabularySize, s.EmbeddingDimension, s.maxSequenceLength
    model.eval()
    ids = np.random.default_rng(6).integers(0, V, (3, T))
    out = model(ids)
    assert shape(out) == (3, T, V)
    assert summary_rows(model) == [
        ("input (InputLayer)", f"[(None, {T})]", 0),
        ("embeddings (Embedding)", f"(None, {T}, {E})", V * E),
        ("rnn (GRU)", f"(None, {T}, 512)", gru_params(512, E)),
        ("rnn2 (GRU)", f"(None, {T}, 128)", gru_params(128, 512)),
        ("linear (TimeDistributed)", f"(None, {T}, {V})", dense_params(V, 128)),
        ("softmax (TimeDistributed)", f"(None, {T}, {V})", 0),
    ]
    assert bool(torch.all(out > 0))
    torch.testing.assert_close(out.sum(-1), torch.ones(3, T))  # one distribution over words per step
    # The softmax is the last axis's softmax of the TimeDistributed(Dense) output.
    logits = Model(model.inputs[0], logits_tensor)(ids)
    torch.testing.assert_close(out, torch.softmax(logits, dim=-1))
    # next-word training as the seed compiled it: sparse categorical cross-entropy on word ids
    targets = np.roll(ids, -1, axis=1)
    first = model.train_on_batch(ids, targets)
    assert first == pytest.approx(np.log(V), rel=0.1)  # a near-uniform softmax over the vocabulary
    assert model.optimizer.current_learning_rate == pytest.approx(0.009 / (1 + 0.01))  # tf.keras 2 decay


def test_seed004_embedding_gru_time_distributed_softmax_verbatim():
    model, logits_tensor = _SeedWordModel().build(stray_input_shape=True)
    _check_word_model(model, logits_tensor)


def test_seed004_embedding_gru_time_distributed_softmax_without_stray_input_shape():
    model, logits_tensor = _SeedWordModel().build(stray_input_shape=False)
    _check_word_model(model, logits_tensor)


def test_seed004_keras1_model_keywords_are_refused_with_their_names():
    # The seed's `keras.models.Model(input = words, output = predictions)` is Keras 1 spelling, refused by
    # Keras >= 2.3 too; lstmkit names the unknown keywords.
    words = Input(shape=(4,))
    predictions = Dense(2)(words)
    with pytest.raises(TypeError, match=r"\['input', 'output'\]"):
        Model(input = words, output = predictions)
