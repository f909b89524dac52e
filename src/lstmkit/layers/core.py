"""Keras 3's core layers: ``Dense``, ``Activation``, ``Dropout``, ``Masking``, ``Embedding``, ``Lambda``.

Also the small helpers the other non-recurrent layers share (input conversion, owner names, the
activity-regularizer bookkeeping, the Keras config position of ``activity_regularizer``).
"""

from __future__ import annotations

import inspect
import numbers
import sys
import types
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .. import _validation
from ..ops import activations
from ..ops import constraints as constraints_mod
from ..ops import initializers as initializers_mod
from ..ops import regularizers as regularizers_mod
from ..ops import safe_mode as safety
from ..ops.serialization import insert_after
from .base import Layer


# -- helpers shared by core, conv, reshaping and merging ------------------------------------------
def to_tensor(inputs: Any, dtype: torch.dtype, device: torch.device | None = None,
              cast_all: bool = False) -> torch.Tensor:
    """A tensor from a tensor / NumPy array / nested list; floating values (every value when
    ``cast_all``) cast to ``dtype``; moved to ``device`` when given. Integer inputs stay integers."""
    x = inputs if torch.is_tensor(inputs) else torch.as_tensor(np.asarray(inputs))
    if device is not None and x.device != device:
        x = x.to(device)
    if (cast_all or x.is_floating_point()) and x.dtype != dtype:
        x = x.to(dtype)
    return x


def owner_of(layer: Layer) -> str:
    """``"Dense 'dense_2'"``: how error messages name a layer."""
    return f"{type(layer).__name__} '{layer.name}'"


def seeded_generator(layer: Layer, device: torch.device) -> torch.Generator | None:
    """``layer``'s own generator on ``device``, seeded with ``layer.seed`` on first use; None (torch's global
    RNG) when the seed is None. Why: every seeded random layer draws reproducibly per device this one way;
    the layer keeps the generators in ``layer._generators``."""
    if layer.seed is None:
        return None
    if device not in layer._generators:
        layer._generators[device] = torch.Generator(device=device).manual_seed(layer.seed)
    return layer._generators[device]


def record_activity(layer: Layer, regularizer: Any, outputs: torch.Tensor) -> None:
    """The activity penalty of this call (Keras adds ``regularizer(output)`` to ``losses``)."""
    layer._activity_losses = [regularizer(outputs)] if regularizer is not None else []


def place_activity_regularizer(config: dict, regularizer: Any, always: bool = False) -> dict:
    """Keras's key order: a set ``activity_regularizer`` follows ``dtype`` (the base Layer writes it
    first); an unset one is written only by layers that always write it (``always``), in place."""
    if regularizer is not None:
        return insert_after(config, "dtype", "activity_regularizer", regularizers_mod.serialize(regularizer))
    if always and "activity_regularizer" not in config:
        config["activity_regularizer"] = None
    return config


# Each weight's options, in the order Keras's layers take and write them.
_WEIGHT_OPTIONS = (("initializer", initializers_mod), ("regularizer", regularizers_mod),
                   ("constraint", constraints_mod))


def set_weight_options(layer: Layer, arguments: dict, weights: Sequence[str] = ("kernel", "bias"),
                       initialized_only: Sequence[str] = ()) -> None:
    """Sets ``layer.<weight>_initializer`` / ``_regularizer`` / ``_constraint`` for each of ``weights`` (only
    the initializer for ``initialized_only``, such as BatchNormalization's moving statistics), and
    ``activity_regularizer`` when ``arguments`` (the constructor's ``locals()``) has one, through each
    module's ``get``.

    Why: Dense, Conv1D, Embedding, MultiHeadAttention, the normalization layers and the recurrent cells take
    the same per-weight options; they are resolved once here, initializers first, then regularizers (the
    activity one last), then constraints.
    """
    for kind, module in _WEIGHT_OPTIONS:
        names = [f"{weight}_{kind}" for weight in (*weights, *(initialized_only if kind == "initializer" else ()))]
        if kind == "regularizer" and "activity_regularizer" in arguments:
            names.append("activity_regularizer")
        for name in names:
            setattr(layer, name, module.get(arguments[name]))


def weight_options_config(layer: Layer, weights: Sequence[str] = ("kernel", "bias"),
                          initialized_only: Sequence[str] = (), activity: bool = False) -> dict:
    """Keras's config entries for the options ``set_weight_options`` set, in the same order
    (``activity_regularizer`` after the weight regularizers when ``activity``)."""
    config = {}
    for kind, module in _WEIGHT_OPTIONS:
        for weight in (*weights, *(initialized_only if kind == "initializer" else ())):
            config[f"{weight}_{kind}"] = module.serialize(getattr(layer, f"{weight}_{kind}"))
        if kind == "regularizer" and activity:
            config["activity_regularizer"] = regularizers_mod.serialize(layer.activity_regularizer)
    return config


def reject_unsupported(owner: str, **arguments: Any) -> None:
    """Keras arguments lstmkit accepts only at their default (None): LoRA and quantization."""
    for name, value in arguments.items():
        if value is not None:
            raise _validation.value_error(owner, f"`{name}`", "None (LoRA and quantization are not "
                                          "implemented in lstmkit)", repr(value),
                                          f"Drop `{name}`; fine-tune the full weights instead.")


def declared_build(layer: Layer) -> None:
    """Build at construction when an input shape with a known last axis was declared (as RNN does)."""
    shape = layer._batch_input_shape
    if shape is not None and len(shape) > 0 and shape[-1] is not None:
        layer.maybe_build(shape)


# -- Dense ------------------------------------------------------------------------------------------
class Dense(Layer):
    """Densely-connected layer: ``activation(inputs @ kernel + bias)`` on the last axis.

    Args:
        units: size of the output's last axis.
        activation: name or callable; None is linear.
        use_bias: default True.
        kernel_initializer / bias_initializer: default ``"glorot_uniform"`` / ``"zeros"``.
        kernel_regularizer / bias_regularizer / activity_regularizer: penalties on ``losses``.
        kernel_constraint / bias_constraint: applied after optimizer steps.
        lora_rank / lora_alpha / quantization_config: accepted at None only (not implemented).

    Weights: ``kernel (features, units)``, ``bias (units,)``.
    Input ``(batch, ..., features)`` (rank >= 2) -> output ``(batch, ..., units)``; the same weights
    act on every position of the middle axes (e.g. every time step of a 3-D input).
    """

    supports_masking = True

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, quantization_config: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        reject_unsupported(owner, lora_rank=lora_rank, lora_alpha=lora_alpha,
                           quantization_config=quantization_config)
        self.units = _validation.positive_int(owner, "units", units)
        self.activation = activations.get(activation)
        self.use_bias = _validation.boolean(owner, "use_bias", use_bias)
        set_weight_options(self, locals())
        self._input_features: int | None = None

    lazy_input_rank = 2

    def build(self, input_shape: tuple) -> None:
        if not self._declaring and (len(input_shape) < 2 or input_shape[-1] is None):
            raise _validation.value_error(owner_of(self), "input", "shape (batch, ..., features) with a "
                                          "known number of features", f"shape {tuple(input_shape)}",
                                          "Give the input at least two axes, e.g. x.reshape(-1, 1).")
        features = None if self._declaring else int(input_shape[-1])  # None: declared uninitialized
        self.add_weight("kernel", (features, self.units), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer,
                            self.bias_constraint)
        else:
            self.bias = None
        self._input_features = features

    def forward(self, inputs: Any) -> torch.Tensor:
        """``(batch, ..., features)`` -> ``(batch, ..., units)``."""
        x = to_tensor(inputs, self.torch_dtype, cast_all=True)
        if x.ndim < 2:
            raise _validation.value_error(owner_of(self), "input", "shape (batch, ..., features)",
                                          _validation.describe_array(x),
                                          f"For one feature per sample use x.reshape({x.numel()}, 1).")
        self.maybe_build(tuple(x.shape))
        if x.shape[-1] != self._input_features:
            raise _validation.value_error(
                owner_of(self), "input", f"{self._input_features} features on the last axis (it was "
                "built for that)", f"{x.shape[-1]} features in an input of shape {tuple(x.shape)}",
                f"Feed (..., {self._input_features}) inputs, or create a new Dense for {x.shape[-1]}.")
        if x.device != self.kernel.device:
            x = x.to(self.kernel.device)
        y = torch.matmul(x, self.kernel)
        if self.bias is not None:
            y = y + self.bias
        y = self.activation(y)
        record_activity(self, self.activity_regularizer, y)
        return y

    def eval_call(self, x: torch.Tensor) -> Any:
        """``forward`` once built, for an input already of the weights' dtype, device and size."""
        return self._direct(x)

    def train_call(self, x: torch.Tensor) -> Any:
        """``forward`` in training: a Dense layer computes the same thing (gradients flow through the
        same ops); only the checks settled at build time are skipped."""
        return self._direct(x)

    def _direct(self, x: torch.Tensor) -> Any:
        if type(self).forward is not Dense.forward or not self.built:
            return NotImplemented
        weights = self._parameters  # a dict read: these run on every small inference call
        kernel, bias = weights.get("kernel"), weights.get("bias")
        if (kernel is None or ("bias" not in weights and self.use_bias)  # moved out (parametrize, prune)
                or self._provisional or self.activity_regularizer is not None
                or self._activity_losses or x.ndim < 2 or x.dtype != kernel.dtype or x.dtype != self.torch_dtype
                or x.device != kernel.device or x.shape[-1] != self._input_features):
            return NotImplemented
        y = torch.matmul(x, kernel)
        if bias is not None:
            y = y + bias
        return self.activation(y)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self),
            "quantization_config": None,
        })
        return place_activity_regularizer(config, self.activity_regularizer)


# -- Activation -------------------------------------------------------------------------------------
class Activation(Layer):
    """Applies ``activation`` (a Keras name or a callable) elementwise; any shape in, same shape out."""

    supports_masking = True
    writes_build_config = False  # Keras 3 marks it built at construction: no build_config saved

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.built = True  # no weights: Keras builds it at construction

    def forward(self, inputs: Any) -> torch.Tensor:
        return self.activation(to_tensor(inputs, self.torch_dtype))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


# -- Dropout ----------------------------------------------------------------------------------------
class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``rate`` and scale the kept ones
    by ``1 / (1 - rate)``; outside training, the identity.

    Args:
        rate: fraction of units to drop, in [0, 1).
        noise_shape: shape of the 0/1 mask broadcast over the input (``None`` entries take the input's
            size), e.g. ``(batch, 1, features)`` to drop the same features at every time step.
        seed: seed of a per-layer generator: a fresh layer with the same seed draws the same masks.

    Call: ``layer(x, training=None)``; ``training=None`` follows the module's ``train()`` / ``eval()``.
    """

    supports_masking = True
    writes_build_config = False  # Keras 3 marks it built at construction: no build_config saved

    def __init__(self, rate: float, noise_shape: Sequence[int | None] | None = None,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.rate = _validation.fraction(owner, "rate", rate)
        self.noise_shape = _noise_shape(owner, noise_shape)
        self.seed = None if seed is None else _validation.non_negative_int(owner, "seed", seed)
        self._generators: dict[torch.device, torch.Generator] = {}
        self.built = True  # no weights: Keras builds it at construction

    def forward(self, inputs: Any, training: bool | None = None) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0:
            return x
        keep = torch.full(self._mask_shape(x), 1.0 - self.rate,
                          dtype=x.dtype if x.is_floating_point() else self.torch_dtype, device=x.device)
        return x * torch.bernoulli(keep, generator=seeded_generator(self, x.device)) / (1.0 - self.rate)

    def eval_call(self, x: torch.Tensor) -> Any:
        """The identity (no dropout at inference) for an input already in the layer's dtype."""
        if type(self).forward is not Dropout.forward or (x.is_floating_point() and x.dtype != self.torch_dtype):
            return NotImplemented
        return x

    def _mask_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(x.shape)
        if len(self.noise_shape) != x.ndim:
            raise _validation.value_error(owner_of(self), "`noise_shape`", f"{x.ndim} entries (one per "
                                          "input axis)", repr(self.noise_shape))
        shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        if any(d not in (1, x.shape[i]) for i, d in enumerate(shape)):
            raise _validation.value_error(owner_of(self), "`noise_shape`", "sizes of 1 or equal to the "
                                          f"input's {tuple(x.shape)}", repr(self.noise_shape))
        return shape

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None else list(self.noise_shape)})
        return config


def _noise_shape(owner: str, noise_shape: Any) -> tuple | None:
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str) or not isinstance(noise_shape, (list, tuple)):
        raise _validation.type_error(owner, "`noise_shape`", "a tuple of positive integers or None",
                                     repr(noise_shape))
    for d in noise_shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, numbers.Integral) or d <= 0):
            raise _validation.value_error(owner, "`noise_shape`", "positive integers or None",
                                          repr(noise_shape), "Use e.g. noise_shape=(None, 1, None).")
    return tuple(None if d is None else int(d) for d in noise_shape)


# -- Masking ----------------------------------------------------------------------------------------
class Masking(Layer):
    """Marks time steps whose features all equal ``mask_value`` as skipped.

    Input ``(batch, timesteps, features)``; output the same with the skipped steps set to 0, carrying
    the mask ``(batch, timesteps)`` (True = keep) as ``_keras_mask`` for the layers that follow.
    """

    supports_masking = True
    writes_build_config = False  # Keras 3 marks it built at construction: no build_config saved

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def _keep(self, x: torch.Tensor, keepdim: bool) -> torch.Tensor:
        return torch.any(x != self.mask_value, dim=-1, keepdim=keepdim)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor:
        return self._keep(to_tensor(inputs, self.torch_dtype), keepdim=False)

    def forward(self, inputs: Any) -> torch.Tensor:
        x = to_tensor(inputs, self.torch_dtype)
        if x.dim() < 2:  # the last axis is the features compared with mask_value; a batch axis comes first
            raise _validation.value_error(owner_of(self), "input", "(batch, timesteps, features) or (batch, "
                                          "features)", _validation.describe_array(x),
                                          "Give the input a batch axis and a features axis.")
        self.maybe_build(tuple(x.shape))
        return x * self._keep(x, keepdim=True).to(x.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


# -- Embedding --------------------------------------------------------------------------------------
class Embedding(Layer):
    """Looks up row ``i`` of ``embeddings (input_dim, output_dim)`` for each integer index ``i``.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each vector.
        embeddings_initializer: default ``"uniform"`` (Keras's RandomUniform(-0.05, 0.05)).
        embeddings_regularizer / activity_regularizer / embeddings_constraint: as Dense's.
        mask_zero: index 0 is padding: the output carries the mask ``inputs != 0``.
        weights: optional initial matrix ``(input_dim, output_dim)`` (or a list holding it).
        lora_rank / lora_alpha / quantization_config: accepted at None only (not implemented).

    Input: integer indices of any shape ``(batch, ...)`` (whole-valued floats are accepted, as Keras
    casts them); output ``(batch, ..., output_dim)``.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, quantization_config: Any = None, **kwargs: Any):
        kwargs.pop("input_length", None)  # deprecated in Keras 3, ignored there too
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        super().__init__(**kwargs)
        owner = type(self).__name__
        reject_unsupported(owner, lora_rank=lora_rank, lora_alpha=lora_alpha,
                           quantization_config=quantization_config)
        self.input_dim = _validation.positive_int(owner, "input_dim", input_dim)
        self.output_dim = _validation.positive_int(owner, "output_dim", output_dim)
        set_weight_options(self, locals(), ("embeddings",))
        self.mask_zero = _validation.boolean(owner, "mask_zero", mask_zero)
        self.supports_masking = self.mask_zero
        if weights is not None:
            self.maybe_build((None, None))
            self.set_weights(weights if isinstance(weights, list) and len(weights) == 1 else [weights])

    lazy_input_rank = 2

    def build(self, input_shape: tuple | None = None) -> None:
        self.add_weight("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                        self.embeddings_regularizer, self.embeddings_constraint)

    def _indices(self, inputs: Any) -> torch.Tensor:
        x = inputs if torch.is_tensor(inputs) else torch.as_tensor(np.asarray(inputs))
        if x.is_floating_point() or x.is_complex():
            if x.is_complex() or not bool(torch.all(x == torch.round(x))):
                convert = "x.long()" if torch.is_tensor(inputs) else "x.astype('int64')"
                raise _validation.type_error(owner_of(self), "input", "integer indices in [0, input_dim)",
                                             f"non-integer values of dtype {x.dtype}",
                                             f"Embedding looks up rows by index; convert with {convert}.")
        x = x.long()
        if x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.input_dim):
            raise _validation.value_error(
                owner_of(self), "input", f"indices in [0, {self.input_dim}) (input_dim={self.input_dim})",
                f"indices from {int(x.min())} to {int(x.max())}",
                "Raise input_dim to the vocabulary size + 1, or fix the tokenization.")
        return x

    def forward(self, inputs: Any) -> torch.Tensor:
        """Integer ``(batch, ...)`` -> ``(batch, ..., output_dim)``."""
        x = self._indices(inputs)
        self.maybe_build(tuple(x.shape))
        out = torch.nn.functional.embedding(x.to(self.embeddings.device), self.embeddings)
        record_activity(self, self.activity_regularizer, out)
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        if not self.mask_zero:
            return None
        return self._indices(inputs) != 0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **weight_options_config(self, ("embeddings",), activity=True),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        })
        return place_activity_regularizer(config, self.activity_regularizer, always=True)


# -- Lambda -----------------------------------------------------------------------------------------
class Lambda(Layer):
    """Wraps a Python callable ``function(inputs, **arguments)`` as a layer.

    Args:
        function: called on the input tensor (or list of tensors); it also receives ``mask`` and
            ``training`` when its signature names them.
        output_shape: the output shape without the batch axis (a tuple, or a list of tuples for
            several outputs), or a callable ``input_shape -> output_shape``. When None,
            ``compute_output_shape`` runs ``function`` on zeros (unknown sizes set to two different
            sizes in two runs; sizes that follow them come back as None).
        mask: None (the output has no mask), a callable ``(inputs, mask) -> mask``, or a fixed mask.
        arguments: extra keyword arguments for ``function``.

    Serialization: ``get_config`` writes a named function (``def``) in Keras's form
    ``{"module", "class_name": "function", "config": name, "registered_name": name}``; ``from_config``
    finds it again in an already imported module (nothing is imported or executed). A ``lambda`` cannot
    be written (Keras would store its bytecode, which is unsafe to load): ``get_config`` raises.
    """

    def __init__(self, function: Callable, output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        if not callable(function):
            raise _validation.type_error(owner, "`function`", "a callable", repr(function))
        if arguments is not None and not isinstance(arguments, dict):
            raise _validation.type_error(owner, "`arguments`", "a dict of keyword arguments or None",
                                         repr(arguments))
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = _output_shape_argument(owner, output_shape)
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_takes_mask = "mask" in params
        self._fn_takes_training = "training" in params

    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        x = _map_inputs(lambda t: to_tensor(t, self.torch_dtype), inputs)
        self.maybe_build(_shapes(x))
        return self._call_function(x, mask, training)

    def _call_function(self, x: Any, mask: Any, training: bool | None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = self.training if training is None else bool(training)
        return self.function(x, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        if self._output_shape is not None:
            batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
            if isinstance(self._output_shape, list):
                return [(batch, *s) for s in self._output_shape]
            return (batch, *self._output_shape)
        return self._infer_output_shape(input_shape)

    def _infer_output_shape(self, input_shape: Any) -> Any:
        runs = []
        for size in (5, 8):
            zeros = _map_shapes(lambda s: torch.zeros([size if d is None else d for d in s],
                                                      dtype=self.torch_dtype), input_shape)
            try:
                with torch.no_grad():
                    out = self._call_function(zeros, None, False)
                runs.append(_shapes(out))
            except Exception as err:  # the function's own error: Keras asks for output_shape
                raise NotImplementedError(
                    f"{owner_of(self)}: could not infer the output shape by running the function on "
                    f"zeros ({type(err).__name__}: {err}). Pass output_shape=... to Lambda.") from err
        first, second = runs
        if isinstance(first, list):
            return [_merge_shapes(a, b) for a, b in zip(first, second)]
        return _merge_shapes(first, second)

    def _saved_output_shape(self, input_shape: Any) -> Any:
        """The inferred output shape without the batch axis (what ``output_shape`` takes)."""
        shape = self._infer_output_shape(input_shape)
        return [tuple(s[1:]) for s in shape] if isinstance(shape, list) else tuple(shape[1:])

    def get_config(self) -> dict:
        config = super().get_config()
        config["function"] = _function_config(self.function, owner_of(self), "function")
        shape = self._output_shape
        if shape is None and self.built and getattr(self, "_build_shape", None) is not None:
            shape = self._saved_output_shape(self._build_shape)  # so loading never has to call the function
        if shape is not None:
            config["output_shape"] = (_function_config(shape, owner_of(self), "output_shape")
                                      if callable(shape) else _json_shape(shape))
        if self.mask is not None:
            config["mask"] = (_function_config(self.mask, owner_of(self), "mask") if callable(self.mask)
                              else _tensor_config(self.mask))
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None,
                    safe_mode: bool | None = None) -> "Lambda":
        """The layer a config describes, its functions resolved as safe mode allows (see
        ``_load_function``); ``custom_objects`` / ``safe_mode`` default to the active loader's."""
        scope = safety.current()
        mode = safe_mode if safe_mode is not None else (scope.safe_mode if scope else True)
        with safety.loading(scope.source if scope else "the config", mode, custom_objects):
            return cls._from_config(config)

    @classmethod
    def _from_config(cls, config: dict) -> "Lambda":
        config = dict(config)
        layer = config.get("name") or "lambda"
        config["function"] = _keras2_function(config, "function", "function_type", "module")
        config["output_shape"] = _keras2_function(config, "output_shape", "output_shape_type",
                                                  "output_shape_module")
        for key in ("function_type", "module", "output_shape_type", "output_shape_module"):
            config.pop(key, None)  # Keras 2's bookkeeping keys
        config["function"] = _load_function(config["function"], "function", layer)
        if isinstance(config.get("output_shape"), dict):
            config["output_shape"] = _load_function(config["output_shape"], "output_shape", layer)
        mask = config.get("mask")
        if isinstance(mask, dict):
            config["mask"] = (_load_tensor(mask) if mask.get("class_name") == "__tensor__"
                              else _load_function(mask, "mask", layer))
        return cls(**config)


def _keras2_function(config: dict, key: str, type_key: str, module_key: str) -> Any:
    """Keras 2 wrote a named function as ``"function": "name"`` + ``"function_type": "function"`` +
    ``"module"``: the same as Keras 3's ``{"class_name": "function", ...}``; bytecode stays a list."""
    value = config.get(key)
    if config.get(type_key) == "function" and isinstance(value, str):
        return {"module": config.get(module_key), "class_name": "function", "config": value,
                "registered_name": None}
    if config.get(type_key) == "lambda" and value is not None:
        return {"class_name": "__lambda__", "config": value}
    return value


def _output_shape_argument(owner: str, output_shape: Any) -> Any:
    if output_shape is None or callable(output_shape):
        return output_shape
    if isinstance(output_shape, (list, tuple)) and output_shape and all(
            isinstance(s, (list, tuple)) for s in output_shape):
        return [tuple(s) for s in output_shape]
    if isinstance(output_shape, (list, tuple)):
        return tuple(output_shape)
    raise _validation.type_error(owner, "`output_shape`", "a tuple (without the batch axis), a list of "
                                 "tuples, a callable or None", repr(output_shape))


def _map_inputs(fn: Callable, inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        return [fn(t) for t in inputs]
    return fn(inputs)


def _map_shapes(fn: Callable, shape: Any) -> Any:
    if isinstance(shape, list) and shape and isinstance(shape[0], (list, tuple)):
        return [fn(s) for s in shape]
    return fn(shape)


def _shapes(x: Any) -> Any:
    if isinstance(x, (list, tuple)):
        return [tuple(t.shape) for t in x]
    return tuple(x.shape)


def _merge_shapes(a: tuple, b: tuple) -> tuple:
    """Sizes equal in both inference runs are real; sizes that followed the stand-in sizes are None."""
    if len(a) != len(b):
        return tuple([None] * len(a))
    return tuple(da if da == db else None for da, db in zip(a, b))


def _json_shape(shape: Any) -> Any:
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


def _function_config(fn: Callable, owner: str, what: str) -> dict:
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        raise _validation.value_error(
            owner, f"get_config (`{what}`)", "a named function (def)", "a lambda",
            "A lambda can only be saved as Python bytecode, which lstmkit does not write (unsafe to "
            "load). Define it with def at module level instead.")
    name = getattr(fn, "__name__", type(fn).__name__)
    return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
            "registered_name": name}


def _load_function(obj: Any, what: str, layer: str = "Lambda") -> Callable:
    """The function a config names, as safe mode allows (``ops/safe_mode.py``): the caller's
    ``custom_objects`` (or registered objects), else a Keras activation of lstmkit's own; with
    ``safe_mode=False`` also a function of a module the program has already imported. Nothing is
    imported, and bytecode is never loaded."""
    if callable(obj):
        return obj
    owner = f"Lambda.from_config ({layer}, loading {safety.source()})"
    if isinstance(obj, dict) and obj.get("class_name") == "__lambda__" or isinstance(obj, (list, tuple)):
        raise _validation.value_error(owner, f"`{what}`", "a named function",
                                      "a lambda saved as Python bytecode",
                                      "Loading bytecode can run arbitrary code; lstmkit never does, in any mode. "
                                      "Recreate the layer with Lambda(your_function) and load the weights.")
    if not (isinstance(obj, dict) and obj.get("class_name") == "function" and isinstance(obj.get("config"), str)):
        raise _validation.value_error(owner, f"`{what}`", 'a named function {"class_name": "function", '
                                      '"config": name, "module": ...}', repr(obj)[:200],
                                      "The file's config is damaged.")
    name, module_name = obj["config"], obj.get("module") or ""
    for key in (obj.get("registered_name"), name, f"{module_name}.{name}" if module_name else None):
        found = safety.custom_object(key) if isinstance(key, str) else None
        if found is not None:
            if not callable(found):
                raise _validation.type_error(owner, f"custom_objects[{key!r}]", "a function",
                                             f"{type(found).__name__}")
            return found
    if module_name in ("", "keras.activations", "keras.src.activations.activations", "lstmkit.ops.activations"):
        try:
            return activations.get(name)
        except ValueError:
            pass
    qualified = f"{module_name}.{name}" if module_name else name
    if not safety.safe_mode_on():
        module = sys.modules.get(module_name)  # already imported by the program; never imported here
        fn = getattr(module, name, None) if module is not None else None
        if callable(fn) and not isinstance(fn, type):
            return fn
        raise _validation.value_error(owner, f"`{what}`", "a function of a module this program has imported",
                                      repr(qualified), f"Import {module_name or 'its module'} first, or pass "
                                      f"custom_objects={{{name!r}: your_function}}.")
    raise _validation.value_error(
        owner, f"`{what}`", "a function safe mode allows (lstmkit's own activations, or one passed in "
        "custom_objects)", f"the name {qualified!r}",
        f"A file cannot make lstmkit call a function it names. If you trust this file and {qualified} is "
        f"yours, pass custom_objects={{{name!r}: {name}}} (or load with safe_mode=False, which also "
        "accepts functions of modules your program has imported).")


def _tensor_config(value: Any) -> dict:
    array = value.detach().cpu().numpy() if torch.is_tensor(value) else np.asarray(value)
    return {"class_name": "__tensor__", "config": {"value": array.tolist(), "dtype": str(array.dtype)}}


def _load_tensor(obj: dict) -> torch.Tensor:
    return torch.as_tensor(np.asarray(obj["config"]["value"], dtype=obj["config"].get("dtype")))
