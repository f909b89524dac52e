"""Keras learning-rate schedules (`ExponentialDecay`, ...); see ``lstmkit.models.schedules``."""

from ..models.schedules import *  # noqa: F401,F403
from ..models.schedules import __all__  # noqa: F401
