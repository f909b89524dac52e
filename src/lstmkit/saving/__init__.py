"""Files: the ``.lstmkit`` format, Keras ``.keras`` / ``.h5`` / ``.weights.h5`` import and export, model JSON,
safe mode and bounded reading, atomic writes.

Model classes are reached only through the layer registry (``layers.serialization``), never imported."""

from ..ops.safe_mode import custom_object_scope, register_keras_serializable
from .saving_api import load_model, save_model
from .serialization import model_from_config, model_from_json

__all__ = ["load_model", "save_model", "model_from_json", "model_from_config", "custom_object_scope",
           "register_keras_serializable"]
