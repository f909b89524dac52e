"""``model.export(path, format="onnx" | "torch")``: a trained model as a file that runs without lstmkit.

Keras 3's ``Model.export(filepath, format, verbose, input_signature, **kwargs)`` with two formats:

- ``"onnx"``: an ONNX graph for onnxruntime & co, written by ``torch.onnx.export`` (its TorchScript-based
  exporter, which keeps the recurrent layers as ONNX ``LSTM`` / ``GRU`` / ``RNN`` nodes, see
  ``models.export_rnn``). Batch and time axes are dynamic.
- ``"torch"``: a ``torch.export`` ``ExportedProgram`` saved with ``torch.export.save`` (load it with
  ``torch.export.load(path).module()``); the recurrences are ``scan`` loops, batch and time dynamic.

``states=True`` adds every recurrent layer's states as inputs and outputs, ``(x, h, c) -> (y, h, c)``,
so that a caller streams a sequence chunk by chunk (each chunk's output states fed to the next call).

The file is written to a temporary name, checked (``verify=True``: the exported program against the
model's own outputs at another batch size and length), then moved into place, so a failed export
leaves any earlier file untouched. What cannot be exported raises ``ValueError`` naming the layer.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from .. import _validation
from ..layers.core import Embedding
from ..layers.merging import _Merge
from ..layers.rnn.rnn import RNN
from ..layers.rnn.wrappers import Bidirectional
from . import rnn as export_rnn

FORMATS = ("onnx", "torch")
DEFAULT_OPSET = 17
_EXAMPLE_STEPS = 5  # the traced length where the model does not declare one


def export_model(model: Any, filepath: Any, format: str = "onnx", verbose: bool | None = None,
                 input_signature: Any = None, *, states: bool = False, opset_version: int | None = None,
                 verify: bool = True) -> None:
    """Export ``model`` for inference (see the module docstring).

    Args:
        filepath: where to write (``.onnx`` / ``.pt2`` by convention; any name is accepted).
        format: ``"onnx"`` or ``"torch"``.
        verbose: print where the file went (Keras's default for these formats: True).
        input_signature: one entry per model input, each an example tensor / array or anything with
            ``shape`` and ``dtype`` (``Input(...)``): the trace shapes. Default: the model's inputs.
        states: also take and return the states of every recurrent layer (streaming inference).
        opset_version: ONNX opset (default 17).
        verify: run the exported file against the model at another batch size and length before
            moving it into place (needs onnxruntime for ONNX).
    """
    owner = f"{type(model).__name__}.export"
    format = _validation.choice(owner, "format", format, FORMATS)
    states = _validation.boolean(owner, "states", states)
    path = Path(os.fspath(filepath))
    if path.is_dir():
        raise _validation.value_error(owner, "filepath", "a file name", f"the folder {str(path)!r}",
                                      "Name the file to write, e.g. model.onnx.")
    examples = _example_inputs(model, input_signature)
    layers = recurrent_layers(model)
    if format == "onnx":
        for layer in layers:
            reason = export_rnn.onnx_unsupported_reason(layer)
            if reason is not None:
                raise _validation.InputError(f"{type(layer).__name__} '{layer.name}' cannot be exported to ONNX: {reason}.")
    wrapper = ExportModule(model, len(examples), layers if states else [], format)
    state_examples = wrapper.zero_states(examples[0].shape[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = ".tmp.pt2" if format == "torch" else ".tmp.onnx"  # torch.export.save wants a .pt2 name
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(handle)
    args = tuple(examples) + tuple(state_examples)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    try:
        model.cpu()  # traced and checked on CPU; the parameters move back (in place) below
        dynamic = [_dynamic_axes(model, examples, i) for i in range(len(examples))]
        timed = _outputs_with_time(wrapper, args, dynamic)
        with _export_mode(model, wrapper, format):
            if format == "onnx":
                _write_onnx(wrapper, args, dynamic, timed, temp, opset_version or DEFAULT_OPSET)
            else:
                _write_torch(wrapper, args, dynamic, temp)
        if verify:
            verify_export(model, temp, format, examples, dynamic, wrapper)
        os.replace(temp, path)
    finally:
        model.to(device)
        if os.path.exists(temp):
            os.remove(temp)
    if verbose is None or verbose:
        print(f"Saved artifact at '{path}'.")


def recurrent_layers(model: Any) -> list[RNN]:
    """Every ``RNN`` in the model (a Bidirectional's two directions each), in module order."""
    return [m for m in model.modules() if isinstance(m, RNN)]


class ExportModule(torch.nn.Module):
    """``model`` as ``forward(*inputs, *states) -> (*outputs, *final_states)`` for the tracers.

    With ``layers`` (``states=True``), layer ``i``'s initial states are inputs and its final states
    are outputs, in the order of ``state_names``.
    """

    def __init__(self, model: Any, n_inputs: int, layers: list[RNN], format: str):
        super().__init__()
        self.model, self.n_inputs, self.layers, self.format = model, n_inputs, list(layers), format
        self.feed: dict[int, list[torch.Tensor]] = {}
        self.finals: dict[int, list[torch.Tensor]] = {}
        self.n_outputs = 0

    def state_names(self) -> list[str]:
        kinds = lambda layer: ["h", "c"] if len(layer.state_size) == 2 else ["h"]  # noqa: E731
        return [f"{layer.name}/{k}" for layer in self.layers for k in kinds(layer)]

    def zero_states(self, batch: int) -> list[torch.Tensor]:
        dtype = next((p.dtype for p in self.model.parameters()), torch.float32)
        return [torch.zeros(batch, size, dtype=dtype) for layer in self.layers for size in layer.state_size]

    def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
        inputs, flat_states = list(args[:self.n_inputs]), list(args[self.n_inputs:])
        self.feed, self.finals = {}, {}
        for layer in self.layers:
            count = len(layer.state_size)
            self.feed[id(layer)], flat_states = flat_states[:count], flat_states[count:]
        output = self.model(inputs[0] if len(inputs) == 1 else inputs, training=False)
        outputs = list(output) if isinstance(output, (list, tuple)) else [output]
        self.n_outputs = len(outputs)
        missing = [layer.name for layer in self.layers if id(layer) not in self.finals]
        if missing:
            raise _validation.InputError(f"states=True: the recurrent layers {missing} were not called by the model, "
                             "so their states cannot be outputs. Export with states=False.")
        finals = tuple(s for layer in self.layers for s in self.finals[id(layer)])
        self.feed, self.finals = {}, {}  # no tensors left on the module (torch.export checks)
        return tuple(outputs) + finals


@contextlib.contextmanager
def _export_mode(model: Any, wrapper: ExportModule, format: str) -> Iterator[None]:
    """Route every recurrent layer through the export recurrence for the duration of a trace.

    Instance attributes shadow ``RNN._recur`` / ``_initial_states`` and ``Bidirectional.dispatch``
    (two calls: one node per direction); all are removed, and stateful memories and the model's
    train/eval mode restored, on exit.
    """
    recur = {"onnx": export_rnn.recur_onnx, "torch": export_rnn.recur_scan,
             "reference": lambda layer, x, states, mask: RNN._recur(layer, x, states, mask, False)}[format]
    layers = recurrent_layers(model)
    saved = [(layer, layer.states) for layer in layers]
    training = model.training
    streamed = {id(layer) for layer in wrapper.layers}

    def patch(layer: RNN) -> None:
        original_initial = layer._initial_states

        def initial_states(x, initial_state):
            if id(layer) in streamed and initial_state is None:
                if id(layer) not in wrapper.feed:
                    raise _validation.InputError(f"states=True: {type(layer).__name__} '{layer.name}' is called more than "
                                     "once by the model; one state input cannot feed several calls.")
                return [s.to(x.dtype) for s in wrapper.feed.pop(id(layer))]
            if layer.stateful and initial_state is None:  # each exported call starts a fresh sequence
                return [torch.zeros(x.shape[0], size, dtype=x.dtype) for size in layer.state_size]
            return original_initial(x, initial_state)

        def recur_(x, states, mask, training):
            outputs, final = recur(layer, x, states, mask)
            if id(layer) in streamed:
                wrapper.finals[id(layer)] = final
            if format != "reference":
                layer.last_path = f"export-{format}"
            return outputs, final

        layer._initial_states = initial_states
        layer._recur = recur_

    try:
        model.eval()
        for layer in layers:
            patch(layer)
        for module in model.modules():
            if isinstance(module, Bidirectional):
                module.dispatch = lambda *a, **k: ("two_calls", "export: one node per direction")
            if isinstance(module, Embedding):  # its range check reads the data; the runtimes' gathers check
                module._indices = lambda inputs: inputs.long()
            if isinstance(module, _Merge) and format == "onnx":  # per-call size checks (done at build) would
                module.build = lambda input_shape: None  # compare the TorchScript tracer's size tensors
        yield
    finally:
        for layer, memory in saved:
            layer.__dict__.pop("_recur", None)
            layer.__dict__.pop("_initial_states", None)
            layer.states = memory
        for module in model.modules():
            module.__dict__.pop("dispatch", None) if isinstance(module, Bidirectional) else None
            module.__dict__.pop("_indices", None) if isinstance(module, Embedding) else None
            module.__dict__.pop("build", None) if isinstance(module, _Merge) else None
        model.train(training)


# -- inputs -----------------------------------------------------------------------------------------
def _example_inputs(model: Any, input_signature: Any) -> list[torch.Tensor]:
    """One example tensor per model input (batch 2), from ``input_signature`` or the model's inputs."""
    owner = f"{type(model).__name__}.export"
    if input_signature is None:
        specs = list(getattr(model, "inputs", None) or [])
        if not specs:
            raise _validation.value_error(
                owner, "input_signature", "a built model with known inputs, or an input_signature",
                "a model without declared inputs",
                "Give input_signature=[Input((timesteps, features))] or an example array, or build the model "
                "with input_shape / an Input layer.")
    else:
        specs = list(input_signature) if isinstance(input_signature, (list, tuple)) else [input_signature]
    return [_example(spec, owner) for spec in specs]


def _example(spec: Any, owner: str) -> torch.Tensor:
    if torch.is_tensor(spec) or isinstance(spec, np.ndarray):
        return torch.as_tensor(spec)
    shape, dtype = getattr(spec, "shape", None), getattr(spec, "dtype", "float32")
    if shape is None:
        raise _validation.type_error(owner, "input_signature", "tensors, arrays or Input(...) specs",
                                     type(spec).__name__)
    shape = list(shape)
    sizes = [2] + [(_EXAMPLE_STEPS if i == 0 else 1) if d is None else int(d) for i, d in enumerate(shape[1:])]
    dtype = str(dtype).replace("torch.", "")
    if "int" in dtype:
        return torch.ones(sizes, dtype=getattr(torch, dtype))
    generator = torch.Generator().manual_seed(0)
    return torch.randn(sizes, generator=generator).to(getattr(torch, dtype))


def _dynamic_axes(model: Any, examples: list[torch.Tensor], index: int) -> dict[int, str]:
    """Batch is always dynamic; time (axis 1 of a sequence input) where the model runs at another length."""
    x = examples[index]
    axes = {0: "batch"}
    sequence = x.ndim >= 3 or (x.ndim == 2 and not x.is_floating_point())
    if sequence and _runs_at(model, examples, index, x.shape[1] + 2):
        axes[1] = "time" if len(examples) == 1 else f"time_{index}"
    return axes


def _runs_at(model: Any, examples: list[torch.Tensor], index: int, steps: int) -> bool:
    probe = list(examples)
    probe[index] = _resize_time(examples[index], steps)
    saved = [(layer, layer.states) for layer in recurrent_layers(model)]
    training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(probe[0] if len(probe) == 1 else probe, training=False)
        return True
    except (ValueError, RuntimeError, TypeError):
        return False
    finally:
        model.train(training)
        for layer, memory in saved:
            layer.states = memory


def _resize_time(x: torch.Tensor, steps: int) -> torch.Tensor:
    reps = [1] * x.ndim
    reps[1] = -(-steps // x.shape[1])
    return x.repeat(*reps)[:, :steps]


# -- writers ----------------------------------------------------------------------------------------
def _names(wrapper: ExportModule, examples: int) -> tuple[list[str], list[str]]:
    model = wrapper.model
    declared = [getattr(t, "name", None) for t in (getattr(model, "inputs", None) or [])]
    inputs = [d if d else f"input_{i}" for i, d in enumerate(declared)] if len(declared) == examples else []
    inputs = inputs or (["input"] if examples == 1 else [f"input_{i}" for i in range(examples)])
    outputs = ["output"] if wrapper.n_outputs == 1 else [f"output_{i}" for i in range(wrapper.n_outputs)]
    states = wrapper.state_names()
    return inputs + [f"state_in/{s}" for s in states], outputs + [f"state_out/{s}" for s in states]


def _write_onnx(wrapper: ExportModule, args: tuple, dynamic: list[dict], timed: list[bool], path: str,
                opset: int) -> None:
    input_names, output_names = _names(wrapper, len(dynamic))
    axes = {name: axes for name, axes in zip(input_names, dynamic)}
    for name in input_names[len(dynamic):] + output_names:
        axes[name] = {0: "batch"}
    time = next((a[1] for a in dynamic if 1 in a), None)
    for name, has_time in zip(output_names, timed):
        if has_time and time:
            axes[name] = {0: "batch", 1: time}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation and tracer notes
        torch.onnx.export(wrapper, args, path, dynamo=False, input_names=input_names,
                          output_names=output_names, dynamic_axes=axes, opset_version=opset,
                          do_constant_folding=True)


def _outputs_with_time(wrapper: ExportModule, args: tuple, dynamic: list[dict]) -> list[bool]:
    """Which outputs have a time axis: those whose axis 1 follows the inputs' length."""
    n = len(dynamic)
    longer = [_resize_time(x, x.shape[1] + 1) if 1 in axes else x for x, axes in zip(args[:n], dynamic)]
    with torch.no_grad(), _export_mode(wrapper.model, wrapper, "reference"):
        short, long = wrapper(*args), wrapper(*longer, *args[n:])
    return [a.ndim > 1 and a.shape[1] != b.shape[1] for a, b in zip(short, long)]


def _write_torch(wrapper: ExportModule, args: tuple, dynamic: list[dict], path: str) -> None:
    dims: dict[str, Any] = {}

    def dim(name: str) -> Any:
        if name not in dims:
            dims[name] = torch.export.Dim(name.replace("/", "_"), min=1)
        return dims[name]

    shapes = [{axis: dim(name) for axis, name in axes.items()} for axes in dynamic]
    shapes += [{0: dim("batch")} for _ in args[len(dynamic):]]
    with torch.no_grad():
        program = torch.export.export(wrapper, args, dynamic_shapes=(tuple(shapes),))  # forward(*args)
    torch.export.save(program, path)


# -- verification -----------------------------------------------------------------------------------
def run_exported(path: str, format: str, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs of an exported file on NumPy inputs (onnxruntime for ONNX, the program for torch)."""
    if format == "onnx":
        try:
            import onnxruntime
        except ImportError as error:
            raise ImportError("checking the ONNX file needs onnxruntime: pip install 'lstmkit[export]' "
                              "(or export with verify=False)") from error
        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        return session.run(None, dict(zip(names, arrays)))
    module = torch.export.load(path).module()
    with torch.no_grad():
        return [t.numpy() for t in module(*[torch.from_numpy(a) for a in arrays])]


def verify_export(model: Any, path: str, format: str, examples: list[torch.Tensor], dynamic: list[dict],
                  wrapper: ExportModule, rtol: float = 1e-4) -> None:
    """The exported file against the model at batch 3 and (dynamic time) 3 more steps than traced."""
    probe = []
    generator = torch.Generator().manual_seed(1)
    for x, axes in zip(examples, dynamic):
        steps = x.shape[1] + 3 if 1 in axes else (x.shape[1] if x.ndim > 1 else None)
        shape = (3, *([steps] if steps is not None else []), *x.shape[2:])
        probe.append(torch.ones(shape, dtype=x.dtype) if not x.is_floating_point()
                     else torch.randn(shape, generator=generator).to(x.dtype))
    state_values = [torch.randn(s.shape, generator=generator).to(s.dtype) for s in wrapper.zero_states(3)]
    with torch.no_grad(), _export_mode(model, wrapper, "reference"):  # lstmkit's own path
        expected = [t.numpy() for t in wrapper(*probe, *state_values)]
    got = run_exported(path, format, [t.numpy() for t in probe + state_values])
    for index, (e, g) in enumerate(zip(expected, got)):
        scale = max(float(np.abs(e).max()), 1e-6)
        if e.shape != g.shape or not float(np.abs(e - g).max()) <= rtol * scale:
            detail = (f"shape {g.shape} instead of {e.shape}" if e.shape != g.shape else
                      f"max relative error {float(np.abs(e - g).max()) / scale:.2e}")
            raise _validation.InputError(f"export check failed: output {index} of the exported {format} file differs from the "
                             f"model's at batch 3 ({detail}). A layer computes something the tracer recorded "
                             "for the traced shapes only (e.g. a Lambda with Python control flow). Nothing written.")
