"""Keras's own exact-number tests for LSTM, GRU and SimpleRNN, reproduced.

The expected values are those asserted by Keras 3's ``keras/src/layers/rnn/{lstm,gru,simple_rnn}_test.py``
(constant initializers 0.01 / 0.02 / 0.03, inputs ``np.arange``). Every case runs on both paths.
"""

from __future__ import annotations

import numpy as np
import pytest

from lstmkit import initializers
from lstmkit.layers import GRU, LSTM, SimpleRNN

SEQ_3x6x4 = np.arange(72).reshape((3, 6, 4)).astype("float32")
SEQ_2x3x4 = np.arange(24).reshape((2, 3, 4)).astype("float32")
SEQ_2x4x3 = np.arange(24).reshape((2, 4, 3)).astype("float32")
POST_MASK = np.array([[True, True, True, False], [True, True, False, False]])
HOLED_MASK = np.array([[True, True, False, True], [True, False, False, True]])
LEADING_MASK = np.array([[False, True, True, True], [False, False, True, True]])
STATE_2x2 = np.arange(4).reshape((2, 2)).astype("float32")
STATE_2x4 = np.arange(8).reshape((2, 4)).astype("float32")


def const(**kwargs):
    return dict(kernel_initializer=initializers.Constant(0.01),
                recurrent_initializer=initializers.Constant(0.02),
                bias_initializer=initializers.Constant(0.03), **kwargs)


def rows(*values):
    """Keras's expected arrays repeat one value per row across the units."""
    return [list(v) for v in values]


# (id, class, units, kwargs, input, call kwargs, expected, which output row-block)
CASES = [
    ("lstm_correctness", LSTM, 3, {}, SEQ_3x6x4, {}, [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3]),
    ("lstm_go_backwards", LSTM, 3, {"go_backwards": True}, SEQ_3x6x4, {},
     [[0.35622165] * 3, [0.74789524] * 3, [0.8872726] * 3]),
    ("lstm_unroll", LSTM, 3, {"unroll": True}, SEQ_3x6x4, {}, [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3]),
    ("lstm_no_unit_forget_bias", LSTM, 3, {"unit_forget_bias": False}, SEQ_3x6x4, {},
     [[0.57019705] * 3, [0.8661914] * 3, [0.9459622] * 3]),
    ("lstm_no_bias", LSTM, 3, {"use_bias": False}, SEQ_3x6x4, {},
     [[0.54986924] * 3, [0.86226785] * 3, [0.9443936] * 3]),
    ("lstm_impl1", LSTM, 3, {"implementation": 1}, SEQ_3x6x4, {},
     [[0.6288687] * 3, [0.86899155] * 3, [0.9460773] * 3]),
    ("lstm_initial_state", LSTM, 2, {}, SEQ_2x4x3, {"initial_state": [STATE_2x2, STATE_2x2]},
     [[0.20574439, 0.3558822], [0.64930826, 0.66276]]),
    ("lstm_initial_state_backwards", LSTM, 2, {"go_backwards": True}, SEQ_2x4x3,
     {"initial_state": [STATE_2x2, STATE_2x2]}, [[0.13281618, 0.2790356], [0.5839337, 0.5992567]]),
    ("lstm_mask", LSTM, 2, {"unroll": True}, SEQ_2x4x3, {"mask": POST_MASK},
     [[0.11755939] * 2, [0.28556206] * 2]),
    ("lstm_mask_sequences", LSTM, 2, {"return_sequences": True}, SEQ_2x4x3, {"mask": POST_MASK},
     [[[0.0158891] * 2, [0.05552048] * 2, [0.11755939] * 2, [0.11755939] * 2],
      [[0.14185596] * 2, [0.28556206] * 2, [0.28556206] * 2, [0.28556206] * 2]]),
    ("lstm_mask_zero_output", LSTM, 2, {"return_sequences": True, "zero_output_for_mask": True}, SEQ_2x4x3,
     {"mask": POST_MASK},
     [[[0.0158891] * 2, [0.05552048] * 2, [0.11755939] * 2, [0.0] * 2],
      [[0.14185596] * 2, [0.28556206] * 2, [0.0] * 2, [0.0] * 2]]),
    ("lstm_mask_backwards", LSTM, 2, {"go_backwards": True}, SEQ_2x4x3, {"mask": LEADING_MASK},
     [[0.15341201] * 2, [0.3844719] * 2]),
    ("gru_correctness", GRU, 3, {}, SEQ_3x6x4, {}, [[0.5217289] * 3, [0.6371659] * 3, [0.39384964] * 3]),
    ("gru_go_backwards", GRU, 3, {"go_backwards": True}, SEQ_3x6x4, {},
     [[0.24406259] * 3, [0.611516] * 3, [0.3928808] * 3]),
    ("gru_reset_before", GRU, 3, {"reset_after": False}, SEQ_3x6x4, {},
     [[0.51447755] * 3, [0.6426879] * 3, [0.40208298] * 3]),
    ("gru_no_bias", GRU, 3, {"use_bias": False}, SEQ_3x6x4, {},
     [[0.49988455] * 3, [0.64701194] * 3, [0.4103359] * 3]),
    ("gru_initial_state", GRU, 2, {}, SEQ_2x4x3, {"initial_state": STATE_2x2},
     [[0.23774096, 0.33508456], [0.83659905, 1.0227708]]),
    ("gru_initial_state_backwards", GRU, 2, {"go_backwards": True}, SEQ_2x4x3, {"initial_state": STATE_2x2},
     [[0.13486053, 0.23261218], [0.78257304, 0.9691353]]),
    ("gru_mask", GRU, 2, {}, SEQ_2x4x3, {"mask": HOLED_MASK}, [[0.19393763] * 2, [0.30818558] * 2]),
    ("gru_mask_sequences", GRU, 2, {"return_sequences": True}, SEQ_2x4x3, {"mask": HOLED_MASK},
     [[[0.03606692] * 2, [0.09497581] * 2, [0.09497581] * 2, [0.19393763] * 2],
      [[0.16051409] * 2, [0.16051409] * 2, [0.16051409] * 2, [0.30818558] * 2]]),
    ("gru_mask_zero_output", GRU, 2, {"return_sequences": True, "zero_output_for_mask": True}, SEQ_2x4x3,
     {"mask": HOLED_MASK},
     [[[0.03606692] * 2, [0.09497581] * 2, [0.0] * 2, [0.19393763] * 2],
      [[0.16051409] * 2, [0.0] * 2, [0.0] * 2, [0.30818558] * 2]]),
    ("gru_mask_backwards", GRU, 2, {"go_backwards": True}, SEQ_2x4x3, {"mask": HOLED_MASK},
     [[0.11669192] * 2, [0.28380975] * 2]),
    ("simplernn_correctness", SimpleRNN, 4, {}, SEQ_2x3x4, {}, [[0.405432] * 4, [0.73605347] * 4]),
    ("simplernn_go_backwards", SimpleRNN, 4, {"go_backwards": True}, SEQ_2x3x4, {},
     [[0.11144729] * 4, [0.5528889] * 4]),
    ("simplernn_initial_state", SimpleRNN, 4, {}, SEQ_2x4x3, {"initial_state": STATE_2x4},
     [[0.33621645] * 4, [0.6262637] * 4]),
    ("simplernn_initial_state_backwards", SimpleRNN, 4, {"go_backwards": True}, SEQ_2x4x3,
     {"initial_state": STATE_2x4}, [[0.07344437] * 4, [0.43043602] * 4]),
    ("simplernn_mask", SimpleRNN, 4, {}, SEQ_2x4x3, {"mask": HOLED_MASK}, [[0.32951632] * 4, [0.61799484] * 4]),
    ("simplernn_mask_sequences", SimpleRNN, 2, {"return_sequences": True}, SEQ_2x4x3, {"mask": HOLED_MASK},
     [[[0.0599281] * 2, [0.15122814] * 2, [0.15122814] * 2, [0.32394567] * 2],
      [[0.3969304] * 2, [0.3969304] * 2, [0.3969304] * 2, [0.608085] * 2]]),
    ("simplernn_mask_zero_output", SimpleRNN, 2, {"return_sequences": True, "zero_output_for_mask": True},
     SEQ_2x4x3, {"mask": HOLED_MASK},
     [[[0.0599281] * 2, [0.15122814] * 2, [0.0] * 2, [0.32394567] * 2],
      [[0.3969304] * 2, [0.0] * 2, [0.0] * 2, [0.608085] * 2]]),
    ("simplernn_mask_backwards", SimpleRNN, 4, {"go_backwards": True}, SEQ_2x4x3, {"mask": HOLED_MASK},
     [[0.07376196] * 4, [0.43645123] * 4]),
]


@pytest.mark.parametrize("use_fused", ["auto", False], ids=["dispatch", "reference"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_keras_reference_number(case, use_fused):
    _, cls, units, kwargs, x, call, expected = case
    layer = cls(units, use_fused=use_fused, **const(**kwargs))
    out = layer(x, training=False, **call)
    np.testing.assert_allclose(out.detach().numpy(), np.array(expected), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls, expected", [
    (LSTM, [[0.3124785] * 4, [0.6863672] * 4]),
    (GRU, [[0.29542392] * 4, [0.5885018] * 4]),
    (SimpleRNN, [[0.40559256] * 4, [0.7361247] * 4]),
])
def test_keras_statefulness_numbers(cls, expected):
    layer = cls(4, stateful=True, **const())
    for _ in range(2):  # the second round after reset_state() gives the same numbers
        layer(SEQ_2x3x4)
        out = layer(SEQ_2x3x4)
        np.testing.assert_allclose(out.detach().numpy(), np.array(expected), atol=1e-5, rtol=1e-5)
        layer.reset_state()


def test_gru_return_state_equals_output():
    out, state = GRU(2, return_state=True, **const())(SEQ_2x4x3, initial_state=STATE_2x2)
    np.testing.assert_allclose(out.detach().numpy(), [[0.23774096, 0.33508456], [0.83659905, 1.0227708]],
                               atol=1e-5, rtol=1e-5)
    assert np.array_equal(out.detach().numpy(), state.detach().numpy())
