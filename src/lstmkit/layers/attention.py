"""Keras 3's attention layers: ``Attention`` (Luong), ``AdditiveAttention`` (Bahdanau) and
``MultiHeadAttention``, with Keras's weights, masks and numbers.

``Attention([query, value(, key)])`` (key defaults to value), shapes ``(B, Tq, d)``, ``(B, Tv, d)``:

- scores ``(B, Tq, Tv)``: ``score_mode="dot"``: ``q @ kᵀ`` (times the scalar weight ``scale`` when
  ``use_scale``); ``"concat"``: ``concat_score_weight · Σ_d tanh(scale·(q_i + k_j))`` (``scale`` inside
  the tanh; both weights 0-d, initialized to 1).
- a masked value step, and under ``use_causal_mask`` every future step ``j > i``, gets ``score - 1e9``
  (not -inf); then ``softmax`` over ``Tv``, dropout on the weights in training, ``weights @ value``.
- the query mask zeroes the output rows; the returned scores of those rows are not zeroed. The output
  carries the query mask.

``AdditiveAttention``: scores ``Σ_d scale_d · tanh(q_i + k_j)`` with a ``scale`` vector of size ``d``
(``use_scale=True`` by default, glorot-uniform initialized); the rest as ``Attention``.

``MultiHeadAttention(num_heads, key_dim)`` on ``query (B, T, F)``, ``value (B, S, Fv)``, ``key (B, S, Fk)``:
projections with a head axis (Keras's EinsumDense layout): ``q = query·Wq + bq`` with
``Wq (F, heads, key_dim)``, ``bq (heads, key_dim)`` (same for key; value with ``value_dim``), scores
``(B, heads, T, S) = (q / sqrt(key_dim))·kᵀ``, a boolean attention mask (True = attend: the
``attention_mask`` argument AND the query/value/key masks AND the causal / sliding-window masks) applied
as ``where(mask, score, -1e9)`` before the softmax and ``where(mask, p, 0)`` after, then
``out = Σ_heads (p·v)·Wo + bo`` with ``Wo (heads, value_dim, output)``. Weights in Keras's order:
query, key, (gate,) value, attention_output, each kernel then bias.

All three declare their weights at construction (``layers/base.py``'s rule): uninitialized
(``torch.nn.parameter.UninitializedParameter``) until the first call, an ``Input`` call or a
``load_state_dict`` materialises them in place; a declared ``input_shape`` is taken as the query's and the
value's (self-attention) and builds them at once.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
from torch.nn.parameter import UninitializedParameter

from .. import _validation
from .base import Layer, implicit_mask
from .core import owner_of, record_activity, seeded_generator, set_weight_options, to_tensor, weight_options_config

LARGE_NEGATIVE = 1e9  # Keras's offset for masked scores (float32)
SCORE_MODES = ("dot", "concat")


def _causal(tq: int, tv: int, device: torch.device) -> torch.Tensor:
    """``(1, tq, tv)``, True where ``j <= i`` (Keras's cumulative-sum construction)."""
    rows = torch.arange(tq, device=device).unsqueeze(1)
    cols = torch.arange(tv, device=device).unsqueeze(0)
    return (cols <= rows).unsqueeze(0)


def _dropout(layer: Layer, weights: torch.Tensor, training: bool) -> torch.Tensor:
    if not training or layer.dropout == 0:
        return weights
    keep = torch.full_like(weights, 1.0 - layer.dropout)
    return weights * torch.bernoulli(keep, generator=seeded_generator(layer, weights.device)) / (1.0 - layer.dropout)


# -- Attention / AdditiveAttention ------------------------------------------------------------------
class Attention(Layer):
    """Dot-product (Luong-style) attention over ``[query, value]`` or ``[query, value, key]``.

    Args:
        use_scale: learn a scalar ``scale`` for the scores (default False).
        score_mode: ``"dot"`` (default) or ``"concat"``.
        dropout: fraction of attention weights dropped in training.
        seed: seed of the dropout generator.

    Call: ``layer([query, value(, key)], mask=None, training=None, return_attention_scores=False,
    use_causal_mask=False)``; ``mask`` is ``[query_mask, value_mask]`` (taken from the inputs' masks when
    not given). Output ``(B, Tq, dim_value)``, and the scores ``(B, Tq, Tv)`` when asked.
    ``causal=True`` (tf.keras 2's constructor argument, read from old files) means ``use_causal_mask=True``.
    """

    supports_masking = True
    lazy_input_rank = 3  # weights declared at construction, materialised at the first call

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any):
        causal = kwargs.pop("causal", False)  # tf.keras 2's constructor form of use_causal_mask
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.causal = _validation.boolean(owner, "causal", causal)
        self.use_scale = _validation.boolean(owner, "use_scale", use_scale)
        self.score_mode = _validation.choice(owner, "score_mode", score_mode, SCORE_MODES)
        self.dropout = _validation.fraction(owner, "dropout", dropout)
        self.seed = None if seed is None else _validation.non_negative_int(owner, "seed", seed)
        self._generators: dict[torch.device, torch.Generator] = {}

    # -- checks -----------------------------------------------------------------------------------
    def _validate(self, inputs: Any, mask: Any = None) -> None:
        if not isinstance(inputs, list):
            raise _validation.value_error(
                owner_of(self), "inputs", "a list [query, value] or [query, value, key]",
                type(inputs).__name__, f"Call it on a list: {type(self).__name__}()([query, value]).")
        if not 2 <= len(inputs) <= 3:
            raise _validation.value_error(owner_of(self), "inputs", "a list of 2 or 3 tensors "
                                          "[query, value(, key)]", f"a list of {len(inputs)}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise _validation.value_error(owner_of(self), "mask", "a list [query_mask, value_mask]",
                                          repr(type(mask).__name__))

    def _check_shapes(self, shapes: list[tuple]) -> None:
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 else v
        if any(len(s) != 3 for s in (q, v, k)):
            raise _validation.value_error(owner_of(self), "inputs", "3-D tensors (batch, steps, dim)",
                                          f"shapes {shapes}")
        if k[1] is not None and v[1] is not None and k[1] != v[1]:
            raise _validation.value_error(owner_of(self), "inputs", "key and value with the same steps",
                                          f"shapes {shapes}")
        if self.score_mode == "dot" or type(self) is not Attention:
            if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
                raise _validation.value_error(owner_of(self), "inputs", "query and key with the same last "
                                              "dimension", f"shapes {shapes}")

    # -- building ---------------------------------------------------------------------------------
    def _finish_construction(self) -> None:
        """A declared ``input_shape`` is the query's and the value's: built at once for them; else the
        weights are declared uninitialized (``Layer._finish_construction``)."""
        shape = self._batch_input_shape
        if shape is not None and not self.built and len(shape) == 3 and shape[-1] is not None:
            self.maybe_build([tuple(shape), tuple(shape)])
            return
        super()._finish_construction()

    def input_shape_from_weights(self, shapes: dict[str, tuple]) -> list[tuple] | None:
        """``[query, value]`` shapes for loaded weights (the scalars need none; a vector ``scale`` gives
        the feature size)."""
        dim = shapes["scale"][0] if len(shapes.get("scale", ())) == 1 else None
        return [(None, None, dim), (None, None, dim)]

    def build(self, input_shape: Any) -> None:
        if not self._declaring:
            self._validate(list(input_shape))
            self._check_shapes([tuple(s) for s in input_shape])
        if self.use_scale:
            self.add_weight("scale", (), "ones")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self.add_weight("concat_score_weight", (), "ones")
        else:
            self.concat_score_weight = None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        q, v = tuple(input_shape[0]), tuple(input_shape[1])
        return (*q[:-1], v[-1])

    def symbolic_output_shapes(self, args: tuple, kwargs: dict) -> Any:
        """Output shape(s) of a call on symbolic inputs (the scores too when asked)."""
        inputs = args[0] if args else kwargs.get("inputs")
        self._validate(inputs)
        shapes = [tuple(s) for s in inputs]
        self.maybe_build(shapes)
        out = self.compute_output_shape(shapes)
        if kwargs.get("return_attention_scores"):
            key = shapes[2] if len(shapes) > 2 else shapes[1]
            return [out, (*shapes[0][:-1], key[-2])]
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (Keras: ``mask[0]``)."""
        if mask is None or not isinstance(mask, (list, tuple)) or mask[0] is None:
            return None
        return torch.as_tensor(mask[0]).bool()

    # -- call -------------------------------------------------------------------------------------
    def _scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        if self.score_mode == "dot":
            scores = torch.matmul(q, k.transpose(-2, -1))
            return scores * self.scale if self.scale is not None else scores
        pairs = q.unsqueeze(-2) + k.unsqueeze(-3)  # (B, Tq, Tv, d)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(dim=-1)

    def forward(self, inputs: Any, mask: Any = None, training: bool | None = None,
                return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        self._validate(inputs, mask)
        tensors = [to_tensor(t, self.torch_dtype, cast_all=True) for t in inputs]
        self.maybe_build([tuple(t.shape) for t in tensors])
        self._check_shapes([tuple(t.shape) for t in tensors])
        device = next(iter(self.parameters()), tensors[0]).device
        q, v = tensors[0].to(device), tensors[1].to(device)
        k = tensors[2].to(device) if len(tensors) > 2 else v
        q_mask = None if mask is None or mask[0] is None else torch.as_tensor(mask[0], device=device).bool()
        v_mask = None if mask is None or mask[1] is None else torch.as_tensor(mask[1], device=device).bool()
        scores = self._scores(q, k)
        keep = None if v_mask is None else v_mask.unsqueeze(-2)  # (B, 1, Tv)
        if use_causal_mask or self.causal:
            causal = _causal(scores.shape[-2], scores.shape[-1], device)
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = torch.where(keep, scores, scores - LARGE_NEGATIVE)
        weights = torch.softmax(scores, dim=-1)
        training = self.training if training is None else bool(training)
        output = torch.matmul(_dropout(self, weights, training), v)
        if q_mask is not None:
            output = torch.where(q_mask.unsqueeze(-1), output, torch.zeros((), dtype=output.dtype,
                                                                           device=device))
        return (output, weights) if return_attention_scores else output

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout,
                       "seed": self.seed})
        if self.causal:  # only a tf.keras 2 file sets it; Keras 3 configs never hold the key
            config["causal"] = True
        return config


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention: scores ``Σ_d scale_d · tanh(q_i + k_j)``.

    Args:
        use_scale: learn the ``scale`` vector of size ``dim`` (default True; else the plain sum).
        dropout / seed: as ``Attention``.

    Call and shapes as ``Attention``.
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        if self._declaring:  # the scale's size is the query's feature size, not known yet
            dim = None
        else:
            self._validate(list(input_shape))
            self._check_shapes([tuple(s) for s in input_shape])
            dim = input_shape[0][-1]
        if self.use_scale:
            if dim is None and not self._declaring:
                raise _validation.value_error(owner_of(self), "query", "a known last dimension",
                                              f"shape {tuple(input_shape[0])}")
            self.add_weight("scale", (None if dim is None else int(dim),), "glorot_uniform")
        else:
            self.scale = None
        self.concat_score_weight = None

    def _scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        if self.scale is not None and q.shape[-1] != self.scale.shape[0]:
            raise _validation.value_error(owner_of(self), "query", f"{self.scale.shape[0]} features (it was "
                                          "built for that)", f"shape {tuple(q.shape)}",
                                          f"Create a new AdditiveAttention for {q.shape[-1]} features.")
        terms = torch.tanh(q.unsqueeze(-2) + k.unsqueeze(-3))
        return (terms * self.scale if self.scale is not None else terms).sum(dim=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config


# -- MultiHeadAttention -----------------------------------------------------------------------------
class HeadProjection(Layer):
    """One of MultiHeadAttention's projections (Keras's ``EinsumDense`` with a head axis).

    ``"in"``: ``(B, T, F) @ kernel (F, heads, dim) + bias (heads, dim)`` -> ``(B, T, heads, dim)``;
    ``"out"``: ``(B, T, heads, dim) @ kernel (heads, dim, *out) + bias (*out)`` -> ``(B, T, *out)``.
    Its parent creates its weights with ``create``: declared uninitialized first (None where the input
    decides the size), then materialised in place when the parent builds.
    """

    def __init__(self, kind: str, parent: "MultiHeadAttention", activation: str | None = None, **kwargs: Any):
        super().__init__(dtype=parent.dtype_name, **kwargs)
        self.kind, self.activation = kind, activation
        self.activity_regularizer = parent.activity_regularizer
        self._kernel_args = (parent.kernel_initializer, parent.kernel_regularizer, parent.kernel_constraint)
        self._bias_args = (parent.bias_initializer, parent.bias_regularizer, parent.bias_constraint)

    def create(self, kernel_shape: tuple, bias_shape: tuple | None, declaring: bool) -> None:
        """Add (``declaring``: declare uninitialized) the kernel then the bias, Keras's order."""
        self._declaring = declaring
        try:
            self.add_weight("kernel", kernel_shape, *self._kernel_args)
            if bias_shape is not None:
                self.add_weight("bias", bias_shape, *self._bias_args)
            else:
                self.bias = None
        finally:
            self._declaring = False
        self.built = not declaring

    def input_shape_from_weights(self, shapes: dict[str, tuple]) -> None:
        """Built by its MultiHeadAttention (which reads every projection's loaded kernel), never alone."""
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "in":
            y = torch.einsum("btf,fhd->bthd", x, self.kernel)
        else:
            y = torch.tensordot(x, self.kernel, dims=([2, 3], [0, 1]))
        if self.bias is not None:
            y = y + self.bias
        if self.activation == "sigmoid":
            y = torch.sigmoid(y)
        record_activity(self, self.activity_regularizer, y)
        return y


def _positive(owner: str, name: str, value: Any, optional: bool = False) -> int | None:
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise _validation.value_error(owner, f"`{name}`", "a positive integer" + (" or None" if optional else ""),
                                      repr(value))
    return int(value)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al.) with Keras's weight layout, masks and config.

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: fraction of attention probabilities dropped in training.
        use_bias: biases on the four projections (default True).
        output_shape: the output's last axis size(s); default the query's feature size.
        attention_axes: the axes attended over; lstmkit supports the time axis (None, 1 or -2 on
            ``(batch, steps, features)`` inputs).
        sliding_window: attend only to keys within ``sliding_window - 1`` steps of the query.
        kernel_* / bias_* / activity_regularizer: for the projections, as ``Dense``.
        use_gate: a sigmoid gate ``σ(query·Wg + bg)`` multiplies the attention output (weights ``gate``).
        seed: seed of the dropout generator.
        flash_attention: accepted at None / False only.

    Call: ``layer(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=None, use_causal_mask=False)``. Output ``(B, T, output)``; scores ``(B, heads, T, S)``.
    The output carries the query's mask.
    """

    supports_masking = True
    lazy_input_rank = 3  # projections declared at construction, materialised at the first call

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape: Any = None, attention_axes: Any = None,
                 sliding_window: int | None = None, flash_attention: Any = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, use_gate: bool = False,
                 seed: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.num_heads = _positive(owner, "num_heads", num_heads)
        self.key_dim = _positive(owner, "key_dim", key_dim)
        self.value_dim = _positive(owner, "value_dim", value_dim, optional=True) or self.key_dim
        self.dropout = _validation.fraction(owner, "dropout", dropout)
        self.use_bias = _validation.boolean(owner, "use_bias", use_bias)
        self.use_gate = _validation.boolean(owner, "use_gate", use_gate)
        if flash_attention:
            raise _validation.value_error(owner, "`flash_attention`", "None or False (lstmkit computes the "
                                          "attention explicitly)", repr(flash_attention), "Drop it.")
        if isinstance(output_shape, numbers.Integral) and not isinstance(output_shape, bool):
            output_shape = (output_shape,)
        if output_shape is not None and output_shape != ():
            if not isinstance(output_shape, (list, tuple)) or any(
                    isinstance(d, bool) or not isinstance(d, numbers.Integral) or d <= 0 for d in output_shape):
                raise _validation.value_error(owner, "`output_shape`", "an int or a tuple of positive ints",
                                              repr(output_shape))
            output_shape = tuple(int(d) for d in output_shape)
        self._output_shape = output_shape or None
        if isinstance(attention_axes, numbers.Integral) and not isinstance(attention_axes, bool):
            attention_axes = (int(attention_axes),)
        elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise _validation.value_error(owner, "`attention_axes`", "an int, a list or a tuple",
                                          repr(attention_axes))
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.sliding_window = _positive(owner, "sliding_window", sliding_window, optional=True)
        set_weight_options(self, locals())
        self.seed = None if seed is None else _validation.non_negative_int(owner, "seed", seed)
        self._generators: dict[torch.device, torch.Generator] = {}
        self._shapes: dict[str, tuple] = {}
        self.register_load_state_dict_pre_hook(_build_from_projections)

    # -- building ---------------------------------------------------------------------------------
    def _split(self, input_shape: Any) -> tuple[tuple, tuple, tuple | None]:
        shapes = [tuple(s) for s in input_shape] if isinstance(input_shape, list) else [tuple(input_shape)]
        if len(shapes) == 1:
            shapes.append(shapes[0])  # self-attention: value = query
        return shapes[0], shapes[1], shapes[2] if len(shapes) > 2 else None

    def _check(self, query: tuple, value: tuple, key: tuple | None) -> None:
        key = value if key is None else key
        for name, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) != 3:
                raise _validation.value_error(owner_of(self), name, "a 3-D tensor (batch, steps, features): "
                                              "lstmkit attends over the time axis", f"shape {shape}")
        if value[1:-1] != key[1:-1] and None not in (value[1], key[1]):
            raise _validation.value_error(owner_of(self), "value and key", "the same steps",
                                          f"value {value}, key {key}")
        if self.attention_axes is not None and tuple(a % 3 for a in self.attention_axes) != (1,):
            raise _validation.value_error(owner_of(self), "`attention_axes`", "None, 1 or -2 (the time axis "
                                          "of 3-D inputs)", repr(self.attention_axes))

    def build(self, input_shape: Any) -> None:
        """``input_shape``: ``[query_shape, value_shape(, key_shape)]`` (one shape: self-attention).
        While declaring (construction, input unknown) the projections get uninitialized weights."""
        if self._declaring:
            self._project(None, None, None)
            return
        query, value, key = self._split(input_shape)
        self._check(query, value, key)
        key_features = (value if key is None else key)[-1]
        if None in (query[-1], value[-1], key_features):
            raise _validation.value_error(owner_of(self), "inputs", "known feature sizes",
                                          f"query {query}, value {value}, key {key}")
        self._project(int(query[-1]), int(value[-1]), int(key_features))
        if self.attention_axes is None:
            self.attention_axes = (1,)  # Keras resolves the default at build and saves it
        self._shapes = {"query_shape": query, "value_shape": value}
        if key is not None:
            self._shapes["key_shape"] = key

    def _project(self, query: int | None, value: int | None, key: int | None) -> None:
        """Create (or materialise in place) the projections in Keras's weight order: query, key, (gate,)
        value, attention_output; a None feature size declares the weights it sizes uninitialized."""
        heads, bias, declaring = self.num_heads, self.use_bias, self._declaring
        out = self._output_shape or (query,)
        specs = [("query_dense", "query", "in", (query, heads, self.key_dim), (heads, self.key_dim), None),
                 ("key_dense", "key", "in", (key, heads, self.key_dim), (heads, self.key_dim), None)]
        if self.use_gate:
            specs.append(("_gate_dense", "gate", "in", (query, heads, self.value_dim), (heads, self.value_dim),
                          "sigmoid"))
        specs += [("value_dense", "value", "in", (value, heads, self.value_dim), (heads, self.value_dim), None),
                  ("output_dense", "attention_output", "out", (heads, self.value_dim, *out), tuple(out),
                   None)]
        for attribute, name, kind, kernel, bias_shape, activation in specs:
            projection = self._modules.get(attribute)
            if projection is None:
                projection = HeadProjection(kind, self, activation=activation, name=name)
                setattr(self, attribute, projection)
            projection.create(kernel, bias_shape if bias else None, declaring)

    def _built_features(self) -> tuple[int, int, int]:
        """The query, value and key feature sizes the projections were built for."""
        return (self.query_dense.kernel.shape[0], self.value_dense.kernel.shape[0],
                self.key_dense.kernel.shape[0])

    def keras_build_config(self) -> dict:
        return {"shapes_dict": {k: list(v) for k, v in self._shapes.items()}}

    def compute_output_shape(self, input_shape: Any) -> tuple:
        query, value, key = self._split(input_shape)
        self._check(query, value, key)
        return (*query[:-1], *(self._output_shape or (query[-1],)))

    def symbolic_output_shapes(self, args: tuple, kwargs: dict) -> Any:
        """Build from the query / value / key shapes of a symbolic call; the scores' shape too when asked."""
        shapes = self._call_shapes(args, kwargs)
        self.maybe_build(shapes)
        out = self.compute_output_shape(shapes)
        if kwargs.get("return_attention_scores"):
            return [out, (shapes[0][0], self.num_heads, shapes[0][1], shapes[1][1])]
        return out

    @staticmethod
    def _call_shapes(args: tuple, kwargs: dict) -> list[tuple]:
        names = ("query", "value", "key")
        given = list(args[:3]) + [None] * (3 - len(args[:3]))
        given = [kwargs.get(n, g) if g is None else g for n, g in zip(names, given)]
        if given[0] is None or given[1] is None:
            raise _validation.type_error("MultiHeadAttention", "the call", "query and value",
                                         "a call without them", "Call it as mha(query, value) or mha(x, x).")
        return [tuple(s) for s in given if s is not None]

    # -- call -------------------------------------------------------------------------------------
    def _mask(self, q: torch.Tensor, v: torch.Tensor, masks: list, attention_mask: Any,
              use_causal_mask: bool) -> torch.Tensor | None:
        """The combined boolean mask ``(B or 1, T, S)`` (True = attend), or None."""
        device, (t, s) = q.device, (q.shape[1], v.shape[1])
        query_mask, value_mask, key_mask = (None if m is None else torch.as_tensor(m, device=device).bool()
                                            for m in masks)
        auto = None if query_mask is None else query_mask.unsqueeze(-1)
        for m in (value_mask, key_mask):
            if m is not None:
                auto = m.unsqueeze(-2) if auto is None else auto & m.unsqueeze(-2)
        if use_causal_mask:
            causal = _causal(t, s, device)
            auto = causal if auto is None else auto & causal
        if self.sliding_window is not None:
            rows = torch.arange(t, device=device).unsqueeze(1)
            cols = torch.arange(s, device=device).unsqueeze(0)
            band = ((rows - cols).abs() < self.sliding_window).unsqueeze(0)
            auto = band if auto is None else auto & band
        if attention_mask is not None:
            given = torch.as_tensor(attention_mask, device=device)
            given = given.bool() if given.dtype == torch.bool else given != 0
            if given.shape[-2:] != (t, s) or given.ndim > 4:
                raise _validation.value_error(owner_of(self), "attention_mask", f"a boolean (B, {t}, {s}) "
                                              "mask (True = attend)", f"shape {tuple(given.shape)}")
            auto = given if auto is None else given & auto
        return auto

    def forward(self, query: Any, value: Any, key: Any = None, query_mask: Any = None, value_mask: Any = None,
                key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
                training: bool | None = None, use_causal_mask: bool = False) -> Any:
        masks = [implicit_mask(query), value_mask if value_mask is not None else implicit_mask(value),
                 key_mask if key_mask is not None else (implicit_mask(key) if key is not None else None)]
        q = to_tensor(query, self.torch_dtype, cast_all=True)
        v = to_tensor(value, self.torch_dtype, cast_all=True)
        k = v if key is None else to_tensor(key, self.torch_dtype, cast_all=True)
        shapes = [tuple(q.shape), tuple(v.shape)] + ([] if key is None else [tuple(k.shape)])
        self.maybe_build(shapes)
        self._check(*self._split(shapes))
        given = (q.shape[-1], v.shape[-1], k.shape[-1])
        if given != self._built_features():
            raise _validation.value_error(
                owner_of(self), "inputs", "query, value, key feature sizes {} (it was built for that)".format(
                    self._built_features()), f"{given}", "Create a new MultiHeadAttention for these inputs.")
        device = self.query_dense.kernel.device
        q, v, k = q.to(device), v.to(device), k.to(device)
        mask = self._mask(q, v, masks, attention_mask, use_causal_mask)
        gate = self._gate_dense(q) if self.use_gate else None
        qh = self.query_dense(q) * (1.0 / math.sqrt(float(self.key_dim)))  # (B, T, N, H)
        kh, vh = self.key_dense(k), self.value_dense(v)  # (B, S, N, H), (B, S, N, Hv)
        scores = torch.einsum("bsnh,btnh->bnts", kh, qh)  # (B, N, T, S)
        if mask is not None:
            while mask.ndim < scores.ndim:
                mask = mask.unsqueeze(-3)  # the head axis
            scores = torch.where(mask, scores, torch.full((), -LARGE_NEGATIVE, dtype=scores.dtype, device=device))
        probs = torch.softmax(scores, dim=-1)
        if mask is not None:
            probs = torch.where(mask, probs, torch.zeros((), dtype=probs.dtype, device=device))
        training = self.training if training is None else bool(training)
        attended = torch.einsum("bnts,bsnh->btnh", _dropout(self, probs, training), vh)
        if gate is not None:
            attended = attended * gate
        output = self.output_dense(attended)
        return (output, probs) if return_attention_scores else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask, as Keras."""
        return implicit_mask(inputs) if mask is None else mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
            "dropout": self.dropout, "use_bias": self.use_bias, "use_gate": self.use_gate,
            "output_shape": None if self._output_shape is None else list(self._output_shape),
            "attention_axes": None if self.attention_axes is None else list(self.attention_axes),
            "sliding_window": self.sliding_window,
            **weight_options_config(self, activity=True),
            "seed": self.seed,
        })
        return config


def _build_from_projections(layer: MultiHeadAttention, state_dict: dict, prefix: str, *args: Any) -> None:
    """``load_state_dict`` pre-hook: build an unbuilt MultiHeadAttention for the loaded projections'
    feature sizes (query, value, and key where it differs from value)."""
    if layer.built:
        return
    sizes = []
    for attribute in ("query_dense", "value_dense", "key_dense"):
        kernel = state_dict.get(f"{prefix}{attribute}.kernel")
        if kernel is None or isinstance(kernel, UninitializedParameter) or kernel.ndim != 3:
            return
        sizes.append(int(kernel.shape[0]))
    query, value, key = sizes
    layer.maybe_build([(None, None, query), (None, None, value)] + ([] if key == value else [(None, None, key)]))
