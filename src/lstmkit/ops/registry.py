"""Objects by name: one ``Registry`` behind every Keras module that turns names into objects.

Why: initializers, regularizers, constraints, activations, learning-rate schedules and optimizers all
accept the same identifiers (None, a name, Keras's serialized dict, an instance, a class, a callable)
and write the same form, ``{"module": "keras.initializers", "class_name": "GlorotUniform", "config":
{...}, "registered_name": None}``. A registry holds one module's built-ins (with Keras's aliases) and
finds a name in this order:

1. the ``custom_objects`` passed to the call (``deserialize(config, custom_objects)``);
2. the built-ins, by exact name, then by the registry's ``fold`` (``"glorot_uniform"`` and
   ``"GlorotUniform"`` both fold to ``"glorotuniform"``); a ``prefixed`` registry also reads
   tf.keras's registered names ``"Custom>Name"`` as ``Name``;
3. what the active loading scope allows (``ops/safe_mode.py``: ``load_model(custom_objects=...)``,
   ``custom_object_scope``, ``register_keras_serializable``). Nothing is ever imported.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from .. import _validation
from . import safe_mode
from .serialization import snake_case


def fold_case_and_underscores(name: str) -> str:
    """``"GlorotUniform"``, ``"glorot_uniform"`` and ``"glorotuniform"`` are one name."""
    return name.lower().replace("_", "")


class WrappedFunction:
    """A plain function standing in where an object is expected (a ``Registry``'s ``wrap`` derives from it).

    Keeps ``fn`` so ``serialize`` writes Keras's function form; has no config; prints as ``Label(fn_name)``.
    Subclasses set ``label`` and define ``__call__``.
    """

    label = "Function"

    def __init__(self, fn: Callable):
        self.fn = fn

    def get_config(self) -> dict:
        return {}

    def __repr__(self) -> str:
        return f"{self.label}({getattr(self.fn, '__name__', repr(self.fn))})"


class WeightFunction(WrappedFunction):
    """A plain ``fn(weight)`` used as a constraint or regularizer: a result that is not a tensor becomes one,
    in the weight's dtype (float32 for a non-tensor weight)."""

    def __call__(self, weight: Any) -> torch.Tensor:
        out = self.fn(weight)
        if isinstance(out, torch.Tensor):
            return out
        return torch.as_tensor(out, dtype=weight.dtype if isinstance(weight, torch.Tensor) else torch.float32)


class Registry:
    """The named objects of one Keras module (``kind`` ``"initializer"``, ``module`` ``"keras.initializers"``).

    Args:
        kind: what one object is called in error messages (```initializer```).
        module: the ``"module"`` Keras writes in the serialized form.
        base: the class every object of this kind derives from (None for plain functions: activations).
        entries: the built-in classes or functions, each registered under its ``__name__``.
        aliases: Keras's other names, ``{alias: object}``.
        fold: how names are compared after the exact match fails (None: exact names only).
        prefixed: also read ``"Package>Name"`` as ``Name``.
        wrap: turns a plain callable into a ``base`` (``get`` accepts callables only when given).
        unknown: builds the error for an unknown name, ``unknown(owner, name)``; by default it lists
            the known names (in snake case when names fold).
    """

    def __init__(self, kind: str, module: str, base: type | None, entries: Iterable[Any], *,
                 aliases: dict[str, Any] | None = None, fold: Callable[[str], str] | None = fold_case_and_underscores,
                 prefixed: bool = False, wrap: Callable[[Callable], Any] | None = None,
                 unknown: Callable[[str, str], Exception] | None = None):
        self.kind, self.module, self.base = kind, module, base
        self.builtins: dict[str, Any] = {obj.__name__: obj for obj in entries}
        self.entries: dict[str, Any] = {**self.builtins, **(aliases or {})}
        self.fold, self.prefixed, self.wrap = fold, prefixed, wrap
        self._unknown = unknown

    # -- names -> objects ----------------------------------------------------------------------------------
    def find(self, name: Any, custom_objects: dict | None = None, registered_name: Any = None) -> Any | None:
        """The object ``name`` (or a custom object's ``registered_name``) stands for, else None."""
        keys = [key for key in (name, registered_name) if isinstance(key, str)]
        if self.prefixed:
            keys += [key.split(">")[-1] for key in keys if ">" in key]
        for key in keys:
            if custom_objects and key in custom_objects:
                return custom_objects[key]
        for key in keys:
            if key in self.entries:
                return self.entries[key]
        if self.fold is not None and isinstance(name, str):
            wanted = self.fold(name.split(">")[-1] if self.prefixed else name)
            for candidate, obj in self.entries.items():
                if self.fold(candidate) == wanted:
                    return obj
        for key in keys:
            found = safe_mode.custom_object(key)
            if found is not None:
                return found
        return None

    def name_of(self, obj: Any) -> str | None:
        """The built-in name ``obj`` is registered under (aliases aside), else None."""
        return next((name for name, registered in self.builtins.items() if registered is obj), None)

    def unknown(self, owner: str, name: Any) -> Exception:
        """The error for a name this registry does not know: the names it knows, and how to add one."""
        if self._unknown is not None:
            return self._unknown(owner, name)
        known = sorted({snake_case(n) for n in self.entries}) if self.fold is not None else sorted(self.entries)
        return _validation.value_error(owner, f"`{self.kind}`", "one of " + ", ".join(known), repr(name),
                                       "Check the spelling; your own class or function loads with "
                                       "custom_objects={name: obj} (load_model, custom_object_scope).")

    def class_for(self, config: Any, owner: str, custom_objects: dict | None = None, example: str = "") -> Any:
        """The class a serialized dict names (``class_name``, or its ``registered_name``); raises if unknown."""
        if not isinstance(config, dict) or "class_name" not in config:
            raise _validation.type_error(owner, "`config`", f'a dict like {{"class_name": "{example}", '
                                         '"config": {...}}', repr(config))
        found = self.find(str(config["class_name"]), custom_objects, config.get("registered_name"))
        if found is None:
            raise self.unknown(owner, str(config["class_name"]))
        return found

    def get(self, identifier: Any, owner: str) -> Any:
        """An instance of ``base`` (or None) from None, an instance, a class, a name, Keras's serialized dict
        (``module`` optional; a function's form resolves through custom objects) or, with ``wrap``, a callable."""
        base = self.base
        if identifier is None or isinstance(identifier, base):
            return identifier
        if isinstance(identifier, type) and issubclass(identifier, base):
            return identifier()
        if isinstance(identifier, str):
            return self._instantiate(self.find(identifier), identifier, owner, None)
        if isinstance(identifier, dict):
            if "class_name" not in identifier:
                raise _validation.value_error(owner, f"a serialized {self.kind}",
                                              'a dict with "class_name" and "config"', repr(identifier))
            name, config = identifier["class_name"], identifier.get("config")
            if name == "function" and self.wrap is not None and isinstance(config, str):
                name, config = config, None  # Keras's form of a plain function: its name
            else:
                config = dict(config or {})
            found = self.find(name, registered_name=identifier.get("registered_name"))
            return self._instantiate(found, name, owner, config)
        if callable(identifier) and self.wrap is not None:
            return self.wrap(identifier)
        raise _validation.type_error(owner, self.kind, f"a name, a serialized dict or a {base.__name__}",
                                     f"{identifier!r} of type {type(identifier).__name__}")

    def _instantiate(self, found: Any, name: Any, owner: str, config: dict | None) -> Any:
        """``found()`` (a name) or ``found.from_config(config)`` (a dict), or a custom function wrapped;
        raises if unknown."""
        if found is None:
            raise self.unknown(owner, name)
        if isinstance(found, type) and issubclass(found, self.base):
            return found() if config is None else found.from_config(config)
        if callable(found) and self.wrap is not None and not isinstance(found, type):
            return self.wrap(found)  # a custom function allowed by custom_objects
        raise _validation.type_error(owner, f"custom_objects[{name!r}]",
                                     f"a {self.base.__name__} subclass" + (" or a function" if self.wrap else ""),
                                     f"{found!r} of type {type(found).__name__}")

    # -- objects -> Keras's form ---------------------------------------------------------------------------
    def serialize(self, obj: Any, owner: str, expected: str = "") -> dict:
        """Keras's form of an instance of ``base``; anything else is a TypeError naming ``expected``."""
        if not isinstance(obj, self.base):
            raise _validation.type_error(owner, f"`{self.kind}`", expected or f"a {self.base.__name__}",
                                         f"{obj!r} of type {type(obj).__name__}")
        return {"module": self.module, "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": None}

    def serialize_or_function(self, obj: Any, owner: str) -> dict | None:
        """Keras's form of an instance, or of a plain (or wrapped) callable: Keras's function form, which
        names it only (``custom_objects`` brings it back). None stays None."""
        if obj is None:
            return None
        fn = obj.fn if self.wrap is not None and isinstance(obj, self.wrap) else obj
        if isinstance(fn, self.base):
            return self.serialize(fn, owner)
        if not callable(fn):
            raise _validation.type_error(owner, f"`{self.kind}`", f"a {self.base.__name__} or a callable", repr(obj))
        name = getattr(fn, "__name__", type(fn).__name__)
        return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
                "registered_name": name}
