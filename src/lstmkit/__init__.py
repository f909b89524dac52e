"""lstmkit: Keras-style LSTM sequence modeling on PyTorch, with Keras's exact numerics."""

from . import activations, constraints, initializers, layers, regularizers
from .layers import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

__version__ = "0.1.0"

__all__ = ["activations", "constraints", "initializers", "layers", "regularizers", "LSTM", "GRU",
           "SimpleRNN", "RNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "__version__"]
