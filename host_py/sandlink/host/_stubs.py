"""Type stubs for a component's exports, written from its own types (`sandlink stubs`).

The stub declares the component's records (as classes with their fields), its resources
(classes: constructor, methods, static functions, and the resource object's own API), one
Protocol per exported interface, and `Component`, the Protocol of what `load_component`
returns for it, so that

    c: thing.Component = sandlink.load_component("thing.wasm")  # it returns Any

type-checks every call. Names are the Python spellings the host exposes (`_structure`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._exports import bare_name, exposure
from ._structure import Function, Structure, host_resources, python_name
from ._types import Record, class_name

_BUILTINS = ("Err", "Ok", "Variant")


def stub(structure: Structure, source: str) -> str:
    """The `.pyi` text for a component read from `source` (named in its docstring)."""
    lines = [
        f'"""Exports of {source}, as sandlink exposes them (written by `sandlink stubs`)."""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any, Literal, Protocol",
        "",
        f"from sandlink import {', '.join(_BUILTINS)}",
        "",
    ]
    for record in _records(structure.exports):
        lines += ["", *_record(record)]
    for resource in host_resources(structure.exports):
        name = class_name(resource.name or "resource")
        lines += ["", f"{name} = Any  # resource {resource.name}: the class given in imports"]
    # What each scope holds, as the host attaches it: functions, and resource classes.
    items: dict[str | None, dict[str, str]] = {}
    resources: dict[str, list[Function]] = {}
    for fn in structure.exports:
        scope = items.setdefault(fn.interface, {})
        if fn.resource is None:
            params = _join(_params(fn.params))
            scope[fn.name] = f"def {fn.name}(self{params}) -> {_result(fn)}: ..."
        else:
            name = class_name(fn.resource.name or "resource")
            resources.setdefault(name, []).append(fn)
            # Through an alias: in a class body the attribute would shadow the class.
            scope[name] = f"{name}: type[_{name}]"
    for name, functions in resources.items():
        lines += ["", *_resource(name, functions), "", f"_{name} = {name}"]
    for interface in structure.interfaces:
        members = list(items.get(interface, {}).values()) or ["pass"]
        lines += ["", f"class {_protocol(interface)}(Protocol):", f'    """`{interface}`."""']
        lines += [f"    {m}" for m in members]
    lines += ["", "class Component(Protocol):", '    """What load_component returns."""']
    lines += [
        f"    {attribute}: {_protocol(interface)}"  # type: ignore[arg-type]
        if member is None
        else f"    {items[interface][member]}"
        for attribute, interface, member in exposure(items)
    ] or ["    pass"]
    return "\n".join(lines) + "\n"


def _records(functions: Iterable[Function]) -> list[Record]:
    found: list[Record] = []
    for fn in functions:
        for ty in fn.type.types():
            for part in ty.walk():
                if isinstance(part, Record) and all(part is not r for r in found):
                    if all(r.annotation() != part.annotation() for r in found):
                        found.append(part)
    return found


def _record(record: Record) -> list[str]:
    name = record.annotation()
    fields = [(attr, ty.annotation()) for attr, _, ty in record.fields]
    params = ", ".join(f"{attr}: {ann}" for attr, ann in fields)
    return [
        f"class {name}:",
        f'    """WIT record `{record.name or "record"}` (frozen)."""',
        *(f"    @property\n    def {attr}(self) -> {ann}: ..." for attr, ann in fields),
        f"    def __init__(self, {params}) -> None: ..." if params else "    pass",
    ]


def _resource(name: str, functions: list[Function]) -> list[str]:
    lines = [f"class {name}:", f'    """WIT resource `{functions[0].resource.name}`."""']  # type: ignore[union-attr]
    for fn in functions:
        params = _params(fn.params[1:] if fn.kind == "method" else fn.params)
        if fn.kind == "constructor":
            lines.append(f"    def __init__(self{_join(params)}) -> None: ...")
        elif fn.kind == "method":
            lines.append(f"    def {_method(fn.name)}(self{_join(params)}) -> {_result(fn)}: ...")
        else:
            lines += [
                "    @staticmethod",
                f"    def {_method(fn.name)}({', '.join(params)}) -> {_result(fn)}: ...",
            ]
    lines += [
        "    @property",
        "    def closed(self) -> bool: ...",
        "    def close(self) -> None: ...",
        "    def check_live(self) -> None: ...",
        f"    def __enter__(self) -> {name}: ...",
        "    def __exit__(self, *exc: object) -> None: ...",
    ]
    return lines


def _params(params: Iterable[Any]) -> list[str]:
    return [f"{p.name}: {p.type.annotation()}" for p in params]


def _join(params: list[str]) -> str:
    return "".join(f", {p}" for p in params)


def _result(fn: Function) -> str:
    return "None" if fn.result is None else fn.result.annotation()


def _method(name: str) -> str:
    return name + "_" if name in ("close", "closed", "check_live") else name


def _protocol(interface: str) -> str:
    return class_name(python_name(bare_name(interface)).replace("_", "-"))
