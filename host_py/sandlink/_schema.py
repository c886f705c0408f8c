"""A component's exports and imports as plain Python type descriptions.

Built once at load from `wasmtime.component` reflection. Every later step (the canonical
ABI compiler, the `component` oracle backend) works on these descriptions, not on
wasmtime objects. Records get dataclasses named after the WIT type (`json-error` ->
`JsonError`); pass `classes` to use your own (e.g. `{"person": sandlink.Person}`).
"""

from __future__ import annotations

import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, make_dataclass
from typing import Any

import wasmtime
import wasmtime.component as wc

from ._errors import SandlinkError, UnsupportedTypeError

PRIMITIVES = {
    wc.Bool: "bool",
    wc.U8: "u8",
    wc.U16: "u16",
    wc.U32: "u32",
    wc.U64: "u64",
    wc.S8: "s8",
    wc.S16: "s16",
    wc.S32: "s32",
    wc.S64: "s64",
    wc.F32: "f32",
    wc.F64: "f64",
    wc.Char: "char",
    wc.String: "string",
}


@dataclass(frozen=True, eq=False)
class Type:
    """Base of every type description; compared by identity (they form trees with shared leaves)."""


@dataclass(frozen=True, eq=False)
class Prim(Type):
    kind: str  # "bool", "u8" ... "f64", "char", "string"


@dataclass(frozen=True, eq=False)
class List(Type):
    element: Type


@dataclass(frozen=True, eq=False)
class Record(Type):
    name: str
    fields: tuple[tuple[str, Type], ...]  # python attribute names, in WIT order
    cls: type


@dataclass(frozen=True, eq=False)
class Tuple(Type):
    elements: tuple[Type, ...]


@dataclass(frozen=True, eq=False)
class Variant(Type):
    name: str
    cases: tuple[tuple[str, Type | None], ...]


@dataclass(frozen=True, eq=False)
class Enum(Type):
    name: str
    names: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Option(Type):
    payload: Type


@dataclass(frozen=True, eq=False)
class Result(Type):
    ok: Type | None
    err: Type | None


@dataclass(frozen=True, eq=False)
class Flags(Type):
    name: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class Param:
    name: str  # python name (snake_case)
    wit_name: str
    type: Type


@dataclass(frozen=True)
class Function:
    name: str  # python name, e.g. "parse_person"
    wit_name: str  # e.g. "parse-person"
    interface: str | None  # e.g. "sandlink:kernels/kernels@0.1.0", None for world-level
    params: tuple[Param, ...]
    result: Type | None

    @property
    def core_name(self) -> str:
        """The main core module's export for this function (canonical ABI naming)."""
        return f"{self.interface}#{self.wit_name}" if self.interface else self.wit_name


def python_name(wit_name: str) -> str:
    """`parse-person` -> `parse_person`; Python keywords get a trailing underscore."""
    name = wit_name.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) else name


def class_name(wit_name: str) -> str:
    """`json-error` -> `JsonError`."""
    return "".join(part[:1].upper() + part[1:] for part in wit_name.split("-"))


class _Describer:
    """Turns wasmtime type objects into descriptions, naming records after the exported types."""

    def __init__(self, named: list[tuple[str, Any]], classes: dict[str, type]) -> None:
        self.named = named  # (wit name, wasmtime ValType) of every exported type
        self.classes = classes
        self.generated: dict[tuple[str, tuple[str, ...]], type] = {}
        self.record_classes: dict[str, type] = {}

    def name_of(self, ty: Any, fallback: str) -> str:
        for name, candidate in self.named:
            if type(candidate) is type(ty) and candidate == ty:
                return name
        return fallback

    def describe(self, ty: Any, where: str) -> Type:
        kind = PRIMITIVES.get(type(ty))
        if kind is not None:
            return Prim(kind)
        if isinstance(ty, wc.ListType):
            return List(self.describe(ty.element, where))
        if isinstance(ty, wc.RecordType):
            name = self.name_of(ty, "record")
            fields = tuple((python_name(n), self.describe(t, where)) for n, t in ty.fields)
            return Record(name, fields, self.record_class(name, tuple(n for n, _ in fields)))
        if isinstance(ty, wc.TupleType):
            return Tuple(tuple(self.describe(t, where) for t in ty.elements))
        if isinstance(ty, wc.VariantType):
            cases = tuple((n, None if t is None else self.describe(t, where)) for n, t in ty.cases)
            return Variant(self.name_of(ty, "variant"), cases)
        if isinstance(ty, wc.EnumType):
            return Enum(self.name_of(ty, "enum"), tuple(ty.names))
        if isinstance(ty, wc.OptionType):
            payload = self.describe(ty.payload, where)
            if isinstance(payload, Option):
                raise UnsupportedTypeError(f"{where}: option<option<...>> is not supported")
            return Option(payload)
        if isinstance(ty, wc.ResultType):
            ok, err = ty.ok, ty.err
            return Result(
                None if ok is None else self.describe(ok, where),
                None if err is None else self.describe(err, where),
            )
        if isinstance(ty, wc.FlagsType):
            return Flags(self.name_of(ty, "flags"), tuple(ty.names))
        raise UnsupportedTypeError(f"{where}: WIT type {type(ty).__name__} is not supported")

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


def _functions(
    items: dict[str, Any], interface: str | None, describer: _Describer
) -> list[Function]:
    found = []
    for wit_name, ext in items.items():
        ty = ext.ty
        if isinstance(ty, wc.FuncType):
            where = f"{interface}#{wit_name}" if interface else wit_name
            params = tuple(
                Param(python_name(n), n, describer.describe(t, f"{where} parameter {n}"))
                for n, t in ty.params
            )
            result = ty.result
            found.append(
                Function(
                    python_name(wit_name),
                    wit_name,
                    interface,
                    params,
                    None if result is None else describer.describe(result, f"{where} result"),
                )
            )
    return found


def _named_types(items: dict[str, Any]) -> list[tuple[str, Any]]:
    named = []
    for name, ext in items.items():
        ty = ext.ty
        if not isinstance(ty, (wc.FuncType, wc.ComponentInstanceType, wc.ResourceType)):
            named.append((name, ty))
    return named


@dataclass(frozen=True)
class Schema:
    """Every exported and imported function of a component, described."""

    exports: tuple[Function, ...]
    imports: tuple[Function, ...]
    record_classes: dict[str, type]


def describe_component(
    component: wc.Component, engine: wasmtime.Engine, classes: dict[str, type] | None = None
) -> Schema:
    """Describe a component's functions; `classes` maps WIT record names to Python classes."""
    ctype = component.type
    describer = _Describer([], dict(classes or {}))

    def walk(items: dict[str, Any]) -> list[Function]:
        describer.named = _named_types(items)
        functions = _functions(items, None, describer)
        for name, ext in items.items():
            if isinstance(ext.ty, wc.ComponentInstanceType):
                inner = ext.ty.exports(engine)
                describer.named = _named_types(inner)
                functions += _functions(inner, name, describer)
        return functions

    exports = walk(ctype.exports(engine))
    imports = walk(ctype.imports(engine))
    return Schema(tuple(exports), tuple(imports), describer.record_classes)


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
