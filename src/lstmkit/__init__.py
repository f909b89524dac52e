"""lstmkit: Keras-style LSTM sequence modeling on PyTorch, with Keras's exact numerics."""

from . import activations, constraints, initializers, layers, models, regularizers
from .layers import GRU, LSTM, RNN, Bidirectional, GRUCell, Input, LSTMCell, SimpleRNN, SimpleRNNCell, TimeDistributed
from .models import Model, Sequential, model_from_json

__version__ = "0.1.0"

__all__ = ["activations", "constraints", "initializers", "layers", "models", "regularizers", "LSTM", "GRU",
           "SimpleRNN", "RNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "Bidirectional", "TimeDistributed",
           "Input", "Model", "Sequential", "model_from_json", "__version__"]
