"""Keras's mixed precision: dtype policies and (for float16) dynamic loss scaling.

``set_global_policy("mixed_bfloat16")`` makes every layer created afterwards keep float32 weights and
compute in bfloat16; ``LossScaleOptimizer`` wraps an optimizer with Keras's dynamic loss scale, which
float16 training needs (bfloat16 does not).
"""

from .loss_scale_optimizer import LossScaleOptimizer
from .policy import DTypePolicy, Policy, global_policy, set_global_policy

__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "global_policy", "set_global_policy"]
