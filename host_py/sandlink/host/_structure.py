"""What a component is made of, as the fast host needs it: its `Structure`.

- `steps`: every core module instantiation, in order, each import resolved to a
  `CoreRef` (an export of an earlier step, a host function for a `canon lower`, or a
  resource intrinsic), its core type already checked against what the module expects;
- `exports`: every function the component exports (top level or in an interface), with
  its WIT type and the core function, memory, realloc and post-return it lifts with;
- `lowered`: every imported function a core module calls, with its lowering options;
- `resources`: the resource types the component defines, with their destructors, and
  those it imports (which the host implements): one handle table each.

`_graph.read_structure` reads it from the component binary; the startup cache keeps it
(pickled), so a cached load never parses the binary. Also here: the Python spelling of
WIT names, and matching the user's imports to the component's.
"""

from __future__ import annotations

import builtins
import keyword
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from ._errors import UnsupportedTypeError
from ._records import record_class
from ._types import (
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    Borrow,
    Own,
    Record,
    ResourceType,
    Unsupported,
    ValType,
    class_name,
)

ROOT = "$root"  # the imports key of world-level (top-level) functions
_RESERVED = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def python_name(wit_name: str) -> str:
    """`parse-person` -> `parse_person`; Python keywords and builtins get a trailing `_`
    (`type` -> `type_`, `class` -> `class_`, `len` -> `len_`)."""
    name = wit_name.replace("-", "_")
    return name + "_" if name in _RESERVED else name


# -- what the evaluation produces


class CoreRef(NamedTuple):
    """A core item a session can find: `("export", step, name)` of an instantiated module,
    `("lower", index, "")` a host function for `lowered[index]`, or
    `("intrinsic", resource index, kind)` a resource intrinsic."""

    kind: str
    index: int  # type: ignore[assignment]  # (shadows tuple.index, which is never used)
    name: str


class CoreType(NamedTuple):
    """A core item's type: "func" with params/results, or "memory"/"table"/"global"."""

    kind: str
    params: tuple[str, ...] = ()
    results: tuple[str, ...] = ()
    memory64: bool = False

    def describe(self) -> str:
        if self.kind != "func":
            return self.kind
        return f"func ({', '.join(self.params)}) -> ({', '.join(self.results)})"


class ModuleInfo(NamedTuple):
    """What a core module imports and exports, with types (from the compiled module)."""

    imports: tuple[tuple[str, str, CoreType], ...]
    exports: dict[str, CoreType]


class Options(NamedTuple):
    encoding: str
    memory: CoreRef | None
    realloc: CoreRef | None
    post_return: CoreRef | None


class Param(NamedTuple):
    name: str  # the Python spelling
    wit_name: str
    type: ValType


class FuncType:
    __slots__ = ("params", "result")

    def __init__(self, params: tuple[Param, ...], result: ValType | None) -> None:
        self.params = params
        self.result = result

    def flat_params(self) -> list[str]:
        return [c for p in self.params for c in p.type.flat]

    def flat_results(self) -> list[str]:
        return [] if self.result is None else list(self.result.flat)

    def spills(self) -> tuple[bool, bool]:
        """Do the parameters go through memory (too many flat values), and does the result?"""
        return (
            len(self.flat_params()) > MAX_FLAT_PARAMS,
            len(self.flat_results()) > MAX_FLAT_RESULTS,
        )

    def types(self) -> list[ValType]:
        return [p.type for p in self.params] + ([] if self.result is None else [self.result])

    def lifted_core_type(self) -> CoreType:
        """The core type of a function lifted with this type (what an export must have)."""
        params, results = self.flat_params(), self.flat_results()
        return CoreType(
            "func",
            tuple(params) if len(params) <= MAX_FLAT_PARAMS else ("i32",),
            tuple(results) if len(results) <= MAX_FLAT_RESULTS else ("i32",),
        )

    def lowered_core_type(self) -> CoreType:
        """The core type of a function lowered with this type (what an import must have)."""
        params, results = self.flat_params(), self.flat_results()
        core_params = tuple(params) if len(params) <= MAX_FLAT_PARAMS else ("i32",)
        if len(results) > MAX_FLAT_RESULTS:
            return CoreType("func", (*core_params, "i32"), ())
        return CoreType("func", core_params, tuple(results))


def owner_of(wit_name: str) -> str | None:
    """`[method]buffer.len` -> `buffer`; None for a plain function's name."""
    if not wit_name.startswith("["):
        return None
    return wit_name[1:].split("]", 1)[1].split(".", 1)[0]


class Function:
    """A function the component exports (`options` are its lift's) or imports."""

    __slots__ = ("core", "interface", "kind", "name", "options", "resource", "type", "wit_name")

    def __init__(
        self,
        wit_name: str,
        interface: str | None,
        type: FuncType,
        core: CoreRef | None = None,
        options: Options | None = None,
        resource: ResourceType | None = None,
    ) -> None:
        self.wit_name = wit_name  # e.g. "parse-person", "[method]buffer.len"
        self.interface = interface  # e.g. "sandlink:kernels/kernels@0.1.0"; None: top level
        self.type = type
        self.core = core  # the core function it lifts (exports)
        self.options = options
        self.resource = resource
        self.kind, self.name = "function", python_name(wit_name)
        if wit_name.startswith("["):
            kind, rest = wit_name[1:].split("]", 1)
            self.kind = kind  # constructor, method or static
            _, _, method = rest.partition(".")
            self.name = python_name(method) if method else python_name(rest)

    @property
    def owner(self) -> str | None:
        """The WIT name of the resource a constructor, method or static function belongs
        to (`[method]buffer.len` -> `buffer`); None for a plain function."""
        return owner_of(self.wit_name)

    @property
    def params(self) -> tuple[Param, ...]:
        return self.type.params

    @property
    def result(self) -> ValType | None:
        return self.type.result

    @property
    def where(self) -> str:
        return f"{self.interface}#{self.wit_name}" if self.interface else self.wit_name

    def __repr__(self) -> str:
        return f"Function({self.where})"


class Lowered(NamedTuple):
    """A function a core module calls (`canon lower`), with its lowering options: an
    import, or (in a composed component) a function the component lifts itself, whose
    `function.core` and `function.options` then say how to call it."""

    function: Function
    options: Options


class Step(NamedTuple):
    """Instantiate core module `module` with these imports (in the module's import order)."""

    module: int
    imports: tuple[CoreRef, ...]


class Structure(NamedTuple):
    steps: list[Step]
    exports: list[Function]
    imports: list[Function]  # every function the component imports (the user provides them)
    lowered: list[Lowered]
    resources: list[ResourceType]  # defined or imported by the component: index = table
    interfaces: list[str]  # exported interfaces, in order
    types: dict[str | None, dict[str, Any]]  # exported types by interface, then WIT name
    checks: list[tuple[CoreRef, CoreType, str]]  # raw-called core funcs and their types
    ref_types: dict[CoreRef, CoreType]


def check_supported(fn: Function, exported: bool) -> None:
    """Refuse at load what the host cannot carry, naming the function and the type."""
    for ty in fn.type.types():
        for part in ty.walk():
            if isinstance(part, Unsupported):
                raise UnsupportedTypeError(
                    f"{fn.where}: WIT type {part.describe()} is not supported"
                )
            if not isinstance(part, (Own, Borrow)):
                continue
            hosted = not part.resource.defined
            if hosted and exported and isinstance(part, Borrow):
                raise UnsupportedTypeError(
                    f"{fn.where}: {part.describe()}: exports cannot lend the guest a resource "
                    "the host implements yet (own<...> they can pass)"
                )
            if isinstance(part, Borrow) and not exported and not hosted:
                raise UnsupportedTypeError(f"{fn.where}: {part.describe()} handed to the host")
            if fn.core is not None and not exported:
                raise UnsupportedTypeError(
                    f"{fn.where}: passing resources between the parts of a composed "
                    "component is not supported"
                )


def assign_record_classes(
    functions: Sequence[Function], classes: Mapping[str, type]
) -> dict[str, type]:
    """Give every record in these functions' types a class: the user's by WIT name, else a
    frozen record generated per (name, fields). Returns the classes by WIT name."""

    generated: dict[tuple[str, tuple[str, ...]], type] = {}
    by_name: dict[str, type] = {}
    for fn in functions:
        for ty in fn.type.types():
            for part in ty.walk():
                if not isinstance(part, Record) or part.cls is not None:
                    continue
                name = part.name or "record"
                cls = classes.get(name)
                if cls is None:
                    fields = tuple(attr for attr, _, _ in part.fields)
                    cls = generated.get((name, fields))
                    if cls is None:
                        cls = record_class(class_name(name), fields, "sandlink.records")
                        generated[(name, fields)] = cls
                part.cls = cls
                by_name.setdefault(name, cls)
    return by_name


def resolve_imports(
    declared: Sequence[Function],
    resources: Sequence[ResourceType],
    imports: Mapping[str, Mapping[str, Any]],
) -> dict[tuple[str | None, str], Callable[..., Any]]:
    """Match the user's `imports` to the functions and resources a component imports.

    Interface keys: the full name (`pkg:ns/iface@ver`), the bare name (`iface`, also in
    its Python spelling), or `$root` for top-level functions. Function keys: the WIT name
    or (plain functions) its Python spelling. A resource the host implements (one of
    `resources`) is given as a class, keyed by its WIT or class name: it becomes the
    resource's `cls`, and its constructor, methods and static functions are the class,
    its methods and its static methods unless given by WIT name. Unknown keys are a
    ValueError naming them. Returns the callables by (interface, WIT name).
    """
    if not isinstance(imports, Mapping):
        raise TypeError(f"imports must be a mapping, not {type(imports).__name__}")
    by_interface: dict[str | None, list[Function]] = {}
    for fn in declared:
        by_interface.setdefault(fn.interface, []).append(fn)
    for resource in resources:
        by_interface.setdefault(resource.interface, [])
    given: dict[tuple[str | None, str], Callable[..., Any]] = {}
    classes: list[tuple[ResourceType, type]] = []
    for key, items in imports.items():
        interface = _find_interface(key, by_interface)
        if not isinstance(items, Mapping):
            raise TypeError(f"imports[{key!r}] must be a mapping of names to callables")
        for name, target in items.items():
            given_class = next(
                (
                    r
                    for r in resources
                    if r.interface == interface and name in (r.name, class_name(r.name or ""))
                ),
                None,
            )
            if given_class is not None:
                if not isinstance(target, type):
                    raise TypeError(
                        f"imports: resource {given_class.name} must be given as a class, "
                        f"not {type(target).__name__}"
                    )
                classes.append((given_class, target))
                continue
            function = next(
                (
                    f
                    for f in by_interface[interface]
                    if name == f.wit_name or (f.kind == "function" and name == f.name)
                ),
                None,
            )
            if function is None:
                names = sorted(f.wit_name for f in by_interface[interface])
                names += sorted(r.name or "" for r in resources if r.interface == interface)
                raise ValueError(f"imports: {interface or ROOT} has no {name!r} ({names})")
            if not callable(target):
                raise TypeError(
                    f"imports: {function.where} must be callable, not {type(target).__name__}"
                )
            given[(function.interface, function.wit_name)] = target
    for resource, cls in classes:
        resource.cls = cls
        for fn in by_interface[resource.interface]:
            if fn.owner == resource.name and (fn.interface, fn.wit_name) not in given:
                given[(fn.interface, fn.wit_name)] = _member(cls, fn)
    return given


def _member(cls: type, fn: Function) -> Callable[..., Any]:
    """What implements resource function `fn` on the user's class `cls`."""
    if fn.kind == "constructor":
        return cls
    target = getattr(cls, fn.name, None)
    if not callable(target):
        raise ValueError(f"imports: {cls.__name__} has no {fn.kind} {fn.name!r} (for {fn.where})")
    result: Callable[..., Any] = target
    return result


def host_resources(functions: Sequence[Function]) -> list[ResourceType]:
    """The resources these imported functions pass that the host implements, in order."""
    found: list[ResourceType] = []
    for fn in functions:
        for ty in fn.type.types():
            for part in ty.walk():
                if isinstance(part, (Own, Borrow)) and not part.resource.defined:
                    if part.resource not in found:
                        found.append(part.resource)
    return found


def missing_imports(
    declared: Sequence[Function],
    resources: Sequence[ResourceType],
    given: Mapping[tuple[str | None, str], Any],
) -> list[str]:
    """What the user's imports lack: functions, and classes of host resources."""
    missing = [f.where for f in declared if (f.interface, f.wit_name) not in given]
    for r in resources:
        if r.cls is None:
            missing.append(f"{r.interface}#{r.name} (a class)" if r.interface else f"{r.name}")
    return sorted(missing)


def wasi_hint(missing: Sequence[str], wasi: Any) -> str:
    """What to add to "missing import: ..." when WASI is what is missing."""
    if not any(m.startswith("wasi:") for m in missing):
        return ""
    if wasi is None:
        return " (it imports WASI: pass wasi=sandlink.Wasi(...) or wasi=True)"
    return " (sandlink's WASI does not implement it: pass your own in imports)"


def _find_interface(key: str, by_interface: dict[str | None, list[Function]]) -> str | None:
    if key == ROOT and None in by_interface:
        return None
    for interface in by_interface:
        if interface is not None:
            bare = interface.rsplit("/", 1)[-1].split("@", 1)[0]
            if key in (interface, bare, python_name(bare)):
                return interface
    names = sorted(i or ROOT for i in by_interface)
    raise ValueError(f"imports: the component imports no functions from {key!r} ({names})")
