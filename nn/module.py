"""`Module`: the PyTorch-style base of every network piece (parameters, names, state, save/load).

A module finds its parameters by walking its own attributes in the order they
were set: a `Value` that requires a gradient is a parameter, a `Module` is a
child, and a list or tuple holds either (named by index). Names are dotted
paths such as `layers.0.neurons.1.w.0`. Attributes starting with `_` are
private and skipped.

Labels: whenever a module is given a part (a Value, a Module, or a list of them),
it relabels what it holds, so every parameter's `.label` is its dotted name in
the outermost module and every submodule knows its dotted path (a neuron labels
the node it outputs `layers.0.neurons.1`). A standalone Neuron's parameters are
`w.0`, `w.1`, ..., `b`. After changing a list in place, call `label_parameters()`
on the outermost module.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple, NoReturn, ParamSpec, TypeVar

import numpy as np

from autograd_lite import Value
from nn import saving
from nn.checks import clip, first_few, number, short

M = TypeVar("M", bound="Module")
P = ParamSpec("P")
# How many labelled_once constructors are running in this context (a thread's or a task's own count).
_BUILDING: ContextVar[int] = ContextVar("building", default=0)


def labelled_once(init: Callable[P, None]) -> Callable[P, None]:
    """For a constructor: its parts are labelled once when the outermost such constructor returns, not as each is
    set; a model's build then walks its parameters once instead of once per level of nesting."""

    @functools.wraps(init)
    def build(*args: P.args, **kwargs: P.kwargs) -> None:
        token = _BUILDING.set(_BUILDING.get() + 1)
        try:
            init(*args, **kwargs)
        finally:
            _BUILDING.reset(token)
        if _BUILDING.get() == 0:
            module = args[0]
            assert isinstance(module, Module)  # (self)
            module.label_parameters()

    return build
Path = str | os.PathLike[str]


class Module:
    """Base class: subclasses set Values, Modules and lists of them as attributes and define `forward`."""

    _path = ""  # dotted name inside the outermost module; "" for the outermost itself

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if not name.startswith("_") and not _BUILDING.get() and _holds_parts(value):
            self.label_parameters()  # the new part takes its dotted name at once

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # Any: each subclass's forward has its own signature
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:  # Any: as __call__
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __getattr__(self, name: str) -> NoReturn:
        # Reached only when normal lookup failed: say which parts the module does have.
        parts = [attr for attr in vars(self) if not attr.startswith("_")]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}; it has {first_few(parts, 8)}")

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
        names, found = _named_parameters(self, "")
        return list(zip(names, found, strict=True))

    def parameters(self) -> list[Value]:
        """Every parameter, in `named_parameters` order (micrograd's: layer, neuron, weights, bias)."""
        found: dict[Value, None] = {}
        _gather_parameters(self, found)  # the same walk as named_parameters, without building names
        return list(found)

    def num_parameters(self) -> int:
        """How many scalar parameters the module has."""
        return len(self.parameters())

    def label_parameters(self) -> None:
        """Set each parameter's `.label` to its dotted name and each submodule's path (done as parts are set)."""
        _walk(self, self._path, set(), [], [], label=True)

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def drawing_groups(self) -> Callable[[Value], tuple[str, ...]]:
        """Frames for `draw_dot(out, cluster=model.drawing_groups())`: node -> its frames, outermost first.

        Each module that holds parameters itself (a neuron) is a frame around them and around
        the nodes its calls returned (found in the graph by `built`, never by label), inside the
        frames of the modules holding it (a layer). The drawing frames every node between them.
        """
        owners: dict[Value, tuple[Module, tuple[str, ...]]] = {}
        _collect_frames(self, self._path, (), owners)

        def frames(node: Value) -> tuple[str, ...]:
            if not node.parents:
                return owners[node][1] if node in owners else ()
            near = (*node.parents, *node.parents[0].parents)  # a call's output reads its parameters, or one gate does
            return next((owners[p][1] for p in near if p in owners and owners[p][0].built(node)), ())

        return frames

    def built(self, node: Value) -> bool:
        """Whether `node` is what a call of this module returned, read from the graph; modules that know say so."""
        return False

    # --- state

    def state_dict(self) -> dict[str, float]:
        """Ordered {dotted name: value} of every parameter."""
        names, found = _named_parameters(self, "")
        return dict(zip(names, [p.data for p in found]))

    def load_state_dict(
        self, state: Mapping[str, object] | Sequence[object] | np.ndarray, strict: bool = True
    ) -> IncompatibleKeys:
        """Set parameters from {name: number} or from a flat sequence in `parameters()` order.

        Everything is checked before anything changes: with `strict`, a missing or
        unexpected name raises ValueError; a flat sequence must have exactly one
        number per parameter; every value must be a finite real number. Returns the
        names left out (missing_keys) and the names not used (unexpected_keys), as PyTorch does.
        """
        names, found = _named_parameters(self, "")
        if isinstance(state, Mapping):
            params, values, keys = _updates_from_mapping(names, found, state, strict)
        elif isinstance(state, (Sequence, np.ndarray)) and not isinstance(state, (str, bytes)):
            params, values, keys = found, _values_from_sequence(names, state), IncompatibleKeys([], [])
        else:
            kind = type(state).__name__
            raise ValueError(f"load_state_dict needs a mapping or a flat sequence of numbers, got {kind}")
        for p, value in zip(params, values, strict=True):
            p.data = value
        return keys

    def config(self) -> saving.Config | None:
        """Constructor arguments that rebuild this module's architecture, or None if unknown."""
        return None

    @classmethod
    def parameter_count(cls, config: saving.Config) -> int | None:
        """How many parameters `cls(**config)` would have, without building it (None: not known).

        `load` checks this against its limit and against the file before it builds a
        model; a class that saves a config should say, so a hostile file cannot make
        it build a huge model.
        """
        return None

    def save(self, path: Path) -> None:
        """Write architecture and parameters to `path` as JSON, atomically (temp file, then rename)."""
        saving.write_record(path, model_record(self))

    @classmethod
    def load(cls: type[M], path: Path, kinds: Iterable[type[Module]] = ()) -> M:
        """Rebuild the model saved at `path` (`MLP.load(path)`); it must be a `cls`.

        The file may name `cls`, a class in `module_kinds`, or one of `kinds`. A corrupt,
        hostile or too large file raises ValueError before any model is built (limits
        in `nn.saving`). Called on a model it still returns a new one: `model.load_weights(path)`
        fills an existing model.
        """
        architecture, state = saving.read_model(path)
        model = build(architecture, len(state), path, module_kinds.including(cls, *kinds))
        if not isinstance(model, cls):
            raise ValueError(f"{path}: holds a {type(model).__name__}, not a {cls.__name__}")
        model.load_state_dict(state)
        return model

    def load_weights(self, path: Path) -> None:
        """Fill this model's parameters from a file `save` wrote for the same architecture; unchanged on error."""
        architecture, state = saving.read_model(path)
        check_same_architecture(self, architecture, path)
        self.load_state_dict(state)

    # --- display

    def extra_repr(self) -> str:
        """What goes inside the parentheses of repr; subclasses describe their shape."""
        return f"{self.num_parameters()} parameters"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class ModuleKinds:
    """The module classes a saved file may name, by "module.QualName": `load` builds nothing else.

    Nothing is added behind your back: nn adds Neuron, Layer and MLP to `module_kinds`;
    add your own with `module_kinds.add(MyModule)` (also a class decorator), or pass
    `kinds=[MyModule]` to one `load`.
    """

    def __init__(self, classes: Iterable[type[Module]] = ()) -> None:
        self._by_name: dict[str, type[Module]] = {}
        for cls in classes:
            self.add(cls)

    def add(self, cls: type[M]) -> type[M]:
        """Let files name `cls`; returns it, so it works as a class decorator."""
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"module kinds must be Module subclasses, got {short(cls)}")
        self._by_name[kind_name(cls)] = cls
        return cls

    def remove(self, cls: type[Module]) -> None:
        """Stop files from naming `cls`; KeyError if it was not added."""
        del self._by_name[kind_name(cls)]

    def find(self, name: str) -> type[Module] | None:
        """The class a file names, or None."""
        return self._by_name.get(name)

    def including(self, *classes: type[Module]) -> ModuleKinds:
        """A new ModuleKinds with these classes as well (this one is unchanged)."""
        return ModuleKinds([*self._by_name.values(), *classes])

    def __contains__(self, cls: object) -> bool:
        return isinstance(cls, type) and self._by_name.get(kind_name(cls)) is cls


module_kinds = ModuleKinds()  # nn/__init__.py adds Neuron, Layer and MLP


def kind_name(cls: type) -> str:
    """The name under which a file records a module's class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def model_record(model: Module) -> saving.Record:
    """What `save` writes for `model` (a checkpoint adds a training record); ValueError if it could not be loaded."""
    state = model.state_dict()
    bad = [f"{name} is {value!r}" for name, value in state.items() if not np.isfinite(value)]
    if bad:
        raise ValueError(f"cannot save: parameter {first_few(bad)}")
    if len(state) > saving.MAX_PARAMETERS:
        raise ValueError(f"cannot save {len(state):,} parameters: load reads at most {saving.MAX_PARAMETERS:,}")
    config = model.config()
    architecture = None if config is None else {"class": kind_name(type(model)), "config": config}
    return saving.model_record(architecture, state)


def load(path: Path, kinds: Iterable[type[Module]] = ()) -> Module:
    """Rebuild the model saved at `path`; its class must be in `module_kinds` or in `kinds`."""
    return Module.load(path, kinds)


def build(architecture: saving.Architecture | None, n_values: int, path: Path, kinds: ModuleKinds) -> Module:
    """Construct the module an architecture record describes, after checking its size; ValueError if it cannot."""
    if architecture is None:
        raise ValueError(f"{path}: no architecture saved (the class has no config()); use model.load_weights(path)")
    cls = kinds.find(architecture["class"])
    if cls is None:
        raise ValueError(
            f"{path}: unknown module class {short(architecture['class'])} (add it to nn.module_kinds or pass kinds=)"
        )
    try:
        count = cls.parameter_count(architecture["config"])
    except (KeyError, TypeError, ValueError) as error:
        raise _invalid(architecture, path, error) from None
    if count is not None:
        _check_count(count, n_values, path)
    try:
        model = cls(**architecture["config"])
    except (TypeError, ValueError) as error:
        raise _invalid(architecture, path, error) from None
    _check_config_taken(model, architecture, path)
    return model


def _check_config_taken(model: Module, architecture: saving.Architecture, path: Path) -> None:
    """Each value of the saved config must be what the built model reports, of the same JSON type.

    A constructor may convert what it is given (`bool("no")` is True); a file is refused
    unless the model it built would save the same config, so `"bias": "no"` is an error.
    """
    built = model.config()
    if built is None:
        return  # the class does not report its config: nothing to compare
    built = json.loads(json.dumps(built))  # as a file holds it: tuples become lists
    for key, value in architecture["config"].items():
        if key not in built:
            raise ValueError(f"{path}: config {clip(key)} is not part of {kind_name(type(model))}'s saved config")
        if not same_json(built[key], value):
            raise ValueError(
                f"{path}: config {clip(key)} = {short(value)} is not a value {kind_name(type(model))} takes "
                f"(it would build {short(built[key])})"
            )


def same_json(a: object, b: object) -> bool:
    """Whether two parsed JSON values are equal with the same types (True is not 1, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _invalid(architecture: saving.Architecture, path: Path, error: Exception) -> ValueError:
    return ValueError(f"{path}: invalid architecture {short(architecture)}: {str(error)[:200]}")


def _check_count(count: int, n_values: int, path: Path) -> None:
    if count > saving.MAX_PARAMETERS:
        raise ValueError(f"{path}: declares {count:,} parameters, more than the limit of {saving.MAX_PARAMETERS:,}")
    if count != n_values:
        raise ValueError(f"{path}: declares {count:,} parameters but holds {n_values:,} values")


def _holds_parts(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return any(isinstance(item, (Value, Module)) for item in value)
    return isinstance(value, (Value, Module))


def _children(module: Module, prefix: str) -> Iterator[tuple[str, Value | Module]]:
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


def _walk(module: Module, path: str, seen: set[Value], names: list[str], found: list[Value], label: bool) -> None:
    """`_children`'s walk in one pass, without generators (it runs as every model is built and loaded): append
    each parameter's dotted name to `names` and the Value to `found` (the first place wins, as in
    `named_parameters`), or with `label` set each module's path (the last place wins, as in `named_modules`) and
    each parameter's label. Two flat lists, not (name, Value) pairs: no tuple per parameter for the collector."""
    if label:
        object.__setattr__(module, "_path", path)
    dot = f"{path}." if path else ""
    for attr, value in vars(module).items():
        if attr[0] == "_":
            continue
        if isinstance(value, (list, tuple)):
            base = f"{dot}{attr}."
            for i, item in enumerate(value):
                if isinstance(item, Value):
                    if item.requires_grad and item not in seen:  # Values hash by identity
                        seen.add(item)
                        if label:
                            item.label = base + str(i)
                        else:
                            names.append(base + str(i))
                            found.append(item)
                elif isinstance(item, Module):
                    _walk(item, base + str(i), seen, names, found, label)
        elif isinstance(value, Value):
            if value.requires_grad and value not in seen:
                seen.add(value)
                if label:
                    value.label = dot + attr
                else:
                    names.append(dot + attr)
                    found.append(value)
        elif isinstance(value, Module):
            _walk(value, dot + attr, seen, names, found, label)


def _gather_parameters(module: Module, found: dict[Value, None]) -> None:
    """Add to `found` each parameter under `module`, in `_walk` order (a Value already there keeps its place)."""
    for attr, value in vars(module).items():
        if attr[0] == "_":
            continue
        if isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, Value):
                    if item.requires_grad:
                        found[item] = None  # Values hash by identity; a repeated key keeps its first position
                elif isinstance(item, Module):
                    _gather_parameters(item, found)
        elif isinstance(value, Value):
            if value.requires_grad:
                found[value] = None
        elif isinstance(value, Module):
            _gather_parameters(value, found)


def _named_parameters(module: Module, prefix: str) -> tuple[list[str], list[Value]]:
    """The dotted names and the parameters under `module`, in `named_parameters` order, as two lists."""
    names: list[str] = []
    found: list[Value] = []
    _walk(module, prefix, set(), names, found, label=False)
    return names, found


def _collect_frames(
    module: Module,
    path: str,
    frames: tuple[str, ...],
    owners: dict[Value, tuple[Module, tuple[str, ...]]],
) -> None:
    """Fill `owners`: each parameter -> (the module holding it, that module's frames); `frames` surround `module`."""
    for name, child in _children(module, path):
        if isinstance(child, Module):
            _collect_frames(child, name, (*frames, name), owners)
        elif frames:  # the module drawing_groups was called on gets no frame
            owners.setdefault(child, (module, frames))


def _finite(name: str, value: object) -> float:
    if type(value) is float and math.isfinite(value):  # the common case, without number()'s general checks
        return value
    return number(value, f"state for {clip(name)}")


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` did not match: the model's names it left as they were, and the state's extra names."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def _updates_from_mapping(
    names: list[str], found: list[Value], state: Mapping[str, object], strict: bool
) -> tuple[list[Value], list[float], IncompatibleKeys]:
    """The parameters `state` names and their checked numbers, and the names left out or not used."""
    missing = [n for n in names if n not in state]
    known = set(names)
    unexpected = [k for k in state if k not in known]
    keys = IncompatibleKeys(missing, unexpected)
    if strict and (missing or unexpected):
        shown_missing = [clip(n) for n in missing]
        shown_unexpected = [clip(str(k)) for k in unexpected]
        parts = ([f"missing {first_few(shown_missing)}"] if missing else []) + (
            [f"unexpected {first_few(shown_unexpected)}"] if unexpected else []
        )
        raise ValueError(f"state_dict does not match the model: {'; '.join(parts)}")
    if missing:
        kept = [i for i, n in enumerate(names) if n in state]
        names, found = [names[i] for i in kept], [found[i] for i in kept]
    return found, [_finite(n, state[n]) for n in names], keys


def _values_from_sequence(names: list[str], values: Sequence[object] | np.ndarray) -> list[float]:
    """One checked number per parameter from a flat sequence in `parameters()` order."""
    if len(values) != len(names):
        raise ValueError(f"expected {len(names)} values (one per parameter), got {len(values)}")
    return [_finite(n, v) for n, v in zip(names, values, strict=True)]


def check_same_architecture(model: Module, architecture: saving.Architecture | None, path: Path) -> None:
    """ValueError unless a file's architecture record is `model`'s (None on either side: nothing to compare)."""
    differences = architecture_differences(model, architecture)
    if differences:
        raise ValueError(f"{path}: saved architecture does not match this model: {first_few(differences)}")


def architecture_differences(model: Module, architecture: saving.Architecture | None) -> list[str]:
    """How a saved architecture record differs from `model`'s, one short phrase each ([] if alike or unknown)."""
    config = model.config()
    if architecture is None or config is None:
        return []  # nothing to compare; load_state_dict still checks every name
    ours = {"class": kind_name(type(model)), "config": json.loads(json.dumps(config))}
    if same_json(architecture, ours):
        return []
    if architecture["class"] != ours["class"]:
        return [f"class {short(architecture['class'])} (this model: {ours['class']})"]
    saved, mine = architecture["config"], ours["config"]
    keys = [k for k in {**saved, **mine} if k not in saved or k not in mine or not same_json(saved[k], mine[k])]
    return [f"{clip(k)} {short(saved.get(k))} (this model: {short(mine.get(k))})" for k in keys]
