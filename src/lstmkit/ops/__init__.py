"""Leaves: tensors in, tensors out (activations, initializers, regularizers, constraints, recurrences)."""
