"""Models: ``Sequential``, functional ``Model(inputs, outputs)``, Keras JSON in and out."""

from ..layers import register
from ..layers.input_layer import Input, InputLayer
from ..ops.safe_mode import custom_object_scope, register_keras_serializable
from .model import Model
from .sequential import Sequential
from ..saving.saving_api import load_model, save_model
from ..saving.serialization import model_from_config, model_from_json
from ..trainers.streams import StreamState

register(Model, "Functional")
register(Model, "Model")
register(Sequential)

__all__ = ["Model", "Sequential", "Input", "InputLayer", "model_from_json", "model_from_config",
           "load_model", "save_model", "StreamState", "custom_object_scope", "register_keras_serializable"]
