"""Time-series data plumbing: windows, look-back framing, per-id sequences, splits, scaling and
stateful batch alignment. A leaf package: NumPy / pandas / torch in, torch-ready arrays out; it
imports nothing from lstmkit's layers or models.
"""

from .datasets import load_airline_passengers

__all__ = ["load_airline_passengers"]
