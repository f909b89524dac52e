"""Keras callbacks (``lstmkit.callbacks``): the public names of ``lstmkit.models.callbacks``."""

from .models.callbacks import *  # noqa: F401,F403
from .models.backup import BackupAndRestore  # noqa: F401,E402
from .models.tensorboard import TensorBoard  # noqa: F401,E402
