"""lstmkit: Keras-style LSTM sequence modeling on PyTorch, with Keras's exact numerics."""

from ._validation import InputError
from . import activations, backend, callbacks, constraints, data, forecast, initializers, layers, losses, metrics, models
from . import optimizers
from . import regularizers
from . import preprocessing, utils
from .layers import GRU, LSTM, RNN, Bidirectional, GRUCell, Input, LSTMCell, SimpleRNN, SimpleRNNCell, TimeDistributed
from .models import Model, Sequential, load_model, model_from_json

from ._version import __version__

__all__ = ["activations", "backend", "callbacks", "constraints", "data", "forecast", "initializers", "layers", "losses", "metrics",
           "models", "optimizers", "preprocessing", "regularizers", "utils", "LSTM", "GRU",
           "SimpleRNN", "RNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "Bidirectional", "TimeDistributed",
           "Input", "Model", "Sequential", "model_from_json", "load_model", "InputError", "__version__"]


def __getattr__(name: str):
    """TensorFlow names (``lstmkit.tf``, ``lstmkit.GradientTape``...) fail saying what to use instead."""
    from ._tensorflow import tensorflow_name_error

    raise tensorflow_name_error("lstmkit", name)
