"""Keras-argument layers, each a real ``torch.nn.Module``."""

from .base import Layer
from .cell import RecurrentCell
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell
from .rnn import RNN
from .serialization import deserialize, register, serialize
from .simple_rnn import SimpleRNN, SimpleRNNCell

for _cls in (RNN, LSTM, LSTMCell, GRU, GRUCell, SimpleRNN, SimpleRNNCell):
    register(_cls)

__all__ = ["Layer", "RecurrentCell", "RNN", "LSTM", "LSTMCell", "GRU", "GRUCell", "SimpleRNN",
           "SimpleRNNCell", "serialize", "deserialize", "register"]
