"""Hostile and damaged files: every loader and every CLI command that reads a file.

The corpus is built here, from a real small model saved in each format and then edited the way an
attacker or a broken disk would. Each case must end in one clear ``InputError`` (a ``ValueError``) that
names the file, with no side effect (the canary file never appears), bounded memory (tracemalloc peak)
and no hang (an alarm, not a speed assertion).
"""

from __future__ import annotations

import contextlib
import io
import json
import pickle
import signal
import struct
import tracemalloc
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from lstmkit import InputError
from lstmkit.cli.main import main
from lstmkit.forecast.forecaster import Forecaster
from lstmkit.layers import LSTM, Bidirectional, Dense, Input, Lambda
from lstmkit.models import Sequential, StreamState, custom_object_scope, load_model, model_from_json
from lstmkit.saving import file_limits
LOADERS = ("lstmkit", "keras", "h5")
SUFFIX = {"lstmkit": ".lstmkit", "keras": ".keras", "h5": ".h5"}


@pytest.fixture
def canary(tmp_path):
    path = tmp_path / "canary"
    yield path
    assert not path.exists(), "a file made lstmkit run code"


@contextlib.contextmanager
def bounded(seconds=60, megabytes=200):
    """No hang (alarm) and at most ``megabytes`` of Python allocations while loading."""
    def timeout(*_):
        raise TimeoutError(f"loading took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    tracemalloc.start()
    try:
        yield
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert peak < megabytes * 2**20, f"loading allocated {peak / 2**20:.0f} MB"


def refused(load, *args, match=None, **kwargs):
    """``load`` fails with one clear InputError (never SystemExit, RecursionError, MemoryError...)."""
    with bounded():
        with pytest.raises(InputError, match=match) as info:
            load(*args, **kwargs)
    return str(info.value)


def small_model(units=4):
    torch.manual_seed(0)
    model = Sequential([Input((5, 3)), LSTM(units), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def saved(tmp_path, kind, model=None, name="m"):
    path = tmp_path / f"{name}{SUFFIX[kind]}"
    (model or small_model()).save(path)
    return path


def rewrite_zip(source: Path, target: Path, changes: dict, compression=zipfile.ZIP_STORED, extra=()):
    """A copy of the archive with members replaced (bytes, or a function of the old bytes) or added."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression=compression) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            change = changes.get(info.filename)
            new.writestr(info.filename, change(data) if callable(change) else change if change is not None else data)
        for name, data in extra:
            new.writestr(name, data)
    return target


def edit_config(tmp_path, kind, edit, name="edited"):
    """Save a small model as ``kind``, then rewrite its model config with ``edit(config) -> config``."""
    path = saved(tmp_path, kind)
    target = tmp_path / f"{name}{SUFFIX[kind]}"
    if kind == "h5":
        target.write_bytes(path.read_bytes())
        with h5py.File(target, "r+") as f:
            f.attrs["model_config"] = json.dumps(edit(json.loads(f.attrs["model_config"])))
        return target
    return rewrite_zip(path, target, {"config.json": lambda data: json.dumps(edit(json.loads(data))).encode()})


def sequential_layers(config):
    return config["config"]["layers"]


def with_lambda(function, arguments=None, **more):
    def edit(config):
        entry = {"module": "keras.layers", "class_name": "Lambda",
                 "config": {"name": "evil", "trainable": True, "function": function,
                            "arguments": arguments or {}, **more}}
        sequential_layers(config).insert(2, entry)  # between the LSTM and the Dense
        return config
    return edit


def named(module, name):
    return {"module": module, "class_name": "function", "config": name, "registered_name": None}


# -- safe mode ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("module,name", [("torch", "save"), ("sys", "exit"), ("builtins", "input"),
                                         ("os", "system"), ("posix", "remove"), ("numpy", "save")])
def test_a_file_naming_a_function_cannot_make_loading_call_it(tmp_path, canary, kind, module, name):
    path = edit_config(tmp_path, kind, with_lambda(named(module, name), {"f": str(canary), "file": str(canary)}))
    message = refused(load_model, path, match="safe mode")
    assert f"'{module}.{name}'" in message and "custom_objects" in message and "safe_mode=False" in message
    assert "Lambda" in message and str(path) in message


def test_model_from_json_and_layer_deserialize_follow_safe_mode_too(tmp_path, canary):
    model = small_model()
    config = with_lambda(named("torch", "save"), {"f": str(canary)})(json.loads(model.to_json()))
    refused(model_from_json, json.dumps(config), match="safe mode")
    from lstmkit import layers
    refused(layers.deserialize, sequential_layers(config)[2], match="safe mode")


def test_keras_h5_with_marshalled_lambda_code_is_refused_in_every_mode(tmp_path, canary):
    code = "4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMEAAAAfABTACkBTqkAKQHaAXhyAQAAAHIBAAAA+gg8c3RkaW4+"
    edit = with_lambda([code, None, None], function_type="lambda", module="__main__", output_shape=None,
                       output_shape_type="raw")
    for kind in LOADERS:
        path = edit_config(tmp_path, kind, edit, name=f"bytecode_{kind}")
        refused(load_model, path, match="bytecode")
        refused(load_model, path, safe_mode=False, match="bytecode")


def keep_last(x):
    return x


@pytest.mark.parametrize("kind", LOADERS)
def test_the_caller_allows_its_own_functions(tmp_path, kind):
    model = Sequential([Input((5, 3)), LSTM(4, return_sequences=True), Lambda(keep_last), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    path = saved(tmp_path, kind, model)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    refused(load_model, path, match=r"custom_objects=\{'keep_last': keep_last\}")
    loaded = load_model(path, custom_objects={"keep_last": keep_last})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    with custom_object_scope({"keep_last": keep_last}):
        assert load_model(path).layers[1].function is keep_last
    assert load_model(path, safe_mode=False).layers[1].function is keep_last  # this module is imported


def test_saved_lambdas_carry_their_output_shape_so_loading_never_calls_them(tmp_path):
    calls = []

    def spy(x):
        calls.append(1)
        return x[:, -1]
    model = Sequential([Input((5, 3)), LSTM(4, return_sequences=True), Lambda(spy), Dense(1)])
    path = saved(tmp_path, "lstmkit", model)
    calls.clear()
    loaded = load_model(path, custom_objects={"spy": spy})
    assert calls == [] and loaded.output_shape == (None, 1)


# -- bounded reading ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lstmkit", "keras"])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, canary, kind):
    path = saved(tmp_path, kind)
    bomb = rewrite_zip(path, tmp_path / f"bomb{SUFFIX[kind]}", {"config.json": b" " * (64 * 2**20) + b"{}"},
                       compression=zipfile.ZIP_DEFLATED)
    assert bomb.stat().st_size < 2**20
    refused(load_model, bomb, match="zip bomb")


def test_a_member_that_lies_about_its_size_is_refused(tmp_path):
    path = saved(tmp_path, "lstmkit")
    blob = bytearray(path.read_bytes())
    config_size = len(zipfile.ZipFile(path).read("config.json"))
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local header, central directory
        start = 0
        while (start := blob.find(signature, start)) >= 0:
            if struct.unpack_from("<I", blob, start + offset)[0] == config_size:
                struct.pack_into("<I", blob, start + offset, config_size // 2)
            start += 4
    lying = tmp_path / "lying.lstmkit"
    lying.write_bytes(bytes(blob))
    refused(load_model, lying)


def deep(levels):
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("kind", LOADERS)
def test_deeply_nested_json_is_one_clear_error(tmp_path, kind):
    path = saved(tmp_path, kind)
    target = tmp_path / f"deep{SUFFIX[kind]}"
    if kind == "h5":
        target.write_bytes(path.read_bytes())
        with h5py.File(target, "r+") as f:
            f.attrs["model_config"] = deep(100_000)
    else:
        rewrite_zip(path, target, {"config.json": deep(100_000).encode()})
    refused(load_model, target, match="nested at most")
    refused(model_from_json, deep(100_000), match="nested at most")
    refused(model_from_json, deep(150), match="nested at most")


@pytest.mark.parametrize("kind", LOADERS)
def test_sizes_in_a_config_are_checked_against_the_weights_in_the_file(tmp_path, kind):
    def huge(config):
        sequential_layers(config)[1]["config"]["units"] = 200_000
        return config
    path = edit_config(tmp_path, kind, huge)
    message = refused(load_model, path, match="weights can fill")
    assert "200000" in message.replace(",", "") or "800000" in message.replace(",", "")


def test_a_bidirectional_model_is_within_its_budget(tmp_path):
    model = Sequential([Input((5, 3)), Bidirectional(LSTM(4)), Dense(1)])
    for kind in LOADERS:
        loaded = load_model(saved(tmp_path, kind, model, name=f"bi_{kind}"))
        assert loaded.count_params() == model.count_params()


@pytest.mark.parametrize("kind", LOADERS)
def test_truncated_files_are_one_clear_error(tmp_path, kind):
    path = saved(tmp_path, kind)
    blob = path.read_bytes()
    for cut in np.linspace(0, len(blob) - 1, 12).astype(int):
        broken = tmp_path / f"cut{cut}{SUFFIX[kind]}"
        broken.write_bytes(blob[:cut])
        message = refused(load_model, broken)
        assert broken.name in message


def test_path_traversal_member_names_write_nothing(tmp_path, canary):
    path = saved(tmp_path, "keras")
    evil = rewrite_zip(path, tmp_path / "evil.keras", {},
                       extra=[("../canary", b"x"), (f"../../{canary.name}", b"x"), ("/tmp/abs_canary", b"x")])
    before = sorted(p.name for p in tmp_path.iterdir())
    model = load_model(evil)  # extra members are never extracted, and the model's own members are intact
    assert model.count_params() == small_model().count_params()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def safetensors_blob(header: dict | bytes, data: bytes = b"") -> bytes:
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


LYING_SAFETENSORS = {
    "huge header length": struct.pack("<Q", 2**62) + b"{}",
    "offsets past the end": safetensors_blob({"00000": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}),
    "shape of a terabyte": safetensors_blob({"00000": {"dtype": "F32", "shape": [2**38], "data_offsets": [0, 16]}},
                                            b"\0" * 16),
    "not JSON": safetensors_blob(b"\xff\xfe not json"),
    "unknown dtype": safetensors_blob({"00000": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
}


@pytest.mark.parametrize("case", sorted(LYING_SAFETENSORS))
def test_lying_safetensors_headers(tmp_path, case):
    blob = LYING_SAFETENSORS[case]
    model = small_model()
    archive = rewrite_zip(saved(tmp_path, "lstmkit"), tmp_path / "lying.lstmkit", {"model.safetensors": blob})
    refused(load_model, archive)
    weights = tmp_path / "lying.safetensors"
    weights.write_bytes(blob)
    refused(model.load_weights, weights)
    state = StreamState(Sequential([Input((None, 3)), LSTM(4, return_sequences=True)]))
    refused(state.load, weights)


class Evil:
    """A pickle that creates the canary when unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("suffix", [".lstmkit", ".keras", ".h5", ".weights.h5", ".safetensors", ".pt", ".json"])
def test_pickles_under_any_name_are_never_unpickled(tmp_path, canary, suffix):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(Evil(canary)))
    refused(load_model, path)
    refused(small_model().load_weights, path)
    refused(StreamState(Sequential([Input((None, 3)), LSTM(4, return_sequences=True)])).load, path)
    torch_zip = tmp_path / f"torch{suffix}"
    torch.save({"x": torch.zeros(1), "evil": Evil(canary)}, torch_zip)  # a zip archive holding data.pkl
    refused(load_model, torch_zip)
    refused(small_model().load_weights, torch_zip)


def test_a_forecaster_folder_with_hostile_files(tmp_path, canary):
    folder = tmp_path / "fc"
    folder.mkdir()
    (folder / "forecaster.json").write_bytes(pickle.dumps(Evil(canary)))
    refused(Forecaster.load, folder, match="JSON")
    (folder / "forecaster.json").write_text(deep(100_000))
    refused(Forecaster.load, folder, match="nested at most")
    state = {"format": "lstmkit.forecaster/1", "config": {}, "scaler": {"class": "FunctionTransformer",
                                                                             "params": {"func": "os.system"}}}
    (folder / "forecaster.json").write_text(json.dumps(state))
    refused(Forecaster.load, folder)


def test_scaler_states_name_only_scalers():
    from lstmkit.data import SeriesScaler

    refused(SeriesScaler.from_state, {"class": "FunctionTransformer", "params": {}}, match="MinMaxScaler")
    refused(SeriesScaler.from_state, {"class": "__class__", "params": {}})
    state = {"class": "MinMaxScaler", "params": {}, "per_group": False, "columns": None, "n_features_in": 1,
             "feature_names_in": None, "scaled_columns": [0], "scalers": [{"group": None,
                                                                          "fitted": {"__dict__": 1}}]}
    refused(SeriesScaler.from_state, state, match="fitted attributes")


# -- unknown classes at every level ---------------------------------------------------------------------------
def _set(path):
    def edit(config):
        target = config
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = {"module": "evil", "class_name": "Evil", "config": {}, "registered_name": None}
        return config
    return edit


UNKNOWN_AT = {
    "layer": ["config", "layers", 1],
    "initializer": ["config", "layers", 1, "config", "kernel_initializer"],
    "regularizer": ["config", "layers", 1, "config", "kernel_regularizer"],
    "constraint": ["config", "layers", 2, "config", "kernel_constraint"],
    "activation": ["config", "layers", 2, "config", "activation"],
}


@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("level", sorted(UNKNOWN_AT))
def test_unknown_classes_at_every_level(tmp_path, canary, kind, level):
    path = edit_config(tmp_path, kind, _set(UNKNOWN_AT[level]))
    message = refused(load_model, path)
    assert "Evil" in message


def test_unknown_cell_inside_a_wrapper(tmp_path):
    model = Sequential([Input((5, 3)), Bidirectional(LSTM(4)), Dense(1)])

    def edit(config):
        sequential_layers(config)[1]["config"]["layer"] = {"module": "evil", "class_name": "Evil", "config": {}}
        return config
    for kind in LOADERS:
        path = saved(tmp_path, kind, model, name=f"bi_{kind}")
        target = tmp_path / f"bi_edit{SUFFIX[kind]}"
        if kind == "h5":
            target.write_bytes(path.read_bytes())
            with h5py.File(target, "r+") as f:
                f.attrs["model_config"] = json.dumps(edit(json.loads(f.attrs["model_config"])))
        else:
            rewrite_zip(path, target, {"config.json": lambda data: json.dumps(edit(json.loads(data))).encode()})
        assert "Evil" in refused(load_model, target)


def test_an_unknown_optimizer_or_loss_leaves_the_model_uncompiled_with_a_warning(tmp_path):
    path = saved(tmp_path, "lstmkit")

    def edit(data):
        config = json.loads(data)
        config["compile_config"]["optimizer"] = {"module": "evil", "class_name": "Evil", "config": {}}
        return json.dumps(config).encode()
    target = rewrite_zip(path, tmp_path / "opt.lstmkit", {"config.json": edit})
    with pytest.warns(UserWarning, match="uncompiled"):
        model = load_model(target)
    assert not model.compiled


# -- stream states ----------------------------------------------------------------------------------------------
def stream_model():
    torch.manual_seed(0)
    return Sequential([Input((None, 3)), LSTM(4, return_sequences=True), Dense(1)])


def test_stream_state_files_are_checked(tmp_path):
    model = stream_model()
    state = StreamState(model)
    state.predict(np.zeros((2, 3, 3), "float32"), ids=["a", "b"])
    path = tmp_path / "s.safetensors"
    state.save(path)
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    tensors = st_load(path.read_bytes())
    metadata = json.loads(path.read_bytes()[8:8 + struct.unpack("<Q", path.read_bytes()[:8])[0]])["__metadata__"]
    cases = {"unhashable id": {**metadata, "ids": json.dumps([["list", [1]], ["str", "b"]])},
             "deep ids": {**metadata, "ids": deep(50_000)},
             "repeated ids": {**metadata, "ids": json.dumps([["str", "a"], ["str", "a"]])},
             "wrong count": {**metadata, "ids": json.dumps([["str", "a"]])},
             "missing layer": {**metadata, "names": json.dumps(["x", "y"])}}
    for name, meta in cases.items():
        bad = tmp_path / f"{name.replace(' ', '_')}.safetensors"
        bad.write_bytes(st_save(tensors, metadata=meta))
        refused(StreamState(model).load, bad)
    ints = tmp_path / "ints.safetensors"
    ints.write_bytes(st_save({k: v.to(torch.int64) for k, v in tensors.items()}, metadata=metadata))
    refused(StreamState(model).load, ints, match="floating")
    refused(StreamState(model, max_streams=1).load, path, match="max_streams=1")


def test_max_streams_evicts_the_least_recently_used():
    model = stream_model()
    bounded_state, full = StreamState(model, max_streams=2), StreamState(model)
    x = np.random.default_rng(0).normal(size=(1, 3, 3)).astype("float32")
    for stream in ["a", "b", "a", "c"]:  # c evicts b (a was used after b)
        bounded_state.predict(x, ids=[stream])
        full.predict(x, ids=[stream])
    assert sorted(bounded_state.ids) == ["a", "c"] and bounded_state.evicted == 1
    for stream in ["a", "c"]:
        for mine, theirs in zip(bounded_state.states(stream)[next(iter(bounded_state.states(stream)))],
                                full.states(stream)[next(iter(full.states(stream)))]):
            torch.testing.assert_close(mine, theirs)
    out_b = bounded_state.predict(x, ids=["b"])  # b restarts from zeros: like a fresh stream
    np.testing.assert_allclose(out_b, StreamState(model).predict(x, ids=["b"]), rtol=1e-6)
    bounded_state.drop("b")
    assert "b" not in bounded_state
    with pytest.raises(InputError, match="unknown id"):
        bounded_state.drop("zzz")
    with pytest.raises(InputError, match="at most max_streams=2"):
        bounded_state.predict(np.zeros((3, 3, 3), "float32"), ids=["x", "y", "z"])


# -- the command line ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["summary", "convert"])
def test_cli_commands_refuse_hostile_files_with_one_line(tmp_path, canary, capsys, command):
    path = edit_config(tmp_path, "keras", with_lambda(named("torch", "save"), {"f": str(canary)}))
    argv = [command, str(path)] + ([str(tmp_path / "out.lstmkit")] if command == "convert" else [])
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lstmkit {command}: error: ") and "safe mode" in err and len(err.splitlines()) == 1
    deep_file = tmp_path / "deep.keras"
    rewrite_zip(saved(tmp_path, "keras"), deep_file, {"config.json": deep(100_000).encode()})
    assert main([command, str(deep_file)] + argv[2:]) == 1
    assert "nested at most" in capsys.readouterr().err


def test_file_limits_are_the_documented_ones():
    limits = file_limits.LIMITS
    assert (limits.max_members, limits.max_ratio, limits.max_json_depth) == (64, 200, 100)
    with pytest.raises(InputError, match="at most 100 levels"):
        file_limits.parse_json(deep(101), "x.json", "x.json")
    assert file_limits.parse_json(deep(100), "x.json", "x.json") == json.loads(deep(100))
    assert file_limits.json_depth(json.loads(deep(7)), 100) == 7
    with io.BytesIO() as buffer:
        with zipfile.ZipFile(buffer, "w") as archive:
            for i in range(65):
                archive.writestr(f"m{i}", b"")
        with zipfile.ZipFile(buffer) as archive, pytest.raises(InputError, match="at most 64 members"):
            file_limits.check_archive(archive, "many.zip")
