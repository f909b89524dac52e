"""Shared checks for a layer: output shape vs ``compute_output_shape`` / symbolic shape, config round trip,
and a save/load round trip of a small functional model holding the layer in every Keras file format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from lstmkit import layers, models


def numpy(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)


def config_round_trip(layer: layers.Layer) -> dict:
    """``serialize`` -> JSON -> ``deserialize`` gives a layer of the same class and the same config."""
    config = layer.get_config()
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    return config


def check_shapes(layer: layers.Layer, x: Any, expected: tuple) -> np.ndarray:
    """The eager output has ``expected`` shape, as do ``compute_output_shape`` and a symbolic call
    (batch left unknown)."""
    y = layer(x)
    assert tuple(y.shape) == expected
    shape = tuple(np.shape(x))
    assert tuple(layer.compute_output_shape(shape)) == expected
    symbolic = layer(layers.Input(shape=shape[1:]))
    assert tuple(symbolic.shape) == (None, *expected[1:])
    return numpy(y)


def check_saved_model(build: Callable[[], models.Model], inputs: Any, tmp_path: Path) -> None:
    """A model from ``build()`` gives the same outputs after ``.keras``, legacy ``.h5`` and
    ``.weights.h5`` round trips, and its JSON config reloads."""
    model = build()
    expected = [numpy(o) for o in _outputs(model(inputs, training=False))]
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"model{suffix}"
        model.save(str(path))
        again = models.load_model(str(path))
        for got, want in zip(_outputs(again(inputs, training=False)), expected):
            np.testing.assert_allclose(numpy(got), want, rtol=1e-6, atol=1e-6)
    path = tmp_path / "model.weights.h5"
    model.save_weights(str(path))
    fresh = models.model_from_json(model.to_json())
    fresh.load_weights(str(path))
    for got, want in zip(_outputs(fresh(inputs, training=False)), expected):
        np.testing.assert_allclose(numpy(got), want, rtol=1e-6, atol=1e-6)


def _outputs(result: Any) -> list:
    return list(result) if isinstance(result, (list, tuple)) else [result]
