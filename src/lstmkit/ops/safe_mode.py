"""What a file being loaded may make lstmkit do: the scope every loader rebuilds a model in.

Why: a model file is data. While a loader turns a file's config into layers, the two places where
a config could reach beyond data consult this scope:

- **Names of functions** (``Lambda``'s ``function`` / ``output_shape`` / ``mask``). With
  ``safe_mode=True`` (the default, as in Keras 3) a file may name only lstmkit's own registered
  functions (the Keras activations) and what the caller passes in ``custom_objects`` (or registered
  with ``register_keras_serializable`` / ``custom_object_scope``). ``safe_mode=False`` also accepts
  a function of a module the program has *already* imported; nothing is ever imported, and Python
  bytecode (Keras's ``__lambda__``) is never loaded in either mode.
- **Sizes** (``units``, ``filters``, ``input_dim``...). A loader that knows how many weight elements
  its file really holds sets ``weight_budget``; ``Layer.add_weight`` charges every weight against it
  *before* allocating, so ``"units": 200000`` in a file holding 30 numbers is one clear error, not a
  640 GB allocation.

Example::

    with loading("model.keras", safe_mode=True, custom_objects={"scale": scale}, weight_budget=4096):
        model = deserialize(config)
"""

from __future__ import annotations

import contextlib
import math
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .. import _validation

_local = threading.local()
_REGISTERED: dict[str, Any] = {}  # register_keras_serializable: process-wide custom objects


# Rebuilding allocates some weights twice (``Bidirectional`` builds the layer it is given, then its two
# copies), so the budget is a bound, not an equality: three times what the file holds, plus 1M numbers.
BUDGET_FACTOR, BUDGET_SLACK = 3, 2**20


@dataclass
class WeightBudget:
    """How many weight elements the file holds (``held``) and how many the rebuilt layers took."""

    held: int
    charged: int = 0

    @property
    def limit(self) -> int:
        return BUDGET_FACTOR * self.held + BUDGET_SLACK


@dataclass
class LoadingScope:
    """The rules of one load: where from, safe mode, the caller's objects, the weight budget
    (None: not bounded by a file; a nested scope shares its loader's)."""

    source: str
    safe_mode: bool = True
    custom_objects: dict[str, Any] = field(default_factory=dict)
    budget: WeightBudget | None = None


def _stack() -> list:
    if not hasattr(_local, "stack"):
        _local.stack = []
    return _local.stack


def current() -> LoadingScope | None:
    """The innermost active scope, or None outside any loader."""
    stack = _stack()
    return stack[-1] if stack else None


@contextlib.contextmanager
def loading(source: str, safe_mode: bool = True, custom_objects: dict | None = None,
            weight_budget: int | None = None) -> Iterator[LoadingScope]:
    """Run a load under these rules; nested loads see their own scope, custom objects accumulate."""
    if not isinstance(safe_mode, bool):
        raise _validation.type_error("load_model", "`safe_mode`", "True or False", repr(safe_mode))
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise _validation.type_error("load_model", "`custom_objects`", "a dict {name: class or function}",
                                     f"{type(custom_objects).__name__}")
    outer = current()
    inherited = dict(outer.custom_objects) if outer is not None else {}
    budget = WeightBudget(int(weight_budget)) if weight_budget is not None else (outer.budget if outer else None)
    scope = LoadingScope(str(source), safe_mode, {**inherited, **(custom_objects or {})}, budget)
    _stack().append(scope)
    try:
        yield scope
    finally:
        _stack().pop()


@contextlib.contextmanager
def custom_object_scope(*objects: dict) -> Iterator[None]:
    """Keras's ``custom_object_scope``: the given ``{name: object}`` are allowed in files loaded within."""
    merged: dict[str, Any] = {}
    for mapping in objects:
        if not isinstance(mapping, dict):
            raise _validation.type_error("custom_object_scope", "its arguments", "dicts {name: class or function}",
                                         f"{type(mapping).__name__}")
        merged.update(mapping)
    outer = current()
    with loading(outer.source if outer else "custom_object_scope", outer.safe_mode if outer else True, merged):
        yield


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Keras's decorator: make a class or function loadable by name (``"package>name"`` and ``name``)."""

    def decorate(obj: Any) -> Any:
        key = name or getattr(obj, "__name__", None)
        if not key:
            raise _validation.value_error("register_keras_serializable", "`name`", "a name", repr(obj))
        _REGISTERED[f"{package}>{key}"] = obj
        _REGISTERED[key] = obj
        return obj

    return decorate


def custom_object(name: str) -> Any:
    """What the caller allowed under ``name`` (custom_objects, scopes, registrations), else None."""
    scope = current()
    if scope is not None and name in scope.custom_objects:
        return scope.custom_objects[name]
    return _REGISTERED.get(name)


def safe_mode_on() -> bool:
    scope = current()
    return True if scope is None else scope.safe_mode


def source() -> str:
    scope = current()
    return scope.source if scope is not None else "the config"


def charge_weight(owner: str, name: str, shape: tuple) -> None:
    """Refuse a weight the file being loaded cannot hold, before it is allocated."""
    scope = current()
    if scope is None or scope.budget is None:
        return
    budget = scope.budget
    size = math.prod(int(d) for d in shape)
    budget.charged += size
    if budget.charged > budget.limit:
        raise _validation.value_error(
            f"load ('{scope.source}')", f"{owner}'s weight '{name}'",
            f"sizes that the file's weights can fill (it holds {budget.held:,} numbers)",
            f"a config asking for shape {tuple(shape)} ({size:,} numbers; {budget.charged:,} so far)",
            "The file's config does not match its weights: it is damaged or was not written by Keras or lstmkit.")
