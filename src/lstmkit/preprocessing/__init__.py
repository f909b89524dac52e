"""``keras.preprocessing`` (Keras 3, with tf.keras 2's ``sequence.TimeseriesGenerator`` and ``text.Tokenizer``):
``import lstmkit as keras`` then ``keras.preprocessing.sequence.pad_sequences(...)`` works as in Keras."""

from ..data.windows import timeseries_dataset_from_array
from . import sequence, text

__all__ = ["sequence", "text", "timeseries_dataset_from_array"]
