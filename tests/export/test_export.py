"""model.export: ONNX (onnxruntime) and torch.export programs equal lstmkit's predict; streaming; errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit import layers as L
from lstmkit.cli.main import main
from lstmkit.export import rnn as export_rnn
ort = pytest.importorskip("onnxruntime")

F = 3
RTOL = 1e-5  # max |exported - predict| / max |predict|, per output


def seq(*layers, shape=(None, F), dtype=None):
    return lstmkit.Sequential([L.Input(shape, dtype=dtype), *layers])


def functional(build, shape=(None, F)):
    inputs = L.Input(shape)
    return lstmkit.Model(inputs, build(inputs))


KINDS = {
    "lstm": lambda: seq(L.LSTM(8)),
    "lstm_sequences_time_distributed": lambda: seq(L.LSTM(8, return_sequences=True), L.TimeDistributed(L.Dense(2))),
    "gru_reset_after": lambda: seq(L.GRU(8)),
    "gru_reset_before": lambda: seq(L.GRU(8, reset_after=False, return_sequences=True)),
    "simple_rnn_tanh": lambda: seq(L.SimpleRNN(8)),
    "simple_rnn_relu": lambda: seq(L.SimpleRNN(8, activation="relu", return_sequences=True)),
    "lstm_relu_hard_sigmoid": lambda: seq(L.LSTM(8, activation="relu", recurrent_activation="hard_sigmoid",
                                                 return_sequences=True)),
    "gru_linear_leaky_relu": lambda: seq(L.GRU(8, activation="linear", recurrent_activation="leaky_relu",
                                               return_sequences=True)),
    "lstm_softsign_keras2_hard_sigmoid": lambda: seq(L.LSTM(8, activation="softsign",
                                                            recurrent_activation="hard_sigmoid_keras2")),
    "simple_rnn_elu_gru_softplus": lambda: seq(L.SimpleRNN(8, activation="elu", return_sequences=True),
                                               L.GRU(4, activation="softplus", reset_after=False)),
    "no_bias": lambda: seq(L.LSTM(8, use_bias=False, return_sequences=True),
                           L.GRU(4, use_bias=False, return_sequences=True), L.SimpleRNN(3, use_bias=False)),
    "go_backwards": lambda: seq(L.LSTM(8, go_backwards=True, return_sequences=True), L.GRU(5, go_backwards=True)),
    "stacked": lambda: seq(L.LSTM(8, return_sequences=True), L.LSTM(6, return_sequences=True), L.GRU(4),
                           L.Dense(1)),
    "bidirectional_concat": lambda: seq(L.Bidirectional(L.LSTM(8, return_sequences=True)), L.Dense(2)),
    "bidirectional_sum": lambda: seq(L.Bidirectional(L.GRU(8), merge_mode="sum")),
    "bidirectional_mul": lambda: seq(L.Bidirectional(L.SimpleRNN(8, return_sequences=True), merge_mode="mul")),
    "bidirectional_ave": lambda: seq(L.Bidirectional(L.LSTM(8), merge_mode="ave")),
    "bidirectional_none": lambda: functional(
        lambda i: L.Bidirectional(L.LSTM(8, return_sequences=True), merge_mode=None)(i)),
    "return_state": lambda: functional(lambda i: L.LSTM(8, return_state=True)(i)),
    "bidirectional_return_state": lambda: functional(lambda i: L.Bidirectional(L.GRU(8, return_state=True))(i)),
    "masking_stacked": lambda: seq(L.Masking(0.0), L.LSTM(8, return_sequences=True), L.LSTM(4)),
    "masking_go_backwards": lambda: seq(L.Masking(0.0), L.GRU(8, go_backwards=True, return_sequences=True),
                                        L.SimpleRNN(4, go_backwards=True)),
    "masking_bidirectional": lambda: seq(L.Masking(0.0), L.Bidirectional(L.LSTM(8, return_sequences=True)),
                                         L.Bidirectional(L.GRU(4))),
    "embedding_mask_zero": lambda: seq(L.Embedding(20, 6, mask_zero=True), L.LSTM(8, return_sequences=True),
                                       L.Dense(3), shape=(None,), dtype="int64"),
    "conv1d_dropout": lambda: seq(L.Conv1D(6, 3, padding="causal"), L.Dropout(0.3),
                                  L.LSTM(8, dropout=0.2, recurrent_dropout=0.2, return_sequences=True),
                                  L.TimeDistributed(L.Dense(2)), L.Dropout(0.1), L.Dense(1)),
}


def make(kind):
    torch.manual_seed(0)
    return KINDS[kind]()


def inputs(kind, batch, steps, rng):
    """Random inputs; masked kinds get right-padded rows of random lengths (row 0 full)."""
    if kind.startswith("embedding"):
        x = rng.integers(1, 20, size=(batch, steps))
    else:
        x = rng.normal(size=(batch, steps, F)).astype(np.float32)
    if kind.startswith(("masking", "embedding")):
        lengths = rng.integers(1, steps + 1, size=batch)
        lengths[0] = steps
        for row, length in enumerate(lengths):
            x[row, length:] = 0
    return x


def relative_error(got, expected):
    return float(np.abs(got - expected).max() / max(np.abs(expected).max(), 1e-12))


def as_list(outputs):
    return [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]


def worst_error(kind, model, run, rng):
    """Max relative error of ``run(x)`` against predict at batches 1, 7, 64 and lengths 3, 9 (traced: 5)."""
    worst = 0.0
    for batch in (1, 7, 64):
        for steps in (3, 9):
            x = inputs(kind, batch, steps, rng)
            expected = as_list(model.predict(x, verbose=0, batch_size=64))
            got = run(x)
            assert len(got) == len(expected)
            for g, e in zip(got, expected):
                assert g.shape == e.shape
                worst = max(worst, relative_error(g, e))
    return worst


def onnx_runner(path):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


@pytest.mark.parametrize("kind", list(KINDS))
def test_onnx_export_equals_predict_at_other_batch_sizes_and_lengths(kind, tmp_path):
    model = make(kind)
    path = tmp_path / "model.onnx"
    model.export(path, verbose=False)
    assert worst_error(kind, model, onnx_runner(path), np.random.default_rng(0)) < RTOL
    for rnn in (m for m in model.modules() if isinstance(m, L.RNN)):
        assert rnn.last_path != "export-onnx"  # predict ran lstmkit's own paths, not the export's
    assert not any(p.name.endswith(".tmp.onnx") for p in tmp_path.iterdir())


@pytest.mark.parametrize("kind", ["masking_go_backwards", "embedding_mask_zero"])
def test_torch_export_program_equals_predict(kind, tmp_path):
    model = make(kind)
    path = tmp_path / "model.pt2"
    model.export(path, format="torch", verbose=False)
    program = torch.export.load(str(path)).module()

    def run(x):
        with torch.no_grad():
            return [t.numpy() for t in program(torch.from_numpy(x))]

    assert worst_error(kind, model, run, np.random.default_rng(1)) < RTOL


def streaming_model(batch=None, stateful=False):
    torch.manual_seed(2)
    shape = dict(batch_shape=(batch, None, F)) if batch else dict(shape=(None, F))
    return lstmkit.Sequential([
        L.Input(**shape, name="x"), L.Masking(0.0), L.LSTM(8, return_sequences=True, stateful=stateful, name="lstm"),
        L.GRU(5, return_sequences=True, stateful=stateful, reset_after=False, name="gru"),
        L.SimpleRNN(4, return_sequences=True, stateful=stateful, name="rnn"), L.Dense(2)])


def stream(session, x, cuts):
    names = [i.name for i in session.get_inputs()]
    states = [np.zeros((x.shape[0], i.shape[1]), np.float32) for i in session.get_inputs()[1:]]
    outputs = []
    for start, stop in zip(cuts[:-1], cuts[1:]):
        result = session.run(None, dict(zip(names, [x[:, start:stop]] + states)))
        outputs.append(result[0])
        states = result[1:]
    return np.concatenate(outputs, axis=1), states


def test_states_as_inputs_and_outputs_stream_chunks_equal_one_pass(tmp_path):
    model = streaming_model()
    model.export(tmp_path / "s.onnx", states=True, verbose=False)
    session = ort.InferenceSession(str(tmp_path / "s.onnx"))
    assert [i.name for i in session.get_inputs()] == [
        "x", "state_in/lstm/h", "state_in/lstm/c", "state_in/gru/h", "state_in/rnn/h"]
    assert [o.name for o in session.get_outputs()][1:] == [
        "state_out/lstm/h", "state_out/lstm/c", "state_out/gru/h", "state_out/rnn/h"]
    x = np.random.default_rng(3).normal(size=(7, 12, F)).astype(np.float32)
    x[3, 9:] = 0  # a row that ends early (masked tail)
    one_pass = model.predict(x, verbose=0)
    valid = (x != 0).any(axis=2)  # masked steps repeat the last output of their own call (Keras), not compared
    for cuts in ([0, 12], [0, 4, 5, 12], [0, 1, 2, 3, 7, 11, 12]):
        streamed, _ = stream(session, x, cuts)
        assert relative_error(streamed[valid], one_pass[valid]) < RTOL


def test_states_export_streams_like_a_stateful_model(tmp_path):
    stateful = streaming_model(batch=7, stateful=True)
    stateful.export(tmp_path / "s.onnx", states=True, verbose=False)
    session = ort.InferenceSession(str(tmp_path / "s.onnx"))
    x = np.random.default_rng(4).normal(size=(7, 10, F)).astype(np.float32)
    x[3, 7:], x[5, 3:] = 0, 0  # masked tails: a chunk partly, then wholly masked
    streamed, states = stream(session, x, [0, 3, 6, 10])
    expected = np.concatenate([stateful.predict(x[:, a:b], verbose=0) for a, b in ((0, 3), (3, 6), (6, 10))], 1)
    assert relative_error(streamed, expected) < RTOL
    memory = [s.numpy() for layer in stateful.layers if isinstance(layer, L.RNN) for s in layer.states]
    assert max(relative_error(g, e) for g, e in zip(states, memory)) < RTOL


def test_stateful_memory_is_untouched_and_exported_calls_start_from_zeros(tmp_path):
    model = streaming_model(batch=2, stateful=True)
    x = np.random.default_rng(5).normal(size=(2, 6, F)).astype(np.float32)
    model.predict(x, verbose=0)
    memory = [s.clone() for layer in model.layers if isinstance(layer, L.RNN) for s in layer.states]
    model.export(tmp_path / "m.onnx", verbose=False)
    after = [s for layer in model.layers if isinstance(layer, L.RNN) for s in layer.states]
    assert all(torch.equal(a, b) for a, b in zip(memory, after))
    fresh = streaming_model()
    fresh.set_weights(model.get_weights())
    assert relative_error(onnx_runner(tmp_path / "m.onnx")(x)[0], fresh.predict(x, verbose=0)) < RTOL


def test_a_mask_that_is_not_right_padded_gives_nan_rows_not_wrong_numbers(tmp_path):
    model = make("masking_stacked")
    model.export(tmp_path / "m.onnx", verbose=False)
    x = np.random.default_rng(6).normal(size=(3, 6, F)).astype(np.float32)
    x[1, 2] = 0  # a hole in the middle of row 1: ONNX's recurrent ops cannot skip it
    got = onnx_runner(tmp_path / "m.onnx")(x)[0]
    expected = model.predict(x, verbose=0)
    assert np.isnan(got[1]).all() and not np.isnan(got[[0, 2]]).any()
    assert relative_error(got[[0, 2]], expected[[0, 2]]) < RTOL


def test_fixed_length_model_keeps_its_time_axis(tmp_path):
    model = seq(L.LSTM(4, return_sequences=True), L.Flatten(), L.Dense(1), shape=(6, F))
    model.export(tmp_path / "m.onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    assert session.get_inputs()[0].shape == ["batch", 6, F]
    x = np.random.default_rng(7).normal(size=(5, 6, F)).astype(np.float32)
    assert relative_error(onnx_runner(tmp_path / "m.onnx")(x)[0], model.predict(x, verbose=0)) < RTOL


def test_input_signature_for_a_model_without_declared_inputs(tmp_path):
    torch.manual_seed(0)
    model = lstmkit.Sequential([L.LSTM(4), L.Dense(1)])
    with pytest.raises(ValueError, match="input_signature"):
        model.export(tmp_path / "m.onnx", verbose=False)
    model.export(tmp_path / "m.onnx", verbose=False, input_signature=[np.zeros((1, 5, F), np.float32)])
    x = np.random.default_rng(8).normal(size=(2, 7, F)).astype(np.float32)
    assert relative_error(onnx_runner(tmp_path / "m.onnx")(x)[0], model.predict(x, verbose=0)) < RTOL


def test_two_input_functional_model(tmp_path):
    torch.manual_seed(0)
    a, b = L.Input((None, F), name="past"), L.Input((None, 2), name="covariates")
    merged = L.Concatenate()([L.LSTM(4)(a), L.GRU(3)(b)])
    model = lstmkit.Model([a, b], L.Dense(1)(merged))
    model.export(tmp_path / "m.onnx", verbose=False)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    rng = np.random.default_rng(9)
    xa, xb = rng.normal(size=(4, 7, F)).astype(np.float32), rng.normal(size=(4, 2, 2)).astype(np.float32)
    got = session.run(None, {"past": xa, "covariates": xb})[0]
    assert relative_error(got, model.predict([xa, xb], verbose=0)) < RTOL


@pytest.mark.parametrize("activation", ["relu6", "gelu", "selu"])
def test_activation_onnx_cannot_express_is_an_error_naming_the_layer(activation, tmp_path):
    model = seq(L.Dense(2), L.LSTM(4, activation=activation, name="odd"))
    with pytest.raises(ValueError, match=rf"LSTM 'odd' cannot be exported to ONNX: activation='{activation}'"):
        model.export(tmp_path / "m.onnx", verbose=False)
    assert list(tmp_path.iterdir()) == []
    model.export(tmp_path / "m.pt2", format="torch", verbose=False)  # torch.export runs any activation
    x = np.random.default_rng(10).normal(size=(2, 8, F)).astype(np.float32)
    got = torch.export.load(str(tmp_path / "m.pt2")).module()(torch.from_numpy(x))[0].detach().numpy()
    assert relative_error(got, model.predict(x, verbose=0)) < RTOL


class PlainCell(torch.nn.Module):
    state_size = 4

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(F + 4, 4)

    def forward(self, x, states, training=None):
        h = torch.tanh(self.linear(torch.cat([x, states[0]], dim=1)))
        return h, [h]


def test_user_cell_is_an_error_naming_the_layer(tmp_path):
    assert export_rnn.onnx_unsupported_reason(L.LSTM(3)) is None
    model = seq(L.RNN(PlainCell(), name="mine"))
    with pytest.raises(ValueError, match="RNN 'mine' cannot be exported to ONNX: its cell PlainCell is user"):
        model.export(tmp_path / "m.onnx", verbose=False)
    with pytest.raises(ValueError, match="RNN 'mine' cannot be exported: its cell PlainCell"):
        model.export(tmp_path / "m.pt2", format="torch", verbose=False)


def test_bad_arguments_and_a_failed_export_keep_the_previous_file(tmp_path):
    model = make("lstm")
    with pytest.raises(ValueError, match="format"):
        model.export(tmp_path / "m.onnx", format="tflite")
    with pytest.raises(ValueError, match="a file name"):
        model.export(tmp_path, verbose=False)
    target = tmp_path / "m.onnx"
    target.write_bytes(b"previous")
    bad = seq(L.LSTM(4, activation="relu6"))
    with pytest.raises(ValueError, match="relu6"):
        bad.export(target, verbose=False)
    assert target.read_bytes() == b"previous" and list(tmp_path.iterdir()) == [target]


def test_verbose_export_names_the_file(tmp_path, capsys):
    make("gru_reset_after").export(tmp_path / "m.onnx")
    assert capsys.readouterr().out.strip() == f"Saved artifact at '{tmp_path / 'm.onnx'}'."


def test_cli_export_writes_an_onnx_file_equal_to_the_model(tmp_path, capsys):
    model = make("stacked")
    model.save(tmp_path / "model.lstmkit")
    assert main(["export", str(tmp_path / "model.lstmkit"), str(tmp_path / "out.onnx")]) == 0
    x = np.random.default_rng(11).normal(size=(3, 8, F)).astype(np.float32)
    assert relative_error(onnx_runner(tmp_path / "out.onnx")(x)[0], model.predict(x, verbose=0)) < RTOL
    assert main(["export", str(tmp_path / "model.lstmkit"), str(tmp_path / "s.pt2"), "--format", "torch",
                 "--states"]) == 0
    assert (tmp_path / "s.pt2").is_file()
    assert main(["export", str(tmp_path / "missing.lstmkit"), str(tmp_path / "x.onnx")]) == 1
    assert "no such model file" in capsys.readouterr().err
