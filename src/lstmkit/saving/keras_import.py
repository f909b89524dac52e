"""Read the files Keras writes: ``.keras`` archives, ``.weights.h5`` files and legacy ``.h5`` files.

Why: a model trained in Keras should run here with the same numbers, straight from the file, without
TensorFlow. The layouts below were read off files written by Keras 3.15.1 (the conformance corpus) and
Keras's own saving code (``saving_lib.py``, ``legacy_h5_format.py``):

- ``.keras``: a zip of ``metadata.json`` (``keras_version``, ``date_saved``), ``config.json`` (the
  serialized model plus ``compile_config``) and ``model.weights.h5``.
- ``model.weights.h5`` / ``.weights.h5``: one ``vars`` group per object, at the object's path in Keras's
  walk of the model: ``vars`` (the model), ``layers/<snake_case class name>[_<n>]/vars`` for each entry
  of ``model.layers`` (names counted per class, never the layer's own name), then attributes in sorted
  order (``.../cell/vars``, ``.../backward_layer/cell/vars``, ``.../forward_layer/...``,
  ``.../layer/vars``). Datasets ``0``, ``1``... are the object's own variables in creation order; the
  group's ``name`` attribute holds the layer name (informative only). Weights are matched by these
  paths, so they land in the right layer whatever the model's flattened weight order is.
- legacy ``.h5``: root attributes ``model_config`` (JSON), ``keras_version``, ``backend`` and, when
  compiled, ``training_config``; group ``model_weights`` with attribute ``layer_names`` and one group per
  layer holding ``weight_names`` (dataset paths relative to that group, e.g.
  ``sequential_1/lstm_35/lstm_cell/kernel``, or ``lstm/lstm_cell/kernel:0`` in Keras 2). Layers are
  matched by name, or by order among the layers that have weights (Keras's topological loading).
  Weights-only legacy files have the same layer groups at the root.

Keras 2 files (``keras_version`` 2.x) get their configs translated (``time_major``, the pre-2.3
Sequential list form) and every ``"hard_sigmoid"`` activation becomes ``hard_sigmoid_keras2``
(``clip(0.2 x + 0.5)``): Keras 2 computed that formula, Keras 3's ``hard_sigmoid`` is ``x / 6 + 0.5``.

Files are never unpickled and never evaluated: configs are JSON, weights are HDF5 datasets. A failed
load leaves the model's weights untouched (everything is checked before anything is assigned).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass
from typing import Any

import h5py
import numpy as np
import torch
from torch import nn

from .. import _validation
from ..ops import safe_mode as safety
from . import file_limits
from ..layers import serialization as layer_serialization
from ..layers.base import Layer
from .serialization import is_sequential, model_from_config

KERAS_VERSION = "3.15.1"  # the Keras whose numbers and files lstmkit reproduces (the conformance corpus)
BACKEND = "tensorflow"  # what that corpus's files record; the weight layout is the same for every backend
CONFIG_NAME, METADATA_NAME, WEIGHTS_NAME = "config.json", "metadata.json", "model.weights.h5"
_KERAS2_HARD_SIGMOID = "hard_sigmoid_keras2"


# -- the Keras 3 weights layout ---------------------------------------------------------------------
@dataclass
class VarGroup:
    """One ``vars`` group of a Keras 3 weights file: where it is, whose it is, which weights it holds."""

    path: str
    owner: Any
    weights: list[nn.Parameter]
    label: str  # for messages: "LSTM 'lstm_2' / LSTMCell 'lstm_cell'"


def keras3_layout(model: Any) -> list[VarGroup]:
    """The ``vars`` groups Keras 3 reads and writes for ``model``, in Keras's walk order."""
    groups: list[VarGroup] = []
    _visit(model, "", "", groups, set())
    return groups


def _visit(obj: Any, path: str, label: str, groups: list[VarGroup], visited: set[int]) -> None:
    if id(obj) in visited:  # a shared layer is stored once, at its first path
        return
    visited.add(id(obj))
    top_level = not path or (path.startswith("layers/") and path.count("/") == 1)
    label = describe(obj) if top_level else f"{label} / {describe(obj)}"
    groups.append(VarGroup(_join(path, "vars"), obj, own_weights(obj), label))
    for attr, child in _children(obj):
        if isinstance(child, list):
            used: dict[str, int] = {}
            for item in child:
                name = keras_snake_case(keras_class_name(item))
                used[name] = used.get(name, -1) + 1
                _visit(item, _join(path, attr, name if used[name] == 0 else f"{name}_{used[name]}"),
                       label, groups, visited)
        else:
            _visit(child, _join(path, attr), label, groups, visited)


def _children(obj: Any) -> list[tuple[str, Any]]:
    """Keras's saveable children: a model's ``layers`` list; else sub-layer attributes, sorted by name
    with private (``_x``) ones last, lists of layers kept as lists."""
    if is_graph_model(obj):
        return [("layers", list(obj.layers))]
    found = []
    for attr, module in obj.named_children():
        if isinstance(module, Layer):
            found.append((attr, module))
        elif isinstance(module, (nn.ModuleList, nn.Sequential)):
            found.append((attr, [m for m in module if isinstance(m, Layer)]))
        elif isinstance(module, nn.ModuleDict):
            found.append((attr, [m for m in module.values() if isinstance(m, Layer)]))
    return sorted(found, key=lambda item: "~" + item[0] if item[0].startswith("_") else item[0])


def is_graph_model(obj: Any) -> bool:
    """A Sequential or functional model (Keras walks their ``layers``; InputLayers of a Sequential are
    not among them, a functional model's are)."""
    return is_sequential(obj) or bool(getattr(obj, "_functional", False))


def own_weights(obj: Any) -> list[nn.Parameter]:
    """The weights an object creates itself (not its sub-layers'), in creation order."""
    return [getattr(obj, name) for name in getattr(obj, "_weight_order", [])]


def keras_class_name(obj: Any) -> str:
    """The Python class name Keras would have (``Functional`` for a functional model)."""
    return type(obj).__dict__.get("keras_class_name") or type(obj).__name__


def keras_snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case``: ``LSTM`` -> ``lstm``, ``SimpleRNN`` -> ``simple_rnn``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p)


def describe(obj: Any) -> str:
    return f"{type(obj).__name__} '{getattr(obj, 'name', '?')}'"


# -- public API -------------------------------------------------------------------------------------
def load_keras_archive(path: str | os.PathLike, custom_objects: dict | None = None,
                       safe_mode: bool = True) -> Any:
    """A model from a Keras 3 ``.keras`` archive: rebuilt from ``config.json``, weights from
    ``model.weights.h5`` matched by path. Keras 2.13-2.15 archives are read too. ``safe_mode`` as in
    ``load_model``; the config's sizes are charged against the weights the file holds."""
    owner = f"load_keras_archive('{os.fspath(path)}')"
    with _open_zip(path, owner) as archive:
        config = _read_json_member(archive, CONFIG_NAME, owner)
        keras2 = _is_keras2(_archive_version(archive, owner), owner)
        weights = _read_member(archive, WEIGHTS_NAME, owner, required=False)
        if weights is None:
            _missing_weights(archive, owner)
    with _open_h5(io.BytesIO(weights), owner, f"{WEIGHTS_NAME} inside the archive") as store:
        budget = file_limits.h5_weight_elements(store, os.fspath(path))
        with safety.loading(os.fspath(path), safe_mode, custom_objects, weight_budget=budget):
            model = _build(upgrade_keras2_config(config, keras2) if keras2 else config, custom_objects, owner)
        _assign(_plan_keras3(model, store, owner))
    return model


def load_legacy_h5(path: str | os.PathLike, custom_objects: dict | None = None, safe_mode: bool = True) -> Any:
    """A model from a legacy full-model ``.h5`` (Keras 3's or Keras 2's ``model.save("x.h5")``)."""
    owner = f"load_legacy_h5('{os.fspath(path)}')"
    with _open_h5(path, owner) as f:
        text = attr_str(f, "model_config")
        if text is None:
            raise _validation.value_error(
                owner, "the file", "a full-model .h5 with a `model_config` attribute",
                f"an HDF5 file without one (root keys {sorted(f.keys())[:8]})",
                "A weights-only file: build the model, then call load_keras_weights(model, path).")
        config = _parse_json(text, owner, "the `model_config` attribute")
        version = attr_str(f, "keras_version") or attr_str(f.get("model_weights", f), "keras_version")
        keras2 = _is_keras2(version, owner)
        if not isinstance(f.get("model_weights"), h5py.Group):
            raise _validation.value_error(owner, "the file", "a `model_weights` group", "none",
                                          "The file is incomplete; save the model again.")
        budget = file_limits.h5_weight_elements(f["model_weights"], os.fspath(path))
        with safety.loading(os.fspath(path), safe_mode, custom_objects, weight_budget=budget):
            model = _build(upgrade_keras2_config(config, keras2), custom_objects, owner)
        _assign(_plan_legacy(model, f["model_weights"], owner))
    return model


def load_keras_weights(model: Any, path: str | os.PathLike) -> None:
    """Load weights into a built ``model`` from a Keras 3 ``.weights.h5`` (by path in Keras's layout), a
    ``.keras`` archive, or a legacy ``.h5`` (full model or weights only; by layer name, else by order)."""
    owner = f"load_keras_weights('{os.fspath(path)}')"
    _check_built(model, owner)
    if _is_zip(path):
        with _open_zip(path, owner) as archive:
            data = _read_member(archive, WEIGHTS_NAME, owner, required=False)
            if data is None:
                _missing_weights(archive, owner)
        with _open_h5(io.BytesIO(data), owner, f"{WEIGHTS_NAME} inside the archive") as store:
            _assign(_plan_keras3(model, store, owner))
        return
    with _open_h5(path, owner) as f:
        if "model_weights" in f:
            _assign(_plan_legacy(model, f["model_weights"], owner))
        elif "layer_names" in f.attrs:
            _assign(_plan_legacy(model, f, owner))
        elif "vars" in f or "layers" in f:
            _assign(_plan_keras3(model, f, owner))
        else:
            raise _validation.value_error(
                owner, "the file", "Keras weights (a `vars`/`layers` layout, or `layer_names`)",
                f"an HDF5 file with root keys {sorted(f.keys())[:8]}", "Pass a file Keras saved.")


def training_config(path: str | os.PathLike) -> dict | None:
    """The compile settings stored in a Keras file: ``compile_config`` of a ``.keras`` archive, or the
    ``training_config`` attribute of a legacy ``.h5``; None when the model was saved uncompiled."""
    owner = f"training_config('{os.fspath(path)}')"
    if _is_zip(path):
        with _open_zip(path, owner) as archive:
            config = _read_json_member(archive, CONFIG_NAME, owner)
            found = config.get("compile_config") if isinstance(config, dict) else None
    else:
        with _open_h5(path, owner) as f:
            text = attr_str(f, "training_config")
            found = None if text is None else _parse_json(text, owner, "the `training_config` attribute")
    return found if isinstance(found, dict) and found else None


# -- building the model -----------------------------------------------------------------------------
def _build(config: Any, custom_objects: dict | None, owner: str) -> Any:
    if not isinstance(config, dict) or "class_name" not in config:
        raise _validation.value_error(owner, "the model config", 'a JSON object with "class_name" and '
                                      '"config"', repr(config)[:120], "The file is not a Keras model file.")
    try:
        return model_from_config(config, custom_objects)
    except (ValueError, TypeError, KeyError) as error:
        unknown = _unknown_classes(config, custom_objects or {})
        if unknown:
            name = unknown[0]
            raise _validation.value_error(
                owner, "the model config", "layer classes lstmkit knows or custom_objects provides",
                f"unknown class {', '.join(repr(u) for u in unknown)}",
                f'Pass your implementation: custom_objects={{"{name}": {name}}} (an lstmkit Layer '
                "subclass with get_config / from_config).") from error
        raise type(error)(f"{owner}: could not rebuild the model from the file's config: {error}") from error


_LAYER_KEYS = ("layers", "layer", "backward_layer", "forward_layer", "cell", "cells")


def _unknown_classes(config: Any, custom_objects: dict) -> list[str]:
    """Class names of the layers in ``config`` that neither lstmkit nor ``custom_objects`` define."""
    known = {**getattr(layer_serialization, "_LAYERS", {}), **custom_objects}
    found: list[str] = []

    def visit(entry: Any) -> None:
        if isinstance(entry, list):
            for item in entry:
                visit(item)
            return
        if not isinstance(entry, dict) or "class_name" not in entry:
            return
        if entry["class_name"] not in known and entry["class_name"] not in found:
            found.append(entry["class_name"])
        inner = entry.get("config")
        if isinstance(inner, dict):
            for key in _LAYER_KEYS:
                visit(inner.get(key))

    visit(config)
    return found


def upgrade_keras2_config(config: Any, keras2: bool = True) -> Any:
    """A Keras 2 model config in the form ``model_from_config`` reads: the pre-2.3 Sequential list form
    wrapped, ``time_major=False`` dropped and, for Keras 2 files (``keras2``), ``hard_sigmoid`` ->
    ``hard_sigmoid_keras2`` and a functional model's one-element ``[[name, node, tensor]]`` input / output
    lists unwrapped (Keras 2 wrote lists even for one tensor; the model returns that tensor, not a list)."""
    if isinstance(config, list):
        return [upgrade_keras2_config(item, keras2) for item in config]
    if not isinstance(config, dict):
        return config
    out = {key: upgrade_keras2_config(value, keras2) for key, value in config.items()}
    inner = out.get("config")
    if "class_name" not in out:
        return out
    if out["class_name"] == "Sequential" and isinstance(inner, list):  # Keras <= 2.2.4
        out["config"] = inner = {"name": None, "layers": inner}
    if isinstance(inner, dict):
        if inner.get("time_major") is True:
            raise _validation.value_error(f"{out['class_name']} '{inner.get('name')}'", "time_major",
                                          "False (inputs batch first)", "True",
                                          "Keras 3 and lstmkit take (batch, timesteps, features) only.")
        inner.pop("time_major", None)
        if keras2:
            for key in ("activation", "recurrent_activation"):
                if _is_hard_sigmoid(inner.get(key)):
                    inner[key] = _KERAS2_HARD_SIGMOID
            for key in ("input_layers", "output_layers"):  # Keras 2 listed even a single endpoint
                if _single_reference_list(inner.get(key)):
                    inner[key] = inner[key][0]
    return out


def _single_reference_list(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 1 and isinstance(value[0], list) \
        and len(value[0]) == 3 and isinstance(value[0][0], str)


def _is_hard_sigmoid(value: Any) -> bool:
    if isinstance(value, dict):
        value = value.get("config", value.get("class_name"))
    return value == "hard_sigmoid"


def _is_keras2(version: str | None, owner: str = "") -> bool:
    """Keras 2.x / tf.keras files need the Keras 2 translation; Keras 1 files are refused."""
    if version is not None and version.startswith("1."):
        raise _validation.value_error(owner, "keras_version", "a file saved by Keras 2 or 3",
                                      repr(version), "Re-save the model with Keras 2 or 3.")
    return version is not None and version.startswith("2.")


# -- weight plans: (parameter, value) pairs, all checked before any is assigned ---------------------
def _plan_keras3(model: Any, store: h5py.Group, owner: str) -> list[tuple[nn.Parameter, np.ndarray]]:
    plan, expected = [], set()
    for group in keras3_layout(model):
        found = _find_vars(store, group.path)
        expected.add(found.name.lstrip("/") if found is not None else group.path)
        names = sorted(found.keys(), key=_numeric) if found is not None else []
        if len(names) != len(group.weights) and not _ignorable_states(group):
            shapes = f" {[tuple(found[n].shape) for n in names]}" if names else ""
            raise _validation.value_error(
                owner, f"the weights of {group.label} (file group {group.path})",
                f"{len(group.weights)} arrays {[tuple(w.shape) for w in group.weights]}",
                f"{len(names)} arrays{shapes}",
                "The file was saved from a different architecture; rebuild the model exactly as it was "
                "saved (same layers, same order, same options).")
        for index, (weight, name) in enumerate(zip(group.weights, names)):
            plan.append((weight, _checked(found[name], weight, owner,
                                          f"weight {index} ({_param_name(group.owner, weight)}) of "
                                          f"{group.label}", f"{group.path}/{name}")))
    extra = sorted(p for p in _all_vars(store) if p not in expected and _holds_arrays(store[p]))
    if extra:
        raise _validation.value_error(
            owner, "the file", "weights only for the model's layers",
            f"weights at {extra[:6]} that no layer of the model has",
            "The file was saved from a larger model; rebuild the model exactly as it was saved.")
    return plan


def _find_vars(store: h5py.Group, path: str) -> h5py.Group | None:
    if path in store:
        return store[path]
    legacy = path.replace("layers", "_layer_checkpoint_dependencies", 1)  # Keras 2.13 archives
    return store[legacy] if legacy in store else None


def _ignorable_states(group: VarGroup) -> bool:
    """A stateful RNN may store its states beside its (absent) own weights; states are not weights."""
    owner = group.owner
    return not group.weights and bool(getattr(owner, "stateful", False)) and hasattr(owner, "cell")


def _all_vars(store: h5py.Group) -> list[str]:
    """Paths of every ``vars`` group under ``layers`` plus the root one (optimizer/metric state aside)."""
    paths = ["vars"] if "vars" in store else []
    for top in ("layers", "_layer_checkpoint_dependencies"):
        if not isinstance(store.get(top), h5py.Group):
            continue
        found: list[str] = []
        store[top].visit(found.append)
        paths += [f"{top}/{name}" for name in found
                  if name.rsplit("/", 1)[-1] == "vars" and isinstance(store[f"{top}/{name}"], h5py.Group)]
    return paths


def _holds_arrays(group: h5py.Group) -> bool:
    return any(isinstance(item, h5py.Dataset) for item in group.values())


def _numeric(name: str) -> tuple[int, str]:
    return (int(name), "") if name.isdigit() else (1 << 30, name)


def _plan_legacy(model: Any, group: h5py.Group, owner: str) -> list[tuple[nn.Parameter, np.ndarray]]:
    saved = []
    for name in attr_list(group, "layer_names"):
        if name not in group:
            raise _validation.value_error(owner, "layer_names", "a group for every listed layer",
                                          f"no group {name!r}", "The file is damaged; save it again.")
        weight_names = attr_list(group[name], "weight_names")
        if weight_names:
            saved.append((name, weight_names))
    layers = [layer for layer in model.layers if layer.weights]
    plan = []
    for layer, (name, weight_names) in _pair_layers(layers, saved, owner):
        params = layer.weights
        values = [_dataset(group[name], w, owner, name) for w in weight_names]
        if len(values) != len(params):
            raise _validation.value_error(
                owner, f"the weights of {describe(layer)} (file layer {name!r})",
                f"{len(params)} arrays {[tuple(p.shape) for p in params]}",
                f"{len(values)} arrays {[v.shape for v in values]}",
                "The file was saved from a different architecture; rebuild the model as it was saved.")
        for index, (param, value, saved_name) in enumerate(zip(params, values, weight_names)):
            plan.append((param, _checked(value, param, owner, f"weight {index} "
                                         f"({_param_name(layer, param)}) of {describe(layer)}",
                                         f"{name}/{saved_name}")))
    top = group.get("top_level_model_weights")
    if top is not None and attr_list(top, "weight_names"):
        raise _validation.value_error(owner, "top_level_model_weights", "no weights (lstmkit models own "
                                      "none outside their layers)", attr_list(top, "weight_names"))
    return plan


def _pair_layers(layers: list, saved: list, owner: str) -> list:
    """Model layers with weights paired with the file's: by name when every name matches, else by
    order, as Keras's topological loading does."""
    by_name = {name: (name, weights) for name, weights in saved}
    if len(layers) == len(saved) and all(layer.name in by_name for layer in layers):
        return [(layer, by_name[layer.name]) for layer in layers]
    if len(layers) != len(saved):
        raise _validation.value_error(
            owner, "the number of layers with weights",
            f"{len(layers)} (the model's: {[layer.name for layer in layers]})",
            f"{len(saved)} in the file ({[name for name, _ in saved]})",
            "The file was saved from a different architecture; rebuild the model as it was saved.")
    return list(zip(layers, saved))


def _dataset(group: h5py.Group, name: str, owner: str, layer_name: str) -> h5py.Dataset:
    item = group.get(name)
    if not isinstance(item, h5py.Dataset):
        raise _validation.value_error(owner, f"layer {layer_name!r}", f"a dataset {name!r} (listed in "
                                      "weight_names)", "none", "The file is damaged; save it again.")
    return item


def _checked(value: Any, param: nn.Parameter, owner: str, what: str, where: str) -> np.ndarray:
    """The array for ``param``; an HDF5 dataset is read only once its dtype, shape and stored size
    are checked (a hostile file cannot make lstmkit read more than the weight it fills)."""
    if isinstance(value, h5py.Group):
        raise _validation.value_error(owner, what, "an array", f"a group at {where}",
                                      "The file is damaged; save it again.")
    dataset = isinstance(value, h5py.Dataset)
    array = None if dataset else np.asarray(value)
    dtype, shape = (value.dtype, tuple(value.shape)) if dataset else (array.dtype, tuple(array.shape))
    if dtype.kind not in "fiub":
        raise _validation.value_error(owner, what, "a numeric array", f"dtype {dtype} at {where}",
                                      "bfloat16 and other custom dtypes are not supported.")
    if shape != tuple(param.shape):
        raise _validation.value_error(owner, what, f"shape {tuple(param.shape)}",
                                      f"shape {shape} (file: {where})",
                                      "The file was saved from a layer of another size; rebuild the model "
                                      "with the sizes it was saved with.")
    if dataset:
        file_limits.checked_dataset(value, owner, where)
        try:
            return np.asarray(value[()])
        except (OSError, ValueError, TypeError) as error:
            raise _validation.value_error(owner, what, "readable data", f"damaged data at {where} ({error})",
                                          "Copy the file again or save it again.") from None
    return array


def _param_name(layer: Any, param: nn.Parameter) -> str:
    for name, candidate in layer.named_parameters():
        if candidate is param:
            return name
    return "?"


def _assign(plan: list[tuple[nn.Parameter, np.ndarray]]) -> None:
    with torch.no_grad():
        for param, value in plan:
            param.copy_(torch.as_tensor(value, dtype=param.dtype, device=param.device))


def _check_built(model: Any, owner: str) -> None:
    """Weights must exist (a subclassed model has them after its first call, though not ``built``)."""
    if not getattr(model, "built", True) and not list(model.weights):
        raise _validation.value_error(owner, "model", "a built model (its weights exist)", "an unbuilt model",
                                      "Give it an Input shape or call it once on data first.")


# -- files ------------------------------------------------------------------------------------------
def _is_zip(path: str | os.PathLike) -> bool:
    """A zip archive, or what is left of one (a truncated ``.keras`` still starts with ``PK``)."""
    try:
        return zipfile.is_zipfile(path) or _head(path).startswith(b"PK\x03\x04")
    except OSError:
        return False


def _open_zip(path: str | os.PathLike, owner: str) -> zipfile.ZipFile:
    _check_exists(path, owner)
    try:
        archive = zipfile.ZipFile(path, "r")
    except zipfile.BadZipFile as error:
        raise _validation.value_error(
            owner, "the file", "a .keras zip archive (config.json, model.weights.h5, metadata.json)",
            f"a file that is not a zip archive or is truncated ({error}; first bytes {_head(path)!r})",
            "Pass the file model.save('x.keras') wrote, completely copied.") from None
    except (OSError, EOFError) as error:
        raise _validation.value_error(owner, "the file", "a readable zip archive", f"a damaged one ({error})",
                                      "Copy the file again.") from None
    try:
        file_limits.check_archive(archive, owner)
    except _validation.InputError:
        archive.close()
        raise
    return archive


def _read_member(archive: zipfile.ZipFile, name: str, owner: str, required: bool = True) -> bytes | None:
    if name not in archive.namelist():
        if not required:
            return None
        raise _validation.value_error(owner, "the archive", f"a {name} member",
                                      f"members {archive.namelist()[:10]}",
                                      "It is not a Keras 3 .keras file; save the model again with Keras 3.")
    return file_limits.read_member(archive, name, owner)


def _read_json_member(archive: zipfile.ZipFile, name: str, owner: str) -> Any:
    return _parse_json(_read_member(archive, name, owner), owner, name)


def _archive_version(archive: zipfile.ZipFile, owner: str) -> str | None:
    if METADATA_NAME not in archive.namelist():
        return None
    metadata = _read_json_member(archive, METADATA_NAME, owner)
    return metadata.get("keras_version") if isinstance(metadata, dict) else None


def _missing_weights(archive: zipfile.ZipFile, owner: str) -> None:
    members = archive.namelist()
    received = ("model.weights.npz (weights in NumPy's pickle-capable format, which lstmkit never opens)"
                if "model.weights.npz" in members else f"members {members}")
    raise _validation.value_error(owner, "the archive", f"a {WEIGHTS_NAME} member", received,
                                  "Save the model with Keras's default weights_format='h5'.")


def _parse_json(text: str | bytes, owner: str, what: str) -> Any:
    return file_limits.parse_json(text, owner, what)


class _H5:
    """``h5py.File`` opened with file-naming errors: not HDF5, truncated, unreadable."""

    def __init__(self, source: Any, owner: str, what: str):
        self.source, self.owner, self.what = source, owner, what

    def __enter__(self) -> h5py.File:
        if isinstance(self.source, (str, os.PathLike)):
            _check_exists(self.source, self.owner)
            if not h5py.is_hdf5(self.source):
                raise _validation.value_error(
                    self.owner, self.what, "an HDF5 file (.h5 / .weights.h5)",
                    f"a file that is not HDF5 (first bytes {_head(self.source)!r})",
                    "Pass a file Keras saved: .keras archives go to load_keras_archive.")
        try:
            self.file = h5py.File(self.source, "r")
        except (OSError, ValueError) as error:
            raise _validation.value_error(self.owner, self.what, "a readable HDF5 file",
                                          f"a damaged or truncated one ({error})",
                                          "Copy the file again or save it again.") from None
        return self.file

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        self.file.close()
        if kind is not None and issubclass(kind, OSError) and not issubclass(kind, FileNotFoundError):
            raise _validation.value_error(self.owner, self.what, "readable HDF5 data",
                                          f"damaged data ({error})", "Copy the file again or save it "
                                          "again.") from error


def _open_h5(source: Any, owner: str, what: str = "the file") -> _H5:
    return _H5(source, owner, what)


def _check_exists(path: str | os.PathLike, owner: str) -> None:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{owner}: no file at {os.fspath(path)!r}.")


def _head(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(8)


def attr_str(obj: Any, name: str) -> str | None:
    """A string attribute (stored as str or bytes), or None."""
    value = obj.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def attr_list(group: Any, name: str) -> list[str]:
    """A list-of-names attribute, also when Keras split it into ``name0``, ``name1``... chunks."""
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, index = [], 0
        while f"{name}{index}" in group.attrs:
            chunks.append(group.attrs[f"{name}{index}"])
            index += 1
    return [n.decode("utf-8") if isinstance(n, bytes) else str(n)
            for chunk in chunks for n in np.atleast_1d(chunk)]
