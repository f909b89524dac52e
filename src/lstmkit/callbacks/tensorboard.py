"""``TensorBoard``: Keras's callback writing real TensorBoard event files through ``torch.utils.tensorboard``.

Same layout and tags as Keras 3: ``log_dir/train`` and ``log_dir/validation`` runs; ``epoch_<metric>`` at step
``epoch`` (``val_`` metrics under ``validation`` without the prefix), ``epoch_learning_rate``, with
``update_freq="batch"`` or ``N`` also ``batch_<metric>`` at the global batch count every N batches,
``evaluation_<metric>_vs_iterations`` for each evaluation, ``histogram_freq`` weight histograms
(``<layer>/<weight>/histogram``; ``write_images`` adds them as images) and ``write_steps_per_second``.
Not written: the TensorFlow graph (``write_graph`` is accepted and has nothing to write on PyTorch), profiles
and embeddings (``profile_batch`` / ``embeddings_freq`` other than 0 are errors naming ``torch.profiler``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import _validation
from .callbacks import Callback

OWNER = "TensorBoard"


def _summary_writer() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ImportError("TensorBoard needs the tensorboard package: pip install tensorboard "
                          "(or lstmkit[tensorboard]).") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Write training curves (and optionally weight histograms) for TensorBoard (``tensorboard --logdir``).

    Args:
        log_dir: the folder of the runs (``train/``, ``validation/``).
        histogram_freq: every how many epochs to write weight histograms (0: never).
        write_graph: accepted (no TensorFlow graph exists to write).
        write_images: weights as images along with the histograms.
        write_steps_per_second: add ``epoch_steps_per_second`` / ``batch_steps_per_second``.
        update_freq: ``"epoch"``, ``"batch"`` or a number of batches between ``batch_*`` scalars.
        profile_batch, embeddings_freq: must be 0 (see the module docstring); embeddings_metadata: None.
    """

    def __init__(self, log_dir: Any = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq: Any = "epoch",
                 profile_batch: Any = 0, embeddings_freq: int = 0, embeddings_metadata: Any = None):
        super().__init__()
        self.log_dir = str(log_dir)
        self.histogram_freq = _validation.non_negative_int(OWNER, "histogram_freq", histogram_freq)
        self.write_graph, self.write_images = bool(write_graph), bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        if update_freq == "batch":
            update_freq = 1
        elif update_freq != "epoch":
            update_freq = _validation.positive_int(OWNER, "update_freq", update_freq)
        self.update_freq = update_freq
        if profile_batch:
            raise _validation.value_error(OWNER, "profile_batch", "0 (profiling TensorFlow batches does not "
                                          "apply on PyTorch)", repr(profile_batch),
                                          "Profile with torch.profiler.profile(...) around fit().")
        if embeddings_freq or embeddings_metadata is not None:
            raise _validation.value_error(OWNER, "embeddings_freq", "0 (the embedding projector is not written)",
                                          repr(embeddings_freq))
        self._writers: dict[str, Any] = {}
        self._global_train_batch = 0
        self._batch_start = 0.0
        self._epoch_start = 0.0
        self._epoch_batches = 0
        self._in_fit = False

    def _writer(self, run: str) -> Any:
        if run not in self._writers:
            self._writers[run] = _summary_writer()(log_dir=str(Path(self.log_dir) / run))
        return self._writers[run]

    def _close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- fit --------------------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        self._global_train_batch = 0
        self._in_fit = True

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_start = time.time()
        self._epoch_batches = 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._global_train_batch += 1
        self._batch_start = time.time()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._epoch_batches += 1
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer, step = self._writer("train"), self._global_train_batch
        if self.write_steps_per_second:
            writer.add_scalar("batch_steps_per_second", 1.0 / max(time.time() - self._batch_start, 1e-9), step)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", float(value), step)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and "learning_rate" not in train:
            train["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            train["steps_per_second"] = self._epoch_batches / max(time.time() - self._epoch_start, 1e-9)
        for run, values in (("train", train), ("validation", val)):
            if values:
                writer = self._writer(run)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", float(value), epoch)
                writer.flush()
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for name, weight in layer.named_parameters():
                tag = f"{layer.name}/{name.replace('.', '/')}"
                values = weight.detach().cpu().float().numpy()
                writer.add_histogram(f"{tag}/histogram", values, epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_image(f"{tag}/image", image, epoch, dataformats="HW")
        writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self._in_fit = False
        self._close()

    # -- evaluate -----------------------------------------------------------------------------------------
    def on_test_end(self, logs: dict | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        writer = self._writer("validation")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", float(value), int(optimizer.iterations))
        writer.flush()
        if not self._in_fit:
            self._close()


def _weight_image(values: np.ndarray) -> np.ndarray | None:
    """A 1-D or 2-D weight as a grey image in [0, 1] (the long side across, as Keras draws kernels)."""
    values = np.squeeze(values)
    if values.ndim == 1:
        values = values[None, :]
    if values.ndim != 2:
        return None
    if values.shape[0] > values.shape[1]:
        values = values.T
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)
