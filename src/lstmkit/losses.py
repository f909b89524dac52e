"""Keras losses (``lstmkit.losses``): the public names of ``lstmkit.models.losses``."""

from .models.losses import *  # noqa: F401,F403
