"""``RecurrentCell``: what LSTMCell, GRUCell and SimpleRNNCell share.

A cell is one time step and a real ``nn.Module``: ``cell(x_t, states, training) -> (output, new_states)``
with ``x_t (batch, features)``. It owns the Keras-layout weights (``kernel``, ``recurrent_kernel``,
``bias``), its activations, initializers, regularizers, constraints and dropout rates; the gate math
lives in ``ops.recurrence``.
"""

from __future__ import annotations

from typing import Any

import torch

from ... import _validation
from ...ops import activations, recurrence
from ..base import Layer
from ..core import seeded_generator, set_weight_options, weight_options_config


_WEIGHTS = ("kernel", "recurrent", "bias")  # each has an initializer, a regularizer and a constraint
# What LSTM, GRU and SimpleRNN keep for the ``RNN`` loop; every other named argument builds their cell.
LAYER_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "activity_regularizer")


def cell_and_layer_arguments(cell_class: type, cell_name: str, arguments: dict) -> tuple[Any, dict]:
    """The cell and the ``RNN.__init__`` keywords of a built-in recurrent layer, from its ``__init__``'s ``locals()``.

    Why: LSTM, GRU and SimpleRNN take Keras's flat argument list but are an ``RNN`` over a cell; this splits
    the list once for all three. The cell gets the layer's dtype and the name ``cell_name``; ``kwargs``
    (name, dtype, input_shape, use_fused, ...) go to ``RNN``.
    """
    arguments = {key: value for key, value in arguments.items() if key != "self" and not key.startswith("__")}
    kwargs = arguments.pop("kwargs")
    layer = {key: arguments.pop(key) for key in LAYER_ARGUMENTS}
    cell = cell_class(**arguments, dtype=kwargs.get("dtype"), name=cell_name)
    return cell, {**layer, **kwargs}


class RecurrentCell(Layer):
    """Shared arguments of the built-in cells (see ``LSTMCell`` for their meaning)."""

    kind = ""  # "lstm" | "gru" | "simple_rnn"
    gates = 1
    lazy_input_rank = 2  # weights declared at construction, materialised at the first call

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, implementation: int = 2,
                 **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.units = _validation.positive_int(owner, "units", units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = _validation.boolean(owner, "use_bias", use_bias)
        set_weight_options(self, locals(), _WEIGHTS)
        self.dropout = _validation.fraction(owner, "dropout", dropout)
        self.recurrent_dropout = _validation.fraction(owner, "recurrent_dropout", recurrent_dropout)
        self.seed = None if seed is None else _validation.non_negative_int(owner, "seed", seed)
        self.implementation = _validation.choice(owner, "implementation", implementation, (1, 2))
        self._generators: dict[torch.device, torch.Generator] = {}
        self._step_masks: dict[tuple, torch.Tensor] = {}

    # -- shapes and weights -------------------------------------------------------------------------
    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def math(self) -> recurrence.CellMath:
        """The cell's options as ``ops`` reads them; made again only when one of them changed (a small
        inference call reads it every time, and a frozen dataclass costs more to make than to compare)."""
        kind = self.kind  # only a GRU has reset_after (read as any attribute: a subclass may compute it)
        fields = (kind, self.units, self.activation, self.recurrent_activation,
                  getattr(self, "reset_after", True) if kind == "gru" else True, self.implementation)
        cached = self.__dict__.get("_math")
        if cached is None or cached[0] != fields:
            cached = self.__dict__["_math"] = (fields, recurrence.CellMath(*fields))
        return cached[1]

    def build(self, input_shape: tuple) -> None:
        features = input_shape[-1]
        self.add_weight("kernel", (features, self.gates * self.units), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint)
        self.add_weight("recurrent_kernel", (self.units, self.gates * self.units),
                        self.recurrent_initializer, self.recurrent_regularizer, self.recurrent_constraint)
        if self.use_bias:
            self.add_weight("bias", self.bias_shape(), self.bias_init(), self.bias_regularizer,
                            self.bias_constraint)
        else:
            self.bias = None

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def bias_init(self) -> Any:
        return self.bias_initializer

    @property
    def input_bias(self) -> torch.Tensor | None:
        """The bias added to the input projection (all of it, except GRU's recurrent half)."""
        return self.bias

    @property
    def recurrent_bias(self) -> torch.Tensor | None:
        return None

    # -- dropout ------------------------------------------------------------------------------------
    def draw_mask(self, batch: int, width: int, rate: float, like: torch.Tensor) -> torch.Tensor:
        """A ``(batch, width)`` inverted-dropout mask (kept units scaled by ``1/(1-rate)``)."""
        keep = torch.full((batch, width), 1.0 - rate, dtype=like.dtype, device=like.device)
        return torch.bernoulli(keep, generator=seeded_generator(self, like.device)) / (1.0 - rate)

    def reset_dropout_mask(self) -> None:
        """Draw new dropout masks at the next step (the masks persist across steps until then)."""
        self._step_masks.clear()

    def _cached_mask(self, key: str, batch: int, width: int, rate: float, like: torch.Tensor):
        cache_key = (key, batch, width, like.device)
        if cache_key not in self._step_masks:
            self._step_masks[cache_key] = self.draw_mask(batch, width, rate, like)
        return self._step_masks[cache_key]

    # -- one step -----------------------------------------------------------------------------------
    def forward(self, inputs: torch.Tensor, states: Any, training: bool | None = None):
        """One step: ``inputs (batch, features)``, ``states`` list of ``(batch, units)``.

        Returns ``(output (batch, units), new_states)``. Dropout masks are drawn on the first step
        and reused until ``reset_dropout_mask()``, as Keras does.
        """
        x = torch.as_tensor(inputs)
        self.maybe_build(tuple(x.shape))
        x = x.to(self.kernel.dtype)
        states = [states] if torch.is_tensor(states) else list(states)
        training = self.training if training is None else bool(training)
        recurrent_mask = None
        if training and self.dropout > 0:
            x = x * self._cached_mask("input", x.shape[0], x.shape[1], self.dropout, x)
        if training and self.recurrent_dropout > 0:
            recurrent_mask = self._cached_mask("recurrent", x.shape[0], self.units,
                                               self.recurrent_dropout, x)
        xp = recurrence.project_inputs(self.math, x, self.kernel, self.input_bias)
        return recurrence.step(self.math, xp, states, self.recurrent_kernel, self.recurrent_bias,
                               recurrent_mask)

    def get_initial_state(self, batch_size: int) -> list[torch.Tensor]:
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [torch.zeros(batch_size, s, dtype=self.torch_dtype) for s in sizes]

    # -- config -------------------------------------------------------------------------------------
    def cell_config(self) -> dict:
        """The cell's arguments in Keras's key order (the layer config embeds them)."""
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, _WEIGHTS),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self.cell_config())
        config["implementation"] = self.implementation
        return config
