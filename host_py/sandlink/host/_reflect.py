"""A component's function types read through `wasmtime.component` reflection.

What the oracle backend (`_oracle`) works from, independently of sandlink's own reader
(`_structure`), so that the two backends check each other. Records, variants, enums and
flags are named after the exported type they equal in their interface.
"""

from __future__ import annotations

from typing import Any

import wasmtime
import wasmtime.component as wc

from ._structure import Function, FuncType, Param, owner_of, python_name
from ._types import (
    PRIMITIVE_TYPES,
    Borrow,
    Enum,
    Flags,
    List,
    Option,
    Own,
    Record,
    ResourceType,
    Result,
    Tuple,
    Unsupported,
    ValType,
    Variant,
)

_PRIMITIVES = {
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


class Reflection:
    """Every function a component exports and imports, described with `_types`."""

    def __init__(self, component: wc.Component, engine: wasmtime.Engine) -> None:
        self.resources: list[tuple[Any, ResourceType]] = []  # (wasmtime type, ours)
        self.exports: list[Function] = []
        self.imports: list[Function] = []
        self.interfaces: list[str] = []
        ctype = component.type
        for exported, items, out in (
            (True, ctype.exports(engine), self.exports),
            (False, ctype.imports(engine), self.imports),
        ):
            self._scope(items, None, exported, out)
            for name, ext in items.items():
                if isinstance(ext.ty, wc.ComponentInstanceType):
                    if exported:
                        self.interfaces.append(name)
                    self._scope(ext.ty.exports(engine), name, exported, out)

    def _scope(
        self, items: dict[str, Any], interface: str | None, exported: bool, out: list[Function]
    ) -> None:
        named = [
            (name, ext.ty)
            for name, ext in items.items()
            if not isinstance(ext.ty, (wc.FuncType, wc.ComponentInstanceType, wc.ResourceType))
        ]
        local: dict[str, ResourceType] = {}
        for name, ext in items.items():
            if isinstance(ext.ty, wc.ResourceType):
                resource = self._resource(ext.ty, exported)
                # Named by its interface, even when the world `use`s it at the top level too.
                if resource.name is None or (resource.interface is None and interface):
                    resource.name, resource.interface = name, interface
                local[name] = resource
        for name, ext in items.items():
            ty = ext.ty
            if not isinstance(ty, wc.FuncType):
                continue
            where = f"{interface}#{name}" if interface else name
            params = tuple(
                Param(python_name(n), n, self._type(t, named, f"{where} parameter {n}"))
                for n, t in ty.params
            )
            result = None if ty.result is None else self._type(ty.result, named, f"{where} result")
            owner_name = owner_of(name)
            owner = None if owner_name is None else local.get(owner_name)
            out.append(Function(name, interface, FuncType(params, result), resource=owner))

    def _resource(self, ty: Any, exported: bool) -> ResourceType:
        for known, ours in self.resources:
            if known == ty:
                return ours
        ours = ResourceType(defined=exported)
        self.resources.append((ty, ours))
        return ours

    def _type(self, ty: Any, named: list[tuple[str, Any]], where: str) -> ValType:
        primitive = _PRIMITIVES.get(type(ty))
        if primitive is not None:
            return PRIMITIVE_TYPES[primitive]

        def name() -> str | None:
            return next((n for n, t in named if type(t) is type(ty) and t == ty), None)

        def sub(t: Any) -> ValType:
            return self._type(t, named, where)

        if isinstance(ty, wc.ListType):
            return List(sub(ty.element))
        if isinstance(ty, wc.RecordType):
            return Record(tuple((python_name(n), n, sub(t)) for n, t in ty.fields), name())
        if isinstance(ty, wc.TupleType):
            return Tuple(tuple(sub(t) for t in ty.elements))
        if isinstance(ty, wc.VariantType):
            return Variant(tuple((n, None if t is None else sub(t)) for n, t in ty.cases), name())
        if isinstance(ty, wc.EnumType):
            return Enum(tuple(ty.names), name())
        if isinstance(ty, wc.OptionType):
            return Option(sub(ty.payload))
        if isinstance(ty, wc.ResultType):
            return Result(
                None if ty.ok is None else sub(ty.ok), None if ty.err is None else sub(ty.err)
            )
        if isinstance(ty, wc.FlagsType):
            return Flags(tuple(ty.names), name())
        if isinstance(ty, (wc.OwnType, wc.BorrowType)):
            resource = self._resource(ty.ty, exported=False)
            return Own(resource) if isinstance(ty, wc.OwnType) else Borrow(resource)
        return Unsupported(type(ty).__name__)
