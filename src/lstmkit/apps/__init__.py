"""End-to-end applications built on lstmkit (the top layer: pipelines, no new math).

``lstmkit.apps.ventilator``: seed 000's ventilator-pressure pipeline (simulator of the competition
data, the seed's feature engineering, its stacked bidirectional LSTM, K-fold training and the
submission file).
"""

__all__ = ["ventilator"]


def __getattr__(name):  # imported on first use: the apps pull in pandas and scikit-learn
    if name == "ventilator":
        import importlib

        return importlib.import_module(".ventilator", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
