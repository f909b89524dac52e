"""The one place that words argument and input errors.

Every message names the owner (layer or function), the argument, what was expected,
what was received and, when there is one, the fix. ``ValueError`` for a bad value,
``TypeError`` for a bad type.

Every error lstmkit raises about its caller's input is an ``InputError`` (a ``ValueError``;
``InputTypeError`` is also a ``TypeError``, ``InputKeyError`` also a ``KeyError``), so a program
or the command line can tell "your input is wrong" from "lstmkit has a bug" by type alone.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import warnings
from collections.abc import Callable, Iterable
from typing import Any


def message(owner: str, what: str, expected: str, received: Any, fix: str | None = None) -> str:
    """Format ``"<owner>: <what> expects <expected>; received <received>. <fix>"``."""
    text = f"{owner}: {what} expects {expected}; received {received}."
    if fix:
        text += f" {fix}"
    return text


class InputError(ValueError):
    """Input the user can fix: a bad value, file, table or argument. The message says what was
    expected, what was received and how to fix it."""


class InputTypeError(InputError, TypeError):
    """Input of the wrong type (still an ``InputError``, and a ``TypeError`` as Python expects)."""


class InputKeyError(InputError, KeyError):
    """A missing name (column, key) in the user's input; prints its message as is, unlike ``KeyError``."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def value_error(owner: str, what: str, expected: str, received: Any, fix: str | None = None) -> InputError:
    return InputError(message(owner, what, expected, received, fix))


def type_error(owner: str, what: str, expected: str, received: Any, fix: str | None = None) -> InputTypeError:
    return InputTypeError(message(owner, what, expected, received, fix))


def key_error(owner: str, what: str, expected: str, received: Any, fix: str | None = None) -> InputKeyError:
    return InputKeyError(message(owner, what, expected, received, fix))


def positive_int(owner: str, name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer > 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise type_error(owner, f"`{name}`", "a positive integer", f"{value!r} of type {type(value).__name__}")
    if value <= 0:
        raise value_error(owner, f"`{name}`", "a positive integer", repr(value),
                          f"Pass `{name}` >= 1.")
    return int(value)


def non_negative_int(owner: str, name: str, value: Any) -> int:
    """Return ``value`` as an int if it is an integer >= 0, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise type_error(owner, f"`{name}`", "an integer >= 0", f"{value!r} of type {type(value).__name__}")
    if value < 0:
        raise value_error(owner, f"`{name}`", "an integer >= 0", repr(value))
    return int(value)


def fraction(owner: str, name: str, value: Any) -> float:
    """Return ``value`` as a float in ``[0, 1)``, else raise (a rate of 1 would drop everything)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise type_error(owner, f"`{name}`", "a float in [0, 1)", f"{value!r} of type {type(value).__name__}")
    if not 0.0 <= float(value) < 1.0:
        raise value_error(owner, f"`{name}`", "a float in [0, 1)", repr(value),
                          f"`{name}` is the fraction of units to drop; use e.g. {name}=0.2.")
    return float(value)


def boolean(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1, True, False):
        raise type_error(owner, f"`{name}`", "True or False", repr(value))
    return bool(value)


def choice(owner: str, name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise value_error(owner, f"`{name}`", f"one of {listed}", repr(value))
    return value


def describe_array(x: Any) -> str:
    """A short description of an array-like for error messages: ``"a 2-D array of shape (32, 25)"``."""
    shape = tuple(getattr(x, "shape", ()))
    return f"a {len(shape)}-D array of shape {shape}"


def renamed_keyword(old: str, new: str) -> Callable[[Callable], Callable]:
    """Accept a function's old keyword ``old=`` for ``new=``, with a DeprecationWarning; both at once is an
    error (``new`` given by position counts)."""

    def decorate(function: Callable) -> Callable:
        position = list(inspect.signature(function).parameters).index(new)

        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            if old in kwargs:
                if new in kwargs or len(args) > position:
                    raise type_error(function.__name__, f"`{old}`", f"`{new}` alone ({old} is its deprecated "
                                     "spelling)", "both", f"Pass only {new}=.")
                warnings.warn(f"{function.__name__}: `{old}` is deprecated; use `{new}` (the same value).",
                              DeprecationWarning, stacklevel=2)
                kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return call

    return decorate
