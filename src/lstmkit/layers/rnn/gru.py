"""``GRUCell`` and ``GRU`` (Cho et al., 2014) with Keras 3's arguments and numerics.

Weights: ``kernel (features, 3·units)``, ``recurrent_kernel (units, 3·units)``, gate blocks ``z, r, h``;
``bias (2, 3·units)`` (input row, recurrent row) with ``reset_after=True`` (default, cuDNN-compatible),
else ``bias (3·units,)``. State ``[h]``. Gate equations: ``ops.recurrence``.
"""

from __future__ import annotations

from typing import Any

import torch

from ... import _validation
from ...ops.serialization import insert_after
from .cell import RecurrentCell, cell_and_layer_arguments
from .rnn import RNN


class GRUCell(RecurrentCell):
    """One GRU step. Arguments as ``LSTMCell`` (no unit_forget_bias), plus:

    Args:
        reset_after: apply the reset gate after the recurrent matrix product (True, default; two bias
            rows) or before it (False, the original formulation; one bias row).

    Call: ``cell(x_t (batch, features), [h]) -> (h', [h'])``.
    """

    kind, gates = "gru", 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 reset_after: bool = True, **kwargs: Any):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, **kwargs)
        self.reset_after = _validation.boolean(type(self).__name__, "reset_after", reset_after)

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    @property
    def input_bias(self) -> torch.Tensor | None:
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    @property
    def recurrent_bias(self) -> torch.Tensor | None:
        return self.bias[1] if self.bias is not None and self.reset_after else None

    def cell_config(self) -> dict:
        return insert_after(super().cell_config(), "recurrent_dropout", "reset_after", self.reset_after)


class GRU(RNN):
    """Gated Recurrent Unit layer (Keras's ``keras.layers.GRU``; Cho et al., 2014).

    Each step mixes the previous state with a candidate: ``h' = z * h + (1 - z) * h~``, where the update
    gate ``z`` and reset gate ``r`` use ``recurrent_activation`` and the candidate ``h~`` uses
    ``activation``. The default (``reset_after=True``) is the cuDNN form; ``False`` is the 2014 paper's.

    Args:
        units: positive int, size of the state and of the output's last axis.
        activation: candidate activation (name, callable or None for linear); default ``"tanh"``.
        recurrent_activation: gate activation for ``z`` and ``r``; default ``"sigmoid"``.
        use_bias: whether the layer adds a bias; default True.
        kernel_initializer: initializer of ``kernel (features, 3*units)``, applied to the inputs;
            default ``"glorot_uniform"``.
        recurrent_initializer: initializer of ``recurrent_kernel (units, 3*units)``, applied to the
            state; default ``"orthogonal"``.
        bias_initializer: initializer of the bias; default ``"zeros"``.
        kernel_regularizer, recurrent_regularizer, bias_regularizer: penalties on those weights,
            added to the model's losses; default None.
        activity_regularizer: penalty on the layer's output; default None.
        kernel_constraint, recurrent_constraint, bias_constraint: projections applied to those
            weights after each optimizer step; default None.
        dropout: fraction in [0, 1) of input features dropped (training only); default 0.
        recurrent_dropout: fraction in [0, 1) of state units dropped before the recurrent product
            (training only; the reference loop then runs); default 0.
        seed: int seeding the dropout masks, or None.
        return_sequences: return the output at every step ``(batch, timesteps, units)`` instead of
            the last one ``(batch, units)``; default False.
        return_state: also return the final state ``h``; default False.
        go_backwards: read the sequence from the last step to the first, and return the sequence
            in that reversed order; default False.
        stateful: carry each batch row's final state into the same row of the next batch until
            ``reset_states()``; needs a fixed batch size; default False.
        unroll: Keras's switch for unrolling the loop; accepted and saved, the numbers are the same.
        reset_after: apply the reset gate after the recurrent matrix product (True, default, with
            ``bias (2, 3*units)``: input row and recurrent row) or before it (False, ``bias (3*units,)``).
        implementation: Keras 2's 1 or 2, kept in the config; the numbers are the same.
        use_fused / use_cudnn: ``"auto"`` (default), True or False: see ``RNN``.
        name, dtype, input_shape, batch_input_shape: as every layer.

    Inputs: ``inputs (batch, timesteps, features)``; optional ``mask (batch, timesteps)`` (True where a
        step counts; a masked step keeps the previous state and output); ``training``;
        ``initial_state=[h0]`` with ``h0 (batch, units)`` (zeros when not given).

    Outputs: ``output (batch, units)``, or ``(batch, timesteps, units)`` with return_sequences; with
        return_state the list ``[output, h]``, ``h (batch, units)`` the final state.

    Example:
        >>> gru = GRU(4, return_sequences=True, return_state=True)
        >>> seq, h = gru(np.random.rand(32, 10, 8))   # (32, 10, 4), (32, 4)
    """

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, implementation: int = 2, **kwargs: Any):
        cell, layer_arguments = cell_and_layer_arguments(GRUCell, "gru_cell", locals())
        super().__init__(cell, **layer_arguments)
