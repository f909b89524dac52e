"""``Model``: a functional graph of layers (``Model(inputs, outputs)``) or a subclass with its own ``call``.

Both are ``torch.nn.Module``s and lstmkit ``Layer``s: call them on tensors or NumPy, nest them inside
other models, and read ``layers``, ``get_weights()`` (Keras's order), ``summary()``, ``get_config()`` /
``to_json()`` and ``reset_states()`` (every stateful layer inside, at any depth).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import _validation
from ..layers.base import Layer, accepts, eval_call_of, eval_calls_allowed
from ..layers.input_layer import InputLayer
from ..layers.rnn.rnn import RNN
from ..layers.symbolic import KerasTensor, flatten, map_structure
from . import graph, input_checks, summary
from ..trainers.legacy import LegacyMethods
from ..trainers.trainer import Trainer


class Model(LegacyMethods, Trainer, Layer):
    """A model: ``Model(inputs=Input(...), outputs=layer(...)(...))`` or a subclass defining ``call``.

    Args:
        inputs: a symbolic tensor from ``Input(...)`` or a list (or dict) of them.
        outputs: a symbolic tensor built from the inputs by calling layers, or a list (or dict) of them.
        name: the model's name.

    Call arguments:
        inputs: a tensor / NumPy array, a list matching ``inputs``, or a dict keyed by input name.
        training: dropout on or off; None follows ``train()`` / ``eval()``.
    Returns: one tensor, or a list (dict) matching ``outputs``.
    """

    keras_module, keras_class_name, keras_registered_name = "keras.src.models.functional", "Functional", "Functional"
    is_container = True  # its layers apply their own dtype policies

    def __init__(self, inputs: Any = None, outputs: Any = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._functional = inputs is not None or outputs is not None
        if self._functional:
            if inputs is None or outputs is None:
                raise _validation.value_error("Model", "inputs / outputs", "both, or neither (subclassing)",
                                              "only one of them")
            self._init_graph(inputs, outputs)

    # -- the functional graph ---------------------------------------------------------------------
    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        self._input_structure = inputs
        self._output_structure = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        self._nodes = graph.walk(self.outputs, self.inputs)
        self._graph_layers = nn.ModuleList(_unique(graph.ordered_layers(self._nodes)))
        self.built = True
        self._build_shape = self.inputs[0].shape if len(self.inputs) == 1 else [t.shape for t in self.inputs]

    @property
    def layers(self) -> list[Layer]:
        """The model's layers in Keras's order (a functional model's InputLayers included)."""
        if getattr(self, "_functional", False):
            return list(self._graph_layers)
        return [m for m in self.children() if isinstance(m, Layer)]

    def sublayers(self) -> list[Layer]:
        return self.layers

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index into ``layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise _validation.value_error(f"Model '{self.name}'", "get_layer", "the name of one of its layers "
                                      f"({', '.join(l.name for l in self.layers)})", repr(name))

    @property
    def weights(self) -> list[nn.Parameter]:
        seen, out = set(), []
        for layer in self.layers:  # a shared layer's weights once
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if not self._functional:
            call = getattr(self, "call", None)
            if call is None:
                raise NotImplementedError(f"{type(self).__name__} subclasses Model without inputs/outputs: "
                                          "define call(self, inputs) (or forward).")
            outputs = call(inputs, training=training) if accepts_call(call, "training") else call(inputs)
            self.built = True  # a subclassed model is built by its first call, as in Keras
            return outputs
        training = self.training if training is None else bool(training)
        values: dict[int, Any] = {}
        for tensor, value in zip(self.inputs, self._flat_inputs(inputs)):
            values[id(tensor)] = value
        resolve = lambda o: values[id(o)] if isinstance(o, KerasTensor) else o  # noqa: E731
        inferring = eval_calls_allowed(training, mask)
        for node in self._nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args = map_structure(resolve, node.args)
            kwargs = {k: map_structure(resolve, v) for k, v in node.kwargs.items()
                      if k != "training" and not (k == "mask" and v is None)}
            result = eval_call_of(node.layer, args[0]) if inferring and len(args) == 1 and not kwargs \
                else NotImplemented  # a layer's inference without the per-call checks it has settled
            if result is NotImplemented:
                if accepts(node.layer, "training"):
                    kwargs["training"] = training
                result = node.layer(*args, **kwargs)
            result = result if isinstance(result, (list, tuple)) else [result]
            for tensor, value in zip(node.outputs, result):
                values[id(tensor)] = value
        return map_structure(resolve, self._output_structure)

    def _flat_inputs(self, inputs: Any) -> list[torch.Tensor]:
        if isinstance(inputs, dict):
            missing = [t.name for t in self.inputs if t.name not in inputs]
            if missing:
                raise _validation.value_error(f"Model '{self.name}'", "inputs", "a value for every input",
                                              f"a dict without {missing}")
            inputs = [inputs[t.name] for t in self.inputs]
        elif not isinstance(inputs, (list, tuple)) or len(self.inputs) == 1 and _is_data(inputs):
            inputs = [inputs]
        if len(inputs) != len(self.inputs):
            raise _validation.value_error(f"Model '{self.name}'", "inputs", f"{len(self.inputs)} inputs "
                                          f"{[t.shape for t in self.inputs]}", f"{len(inputs)}")
        device = next((p.device for p in self.parameters()), None)
        values = [_to_tensor(v, t.dtype, device) for v, t in zip(inputs, self.inputs)]
        input_checks.check_declared(f"Model '{self.name}'", [tuple(t.shape) for t in self.inputs],
                                    [t.name for t in self.inputs], values)
        return values

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not self._functional:
            raise NotImplementedError(f"{type(self).__name__}: a subclassed model has no symbolic shapes.")
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        batch = shapes[0][0] if shapes and shapes[0] else None
        out = [(batch, *t.shape[1:]) for t in self.outputs]
        return out[0] if len(out) == 1 and not isinstance(self._output_structure, (list, tuple)) else out

    @property
    def input(self) -> Any:
        """Keras's ``model.input``: the inputs as given to ``Model(inputs, ...)`` (a list stays a list), the
        Input of a Sequential model. Build new models from it: ``Model(model.input[0], model.layers[2].output)``."""
        return self._symbolic_structure("input")

    @property
    def output(self) -> Any:
        """Keras's ``model.output``: the outputs as given to ``Model(..., outputs)``."""
        return self._symbolic_structure("output")

    def _symbolic_structure(self, kind: str) -> Any:
        if getattr(self, "_functional", False):
            return self._input_structure if kind == "input" else self._output_structure
        tensors = getattr(self, kind + "s", None) or []
        if not tensors:
            self._symbolic_shapes(kind, tensors)  # raises: no symbolic inputs / outputs
        return tensors[0] if len(tensors) == 1 else list(tensors)

    @property
    def input_shape(self) -> Any:
        """Keras's ``model.input_shape``: ``(None, timesteps, features)``, a list for several inputs."""
        return self._symbolic_shapes("input", getattr(self, "inputs", None) or [])

    @property
    def output_shape(self) -> Any:
        """Keras's ``model.output_shape``: e.g. ``(None, 80, 1)``, a list for several outputs."""
        return self._symbolic_shapes("output", getattr(self, "outputs", None) or [])

    def _symbolic_shapes(self, kind: str, tensors: list) -> Any:
        if not tensors:
            # ValueError: an AttributeError raised in a property is replaced by nn.Module.__getattr__'s own
            raise _validation.InputError(f"{type(self).__name__} '{self.name}' has no defined {kind} shape: a subclassed "
                                 "model, or a Sequential model without an input shape. Give the first layer "
                                 "input_shape=... (or start with Input(...)), or call the model on data and use "
                                 f"the {kind} tensors' shapes.")
        shapes = [tuple(t.shape) for t in tensors]
        return shapes[0] if len(shapes) == 1 else shapes

    # -- state, summary, config -------------------------------------------------------------------
    def reset_states(self, *, slots: Any = None) -> None:
        """Reset every stateful recurrent layer in the model, nested models and wrappers included.

        ``slots`` (lstmkit): zero only those batch slots (a new sequence starts there; the others go on).
        """
        for module in self.modules():
            if isinstance(module, RNN) and module.stateful:
                module.reset_states(slots=slots)

    reset_state = reset_states

    def summary(self, line_length: int | None = None, print_fn: Any = None) -> str:
        """Print (and return) Keras's layer table: names, output shapes, parameter counts, totals."""
        text = summary.render(self, line_length)
        (print_fn or print)(text)
        return text

    def get_config(self) -> dict:
        from ..saving import serialization

        return serialization.functional_config(self)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        from ..saving import serialization

        return serialization.functional_from_config(config, custom_objects, cls)

    # -- files --------------------------------------------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True, include_optimizer: bool = True) -> None:
        """Save the model: lstmkit's archive (config JSON + safetensors weights + optimizer state), or Keras's
        ``.keras`` / legacy ``.h5`` by suffix. Atomic: a crash mid-save leaves the previous file intact."""
        from pathlib import Path

        from ..saving import saving_api as saving

        if not overwrite and Path(filepath).exists():
            raise FileExistsError(f"{filepath} exists and overwrite=False.")
        saving.save_model(self, filepath, include_optimizer=include_optimizer)

    def export(self, filepath: Any, format: str = "onnx", verbose: bool | None = None,
               input_signature: Any = None, **kwargs: Any) -> None:
        """Export for inference (Keras 3's ``Model.export``): ``format="onnx"`` (onnxruntime) or ``"torch"``
        (``torch.export``); ``states=True`` exposes the recurrent states. See ``models.export``."""
        from ..export.export import export_model

        export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Weights only: safetensors (any suffix but .h5), or Keras's ``.weights.h5`` layout."""
        from pathlib import Path

        from ..saving import saving_api as saving

        if not overwrite and Path(filepath).exists():
            raise FileExistsError(f"{filepath} exists and overwrite=False.")
        saving.save_weights(self, filepath)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False) -> None:
        """Load weights saved by ``save_weights`` / ``save`` or by Keras (``.weights.h5``, ``.h5``, ``.keras``)."""
        from ..saving import saving_api as saving

        if skip_mismatch:
            raise _validation.value_error(f"Model '{self.name}'", "load_weights", "skip_mismatch=False",
                                          "skip_mismatch=True", "Every weight is checked; fix the architecture.")
        saving.load_weights(self, filepath)

    def to_json(self, **kwargs: Any) -> str:
        """The model's structure as Keras's ``model.to_json()`` writes it (weights not included)."""
        from ..saving import serialization

        return json.dumps(serialization.serialize_model(self), **kwargs)


def accepts_call(call: Any, argument: str) -> bool:
    import inspect

    return argument in inspect.signature(call).parameters


def _unique(layers: list[Layer]) -> list[Layer]:
    seen, out = set(), []
    for layer in layers:
        if id(layer) not in seen:
            seen.add(id(layer))
            out.append(layer)
    return out


def _is_data(obj: Any) -> bool:
    return torch.is_tensor(obj) or isinstance(obj, np.ndarray)


def _to_tensor(value: Any, dtype: str, device: torch.device | None) -> torch.Tensor:
    """An input value as a tensor of the Input's dtype family (float inputs cast, integer ids kept)."""
    tensor = value if torch.is_tensor(value) else torch.as_tensor(np.asarray(value))
    if dtype.startswith("float") and tensor.dtype != (target := getattr(torch, dtype)):
        tensor = tensor.to(target)
    return tensor if device is None else tensor.to(device)
