"""Heavy optional libraries imported where they are first used, not when lstmkit is imported.

``import lstmkit`` should cost torch and NumPy, not pandas (~0.6 s): modules that use pandas only
inside functions write ``from .._lazy import pandas as pd`` and the real import happens at the
first attribute access (``pd.DataFrame``, ``pd.read_csv``). ``tests/test_startup.py`` checks it.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """A stand-in for a module, replaced by the real one at the first attribute access."""

    def __init__(self, name: str):
        super().__init__(name)
        self.__dict__["_real"] = None

    def _load(self) -> ModuleType:
        real = self.__dict__["_real"]
        if real is None:
            real = importlib.import_module(self.__name__)
            self.__dict__["_real"] = real
        return real

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._load(), attribute)

    def __dir__(self) -> list[str]:
        return dir(self._load())


pandas = LazyModule("pandas")
