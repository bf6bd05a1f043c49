"""Shared hypothesis settings: deterministic, no deadline (the machine is shared and noisy)."""

from hypothesis import settings

settings.register_profile("autograd_lite", deadline=None, derandomize=True, max_examples=60)
settings.load_profile("autograd_lite")
