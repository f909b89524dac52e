"""Models named on the command line: a `lstmkit train` folder, an .lstmkit file, or a Keras .keras / .h5 file.

Its own module so that every subcommand (main, export) reads models the same way without importing each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_any_model(path: str) -> Any:
    """A model from a `lstmkit train` folder, an .lstmkit file, or a Keras .keras / .h5 file."""
    from ..models import load_model

    location = Path(path)
    if location.is_dir():
        inner = location / "model.lstmkit"
        if not inner.is_file():
            raise FileNotFoundError(f"{path!r} is a folder without model.lstmkit (not from `lstmkit train`)")
        location = inner
    if not location.is_file():
        raise FileNotFoundError(f"no such model file: {path!r}")
    return load_model(location)
