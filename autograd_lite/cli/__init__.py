"""The application layer: the `autograd-lite` command. The only part of `autograd_lite` that may import `nn`."""
