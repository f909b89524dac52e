"""Keras files in and out: the corpus's ``.keras`` / ``.weights.h5`` / legacy ``.h5`` files written by Keras
3.15.1 load with Keras's outputs; Keras 2 legacy files (written here byte-layout-exactly with h5py) keep
Keras 2's ``hard_sigmoid``; what lstmkit writes has the corpus files' exact HDF5 layout and reloads to the
same outputs; damaged or mismatched files fail with messages naming the problem and the fix."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from lstmkit.layers import LSTM, Bidirectional, Dense, Input, TimeDistributed
from lstmkit.models import Model, Sequential, model_from_config
from lstmkit.saving.keras_files import (KERAS_VERSION, load_keras_archive, load_keras_weights, load_legacy_h5,
                                        save_keras_archive, save_keras_weights, save_legacy_h5,
                                        training_config)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "keras_conformance"
CASES = {c["id"]: c for c in json.loads((CORPUS / "manifest.json").read_text())["cases"]
         if c["kind"] == "file_import"}
IDS = sorted(CASES)


def _expected(case_id: str) -> tuple[np.ndarray, np.ndarray, dict]:
    data = np.load(CORPUS / f"{case_id}.npz")
    return data["x"], data["y0"], CASES[case_id]["tolerance"]


def _run(model, x: np.ndarray) -> np.ndarray:
    return model(x, training=False).detach().numpy()


def _fresh(case_id: str):
    """The corpus model rebuilt from its config, every weight zeroed (so loading must fill them all)."""
    model = model_from_config(CASES[case_id]["config"])
    with torch.no_grad():
        for weight in model.weights:
            weight.zero_()
    return model


# -- reading the corpus ---------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", IDS)
@pytest.mark.parametrize("suffix,loader", [(".keras", load_keras_archive), (".h5", load_legacy_h5)])
def test_full_model_files_reproduce_keras_outputs(case_id, suffix, loader):
    x, y0, tol = _expected(case_id)
    model = loader(CORPUS / f"{case_id}{suffix}")
    config = CASES[case_id]["config"]
    names = [entry["config"]["name"] for entry in config["config"]["layers"]]
    if config["class_name"] == "Sequential":  # a Sequential's layers do not include its InputLayer
        names = names[1:]
    assert [layer.name for layer in model.layers] == names
    np.testing.assert_allclose(_run(model, x), y0, **tol)


@pytest.mark.parametrize("case_id", IDS)
@pytest.mark.parametrize("suffix", [".weights.h5", ".keras", ".h5"])
def test_load_keras_weights_fills_every_weight(case_id, suffix):
    x, y0, tol = _expected(case_id)
    model = _fresh(case_id)
    load_keras_weights(model, CORPUS / f"{case_id}{suffix}")
    np.testing.assert_allclose(_run(model, x), y0, **tol)


def test_weights_are_matched_by_keras_path_not_by_layer_name_order():
    # In the BiLSTM model the hidden Dense is named dense_6 and the output dense_5; Keras files them as
    # layers/dense (first in model.layers) and layers/dense_1. Each must get its own kernel.
    model = _fresh("file_bilstm")
    load_keras_weights(model, CORPUS / "file_bilstm.weights.h5")
    with h5py.File(CORPUS / "file_bilstm.h5", "r") as legacy:  # named by layer in the legacy file
        for name in ("dense_6", "dense_5"):
            kernel = np.asarray(legacy[f"model_weights/{name}/{name}/kernel"])
            np.testing.assert_array_equal(model.get_layer(name).kernel.detach().numpy(), kernel)
        backward = np.asarray(legacy["model_weights/bidirectional_7/bidirectional_7/backward_lstm_42/"
                                     "lstm_cell/recurrent_kernel"])
    backward_cell = model.get_layer("bidirectional_7").backward_layer.cell
    np.testing.assert_array_equal(backward_cell.recurrent_kernel.detach().numpy(), backward)


def test_uncompiled_files_have_no_training_config():
    for case_id in IDS:
        assert training_config(CORPUS / f"{case_id}.keras") is None
        assert training_config(CORPUS / f"{case_id}.h5") is None


# -- Keras 2 legacy files -------------------------------------------------------------------------
UNITS, FEATURES, STEPS = 4, 2, 6
KERAS2_TRAINING = {"loss": "mse", "metrics": None, "weighted_metrics": None, "loss_weights": None,
                   "optimizer_config": {"class_name": "Custom>Adam", "config": {
                       "name": "Adam", "learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999,
                       "epsilon": 1e-07, "amsgrad": False}, "is_legacy_optimizer": False}}


def _keras2_initializer(name: str) -> dict:
    return {"class_name": name, "config": {"seed": None} if name != "Zeros" else {}}


def _keras2_config(variant: str) -> dict:
    """``model_config`` as tf.keras 2.12 (``"tf2"``) or Keras 2.2.4 (``"keras224"``) wrote it for
    ``Sequential([LSTM(4, input_shape=(6, 2)), Dense(1)])`` (recurrent_activation defaulted to hard_sigmoid
    in Keras 2)."""
    lstm = {"name": "lstm" if variant == "tf2" else "lstm_1", "trainable": True, "dtype": "float32",
            "batch_input_shape": [None, STEPS, FEATURES], "return_sequences": False, "return_state": False,
            "go_backwards": False, "stateful": False, "unroll": False, "units": UNITS, "activation": "tanh",
            "recurrent_activation": "hard_sigmoid", "use_bias": True,
            "kernel_initializer": _keras2_initializer("GlorotUniform"),
            "recurrent_initializer": {"class_name": "Orthogonal", "config": {"gain": 1.0, "seed": None}},
            "bias_initializer": _keras2_initializer("Zeros"), "unit_forget_bias": True,
            "kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
            "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
            "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}
    dense = {"name": "dense" if variant == "tf2" else "dense_1", "trainable": True, "dtype": "float32",
             "units": 1, "activation": "linear", "use_bias": True,
             "kernel_initializer": _keras2_initializer("GlorotUniform"),
             "bias_initializer": _keras2_initializer("Zeros"), "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
             "bias_constraint": None}
    layers = [{"class_name": "LSTM", "config": lstm}, {"class_name": "Dense", "config": dense}]
    if variant == "keras224":  # Sequential's config was the bare layer list; LSTM had implementation=1
        lstm["implementation"] = 1
        lstm["kernel_initializer"] = {"class_name": "VarianceScaling", "config": {
            "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}
        return {"class_name": "Sequential", "config": layers}
    lstm["time_major"] = False
    del lstm["batch_input_shape"]
    input_layer = {"class_name": "InputLayer", "config": {"batch_input_shape": [None, STEPS, FEATURES],
                                                          "dtype": "float32", "sparse": False,
                                                          "ragged": False, "name": "lstm_input"}}
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [input_layer, *layers]}}


def _write_keras2_h5(path: Path, variant: str, weights: list[np.ndarray]) -> None:
    """Keras 2's ``save_model_to_hdf5`` layout: string root attributes, ``model_weights`` with
    ``layer_names`` (fixed-length byte strings, as h5py 2 stored Keras 2's lists), one group per layer
    with ``weight_names`` and datasets at ``<layer>/<layer>[/lstm_cell]/kernel:0``."""
    version = "2.12.0" if variant == "tf2" else "2.2.4"
    lstm, dense = ("lstm", "dense") if variant == "tf2" else ("lstm_1", "dense_1")
    cell = f"{lstm}/lstm_cell" if variant == "tf2" else lstm  # tf.keras scoped the cell's variables
    names = {lstm: [f"{cell}/kernel:0", f"{cell}/recurrent_kernel:0", f"{cell}/bias:0"],
             dense: [f"{dense}/kernel:0", f"{dense}/bias:0"]}
    values = {lstm: weights[:3], dense: weights[3:]}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = version if variant == "tf2" else version.encode("utf8")
        f.attrs["backend"] = "tensorflow" if variant == "tf2" else b"tensorflow"
        f.attrs["model_config"] = json.dumps(_keras2_config(variant)).encode("utf8")
        if variant == "tf2":
            f.attrs["training_config"] = json.dumps(KERAS2_TRAINING).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([lstm.encode(), dense.encode()])
        group.attrs["backend"] = b"tensorflow"
        group.attrs["keras_version"] = version.encode("utf8")
        for layer in sorted(names):
            layer_group = group.create_group(layer)
            layer_group.attrs["weight_names"] = np.array([n.encode() for n in names[layer]])
            for name, value in zip(names[layer], values[layer]):
                layer_group.create_dataset(name, data=value)
        if variant == "tf2":
            group.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])


def _reference(x: np.ndarray, weights: list[np.ndarray], gate) -> np.ndarray:
    """NumPy LSTM (gates i, f, c, o) + Dense, float64."""
    kernel, recurrent, bias, dense_kernel, dense_bias = [w.astype(np.float64) for w in weights]
    h = c = np.zeros((x.shape[0], UNITS))
    for t in range(x.shape[1]):
        z = x[:, t].astype(np.float64) @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=1)
        c = gate(f) * c + gate(i) * np.tanh(g)
        h = gate(o) * np.tanh(c)
    return h @ dense_kernel + dense_bias


def _hard_sigmoid_keras2(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


def _hard_sigmoid_keras3(z):
    return np.clip(z / 6.0 + 0.5, 0.0, 1.0)


@pytest.mark.parametrize("variant", ["tf2", "keras224"])
def test_keras2_legacy_h5_uses_keras2_hard_sigmoid(tmp_path, variant):
    rng = np.random.default_rng(7)
    weights = [rng.normal(0, 1.0, (FEATURES, 4 * UNITS)), rng.normal(0, 1.0, (UNITS, 4 * UNITS)),
               rng.normal(0, 1.0, (4 * UNITS,)), rng.normal(0, 1.0, (UNITS, 1)), rng.normal(0, 1.0, (1,))]
    weights = [w.astype(np.float32) for w in weights]
    x = rng.normal(0, 1.5, (3, STEPS, FEATURES)).astype(np.float32)
    path = tmp_path / f"keras2_{variant}.h5"
    _write_keras2_h5(path, variant, weights)

    model = load_legacy_h5(path)
    got = _run(model, x)
    keras2 = _reference(x, weights, _hard_sigmoid_keras2)
    np.testing.assert_allclose(got, keras2, atol=1e-5, rtol=1e-4)
    assert np.abs(_reference(x, weights, _hard_sigmoid_keras3) - keras2).max() > 1e-2  # the formula matters
    assert training_config(path) == (KERAS2_TRAINING if variant == "tf2" else None)

    fresh = load_legacy_h5(path)  # the same weights also load by name into an existing model
    with torch.no_grad():
        for weight in fresh.weights:
            weight.zero_()
    load_keras_weights(fresh, path)
    np.testing.assert_array_equal(_run(fresh, x), got)


def _keras2_lstm(name: str, go_backwards: bool) -> dict:
    config = _keras2_config("tf2")["config"]["layers"][1]["config"]
    return {"class_name": "LSTM", "config": {**config, "name": name, "units": 3, "return_sequences": True,
                                             "go_backwards": go_backwards}}


def test_keras2_functional_bidirectional_file(tmp_path):
    """tf.keras 2.x functional layout: ``[[layer, node, tensor, kwargs]]`` inbound nodes, list-wrapped
    endpoints, a Bidirectional's nested LSTMs and a TimeDistributed Dense, all with hard_sigmoid."""
    dense = _keras2_config("tf2")["config"]["layers"][2]["config"]
    layers = [
        {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [], "config": {
            "batch_input_shape": [None, 4, 2], "dtype": "float32", "sparse": False, "ragged": False,
            "name": "input_1"}},
        {"class_name": "Bidirectional", "name": "bidirectional", "inbound_nodes": [[["input_1", 0, 0, {}]]],
         "config": {"name": "bidirectional", "trainable": True, "dtype": "float32", "merge_mode": "concat",
                    "layer": _keras2_lstm("lstm", False), "backward_layer": _keras2_lstm("lstm", True)}},
        {"class_name": "TimeDistributed", "name": "time_distributed",
         "inbound_nodes": [[["bidirectional", 0, 0, {}]]],
         "config": {"name": "time_distributed", "trainable": True, "dtype": "float32", "layer": {
             "class_name": "Dense", "config": {**dense, "activation": "hard_sigmoid"}}}}]
    config = {"class_name": "Functional", "config": {
        "name": "model", "layers": layers, "input_layers": [["input_1", 0, 0]],
        "output_layers": [["time_distributed", 0, 0]]}}
    rng = np.random.default_rng(3)
    shapes = [(2, 12), (3, 12), (12,)] * 2 + [(6, 1), (1,)]
    weights = [rng.normal(0, 1.0, shape).astype(np.float32) for shape in shapes]
    names = [f"bidirectional/{side}_lstm/lstm_cell/{w}:0" for side in ("forward", "backward")
             for w in ("kernel", "recurrent_kernel", "bias")] + ["time_distributed/kernel:0",
                                                                  "time_distributed/bias:0"]
    path = tmp_path / "keras2_functional.h5"
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.11.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode("utf8")
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = np.array([b"input_1", b"bidirectional", b"time_distributed"])
        group.create_group("input_1").attrs["weight_names"] = np.array([])
        for layer, members in (("bidirectional", slice(0, 6)), ("time_distributed", slice(6, 8))):
            layer_group = group.create_group(layer)
            layer_group.attrs["weight_names"] = np.array([n.encode() for n in names[members]])
            for name, value in zip(names[members], weights[members]):
                layer_group.create_dataset(name, data=value)

    model = load_legacy_h5(path)
    bidirectional = model.get_layer("bidirectional")
    assert {bidirectional.forward_layer.cell.recurrent_activation.__name__,
            bidirectional.backward_layer.cell.recurrent_activation.__name__,
            model.get_layer("time_distributed").layer.activation.__name__} == {"hard_sigmoid_keras2"}

    inputs = Input(shape=(4, 2))
    reference = Model(inputs, TimeDistributed(Dense(1, activation="hard_sigmoid_keras2"))(Bidirectional(
        LSTM(3, return_sequences=True, recurrent_activation="hard_sigmoid_keras2"))(inputs)))
    reference.set_weights(weights)
    x = rng.normal(0, 1.5, (2, 4, 2)).astype(np.float32)
    got = _run(model, x)  # one tensor, as Keras returns for a single output
    assert got.shape == (2, 4, 1)
    np.testing.assert_allclose(got, _run(reference, x), atol=1e-6, rtol=1e-6)


# -- writing --------------------------------------------------------------------------------------
def _layout(f: h5py.Group) -> dict:
    """Every group and dataset path with dataset shapes / dtypes and each attribute's value and HDF5
    string kind (variable-length or not, ASCII or UTF-8)."""
    def attrs(obj):
        out = {}
        for key in obj.attrs:
            aid = obj.attrs.get_id(key)
            kind = aid.get_type()
            string = isinstance(kind, h5py.h5t.TypeStringID)
            value = obj.attrs[key]
            value = tuple(np.asarray(value).ravel().tolist()) if isinstance(value, np.ndarray) else value
            if key in ("model_config", "training_config"):
                value = json.loads(value)
            out[key] = (type(kind).__name__, string and kind.is_variable_str(),
                        kind.get_cset() if string else None, aid.get_space().shape, value)
        return out

    found = {"/": ("group", attrs(f))}
    f.visititems(lambda name, obj: found.__setitem__(name, (
        ("dataset", obj.shape, str(obj.dtype), obj.chunks, attrs(obj)) if isinstance(obj, h5py.Dataset)
        else ("group", attrs(obj)))))
    return found


def _archive_weights(path: Path) -> h5py.File:
    return h5py.File(io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")), "r")


@pytest.mark.parametrize("case_id", IDS)
def test_written_files_have_keras_layout_and_reload_identically(tmp_path, case_id):
    x, y0, tol = _expected(case_id)
    model = load_keras_archive(CORPUS / f"{case_id}.keras")
    expected = _run(model, x)

    save_keras_archive(model, tmp_path / "m.keras")
    save_keras_weights(model, tmp_path / "m.weights.h5")
    save_legacy_h5(model, tmp_path / "m.h5")

    with _archive_weights(CORPUS / f"{case_id}.keras") as keras_file, \
            _archive_weights(tmp_path / "m.keras") as ours:
        assert _layout(ours) == _layout(keras_file)
    for suffix in (".weights.h5", ".h5"):
        with h5py.File(CORPUS / f"{case_id}{suffix}", "r") as keras_file, \
                h5py.File(tmp_path / f"m{suffix}", "r") as ours:
            assert _layout(ours) == _layout(keras_file)

    archive = zipfile.ZipFile(tmp_path / "m.keras")
    assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
    assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
    metadata = json.loads(archive.read("metadata.json"))
    assert metadata["keras_version"] == KERAS_VERSION and len(metadata["date_saved"]) == 19
    config = json.loads(archive.read("config.json"))
    assert config["compile_config"] is None
    assert {k: v for k, v in config.items() if k != "compile_config"} == \
        {k: v for k, v in CASES[case_id]["config"].items() if k != "compile_config"}

    for path, loader in [("m.keras", load_keras_archive), ("m.h5", load_legacy_h5)]:
        reloaded = loader(tmp_path / path)
        np.testing.assert_array_equal(_run(reloaded, x), expected)
        np.testing.assert_allclose(_run(reloaded, x), y0, **tol)
    into = _fresh(case_id)
    load_keras_weights(into, tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(_run(into, x), expected)


def test_compile_settings_round_trip(tmp_path):
    model = load_keras_archive(CORPUS / "file_stacked.keras")
    compile_config = {"optimizer": "adam", "loss": "mse", "metrics": None, "loss_weights": None,
                      "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
                      "jit_compile": False}
    save_keras_archive(model, tmp_path / "c.keras", compile_config=compile_config)
    save_legacy_h5(model, tmp_path / "c.h5", training_config=KERAS2_TRAINING)
    assert training_config(tmp_path / "c.keras") == compile_config
    assert training_config(tmp_path / "c.h5") == KERAS2_TRAINING


def test_custom_layer_round_trip_and_unknown_class_error(tmp_path):
    class ScaledDense(Dense):
        pass

    inputs = Input(shape=(5, 3))
    model = Model(inputs, ScaledDense(2, name="scaled")(LSTM(4)(inputs)))
    save_keras_archive(model, tmp_path / "custom.keras")
    with zipfile.ZipFile(tmp_path / "custom.keras") as archive, \
            h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as weights:
        assert "layers/scaled_dense/vars/0" in weights  # Keras names groups by class, not by layer name

    with pytest.raises(ValueError, match=r"unknown class 'ScaledDense'.*custom_objects=\{\"ScaledDense\": "
                                         r"ScaledDense\}"):
        load_keras_archive(tmp_path / "custom.keras")
    loaded = load_keras_archive(tmp_path / "custom.keras", custom_objects={"ScaledDense": ScaledDense})
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    np.testing.assert_array_equal(_run(loaded, x), _run(model, x))


# -- errors ---------------------------------------------------------------------------------------
def _truncated(tmp_path: Path, source: str, fraction: float = 0.5) -> Path:
    data = (CORPUS / source).read_bytes()
    path = tmp_path / f"cut_{source}"
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def test_corrupt_archives_name_the_file_and_the_problem(tmp_path):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"definitely not a zip archive")
    with pytest.raises(ValueError, match=r"garbage\.keras.*not a zip archive"):
        load_keras_archive(garbage)
    with pytest.raises(ValueError, match=r"cut_file_stacked\.keras.*truncated"):
        load_keras_archive(_truncated(tmp_path, "file_stacked.keras"))
    with pytest.raises(ValueError, match=r"truncated"):
        training_config(_truncated(tmp_path, "file_stacked.keras"))

    no_config = tmp_path / "no_config.keras"
    with zipfile.ZipFile(CORPUS / "file_stacked.keras") as source, zipfile.ZipFile(no_config, "w") as target:
        for name in ("metadata.json", "model.weights.h5"):
            target.writestr(name, source.read(name))
    with pytest.raises(ValueError, match=r"no_config\.keras.*a config\.json member"):
        load_keras_archive(no_config)

    bad_json = tmp_path / "bad_json.keras"
    with zipfile.ZipFile(bad_json, "w") as target:
        target.writestr("config.json", "{not json")
    with pytest.raises(ValueError, match=r"config\.json expects JSON"):
        load_keras_archive(bad_json)


def test_corrupt_h5_files_name_the_file_and_the_problem(tmp_path):
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=r"garbage\.h5.*not HDF5"):
        load_legacy_h5(garbage)
    with pytest.raises(ValueError, match=r"cut_file_stacked\.h5.*truncated"):
        load_legacy_h5(_truncated(tmp_path, "file_stacked.h5"))
    with pytest.raises(ValueError, match=r"truncated"):
        load_keras_weights(_fresh("file_stacked"), _truncated(tmp_path, "file_stacked.weights.h5"))
    with pytest.raises(ValueError, match=r"model_config.*load_keras_weights\(model, path\)"):
        load_legacy_h5(CORPUS / "file_stacked.weights.h5")
    with pytest.raises(FileNotFoundError, match="no file"):
        load_legacy_h5(tmp_path / "missing.h5")


def _other_stacked(units: int = 8, dense_units: int = 1, lstms: int = 4) -> Sequential:
    layers = [Input(shape=(None, 1))]
    for index in range(lstms):
        layers.append(LSTM(units if index == 0 else 8, return_sequences=index < lstms - 1))
    return Sequential([*layers, Dense(dense_units)])


def test_shape_mismatch_names_layer_weight_and_both_shapes_and_changes_nothing():
    model = _other_stacked(units=5)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"weight 0 \(kernel\) of LSTM '\w+' / LSTMCell 'lstm_cell' "
                                         r"expects shape \(1, 20\); received shape \(1, 32\) "
                                         r"\(file: layers/lstm/cell/vars/0\)"):
        load_keras_weights(model, CORPUS / "file_stacked.weights.h5")
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)  # nothing assigned: the check precedes every write
    with pytest.raises(ValueError, match=r"weight 0 \(cell\.kernel\) of LSTM '\w+' expects shape "
                                         r"\(1, 20\); received shape \(1, 32\)"):
        load_keras_weights(model, CORPUS / "file_stacked.h5")


def test_count_mismatches_name_what_the_model_and_the_file_hold():
    smaller = _other_stacked(lstms=3)
    with pytest.raises(ValueError, match=r"number of layers with weights expects 4 .*received 5 in the file"):
        load_keras_weights(smaller, CORPUS / "file_stacked.h5")
    with pytest.raises(ValueError, match=r"weights at \['layers/lstm_3/cell/vars'\] that no layer"):
        load_keras_weights(smaller, CORPUS / "file_stacked.weights.h5")
    no_bias = Sequential([Input(shape=(None, 1)), *[LSTM(8, return_sequences=i < 3) for i in range(4)],
                          Dense(1, use_bias=False)])
    with pytest.raises(ValueError, match=r"Dense '\w+' \(file group layers/dense/vars\) expects 1 arrays "
                                         r"\[\(8, 1\)\]; received 2 arrays"):
        load_keras_weights(no_bias, CORPUS / "file_stacked.weights.h5")


def test_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "model.keras"
    save_keras_archive(load_keras_archive(CORPUS / "file_stacked.keras"), path)
    before = path.read_bytes()

    class Subclassed(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    model = Subclassed()
    model(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="subclassed model"):
        save_keras_archive(model, path)
    assert path.read_bytes() == before
    save_keras_weights(model, tmp_path / "sub.weights.h5")  # weights alone work for any model
    with h5py.File(tmp_path / "sub.weights.h5", "r") as f:
        assert sorted(f["dense/vars"].keys()) == ["0", "1"]
