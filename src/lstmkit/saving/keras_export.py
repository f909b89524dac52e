"""Write Keras files from lstmkit models: ``.keras`` archives, ``.weights.h5`` files and legacy ``.h5``.

Why: a model built or trained here should open in Keras 3 (``keras.models.load_model`` /
``model.load_weights``) exactly as if Keras had saved it. The layouts are the ones Keras 3.15.1 writes
(see ``keras_import``, which reads them): same group paths, dataset names, shapes, dtypes and string
attributes, checked against the conformance corpus's files by the tests. Every file is written through
``atomic_path``: an interrupted save leaves the previous file as it was.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Any

import h5py
import numpy as np
from torch import nn

from ..mixed_precision.policy import to_numpy
from .atomic import atomic_path
from .keras_import import (BACKEND, CONFIG_NAME, KERAS_VERSION, METADATA_NAME, WEIGHTS_NAME, _check_built,
                           keras3_layout)
from .serialization import is_sequential, serialize_model

_HDF5_OBJECT_HEADER_LIMIT = 64512  # bytes an HDF5 attribute may hold; Keras splits longer name lists
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


def save_keras_archive(model: Any, path: str | os.PathLike, compile_config: dict | None = None) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` archive (``metadata.json``, ``config.json`` with
    ``compile_config``, ``model.weights.h5``). Sequential and functional models only: a subclassed
    model's structure is Python code (save its weights with ``save_keras_weights``)."""
    _check_built(model, f"save_keras_archive('{os.fspath(path)}')")
    config = serialize_model(model)
    config["compile_config"] = compile_config
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = keras3_weights_bytes(model)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as archive:  # stored, not deflated, in Keras's member order
            archive.writestr(zipfile.ZipInfo(METADATA_NAME), json.dumps(metadata))
            archive.writestr(zipfile.ZipInfo(CONFIG_NAME), json.dumps(config))
            archive.writestr(WEIGHTS_NAME, weights)


def save_keras_weights(model: Any, path: str | os.PathLike) -> None:
    """Write the weights of a built model as Keras 3's ``.weights.h5`` (``model.save_weights``)."""
    _check_built(model, f"save_keras_weights('{os.fspath(path)}')")
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        write_keras3_weights(f, model)


def save_legacy_h5(model: Any, path: str | os.PathLike, training_config: dict | None = None) -> None:
    """Write ``model`` as a legacy full-model ``.h5`` (Keras 3's ``model.save("x.h5")``): attributes
    ``keras_version``, ``backend``, ``model_config`` (and ``training_config`` when given), weights
    under ``model_weights``."""
    _check_built(model, f"save_legacy_h5('{os.fspath(path)}')")
    config = legacy_model_config(serialize_model(model))
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = BACKEND
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config).encode("utf8")
        write_legacy_weights(f.create_group("model_weights"), model)


# -- Keras 3 layout ---------------------------------------------------------------------------------
def keras3_weights_bytes(model: Any) -> bytes:
    """The ``model.weights.h5`` member of a ``.keras`` archive, built in memory."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        write_keras3_weights(f, model)
    return buffer.getvalue()


def write_keras3_weights(f: h5py.Group, model: Any) -> None:
    """One ``vars`` group per object at its Keras path, datasets ``0``, ``1``... and a ``name``
    attribute, as Keras 3's ``H5IOStore`` writes them."""
    for group in keras3_layout(model):
        parent_path = group.path.rsplit("/", 1)[0] if "/" in group.path else ""
        parent = f.require_group(parent_path) if parent_path else f
        variables = parent.create_group("vars")
        variables.attrs["name"] = str(getattr(group.owner, "name", ""))
        for index, weight in enumerate(group.weights):
            variables[str(index)] = _numpy(weight)


# -- legacy layout ----------------------------------------------------------------------------------
def legacy_model_config(entry: dict) -> dict:
    """Keras's legacy config form: models and their layer entries without ``module``,
    ``registered_name``, ``build_config`` (nested objects such as a Bidirectional's layer keep them)."""
    out = {k: v for k, v in entry.items()
           if k not in ("module", "registered_name", "build_config", "compile_config")}
    config = out.get("config")
    if entry.get("class_name") in _MODEL_CLASSES and isinstance(config, dict) and \
            isinstance(config.get("layers"), list):
        out["config"] = {**config, "layers": [legacy_model_config(layer) for layer in config["layers"]]}
    return out


def write_legacy_weights(group: h5py.Group, model: Any) -> None:
    """Keras's ``save_weights_to_hdf5_group``: ``layer_names``, one group per layer (sorted by name)
    with ``weight_names`` and the datasets at those paths, and an empty ``top_level_model_weights``."""
    _write_names(group, "layer_names", [layer.name.encode("utf8") for layer in model.layers])
    group.attrs["backend"] = BACKEND.encode("utf8")
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    prefix = f"{model.name}/" if _is_sequential(model) else ""
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        layer_group = group.create_group(layer.name)
        entries = legacy_weight_paths(layer, prefix)
        _write_names(layer_group, "weight_names", [name.encode("utf8") for name, _ in entries])
        for name, weight in entries:
            layer_group.create_dataset(name, data=_numpy(weight))
    _write_names(group.create_group("top_level_model_weights"), "weight_names", [])


def legacy_weight_paths(layer: Any, prefix: str = "") -> list[tuple[str, nn.Parameter]]:
    """``(Keras variable path, weight)`` for each of ``layer.weights``: the layer's name scope, its
    sub-layers' scopes, the variable name (``sequential_1/lstm_35/lstm_cell/kernel``; a Sequential's
    layers are built inside the model's scope, a functional model's are not)."""
    entries = _scoped_weights(layer, prefix, set())
    if [id(w) for _, w in entries] != [id(w) for w in layer.weights]:  # an unusual layer: name by attribute
        names = {id(p): n for n, p in layer.named_parameters()}
        entries = [(f"{prefix}{layer.name}/{names.get(id(w), str(i)).replace('.', '/')}", w)
                   for i, w in enumerate(layer.weights)]
    return entries


def _scoped_weights(layer: Any, prefix: str, seen: set[int]) -> list[tuple[str, nn.Parameter]]:
    scope = f"{prefix}{layer.name}/"
    out = []
    for name in getattr(layer, "_weight_order", []):
        weight = getattr(layer, name)
        if id(weight) not in seen:
            seen.add(id(weight))
            out.append((scope + name, weight))
    for sub in layer.sublayers():
        out += _scoped_weights(sub, scope, seen)
    return out


def _is_sequential(model: Any) -> bool:
    return is_sequential(model)


def _write_names(group: h5py.Group, name: str, values: list[bytes]) -> None:
    """A list-of-names attribute, split into ``name0``, ``name1``... when too long for one attribute."""
    data = np.asarray(values)
    chunks = 1
    parts = np.array_split(data, chunks)
    while any(part.nbytes > _HDF5_OBJECT_HEADER_LIMIT for part in parts):
        chunks += 1
        parts = np.array_split(data, chunks)
    if chunks == 1:
        group.attrs[name] = values
    else:
        for index, part in enumerate(parts):
            group.attrs[f"{name}{index}"] = part


def _numpy(weight: nn.Parameter) -> np.ndarray:
    return to_numpy(weight)
