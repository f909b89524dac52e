"""``LSTMCell`` and ``LSTM`` (Hochreiter & Schmidhuber, 1997) with Keras 3's arguments and numerics.

Weights: ``kernel (features, 4·units)``, ``recurrent_kernel (units, 4·units)``, ``bias (4·units,)``,
gate blocks ``i, f, c, o``. States ``[h, c]``, each ``(batch, units)``. Gate equations: ``ops.recurrence``.
"""

from __future__ import annotations

from typing import Any

import torch

from ... import _validation
from ...ops import initializers as initializers_mod
from ...ops.serialization import insert_after
from .cell import RecurrentCell, cell_and_layer_arguments
from .rnn import RNN


class _ForgetBias(initializers_mod.Initializer):
    """Keras's ``unit_forget_bias``: the bias initializer's values with the forget block set to 1."""

    def __init__(self, base: Any, units: int):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        return torch.cat([torch.as_tensor(self.base((u,), dtype=dtype)),
                          torch.ones(u, dtype=dtype or torch.float32),
                          torch.as_tensor(self.base((2 * u,), dtype=dtype))])


class LSTMCell(RecurrentCell):
    """One LSTM step.

    Args:
        units: dimensionality of the output and of each state.
        activation: for the cell candidate and the output; default ``"tanh"`` (None is linear).
        recurrent_activation: for the i, f, o gates; default ``"sigmoid"``.
        use_bias: default True.
        kernel_initializer / recurrent_initializer / bias_initializer: default ``"glorot_uniform"``,
            ``"orthogonal"``, ``"zeros"``.
        unit_forget_bias: set the forget-gate bias to exactly 1 at initialization; default True.
        kernel_regularizer / recurrent_regularizer / bias_regularizer: penalties on ``losses``.
        kernel_constraint / recurrent_constraint / bias_constraint: applied after optimizer steps.
        dropout / recurrent_dropout: fractions in [0, 1) of the inputs / of the state to drop.
        seed: seed of the dropout masks.
        implementation: 1 multiplies gate by gate, 2 (default) in one product; same numbers.

    Call: ``cell(x_t (batch, features), [h, c]) -> (h', [h', c'])``.
    """

    kind, gates = "lstm", 4

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any):
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, **kwargs)
        self.unit_forget_bias = _validation.boolean(type(self).__name__, "unit_forget_bias",
                                                    unit_forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def bias_init(self) -> Any:
        return _ForgetBias(self.bias_initializer, self.units) if self.unit_forget_bias else self.bias_initializer

    def cell_config(self) -> dict:
        config = super().cell_config()
        return insert_after(config, "bias_initializer", "unit_forget_bias", self.unit_forget_bias)


class LSTM(RNN):
    """Long Short-Term Memory layer (Keras's ``keras.layers.LSTM``).

    Args:
        units: dimensionality of the output space.
        All ``LSTMCell`` arguments (activations, initializers, unit_forget_bias, regularizers,
        constraints, dropout, recurrent_dropout, seed, implementation), plus ``activity_regularizer``,
        ``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``, ``unroll``,
        ``use_fused`` (see ``RNN``), ``name``, ``input_shape`` / ``batch_input_shape``.

    Call arguments:
        inputs ``(batch, timesteps, features)``; ``mask (batch, timesteps)``; ``training``;
        ``initial_state=[h0, c0]``.

    Returns:
        ``(batch, units)``; ``(batch, timesteps, units)`` with return_sequences; with return_state the
        list ``[output, h, c]``.

    Example:
        >>> lstm = LSTM(4, return_sequences=True, return_state=True)
        >>> out, h, c = lstm(np.random.rand(2, 3, 1))   # (2, 3, 4), (2, 4), (2, 4)
    """

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, implementation: int = 2, **kwargs: Any):
        cell, layer_arguments = cell_and_layer_arguments(LSTMCell, "lstm_cell", locals())
        super().__init__(cell, **layer_arguments)
