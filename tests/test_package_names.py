"""What `import autograd_lite` and `import nn` put in front of a user: their public names and their submodules."""

from __future__ import annotations

import types

import pytest

import autograd_lite
import nn
from autograd_lite import nn as ag_nn


def _stray_names(package: types.ModuleType, prefix: str) -> list[str]:
    """Names `dir(package)` shows that are neither private, nor in `__all__`, nor a module named `prefix...`."""
    return [
        name
        for name in dir(package)
        if not name.startswith("_")
        and name not in package.__all__
        and not (isinstance(getattr(package, name), types.ModuleType)
                 and getattr(package, name).__name__.startswith(prefix))
    ]


# autograd_lite.nn is nn under a second name: its submodules are nn's.
@pytest.mark.parametrize(("package", "prefix"), [(autograd_lite, "autograd_lite."), (nn, "nn."), (ag_nn, "nn.")],
                         ids=["autograd_lite", "nn", "autograd_lite.nn"])
def test_dir_shows_only_public_names_and_submodules(package, prefix):
    assert _stray_names(package, prefix) == []
    assert "Any" not in dir(package) and "annotations" not in dir(package)


@pytest.mark.parametrize("package", [autograd_lite, nn, ag_nn], ids=lambda p: p.__name__)
def test_every_name_in_all_resolves(package):
    assert len(set(package.__all__)) == len(package.__all__)
    for name in package.__all__:
        assert getattr(package, name) is not None, name


def test_the_lazy_drawing_names_are_the_drawing_modules_functions():
    from autograd_lite.draw import backward_frames, render

    assert autograd_lite.draw_dot is render.draw_dot
    assert autograd_lite.save_backward_animation is backward_frames.save_backward_animation


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        autograd_lite.no_such_thing  # noqa: B018
