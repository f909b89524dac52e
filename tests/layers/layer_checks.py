"""Shared checks for a layer: output shape vs ``compute_output_shape`` / symbolic shape, config round trip,
a save/load round trip of a small functional model holding the layer in every Keras file format, and
``run_layer_test``, which runs them all with the module contracts (Keras's ``run_layer_test``)."""

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


def run_layer_test(layer_cls: type, init_kwargs: dict | Callable[[], dict], inputs: Any, expected_output_shape: tuple, tmp_path: Path,
                   *, trainable_weights: int = 0, non_trainable_weights: int = 0, supports_double: bool = True,
                   grad_inputs: bool = True, separate_arguments: bool = False, saving: bool = True) -> None:
    """Keras's ``run_layer_test`` for lstmkit: every contract a layer owes its users, in one call.

    ``init_kwargs`` is a dict, or a function returning one (wrappers need a new inner layer per instance).
    ``inputs`` is an array ``(batch, ...)`` or a list of them (merging, attention), passed as one list or,
    with ``separate_arguments``, as separate arguments (``MultiHeadAttention(query, value)``). Checks:
    - a ``torch.nn.Module`` whose weights ``parameters()`` sees from construction (``UninitializedParameter``
      until the first call), ``trainable_weights`` / ``non_trainable_weights`` of them after it;
    - eager, ``compute_output_shape`` and symbolic (unknown batch) shapes all equal ``expected_output_shape``;
    - the config survives ``serialize`` -> JSON -> ``deserialize``;
    - ``state_dict`` loads into a fresh, never-called layer from the config and gives the same outputs;
    - gradients reach every input and every trainable weight, finite;
    - ``.double()`` computes in float64 (``supports_double``);
    - gradients reach the inputs too (``grad_inputs``; not for integer ids);
    - inference is deterministic, and a model holding the layer round-trips through ``.keras``, ``.h5``
      and ``.weights.h5`` (``saving``).
    """
    make_kwargs = init_kwargs if callable(init_kwargs) else lambda: dict(init_kwargs)
    many = isinstance(inputs, (list, tuple))
    arrays = [np.asarray(a, dtype=np.float32) for a in (inputs if many else [inputs])]
    tensors = [torch.from_numpy(a) for a in arrays]

    def call(target: Any, items: list) -> Any:
        return target(*items) if separate_arguments else target(items if many else items[0])

    layer = layer_cls(**make_kwargs())
    assert isinstance(layer, torch.nn.Module)
    declared = list(layer.parameters())
    layer.eval()
    with torch.no_grad():
        y = call(layer, tensors)
    assert tuple(y.shape) == tuple(expected_output_shape), (tuple(y.shape), expected_output_shape)
    assert len(layer.trainable_weights) == trainable_weights
    assert len(layer.non_trainable_weights) == non_trainable_weights
    assert len(declared) == len(list(layer.parameters())), "weights appeared that parameters() did not show"

    shapes = [tuple(a.shape) for a in arrays]
    assert tuple(layer.compute_output_shape(shapes if many else shapes[0])) == tuple(expected_output_shape)
    symbolic_in = [layers.Input(shape=s[1:]) for s in shapes]
    symbolic = call(layer_cls(**make_kwargs()), symbolic_in)
    assert tuple(symbolic.shape) == (None, *tuple(expected_output_shape)[1:])

    config = config_round_trip(layer)
    fresh = layer_cls.from_config(config)
    fresh.load_state_dict(layer.state_dict())
    fresh.eval()
    with torch.no_grad():
        np.testing.assert_allclose(numpy(call(fresh, tensors)), numpy(y), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(numpy(call(layer, tensors)), numpy(y))

    if supports_double:
        double = layer_cls.from_config(config)
        double.load_state_dict(layer.state_dict())
        double = double.double().eval()
        wide = [t.double() for t in tensors]
        with torch.no_grad():
            y64 = call(double, wide)
        assert y64.dtype == torch.float64
        np.testing.assert_allclose(numpy(y64), numpy(y), rtol=1e-4, atol=1e-5)

    layer.train()
    grads_in = [t.clone().requires_grad_(grad_inputs) for t in tensors]
    call(layer, grads_in).float().square().sum().backward()
    for t in grads_in if grad_inputs else []:
        assert t.grad is not None and torch.isfinite(t.grad).all()
    for weight in layer.trainable_weights:
        assert weight.grad is not None and torch.isfinite(weight.grad).all(), weight.shape

    if saving:
        def build() -> models.Model:
            ins = [layers.Input(shape=s[1:]) for s in shapes]
            return models.Model(ins if many else ins[0], call(layer_cls(**make_kwargs()), ins))
        check_saved_model(build, tensors if many else tensors[0], tmp_path)
