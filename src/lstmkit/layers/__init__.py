"""Keras-argument layers, each a real ``torch.nn.Module``."""

from .base import Layer
from .cell import RecurrentCell
from .conv import Conv1D
from .core import Activation, Dense, Dropout, Embedding, Lambda, Masking
from .gru import GRU, GRUCell
from .input_layer import Input, InputLayer
from .lstm import LSTM, LSTMCell
from .merging import Add, Concatenate
from .operations import AnyOf, NotEqual
from .reshaping import Flatten, RepeatVector, Reshape
from .rnn import RNN
from .serialization import deserialize, register, serialize
from .simple_rnn import SimpleRNN, SimpleRNNCell
from .symbolic import KerasTensor
from .wrappers import Bidirectional, TimeDistributed

for _cls in (RNN, LSTM, LSTMCell, GRU, GRUCell, SimpleRNN, SimpleRNNCell, InputLayer, TimeDistributed,
             Bidirectional, NotEqual, Dense, Activation, Dropout, Masking, Embedding, Lambda, Flatten,
             Reshape, RepeatVector, Conv1D, Concatenate, Add):
    register(_cls)
register(AnyOf, "Any")  # Keras op nodes of saved graphs

__all__ = ["Layer", "RecurrentCell", "RNN", "LSTM", "LSTMCell", "GRU", "GRUCell", "SimpleRNN",
           "SimpleRNNCell", "serialize", "deserialize", "register", "Input", "InputLayer", "KerasTensor",
           "TimeDistributed", "Bidirectional", "Dense", "Activation", "Dropout", "Masking", "Embedding",
           "Lambda", "Flatten", "Reshape", "RepeatVector", "Conv1D", "Concatenate", "Add"]
