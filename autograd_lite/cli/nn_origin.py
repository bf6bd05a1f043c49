"""Is the `nn` that `import nn` would load the package that comes with autograd_lite? Found without importing it.

Python looks in the script's folder (with `python -m`, the working folder) before the
installed packages, so a learner's own `nn.py` (or `nn/` folder) there is imported in
place of ours, and the first `from nn.training import ...` fails with a traceback far
from the cause. `shadowing_nn()` says so first, in one line that names the file.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

OURS = Path(__file__).resolve().parents[2] / "nn"  # installed beside autograd_lite (setuptools' packages list)


def nn_location() -> Path | None:
    """The file or folder `import nn` gives (or gave): None when there is no `nn` to import."""
    module = sys.modules.get("nn")
    if module is not None:
        origin = getattr(module, "__file__", None)
    else:
        try:
            spec = importlib.util.find_spec("nn")
        except (ImportError, ValueError):  # a broken `nn` entry: not ours either
            return Path("nn")
        if spec is None:
            return None
        origin = spec.origin
        if origin is None and spec.submodule_search_locations:  # a folder `nn/` with no __init__.py
            return Path(next(iter(spec.submodule_search_locations)))
    if origin is None:
        return Path("nn")
    path = Path(origin)
    return path.parent if path.name == "__init__.py" else path


def shadowing_nn() -> str | None:
    """None when `import nn` loads autograd_lite's nn package; else one line naming what hides it."""
    found = nn_location()
    if found is None:
        return f"the nn package that comes with autograd_lite is missing (expected at {OURS}); reinstall autograd-lite"
    if found.resolve() == OURS:
        return None
    suggestion = "my_nn.py" if found.suffix == ".py" else "my_nn"
    return (
        f"{found} hides the nn package that comes with autograd_lite (Python imports it first): "
        f"rename it, e.g. to {suggestion}"
    )
