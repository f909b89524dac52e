"""Keras metrics: stateful objects that accumulate over an epoch (``update_state`` / ``result`` / ``reset_state``).

As in Keras, a metric's epoch value is the mean of its per-sample values over every sample seen
(``MeanMetricWrapper``), except root-mean-squared error, which is the square root of the epoch's mean
squared error. Totals stay on the tensors' device until ``result()`` is read, so a training loop does
not synchronise with the GPU per batch. ``get("acc")`` picks binary / categorical / sparse accuracy
from the shapes at the first update, as Keras's ``compile`` does.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .. import _validation
from ..losses import losses
from ..ops.registry import Registry


class Metric:
    """Base of metrics. Subclasses implement ``update_state`` and ``result``."""

    def __init__(self, name: str | None = None, dtype: Any = None):
        self.name = name or losses._snake(type(self).__name__)
        self.reset_state()

    def reset_state(self) -> None:
        raise NotImplementedError

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        raise NotImplementedError

    def result(self) -> torch.Tensor:
        raise NotImplementedError

    def result_float(self) -> float:
        """``float(result())``, as logs hold it (``Mean`` computes it without tensor ops)."""
        return float(self.result())

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        """Update, then return the running result (Keras's calling convention)."""
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)``.

    Values of rank >= 1 count one sample per leading index (other axes averaged first); a scalar counts once.
    """

    def reset_state(self) -> None:
        self.total = torch.zeros((), dtype=torch.float64)
        self.count = torch.zeros((), dtype=torch.float64)

    def update_state(self, values: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        values = torch.as_tensor(values).detach()
        values = values if values.is_floating_point() else values.float()
        if sample_weight is not None:
            weight = torch.as_tensor(sample_weight, device=values.device).to(values.dtype)
            values, weight = losses.same_rank(values, weight)
            weight = torch.broadcast_to(weight, values.shape)
            values = values * weight
            count = weight.reshape(weight.shape[0], -1).mean(dim=1).sum() if weight.dim() else weight
            values = values.reshape(values.shape[0], -1).mean(dim=1) if values.dim() else values
        else:
            count = torch.tensor(float(values.shape[0]) if values.dim() else 1.0, device=values.device)
            values = values.reshape(values.shape[0], -1).mean(dim=1) if values.dim() > 1 else values
        self.total = self.total.to(values.device) + values.double().sum()
        self.count = self.count.to(values.device) + count.double()

    def update_scalar(self, value: torch.Tensor, weight: int) -> None:
        """``update_state(value, sample_weight=weight)`` for a 0-d floating ``value`` and an integer
        ``weight`` (a batch's mean loss, counted once per sample) in two or three ops instead of ~15:
        the same float32 product, the same float64 sums, so the same totals bit for bit."""
        if not (torch.is_tensor(value) and value.dim() == 0 and value.is_floating_point()
                and isinstance(weight, int) and 0 < weight < 2 ** 24):  # an integer float32 holds exactly
            self.update_state(value, sample_weight=weight)
            return
        value = value.detach()
        if weight != 1:
            value = value * weight  # float32 x an exact integer: the product update_state computes
        total, count = self.total, self.count
        if total.device != value.device:
            total, count = total.to(value.device), count.to(value.device)
        self.total = total + value  # float64 + float32 promotes exactly as ``values.double()`` does
        self.count = count + float(weight)

    def result(self) -> torch.Tensor:
        return torch.where(self.count > 0, self.total / self.count.clamp(min=1e-300), torch.zeros_like(self.total))

    def result_float(self) -> float:
        """``float(result())`` of a plain Mean without its five ops: the same IEEE float64 division."""
        if type(self).result is not Mean.result:
            return super().result_float()
        count = float(self.count)
        return float(self.total) / count if count > 0 else 0.0


class MeanMetricWrapper(Mean):
    """The mean over samples of ``fn(y_true, y_pred, **kwargs)`` (any loss function, or a user's)."""

    def __init__(self, fn: Callable, name: str | None = None, dtype: Any = None, **kwargs: Any):
        self.fn = fn
        self.fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", "metric"))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        mask = getattr(y_pred, "_keras_mask", None)
        if torch.is_tensor(y_pred) and not torch.is_tensor(y_true):
            y_true = torch.as_tensor(y_true, device=y_pred.device)  # user functions get tensors, as in Keras
        with torch.no_grad():
            values = self.fn(y_true, y_pred, **self.fn_kwargs)
        values = torch.as_tensor(values)
        if mask is not None:
            mask = mask.to(values.dtype)
            if sample_weight is not None:
                mask, sample_weight = losses.same_rank(mask, torch.as_tensor(sample_weight, device=mask.device))
                sample_weight = sample_weight * mask
            else:
                sample_weight = mask
        super().update_state(values, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, **self.fn_kwargs}


# -- metric functions not among the losses -----------------------------------------------------------------
def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> torch.Tensor:
    y_true, y_pred = losses.same_rank(*losses.as_tensors(y_true, y_pred))
    return torch.mean((y_true == (y_pred > threshold).to(y_true.dtype)).float(), dim=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_true, y_pred = losses.as_tensors(y_true, y_pred)
    return (torch.argmax(y_true, dim=-1) == torch.argmax(y_pred, dim=-1)).float()


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return (torch.argmax(y_pred, dim=-1) == y_true.long()).float()


def accuracy(y_true: Any, y_pred: Any) -> torch.Tensor:
    """Exact equality of predictions and targets (Keras's ``Accuracy``)."""
    y_true, y_pred = losses.same_rank(*losses.as_tensors(y_true, y_pred))
    return torch.mean((y_true == y_pred).float(), dim=-1)


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> torch.Tensor:
    y_true, y_pred = losses.as_tensors(y_true, y_pred)
    top = torch.topk(y_pred, min(k, y_pred.shape[-1]), dim=-1).indices
    return (top == torch.argmax(y_true, dim=-1, keepdim=True)).any(dim=-1).float()


# -- metric classes ------------------------------------------------------------------------------------------
class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_error", dtype: Any = None):
        super().__init__(losses.mean_squared_error, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None):
        super().__init__(losses.mean_absolute_error, name=name)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None):
        super().__init__(losses.mean_absolute_percentage_error, name=name)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None):
        super().__init__(losses.mean_squared_logarithmic_error, name=name)


class LogCoshError(MeanMetricWrapper):
    def __init__(self, name: str = "logcosh", dtype: Any = None):
        super().__init__(losses.log_cosh, name=name)


class RootMeanSquaredError(Mean):
    """``sqrt`` of the mean squared error over every value of the epoch (not a mean of batch RMSEs)."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        y_true, y_pred = losses.same_rank(*losses.as_tensors(y_true, y_pred))
        super().update_state(torch.square(y_pred.detach() - y_true), sample_weight)

    def result(self) -> torch.Tensor:
        return torch.sqrt(super().result())


class Accuracy(MeanMetricWrapper):
    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_accuracy, name=name)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(top_k_categorical_accuracy, name=name, k=k)


class BinaryCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(losses.binary_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0.0):
        super().__init__(losses.categorical_crossentropy, name=name, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None, from_logits: bool = False):
        super().__init__(losses.sparse_categorical_crossentropy, name=name, from_logits=from_logits)


class KLDivergence(MeanMetricWrapper):
    def __init__(self, name: str = "kl_divergence", dtype: Any = None):
        super().__init__(losses.kl_divergence, name=name)


class Poisson(MeanMetricWrapper):
    def __init__(self, name: str = "poisson", dtype: Any = None):
        super().__init__(losses.poisson, name=name)


# Metric classes by exact name (Keras's serialized metrics); a class of your own loads through custom_objects.
REGISTRY = Registry("metric", "keras.metrics", Metric, (
    Mean, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    LogCoshError, RootMeanSquaredError, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, Poisson), fold=None)
CLASSES: dict[str, type] = REGISTRY.builtins
NAMES: dict[str, type] = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "logcosh": LogCoshError, "log_cosh": LogCoshError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "poisson": Poisson,
}


class AutoAccuracy(MeanMetricWrapper):
    """``"accuracy"`` / ``"acc"`` in ``compile``: binary, categorical or sparse, chosen at the first update.

    Keras's rule: one output unit -> binary (threshold 0.5); targets as wide as the outputs -> categorical;
    otherwise (class ids) -> sparse categorical.
    """

    def __init__(self, name: str = "accuracy", loss: Any = None):
        self._loss = loss
        super().__init__(binary_accuracy, name=name)
        self._chosen = False

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:  # type: ignore[override]
        if not self._chosen:
            self.fn = _accuracy_for(torch.as_tensor(y_true), torch.as_tensor(y_pred), self._loss)
            self._chosen = True
        super().update_state(y_true, y_pred, sample_weight)


def _accuracy_for(y_true: torch.Tensor, y_pred: torch.Tensor, loss: Any) -> Callable:
    loss_name = getattr(loss, "name", loss if isinstance(loss, str) else "")
    if "sparse_categorical" in str(loss_name):
        return sparse_categorical_accuracy
    if "binary" in str(loss_name) or y_pred.dim() <= 1 or y_pred.shape[-1] == 1:
        return binary_accuracy
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == y_pred.shape[-1]:
        return categorical_accuracy
    return sparse_categorical_accuracy


def get(identifier: Any, loss: Any = None) -> Metric:
    """A metric object from a name (``"mae"``, ``"acc"``, ``"rmse"``), a class, an object or a callable."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return AutoAccuracy(name=identifier, loss=loss)
        if identifier in NAMES:
            return NAMES[identifier](name=identifier)
        if identifier in CLASSES:
            return CLASSES[identifier]()
        raise _validation.value_error("metrics.get", "metric", f"a Keras metric name ({', '.join(sorted(NAMES))}, "
                                      "accuracy), a Metric or a callable (y_true, y_pred)", repr(identifier))
    if isinstance(identifier, dict):
        cls = REGISTRY.class_for(identifier, "metrics.get", example="MeanSquaredError")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise _validation.type_error("metrics.get", "metric", "a name, a Metric object or a callable (y_true, y_pred)",
                                 type(identifier).__name__)


# Keras's function names, for ``metrics=[lstmkit.metrics.mae]`` style code
mean_squared_error = mse = losses.mean_squared_error
mean_absolute_error = mae = losses.mean_absolute_error
mean_absolute_percentage_error = mape = losses.mean_absolute_percentage_error
