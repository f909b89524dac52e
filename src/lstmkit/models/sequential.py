"""``Sequential``: a plain stack of layers, each feeding the next (subclassable, as seed 001 does).

Once the input shape is known (an ``Input``, ``input_shape=`` on the first layer, or the first call)
the stack is traced symbolically: every layer is built, every output shape is known for ``summary()``,
and a layer that cannot take its predecessor's output (an LSTM after an LSTM without
``return_sequences=True``) is reported at ``add()`` time, naming both layers and the fix.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch
from torch import nn

from .. import _validation
from ..layers.base import Layer, accepts, eval_call_of, eval_calls_allowed, train_call_of, train_calls_allowed
from ..layers.input_layer import InputLayer
from ..layers.symbolic import KerasTensor
from . import input_checks
from ..trainers import plan
from .model import Model, _to_tensor


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: layers to add in order (an ``Input(...)`` / ``InputLayer`` first is allowed).
        name: the model's name (``sequential``, ``sequential_1``... by default).

    Call: ``model(x (batch, ...), training=None, mask=None)`` runs the layers in order; masks produced by
    ``Masking`` / ``Embedding(mask_zero=True)`` flow to the layers that use them.
    """

    _is_sequential = True  # serialization, summary and the Keras files know a Sequential by this marker

    keras_module, keras_class_name, keras_registered_name = "keras", "Sequential", None

    def __init__(self, layers: Iterable[Layer] | None = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._functional = False
        self._layers = nn.ModuleList()
        self._input_layer: InputLayer | None = None
        self._symbolic: KerasTensor | None = None
        self._output_shapes: list[Any] = []
        self._input_from_data = False  # built from the first batch's shape: nothing declared to check against
        self.built = False
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def add(self, layer: Any) -> None:
        """Append a layer (or set the input with ``Input(...)`` / ``InputLayer`` before any layer)."""
        if isinstance(layer, KerasTensor) and isinstance(layer.history[0], InputLayer):
            layer = layer.history[0]
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or len(self._layers):
                raise _validation.value_error(f"Sequential '{self.name}'", "add", "an input only as the first "
                                              "entry", f"InputLayer '{layer.name}' after other layers")
            self._input_layer = layer
            self._trace()
            return
        if not isinstance(layer, Layer):
            raise _validation.type_error(f"Sequential '{self.name}'", "add", "an lstmkit layer",
                                         type(layer).__name__, "Wrap torch modules in a Layer subclass.")
        if any(existing.name == layer.name for existing in self._layers):
            raise _validation.value_error(f"Sequential '{self.name}'", "add", "layers with unique names",
                                          f"a second layer named {layer.name!r}")
        if self._input_layer is None and not len(self._layers) and layer._batch_input_shape is not None:
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape)
            self._trace()
        if self._symbolic is not None:
            self._trace_layer(layer)  # raises for an incompatible layer before it joins the model
        self._layers.append(layer)

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not len(self._layers):
            raise _validation.value_error(f"Sequential '{self.name}'", "pop", "a model with layers", "an empty one")
        layer = self._layers[-1]
        del self._layers[-1]
        plan.bump()  # a removal is not a registration: cached model plans must see it
        self._trace()
        return layer

    # -- shapes -----------------------------------------------------------------------------------
    def _trace(self) -> None:
        """Trace all layers from the input (after the input is set or a layer removed)."""
        self._output_shapes = []
        self._symbolic = self._input_layer.output if self._input_layer is not None else None
        self.built = self._symbolic is not None
        if self._symbolic is not None:
            self._build_shape = self._input_layer.batch_shape
            for layer in self._layers:
                self._trace_layer(layer)

    def _trace_layer(self, layer: Layer) -> None:
        self._symbolic = layer(self._symbolic)
        out = self._symbolic
        self._output_shapes.append([t.shape for t in out] if isinstance(out, list) else out.shape)

    def build(self, input_shape: Any = None) -> None:
        if self._input_layer is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
            self._trace()

    def build_from_data(self, input_shape: tuple) -> None:
        """Build for the shape of the first batch seen: later batches may differ where the layers allow."""
        if self._input_layer is None:
            self.build(input_shape)
            self._input_from_data = True

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def inputs(self) -> list[KerasTensor]:
        return [self._input_layer.output] if self._input_layer is not None else []

    @property
    def outputs(self) -> list[KerasTensor]:
        return [self._symbolic] if self._symbolic is not None else []

    # -- call -------------------------------------------------------------------------------------
    def _single_input(self, inputs: Any) -> Any:
        """The one input array: a dict keyed by the input's name or a 1-element list hold it (as Keras)."""
        name = self._input_layer.name if self._input_layer is not None else None
        if isinstance(inputs, dict):
            if name is not None and name in inputs:
                return inputs[name]
            raise _validation.value_error(f"Sequential '{self.name}'", "inputs", "one array (or a dict keyed by "
                                          f"the input's name {name!r})" if name else "one array",
                                          f"a dict with keys {sorted(map(str, inputs))}",
                                          "A Sequential model has one input; pass the array itself.")
        if isinstance(inputs, (list, tuple)) and inputs and all(torch.is_tensor(v) or isinstance(v, np.ndarray)
                                                                for v in inputs):
            if len(inputs) == 1:
                return inputs[0]
            raise _validation.value_error(f"Sequential '{self.name}'", "inputs", "one array",
                                          f"a list of {len(inputs)} arrays of shapes "
                                          f"{[tuple(v.shape) for v in inputs]}",
                                          "Use the functional API (Model(inputs=[...], ...)) for several inputs.")
        return inputs

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        declared = self._input_layer
        x = inputs if type(inputs) is torch.Tensor else self._single_input(inputs)
        x = x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
        if declared is not None or x.is_floating_point():  # integer ids stay ids until an Input says
            x = _to_tensor(x, declared.input_dtype if declared is not None else "float32", None)
        if not self.built:
            self.build_from_data((None, *x.shape[1:]))
        elif not self._input_from_data and declared is not None:
            self._check_declared(declared, x)
        if mask is not None:
            x = x.view(x.shape)  # a new tensor object to carry the mask, the caller's stays untouched
            x._keras_mask = torch.as_tensor(mask).bool()
        training = self.training if training is None else bool(training)
        inferring = eval_calls_allowed(training, mask)
        direct = eval_call_of if inferring else train_call_of if train_calls_allowed(training, mask) else None
        return self._run_layers(x, training, direct)

    def train_call(self, x: torch.Tensor) -> Any:
        """``forward(x, training=True)`` for one tensor already of the input's dtype (what ``fit`` feeds):
        the declared-shape check kept, the layers' ``train_call``; ``NotImplemented`` for anything else."""
        declared = self._input_layer
        if (type(self).forward is not Sequential.forward or not self.built or declared is None
                or not declared.input_dtype.startswith("float") or x.dtype != getattr(torch, declared.input_dtype)):
            return NotImplemented
        if not self._input_from_data:
            self._check_declared(declared, x)
        return self._run_layers(x, True, train_call_of)

    def _check_declared(self, declared: InputLayer, x: torch.Tensor) -> None:
        """``input_checks.check_declared`` for the one input; an input of exactly the declared shape (the
        batch free) passes without building the message (every call runs this); any other shape, None
        dims included, gets the full check."""
        if x.dim() != len(declared.batch_shape) or x.shape[1:] != declared.batch_shape[1:]:
            input_checks.check_declared(f"Sequential '{self.name}'", [declared.batch_shape], [declared.name], [x])

    def _run_layers(self, x: Any, training: bool, direct: Any) -> Any:
        for layer in self._layers:
            y = direct(layer, x) if direct is not None else NotImplemented  # skips the checks it has settled
            if y is NotImplemented:
                y = layer(x, training=training) if accepts(layer, "training") else layer(x)
            x = y
        return x

    # -- config -----------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from ..saving.serialization import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from ..saving.serialization import sequential_from_config

        return sequential_from_config(config, custom_objects, cls)
