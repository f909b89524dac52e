"""Keras callbacks (``lstmkit.callbacks``): History, EarlyStopping, ModelCheckpoint, ... and the
progress bar, BackupAndRestore and TensorBoard."""

from .backup_and_restore import BackupAndRestore  # noqa: F401
from .callbacks import *  # noqa: F401,F403
from .tensorboard import TensorBoard  # noqa: F401
