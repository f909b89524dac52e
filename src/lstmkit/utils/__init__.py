"""``keras.utils``: the helpers sequence-model programs call, with Keras's semantics.

``pad_sequences``, ``to_categorical``, ``normalize``, ``timeseries_dataset_from_array``, ``set_random_seed``,
``PyDataset`` / ``Sequence`` (``fit`` / ``evaluate`` / ``predict`` take them), ``Progbar``, ``get_file`` (the
cache only: lstmkit never downloads), ``plot_model`` / ``model_to_dot`` (pydot; images need Graphviz).
"""

from ..data.windows import timeseries_dataset_from_array
from ..callbacks.progbar import Progbar
from ..trainers.py_dataset import PyDataset, Sequence
from .files import DownloadUnavailable, get_file
from .numerical import normalize, to_categorical
from .rng import set_random_seed
from ..data.padding import pad_sequences
from .visualization import model_to_dot, plot_model
from . import data_utils, np_utils  # noqa: E402  (Keras 2 import paths)

__all__ = ["pad_sequences", "to_categorical", "normalize", "timeseries_dataset_from_array", "set_random_seed",
           "PyDataset", "Sequence", "Progbar", "get_file", "DownloadUnavailable", "plot_model", "model_to_dot"]
