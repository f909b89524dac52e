"""Keras 1 argument names that Keras 2 renamed one for one, accepted with a ``DeprecationWarning``.

Keras 2 shipped the same conversions (its "legacy interfaces"). A name is renamed only where it is
unambiguous: the layer takes the new name and not the old one (``output_dim`` becomes ``units`` for ``Dense``
and the recurrent layers, while ``Embedding`` keeps its own ``output_dim``). Old names whose meaning changed
(``consume_less``, ``return_sequences`` defaults...) are not in the table and stay errors.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any, Callable

from .. import _validation

#: Keras 1 name -> Keras 2 / 3 name.
RENAMED = {
    "output_dim": "units",
    "init": "kernel_initializer",
    "inner_init": "recurrent_initializer",
    "W_regularizer": "kernel_regularizer",
    "U_regularizer": "recurrent_regularizer",
    "b_regularizer": "bias_regularizer",
    "W_constraint": "kernel_constraint",
    "U_constraint": "recurrent_constraint",
    "b_constraint": "bias_constraint",
    "dropout_W": "dropout",
    "dropout_U": "recurrent_dropout",
    "inner_activation": "recurrent_activation",
    "nb_filter": "filters",
    "filter_length": "kernel_size",
    "subsample_length": "strides",
    "border_mode": "padding",
    "bias": "use_bias",
}
# Not here: Model(input=, output=) (Keras 1 too), which lstmkit refuses by name as Keras >= 2.3 does.


def accept_keras1_names(cls: type, init: Callable) -> Callable:
    """Wrap ``cls.__init__`` so Keras 1 keyword names are renamed (with a warning) before it runs."""
    try:
        parameters = set(inspect.signature(init).parameters)
    except (TypeError, ValueError):
        return init
    table = {old: new for old, new in RENAMED.items() if new in parameters and old not in parameters}
    if not table:
        return init

    @functools.wraps(init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        for old in [name for name in kwargs if name in table]:
            new = table[old]
            if new in kwargs:
                raise _validation.InputTypeError(f"{cls.__name__}: pass {new}= only ({old}= is Keras 1's name for it).")
            warnings.warn(f"{cls.__name__}: {old}= is Keras 1's name; use {new}=.", DeprecationWarning,
                          stacklevel=2)
            kwargs[new] = kwargs.pop(old)
        init(self, *args, **kwargs)

    return __init__
