"""Clear errors for TensorFlow names reached through lstmkit's Keras namespaces.

Keras programs written for tf.keras often reach TensorFlow itself: ``K.tf``, ``K.get_session()``,
``keras.backend.placeholder``, ``tf.reduce_mean`` through a backend alias. lstmkit is Keras on PyTorch, so these
are not Keras APIs; ``lstmkit.__getattr__`` and ``lstmkit.backend.__getattr__`` turn them into an
``AttributeError`` that says the name is TensorFlow's and what to use instead.
"""

from __future__ import annotations

#: TensorFlow name -> what to use with lstmkit.
REPLACEMENTS = {
    "tf": "torch (tensors and ops) or lstmkit.backend's Keras functions",
    "tensorflow": "torch (tensors and ops) or lstmkit.backend's Keras functions",
    "compat": "torch; TF1 code (tf.compat.v1) has no lstmkit equivalent",
    "Session": "nothing: PyTorch runs eagerly, there is no session",
    "get_session": "nothing: PyTorch runs eagerly, there is no session",
    "set_session": "nothing: PyTorch runs eagerly, there is no session",
    "placeholder": "lstmkit.Input(shape=...) for model inputs",
    "GradientTape": "loss.backward() and torch.autograd.grad",
    "gradients": "torch.autograd.grad(outputs, inputs)",
    "function": "a plain Python function (or torch.compile) — PyTorch runs eagerly",
    "Variable": "torch.nn.Parameter, or Layer.add_weight inside a layer",
    "reduce_mean": "lstmkit.backend.mean or torch.mean",
    "reduce_sum": "lstmkit.backend.sum or torch.sum",
    "reduce_max": "lstmkit.backend.max or torch.amax",
    "reduce_min": "lstmkit.backend.min or torch.amin",
    "reduce_prod": "lstmkit.backend.prod or torch.prod",
    "matmul": "torch.matmul or lstmkit.backend.dot",
    "concat": "lstmkit.backend.concatenate or torch.cat",
    "one_hot": "lstmkit.utils.to_categorical or torch.nn.functional.one_hot",
    "set_seed": "lstmkit.utils.set_random_seed",
    "distribute": "torch.distributed (and lstmkit's multi-process fit)",
    "TensorSpec": "lstmkit.Input(shape=..., dtype=...)",
    "convert_to_tensor": "torch.as_tensor",
    "py_function": "a plain Python function",
}


#: Keras 2 backend functions that only existed as TensorFlow graph plumbing.
TF_BACKEND = {"get_session", "set_session", "placeholder", "gradients", "function"}


def tensorflow_name_error(module: str, name: str) -> AttributeError:
    """The AttributeError for ``module.name``: TensorFlow's name with its replacement, or the usual message."""
    if name in REPLACEMENTS:
        what = ("tf.keras 2's TensorFlow backend (graph plumbing), not Keras" if name in TF_BACKEND
                else "TensorFlow, not Keras")
        return AttributeError(f"{module}.{name}: '{name}' is {what}. lstmkit implements Keras on PyTorch and has "
                              f"no TensorFlow inside. Instead: {REPLACEMENTS[name]}.")
    return AttributeError(f"module {module!r} has no attribute {name!r}")
