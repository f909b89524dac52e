"""Per-stream state: stateful inference keyed by a stream id instead of a batch slot (beyond Keras).

Keras ties a stateful layer's memory to batch position i and a fixed batch size. A ``StreamState`` keeps,
for every recurrent layer of a model, one row of state per stream id: each ``predict(x, ids)`` call looks
up the rows of the ids it is given (zeros for an id it has not seen), runs the model from them, and writes
the final states back, leaving every other stream alone. Any batch size, any order; the model's weights
are the ones its Keras-style stateful mode uses, and its slot memory is not touched.

Storage: per layer and state, one ``(capacity, units)`` tensor on the model's device; ids map to rows.
With ``max_streams`` the store is bounded: a new stream beyond it evicts the least recently used one.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as safetensors_load
from safetensors.torch import save as safetensors_save

from .. import _validation
from ..mixed_precision.policy import to_numpy
from ..layers.base import Layer, call_is_forward
from ..layers.rnn.carry import carrying_states, recurrent_layers, stream_unsupported_reason
from . import data_adapter as data
from .plan import plan
from ..saving.atomic import atomic_path
from ..saving.file_limits import parse_json

FORMAT = "lstmkit.streams/1"


class StreamState:
    """The recurrent state of many streams (series, sensors, users) for one model.

    Args:
        model: a model with forward recurrent layers whose other layers act step by step (else a
            ValueError says which layer prevents it).
        max_streams: None (unbounded) or the most streams kept; a new stream beyond it evicts the least
            recently used streams (not those of the current call), counted in ``evicted``.

    Example:
        >>> state = StreamState(model)
        >>> y_a = state.predict(chunk_a, ids=["tank A"])           # (1, T, out)
        >>> y_ab = state.predict(np.stack([next_a, first_b]), ids=["tank A", "tank B"])
        >>> state.reset("tank A")                                    # tank A starts over
    """

    def __init__(self, model: torch.nn.Module, max_streams: int | None = None):
        self.max_streams = None if max_streams is None else _validation.positive_int("StreamState", "max_streams",
                                                                                        max_streams)
        self.evicted = 0
        self._recent: OrderedDict[Hashable, None] = OrderedDict()  # least recently used first
        reason = stream_unsupported_reason(model)
        if reason is not None:
            raise _validation.value_error("StreamState", "model", "a model whose layers act step by step, apart "
                                          "from forward recurrent layers", reason)
        self.model = model
        self._layers = {name: m for name, m in _named_recurrent(model)}
        self._rows: dict[Hashable, int] = {}  # stream id -> row in the state tensors
        self._free: list[int] = []
        self._tensors: dict[str, list[torch.Tensor]] | None = None  # allocated at the first call
        # the last call's ids as given (a tuple) and their rows, reused while no stream was added or removed:
        # a caller stepping the same streams (forecast.stateful) skips the per-id bookkeeping
        self._repeat: tuple[tuple, torch.Tensor] | None = None

    # -- inspection ---------------------------------------------------------------------------------
    @property
    def ids(self) -> list[Hashable]:
        """The streams that hold a state, in the order they were first seen."""
        return list(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, stream_id: Hashable) -> bool:
        return stream_id in self._rows

    def states(self, stream_id: Hashable) -> dict[str, list[torch.Tensor]]:
        """``{layer name: [state (units,), ...]}`` of one stream (``[h, c]`` per LSTM layer, ``[h]`` for
        GRU / SimpleRNN)."""
        if stream_id not in self._rows:
            raise _validation.value_error("StreamState", "stream id", f"one of the {len(self)} known streams",
                                          repr(stream_id))
        row = self._rows[stream_id]
        return {name: [t[row].clone() for t in tensors] for name, tensors in (self._tensors or {}).items()}

    # -- the call -----------------------------------------------------------------------------------
    def predict(self, x: Any, ids: Sequence[Hashable]) -> Any:
        """Run one chunk per stream and advance those streams' states.

        Args:
            x: ``(batch, timesteps, features)`` (or a list / dict of inputs), row i the next chunk of
                stream ``ids[i]``; chunks of one call share their length (pad with a ``Masking`` value to
                mix lengths: masked steps leave the state as it was).
            ids: one hashable id per row, all different within the call.

        Returns:
            The model's outputs for the chunks as NumPy, in the order of ``ids``.
        """
        if type(x) is np.ndarray or type(x) is torch.Tensor:  # one array: converted and checked in a few calls
            x_t, n = data.checked_array(x, "StreamState.predict")
        else:
            x_t = data.tensors(x)
            n = data.num_samples(x_t, owner="StreamState.predict")
            data.check_finite(x_t, "x", "StreamState.predict")
        repeat = self._repeat
        if repeat is not None and ids is repeat[0] and len(ids) == n:  # the same streams again, in the same order
            return self._predict_again(x_t, repeat[1])
        given = ids
        ids = self._check_ids(ids, n)
        if self.max_streams is not None and len(ids) > self.max_streams:
            raise _validation.value_error("StreamState.predict", "ids", f"at most max_streams={self.max_streams} "
                                          "streams per call", f"{len(ids)} ids", "Split the call or raise max_streams.")
        device = _device(self.model)
        initial = self._initial(ids, device)
        with torch.no_grad(), carrying_states(self.model, initial, list(self._layers.values())) as carry:
            out = _inference_call(self.model, data.to_device(x_t, device))
        self._evict_for(ids)
        rows = torch.as_tensor([self._row(i) for i in ids], dtype=torch.long)  # new ids join only now
        self._store(rows, carry.final)
        for stream_id in ids:
            self._recent[stream_id] = None
            self._recent.move_to_end(stream_id)
        # a tuple cannot change: the next call with this very object steps the same rows (see _predict_again)
        self._repeat = (given, rows) if type(given) is tuple else None
        return data.map_leaves(to_numpy, out)

    __call__ = predict

    def _predict_again(self, x_t: Any, rows: torch.Tensor) -> Any:
        """``predict`` for the ids of the previous call (no stream added or removed since): every id holds a
        row, these streams are already the most recently used in this order, and no eviction is due."""
        device = _device(self.model)
        self._follow(device)
        on_device = rows.to(device)
        initial = {layer: [t.index_select(0, on_device) for t in self._tensors[name]]
                   for name, layer in self._layers.items()}
        with torch.no_grad(), carrying_states(self.model, initial, list(self._layers.values())) as carry:
            out = _inference_call(self.model, data.to_device(x_t, device))
        self._store(rows, carry.final)
        return data.map_leaves(to_numpy, out)

    # -- reset --------------------------------------------------------------------------------------
    def reset(self, ids: Hashable | Sequence[Hashable] | None = None) -> None:
        """Forget all streams (``ids=None``), or the given one(s); a forgotten stream restarts from zeros."""
        self._repeat = None
        if ids is None:
            self._rows.clear()
            self._free.clear()
            self._recent.clear()
            self._tensors = None
            return
        for stream_id in stream_ids(ids):
            row = self._rows.pop(stream_id, None)
            self._recent.pop(stream_id, None)
            if row is not None:
                self._free.append(row)

    def drop(self, ids: Hashable | Sequence[Hashable]) -> None:
        """Forget the given stream(s), which must be known (``reset(ids)`` ignores unknown ids)."""
        unknown = [i for i in stream_ids(ids) if i not in self._rows]
        if unknown:
            raise _validation.value_error("StreamState.drop", "ids", f"known stream ids ({len(self)} held)",
                                          f"unknown id(s) {', '.join(repr(i) for i in unknown[:5])}",
                                          "See StreamState.ids for the streams held.")
        self.reset(ids)

    def _evict_for(self, ids: list[Hashable]) -> None:
        """Make room for this call's new ids by forgetting the least recently used other streams."""
        if self.max_streams is None:
            return
        new = sum(1 for i in ids if i not in self._rows)
        excess = len(self._rows) + new - self.max_streams
        if excess <= 0:
            return
        current = set(ids)
        victims = [i for i in self._recent if i not in current][:excess]
        self.reset(victims)
        self.evicted += len(victims)

    # -- save / restore -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"ids": [...], "names": [layer names], "layers": [[tensor (n_streams, units), ...] per recurrent
        layer]}``, rows in the order of ``ids``, layers in the model's order (names for information)."""
        rows = torch.as_tensor(list(self._rows.values()), dtype=torch.long)
        layers = []
        if self._tensors is not None:
            layers = [[t.index_select(0, rows.to(t.device)).cpu() for t in self._tensors[name]]
                      for name in self._layers]
        return {"ids": list(self._rows), "names": list(self._layers), "layers": layers}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace every stream's state with ``state`` (from ``state_dict`` of this model or one with the
        same recurrent layers in the same order, e.g. a fresh copy loaded from disk)."""
        owner = "StreamState.load_state_dict"
        ids, layers = list(state["ids"]), list(state["layers"])
        if ids and len(layers) != len(self._layers):
            raise _validation.value_error(owner, "layers", f"states of {len(self._layers)} recurrent layer(s) "
                                          f"{list(self._layers)}", f"states of {len(layers)} layer(s) "
                                          f"{state.get('names')}", "Restore states saved from the same architecture.")
        for (name, layer), tensors in zip(self._layers.items(), layers):
            shapes = [tuple(t.shape) for t in tensors]
            wanted = [(len(ids), size) for size in layer.state_size]
            if shapes != wanted or not all(torch.is_tensor(t) and t.is_floating_point() for t in tensors):
                raise _validation.value_error(owner, f"layer '{name}'", f"floating state tensors of shapes {wanted}",
                                              f"{shapes} ({[str(t.dtype) for t in tensors]})",
                                              "Restore states saved from the same architecture.")
        self.reset()
        if not ids:
            return
        device = _device(self.model)
        self._tensors = {name: [t.to(device).clone() for t in tensors] for name, tensors in zip(self._layers, layers)}
        self._rows = {stream_id: row for row, stream_id in enumerate(ids)}

    def save(self, path: str) -> None:
        """Write the states to ``path`` (safetensors; ids and layer names as JSON metadata), atomically."""
        state = self.state_dict()
        tensors = {f"{i}/{k}": t.contiguous() for i, ts in enumerate(state["layers"]) for k, t in enumerate(ts)}
        metadata = {"format": FORMAT, "ids": json.dumps([_encode_id(i) for i in state["ids"]]),
                    "names": json.dumps(state["names"])}
        blob = safetensors_save(tensors, metadata=metadata)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as handle:
                handle.write(blob)

    def load(self, path: str) -> None:
        """Restore states written by ``save`` (no pickle: safetensors and JSON only; the file's sizes must
        match this model's recurrent layers, its ids plain values, its count within ``max_streams``)."""
        owner = "StreamState.load"
        with open(path, "rb") as handle:
            blob = handle.read()
        try:
            tensors = safetensors_load(blob)
            size = int.from_bytes(blob[:8], "little")
            metadata = parse_json(blob[8:8 + size], str(path), "the safetensors header").get("__metadata__") or {}
        except (ValueError, TypeError, AttributeError, OverflowError, SafetensorError) as error:
            raise _validation.value_error(owner, "path", "a file written by StreamState.save",
                                          f"{path!r} ({type(error).__name__}: {error})") from None
        if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
            raise _validation.value_error(owner, "path", f"a {FORMAT} file",
                                          f"{path!r} with format {metadata.get('format') if isinstance(metadata, dict) else None!r}")
        ids_json = parse_json(metadata.get("ids", "[]"), str(path), "the stream ids")
        names = parse_json(metadata.get("names", "[]"), str(path), "the layer names")
        if not isinstance(ids_json, list) or not isinstance(names, list):
            raise _validation.value_error(owner, "path", "ids and layer names as JSON lists",
                                          f"{type(ids_json).__name__} / {type(names).__name__} in {path!r}")
        if self.max_streams is not None and len(ids_json) > self.max_streams:
            raise _validation.value_error(owner, "path", f"at most max_streams={self.max_streams} streams",
                                          f"{len(ids_json)} in {path!r}", "Raise max_streams.")
        ids = [_decode_id(i, str(path)) for i in ids_json]
        if len(set(ids)) != len(ids):
            raise _validation.value_error(owner, "path", "different stream ids", f"repeated ids in {path!r}")
        try:
            layers = [[tensors[f"{i}/{k}"] for k in range(sum(key.startswith(f"{i}/") for key in tensors))]
                      for i in range(len(names))]
        except KeyError as error:
            raise _validation.value_error(owner, "path", "a state tensor for every layer and state",
                                          f"none named {error} in {path!r}") from None
        self.load_state_dict({"ids": ids, "names": names, "layers": layers})
        self._recent = OrderedDict((i, None) for i in ids)

    # -- internals ----------------------------------------------------------------------------------
    def _check_ids(self, ids: Any, n: int) -> list[Hashable]:
        ids = stream_ids(ids)
        if len(ids) != n:
            raise _validation.value_error("StreamState.predict", "ids", f"one id per row of x ({n})",
                                          f"{len(ids)} ids")
        if len(set(ids)) != len(ids):
            seen: set = set()
            twice = sorted({repr(i) for i in ids if i in seen or seen.add(i)})
            raise _validation.value_error("StreamState.predict", "ids", "different ids within one call",
                                          f"{', '.join(twice)} more than once",
                                          "Two chunks of one stream must run one after the other: put the later "
                                          "chunk in the next call (or join them along the time axis).")
        return ids

    def _initial(self, ids: list[Hashable], device: torch.device) -> dict | None:
        """Each layer's ``(batch, units)`` starting states for ``ids``: the stored rows, zeros for new ids."""
        if self._tensors is None:
            return None
        self._follow(device)
        known = [i for i, stream_id in enumerate(ids) if stream_id in self._rows]
        where = torch.as_tensor(known, dtype=torch.long, device=device)
        rows = torch.as_tensor([self._rows[ids[i]] for i in known], dtype=torch.long, device=device)
        initial = {}
        for name, layer in self._layers.items():
            states = []
            for t in self._tensors[name]:
                start = t.new_zeros(len(ids), t.shape[1])
                start[where] = t.index_select(0, rows)
                states.append(start)
            initial[layer] = states
        return initial

    def _follow(self, device: torch.device) -> None:
        """Move the stored states to ``device`` when the model moved there."""
        if next(iter(self._tensors.values()))[0].device != device:
            self._tensors = {name: [t.to(device) for t in ts] for name, ts in self._tensors.items()}

    def _row(self, stream_id: Hashable) -> int:
        row = self._rows.get(stream_id)
        if row is not None:
            return row
        row = self._free.pop() if self._free else len(self._rows) + len(self._free)
        self._rows[stream_id] = row
        self._ensure_capacity(row + 1)  # the row is written by _store right after
        return row

    def _ensure_capacity(self, needed: int) -> None:
        if self._tensors is None:
            return
        for name, tensors in self._tensors.items():
            capacity = tensors[0].shape[0]
            if needed > capacity:
                grown = max(needed, 2 * capacity)
                self._tensors[name] = [torch.cat([t, t.new_zeros(grown - capacity, t.shape[1])]) for t in tensors]

    def _store(self, rows: torch.Tensor, final: dict) -> None:
        if self._tensors is None:  # the first call: allocate with the dtype / device the layers ran in
            capacity = max(16, int(rows.max()) + 1)
            self._tensors = {name: [s.new_zeros(capacity, s.shape[1]) for s in final[layer]]
                             for name, layer in self._layers.items()}
        for name, layer in self._layers.items():
            for tensor, state in zip(self._tensors[name], final[layer]):
                index = rows if rows.device == tensor.device else rows.to(tensor.device)
                tensor.index_copy_(0, index, state if state.dtype == tensor.dtype else state.to(tensor.dtype))


def _inference_call(model: torch.nn.Module, x: Any) -> Any:
    """``model(x)`` without dropout: ``training=False`` for lstmkit layers (no mode switch, which walks every
    module), eval mode for a plain ``torch.nn.Module``, restored after."""
    if isinstance(model, Layer):
        if call_is_forward(model, x):
            return model.forward(x, training=False)  # __call__ would only add the mask NumPy drops
        return model(x, training=False)
    was_training = model.training
    model.eval()
    try:
        return model(x)
    finally:
        model.train(was_training)


def _named_recurrent(model: torch.nn.Module) -> list[tuple[str, Any]]:
    """``(layer name, layer)`` of each recurrent layer: the names users see (and files keep)."""
    layers = recurrent_layers(model)
    names = [getattr(layer, "name", None) or type(layer).__name__ for layer in layers]
    if len(set(names)) != len(names):  # e.g. two nested models with equally named layers
        names = [f"{i}:{name}" for i, name in enumerate(names)]
    return list(zip(names, layers))


def _device(model: torch.nn.Module) -> torch.device:
    """The model's device (its first parameter's), from its cached plan: no walk over the modules per call."""
    return plan(model).device or torch.device("cpu")


def stream_ids(ids: Any) -> list[Hashable]:
    """A list of ids from a list / tuple / array / Series of ids, or one id (a str, a number) on its own.
    A tuple is several ids: wrap a tuple-valued id in a list (``[("tank", 1)]``)."""
    if hasattr(ids, "tolist") and np.ndim(ids) > 0:  # NumPy arrays, pandas Series / Index, tensors
        return list(ids.tolist())
    if isinstance(ids, Sequence) and not isinstance(ids, (str, bytes)):
        return [i.item() if isinstance(i, np.generic) else i for i in ids]
    return [ids.item() if isinstance(ids, np.generic) else ids]


def _encode_id(stream_id: Hashable) -> list:
    if isinstance(stream_id, (bool, int, float, str)) or stream_id is None:
        return [type(stream_id).__name__, stream_id]
    if isinstance(stream_id, tuple):
        return ["tuple", [_encode_id(i) for i in stream_id]]
    raise _validation.type_error("StreamState.save", "stream ids", "str, int, float, bool, None or tuples of them",
                                 f"{stream_id!r} of type {type(stream_id).__name__}")


def _decode_id(encoded: Any, source: str = "the file", depth: int = 0) -> Hashable:
    """An id ``_encode_id`` wrote: ``[type name, value]`` with a plain value, or a tuple of those."""
    kinds = {"str": str, "int": int, "float": float, "bool": bool, "NoneType": type(None)}
    if isinstance(encoded, list) and len(encoded) == 2 and encoded[0] in kinds \
            and type(encoded[1]) is kinds[encoded[0]]:
        return encoded[1]
    if isinstance(encoded, list) and len(encoded) == 2 and encoded[0] == "tuple" and isinstance(encoded[1], list) \
            and depth < 8:
        return tuple(_decode_id(i, source, depth + 1) for i in encoded[1])
    raise _validation.value_error("StreamState.load", "stream ids", "ids as StreamState.save writes them "
                                  "([type, value] with str, int, float, bool, None or tuples of them)",
                                  f"{repr(encoded)[:80]} in {source!r}")
