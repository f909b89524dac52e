"""Keras's model files, both ways: ``.keras`` archives, ``.weights.h5`` and legacy ``.h5``.

Why: models move between Keras and lstmkit as files, with the same numbers on both sides. This module
is the public entry point (``models/saving.py`` dispatches ``load_model`` / ``save`` here); the work is
split in two modules that stay readable on their own:

- ``keras_import``: reading. ``load_keras_archive``, ``load_legacy_h5`` (Keras 3 and Keras 2 files;
  Keras 2's ``hard_sigmoid`` keeps its ``0.2 x + 0.5`` formula), ``load_keras_weights`` into a built
  model, ``training_config`` for ``compile=True``. Weights are matched by Keras's structure (paths in
  ``.keras`` / ``.weights.h5``, layer names then order in legacy ``.h5``) and every shape is checked
  before anything is assigned.
- ``keras_export``: writing. ``save_keras_archive``, ``save_keras_weights``, ``save_legacy_h5`` in the
  layouts Keras 3.15.1 writes, verified group by group against the conformance corpus's files.

Neither side unpickles or evaluates anything from a file.
"""

from __future__ import annotations

from .keras_export import save_keras_archive, save_keras_weights, save_legacy_h5
from .keras_import import (KERAS_VERSION, load_keras_archive, load_keras_weights, load_legacy_h5,
                           training_config)

__all__ = ["load_keras_archive", "load_legacy_h5", "load_keras_weights", "training_config",
           "save_keras_archive", "save_keras_weights", "save_legacy_h5", "KERAS_VERSION"]
