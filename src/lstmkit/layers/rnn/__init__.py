"""The recurrent family: the cell math, the ``RNN`` loop and its dispatch, ``LSTM`` / ``GRU`` / ``SimpleRNN``,
``Bidirectional`` and ``TimeDistributed``, and the state carry used by stateful and per-stream runs."""

from .cell import RecurrentCell
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import RNN
from .simple_rnn import SimpleRNN, SimpleRNNCell
from .wrappers import Bidirectional, TimeDistributed

__all__ = ["RecurrentCell", "RNN", "LSTM", "LSTMCell", "GRU", "GRUCell", "SimpleRNN", "SimpleRNNCell",
           "Bidirectional", "TimeDistributed"]
