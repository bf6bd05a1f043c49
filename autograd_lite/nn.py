"""`from autograd_lite import nn`: the `nn` package under the engine's name, as `from torch import nn` is torch's.

The same objects, not copies: `autograd_lite.nn.MLP is nn.MLP`, so models, checkpoints
and `isinstance` checks agree whichever name made them. With this form a notebook can
hold both libraries: `from autograd_lite import nn` beside `import torch` (torch's as
`torch.nn`), where `import nn` would be replaced by a later `from torch import nn`.

Why a module that re-exports, and not `nn` moved inside the engine: the engine
(`autograd_lite`) never imports `nn`, so `import autograd_lite` stays light and free of
training code; only this module (loaded by `from autograd_lite import nn` or
`import autograd_lite.nn`, never by `import autograd_lite`) and the command line import it. Subpackages are
attributes, as in PyTorch: `from autograd_lite.nn import datasets`, `nn.training`.

If a file `nn.py` (or a folder `nn/`) in the working folder would be imported in place
of the real package, this import fails with one line naming that file.
"""

from autograd_lite.cli import nn_origin as _nn_origin

_problem = _nn_origin.shadowing_nn()
if _problem is not None:
    raise ImportError(_problem)

import nn as _nn  # noqa: E402  (only once the check above has passed)
from nn import *  # noqa: E402, F403  (every public name, listed in nn.__all__)
from nn import __all__ as __all__  # noqa: E402
from nn import layers, module, optim, restarts, saving, training  # noqa: E402, F401  (typed for mypy and editors)


def __getattr__(name: str) -> object:
    """The rest of nn's attributes (`nn.training`, `nn.optim`, ...), the same objects as `nn.<name>`."""
    if name.startswith("__"):
        raise AttributeError(f"module 'autograd_lite.nn' has no attribute {name!r}")
    try:
        return getattr(_nn, name)
    except AttributeError:
        raise AttributeError(f"module 'autograd_lite.nn' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    """The names `nn` has, so tab completion shows what `nn.` would."""
    return dir(_nn)
