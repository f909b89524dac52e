"""Keras losses with Keras's formulas, shape rules and reduction.

A loss *function* (``mean_squared_error(y_true, y_pred)``) returns one value per sample (the last axis
reduced), as Keras's do; a loss *object* (``MeanSquaredError()``) applies sample weights and the output
mask, then reduces with Keras's ``sum_over_batch_size`` (the sum divided by the number of values).
Targets one rank short or long by a trailing 1 are expanded / squeezed as Keras does; any other shape
difference is an error instead of a silent broadcast.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F

from .. import _validation
from ..ops.registry import Registry

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# -- shape rules ------------------------------------------------------------------------------------
def as_tensors(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both as tensors, the target cast to the prediction's float dtype and device."""
    y_pred = y_pred if torch.is_tensor(y_pred) else torch.as_tensor(y_pred, dtype=torch.float32)
    if torch.is_tensor(y_true) and y_true.dtype == y_pred.dtype and y_true.device == y_pred.device:
        return y_true, y_pred  # already converted (a loss object converts before its function does)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    return y_true.to(y_pred.dtype), y_pred


def same_rank(x1: torch.Tensor, x2: torch.Tensor, expand_rank_1: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's ``squeeze_or_expand_to_same_rank``: fix a rank difference of one trailing size-1 axis."""
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        if x2.dim() == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        if x1.dim() == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def matched(y_true: Any, y_pred: Any, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Targets and predictions of equal shape, or a clear error naming both shapes."""
    y_true, y_pred = same_rank(*as_tensors(y_true, y_pred))
    if y_true.shape != y_pred.shape:
        raise _validation.value_error(
            loss, "y_true", f"targets shaped like the predictions {tuple(y_pred.shape)}",
            f"targets of shape {tuple(y_true.shape)}",
            "Reshape y to the model's output shape (e.g. y.reshape(-1, 1) for one value per sample), or fix "
            "the last layer's units / return_sequences.")
    return y_true, y_pred


# -- loss functions (one value per sample) ----------------------------------------------------------------
def mean_last(values: torch.Tensor) -> torch.Tensor:
    """``torch.mean(values, dim=-1)``; over a single value (a ``Dense(1)`` output) that value itself, without
    the reduction (bit for bit the same, gradient included: a sum of one, divided by one)."""
    if values.dim() and values.shape[-1] == 1 and values.is_floating_point():
        return values.squeeze(-1)
    return torch.mean(values, dim=-1)


def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "mean_squared_error")
    return mean_last(torch.square(y_pred - y_true))


def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "mean_absolute_error")
    return mean_last(torch.abs(y_pred - y_true))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "mean_absolute_percentage_error")
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * mean_last(diff)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "mean_squared_logarithmic_error")
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return mean_last(torch.square(first - second))


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Quadratic for |error| <= delta, linear beyond: ``delta * |e| - delta**2 / 2``."""
    y_true, y_pred = matched(y_true, y_pred, "huber")
    error = y_pred - y_true
    abs_error = torch.abs(error)
    values = torch.where(abs_error <= delta, 0.5 * torch.square(error), delta * abs_error - 0.5 * delta ** 2)
    return mean_last(values)


def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``log(cosh(e))`` computed stably as ``e + softplus(-2e) - log 2``."""
    y_true, y_pred = matched(y_true, y_pred, "log_cosh")
    error = y_pred - y_true
    return mean_last(error + F.softplus(-2.0 * error) - math.log(2.0))


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        values = -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))
    return torch.mean(values, dim=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[axis]
    if from_logits:
        log_p = torch.log_softmax(y_pred, dim=axis)
    else:
        p = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_p = torch.log(torch.clamp(p, EPSILON, 1.0 - EPSILON))
    return -torch.sum(y_true * log_p, dim=axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> torch.Tensor:
    """Integer class ids ``(batch, ...)`` (or ``(batch, ..., 1)``) against ``(batch, ..., classes)``."""
    y_pred = y_pred if torch.is_tensor(y_pred) else torch.as_tensor(y_pred, dtype=torch.float32)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    if tuple(y_true.shape) != tuple(y_pred.shape[:-1]):
        raise _validation.value_error(
            "sparse_categorical_crossentropy", "y_true",
            f"integer class ids of shape {tuple(y_pred.shape[:-1])} (predictions {tuple(y_pred.shape)})",
            f"shape {tuple(y_true.shape)}",
            "For one-hot targets use categorical_crossentropy; else pass one class id per prediction row.")
    labels = y_true.long()
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    if from_logits:
        log_p = torch.log_softmax(y_pred, dim=axis)
    else:
        p = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
        log_p = torch.log_softmax(torch.log(torch.clamp(p, EPSILON, 1.0 - EPSILON)), dim=axis)
    classes = y_pred.shape[-1]
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= classes):
        raise _validation.value_error("sparse_categorical_crossentropy", "y_true",
                                      f"class ids in [0, {classes})",
                                      f"ids from {int(labels.min())} to {int(labels.max())}",
                                      "Check the number of units of the last Dense layer.")
    values = -torch.gather(log_p, -1, labels.unsqueeze(-1)).squeeze(-1)
    return values if valid is None else values * valid.to(values.dtype)


def kl_divergence(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "kl_divergence")
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = matched(y_true, y_pred, "poisson")
    return mean_last(y_pred - y_true * torch.log(y_pred + EPSILON))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity (Keras's loss sign: -1 for identical directions)."""
    y_true, y_pred = matched(y_true, y_pred, "cosine_similarity")
    y_true = y_true / torch.sqrt(torch.clamp(torch.sum(y_true ** 2, dim=axis, keepdim=True), min=1e-12))
    y_pred = y_pred / torch.sqrt(torch.clamp(torch.sum(y_pred ** 2, dim=axis, keepdim=True), min=1e-12))
    return -torch.sum(y_true * y_pred, dim=axis)


# -- reduction ------------------------------------------------------------------------------------------
def weighted_mean(values: torch.Tensor, sample_weight: Any = None, mask: Any = None,
                  reduction: str | None = "sum_over_batch_size") -> torch.Tensor:
    """Keras's ``reduce_weighted_values``: mask and sample weights, then the reduction."""
    weight = None if sample_weight is None else torch.as_tensor(sample_weight, device=values.device,
                                                                dtype=values.dtype)
    if mask is not None:
        mask = torch.as_tensor(mask, device=values.device).to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            # valid entries weigh total/valid so that the mean is taken over valid entries only
            mask = mask * (mask.numel() / (mask.sum() + EPSILON))
        if weight is not None:
            mask, weight = same_rank(mask, weight)
            weight = weight * mask
        else:
            weight = mask
    if weight is not None:
        values, weight = same_rank(values, weight)
        try:
            values = values * weight
        except RuntimeError:
            raise _validation.value_error("loss", "sample_weight", f"weights broadcastable to the per-sample "
                                          f"losses {tuple(values.shape)}", f"shape {tuple(weight.shape)}",
                                          "Pass one weight per sample, shape (batch,).") from None
    if reduction in (None, "none"):
        return values
    if values.numel() == 1 and values.is_floating_point() and (reduction != "mean_with_sample_weight" or weight is None):
        return values.reshape(())  # one value (batch 1): its sum, divided by one, is itself
    total = values.sum()
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        return total / torch.broadcast_to(weight, values.shape).sum().clamp(min=EPSILON)
    return total / max(values.numel(), 1)


# -- loss objects ---------------------------------------------------------------------------------------
class Loss:
    """Base of loss objects: ``loss(y_true, y_pred, sample_weight=None)`` -> a scalar (by default).

    Args:
        reduction: ``"sum_over_batch_size"`` (default: the mean of the per-sample values), ``"sum"``,
            ``"mean_with_sample_weight"`` or ``"none"``.
        name: the loss's name in logs.
    """

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size", dtype: Any = None):
        if reduction not in REDUCTIONS:
            raise _validation.value_error(type(self).__name__, "reduction", f"one of {REDUCTIONS}", repr(reduction))
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        mask = getattr(y_pred, "_keras_mask", None)
        y_true, y_pred = as_tensors(y_true, y_pred)  # tensors in the prediction's dtype, as Keras converts them
        return weighted_mean(self.call(y_true, y_pred), sample_weight, mask, self.reduction)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A loss object around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn: Callable, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 **kwargs: Any):
        super().__init__(name=name or getattr(fn, "__name__", "loss"), reduction=reduction)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), **self.fn_kwargs}


class MeanSquaredError(LossFunctionWrapper):
    """Mean of ``(y_pred - y_true)**2`` over the last axis, then over the batch."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_squared_error",
                 dtype: Any = None):
        super().__init__(mean_squared_error, name=name, reduction=reduction)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of ``|y_pred - y_true|``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "mean_absolute_error",
                 dtype: Any = None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(|y_true - y_pred| / max(|y_true|, eps))``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean of ``(log(1 + y_pred) - log(1 + y_true))**2`` (values clipped at eps)."""

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic up to ``delta`` (default 1.0), linear beyond."""

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size", name: str = "huber_loss",
                 dtype: Any = None):
        super().__init__(huber, name=name, reduction=reduction, delta=float(delta))


class LogCosh(LossFunctionWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "log_cosh", dtype: Any = None):
        super().__init__(log_cosh, name=name, reduction=reduction)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy on probabilities (or logits with ``from_logits=True``)."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "binary_crossentropy",
                 dtype: Any = None):
        super().__init__(binary_crossentropy, name=name, reduction=reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy against one-hot targets."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "categorical_crossentropy",
                 dtype: Any = None):
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy against integer class ids."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str = "sparse_categorical_crossentropy",
                 dtype: Any = None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "kl_divergence",
                 dtype: Any = None):
        super().__init__(kl_divergence, name=name, reduction=reduction)


class Poisson(LossFunctionWrapper):
    """Mean of ``y_pred - y_true * log(y_pred + eps)``."""

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str = "poisson", dtype: Any = None):
        super().__init__(poisson, name=name, reduction=reduction)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis``."""

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str = "cosine_similarity", dtype: Any = None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, axis=axis)


# Keras's short names and aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh
kld = KLD = kullback_leibler_divergence = kl_divergence

FUNCTIONS: dict[str, Callable] = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error, "mape": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error, "msle": mean_squared_logarithmic_error,
    "huber": huber, "huber_loss": huber, "log_cosh": log_cosh, "logcosh": log_cosh,
    "binary_crossentropy": binary_crossentropy, "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "kl_divergence": kl_divergence, "kld": kl_divergence, "kullback_leibler_divergence": kl_divergence,
    "poisson": poisson, "cosine_similarity": cosine_similarity,
}
# Loss classes by exact name (Keras's serialized losses); a class of your own loads through custom_objects.
REGISTRY = Registry("loss", "keras.losses", Loss, (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence, Poisson,
    CosineSimilarity), fold=None)
CLASSES: dict[str, type] = REGISTRY.builtins


def get(identifier: Any) -> Loss | Callable:
    """A loss from a Keras name (``"mse"``, ``"huber"``), a class name, a serialized dict, an object or a callable.

    Names resolve to loss objects so reduction and masks apply; callables ``fn(y_true, y_pred)`` are wrapped.
    """
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, dict):
        cls = REGISTRY.class_for(identifier, "losses.get", example="MeanSquaredError")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, str):
        if identifier in CLASSES:
            return CLASSES[identifier]()
        if identifier.lower() in FUNCTIONS:
            return LossFunctionWrapper(FUNCTIONS[identifier.lower()], name=identifier)
        raise _validation.value_error("losses.get", "loss", f"a Keras loss name ({', '.join(sorted(FUNCTIONS))}) "
                                      "or a callable (y_true, y_pred)", repr(identifier))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise _validation.type_error("losses.get", "loss", "a name, a Loss object or a callable (y_true, y_pred)",
                                 type(identifier).__name__)


def serialize(loss: Any) -> Any:
    """A loss as Keras writes it in ``compile_config``: a name for functions, a dict for objects."""
    if isinstance(loss, LossFunctionWrapper) and type(loss) is LossFunctionWrapper:
        return loss.name if loss.name in FUNCTIONS else getattr(loss.fn, "__name__", loss.name)
    if isinstance(loss, Loss):
        return REGISTRY.serialize(loss, "losses.serialize")
    return getattr(loss, "__name__", str(loss))


def _snake(name: str) -> str:
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()

