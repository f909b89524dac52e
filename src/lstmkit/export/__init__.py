"""``model.export``: ONNX (one LSTM / GRU / RNN node per recurrent layer) and ``torch.export`` programs."""

from .export import FORMATS, export_model

__all__ = ["export_model", "FORMATS"]
