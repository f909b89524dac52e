"""``BackupAndRestore``: resume an interrupted ``fit`` where it stopped, with Keras 3's arguments and files.

At the end of each epoch (or every ``save_freq`` batches) it writes ``backup_dir/latest.weights.h5`` (Keras's
weights file) and ``training_metadata.json`` (``{"epoch": next epoch, "batch": ...}``), as Keras does, plus the
optimizer's state (``optimizer.json`` / ``optimizer.safetensors``, lstmkit's: Keras 3 keeps only weights, so its
Adam moments restart). A new ``fit`` with the same callback restores all three in ``on_train_begin`` and
continues from the saved epoch, so an interrupted run ends with the numbers of an uninterrupted one (with
``shuffle=False``; shuffling draws new orders). A finished ``fit`` deletes the folder (``delete_checkpoint``).
Every file is written to a temporary name and renamed, so a crash mid-save leaves the previous backup whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .. import _validation
from .callbacks import Callback

OWNER = "BackupAndRestore"


def _atomic_bytes(path: Path, data: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        handle.write(data)
        partial = Path(handle.name)
    try:
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class BackupAndRestore(Callback):
    """Back up the training state to ``backup_dir`` and restore it when ``fit`` starts again.

    Args:
        backup_dir: the folder for the backup (created; deleted after a finished fit if ``delete_checkpoint``).
        save_freq: ``"epoch"`` or a number of batches between backups.
        double_checkpoint: keep the previous backup as ``*.bkp`` too, used when the latest cannot be read.
        delete_checkpoint: remove ``backup_dir`` when ``fit`` ends normally.
    """

    def __init__(self, backup_dir: Any, save_freq: Any = "epoch", double_checkpoint: bool = False,
                 delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise _validation.value_error(OWNER, "backup_dir", "a folder path", repr(backup_dir))
        if save_freq != "epoch":
            save_freq = _validation.positive_int(OWNER, "save_freq", save_freq) if not isinstance(save_freq, str) \
                else _validation.choice(OWNER, "save_freq", save_freq, ("epoch",))
        self.backup_dir = Path(backup_dir)
        self.save_freq, self.double_checkpoint = save_freq, bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._weights_path = self.backup_dir / "latest.weights.h5"
        self._metadata_path = self.backup_dir / "training_metadata.json"
        self._optimizer_meta = self.backup_dir / "optimizer.json"
        self._optimizer_tensors = self.backup_dir / "optimizer.safetensors"
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_since_save = 0

    def _files(self) -> list[Path]:
        return [self._weights_path, self._metadata_path, self._optimizer_meta, self._optimizer_tensors]

    # -- restore --------------------------------------------------------------------------------------------
    def on_train_begin(self, logs: dict | None = None) -> None:
        if not self._weights_path.exists() and Path(f"{self._weights_path}.bkp").exists():
            self._use_previous()
        try:
            self._restore()
        except (OSError, ValueError, KeyError) as error:
            if not Path(f"{self._weights_path}.bkp").exists():
                raise _validation.value_error(OWNER, "the backup", "a readable backup", f"{self.backup_dir} "
                                              f"({error})", "Delete the folder to start over.") from error
            self._use_previous()
            self._restore()

    def _use_previous(self) -> None:
        for path in self._files():
            previous = Path(f"{path}.bkp")
            if previous.exists():
                shutil.copyfile(previous, path)
            elif path.exists():
                path.unlink()

    def _restore(self) -> None:
        model = self.model
        if not model.built:
            raise _validation.value_error(OWNER, "the model", "a built model (to restore weights into)",
                                          "an unbuilt model", "Give the model an Input / input_shape, or call it "
                                          "on a batch before fit().")
        if not self._weights_path.exists():
            return
        model.load_weights(self._weights_path)
        if self._optimizer_meta.exists() and getattr(model, "optimizer", None) is not None:
            from safetensors.torch import load_file

            from ..optimizers.state import unflatten_state

            model._bind_optimizer()
            meta = json.loads(self._optimizer_meta.read_text())
            model.optimizer.load_state_dict(unflatten_state(meta, load_file(str(self._optimizer_tensors))))
        if self._metadata_path.exists():
            epoch = json.loads(self._metadata_path.read_text())["epoch"]
            model._resume_epoch = _validation.non_negative_int(OWNER, "the saved epoch", epoch)

    # -- back up --------------------------------------------------------------------------------------------
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        added = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_save += added
        self._last_batch_seen = batch
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save()

    def _save(self) -> None:
        from safetensors.torch import save

        from ..optimizers.state import flatten_state

        self.backup_dir.mkdir(parents=True, exist_ok=True)
        if self.double_checkpoint:
            for path in self._files():
                if path.exists():
                    shutil.copyfile(path, f"{path}.bkp")
        self.model.save_weights(self._weights_path, overwrite=True)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and getattr(self.model, "_optimizer_params", None) is not None:
            meta, tensors = flatten_state(optimizer.state_dict())
            _atomic_bytes(self._optimizer_tensors, save({k: v.detach().cpu().contiguous() for k, v in
                                                         tensors.items()}))
            _atomic_bytes(self._optimizer_meta, json.dumps(meta).encode())
        _atomic_bytes(self._metadata_path, json.dumps({"epoch": self._current_epoch,
                                                       "batch": self._last_batch_seen}).encode())

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.delete_checkpoint and self.backup_dir.exists():
            shutil.rmtree(self.backup_dir)
