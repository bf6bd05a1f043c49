"""`Module`: the PyTorch-style base of every network piece (parameters, names, state, save/load).

A module finds its parameters by walking its own attributes in the order they
were set: a `Value` that requires a gradient is a parameter, a `Module` is a
child, and a list or tuple holds either (named by index). Names are dotted
paths such as `layers.0.neurons.1.w.0`. Attributes starting with `_` are
private and skipped.

Label contract (drawings rely on it): after construction, the outermost module
sets every parameter's `.label` to its dotted name, and gives each submodule
its dotted path so a neuron can label the node it outputs (`layers.0.neurons.1`).
A standalone Neuron's parameters are `w.0`, `w.1`, ..., `b`. After moving
modules around by hand, call `label_parameters()` on the outermost one.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from autograd_lite import Value
from nn import saving
from nn.checks import number

# Classes `nn.load` may rebuild, by "module.QualName"; filled as Module subclasses are defined.
REGISTRY: dict[str, type[Module]] = {}


class _LabelAfterInit(type):
    """Metaclass: once the outermost constructor returns, label the parameters from the top."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        module = super().__call__(*args, **kwargs)
        module.label_parameters()  # inner modules labelled themselves first; the outermost call wins
        return module


class _ClassOrInstanceMethod:
    """A method that receives the class when called on the class, the instance when called on one."""

    def __init__(self, func: Any) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __get__(self, instance: Any, owner: type) -> Any:
        bound_to = owner if instance is None else instance

        @functools.wraps(self.func)
        def bound(*args: Any, **kwargs: Any) -> Any:
            return self.func(bound_to, *args, **kwargs)

        return bound


class Module(metaclass=_LabelAfterInit):
    """Base class: subclasses set Values, Modules and lists of them as attributes and define `forward`."""

    _path = ""  # dotted name inside the outermost module; "" for the outermost itself

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        REGISTRY[registry_key(cls)] = cls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup failed: keep the AttributeError, add a hint for typos.
        close = difflib.get_close_matches(name, [a for a in dir(self) if not a.startswith("_")], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}{hint}")

    # --- walking the tree

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """(dotted path, module) for this module and every submodule, depth first in attribute order."""
        found = [(prefix, self)]
        for name, child in _children(self, prefix):
            if isinstance(child, Module):
                found.extend(child.named_modules(name))
        return found

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(dotted name, parameter) in a stable order; a Value shared by two places is listed once."""
        seen: set[int] = set()
        named = []
        for name, value in _leaves(self, ""):
            if value.requires_grad and id(value) not in seen:
                seen.add(id(value))
                named.append((name, value))
        return named

    def parameters(self) -> list[Value]:
        """Every parameter, in `named_parameters` order (micrograd's: layer, neuron, weights, bias)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.named_parameters())

    def label_parameters(self) -> None:
        """Set each parameter's `.label` to its dotted name and each submodule's path (done at construction)."""
        for path, module in self.named_modules():
            object.__setattr__(module, "_path", path)
        for name, p in self.named_parameters():
            p.label = name

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0."""
        for p in self.parameters():
            p.grad = 0.0

    # --- state

    def state_dict(self) -> dict[str, float]:
        """Ordered {dotted name: value} of every parameter."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any] | Sequence[Any], strict: bool = True) -> None:
        """Set parameters from {name: number} or from a flat sequence in `parameters()` order.

        Everything is checked before anything changes: with `strict`, a missing or
        unexpected name raises ValueError; a flat sequence must have exactly one
        number per parameter; every value must be a finite real number.
        """
        named = self.named_parameters()
        if isinstance(state, Mapping):
            updates = _updates_from_mapping(named, state, strict)
        elif isinstance(state, (Sequence, np.ndarray)) and not isinstance(state, str):
            updates = _updates_from_sequence(named, state)
        else:
            kind = type(state).__name__
            raise ValueError(f"load_state_dict needs a mapping or a flat sequence of numbers, got {kind}")
        for p, value in updates:
            p.data = value

    def config(self) -> dict[str, Any] | None:
        """Constructor arguments that rebuild this module's architecture, or None if unknown."""
        return None

    def save(self, path: str) -> None:
        """Write architecture and parameters to `path` as JSON, atomically (temp file, then rename)."""
        state = self.state_dict()
        for name, value in state.items():
            if not math.isfinite(value):
                raise ValueError(f"cannot save: parameter {name} is {value!r}")
        config = self.config()
        architecture = None if config is None else {"class": registry_key(type(self)), "config": config}
        saving.write_checkpoint(path, architecture, state)

    @_ClassOrInstanceMethod
    def load(target: type[Module] | Module, path: str) -> Module:
        """`Cls.load(path)` rebuilds a saved model; `model.load(path)` fills this model in place.

        A corrupt, truncated or mismatched file raises ValueError and changes nothing.
        """
        architecture, state = saving.read_checkpoint(path)
        if isinstance(target, Module):
            _check_same_architecture(target, architecture, path)
            target.load_state_dict(state)
            return target
        model = build(architecture, path)
        if not isinstance(model, target):
            raise ValueError(f"{path}: holds a {type(model).__name__}, not a {target.__name__}")
        model.load_state_dict(state)
        return model

    # --- display

    def extra_repr(self) -> str:
        """What goes inside the parentheses of repr; subclasses describe their shape."""
        return f"{self.num_parameters()} parameters"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


def registry_key(cls: type) -> str:
    """The name under which `nn.load` finds a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def load(path: str) -> Module:
    """Rebuild the model saved at `path` (its class must define `config()` and be imported)."""
    return Module.load(path)


def build(architecture: dict[str, Any] | None, path: str) -> Module:
    """Construct the module an architecture record describes; ValueError if it cannot."""
    if architecture is None:
        raise ValueError(f"{path}: no architecture saved (the class has no config()); use model.load(path)")
    cls = REGISTRY.get(architecture["class"])
    if cls is None:
        raise ValueError(f"{path}: unknown module class {architecture['class']!r} (import the module defining it)")
    try:
        return cls(**architecture["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: invalid architecture {architecture!r}: {error}") from None


def _children(module: Module, prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted name, child) for each public attribute that is a Value or a Module, lists unrolled by index."""
    dot = f"{prefix}." if prefix else ""
    for attr, value in vars(module).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, (Value, Module)):
            yield dot + attr, value
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                if isinstance(item, (Value, Module)):
                    yield f"{dot}{attr}.{i}", item


def _leaves(module: Module, prefix: str) -> Iterator[tuple[str, Value]]:
    """(dotted name, Value) for every Value under `module`, depth first in attribute order."""
    for name, child in _children(module, prefix):
        if isinstance(child, Module):
            yield from _leaves(child, name)
        else:
            yield name, child


def _finite(name: str, value: Any) -> float:
    return number(value, f"state for {name}")


def _updates_from_mapping(named: list[tuple[str, Value]], state: Mapping[str, Any], strict: bool) -> list:
    names = [n for n, _ in named]
    if strict:
        missing = [n for n in names if n not in state]
        unexpected = [k for k in state if k not in set(names)]
        if missing or unexpected:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + (
                [f"unexpected {', '.join(map(str, unexpected))}"] if unexpected else []
            )
            raise ValueError(f"state_dict does not match the model: {'; '.join(parts)}")
    return [(p, _finite(n, state[n])) for n, p in named if n in state]


def _updates_from_sequence(named: list[tuple[str, Value]], values: Sequence[Any]) -> list:
    if len(values) != len(named):
        raise ValueError(f"expected {len(named)} values (one per parameter), got {len(values)}")
    return [(p, _finite(n, v)) for (n, p), v in zip(named, values, strict=True)]


def _check_same_architecture(model: Module, architecture: dict[str, Any] | None, path: str) -> None:
    config = model.config()
    if architecture is None or config is None:
        return  # nothing to compare; load_state_dict still checks every name
    ours = {"class": registry_key(type(model)), "config": config}
    if architecture != ours:
        raise ValueError(f"{path}: saved architecture {architecture!r} does not match this model's {ours!r}")
