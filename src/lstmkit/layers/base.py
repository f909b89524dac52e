"""``Layer``: a ``torch.nn.Module`` with Keras's contract.

What Keras users rely on and plain modules lack: lazy build on the first input, weights exchanged as
NumPy arrays in Keras's order (``get_weights`` / ``set_weights``), Keras config dicts
(``get_config`` / ``from_config``), Keras-style unique names, regularization penalties on ``losses``
and constraints recorded per parameter (applied by ``lstmkit.constraints.apply_constraints``).
"""

from __future__ import annotations

import collections
import inspect
from typing import Any, Iterable

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as _nn_module
from torch.nn.parameter import UninitializedParameter

from .. import _validation
from ..mixed_precision import policy as policy_mod
from ..ops import constraints as constraints_mod
from ..ops import initializers as initializers_mod
from ..ops import regularizers as regularizers_mod
from ..ops import safe_mode
from ..ops.serialization import snake_case
from . import legacy_arguments, symbolic

_NAME_COUNTS: collections.Counter = collections.Counter()
_DTYPES = policy_mod.FLOAT_DTYPES


def unique_name(prefix: str) -> str:
    """Keras's naming: ``lstm``, ``lstm_1``, ``lstm_2``... per prefix, per process."""
    count = _NAME_COUNTS[prefix]
    _NAME_COUNTS[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    """Restart automatic naming (Keras's ``clear_session`` does the same)."""
    _NAME_COUNTS.clear()


def dtype_policy(dtype: Any) -> str:
    """Accept ``None`` (the global policy), a name, a torch dtype, a ``DTypePolicy`` or Keras's policy dict;
    return the policy name (``"float32"``, ``"mixed_bfloat16"``...)."""
    return policy_mod.policy_name(dtype)


class _Constructed(type):
    """Runs ``Layer._finish_construction`` once the outermost ``__init__`` (a subclass's included) returns."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        layer = super().__call__(*args, **kwargs)
        layer._finish_construction()
        return layer


class Layer(symbolic.NodeAttributes, nn.Module, metaclass=_Constructed):
    """Base of every lstmkit layer.

    Calling a layer: on tensors or NumPy it runs ``forward``; on symbolic tensors (``Input(...)``) it
    records a graph node instead (``layers.symbolic``).

    Weights exist from construction, as ``torch.nn.LazyLinear``'s do: a layer whose input size is known
    (``input_shape`` / ``input_dim`` / ``batch_input_shape``) is built at once; otherwise a layer that sets
    ``lazy_input_rank`` registers each weight as a ``torch.nn.parameter.UninitializedParameter`` that its
    first call (or ``load_state_dict``) materialises in place with Keras's initializer, so an optimizer made
    before the first call holds and trains them. ``.double()`` / ``.to(dtype)`` change the layer's dtype
    policy to that dtype, before or after the first call. Masks travel as Keras's do: a layer's
    ``compute_mask(inputs, mask)`` result is attached to its outputs as ``_keras_mask``, and a layer
    whose ``forward`` takes ``mask`` receives its input's mask when none is passed explicitly.

    Args:
        name: unique name; Keras's automatic name (``lstm_2``) when None.
        trainable: whether the weights receive gradients.
        dtype: a dtype policy: a name (``"float32"``, ``"bfloat16"``, ``"mixed_bfloat16"``...), a torch dtype,
            a ``lstmkit.mixed_precision.DTypePolicy`` or Keras's dict; None takes the global policy.
        input_shape / batch_input_shape / batch_size / input_dim: Keras's ways of declaring the input,
            which let the layer build at construction instead of on its first call.
    """

    supports_masking = False  # pass an incoming mask through unchanged (compute_mask's default)
    lazy_input_rank: int | None = None  # set by layers whose weights can be declared before the input is known
    owns_weights = True  # False for containers (RNN, wrappers): their inner layers declare the weights
    is_container = False  # True for models: each of their layers applies its own dtype policy

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:  # Keras 1's renamed arguments (output_dim=, init=...) with a warning
            cls.__init__ = legacy_arguments.accept_keras1_names(cls, cls.__dict__["__init__"])

    def __init__(self, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 input_shape: Iterable[int | None] | None = None,
                 batch_input_shape: Iterable[int | None] | None = None,
                 batch_size: int | None = None, input_dim: int | None = None, **kwargs: Any):
        super().__init__()
        kwargs.pop("autocast", None)  # Keras bookkeeping with no meaning here
        kwargs.pop("build_config", None)
        if kwargs:
            raise _validation.type_error(type(self).__name__, "its constructor",
                                         "Keras layer arguments", f"unknown arguments {sorted(kwargs)}",
                                         "Check the spelling against the layer's docstring.")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype_name = dtype_policy(dtype)
        self.built = False
        self._weight_order: list[str] = []  # parameter names in Keras's order
        self._non_trainable: set[str] = set()  # weights created with trainable=False
        self._regularizers: dict[str, Any] = {}
        self._constraints: dict[str, Any] = {}
        self._activity_losses: list[torch.Tensor] = []
        self._inbound_nodes: list[symbolic.Node] = []
        self._batch_input_shape = declared_input_shape(input_shape, batch_input_shape, batch_size,
                                                       input_dim)
        self._declaring = False  # add_weight registers UninitializedParameters while True
        self._provisional = False  # built from a declared input_shape, not yet from a real input
        self._rebuilding = False  # add_weight re-initializes existing weights in place while True
        self._lazy_shapes: dict[str, tuple] = {}  # declared weight -> its shape, None where the input decides
        self.register_load_state_dict_pre_hook(_build_from_state)

    def _finish_construction(self) -> None:
        """Build now when the input size is declared, else declare the weights uninitialized."""
        rank = self.lazy_input_rank
        if rank is None or self.built:
            return
        shape = self._batch_input_shape
        if shape is not None and len(shape) >= rank and shape[-1] is not None:
            self.maybe_build(shape)
            for layer in self.modules():  # until a real input settles the declaration (maybe_build)
                if isinstance(layer, Layer):
                    layer._provisional = True
            return
        if not self.owns_weights:
            return
        self._declaring = True
        try:
            self.build((None,) * rank)  # add_weight only registers UninitializedParameters here
        finally:
            self._declaring = False

    # -- calling ----------------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        plain = (len(args) == 1 and torch.is_tensor(args[0])  # the common eager call: no structure to search
                 and all(v is None or isinstance(v, (bool, torch.Tensor)) for v in kwargs.values()))
        if not plain and symbolic.is_symbolic(args, kwargs):
            return symbolic.call_layer(self, args, kwargs)
        if "training" in kwargs and not accepts(self, "training"):
            del kwargs["training"]  # as Keras: every layer takes training=, layers without dropout ignore it
        inputs = args[0] if args else kwargs.get("inputs")
        mask = kwargs.get("mask")
        if mask is None:
            mask = implicit_mask(inputs)
            if mask is not None and accepts(self, "mask"):
                kwargs["mask"] = mask
        policy, device = self.dtype_policy, _device_type(inputs)
        if self.is_container:  # a model's policy does not apply to its layers (Keras)
            outputs = super().__call__(*args, **kwargs)
        elif policy.is_mixed:
            outputs = self._autocast_call(policy, inputs, args, kwargs)
        elif torch.is_autocast_enabled(device):  # a float policy inside a mixed one computes in its own dtype
            with torch.autocast(device, enabled=False):
                outputs = super().__call__(*args, **kwargs)
        else:
            outputs = super().__call__(*args, **kwargs)
        attach_mask(outputs, self.compute_mask(inputs, mask))
        return outputs

    def eval_call(self, x: torch.Tensor) -> Any:
        """Inference without the framework's per-call work: ``training=False``, no gradient, no mask.

        Models call it on each layer while predicting (``Sequential``); it returns the same tensor the
        full call would, or ``NotImplemented`` when this call needs the full path (a check to run, a
        weight to build, state to carry, a subclass's own ``forward``), which the caller then takes. Layers
        that can skip work override it; the equality with ``layer(x, training=False)`` is tested per layer.
        """
        return NotImplemented

    def train_call(self, x: torch.Tensor) -> Any:
        """Training (``training=True``, gradients flowing) without the framework's per-call work, as
        ``eval_call`` is for inference: the same tensor ``layer(x, training=True)`` returns, with the same
        effect on the layer's state (a stateful memory), or ``NotImplemented`` for the full call. Layers
        whose training call draws randomness (dropout) keep the default; equality is tested per layer."""
        return NotImplemented

    def _autocast_call(self, policy: policy_mod.DTypePolicy, inputs: Any, args: tuple, kwargs: dict) -> Any:
        """A mixed policy's call: floating inputs and outputs in the compute dtype, float32 weights read in
        it by ``torch.autocast`` (Keras casts inputs and reads its variables in the compute dtype)."""
        compute = policy.torch_compute_dtype
        cast = lambda t: t.to(compute) if torch.is_tensor(t) and t.is_floating_point() else t  # noqa: E731
        if args:
            args = (_map_tensors(cast, args[0]), *args[1:])
        elif "inputs" in kwargs:
            kwargs["inputs"] = _map_tensors(cast, kwargs["inputs"])
        with torch.autocast(_device_type(inputs), dtype=compute):
            outputs = super().__call__(*args, **kwargs)
        return _map_tensors(cast, outputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs given the inputs' mask: kept when ``supports_masking``, else None."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape(s) for ``input_shape`` (batch first, ``None`` for unknown sizes)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement compute_output_shape, "
                                  "so it cannot be called on symbolic inputs (Input(...)).")

    # -- building ---------------------------------------------------------------------------------
    @property
    def dtype_policy(self) -> policy_mod.DTypePolicy:
        """The layer's ``DTypePolicy`` (its name is ``dtype_name``)."""
        return policy_mod.named(self.dtype_name)

    @property
    def compute_dtype(self) -> str:
        return self.dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype_policy.variable_dtype

    @property
    def torch_dtype(self) -> torch.dtype:
        """The compute dtype: floating inputs are cast to it."""
        return self.dtype_policy.torch_compute_dtype

    @property
    def torch_variable_dtype(self) -> torch.dtype:
        """The dtype the weights are created in (float32 under a mixed policy)."""
        return self.dtype_policy.torch_variable_dtype

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        """``.double()``, ``.half()``, ``.to(dtype)``: the policy follows the weights' new dtype."""
        result = super()._apply(fn, recurse)
        probe = fn(torch.empty(0, dtype=self.torch_variable_dtype))
        if torch.is_tensor(probe) and probe.dtype != self.torch_variable_dtype and probe.dtype in _DTYPES.values():
            self.dtype_name = str(probe.dtype).replace("torch.", "")
        return result

    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of ``input_shape`` (batch included, may be None)."""
        self.built = True

    def maybe_build(self, input_shape: Any) -> None:
        """Build once, for a shape tuple or (layers with several inputs) a list of shape tuples."""
        shape = [tuple(s) for s in input_shape] if _several(input_shape) else tuple(input_shape)
        if not self.built:
            _build_eagerly(self, shape)
        elif self._provisional:
            self._provisional = False
            declared = self._build_shape
            if not _several(shape) and shape and shape[-1] is not None and shape[-1] != declared[-1]:
                # As Keras, a declared input_shape that the real input contradicts (a later layer's) is
                # ignored: the weights are re-created in place for the real size (same Parameter objects).
                self._rebuilding = True
                try:
                    _build_eagerly(self, shape)
                finally:
                    self._rebuilding = False

    def add_weight(self, name: str, shape: tuple[int, ...], initializer: Any = "zeros",
                   regularizer: Any = None, constraint: Any = None,
                   trainable: bool = True) -> nn.Parameter:
        """Create, initialize and register a parameter; Keras's order is creation order.

        While the layer declares its weights (``_finish_construction``) this registers an
        ``UninitializedParameter`` and draws nothing; the real build then materialises that same object in
        place, so optimizers holding it see the values. While a file is loaded, each real allocation is first
        charged against what the file holds (``ops/safe_mode.py``).
        """
        requires_grad = trainable and self.trainable
        if self._declaring:
            param = UninitializedParameter(requires_grad=requires_grad, dtype=self.torch_variable_dtype)
            self.register_parameter(name, param)
            self._lazy_shapes[name] = tuple(shape)
            return param
        safe_mode.charge_weight(f"{type(self).__name__} '{self.name}'", name, tuple(shape))
        init = initializers_mod.get(initializer)
        dtype = self.torch_variable_dtype
        value = torch.as_tensor(init(tuple(shape), dtype=dtype), dtype=dtype)
        declared = self._parameters.get(name)
        if isinstance(declared, UninitializedParameter) or (self._rebuilding and declared is not None):
            if isinstance(declared, UninitializedParameter):
                declared.materialize(tuple(shape), device=declared.device, dtype=dtype)
            with torch.no_grad():
                declared.data = value.to(declared.device)  # in place: optimizers holding it see the values
            declared.requires_grad_(requires_grad)
            param = declared
            if name in self._weight_order:  # a rebuild keeps the creation order
                return param
        else:
            param = nn.Parameter(value.clone(), requires_grad=requires_grad)
            self.register_parameter(name, param)
        self._weight_order.append(name)
        if not trainable:
            self._non_trainable.add(name)
        if regularizer is not None:
            self._regularizers[name] = regularizers_mod.get(regularizer)
        if constraint is not None:
            self._constraints[name] = constraints_mod.get(constraint)
        return param

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """As ``LazyModuleMixin``: an unbuilt layer's uninitialized weights are saved as they are."""
        lazy = {n: p for n, p in self._parameters.items() if isinstance(p, UninitializedParameter)}
        if not lazy:
            return super()._save_to_state_dict(destination, prefix, keep_vars)
        saved = self._parameters
        self._parameters = {n: p for n, p in saved.items() if n not in lazy}
        try:
            super()._save_to_state_dict(destination, prefix, keep_vars)
        finally:
            self._parameters = saved
        for name, param in lazy.items():
            destination[prefix + name] = param

    def input_shape_from_weights(self, shapes: dict[str, tuple]) -> tuple | None:
        """The input shape a ``load_state_dict`` into an unbuilt layer implies, from the loaded weight shapes.

        Each declared weight records ``None`` where the input's feature size enters its shape; the loaded
        tensor gives that size. Layers whose weights scale it (Conv1D's groups) override this.
        """
        for name, declared in self._lazy_shapes.items():
            if name in shapes and None in declared and len(shapes[name]) == len(declared):
                features = shapes[name][declared.index(None)]
                return (None,) * (self.lazy_input_rank - 1) + (int(features),)
        if not any(None in declared for declared in self._lazy_shapes.values()):
            return (None,) * self.lazy_input_rank  # no weight depends on the input (Embedding)
        return None

    # -- weights ----------------------------------------------------------------------------------
    def sublayers(self) -> list["Layer"]:
        """Direct child layers whose weights follow this layer's own, in registration order."""
        return [m for m in self.children() if isinstance(m, Layer)]

    @property
    def weights(self) -> list[nn.Parameter]:
        """All weights in Keras's ``layer.weights`` order."""
        own = [getattr(self, n) for n in self._weight_order]
        return own + [w for layer in self.sublayers() for w in layer.weights]

    @property
    def trainable_weights(self) -> list[nn.Parameter]:
        """Keras's ``trainable_weights``: in ``weights`` order, those of trainable layers (a frozen layer
        freezes its sublayers) not created with ``trainable=False``."""
        trainable = _trainable_ids(self)
        return [w for w in self.weights if id(w) in trainable]

    @property
    def non_trainable_weights(self) -> list[nn.Parameter]:
        """Keras's ``non_trainable_weights``: every other weight (moving statistics, frozen layers)."""
        trainable = _trainable_ids(self)
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def variables(self) -> list[nn.Parameter]:
        """Keras 3's name for ``weights``."""
        return self.weights

    @property
    def trainable_variables(self) -> list[nn.Parameter]:
        """Keras 3's name for ``trainable_weights``."""
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[nn.Parameter]:
        """Keras 3's name for ``non_trainable_weights``."""
        return self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        """The weights as NumPy arrays, exactly as Keras's ``get_weights()`` orders and shapes them."""
        return [policy_mod.to_numpy(w).copy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Load NumPy arrays (or tensors) in Keras's order; shapes must match exactly."""
        params = self.weights
        owner = f"{type(self).__name__} '{self.name}'"
        if not self.built:
            raise _validation.value_error(owner, "set_weights", "a built layer", "an unbuilt layer",
                                          "Call the layer on an input (or pass input_shape=...) first.")
        if len(weights) != len(params):
            raise _validation.value_error(owner, "set_weights", f"a list of {len(params)} arrays "
                                          f"{[tuple(p.shape) for p in params]}",
                                          f"{len(weights)} arrays")
        for i, (param, value) in enumerate(zip(params, weights)):
            value = torch.as_tensor(np.asarray(value), dtype=param.dtype)
            if tuple(value.shape) != tuple(param.shape):
                raise _validation.value_error(owner, f"set_weights (weight {i})",
                                              f"shape {tuple(param.shape)}", f"shape {tuple(value.shape)}")
            with torch.no_grad():
                param.copy_(value)

    def count_params(self) -> int:
        return int(sum(w.numel() for w in self.weights))

    # -- losses -----------------------------------------------------------------------------------
    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties on the current weights plus activity penalties of the last call."""
        penalties = [reg(getattr(self, name)) for name, reg in self._regularizers.items()]
        for layer in self.sublayers():
            penalties += layer.losses
        return penalties + list(self._activity_losses)

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": {"module": "keras", "class_name": "DTypePolicy",
                      "config": {"name": self.dtype_name}, "registered_name": None},
        }
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _trainable_ids(layer: "Layer") -> set[int]:
    """``id``s of the weights a trainable path of layers reaches, not created with ``trainable=False``."""
    if not layer.trainable:
        return set()
    ids = {id(getattr(layer, n)) for n in layer._weight_order if n not in layer._non_trainable}
    for sub in layer.sublayers():
        ids |= _trainable_ids(sub)
    return ids


def _build_eagerly(layer: "Layer", shape: Any) -> None:
    """Build ``layer``, outside any ``torch.compile`` trace: the initializers draw random numbers and the
    uninitialized weights are materialised in place, which a graph cannot hold (a graph break). Only a
    build inside a trace goes through ``torch.compiler.disable``, which imports torch._dynamo (1.5 s)."""
    (_build_outside_trace if torch.compiler.is_compiling() else _build)(layer, shape)


def _build(layer: "Layer", shape: Any) -> None:
    layer.build(shape)
    layer.built = True
    layer._build_shape = shape


# torch's lazy form of ``torch.compiler.disable`` (which would import torch._dynamo at import time)
_build_outside_trace = getattr(torch, "_disable_dynamo", torch.compiler.disable)(_build)


def _build_from_state(layer: "Layer", state_dict: dict, prefix: str, *args: Any) -> None:
    """``load_state_dict`` pre-hook: build an unbuilt layer for the weights about to be loaded into it."""
    if layer.built or not layer._lazy_shapes:
        return
    shapes = {name: tuple(state_dict[prefix + name].shape) for name in layer._lazy_shapes
              if prefix + name in state_dict and not isinstance(state_dict[prefix + name], UninitializedParameter)}
    shape = layer.input_shape_from_weights(shapes) if shapes else None
    if shape is not None:
        layer.maybe_build(shape)


def _device_type(inputs: Any) -> str:
    """The device type autocast runs on: the first tensor input's (CPU for NumPy inputs)."""
    found = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
    return found.device.type if torch.is_tensor(found) else "cpu"


def _map_tensors(fn: Any, obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(fn, o) for o in obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(fn, v) for k, v in obj.items()}
    return fn(obj)


def _several(shape: Any) -> bool:
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (tuple, list))


_ACCEPTS: dict[tuple[type, str], bool] = {}


def eval_calls_allowed(training: bool, mask: Any = None) -> bool:
    """Whether a model may run its layers' ``eval_call``: inference (``training=False``) without gradients
    or an explicit mask, and not while ``torch.compile`` / ``torch.jit`` / export trace the full calls."""
    return (not training and mask is None and not torch.is_grad_enabled() and not torch.compiler.is_compiling()
            and not torch.jit.is_tracing())


def eval_call_of(layer: "Layer", x: Any) -> Any:
    """``layer.eval_call(x)`` for an unmasked tensor and an unhooked layer; else ``NotImplemented``."""
    if not _direct_call_ok(layer, x):
        return NotImplemented
    return layer.eval_call(x)


def train_calls_allowed(training: bool, mask: Any = None) -> bool:
    """Whether a model may run its layers' ``train_call``: a training call (``training=True``) without an
    explicit mask, and not while ``torch.compile`` / ``torch.jit`` / export trace the full calls."""
    return training and mask is None and not torch.compiler.is_compiling() and not torch.jit.is_tracing()


def train_call_of(layer: "Layer", x: Any) -> Any:
    """``layer.train_call(x)`` for an unmasked tensor and an unhooked layer; else ``NotImplemented``."""
    if not _direct_call_ok(layer, x):
        return NotImplemented
    return layer.train_call(x)


def _direct_call_ok(layer: nn.Module, x: Any) -> bool:
    """What ``eval_call`` / ``train_call`` leave to the full ``__call__``: structures, masks, hooks, and
    an enclosing autocast (the full call turns it off for a float policy, or casts for a mixed one)."""
    return (torch.is_tensor(x) and "_keras_mask" not in x.__dict__ and not hooked(layer)
            and not torch.is_autocast_enabled(x.device.type))


def call_is_forward(model: "Layer", x: Any) -> bool:
    """Whether ``model(x, training=...)`` would run ``model.forward(x, training=...)`` and then only attach
    the output mask: a model (a container: no dtype policy of its own to apply) whose class keeps
    ``Layer.__call__``, without hooks or an ``nn.Module.compile`` wrapper, whose ``forward`` takes
    ``training``, called on a tensor that carries no mask. Callers that drop the mask (NumPy results)
    may then run ``forward`` themselves."""
    return (model.is_container and type(model).__call__ is Layer.__call__ and torch.is_tensor(x)
            and "_keras_mask" not in x.__dict__ and model.__dict__.get("_compiled_call_impl") is None
            and not hooked(model) and accepts(model, "training"))


def hooked(module: nn.Module) -> bool:
    """Whether calling ``module`` runs hooks (its own or global ones): ``eval_call`` skips them, so a
    hooked module always takes the full call."""
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                or module._backward_pre_hooks or _nn_module._global_forward_hooks
                or _nn_module._global_forward_pre_hooks or _nn_module._global_backward_hooks
                or _nn_module._global_backward_pre_hooks)


def accepts(layer: nn.Module, argument: str) -> bool:
    """Whether ``layer.forward`` takes ``argument`` (``mask``, ``training``); cached per class."""
    key = (type(layer), argument)
    if key not in _ACCEPTS:
        _ACCEPTS[key] = argument in inspect.signature(layer.forward).parameters
    return _ACCEPTS[key]


def implicit_mask(inputs: Any) -> Any:
    """The ``_keras_mask`` carried by a tensor (or a list of masks for a list of tensors), or None."""
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return None if all(m is None for m in masks) else masks
    return getattr(inputs, "_keras_mask", None)


def attach_mask(outputs: Any, mask: Any) -> None:
    """Attach ``mask`` to tensor outputs, as Keras does: never over a mask an output already has."""
    if mask is None:
        return
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] + [None] * (len(outputs) - 1)
        for out, m in zip(outputs, masks):
            attach_mask(out, m)
    elif torch.is_tensor(outputs) and getattr(outputs, "_keras_mask", None) is None:
        outputs._keras_mask = mask


def declared_input_shape(input_shape, batch_input_shape, batch_size, input_dim) -> tuple | None:
    """Combine Keras's input declarations into one ``(batch, ...)`` shape, or None."""
    if batch_input_shape is not None:
        return tuple(batch_input_shape)
    if input_shape is not None:
        return (batch_size, *tuple(input_shape))
    if input_dim is not None:
        return (batch_size, None, int(input_dim))
    return None


