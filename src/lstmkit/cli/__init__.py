"""The ``lstmkit`` command line (an adapter: parsing and files here, the work in the library)."""

from .main import main

__all__ = ["main"]
