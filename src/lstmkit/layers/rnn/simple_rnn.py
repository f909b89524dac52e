"""``SimpleRNNCell`` and ``SimpleRNN`` (Elman network) with Keras 3's arguments and numerics.

Weights: ``kernel (features, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.
State ``[h]``; ``h' = activation(x·kernel + bias + h·recurrent_kernel)``.
"""

from __future__ import annotations

from typing import Any

from .cell import RecurrentCell
from .rnn import RNN


class SimpleRNNCell(RecurrentCell):
    """One SimpleRNN step. Arguments as ``LSTMCell`` without recurrent_activation and unit_forget_bias.

    Call: ``cell(x_t (batch, features), [h]) -> (h', [h'])``.
    """

    kind, gates = "simple_rnn", 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", **kwargs: Any):
        super().__init__(units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, **kwargs)

    def cell_config(self) -> dict:
        config = super().cell_config()
        del config["recurrent_activation"]
        if self.seed is None:  # Keras 3.15's SimpleRNN config has no seed; write it only when set
            del config["seed"]
        return config


class SimpleRNN(RNN):
    """Fully-connected RNN whose output is fed back as input (Keras's ``keras.layers.SimpleRNN``).

    Args: as ``LSTM`` without recurrent_activation and unit_forget_bias.

    Returns:
        ``(batch, units)``; ``(batch, timesteps, units)`` with return_sequences; with return_state
        ``[output, h]``.
    """

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, **kwargs: Any):
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias,
                             kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer,
                             bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                             recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                             dtype=kwargs.get("dtype"), name="simple_rnn_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
