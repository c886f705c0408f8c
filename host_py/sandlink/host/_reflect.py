"""Reading a component's function types through `wasmtime.component` reflection.

The result is the JSON-able wire form that `_schema.build_schema` turns into descriptions
(and that the startup cache keeps, so a cached load never imports `wasmtime.component`).
"""

from __future__ import annotations

from typing import Any

import wasmtime
import wasmtime.component as wc

from ._errors import UnsupportedTypeError
from ._schema import Schema, build_schema

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


class _Reflector:
    """wasmtime type objects -> wire form, naming types after the exported type names."""

    def __init__(self) -> None:
        self.named: list[tuple[str, Any]] = []  # (WIT name, wasmtime ValType) in scope
        self.resources: list[tuple[str, Any]] = []  # (WIT name, ResourceType) exported here
        self.interface: str | None = None

    def name_of(self, ty: Any, fallback: str) -> str:
        for name, candidate in self.named:
            if type(candidate) is type(ty) and candidate == ty:
                return name
        return fallback

    def type(self, ty: Any, where: str) -> Any:
        primitive = _PRIMITIVES.get(type(ty))
        if primitive is not None:
            return primitive
        if isinstance(ty, wc.ListType):
            return {"list": self.type(ty.element, where)}
        if isinstance(ty, wc.RecordType):
            fields = [[n, self.type(t, where)] for n, t in ty.fields]
            return {"record": self.name_of(ty, "record"), "fields": fields}
        if isinstance(ty, wc.TupleType):
            return {"tuple": [self.type(t, where) for t in ty.elements]}
        if isinstance(ty, wc.VariantType):
            cases = [[n, None if t is None else self.type(t, where)] for n, t in ty.cases]
            return {"variant": self.name_of(ty, "variant"), "cases": cases}
        if isinstance(ty, wc.EnumType):
            return {"enum": self.name_of(ty, "enum"), "names": list(ty.names)}
        if isinstance(ty, wc.OptionType):
            return {"option": self.type(ty.payload, where)}
        if isinstance(ty, wc.ResultType):
            ok, err = ty.ok, ty.err
            return {
                "result": [
                    None if ok is None else self.type(ok, where),
                    None if err is None else self.type(err, where),
                ]
            }
        if isinstance(ty, wc.FlagsType):
            return {"flags": self.name_of(ty, "flags"), "names": list(ty.names)}
        if isinstance(ty, (wc.OwnType, wc.BorrowType)):
            kind = "own" if isinstance(ty, wc.OwnType) else "borrow"
            for name, resource in self.resources:
                if resource == ty.ty:
                    return {kind: name, "interface": self.interface}
            raise UnsupportedTypeError(
                f"{where}: {kind}<...> of a resource the host would have to implement "
                "is not supported (only resources the component exports)"
            )
        raise UnsupportedTypeError(f"{where}: WIT type {type(ty).__name__} is not supported")

    def functions(
        self, items: dict[str, Any], interface: str | None, exported: bool
    ) -> list[dict[str, Any]]:
        self.interface = interface
        self.resources = [
            (name, ext.ty)
            for name, ext in items.items()
            if exported and isinstance(ext.ty, wc.ResourceType)
        ]
        self.named = [
            (name, ext.ty)
            for name, ext in items.items()
            if not isinstance(ext.ty, (wc.FuncType, wc.ComponentInstanceType, wc.ResourceType))
        ]
        found = []
        for name, ext in items.items():
            ty = ext.ty
            if isinstance(ty, wc.FuncType):
                where = f"{interface}#{name}" if interface else name
                params = [[n, self.type(t, f"{where} parameter {n}")] for n, t in ty.params]
                result = ty.result
                found.append(
                    {
                        "name": name,
                        "interface": interface,
                        "params": params,
                        "result": None if result is None else self.type(result, f"{where} result"),
                    }
                )
        return found


def reflect(component: wc.Component, engine: wasmtime.Engine) -> dict[str, Any]:
    """The wire form of every function a component imports and exports."""
    reflector = _Reflector()

    def walk(items: dict[str, Any], exported: bool) -> list[dict[str, Any]]:
        functions = reflector.functions(items, None, exported)
        for name, ext in items.items():
            if isinstance(ext.ty, wc.ComponentInstanceType):
                functions += reflector.functions(ext.ty.exports(engine), name, exported)
        return functions

    ctype = component.type
    return {
        "exports": walk(ctype.exports(engine), True),
        "imports": walk(ctype.imports(engine), False),
    }


def describe_component(
    component: wc.Component, engine: wasmtime.Engine, classes: dict[str, type] | None = None
) -> Schema:
    """Reflect and build in one step (what the oracle backend and tests use)."""
    return build_schema(reflect(component, engine), classes)
