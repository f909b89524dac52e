"""Keras-argument layers, each a real ``torch.nn.Module``."""

from .attention import AdditiveAttention, Attention, MultiHeadAttention
from .base import Layer
from .rnn.cell import RecurrentCell
from .conv import Conv1D
from .core import Activation, Dense, Dropout, Embedding, Lambda, Masking
from .rnn.gru import GRU, GRUCell
from .input_layer import Input, InputLayer
from .rnn.lstm import LSTM, LSTMCell
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                      concatenate, dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization
from .operations import AnyOf, NotEqual
from .pooling import (AveragePooling1D, AvgPool1D, GlobalAveragePooling1D, GlobalAvgPool1D,
                      GlobalMaxPool1D, GlobalMaxPooling1D, MaxPool1D, MaxPooling1D)
from .regularization import ActivityRegularization, GaussianDropout, GaussianNoise, SpatialDropout1D
from .reshaping import Cropping1D, Flatten, Permute, RepeatVector, Reshape, UpSampling1D, ZeroPadding1D
from .rnn.rnn import RNN
from .serialization import deserialize, register, serialize
from .rnn.simple_rnn import SimpleRNN, SimpleRNNCell
from .symbolic import KerasTensor
from .rnn.wrappers import Bidirectional, TimeDistributed

for _cls in (RNN, LSTM, LSTMCell, GRU, GRUCell, SimpleRNN, SimpleRNNCell, InputLayer, TimeDistributed,
             Bidirectional, NotEqual, Dense, Activation, Dropout, Masking, Embedding, Lambda, Flatten,
             Reshape, RepeatVector, Conv1D, Concatenate, Add):
    register(_cls)
register(AnyOf, "Any")  # Keras op nodes of saved graphs
_AROUND_RECURRENT = (MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D, GlobalAveragePooling1D,
                     BatchNormalization, LayerNormalization, SpatialDropout1D, GaussianNoise, GaussianDropout,
                     ActivityRegularization, Permute, ZeroPadding1D, Cropping1D, UpSampling1D, Subtract,
                     Multiply, Average, Maximum, Minimum, Dot, Attention, AdditiveAttention, MultiHeadAttention)
for _cls in _AROUND_RECURRENT:
    register(_cls)
for _alias, _cls in (("MaxPool1D", MaxPooling1D), ("AvgPool1D", AveragePooling1D),
                     ("GlobalMaxPool1D", GlobalMaxPooling1D), ("GlobalAvgPool1D", GlobalAveragePooling1D)):
    register(_cls, _alias)
del _cls, _alias  # registration loop variables, not layers users should see

__all__ = ["Layer", "RecurrentCell", "RNN", "LSTM", "LSTMCell", "GRU", "GRUCell", "SimpleRNN",
           "SimpleRNNCell", "serialize", "deserialize", "register", "Input", "InputLayer", "KerasTensor",
           "TimeDistributed", "Bidirectional", "Dense", "Activation", "Dropout", "Masking", "Embedding",
           "Lambda", "Flatten", "Reshape", "RepeatVector", "Conv1D", "Concatenate", "Add",
           "MaxPooling1D", "AveragePooling1D", "GlobalMaxPooling1D", "GlobalAveragePooling1D", "MaxPool1D",
           "AvgPool1D", "GlobalMaxPool1D", "GlobalAvgPool1D", "BatchNormalization", "LayerNormalization",
           "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "ActivityRegularization", "Permute",
           "ZeroPadding1D", "Cropping1D", "UpSampling1D", "Subtract", "Multiply", "Average", "Maximum",
           "Minimum", "Dot", "Attention", "AdditiveAttention", "MultiHeadAttention", "concatenate", "add",
           "subtract", "multiply", "average", "maximum", "minimum", "dot"]
