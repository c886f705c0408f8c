"""The oracle: any component called through wasmtime-py's own `wasmtime.component` API.

Slow (wasmtime-py converts every value element by element in Python) but built only from
wasmtime's reference implementation of the canonical ABI, so the fast host can be checked
against it value for value. Values go in and come out in sandlink's representation
(`_values.py`); two walkers translate to and from wasmtime-py's conventions:

- records are `wasmtime.component.Record` objects whose attributes are the WIT field names
  (dashes kept, set with `setattr`); ours are dataclasses with Python names.
- `list<u8>` must be exactly `bytes`; other lists exactly `list`; tuples exactly `tuple`.
- flags must be exactly a `set` of names (a frozenset is rejected); they come back as a `set`.
- `variant`, `option` and `result` are "tagged" (`wasmtime.component.Variant(tag, payload)`)
  only when two cases could hold values of the same Python class (a case without payload
  counts as `object`); otherwise the raw payload stands for its case (`None` for a case
  without payload). `_tagged` below replicates wasmtime-py's rule on our descriptions.
- ints are not range-checked by wasmtime-py (ctypes truncates silently: u8 300 -> 44) and a
  lone-surrogate `char` aborts the process inside the C API, so every argument is checked here
  first, naming the parameter.
"""

from __future__ import annotations

import inspect
import keyword
import math
import os
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import wasmtime
import wasmtime.component as wc

from . import _schema as s
from ._checks import check_buffer, check_int, check_str
from ._engine import TICK, engine_for
from ._errors import GuestTrap, MemoryLimitExceeded, OutOfFuel, Timeout, UnsupportedTypeError
from ._limits import DEFAULT, Limits
from ._reflect import describe_component
from ._values import Err, Ok, Variant

__all__ = ["ComponentApiInstance", "from_wasmtime", "to_wasmtime"]

_INTS = frozenset({"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64"})


def wit_name(python: str) -> str:
    """Inverse of `_schema.python_name` (WIT identifiers never contain `_`)."""
    if python.endswith("_") and keyword.iskeyword(python[:-1]):
        python = python[:-1]
    return python.replace("_", "-")


# --- wasmtime-py's tagging rule, replicated on our descriptions -------------------------------


def _cases(ty: s.Variant | s.Option | s.Result) -> list[tuple[str, s.Type | None]]:
    """The cases in wasmtime-py's order (`VariantLikeType._cases`)."""
    if isinstance(ty, s.Variant):
        return list(ty.cases)
    if isinstance(ty, s.Option):
        return [("none", None), ("some", ty.payload)]
    return [("ok", ty.ok), ("err", ty.err)]


def _classes(ty: s.Type | None) -> frozenset[type]:
    """The Python classes wasmtime-py produces and accepts for `ty` (`ValType.add_classes`)."""
    if ty is None:
        return frozenset({object})
    if isinstance(ty, s.Prim):
        if ty.kind == "bool":
            return frozenset({bool})
        if ty.kind in _INTS:
            return frozenset({int})
        if ty.kind in ("f32", "f64"):
            return frozenset({float})
        return frozenset({str})  # char, string
    if isinstance(ty, s.List):
        is_bytes = isinstance(ty.element, s.Prim) and ty.element.kind == "u8"
        return frozenset({bytes if is_bytes else list})
    if isinstance(ty, s.Record):
        return frozenset({wc.Record})
    if isinstance(ty, s.Tuple):
        return frozenset({tuple})
    if isinstance(ty, s.Enum):
        return frozenset({str})
    if isinstance(ty, s.Flags):
        return frozenset({set})
    if isinstance(ty, (s.Variant, s.Option, s.Result)):
        if _tagged(ty):
            return frozenset({wc.Variant})
        out: set[type] = set()
        for _, case_ty in _cases(ty):
            out |= _classes(case_ty)
        return frozenset(out)
    raise UnsupportedTypeError(f"no wasmtime-py convention for {ty!r}")


def _tagged(ty: s.Variant | s.Option | s.Result) -> bool:
    """True when wasmtime-py wraps this type's values in `wasmtime.component.Variant`."""
    seen: set[type] = set()
    for _, case_ty in _cases(ty):
        case = _classes(case_ty)
        if case & seen:
            return True
        seen |= case
    return False


def _accepts(case_ty: s.Type | None, raw: Any) -> bool:
    """Whether wasmtime-py's untagged lowering would pick a case of type `case_ty` for `raw`."""
    if case_ty is None:
        return raw is None
    return isinstance(raw, tuple(_classes(case_ty)))


def _lower_case(ty: s.Variant | s.Option | s.Result, case: str, raw: Any, name: str) -> Any:
    """The wasmtime-py value for case `case` carrying the already converted payload `raw`."""
    if _tagged(ty):
        return wc.Variant(case, raw)
    # Untagged: wasmtime-py takes the first case whose classes accept `raw`; make sure it is ours.
    for other, other_ty in _cases(ty):
        if other == case:
            return raw
        if _accepts(other_ty, raw):
            raise UnsupportedTypeError(
                f"{name}: wasmtime-py cannot pass case {case!r} of this type "
                f"(its payload would be taken for case {other!r})"
            )
    raise AssertionError(f"unknown case {case!r}")


def _lift_case(ty: s.Variant | s.Option | s.Result, raw: Any) -> tuple[str, s.Type | None, Any]:
    """(case name, case type, raw payload) of a wasmtime-py value of type `ty`."""
    cases = _cases(ty)
    if _tagged(ty):
        assert isinstance(raw, wc.Variant), raw
        for case, case_ty in cases:
            if case == raw.tag:
                return case, case_ty, raw.payload
        raise AssertionError(f"unknown case {raw.tag!r}")
    # Untagged: the case classes are disjoint, so the payload's exact class names its case.
    for case, case_ty in cases:
        if case_ty is None:
            if raw is None:
                return case, None, None
        elif type(raw) in _classes(case_ty):
            return case, case_ty, raw
    raise AssertionError(f"cannot tell the case of {raw!r}")


# --- ours -> wasmtime-py, checking as it goes -------------------------------------------------

_F32 = struct.Struct("<f")


def _float(name: str, kind: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a float ({kind}), not {type(value).__name__}")
    try:
        result = float(value)
        if kind == "f32":  # round to the nearest f32; finite values beyond its range overflow
            result = _F32.unpack(_F32.pack(result))[0]
    except OverflowError:
        raise OverflowError(f"{name}={value!r} is out of range for {kind}") from None
    return result


def _text(name: str, value: Any) -> str:
    check_str(name, value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text (it holds a lone surrogate)") from None
    return value


def _char(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1:
        what = f"a str of length {len(value)}" if isinstance(value, str) else type(value).__name__
        raise TypeError(f"{name} must be a one-character str (char), not {what}")
    if 0xD800 <= ord(value) <= 0xDFFF:
        raise ValueError(f"{name} is a lone surrogate, not a Unicode scalar value")
    return value


def to_wasmtime(ty: s.Type, value: Any, name: str) -> Any:
    """`value` (our representation) as wasmtime-py takes it; TypeError/OverflowError/ValueError
    naming `name` (extended with `.field` / `[index]` for nested values) if it does not fit."""
    if isinstance(ty, s.Prim):
        kind = ty.kind
        if kind == "bool":
            if type(value) is not bool:
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
            return value
        if kind in _INTS:
            return int(check_int(name, kind, value))
        if kind in ("f32", "f64"):
            return _float(name, kind, value)
        if kind == "char":
            return _char(name, value)
        return _text(name, value)
    if isinstance(ty, s.List):
        if isinstance(ty.element, s.Prim) and ty.element.kind == "u8":
            return bytes(check_buffer(name, value))
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{name} must be a list, not {type(value).__name__}")
        return [to_wasmtime(ty.element, v, f"{name}[{i}]") for i, v in enumerate(value)]
    if isinstance(ty, s.Tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(ty.elements):
            raise TypeError(
                f"{name} must be a tuple of {len(ty.elements)} values, not {_describe(value)}"
            )
        return tuple(
            to_wasmtime(t, v, f"{name}[{i}]")
            for i, (t, v) in enumerate(zip(ty.elements, value, strict=True))
        )
    if isinstance(ty, s.Record):
        if not isinstance(value, ty.cls):
            raise TypeError(
                f"{name} must be a {ty.cls.__name__} (WIT record {ty.name}), "
                f"not {type(value).__name__}"
            )
        record = wc.Record()
        for field, field_ty in ty.fields:
            raw = to_wasmtime(field_ty, getattr(value, field), f"{name}.{field}")
            setattr(record, wit_name(field), raw)
        return record
    if isinstance(ty, s.Option):
        if value is None:
            return _lower_case(ty, "none", None, name)
        return _lower_case(ty, "some", to_wasmtime(ty.payload, value, name), name)
    if isinstance(ty, s.Result):
        if isinstance(value, Ok):
            case, case_ty = "ok", ty.ok
        elif isinstance(value, Err):
            case, case_ty = "err", ty.err
        else:
            raise TypeError(f"{name} must be Ok(...) or Err(...), not {type(value).__name__}")
        return _lower_case(ty, case, _payload(case_ty, value.value, f"{name}.{case}"), name)
    if isinstance(ty, s.Variant):
        if not isinstance(value, Variant):
            raise TypeError(f"{name} must be a Variant (WIT {ty.name}), not {type(value).__name__}")
        for case, case_ty in ty.cases:
            if case == value.case:
                raw = _payload(case_ty, value.value, f"{name}.{case}")
                return _lower_case(ty, case, raw, name)
        raise ValueError(f"{name}: {value.case!r} is not a case of {ty.name} {_names(ty.cases)}")
    if isinstance(ty, s.Enum):
        check_str(name, value)
        if value not in ty.names:
            raise ValueError(f"{name}: {value!r} is not a case of {ty.name} {list(ty.names)}")
        return value
    if isinstance(ty, s.Flags):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise TypeError(f"{name} must be a set of flag names, not {type(value).__name__}")
        flags = set()
        for flag in value:
            check_str(f"{name} (a flag name)", flag)
            if flag not in ty.names:
                raise ValueError(f"{name}: {flag!r} is not a flag of {ty.name}")
            flags.add(flag)
        return flags
    raise UnsupportedTypeError(f"{name}: no conversion for {ty!r}")


def _payload(case_ty: s.Type | None, value: Any, name: str) -> Any:
    if case_ty is None:
        if value is not None:
            raise TypeError(f"{name} has no payload, so its value must be None, not {value!r}")
        return None
    return to_wasmtime(case_ty, value, name)


def _names(cases: tuple[tuple[str, Any], ...]) -> list[str]:
    return [case for case, _ in cases]


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


# --- wasmtime-py -> ours ----------------------------------------------------------------------


def from_wasmtime(ty: s.Type, raw: Any) -> Any:
    """A wasmtime-py value of type `ty` in our representation."""
    if isinstance(ty, s.Prim):
        return raw
    if isinstance(ty, s.List):
        if isinstance(ty.element, s.Prim) and ty.element.kind == "u8":
            return bytes(raw)
        return [from_wasmtime(ty.element, v) for v in raw]
    if isinstance(ty, s.Tuple):
        return tuple(from_wasmtime(t, v) for t, v in zip(ty.elements, raw, strict=True))
    if isinstance(ty, s.Record):
        return ty.cls(**{f: from_wasmtime(t, getattr(raw, wit_name(f))) for f, t in ty.fields})
    if isinstance(ty, (s.Option, s.Result, s.Variant)):
        case, case_ty, payload = _lift_case(ty, raw)
        value = None if case_ty is None else from_wasmtime(case_ty, payload)
        if isinstance(ty, s.Option):
            return value
        if isinstance(ty, s.Result):
            return Ok(value) if case == "ok" else Err(value)
        return Variant(case, value)
    if isinstance(ty, s.Enum):
        return raw
    if isinstance(ty, s.Flags):
        return frozenset(raw)
    raise UnsupportedTypeError(f"no conversion for {ty!r}")


# --- the instance -----------------------------------------------------------------------------


def _bare(interface: str) -> str:
    """`sandlink:kernels/host@0.1.0` -> `host`."""
    return interface.rsplit("/", 1)[-1].split("@", 1)[0]


# wasmtime.component reports traps as errors whose text names the trap; the fast host gets
# the code itself. These are wasmtime's own descriptions of its trap codes.
_TRAP_TEXT = {
    "wasm trap: interrupt": "INTERRUPT",
    "wasm trap: all fuel consumed": "OUT_OF_FUEL",
    "wasm trap: call stack exhausted": "STACK_OVERFLOW",
    "wasm trap: wasm `unreachable` instruction executed": "UNREACHABLE",
    "wasm trap: out of bounds memory access": "MEMORY_OUT_OF_BOUNDS",
    "wasm trap: integer divide by zero": "INTEGER_DIVISION_BY_ZERO",
}


def _trap_code(message: str) -> str | None:
    return next((code for text, code in _TRAP_TEXT.items() if text in message), None)


class _HostFailed(Exception):
    """Stands in for a host function's exception while it crosses wasmtime-py."""


class ComponentApiInstance:
    """A component instantiated through `wasmtime.component`, its exports as methods.

    `imports` maps an interface (full name `pkg:ns/iface@ver`, or bare `iface`; `$root` for
    world-level imports) to its functions (WIT `name-with-dashes` or Python `name_with_underscores`)
    as callables taking and returning our representation. Imported functions not given trap
    when the guest calls them. Each export becomes an attribute named `Function.name`.

    After any failed call (trap, or an exception raised by an import) the instance is dropped
    and the next call runs in a fresh one: wasmtime refuses to re-enter a trapped instance.
    """

    def __init__(
        self,
        path_or_bytes: str | os.PathLike[str] | bytes,
        imports: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None,
        classes: dict[str, type] | None = None,
        engine: wasmtime.Engine | None = None,
        limits: Limits = DEFAULT,
    ) -> None:
        # With an engine of the caller's, only the memory limit applies (timeouts and fuel
        # need engine settings).
        self._limits = limits
        self._handle = None
        if engine is None:
            self._handle = engine_for(limits.timeout is not None, limits.fuel is not None)
            engine = self._handle.engine
        self._engine = engine
        self._pending: BaseException | None = None
        self._lock = threading.RLock()  # re-entrant: an import may call back in
        if isinstance(path_or_bytes, (str, os.PathLike)):
            self._component = wc.Component.from_file(self._engine, path_or_bytes)
        else:
            self._component = wc.Component(self._engine, bytes(path_or_bytes))
        self._schema = describe_component(self._component, self._engine, classes)
        self._linker = self._link(dict(imports or {}))
        self._store: wasmtime.Store | None = None
        self._funcs: dict[str, wc.Func] = {}
        self._exports: dict[str, s.Function] = {}
        for fn in self._schema.exports:
            if fn.name in self._exports or hasattr(self, fn.name):
                raise ValueError(f"export {fn.core_name} clashes with another attribute {fn.name}")
            self._exports[fn.name] = fn
            setattr(self, fn.name, self._method(fn))
        self._instantiate()  # link errors show up here, not at the first call

    @property
    def schema(self) -> s.Schema:
        return self._schema

    @property
    def record_classes(self) -> dict[str, type]:
        return self._schema.record_classes

    # -- imports ----------------------------------------------------------------------------

    def _link(self, imports: Mapping[str, Mapping[str, Callable[..., Any]]]) -> wc.Linker:
        linker = wc.Linker(self._engine)
        by_interface: dict[str | None, list[tuple[s.Function, Callable[..., Any]]]] = {}
        for fn, callback in s.resolve_imports(self._schema, imports).items():
            by_interface.setdefault(fn.interface, []).append((fn, callback))
        with linker.root() as root:
            for interface, functions in by_interface.items():
                if interface is None:
                    self._define(root, functions)
                else:
                    with root.add_instance(interface) as instance:
                        self._define(instance, functions)
        return linker

    def _define(
        self, target: wc.LinkerInstance, functions: list[tuple[s.Function, Callable[..., Any]]]
    ) -> None:
        for fn, callback in functions:
            target.add_func(fn.wit_name, self._host_func(fn, callback))

    def _host_func(self, fn: s.Function, callback: Callable[..., Any]) -> Callable[..., Any]:
        def host(_store: Any, *raw_args: Any) -> Any:
            try:
                args = [from_wasmtime(p.type, a) for p, a in zip(fn.params, raw_args, strict=True)]
                result = callback(*args)
                if fn.result is None:
                    return None
                return to_wasmtime(fn.result, result, f"result of import {fn.core_name}")
            except BaseException as exc:
                # wasmtime-py lets a BaseException (KeyboardInterrupt) escape its ctypes
                # trampoline, which crashes the process: keep it, fail the call, re-raise later.
                self._pending = exc
                raise _HostFailed(fn.core_name) from None

        return host

    # -- exports ----------------------------------------------------------------------------

    def _instantiate(self) -> None:
        store = wasmtime.Store(self._engine)
        if self._limits.memory is not None:
            store.set_limits(memory_size=self._limits.memory)
        self._arm(store)
        instance = self._linker.instantiate(store, self._component)
        funcs = {}
        for fn in self._schema.exports:
            parent = None
            if fn.interface is not None:
                parent = instance.get_export_index(store, fn.interface)
            index = instance.get_export_index(store, fn.wit_name, parent)
            func = None if index is None else instance.get_func(store, index)
            if func is None:
                raise LookupError(f"export {fn.core_name} not found in the instance")
            funcs[fn.name] = func
        self._store, self._funcs = store, funcs

    def _method(self, fn: s.Function) -> Callable[..., Any]:
        signature = inspect.Signature(
            [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in fn.params]
        )

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            self._check_fits(bound.arguments.values())
            raw_args = [to_wasmtime(p.type, bound.arguments[p.name], p.name) for p in fn.params]
            return self._call(fn, raw_args)

        call.__name__ = call.__qualname__ = fn.name
        call.__doc__ = f"Calls `{fn.core_name}` through wasmtime.component."
        call.__signature__ = signature  # type: ignore[attr-defined]
        return call

    def _arm(self, store: wasmtime.Store) -> None:
        """Give the next call (or instantiation) its full time and fuel budget."""
        limits = self._limits
        if self._handle is not None and limits.timeout is not None:
            store.set_epoch_deadline(max(1, math.ceil(limits.timeout / TICK)))
            self._handle.start_ticker()
        if self._handle is not None and limits.fuel is not None:
            store.set_fuel(limits.fuel)

    def _check_fits(self, args: Iterable[Any]) -> None:
        """An argument bigger than the memory limit cannot be lowered: say so up front."""
        cap = self._limits.memory
        if cap is None:
            return
        for value in args:
            if isinstance(value, (bytes, bytearray, memoryview, str)) and len(value) > cap:
                raise MemoryLimitExceeded(
                    f"{len(value)} bytes do not fit in the {cap}-byte memory limit"
                )

    def _call(self, fn: s.Function, raw_args: list[Any]) -> Any:
        # wasmtime-py objects are not thread-safe: the oracle serves one call at a time.
        with self._lock:
            return self._call_locked(fn, raw_args)

    def _call_locked(self, fn: s.Function, raw_args: list[Any]) -> Any:
        if self._store is None:
            self._instantiate()
        store = self._store
        limits = self._limits
        self._arm(store)
        try:
            raw = self._funcs[fn.name](store, *raw_args)
        except BaseException as exc:
            # A trap (or an import's exception, which wasmtime turns into one) poisons the
            # instance: drop it so the next call gets a fresh one.
            self._store, self._funcs = None, {}
            pending, self._pending = self._pending, None
            if pending is not None:
                raise pending from None
            if isinstance(exc, wasmtime.Trap):
                message = exc.message
                code = None if exc.trap_code is None else exc.trap_code.name
            elif isinstance(exc, wasmtime.WasmtimeError):
                message = str(exc)
                code = _trap_code(message)
            else:
                raise
            if code == "INTERRUPT":
                raise Timeout(f"call took longer than the {limits.timeout} s limit", code) from None
            if code == "OUT_OF_FUEL":
                raise OutOfFuel(f"call used up its {limits.fuel} units of fuel", code) from None
            raise GuestTrap(message, code) from None
        return None if fn.result is None else from_wasmtime(fn.result, raw)
