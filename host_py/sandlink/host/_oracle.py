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
- resources: `own<R>`/`borrow<R>` are `ResourceAny` handles; ours are instances of the class
  generated for `R` (`ResourceObject`). Passing an `own` consumes the handle (wasmtime-py's
  `OwnType.convert_to_c` takes its pointer), so the object is closed after the call; a `borrow`
  is passed as a clone and the object stays usable.
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
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import wasmtime
import wasmtime.component as wc

from . import _schema as s
from ._checks import check_buffer, check_int, check_str
from ._engine import TICK, engine_for
from ._errors import (
    GuestTrap,
    MemoryLimitExceeded,
    SandlinkError,
    StaleResourceError,
    UnsupportedTypeError,
)
from ._limits import DEFAULT, Limits
from ._reflect import describe_component
from ._values import Err, Ok, Variant

__all__ = ["ComponentApiInstance", "ResourceObject", "from_wasmtime", "to_wasmtime"]

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
    if isinstance(ty, (s.Own, s.Borrow)):
        return frozenset({wc.ResourceAny, wc.ResourceHost})
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


def to_wasmtime(ty: s.Type, value: Any, name: str, lent: _Lent | None = None) -> Any:
    """`value` (our representation) as wasmtime-py takes it; TypeError/OverflowError/ValueError
    naming `name` (extended with `.field` / `[index]` for nested values) if it does not fit.

    Resource objects are checked to be live (StaleResourceError otherwise) and noted in
    `lent`, which the caller uses to close the ones passed as `own` once the call is made.
    """
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
        return [to_wasmtime(ty.element, v, f"{name}[{i}]", lent) for i, v in enumerate(value)]
    if isinstance(ty, s.Tuple):
        if not isinstance(value, (tuple, list)) or len(value) != len(ty.elements):
            raise TypeError(
                f"{name} must be a tuple of {len(ty.elements)} values, not {_describe(value)}"
            )
        return tuple(
            to_wasmtime(t, v, f"{name}[{i}]", lent)
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
            raw = to_wasmtime(field_ty, getattr(value, field), f"{name}.{field}", lent)
            setattr(record, wit_name(field), raw)
        return record
    if isinstance(ty, s.Option):
        if value is None:
            return _lower_case(ty, "none", None, name)
        return _lower_case(ty, "some", to_wasmtime(ty.payload, value, name, lent), name)
    if isinstance(ty, s.Result):
        if isinstance(value, Ok):
            case, case_ty = "ok", ty.ok
        elif isinstance(value, Err):
            case, case_ty = "err", ty.err
        else:
            raise TypeError(f"{name} must be Ok(...) or Err(...), not {type(value).__name__}")
        return _lower_case(ty, case, _payload(case_ty, value.value, f"{name}.{case}", lent), name)
    if isinstance(ty, s.Variant):
        if not isinstance(value, Variant):
            raise TypeError(f"{name} must be a Variant (WIT {ty.name}), not {type(value).__name__}")
        for case, case_ty in ty.cases:
            if case == value.case:
                raw = _payload(case_ty, value.value, f"{name}.{case}", lent)
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
    if isinstance(ty, (s.Own, s.Borrow)):
        return _lower_resource(ty, value, name, lent)
    raise UnsupportedTypeError(f"{name}: no conversion for {ty!r}")


class _Lent:
    """The resource objects one call's arguments pass, by ownership and by borrow."""

    __slots__ = ("borrowed", "owned")

    def __init__(self) -> None:
        self.owned: list[ResourceObject] = []
        self.borrowed: list[ResourceObject] = []


def _lower_resource(ty: s.Own | s.Borrow, value: Any, name: str, lent: _Lent | None) -> Any:
    resource = ty.resource
    cls = resource.cls
    if cls is None:
        raise UnsupportedTypeError(
            f"{name}: resource {resource.name} has no Python class "
            "(ComponentApiInstance makes them)"
        )
    if not isinstance(value, cls):
        raise TypeError(
            f"{name} must be a {cls.__name__} (WIT resource {resource.name}), "
            f"not {type(value).__name__}"
        )
    handle = value._live()
    if lent is not None:
        owned = isinstance(ty, s.Own)
        if any(o is value for o in lent.owned) or (
            owned and any(o is value for o in lent.borrowed)
        ):
            raise ValueError(
                f"{name}: this {cls.__name__} is also passed as own<{resource.name}> in the "
                "same call, which gives it away: it cannot be passed twice"
            )
        (lent.owned if owned else lent.borrowed).append(value)
    return handle


def _payload(case_ty: s.Type | None, value: Any, name: str, lent: _Lent | None = None) -> Any:
    if case_ty is None:
        if value is not None:
            raise TypeError(f"{name} has no payload, so its value must be None, not {value!r}")
        return None
    return to_wasmtime(case_ty, value, name, lent)


def _names(cases: tuple[tuple[str, Any], ...]) -> list[str]:
    return [case for case, _ in cases]


def _describe(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__


# --- wasmtime-py -> ours ----------------------------------------------------------------------


Lift = Callable[[s.Resource, Any], Any]


def from_wasmtime(ty: s.Type, raw: Any, lift: Lift | None = None) -> Any:
    """A wasmtime-py value of type `ty` in our representation; `lift(resource, handle)` turns
    an `own<R>` handle into our object (without it, owned resources are unsupported)."""
    if isinstance(ty, s.Prim):
        return raw
    if isinstance(ty, s.List):
        if isinstance(ty.element, s.Prim) and ty.element.kind == "u8":
            return bytes(raw)
        return [from_wasmtime(ty.element, v, lift) for v in raw]
    if isinstance(ty, s.Tuple):
        return tuple(from_wasmtime(t, v, lift) for t, v in zip(ty.elements, raw, strict=True))
    if isinstance(ty, s.Record):
        return ty.cls(
            **{f: from_wasmtime(t, getattr(raw, wit_name(f)), lift) for f, t in ty.fields}
        )
    if isinstance(ty, (s.Option, s.Result, s.Variant)):
        case, case_ty, payload = _lift_case(ty, raw)
        value = None if case_ty is None else from_wasmtime(case_ty, payload, lift)
        if isinstance(ty, s.Option):
            return value
        if isinstance(ty, s.Result):
            return Ok(value) if case == "ok" else Err(value)
        return Variant(case, value)
    if isinstance(ty, s.Enum):
        return raw
    if isinstance(ty, s.Flags):
        return frozenset(raw)
    if isinstance(ty, s.Own) and lift is not None:
        return lift(ty.resource, raw)
    if isinstance(ty, s.Borrow):
        raise UnsupportedTypeError(f"a borrow<{ty.resource.name}> cannot be returned to the host")
    raise UnsupportedTypeError(f"no conversion for {ty!r}")


# --- resources --------------------------------------------------------------------------------


class ResourceObject:
    """Base of the class `ComponentApiInstance` makes for each resource a component exports.

    Calling the class (`api.Buffer(16)`) calls the resource's constructor; instances have one
    method per `[method]R.f` export and the class one static method per `[static]R.f`. An
    instance owns its guest resource until `close()` (or the end of a `with` block) drops it,
    or until it is passed to an `own<R>` parameter, which gives the guest ownership. It lives
    in the wasmtime Store it was made in: once that Store is discarded (after any trap), using
    it raises StaleResourceError. An instance garbage-collected while open is dropped at the
    next call into its ComponentApiInstance (never from `__del__` itself, which may run in the
    middle of a call).
    """

    __slots__ = ("__weakref__", "_handle", "_store", "_why")
    _api: ClassVar[ComponentApiInstance]
    _resource: ClassVar[s.Resource]
    _constructor: ClassVar[Callable[..., Any] | None] = None

    _handle: wc.ResourceAny | None
    _store: weakref.ReferenceType[wasmtime.Store]
    _why: str | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        constructor = cls._constructor
        if constructor is None:
            raise TypeError(f"{cls.__name__} cannot be created from Python: it has no constructor")
        return constructor(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Everything happened in `__new__` (the constructor export)."""

    @classmethod
    def _wrap(cls, store: wasmtime.Store, handle: wc.ResourceAny) -> ResourceObject:
        obj = object.__new__(cls)
        obj._handle, obj._store, obj._why = handle, weakref.ref(store), None
        return obj

    def _label(self) -> str:
        return f"{type(self).__name__} (WIT resource {self._resource.name})"

    def _stale_reason(self) -> str | None:
        """Why this object cannot be used any more (retiring it), or None if it is live."""
        handle = self._handle
        if handle is None:
            return self._why
        store = self._store()
        if store is None or store is not self._api._store:
            self._retire("was lost: its instance was discarded after a trap")
        else:
            try:
                handle.ptr()
            except ValueError:  # wasmtime-py consumed it: it was passed as an own<R>
                self._retire("was given away: it was passed by ownership (own) to the guest")
        return self._why

    def _retire(self, why: str) -> None:
        handle, self._handle, self._why = self._handle, None, why
        if handle is not None:
            handle.close()  # frees the wasmtime-py wrapper only; no-op if consumed

    def _given_away(self, where: str) -> None:
        """After a call that took this object as an own<R>: retire it if wasmtime-py consumed
        its handle (it does as soon as it lowers the argument)."""
        handle = self._handle
        if handle is not None:
            try:
                handle.ptr()
            except ValueError:
                self._retire(f"was given away: it was passed by ownership to {where}")

    def _live(self) -> wc.ResourceAny:
        """The handle, or StaleResourceError if closed, given away or lost with its instance."""
        why = self._stale_reason()
        if why is not None:
            raise StaleResourceError(f"{self._label()} {why}")
        assert self._handle is not None
        return self._handle

    def check_live(self) -> None:
        """Raise StaleResourceError unless the resource can still be used."""
        self._live()

    @property
    def closed(self) -> bool:
        """True once the resource is closed, given away, or lost with its instance."""
        return self._stale_reason() is not None

    def close(self) -> None:
        """Drops the guest resource (runs its destructor). Idempotent; a no-op once the
        resource is given away or lost with its instance."""
        if self._handle is not None:
            self._api._close_resource(self)

    def __enter__(self) -> Any:
        self._live()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            handle, self._handle, self._why = self._handle, None, "is closed"
            if handle is not None:
                self._api._orphans.append((self._store, handle))
        except BaseException:  # best effort: never raise from __del__
            pass

    def __repr__(self) -> str:
        why = self._stale_reason()
        state = "open" if why is None else why
        return f"<{type(self).__name__} {state}>"

    def __reduce__(self) -> Any:
        raise TypeError(f"a {self._label()} lives in a guest instance and cannot be copied")


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


def _signature(params: Iterable[s.Param]) -> inspect.Signature:
    return inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params]
    )


class ComponentApiInstance:
    """A component instantiated through `wasmtime.component`, its exports as methods.

    `imports` maps an interface (full name `pkg:ns/iface@ver`, or bare `iface`; `$root` for
    world-level imports) to its functions (WIT `name-with-dashes` or Python `name_with_underscores`)
    as callables taking and returning our representation. Imported functions not given trap
    when the guest calls them. Each exported function becomes an attribute named
    `Function.name`; each exported resource a class (a `ResourceObject`) named after it
    (`buffer` -> `Buffer`), also set as the schema's `Resource.cls`.

    After any failed call (trap, or an exception raised by an import) the instance is dropped
    and the next call runs in a fresh one: wasmtime refuses to re-enter a trapped instance.
    Resources made in the dropped instance are stale from then on.
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
        self._depth = 0  # calls in progress (an import calling back in nests them)
        # Handles of resource objects collected while open: (store, handle), dropped at the
        # next outermost call (list.append is atomic, so `__del__` may add from any thread).
        self._orphans: list[tuple[weakref.ReferenceType[wasmtime.Store], wc.ResourceAny]] = []
        if isinstance(path_or_bytes, (str, os.PathLike)):
            self._component = wc.Component.from_file(self._engine, path_or_bytes)
        else:
            self._component = wc.Component(self._engine, bytes(path_or_bytes))
        self._schema = describe_component(self._component, self._engine, classes)
        self._linker = self._link(dict(imports or {}))
        self._store: wasmtime.Store | None = None
        self._funcs: dict[s.Function, wc.Func] = {}
        self._exports: dict[str, s.Function] = {}
        for fn in self._schema.exports:
            if fn.kind != "function":
                continue
            if fn.name in self._exports or hasattr(self, fn.name):
                raise ValueError(f"export {fn.core_name} clashes with another attribute {fn.name}")
            self._exports[fn.name] = fn
            setattr(self, fn.name, self._method(fn))
        resources = self._schema.resources
        for fn in self._schema.exports:  # a resource only its statics name is still one
            if fn.kind != "function" and (fn.interface, fn.resource) not in resources:
                resources[(fn.interface, fn.resource)] = s.Resource(fn.resource, fn.interface)
        for resource in resources.values():
            cls = self._resource_class(resource)
            if hasattr(self, cls.__name__):
                raise ValueError(
                    f"resource {resource.name} of {resource.interface} clashes with another "
                    f"attribute {cls.__name__}"
                )
            setattr(self, cls.__name__, cls)
            resource.cls = cls
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
            funcs[fn] = func
        self._store, self._funcs = store, funcs

    def _method(self, fn: s.Function) -> Callable[..., Any]:
        signature = _signature(fn.params)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._invoke(fn, signature.bind(*args, **kwargs).arguments)

        call.__name__ = call.__qualname__ = fn.name
        call.__doc__ = f"Calls `{fn.core_name}` through wasmtime.component."
        call.__signature__ = signature  # type: ignore[attr-defined]
        return call

    def _resource_method(self, fn: s.Function, cls_name: str) -> Callable[..., Any]:
        """`[method]R.f`: the instance is the `self` (borrow<R>) parameter."""
        this, *rest = fn.params
        signature = _signature(rest)

        def method(obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            return self._invoke(fn, {this.name: obj, **signature.bind(*args, **kwargs).arguments})

        method.__name__ = fn.name
        method.__qualname__ = f"{cls_name}.{fn.name}"
        method.__doc__ = f"Calls `{fn.core_name}` through wasmtime.component."
        method.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
                *signature.parameters.values(),
            ]
        )
        return method

    def _resource_class(self, resource: s.Resource) -> type[ResourceObject]:
        name = s.class_name(resource.name)
        where = f"{resource.interface}#{resource.name}" if resource.interface else resource.name
        namespace: dict[str, Any] = {
            "__slots__": (),
            "__module__": "sandlink.resources",
            "__qualname__": name,
            "__doc__": f"WIT resource `{where}`, called through wasmtime.component.",
            "_api": self,
            "_resource": resource,
        }
        for fn in self._schema.functions_of(resource):
            if fn.kind == "constructor":
                constructor = self._method(fn)
                namespace["_constructor"] = staticmethod(constructor)
                namespace["__signature__"] = constructor.__signature__  # type: ignore[attr-defined]
                continue
            if fn.kind not in ("method", "static"):
                raise UnsupportedTypeError(f"export {fn.core_name}: unknown kind {fn.kind!r}")
            if fn.name in namespace or hasattr(ResourceObject, fn.name):
                raise ValueError(f"export {fn.core_name} clashes with {name}.{fn.name}")
            if fn.kind == "static":
                namespace[fn.name] = staticmethod(self._method(fn))
            elif not fn.params or not isinstance(fn.params[0].type, s.Borrow):
                raise UnsupportedTypeError(f"export {fn.core_name}: a method without a self")
            else:
                namespace[fn.name] = self._resource_method(fn, name)
        return type(name, (ResourceObject,), namespace)

    def _lift(self, resource: s.Resource, handle: wc.ResourceAny) -> ResourceObject:
        """An `own<R>` result, which lives in the current store, as an object of R's class."""
        assert resource.cls is not None and self._store is not None
        return resource.cls._wrap(self._store, handle)

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

    def _invoke(self, fn: s.Function, arguments: Mapping[str, Any]) -> Any:
        self._check_fits(arguments.values())
        # wasmtime-py objects are not thread-safe: the oracle serves one call at a time.
        with self._lock:
            if not self._depth:
                self._drop_orphans()  # first: a failing drop discards the store
            lent = _Lent()
            raw_args = [to_wasmtime(p.type, arguments[p.name], p.name, lent) for p in fn.params]
            try:
                raw = self._call_locked(fn, raw_args)
            finally:
                for obj in lent.owned:
                    obj._given_away(fn.core_name)
            return None if fn.result is None else from_wasmtime(fn.result, raw, self._lift)

    def _call_locked(self, fn: s.Function, raw_args: list[Any]) -> Any:
        if self._store is None:
            self._instantiate()
        store = self._store
        self._arm(store)
        self._depth += 1
        try:
            return self._funcs[fn](store, *raw_args)
        except BaseException as exc:
            error = self._failed(exc)
            if error is None:
                raise
            raise error from None
        finally:
            self._depth -= 1

    def _failed(self, exc: BaseException) -> BaseException | None:
        """Discards the instance after a failed call; the exception to raise for `exc` (None:
        re-raise `exc` itself)."""
        # A trap (or an import's exception, which wasmtime turns into one) poisons the
        # instance: drop it so the next call gets a fresh one.
        self._store, self._funcs = None, {}
        pending, self._pending = self._pending, None
        if pending is not None:
            return pending
        limits = self._limits
        if isinstance(exc, wasmtime.Trap):
            message = exc.message
            code = None if exc.trap_code is None else exc.trap_code.name
        elif isinstance(exc, wasmtime.WasmtimeError):
            message = str(exc)
            code = _trap_code(message)
        else:
            return None
        return limits.exceeded(code) or GuestTrap(message, code)

    # -- resource drops ---------------------------------------------------------------------

    def _close_resource(self, obj: ResourceObject) -> None:
        with self._lock:
            if obj._stale_reason() is not None:  # closed, given away or lost: nothing to drop
                return
            handle, store = obj._handle, obj._store()
            obj._handle, obj._why = None, "is closed"
            assert handle is not None and store is not None
            if self._depth:  # inside a call (an import closing it): drop it afterwards
                self._orphans.append((obj._store, handle))
                return
            self._drop_orphans()
            if store is self._store:  # unless an orphan's drop just discarded it
                self._drop(store, handle)

    def _drop(self, store: wasmtime.Store, handle: wc.ResourceAny) -> None:
        """Runs the resource's destructor (guest code, so under the call limits)."""
        try:
            self._arm(store)
            handle.drop(store)
        except BaseException as exc:
            error = self._failed(exc)
            if error is None:
                raise
            raise error from None
        finally:
            handle.close()

    def _drop_orphans(self) -> None:
        """Drops the handles of resource objects collected while open."""
        while self._orphans:
            store_ref, handle = self._orphans.pop()
            store = store_ref()
            if store is None or store is not self._store:
                handle.close()  # its instance is gone, and the resource with it
                continue
            try:
                self._drop(store, handle)
            except SandlinkError:
                pass  # its destructor trapped: the instance is discarded, nothing to report to
