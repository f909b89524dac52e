"""Saving and loading models: lstmkit's own archive, plus Keras's files (read and written).

lstmkit's format is one zip archive (``.lstmkit`` by convention) holding ``lstmkit.json`` (format
marker), ``config.json`` (Keras 3's model JSON plus the compile settings), ``model.safetensors`` (the
weights in Keras's order) and, when the model is compiled, ``optimizer.json`` + ``optimizer.safetensors``
(its state, so training resumes exactly). Nothing is pickled, so loading a file cannot run code.
Every write goes to a temporary file that replaces the target only when complete (``atomic.py``): a
process killed mid-save leaves the previous file intact.

The path's suffix picks the format on save: ``.keras`` (Keras 3 archive), ``.h5`` / ``.hdf5`` (Keras's
legacy full-model HDF5), anything else lstmkit's own. ``load_model`` recognises the format from the
file's content.
"""

from __future__ import annotations

import datetime
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .. import _validation
from ..ops import safe_mode as safety
from . import file_limits
from ..optimizers.state import flatten_state, unflatten_state
from .atomic import atomic_path

FORMAT = "lstmkit"
FORMAT_VERSION = 1
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


# -- formats by name and by content ---------------------------------------------------------------------
def _suffix(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".weights.h5"):
        return ".weights.h5"
    return path.suffix.lower()


def sniff(path: str | Path) -> str:
    """``"lstmkit"``, ``"keras"`` (zip archive), ``"h5"``, ``"safetensors"``; or a clear error."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No such file: '{path}'.")
    if path.is_dir():
        raise _validation.value_error("load_model", "path", "a model file", f"the folder '{path}'",
                                      "Pass the file inside it (e.g. model.lstmkit).")
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(HDF5_SIGNATURE):
        return "h5"
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                file_limits.check_archive(archive, str(path))
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise _validation.value_error("load_model", f"'{path}'", "a readable zip archive",
                                          f"a damaged one ({error})") from None
        if "lstmkit.json" in names:
            return "lstmkit"
        if "config.json" in names:
            return "keras"
        raise _validation.value_error("load_model", f"'{path}'", "an lstmkit or Keras archive (lstmkit.json or "
                                      "config.json inside)", f"a zip file holding {sorted(names)[:5]}")
    if len(head) >= 9 and head[8:9] == b"{":
        return "safetensors"
    raise _validation.value_error("load_model", f"'{path}'", "an lstmkit archive, a Keras .keras / .h5 file or "
                                  "a .safetensors weights file", f"{len(head)} leading bytes {head[:8]!r} matching "
                                  "none of them", "The file may be truncated or not a model file.")


# -- the model's own archive ------------------------------------------------------------------------------
def save_model(model: Any, path: str | Path, include_optimizer: bool = True) -> None:
    """Save ``model`` to ``path`` (format from the suffix; see the module docstring)."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix == ".weights.h5":
        raise _validation.value_error("save", "path", "a model file name (e.g. model.lstmkit, model.keras)",
                                      f"'{path}', a weights-only name", "Use model.save_weights() for weights.")
    if suffix == ".keras":
        from . import keras_files

        keras_files.save_keras_archive(model, path)
        return
    if suffix in (".h5", ".hdf5"):
        from . import keras_files

        keras_files.save_legacy_h5(model, path)
        return
    _check_built(model, "save")
    entries = {
        "lstmkit.json": json.dumps(_marker()).encode(),
        "config.json": json.dumps(_config_with_compile(model)).encode(),
        "model.safetensors": weights_bytes(model),
    }
    if include_optimizer and getattr(model, "optimizer", None) is not None and _optimizer_built(model):
        meta, tensors = flatten_state(model.optimizer.state_dict())
        entries["optimizer.json"] = json.dumps(meta).encode()
        entries["optimizer.safetensors"] = st_save(tensors) if tensors else st_save({})
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, payload in entries.items():
                archive.writestr(name, payload)


def load_model(path: str | Path, custom_objects: dict | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """A model from an lstmkit archive, a Keras ``.keras`` archive or a Keras legacy ``.h5`` file.

    Args:
        custom_objects: ``{"Name": class_or_function}`` for user layers, losses, metrics and ``Lambda``
            functions the file names.
        compile: also restore the compile settings (and, for lstmkit archives, the optimizer state).
        safe_mode: True (default, as Keras 3): the file may name only lstmkit's own classes and functions
            and those in ``custom_objects``; anything else is refused with an error saying how to allow
            it. False also accepts functions of modules the program has already imported. Either way
            nothing is unpickled, imported or run as bytecode, and the file's sizes are checked against
            the weights it holds before anything is allocated (``models/file_limits.py``).
    """
    kind = sniff(path)
    if kind == "lstmkit":
        return _load_own(Path(path), custom_objects, compile, safe_mode)
    from . import keras_files

    if kind == "keras":
        model = keras_files.load_keras_archive(path, custom_objects, safe_mode=safe_mode)
    elif kind == "h5":
        model = keras_files.load_legacy_h5(path, custom_objects, safe_mode=safe_mode)
    else:
        raise _validation.value_error("load_model", f"'{path}'", "a model file", "a weights-only safetensors file",
                                      "Build the model, then call model.load_weights(path).")
    if compile:
        config = keras_files.training_config(path)
        if config:
            with safety.loading(str(path), safe_mode, custom_objects):
                compile_from_config(model, config, custom_objects)
    return model


def _read_archive(path: Path) -> tuple[dict, dict, dict[str, torch.Tensor], dict | None]:
    """The parts of an lstmkit archive, each read within ``file_limits``."""
    source = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            file_limits.check_archive(archive, source)
            names = set(archive.namelist())
            missing = {"lstmkit.json", "config.json", "model.safetensors"} - names
            if missing:
                raise _validation.value_error("load_model", f"'{path}'", "a complete lstmkit archive",
                                              f"one without {sorted(missing)}", "Save the model again.")
            marker = file_limits.parse_json(file_limits.read_member(archive, "lstmkit.json", source), source,
                                            "lstmkit.json")
            config = file_limits.parse_json(file_limits.read_member(archive, "config.json", source), source,
                                            "config.json")
            weights = _safetensors(file_limits.read_member(archive, "model.safetensors", source), source,
                                   "model.safetensors")
            optimizer = None
            if "optimizer.json" in names:
                optimizer = {"meta": file_limits.parse_json(file_limits.read_member(archive, "optimizer.json",
                                                                                      source),
                                                            source, "optimizer.json"),
                             "tensors": _safetensors(file_limits.read_member(archive, "optimizer.safetensors",
                                                                             source)
                                                     if "optimizer.safetensors" in names else b"",
                                                     source, "optimizer.safetensors")}
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise _validation.value_error("load_model", f"'{path}'", "a complete lstmkit archive",
                                      f"a damaged one ({error})") from None
    for name, part in (("lstmkit.json", marker), ("config.json", config)):
        if not isinstance(part, dict):
            raise _validation.value_error("load_model", f"'{path}' ({name})", "a JSON object",
                                          f"a JSON {type(part).__name__}", "The file is damaged; save it again.")
    return marker, config, weights, optimizer


def _safetensors(payload: bytes, source: str, name: str) -> dict[str, torch.Tensor]:
    try:
        return st_load(payload)
    except (SafetensorError, ValueError, TypeError, OverflowError) as error:
        raise _validation.value_error("load_model", f"'{source}' ({name})", "a safetensors payload",
                                      f"a damaged or inconsistent one ({error})",
                                      "The file is damaged; save it again.") from None


def _load_own(path: Path, custom_objects: dict | None, compile: bool, safe_mode: bool = True) -> Any:
    from .serialization import model_from_config

    marker, config, weights, optimizer = _read_archive(path)
    if not isinstance(marker.get("format_version", 0), int):
        raise _validation.value_error("load_model", f"'{path}'", "an integer format_version",
                                      repr(marker.get("format_version"))[:40])
    if marker.get("format_version", 0) > FORMAT_VERSION:
        raise _validation.value_error("load_model", f"'{path}'", f"format version <= {FORMAT_VERSION}",
                                      f"version {marker.get('format_version')}", "Upgrade lstmkit.")
    compile_config = config.pop("compile_config", None)
    budget = sum(int(t.numel()) for t in weights.values())
    with safety.loading(str(path), safe_mode, custom_objects, weight_budget=budget):
        model = model_from_config(config, custom_objects)
        set_weights_from(model, weights, str(path))
        if compile and isinstance(compile_config, dict) and compile_config:
            if compile_from_config(model, compile_config, custom_objects) and optimizer is not None:
                model._bind_optimizer()
                try:
                    model.optimizer.load_state_dict(unflatten_state(optimizer["meta"], optimizer["tensors"]))
                except (KeyError, ValueError, TypeError, IndexError, RuntimeError) as error:
                    raise _validation.value_error("load_model", f"'{path}' (optimizer.json)",
                                                  "the optimizer state this model's optimizer saved",
                                                  f"a state that does not fit it ({error})",
                                                  "Load with compile=False to skip it.") from None
    return model


def _marker() -> dict:
    from .._version import __version__

    return {"format": FORMAT, "format_version": FORMAT_VERSION, "lstmkit_version": __version__,
            "torch_version": torch.__version__, "saved_at": datetime.datetime.now().isoformat(timespec="seconds")}


def _config_with_compile(model: Any) -> dict:
    from .serialization import serialize_model

    config = serialize_model(model)
    config["compile_config"] = compile_config(model) if getattr(model, "compiled", False) else None
    return config


def _check_built(model: Any, what: str) -> None:
    if not model.built or not model.weights and any(True for _ in model.parameters()):
        raise _validation.value_error(f"{type(model).__name__} '{model.name}'", what, "a built model",
                                      "one that has not seen an input shape yet",
                                      "Call it on data (or give the first layer input_shape=...) first.")


def _optimizer_built(model: Any) -> bool:
    return getattr(model, "_optimizer_params", None) is not None


# -- weights ------------------------------------------------------------------------------------------------
def weight_names(model: Any) -> list[str]:
    """Readable names of ``model.weights`` (module path + parameter), for messages and file metadata."""
    names = {id(p): n for n, p in model.named_parameters(remove_duplicate=False)}
    return [names.get(id(w), f"weight_{i}") for i, w in enumerate(model.weights)]


def weights_bytes(model: Any) -> bytes:
    tensors = {f"{i:05d}": w.detach().cpu().contiguous().clone() for i, w in enumerate(model.weights)}
    return st_save(tensors, metadata={"format": "lstmkit-weights", "names": json.dumps(weight_names(model))})


def set_weights_from(model: Any, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Load ``{"00000": tensor, ...}`` into ``model.weights`` with a named error for any mismatch."""
    params, names = model.weights, weight_names(model)
    values = [tensors[k] for k in sorted(tensors)]
    if len(values) != len(params):
        raise _validation.value_error("load_weights", f"'{source}'", f"{len(params)} weights for this model",
                                      f"{len(values)} weights", "The file was saved from a different architecture.")
    with torch.no_grad():
        for name, param, value in zip(names, params, values):
            if tuple(value.shape) != tuple(param.shape):
                raise _validation.value_error("load_weights", f"weight '{name}'", f"shape {tuple(param.shape)}",
                                              f"shape {tuple(value.shape)} in '{source}'")
            param.copy_(value.to(param.dtype))


def save_weights(model: Any, path: str | Path) -> None:
    """Weights only: ``.weights.h5`` / ``.h5`` in Keras's layout, anything else as safetensors."""
    path = Path(path)
    if _suffix(path) in (".weights.h5", ".h5", ".hdf5"):
        from . import keras_files

        keras_files.save_keras_weights(model, path)
        return
    _check_built(model, "save_weights")
    payload = weights_bytes(model)
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)


def load_weights(model: Any, path: str | Path) -> None:
    """Weights from a safetensors file, an lstmkit archive, or a Keras ``.weights.h5`` / ``.h5`` / ``.keras``."""
    kind = sniff(path)
    if kind == "safetensors":
        tensors = _safetensors(Path(path).read_bytes(), str(path), "weights")
    elif kind == "lstmkit":
        tensors = _read_archive(Path(path))[2]
    else:
        from . import keras_files

        keras_files.load_keras_weights(model, path)
        return
    _check_built(model, "load_weights")
    set_weights_from(model, tensors, str(path))


# -- optimizer state without pickle ---------------------------------------------------------------------------
# -- compile settings ------------------------------------------------------------------------------------
def compile_config(model: Any) -> dict:
    """Keras 3's ``compile_config``: the optimizer's serialized form, the loss(es) and metric names."""
    from ..losses import losses
    from ..optimizers import optimizers

    def loss_entry(spec: Any) -> Any:
        if isinstance(spec, (list, tuple)):
            return [loss_entry(s) for s in spec]
        if isinstance(spec, dict):
            return {k: loss_entry(v) for k, v in spec.items()}
        return spec if isinstance(spec, str) or spec is None else losses.serialize(losses.get(spec))

    def metric_entry(spec: Any) -> Any:
        if isinstance(spec, (list, tuple)):
            return [metric_entry(s) for s in spec]
        if isinstance(spec, dict):
            return {k: metric_entry(v) for k, v in spec.items()}
        if isinstance(spec, str) or spec is None:
            return spec
        if hasattr(spec, "get_config") and hasattr(spec, "update_state"):
            return {"module": "keras.metrics", "class_name": type(spec).__name__, "config": spec.get_config(),
                    "registered_name": None}
        return getattr(spec, "__name__", str(spec))

    return {"optimizer": optimizers.serialize(model.optimizer), "loss": loss_entry(model._loss_spec),
            "loss_weights": model._loss_weights_spec, "metrics": metric_entry(model._metrics_spec),
            "weighted_metrics": metric_entry(model._weighted_metrics_spec), "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def compile_from_config(model: Any, config: dict, custom_objects: dict | None = None) -> bool:
    """Compile ``model`` from a Keras 3 ``compile_config`` or a legacy ``training_config``; warn (and leave
    the model uncompiled) when a custom loss or metric is not in ``custom_objects``."""
    from ..optimizers import optimizers

    custom = dict(custom_objects or {})
    optimizer = config.get("optimizer") or config.get("optimizer_config")
    try:
        model.compile(optimizer=optimizers.deserialize(optimizer) if isinstance(optimizer, dict) else optimizer,
                      loss=_resolve_custom(config.get("loss"), custom, "loss"),
                      metrics=_resolve_custom(config.get("metrics"), custom, "metric"),
                      weighted_metrics=_resolve_custom(config.get("weighted_metrics"), custom, "metric"),
                      loss_weights=config.get("loss_weights"), device=getattr(model, "device", None) or "auto")
    except (ValueError, TypeError, KeyError) as error:
        warnings.warn(f"load_model: the model was loaded uncompiled, its compile settings could not be restored "
                      f"({error}). Pass custom_objects={{'name': function}} for custom losses / metrics, or "
                      "compile=False.", stacklevel=3)
        return False
    return True


def _resolve_custom(spec: Any, custom: dict, kind: str) -> Any:
    """Names stay names (compile resolves them); serialized loss / metric objects become objects, so a
    dict is only ever a per-output mapping when it reaches compile."""
    from ..losses import losses
    from ..metrics import metrics

    if isinstance(spec, list):
        return [_resolve_custom(s, custom, kind) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _resolve_custom(v, custom, kind) for k, v in spec.items()}
    if isinstance(spec, dict) and spec.get("class_name") in custom:
        return custom[spec["class_name"]](**spec.get("config", {}))
    if isinstance(spec, dict):
        classes = losses.CLASSES if kind == "loss" else metrics.CLASSES
        if spec["class_name"] not in classes:
            raise KeyError(f"unknown {kind} class {spec['class_name']!r}")
        return classes[spec["class_name"]].from_config(spec.get("config") or {})
    if isinstance(spec, str) and spec in custom:
        return custom[spec]
    if isinstance(spec, str):
        if spec not in losses.FUNCTIONS and spec not in metrics.NAMES and spec not in ("acc", "accuracy") \
                and spec not in losses.CLASSES and spec not in metrics.CLASSES:
            raise KeyError(f"unknown loss or metric {spec!r}")
    return spec
