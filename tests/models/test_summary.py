"""summary(): the seeds' tables, character for character (seed 001), and functional models."""

from __future__ import annotations

from pathlib import Path

from lstmkit.layers import LSTM, Dense, Dropout, Input
from lstmkit.models import Model, Sequential

SEED_001 = Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "001_78194d0df1f53ec1.txt"

SIMPLE_TABLE = """\
_________________________________________________________________
Layer (type)                 Output Shape              Param #   
=================================================================
simpleLSTM00 (LSTM)          (None, 128)               66560     
_________________________________________________________________
dropout00 (Dropout)          (None, 128)               0         
_________________________________________________________________
dense_1 (Dense)              (None, 1)                 129       
=================================================================
Total params: 66,689
Trainable params: 66,689
Non-trainable params: 0
_________________________________________________________________"""


def test_seed_001_simple_lstm_table_is_identical():
    model = Sequential(name="sequential")
    model.add(LSTM(128, input_shape=(None, 1), name="simpleLSTM00", go_backwards=True))
    model.add(Dropout(0.2, name="dropout00"))
    model.add(Dense(1, activation="relu", name="dense_1"))
    lines = []
    text = model.summary(print_fn=lines.append)
    assert lines == [text]
    assert text == 'Model: "sequential"\n' + SIMPLE_TABLE
    if SEED_001.exists():  # the table as printed in the seed itself
        assert SIMPLE_TABLE in SEED_001.read_text(encoding="utf-8")


def test_seed_001_stacked_table_counts_and_shapes():
    model = Sequential()
    model.add(LSTM(32, input_shape=(None, 1), return_sequences=True, name="simpleLSTM_00"))
    model.add(Dropout(0.05, name="Dropout_00"))
    for i in range(1, 3):
        model.add(LSTM(32, return_sequences=True, name=f"simpleLSTM_{i:02}"))
        model.add(Dropout(0.05, name=f"Dropout_{i:02}"))
    model.add(LSTM(32, name="simpleLSTM_03"))
    model.add(Dropout(0.05, name="dropout_FIN"))
    model.add(Dense(1, activation="relu", name="OutPut"))
    text = model.summary(print_fn=lambda s: None)
    assert "simpleLSTM_00 (LSTM)         (None, None, 32)          4352      " in text
    assert "simpleLSTM_01 (LSTM)         (None, None, 32)          8320      " in text
    assert "simpleLSTM_03 (LSTM)         (None, 32)                8320      " in text
    assert "OutPut (Dense)               (None, 1)                 33        " in text
    assert "Total params: 29,345" in text


def test_functional_summary_lists_inputs_and_connections():
    a, b = Input(shape=(4, 2), name="a"), Input(shape=(4, 2), name="b")
    shared = LSTM(3, name="shared")
    model = Model([a, b], [Dense(1, name="head_a")(shared(a)), Dense(1, name="head_b")(shared(b))], name="two")
    text = model.summary(print_fn=lambda s: None)
    assert text.startswith('Model: "two"')
    assert "Connected to" in text
    assert "a (InputLayer)" in text and "[(None, 4, 2)]" in text
    assert "a[0][0]" in text and "b[0][0]" in text and "shared[1][0]" in text
    assert f"Total params: {model.count_params():,}" in text
