"""A Forecaster's folder: ``model.lstmkit`` (``model-2.lstmkit``, ... for an ensemble) and
``forecaster.json`` (format, framing, scaler state, history, metrics, interval calibration).

JSON and safetensors only: loading never unpickles, and a crash mid-save leaves the previous set intact
(every file is written in full before any replaces its predecessor).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from .. import _validation
from ..data.scaling import SeriesScaler
from ..models import load_model
from ..saving.atomic import atomic_path
from ..saving.file_limits import parse_json
from .specs import ForecasterConfig

FORMAT = "lstmkit.forecaster/1"


def check_output_folder(owner: str, folder: str | Path) -> Path:
    """``folder`` as a Path, or a FileExistsError if a file (not a folder) has that name."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(_validation.message(owner, "the output folder", "a folder (new or existing)",
                                                  f"{str(folder)!r}, an existing file",
                                                  "Choose another --out, or move the file."))
    return folder


def member_file(k: int) -> str:
    """The ensemble's k-th model file: ``model.lstmkit``, then ``model-2.lstmkit``, ..."""
    return "model.lstmkit" if k == 0 else f"model-{k + 1}.lstmkit"


def save(forecaster: Any, folder: str | Path) -> Path:
    """Write a trained forecaster's models and ``forecaster.json`` to ``folder``; returns the folder."""
    folder = check_output_folder("Forecaster.save", folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {"format": FORMAT, "config": asdict(forecaster.config), "scaler": forecaster.scaler.get_state(),
             "history": forecaster.history, "metrics": forecaster.metrics, "calibration": forecaster.calibration}
    text = json.dumps(state, indent=2, default=_json_default)
    members = forecaster.models or [forecaster.model]
    with contextlib.ExitStack() as stack:
        temporary = [stack.enter_context(atomic_path(folder / member_file(k))) for k in range(len(members))]
        json_tmp = stack.enter_context(atomic_path(folder / "forecaster.json"))
        for model, tmp in zip(members, temporary):
            model.save(tmp)  # the lstmkit archive (the temporary name has no Keras suffix)
        json_tmp.write_text(text)
    return folder


def read_state(folder: str | Path) -> tuple[ForecasterConfig, dict]:
    """``forecaster.json`` of ``folder`` checked: its config and the whole state."""
    folder = Path(folder)
    path = folder / "forecaster.json"
    if not path.is_file():
        raise _validation.value_error("Forecaster.load", "folder", "a folder written by `lstmkit train` "
                                      "(holding forecaster.json and model.lstmkit)", f"{str(folder)!r}")
    state = parse_json(path.read_bytes(), str(path), "forecaster.json")  # bounded size and depth
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise _validation.value_error("Forecaster.load", "forecaster.json", f"format {FORMAT!r}",
                                      repr(state.get("format") if isinstance(state, dict) else state))
    try:
        config = ForecasterConfig(**state["config"])
    except (KeyError, TypeError) as error:
        raise _validation.value_error("Forecaster.load", "forecaster.json", "the framing `lstmkit train` "
                                      "wrote (target, features, lookback, ...)", f"a damaged config ({error})",
                                      "Train again.") from None
    calibration = state.get("calibration")
    if calibration is not None and not (isinstance(calibration, dict) and isinstance(calibration.get("errors"), list)
                                        and all(isinstance(e, list) and e for e in calibration["errors"])):
        raise _validation.value_error("Forecaster.load", "forecaster.json", "interval calibration as "
                                      "`lstmkit train` wrote it", "a damaged 'calibration' entry", "Train again.")
    return config, state


def restore(forecaster: Any, folder: str | Path, state: dict, safe_mode: bool, compile: bool = True) -> Any:
    """Fill a forecaster built from the saved config with the saved scaler, models, history, metrics
    and calibration (the models loaded with ``safe_mode`` as in ``load_model``, compiled if ``compile``)."""
    folder = Path(folder)
    forecaster.scaler = SeriesScaler.from_state(state["scaler"])
    # a probabilistic head's loss is a closure of its levels and shape, rebuilt by fit: load uncompiled
    compiled = compile and getattr(forecaster.config, "loss", "mse") == "mse"
    forecaster.models = [load_model(folder / member_file(k), safe_mode=safe_mode, compile=compiled)
                         for k in range(forecaster.config.ensemble)]
    forecaster.history, forecaster.metrics = state.get("history", {}), state.get("metrics", {})
    forecaster.calibration = state.get("calibration")
    return forecaster


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
