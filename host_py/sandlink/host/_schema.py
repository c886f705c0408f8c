"""A component's exports and imports as plain Python type descriptions.

Two steps: `_reflect` reads the component's own type information (through
`wasmtime.component`) into a JSON-able "wire" form, which the startup cache can keep; then
`build_schema` turns it into the descriptions here, which everything else works on (the
canonical ABI compiler, the `component` oracle backend). Records get dataclasses named
after the WIT type (`json-error` -> `JsonError`); pass `classes` to use your own (e.g.
`{"person": sandlink.Person}`).

Wire types: a primitive's name ("u32", "string"...), or one of {"list": T},
{"record": name, "fields": [[wit name, T], ...]}, {"tuple": [T, ...]},
{"variant": name, "cases": [[name, T or None], ...]}, {"enum": name, "names": [...]},
{"option": T}, {"result": [T or None, T or None]}, {"flags": name, "names": [...]},
{"own": name, "interface": interface} and {"borrow": name, "interface": interface} for a
resource the component exports (its functions are `[constructor]R`, `[method]R.f` and
`[static]R.f` in that interface).
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import make_dataclass
from typing import Any

from ._errors import SandlinkError, UnsupportedTypeError

PRIMITIVES = ("bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64")
PRIMITIVES += ("char", "string")


class Type:
    """Base of every type description; compared by identity (they form trees).

    Subclasses list their attributes, in constructor order, in `_fields`.
    """

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __init__(self, *values: Any) -> None:
        for name, value in zip(self._fields, values, strict=True):
            setattr(self, name, value)

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields if n != "cls")
        return f"{type(self).__name__}({fields})"


class Prim(Type):
    _fields = ("kind",)
    __slots__ = _fields  # "bool", "u8" ... "f64", "char", "string"


class List(Type):
    _fields = ("element",)
    __slots__ = _fields


class Record(Type):
    _fields = ("name", "fields", "cls")
    __slots__ = _fields  # fields: ((python attribute, Type), ...)


class Tuple(Type):
    _fields = ("elements",)
    __slots__ = _fields


class Variant(Type):
    _fields = ("name", "cases")
    __slots__ = _fields  # cases: ((case name, Type or None), ...)


class Enum(Type):
    _fields = ("name", "names")
    __slots__ = _fields


class Option(Type):
    _fields = ("payload",)
    __slots__ = _fields


class Result(Type):
    _fields = ("ok", "err")
    __slots__ = _fields


class Flags(Type):
    _fields = ("name", "names")
    __slots__ = _fields


class Resource:
    """A resource type the component exports; `cls` is set by the host that exposes it."""

    __slots__ = ("cls", "interface", "name")

    def __init__(self, name: str, interface: str | None) -> None:
        self.name = name
        self.interface = interface
        self.cls: type | None = None

    def __repr__(self) -> str:
        return f"Resource({self.name})"


class Own(Type):
    _fields = ("resource",)
    __slots__ = _fields


class Borrow(Type):
    _fields = ("resource",)
    __slots__ = _fields


class Param:
    __slots__ = ("name", "type", "wit_name")

    def __init__(self, name: str, wit_name: str, type: Type) -> None:
        self.name = name  # python name (snake_case)
        self.wit_name = wit_name
        self.type = type


class Function:
    """An export or import. For resource functions, `kind` is "constructor", "method" or
    "static" and `resource` names the resource; `name` is then the method's own name."""

    __slots__ = ("interface", "kind", "name", "params", "resource", "result", "wit_name")

    def __init__(
        self,
        name: str,
        wit_name: str,
        interface: str | None,
        params: tuple[Param, ...],
        result: Type | None,
    ) -> None:
        self.name = name  # python name, e.g. "parse_person"
        self.wit_name = wit_name  # e.g. "parse-person"
        self.interface = interface  # e.g. "sandlink:kernels/kernels@0.1.0"; None: world-level
        self.params = params
        self.result = result
        self.kind, self.resource = "function", None
        if wit_name.startswith("["):
            kind, rest = wit_name[1:].split("]", 1)
            self.kind = kind
            self.resource, _, method = rest.partition(".")
            self.name = python_name(method or self.resource)

    @property
    def core_name(self) -> str:
        """The main core module's export for this function (canonical ABI naming)."""
        return f"{self.interface}#{self.wit_name}" if self.interface else self.wit_name

    def __repr__(self) -> str:
        return f"Function({self.core_name})"


class Schema:
    """Every exported and imported function of a component, described."""

    __slots__ = ("exports", "imports", "record_classes", "resources")

    def __init__(
        self,
        exports: tuple[Function, ...],
        imports: tuple[Function, ...],
        record_classes: dict[str, type],
        resources: dict[tuple[str | None, str], Resource],
    ) -> None:
        self.exports = exports
        self.imports = imports
        self.record_classes = record_classes
        self.resources = resources  # (interface, name) -> Resource

    def functions_of(self, resource: Resource) -> list[Function]:
        """The exported constructor, methods and statics of `resource`."""
        return [
            f
            for f in self.exports
            if f.resource == resource.name and f.interface == resource.interface
        ]


def python_name(wit_name: str) -> str:
    """`parse-person` -> `parse_person`; Python keywords get a trailing underscore."""
    name = wit_name.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name


def class_name(wit_name: str) -> str:
    """`json-error` -> `JsonError`."""
    return "".join(part[:1].upper() + part[1:] for part in wit_name.split("-"))


class _Builder:
    """Wire form -> descriptions, generating one record class per (name, fields)."""

    def __init__(self, classes: Mapping[str, type]) -> None:
        self.classes = classes
        self.generated: dict[tuple[str, tuple[str, ...]], type] = {}
        self.record_classes: dict[str, type] = {}
        self.resources: dict[tuple[str | None, str], Resource] = {}

    def type(self, wire: Any, where: str) -> Type:
        if isinstance(wire, str):
            if wire not in PRIMITIVES:
                raise UnsupportedTypeError(f"{where}: unknown WIT type {wire!r}")
            return Prim(wire)
        kind, value = next(iter(wire.items()))  # the first key names the kind
        if kind == "list":
            return List(self.type(value, where))
        if kind == "record":
            fields = tuple((python_name(n), self.type(t, where)) for n, t in wire["fields"])
            return Record(value, fields, self.record_class(value, tuple(n for n, _ in fields)))
        if kind == "tuple":
            return Tuple(tuple(self.type(t, where) for t in value))
        if kind == "variant":
            cases = tuple((n, self.maybe(t, where)) for n, t in wire["cases"])
            return Variant(value, cases)
        if kind == "enum":
            return Enum(value, tuple(wire["names"]))
        if kind == "option":
            payload = self.type(value, where)
            if isinstance(payload, Option):
                raise UnsupportedTypeError(f"{where}: option<option<...>> is not supported")
            return Option(payload)
        if kind == "result":
            return Result(self.maybe(value[0], where), self.maybe(value[1], where))
        if kind == "flags":
            return Flags(value, tuple(wire["names"]))
        if kind in ("own", "borrow"):
            key = (wire["interface"], value)
            resource = self.resources.get(key)
            if resource is None:
                resource = self.resources[key] = Resource(value, wire["interface"])
            return Own(resource) if kind == "own" else Borrow(resource)
        raise UnsupportedTypeError(f"{where}: unknown WIT type {kind!r}")

    def maybe(self, wire: Any, where: str) -> Type | None:
        return None if wire is None else self.type(wire, where)

    def record_class(self, name: str, fields: tuple[str, ...]) -> type:
        """The user's class for `name`, else one generated per (name, fields)."""
        if name in self.classes:
            return self.classes[name]
        cls = self.generated.get((name, fields))
        if cls is None:
            cls = make_dataclass(class_name(name), fields, frozen=True, slots=True)
            cls.__module__ = "sandlink.records"
            self.generated[(name, fields)] = cls
            self.record_classes.setdefault(name, cls)
        return cls

    def function(self, wire: dict[str, Any]) -> Function:
        interface, wit_name = wire["interface"], wire["name"]
        where = f"{interface}#{wit_name}" if interface else wit_name
        params = tuple(
            Param(python_name(n), n, self.type(t, f"{where} parameter {n}"))
            for n, t in wire["params"]
        )
        result = self.maybe(wire["result"], f"{where} result")
        return Function(python_name(wit_name), wit_name, interface, params, result)


def build_schema(wire: dict[str, Any], classes: Mapping[str, type] | None = None) -> Schema:
    """Descriptions from the wire form (see `_reflect`); `classes`: WIT record name -> class."""
    builder = _Builder(dict(classes or {}))
    exports = tuple(builder.function(f) for f in wire["exports"])
    imports = tuple(builder.function(f) for f in wire["imports"])
    return Schema(exports, imports, builder.record_classes, builder.resources)


ROOT = "$root"  # the imports key (and core module name) of world-level functions


def _bare(interface: str) -> str:
    """`pkg:ns/iface@1.0.0` -> `iface`."""
    return interface.rsplit("/", 1)[-1].split("@", 1)[0]


def resolve_imports(
    schema: Schema, imports: Mapping[str, Mapping[str, Callable[..., Any]]]
) -> dict[Function, Callable[..., Any]]:
    """Match the user's `imports` to the component's imported functions.

    Interface keys: the full name (`pkg:ns/iface@ver`), the bare name (`iface`, or
    `iface_name` spelled the Python way), or `$root` for world-level functions. Function
    keys: the WIT name or its Python spelling. Unknown keys are a ValueError, functions
    left without a callable a SandlinkError, both naming what is wrong.
    """
    by_interface: dict[str | None, list[Function]] = {}
    for fn in schema.imports:
        by_interface.setdefault(fn.interface, []).append(fn)
    resolved: dict[Function, Callable[..., Any]] = {}
    for key, functions in imports.items():
        interface = _find_interface(key, by_interface)
        known = by_interface[interface]
        for name, callback in functions.items():
            fn = next((f for f in known if name in (f.wit_name, f.name)), None)
            if fn is None:
                names = sorted(f.wit_name for f in known)
                raise ValueError(f"imports: {interface or ROOT} has no function {name!r} ({names})")
            resolved[fn] = callback
    missing = sorted(fn.core_name for fn in schema.imports if fn not in resolved)
    if missing:
        raise SandlinkError(f"missing import: {', '.join(missing)}")
    return resolved


def _find_interface(key: str, by_interface: dict[str | None, list[Function]]) -> str | None:
    if key == ROOT and None in by_interface:
        return None
    for interface in by_interface:
        if interface is not None and key in (
            interface,
            _bare(interface),
            _bare(interface).replace("-", "_"),
        ):
            return interface
    names = sorted(i or ROOT for i in by_interface)
    raise ValueError(f"imports: the component imports no functions from {key!r} ({names})")
