"""Wrappers: ``TimeDistributed`` (a layer applied at every step) and ``Bidirectional`` (an RNN read both ways).

``Bidirectional`` has two paths, chosen in ``Bidirectional.dispatch``: two calls (the forward layer and
its ``go_backwards`` twin, Keras's definition, each on its own fused path when eligible) or one
bidirectional native kernel call (``ops.fused.run_bidirectional``) where both directions are
fused-eligible and it is the faster (not for an LSTM trained on CPU); tests prove them equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ... import _validation
from ...ops import fused
from ..base import Layer, accepts
from .cell import RecurrentCell
from .rnn import RNN
from ..serialization import deserialize, serialize

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class TimeDistributed(Layer):
    """Apply ``layer`` to every time step: ``(batch, timesteps, ...) -> (batch, timesteps, ...out)``.

    The wrapped layer's weights are shared across steps (``TimeDistributed(Dense(8))`` has Dense's
    parameters once). For ``Dense`` this equals ``Dense`` on the 3-D input, which acts on the last axis.

    Args:
        layer: the layer to apply at each step.
    Call arguments: ``inputs (batch, timesteps, ...)``, ``training``, ``mask (batch, timesteps)``.
    """

    supports_masking = True

    def __init__(self, layer: Layer, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise _validation.type_error("TimeDistributed", "layer", "an lstmkit layer",
                                         type(layer).__name__)
        super().__init__(**kwargs)
        self.layer = layer

    def _inner_shape(self, input_shape: tuple) -> tuple:
        if len(input_shape) < 3:
            raise _validation.value_error(
                f"TimeDistributed '{self.name}'", "input", "at least 3 dimensions (batch, timesteps, ...)",
                f"shape {tuple(input_shape)}",
                "TimeDistributed applies its layer at every time step; give it sequences (e.g. an LSTM "
                "with return_sequences=True before it), or use the layer directly on 2-D data.")
        return (input_shape[0], *input_shape[2:])

    lazy_input_rank = 3  # built at construction from input_shape (the wrapped layer declares its weights)
    owns_weights = False

    def build(self, input_shape: tuple) -> None:
        self.layer.maybe_build(self._inner_shape(input_shape))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        inner = self.layer.compute_output_shape(self._inner_shape(input_shape))
        return (input_shape[0], input_shape[1], *inner[1:])

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        x = inputs if torch.is_tensor(inputs) else torch.as_tensor(np.asarray(inputs))
        self._inner_shape(tuple(x.shape))
        self.maybe_build(tuple(x.shape))
        batch, steps = x.shape[:2]
        kwargs: dict[str, Any] = {}
        if accepts(self.layer, "training"):
            kwargs["training"] = training
        if mask is not None and accepts(self.layer, "mask"):
            kwargs["mask"] = torch.as_tensor(mask).reshape(batch * steps, *mask.shape[2:])
        y = self.layer(x.reshape(batch * steps, *x.shape[2:]), **kwargs)  # (batch * steps, ...)
        return y.reshape(batch, steps, *y.shape[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "TimeDistributed":
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        return cls(**config)


class Bidirectional(Layer):
    """Run a recurrent layer forwards and backwards over the sequence and merge the two outputs.

    Args:
        layer: an ``LSTM`` / ``GRU`` / ``SimpleRNN`` / ``RNN``; a fresh copy named ``forward_<name>``
            reads the sequence forwards, and (without ``backward_layer``) a copy with
            ``go_backwards=True`` named ``backward_<name>`` reads it backwards.
        merge_mode: ``"concat"`` (default, ``2 * units`` features), ``"sum"``, ``"mul"``, ``"ave"``, or
            None (a list ``[forward, backward]``).
        backward_layer: an explicit backward layer (``go_backwards`` must differ from ``layer``'s;
            ``stateful``, ``return_sequences``, ``return_state`` must match).

    Call arguments: as the wrapped layer; ``initial_state`` is split in half, forward states first.
    Returns: the merged output, followed with ``return_state`` by the forward then the backward states
    (``[out, h_fw, c_fw, h_bw, c_bw]`` for LSTM). With ``return_sequences`` masked steps output zeros.
    """

    supports_masking = True

    def __init__(self, layer: RNN, merge_mode: str | None = "concat", backward_layer: RNN | None = None,
                 weights: Any = None, **kwargs: Any):
        owner = "Bidirectional"
        if not isinstance(layer, RNN):
            raise _validation.type_error(owner, "layer", "a recurrent layer (LSTM, GRU, SimpleRNN, RNN)",
                                         type(layer).__name__)
        if backward_layer is not None and not isinstance(backward_layer, RNN):
            raise _validation.type_error(owner, "backward_layer", "a recurrent layer",
                                         type(backward_layer).__name__)
        merge_mode = _validation.choice(owner, "merge_mode", merge_mode, MERGE_MODES)
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, "forward_" + _removeprefix(layer.name, "forward_"))
        if backward_layer is None:
            backward_layer = _copy(layer, "backward_" + _removeprefix(layer.name, "backward_"),
                                   go_backwards=True)
        self.backward_layer = backward_layer
        self._verify_pair()
        for rnn in (self.forward_layer, self.backward_layer):
            rnn.zero_output_for_mask = rnn.return_sequences  # as Keras: masked steps output zeros
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.last_path: str | None = None
        if weights is not None:
            self.maybe_build(self._batch_input_shape or (None, None, np.shape(weights[0])[0]))
            self.set_weights(weights)

    def _verify_pair(self) -> None:
        fw, bw = self.forward_layer, self.backward_layer
        if fw.go_backwards == bw.go_backwards:
            raise _validation.value_error("Bidirectional", "backward_layer", "go_backwards different from "
                                          "the forward layer's", f"go_backwards={bw.go_backwards} for both",
                                          "Create the backward layer with go_backwards=True.")
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(fw, attribute) != getattr(bw, attribute):
                raise _validation.value_error(
                    "Bidirectional", f"backward_layer.{attribute}", f"{getattr(fw, attribute)} (as the layer)",
                    f"{getattr(bw, attribute)}")

    # -- shapes and masks -------------------------------------------------------------------------
    def check_input_shape(self, shape: Any, producers: list) -> None:
        self.forward_layer.check_input_shape(shape, producers)

    lazy_input_rank = 3  # built at construction from input_shape (both directions declare their weights)
    owns_weights = False

    def build(self, input_shape: tuple) -> None:
        self.forward_layer.maybe_build(input_shape)
        self.backward_layer.maybe_build(input_shape)

    def compute_output_shape(self, input_shape: tuple) -> Any:
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], shape[1:]
        if self.merge_mode == "concat":
            outputs = [(*shape[:-1], None if shape[-1] is None else 2 * shape[-1])]
        elif self.merge_mode is None:
            outputs = [shape, shape]
        else:
            outputs = [shape]
        outputs += list(states) * 2
        return outputs[0] if len(outputs) == 1 else outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output = [mask if self.return_sequences else None] * (1 if self.merge_mode else 2)
        if self.return_state:
            output += [None] * (2 * len(self.forward_layer.state_size))
        return output[0] if len(output) == 1 else output

    # -- call -------------------------------------------------------------------------------------
    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None,
                initial_state: Any = None) -> Any:
        fw = self.forward_layer
        x = fw._check_inputs(inputs)
        self.maybe_build(tuple(x.shape))
        fw._check_features(x)
        first = next(fw.parameters(), None)
        x = x.to(first.device) if first is not None else x
        training = self.training if training is None else bool(training)
        mask = fw._check_mask(mask, x)
        fw_state = bw_state = None
        if initial_state is not None:
            if torch.is_tensor(initial_state) or isinstance(initial_state, np.ndarray):
                initial_state = [initial_state]
            half = len(initial_state) // 2
            fw_state, bw_state = list(initial_state[:half]), list(initial_state[half:])

        path, _ = self.dispatch(x, mask, training)
        self.last_path = path
        if path == "fused":
            both, states_fw, states_bw = self._fused(x, mask, training, fw_state, bw_state)
            if self.return_sequences:  # the kernel's output is the concatenation already
                y, y_rev = both.chunk(2, dim=2)
                return self._merge(y, y_rev, states_fw + states_bw, concatenated=both)
            # without sequences, the last output of each direction is its final h
            return self._merge(states_fw[0], states_bw[0], states_fw + states_bw)
        y, y_rev, states_fw, states_bw = self._two_calls(x, mask, training, fw_state, bw_state)
        return self._merge(y, y_rev, states_fw + states_bw)

    def dispatch(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                 training: bool = False) -> tuple[str, str | None]:
        """``("fused", None)`` for one bidirectional native call, else ``("two_calls", why)``."""
        reason = self.fused_unsupported_reason(x, mask, training)
        if reason is None:
            reason = self.one_call_slower_reason(x, training)
        return ("fused", None) if reason is None else ("two_calls", reason)

    def one_call_slower_reason(self, x: torch.Tensor, training: bool) -> str | None:
        """Why two calls (each direction on its own native kernel call) beat one bidirectional call here.

        Training an LSTM on CPU: oneDNN's two unidirectional calls are faster than its bidirectional one
        (W3's 4-layer stack, 2 threads, 16 interleaved steps twice: 1.00x / 1.02x raw torch against 1.05x /
        1.05x; full benchmark runs 0.95x against 1.01x). Inference is the other way round (0.97-0.98x
        against 1.01-1.10x), and other cells and devices were not measured, so they keep one call.
        """
        cell = self.forward_layer.cell
        if not training or x.device.type != "cpu" or cell.math.kind != "lstm" or not torch.is_grad_enabled():
            return None
        if not (x.requires_grad or any(p.requires_grad for p in self.parameters())):
            return None
        return "training an LSTM on CPU: two unidirectional native calls are faster than one bidirectional call"

    def fused_unsupported_reason(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                                 training: bool = False) -> str | None:
        """Why one bidirectional kernel call cannot compute this call exactly (None when it can)."""
        fw, bw = self.forward_layer, self.backward_layer
        for rnn in (fw, bw):
            reason = rnn.fused_unsupported_reason(x, mask, training)
            if reason is not None:
                return f"{rnn.name}: {reason}"
        if fw.go_backwards or type(fw) is not type(bw):
            return "the backward layer is not the go_backwards twin of the forward layer"
        if fw.cell.math != bw.cell.math or fw.cell.use_bias != bw.cell.use_bias:
            return "the two directions differ in cell kind, activations or bias"
        if fw.activity_regularizer is not None or bw.activity_regularizer is not None:
            return "an activity_regularizer: each direction's outputs are penalized by its own layer"
        if training and (fw.cell.dropout > 0 or bw.cell.dropout > 0):
            return "input dropout in training: each direction draws its own input mask"
        return None

    def _fused(self, x, mask, training, fw_state, bw_state):
        fw, bw = self.forward_layer, self.backward_layer
        states_fw = fw._initial_states(x, fw_state)
        states_bw = bw._initial_states(x, bw_state)
        fw.last_path = bw.last_path = "fused"
        both, final_fw, final_bw = fused.run_bidirectional(
            fw.cell.math, x, states_fw, states_bw, _weights(fw.cell), _weights(bw.cell), mask, training,
            cache=self.__dict__.setdefault("_fused_cache", {}))
        for rnn, final in ((fw, final_fw), (bw, final_bw)):
            if rnn.stateful:
                rnn.states = [s.detach() for s in final]
        return both, final_fw, final_bw

    def _two_calls(self, x, mask, training, fw_state, bw_state):
        y = self.forward_layer(x, mask=mask, training=training, initial_state=fw_state)
        y_rev = self.backward_layer(x, mask=mask, training=training, initial_state=bw_state)
        states_fw, states_bw = [], []
        if self.return_state:
            y, states_fw = y[0], list(y[1:])
            y_rev, states_bw = y_rev[0], list(y_rev[1:])
        if self.return_sequences:
            y_rev = y_rev.flip(1)
        return y, y_rev, states_fw, states_bw

    def _merge(self, y: torch.Tensor, y_rev: torch.Tensor, states: list[torch.Tensor],
               concatenated: torch.Tensor | None = None) -> Any:
        """The merged output (and states); ``concatenated``: ``[y | y_rev]`` as one tensor already."""
        if self.merge_mode == "concat":
            outputs = [torch.cat([y, y_rev], dim=-1) if concatenated is None else concatenated]
        elif self.merge_mode == "sum":
            outputs = [y + y_rev]
        elif self.merge_mode == "ave":
            outputs = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, y_rev]
        if self.return_state:
            outputs += states
        return outputs[0] if len(outputs) == 1 else outputs

    # -- stateful and config ----------------------------------------------------------------------
    def reset_states(self, states: Any = None, *, slots: Any = None) -> None:
        """Reset both directions (zeros), or set them: forward states first, then backward ones.
        ``slots``: zero only those batch slots (see ``RNN.reset_states``)."""
        if not self.stateful:
            raise _validation.value_error(f"Bidirectional '{self.name}'", "reset_states()",
                                          "a wrapped layer created with stateful=True", "stateful=False")
        if slots is not None:
            self.forward_layer.reset_states(states, slots=slots)
            self.backward_layer.reset_states(states, slots=slots)
            return
        half = None if states is None else len(states) // 2
        self.forward_layer.reset_states(None if states is None else states[:half])
        self.backward_layer.reset_states(None if states is None else states[half:])

    reset_state = reset_states

    @property
    def states(self) -> list[torch.Tensor] | None:
        fw, bw = self.forward_layer.states, self.backward_layer.states
        return fw + bw if fw is not None and bw is not None else None

    def get_config(self) -> dict:
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": serialize(self.forward_layer), "backward_layer": serialize(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Bidirectional":
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"], custom_objects)
        return cls(**config)


def _copy(layer: RNN, name: str, **changes: Any) -> RNN:
    """A fresh (unbuilt, stateless) layer from ``layer``'s config, renamed, with ``changes``."""
    config = {**layer.get_config(), "name": name, **changes}
    return type(layer).from_config(config)


def _removeprefix(text: str, prefix: str) -> str:
    return text[len(prefix):] if text.startswith(prefix) else text


def _weights(cell: RecurrentCell) -> tuple:
    return cell.kernel, cell.recurrent_kernel, cell.bias
