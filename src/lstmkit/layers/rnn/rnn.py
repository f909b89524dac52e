"""``RNN``: runs a recurrent cell over ``(batch, timesteps, features)`` with every Keras option.

Options: return_sequences / return_state, initial_state, masks, go_backwards, stateful with
``reset_states()``, dropout and recurrent dropout (one mask per call, reused at every step, only in
training). Built-in cells dispatch between the reference loop (``ops.recurrence``, the specification),
PyTorch's native kernels (``ops.fused``), lstmkit's C++ loops for small-batch inference
(``ops.infer_loop``) and recurrent dropout (``ops.bptt``); ``RNN.dispatch`` is the one place that
decides, from each path's ``unsupported_reason``, and ``last_path`` records which path ran.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ... import _validation
from ...ops import bptt, fused, fused_weights, infer_loop, recurrence
from ...ops import regularizers as regularizers_mod
from ...ops.serialization import insert_after
from ..base import Layer
from .cell import RecurrentCell

FUSED_CHOICES = ("auto", True, False)


class RNN(Layer):
    """Base recurrent layer (Keras's ``keras.layers.RNN``).

    Args:
        cell: a ``RecurrentCell`` (``LSTMCell``, ``GRUCell``, ``SimpleRNNCell``) or any module with
            ``state_size`` (an int or list of ints) whose ``forward(x_t, states, training)`` returns
            ``(output, new_states)``.
        return_sequences: return the output of every step ``(batch, timesteps, units)`` instead of the
            last one ``(batch, units)``. Default False.
        return_state: also return the final states: ``[output, *states]``. Default False.
        go_backwards: process the sequence in reverse and return the reversed sequence. Default False.
        stateful: keep the final state of batch slot i as the initial state of slot i in the next
            call, until ``reset_states()``. Default False.
        unroll: accepted for Keras compatibility; the loop is always unrolled in Python (no numeric
            effect). Default False.
        zero_output_for_mask: masked steps output zeros instead of repeating the previous output.
        activity_regularizer: penalty on the layer's outputs, collected on ``losses``.
        use_fused: ``"auto"`` runs the native kernel when ``fused.unsupported_reason`` allows it,
            ``True`` requires it (raises the reason), ``False`` always runs the reference loop.

    Call arguments:
        inputs: ``(batch, timesteps, features)`` float tensor or NumPy array.
        mask: optional bool ``(batch, timesteps)``; False marks steps to skip.
        training: dropout on or off; None follows the module's ``train()`` / ``eval()`` mode.
        initial_state: optional list of ``(batch, units)`` states (``[h, c]`` for LSTM).
    """

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, activity_regularizer: Any = None,
                 use_fused: Any = "auto", **kwargs: Any):
        use_fused = kwargs.pop("use_cudnn", use_fused)  # Keras 3's name for the same switch
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.cell = cell
        self.return_sequences = _validation.boolean(owner, "return_sequences", return_sequences)
        self.return_state = _validation.boolean(owner, "return_state", return_state)
        self.go_backwards = _validation.boolean(owner, "go_backwards", go_backwards)
        self.stateful = _validation.boolean(owner, "stateful", stateful)
        self.unroll = _validation.boolean(owner, "unroll", unroll)
        self.zero_output_for_mask = _validation.boolean(owner, "zero_output_for_mask", zero_output_for_mask)
        self.activity_regularizer = regularizers_mod.get(activity_regularizer)
        self.use_fused = _validation.choice(owner, "use_fused", use_fused, FUSED_CHOICES)
        self.last_path: str | None = None  # "fused", "native", "bptt" or "reference" after each call
        self.states: list[torch.Tensor] | None = None  # stateful memory, one (batch, units) per state
        self._carry: Any = None  # a layers.carry.StateCarry while states are carried from outside
        self._input_features: int | None = None

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "RNN":
        config = dict(config)
        if "cell" in config:
            from ..serialization import deserialize

            config["cell"] = deserialize(config["cell"], custom_objects)
        return cls(**config)

    # -- shapes -----------------------------------------------------------------------------------
    @property
    def state_size(self) -> list[int]:
        size = self.cell.state_size
        return list(size) if isinstance(size, (list, tuple)) else [size]

    @property
    def units(self) -> int:
        return self.state_size[0]

    lazy_input_rank = 3  # built at construction from input_shape / input_dim (the cell declares its weights)
    owns_weights = False

    def build(self, input_shape: tuple) -> None:
        if isinstance(self.cell, Layer):
            self.cell.maybe_build((input_shape[0], input_shape[-1]))
        self._input_features = input_shape[-1]

    def compute_output_shape(self, input_shape: tuple) -> Any:
        batch, steps = input_shape[0], input_shape[1]
        output = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [output] + [(batch, size) for size in self.state_size]
        return output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras's rule: the input mask goes on with the sequence output; the last step and states have none."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(self.state_size) if self.return_state else output_mask

    def check_input_shape(self, shape: Any, producers: list) -> None:
        """Symbolic calls: the classic stacking mistake (a 2-D output fed to a recurrent layer) named."""
        if isinstance(shape, tuple) and len(shape) == 3:
            if (self._input_features is not None and not self._provisional and shape[2] is not None
                    and shape[2] != self._input_features):
                raise _validation.value_error(
                    self._owner, "input", f"{self._input_features} features per step (it was built for that)",
                    f"shape {shape}", "A layer's weights fix its input size: create a new layer for this input.")
            return
        source = next((p for p in producers if getattr(p, "return_sequences", None) is False), None)
        fix = (f"Set return_sequences=True on {type(source).__name__} '{source.name}' so that it passes the "
               "whole sequence (batch, timesteps, units) on." if source is not None else
               "Feed (batch, timesteps, features): add a time axis (Reshape, RepeatVector) before it.")
        raise _validation.value_error(self._owner, "input", "shape (batch, timesteps, features)",
                                      f"shape {shape}" + (f" from {type(source).__name__} '{source.name}'"
                                                          if source is not None else ""), fix)

    # -- call -------------------------------------------------------------------------------------
    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None,
                initial_state: Any = None) -> Any:
        x = self._check_inputs(inputs)
        self.maybe_build(tuple(x.shape))
        self._check_features(x)
        first = self.cell.__dict__.get("_parameters", {}).get("kernel")  # built-in cells: no generator walk
        first = next(self.cell.parameters(), None) if first is None else first
        x = x.to(first.device) if first is not None and x.device != first.device else x
        training = self.training if training is None else bool(training)
        mask = self._check_mask(mask, x)
        carry = self._carry
        if carry is not None and initial_state is not None:
            raise _validation.value_error(self._owner, "initial_state", "None while states are carried (streams, "
                                          "stateful forecasting)", "explicit initial states",
                                          "A layer fed its states by another layer cannot carry them.")
        states = carry.begin(self, x) if carry is not None else self._initial_states(x, initial_state)

        outputs, final = self._recur(x, states, mask, training)
        if carry is not None:
            carry.end(self, final)  # the Keras-style slot memory is left as it was
        elif self.stateful:
            self.states = [s.detach() for s in final]
        output = outputs if self.return_sequences else outputs[:, -1]
        result = [output, *final] if self.return_state else output
        if self._activity_losses:
            self._activity_losses = []
        if self.activity_regularizer is not None:
            flat = result if isinstance(result, list) else [result]
            self._activity_losses = [self.activity_regularizer(t) for t in flat]
        return result

    def eval_call(self, x: torch.Tensor) -> Any:
        """``forward`` on the native kernel, once ``dispatch`` would choose it anyway: a built layer of a
        built-in cell, no mask, no returned states, an input already of the weights' dtype, device and
        size; from zero states, a stateful layer's memory for the batch it holds (then carried on), or the
        states a ``carrying_states`` block gives (streams, stateful forecasting; the final ones go back to it)."""
        return self._direct(x, training=False)

    def train_call(self, x: torch.Tensor) -> Any:
        """``forward`` in training on the native kernel, under ``eval_call``'s conditions and without
        dropout (the cell's masks are random draws ``forward`` makes): the same kernel call with gradients
        to the weights, the same stateful memory carried on (detached, as ``forward`` does)."""
        cell = self.cell
        if not isinstance(cell, RecurrentCell) or cell.dropout > 0 or cell.recurrent_dropout > 0:
            return NotImplemented
        return self._direct(x, training=True)

    def _direct(self, x: torch.Tensor, training: bool) -> Any:
        cell = self._modules["cell"]
        if (type(self).forward is not RNN.forward or type(self)._recur is not RNN._recur or not self.built
                or "_recur" in self.__dict__ or "_initial_states" in self.__dict__  # shadowed (export)
                or self._provisional or not isinstance(cell, RecurrentCell)
                or self.return_state or self.use_fused is False or self.activity_regularizer is not None
                or self._activity_losses or x.ndim != 3 or x.shape[1] == 0 or x.shape[2] != self._input_features):
            return NotImplemented
        weights = cell._parameters  # a weight moved out of it (torch.nn.utils.parametrize, prune): the full call
        kernel, recurrent_kernel = weights.get("kernel"), weights.get("recurrent_kernel")
        if kernel is None or recurrent_kernel is None or ("bias" not in weights and cell.use_bias):
            return NotImplemented
        math = cell.math
        if (x.device != kernel.device or x.dtype != kernel.dtype or x.dtype != self.torch_dtype
                or fused.unsupported_reason(math, x.dtype, x.device, False, None) is not None):
            return NotImplemented
        carry = self._carry
        if carry is not None:
            states = carry.begin(self, x)
        elif self.stateful:
            states = self.states  # none yet, or another batch / dtype: the full call checks or converts
            if states is None or any(s.shape[0] != x.shape[0] or s.dtype != x.dtype or s.device != x.device
                                     for s in states):
                return NotImplemented
        else:  # the kernel never writes its initial states: one set, in its (1, batch, units) layout, serves
            states = None  # every call of this batch size
        bias = weights.get("bias")
        if infer_loop.unavailable_reason(math, x, kernel, recurrent_kernel, bias, training) is None:
            path = "native"
            outputs, final = infer_loop.run(x, kernel, bias, recurrent_kernel, states, self.go_backwards)
        elif bptt.plain_training_reason(math, x, kernel, recurrent_kernel, bias) is None:
            path = "bptt"
            start = states if states is not None else [x.new_zeros(x.shape[0], self.units)] * 2
            outputs, final = bptt.run(math, x, start, kernel, bias, recurrent_kernel, None, self.go_backwards)
        else:
            path = "fused"
            outputs, final = self._direct_fused(math, x, kernel, recurrent_kernel, bias, states, training)
        if self.__dict__.get("last_path") != path:
            self.last_path = path
        if states is not None:  # carried or stateful: the final states go back
            if carry is not None:
                carry.end(self, final)  # the Keras-style slot memory is left as it was
            else:
                self.states = [s.detach() for s in final]
        return outputs if self.return_sequences else outputs.select(1, -1)

    def _direct_fused(self, math, x, kernel, recurrent_kernel, bias, states, training):
        """``_direct`` on the native kernel: ``(outputs, final states or None when starting from zeros)``."""
        cache = self.__dict__.setdefault("_fused_cache", {})
        params = fused.weights(math, x, kernel, recurrent_kernel, bias, cache)
        if states is None:
            hx = fused_weights.zeros_cached(cache, "zero hx", [(1, x.shape[0], size) for size in self.state_size],
                                            x.dtype, x.device)
            outputs, _ = fused.run_unmasked(math, x, hx, params, self.go_backwards, training)
            return outputs, None
        outputs, final = fused.run_unmasked(math, x, [s.unsqueeze(0) for s in states], params,
                                            self.go_backwards, training)
        return outputs, [s.squeeze(0) for s in final]

    def _recur(self, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None,
               training: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
        cell = self.cell
        if not isinstance(cell, RecurrentCell):  # a user cell: the generic loop
            self.last_path = "reference"
            step_fn = lambda x_t, s: cell(x_t, s, training=training)  # noqa: E731
            return recurrence.run(step_fn, x, states, mask, self.go_backwards, self.zero_output_for_mask)
        if training and cell.dropout > 0:
            x = x * cell.draw_mask(x.shape[0], x.shape[2], cell.dropout, x).unsqueeze(1)
        recurrent_mask = None
        if training and cell.recurrent_dropout > 0:
            recurrent_mask = cell.draw_mask(x.shape[0], self.units, cell.recurrent_dropout, x)
        path, reason = self.dispatch(x, mask, training)
        if self.use_fused is True and reason is not None:
            raise _validation.value_error(f"{type(self).__name__} '{self.name}'", "use_fused=True",
                                          "a configuration the native kernel supports", reason,
                                          "Use use_fused='auto' to fall back to the reference loop.")
        if self.__dict__.get("last_path") != path:
            self.last_path = path
        if path == "fused":
            return fused.run(cell.math, x, states, cell.kernel, cell.recurrent_kernel, cell.bias, mask,
                             self.go_backwards, self.zero_output_for_mask, training,
                             cache=self.__dict__.setdefault("_fused_cache", {}))
        if path == "native":
            return infer_loop.run(x, cell.kernel, cell.bias, cell.recurrent_kernel, states, self.go_backwards)
        if path == "bptt":
            return bptt.run(cell.math, x, states, cell.kernel, cell.input_bias, cell.recurrent_kernel,
                            recurrent_mask, self.go_backwards)
        xp = recurrence.project_inputs(cell.math, x, cell.kernel, cell.input_bias)
        step_fn = recurrence.cell_step(cell.math, cell.recurrent_kernel, cell.recurrent_bias, recurrent_mask)
        return recurrence.run(step_fn, xp, states, mask, self.go_backwards, self.zero_output_for_mask)

    def dispatch(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                 training: bool = False) -> tuple[str, str | None]:
        """The one dispatch point: ``(path, why_not_fused)`` for this call.

        ``"fused"`` (native kernel) when ``fused.unsupported_reason`` allows it, or there ``"native"`` (the
        C++ inference loop of ``ops.infer_loop``) for an unmasked LSTM call without gradients that
        ``infer_loop.unavailable_reason`` accepts (small batches, where oneDNN's setup dominates), or
        ``"bptt"`` (the hand-written LSTM loop of ``ops.bptt``) for an unmasked call recording a gradient
        that ``bptt.plain_training_reason`` accepts (measured faster than oneDNN's training kernel); else
        ``"bptt"`` for recurrent dropout in training; else ``"reference"``. ``use_fused=False`` always
        gives the reference.
        """
        reason = self.fused_unsupported_reason(x, mask, training)
        if reason is None:
            cell = self.cell
            if mask is None and infer_loop.unavailable_reason(cell.math, x, cell.kernel, cell.recurrent_kernel,
                                                              cell.bias, training) is None:
                return "native", None
            if mask is None and bptt.plain_training_reason(cell.math, x, cell.kernel, cell.recurrent_kernel,
                                                           cell.bias) is None:
                return "bptt", None
            return "fused", None
        cell = self.cell
        if (self.use_fused is not False and isinstance(cell, RecurrentCell) and training
                and cell.recurrent_dropout > 0 and bptt.unsupported_reason(cell.math, mask) is None):
            return "bptt", reason
        return "reference", reason

    def fused_unsupported_reason(self, x: torch.Tensor, mask: torch.Tensor | None = None,
                                 training: bool = False) -> str | None:
        """Why this layer cannot run on the native kernel for this call (None when it can)."""
        if self.use_fused is False:
            return "use_fused=False"
        if not isinstance(self.cell, RecurrentCell):
            return f"{type(self.cell).__name__} is not a built-in cell"
        recurrent_dropout = bool(training and self.cell.recurrent_dropout > 0)
        return fused.unsupported_reason(self.cell.math, x.dtype, x.device, recurrent_dropout, mask)

    # -- stateful ---------------------------------------------------------------------------------
    def reset_states(self, states: Sequence[Any] | None = None, *, slots: Sequence[int] | None = None) -> None:
        """Forget the stateful memory (zeros at the next call), or set it to ``states``.

        ``slots`` (lstmkit): zero only those batch slots, keeping the others' memory (a new sequence
        starts in slot i while the other slots continue theirs).
        """
        if not self.stateful:
            raise _validation.value_error(f"{type(self).__name__} '{self.name}'", "reset_states()",
                                          "a layer created with stateful=True", "stateful=False")
        if slots is not None:
            if states is not None:
                raise _validation.value_error(self._owner, "reset_states()", "either states or slots",
                                              "both")
            self._zero_slots(slots)
            return
        if states is None:
            self.states = None
            return
        states = [torch.as_tensor(np.asarray(s) if not torch.is_tensor(s) else s, dtype=self.torch_dtype)
                  for s in (states if isinstance(states, (list, tuple)) else [states])]
        self.states = [s.detach() for s in self._check_states(states, states[0].shape[0], "reset_states")]

    reset_state = reset_states  # Keras 3's name

    def _zero_slots(self, slots: Sequence[int]) -> None:
        """Zero batch slots given as indices or as a bool mask over the batch (True = reset)."""
        slots = np.asarray(slots.cpu() if torch.is_tensor(slots) else slots)
        if slots.dtype == bool:
            if self.states is not None and slots.shape != (self.states[0].shape[0],):
                raise _validation.value_error(self._owner, "reset_states(slots=...)",
                                              f"a bool mask of one entry per batch slot ({self.states[0].shape[0]})",
                                              f"a mask of shape {slots.shape}")
            slots = np.flatnonzero(slots)
        index = torch.as_tensor(slots.astype(np.int64).reshape(-1))
        if self.states is None or index.numel() == 0:
            return  # no memory yet: every slot starts from zeros anyway
        batch = self.states[0].shape[0]
        if int(index.min()) < -batch or int(index.max()) >= batch:
            raise _validation.value_error(self._owner, "reset_states(slots=...)",
                                          f"slot indices in [0, {batch})", f"{np.asarray(slots).tolist()}")
        index = index % batch  # negative slots count from the end, as in indexing
        self.states = [s.index_fill(0, index.to(s.device), 0) for s in self.states]  # out of place

    # -- input checks -----------------------------------------------------------------------------
    @property
    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _check_inputs(self, inputs: Any) -> torch.Tensor:
        x = inputs if torch.is_tensor(inputs) else np.asarray(inputs)
        if x.ndim != 3:
            raise _validation.value_error(self._owner, "input", "shape (batch, timesteps, features)",
                                          _validation.describe_array(x), _reshape_hint(tuple(x.shape)))
        floating = x.is_floating_point() if torch.is_tensor(x) else np.issubdtype(x.dtype, np.floating)
        if not floating:
            convert = "x.float()" if torch.is_tensor(x) else "x.astype('float32')"
            raise _validation.type_error(self._owner, "input", "floating-point values",
                                         f"dtype {x.dtype}", f"Convert with {convert}.")
        if x.shape[1] == 0:
            raise _validation.value_error(self._owner, "input", "at least one time step",
                                          _validation.describe_array(x))
        x = torch.as_tensor(x)
        return x if x.dtype == self.torch_dtype else x.to(self.torch_dtype)

    def _check_features(self, x: torch.Tensor) -> None:
        expected = self._input_features
        if expected is not None and x.shape[2] != expected:
            raise _validation.value_error(
                self._owner, "input", f"{expected} features per step (it was built for that)",
                f"{x.shape[2]} features in an input of shape {tuple(x.shape)}",
                f"Feed (batch, timesteps, {expected}) inputs, or create a new layer for {x.shape[2]}.")

    def _check_mask(self, mask: Any, x: torch.Tensor) -> torch.Tensor | None:
        if mask is None:
            return None
        mask = torch.as_tensor(mask if torch.is_tensor(mask) else np.asarray(mask), device=x.device)
        if tuple(mask.shape) != tuple(x.shape[:2]):
            raise _validation.value_error(self._owner, "mask", f"shape (batch, timesteps) = {tuple(x.shape[:2])}",
                                          f"shape {tuple(mask.shape)}")
        return mask.bool()

    def _check_states(self, states: list[torch.Tensor], batch: int, what: str) -> list[torch.Tensor]:
        sizes = self.state_size
        if len(states) != len(sizes):
            raise _validation.value_error(self._owner, what, f"{len(sizes)} state tensors "
                                          f"(shapes {[(batch, s) for s in sizes]})", f"{len(states)}")
        for state, size in zip(states, sizes):
            if tuple(state.shape) != (batch, size):
                raise _validation.value_error(self._owner, what, f"states of shape {(batch, size)}",
                                              f"shape {tuple(state.shape)}")
        return states

    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        batch = x.shape[0]
        if initial_state is not None:
            if torch.is_tensor(initial_state) or isinstance(initial_state, np.ndarray):
                initial_state = [initial_state]
            states = [torch.as_tensor(s if torch.is_tensor(s) else np.asarray(s)).to(x.device, x.dtype)
                      for s in initial_state]
            return self._check_states(states, batch, "initial_state")
        if self.stateful:
            declared = self._batch_input_shape[0] if self._batch_input_shape else None
            expected = self.states[0].shape[0] if self.states is not None else declared
            if expected is not None and batch != expected:
                raise _validation.value_error(
                    self._owner, "input", f"a batch of {expected} (stateful: batch slot i carries "
                    "the state of sequence i from call to call)", f"a batch of {batch}",
                    "Keep the batch size fixed (drop or pad the last partial batch), or call "
                    "reset_states() before switching sizes.")
            if self.states is not None:
                return [s.to(x.device, x.dtype) for s in self.states]
        return [torch.zeros(batch, size, dtype=x.dtype, device=x.device) for size in self.state_size]

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras's config: base keys, the RNN options, then the cell's arguments flattened in (built-in
        cells, as Keras's LSTM/GRU/SimpleRNN write them) or nested under ``"cell"`` (generic RNN).
        lstmkit-only flags are written only when they differ from the default, so default configs
        load in Keras unchanged."""
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        })
        if isinstance(self.cell, RecurrentCell) and type(self) is not RNN:
            config.update(self.cell.cell_config())
            config = insert_after(config, "bias_regularizer", "activity_regularizer",
                                  regularizers_mod.serialize(self.activity_regularizer))
            if self.cell.implementation != 2:
                config["implementation"] = self.cell.implementation
        else:
            from ..serialization import serialize  # the cell is a layer: Keras nests its serialized form

            config["cell"] = serialize(self.cell)
            config["activity_regularizer"] = regularizers_mod.serialize(self.activity_regularizer)
        if self.use_fused != "auto":
            config["use_fused"] = self.use_fused
        return config


def _reshape_hint(shape: tuple) -> str:
    if len(shape) == 2:
        b, t = shape
        return (f"If each row is one sequence of {t} steps with one feature, use x.reshape({b}, {t}, 1); "
                f"if each row is one step with {t} features, use x.reshape({b}, 1, {t}).")
    if len(shape) == 1:
        return f"For one sequence of {shape[0]} steps with one feature, use x.reshape(1, {shape[0]}, 1)."
    return "Merge or drop the extra axes so that the input is (batch, timesteps, features)."
