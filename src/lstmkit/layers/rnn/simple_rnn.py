"""``SimpleRNNCell`` and ``SimpleRNN`` (Elman network) with Keras 3's arguments and numerics.

Weights: ``kernel (features, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.
State ``[h]``; ``h' = activation(x·kernel + bias + h·recurrent_kernel)``.
"""

from __future__ import annotations

from typing import Any

from .cell import RecurrentCell, cell_and_layer_arguments
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

    Each step is ``h' = activation(x_t @ kernel + bias + h @ recurrent_kernel)``; the output is ``h'``.

    Args:
        units: positive int, size of the state and of the output's last axis.
        activation: step activation (name, callable or None for linear); default ``"tanh"``.
        use_bias: whether the layer adds a bias ``(units,)``; default True.
        kernel_initializer: initializer of ``kernel (features, units)``, applied to the inputs;
            default ``"glorot_uniform"``.
        recurrent_initializer: initializer of ``recurrent_kernel (units, units)``, applied to the
            state; default ``"orthogonal"``.
        bias_initializer: initializer of the bias; default ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties on those weights,
            added to the model's losses; default None.
        activity_regularizer: penalty on the layer's output; default None.
        kernel_constraint, recurrent_constraint, bias_constraint: projections applied to those
            weights after each optimizer step; default None.
        dropout: fraction in [0, 1) of input features dropped (training only); default 0.
        recurrent_dropout: fraction in [0, 1) of state units dropped before the recurrent product
            (training only); default 0.
        seed: int seeding the dropout masks, or None (then not written to the config, as Keras).
        return_sequences: return the output at every step ``(batch, timesteps, units)`` instead of
            the last one ``(batch, units)``; default False.
        return_state: also return the final state ``h``; default False.
        go_backwards: read the sequence from the last step to the first, and return the sequence
            in that reversed order; default False.
        stateful: carry each batch row's final state into the same row of the next batch until
            ``reset_states()``; needs a fixed batch size; default False.
        unroll: Keras's switch for unrolling the loop; accepted and saved, the numbers are the same.
        use_fused / use_cudnn: ``"auto"`` (default), True or False: see ``RNN``.
        name, dtype, input_shape, batch_input_shape: as every layer.

    Inputs: ``inputs (batch, timesteps, features)``; optional ``mask (batch, timesteps)`` (True where a
        step counts; a masked step keeps the previous state and output); ``training``;
        ``initial_state=[h0]`` with ``h0 (batch, units)`` (zeros when not given).

    Outputs: ``output (batch, units)``, or ``(batch, timesteps, units)`` with return_sequences; with
        return_state the list ``[output, h]``, ``h (batch, units)`` the final state (equal to the
        last output).

    Example:
        >>> rnn = SimpleRNN(4, return_sequences=True, return_state=True)
        >>> seq, h = rnn(np.random.rand(32, 10, 8))   # (32, 10, 4), (32, 4)
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
        cell, layer_arguments = cell_and_layer_arguments(SimpleRNNCell, "simple_rnn_cell", locals())
        super().__init__(cell, **layer_arguments)
