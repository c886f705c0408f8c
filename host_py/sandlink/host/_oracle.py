"""The oracle: any component called through wasmtime-py's own `wasmtime.component` API.

Slow (wasmtime-py converts every value element by element in Python) but built only from
wasmtime's reference implementation of the canonical ABI and its own reading of the
component's types (`_reflect`), so the fast host can be checked against it value for
value. Values go in and come out in sandlink's representation (`_values.py`); two
functions translate to and from wasmtime-py's conventions, each one `match` over the
types:

- records are `wasmtime.component.Record` objects whose attributes are the WIT field names
  (dashes kept, set with `setattr`); ours are dataclasses with Python names.
- `list<u8>` must be exactly `bytes`; other lists exactly `list`; tuples exactly `tuple`.
- flags must be exactly a `set` of names (a frozenset is rejected); they come back as a `set`.
- `variant`, `option` and `result` are "tagged" (`wasmtime.component.Variant(tag, payload)`)
  only when two cases could hold values of the same Python class (a case without payload
  counts as `object`); otherwise the raw payload stands for its case (`None` for a case
  without payload). `_tagged` below replicates wasmtime-py's rule on our descriptions.
- resources: `own<R>`/`borrow<R>` are `ResourceAny` handles; ours are instances of the class
  made for `R` (`ResourceObject`). Passing an `own` consumes the handle (wasmtime-py's
  `OwnType.convert_to_c` takes its pointer), so the object is closed after the call; a
  `borrow` is passed as a clone and the object stays usable.
- ints are not range-checked by wasmtime-py (ctypes truncates silently: u8 300 -> 44) and a
  lone-surrogate `char` aborts the process inside the C API, so every argument is checked
  here first, naming the parameter.
"""

from __future__ import annotations

import inspect
import itertools
import os
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import wasmtime
import wasmtime.component as wc

from . import _interrupts as interrupts
from ._checks import check_buffer, check_int, check_str
from ._engine import Clock
from ._errors import (
    GuestExit,
    GuestTrap,
    MemoryLimitExceeded,
    SandlinkError,
    StaleResourceError,
    UnsupportedTypeError,
)
from ._exports import Component, Host, expose
from ._limits import Limits
from ._reflect import Reflection
from ._resources import hosted_drop
from ._structure import (
    Function,
    Param,
    assign_record_classes,
    check_supported,
    missing_imports,
    resolve_imports,
    wasi_hint,
)
from ._types import (
    Bool,
    Borrow,
    Char,
    Enum,
    Flags,
    Float,
    Int,
    List,
    Option,
    Own,
    Record,
    ResourceType,
    Result,
    String,
    Tuple,
    ValType,
    Variant,
    class_name,
)
from ._values import Err, Ok
from ._values import Variant as VariantValue

__all__ = ["OracleHost", "ResourceObject", "from_wasmtime", "to_wasmtime"]

_CaseTypes = Variant | Option | Result


# --- wasmtime-py's tagging rule, replicated on our descriptions -------------------------------


def _classes(ty: ValType | None) -> frozenset[type]:
    """The Python classes wasmtime-py produces and accepts for `ty` (`ValType.add_classes`)."""
    match ty:
        case None:
            return frozenset({object})
        case Bool():
            return frozenset({bool})
        case Int():
            return frozenset({int})
        case Float():
            return frozenset({float})
        case Char() | String() | Enum():
            return frozenset({str})
        case List():
            return frozenset({bytes if ty.is_bytes else list})
        case Record():
            return frozenset({wc.Record})
        case Tuple():
            return frozenset({tuple})
        case Flags():
            return frozenset({set})
        case Own() | Borrow():
            return frozenset({wc.ResourceAny, wc.ResourceHost})
        case Variant() | Option() | Result():
            if _tagged(ty):
                return frozenset({wc.Variant})
            out: set[type] = set()
            for _, case_ty in ty.cases:
                out |= _classes(case_ty)
            return frozenset(out)
    raise UnsupportedTypeError(f"no wasmtime-py convention for {ty!r}")


def _tagged(ty: _CaseTypes) -> bool:
    """True when wasmtime-py wraps this type's values in `wasmtime.component.Variant`."""
    seen: set[type] = set()
    for _, case_ty in ty.cases:
        case = _classes(case_ty)
        if case & seen:
            return True
        seen |= case
    return False


def _accepts(case_ty: ValType | None, raw: Any) -> bool:
    """Whether wasmtime-py's untagged lowering would pick a case of type `case_ty` for `raw`."""
    if case_ty is None:
        return raw is None
    return isinstance(raw, tuple(_classes(case_ty)))


def _lower_case(ty: _CaseTypes, case: str, raw: Any, name: str) -> Any:
    """The wasmtime-py value for case `case` carrying the already converted payload `raw`."""
    if _tagged(ty):
        return wc.Variant(case, raw)
    # Untagged: wasmtime-py takes the first case whose classes accept `raw`; make sure it is ours.
    for other, other_ty in ty.cases:
        if other == case:
            return raw
        if _accepts(other_ty, raw):
            raise UnsupportedTypeError(
                f"{name}: wasmtime-py cannot pass case {case!r} of this type "
                f"(its payload would be taken for case {other!r})"
            )
    raise AssertionError(f"unknown case {case!r}")


def _lift_case(ty: _CaseTypes, raw: Any) -> tuple[str, ValType | None, Any]:
    """(case name, case type, raw payload) of a wasmtime-py value of type `ty`."""
    cases = ty.cases
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
    except (OverflowError, struct.error):
        raise OverflowError(f"{name}={value!r} is out of range for {kind}") from None
    return result


def _text(name: str, value: Any) -> str:
    check_str(name, value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{name} contains a lone surrogate, which no WIT string can hold"
        ) from None
    result: str = value
    return result


def _char(name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 1:
        what = f"a str of length {len(value)}" if isinstance(value, str) else type(value).__name__
        raise TypeError(f"{name} must be a one-character str (char), not {what}")
    if 0xD800 <= ord(value) <= 0xDFFF:
        raise ValueError(f"{name} is a lone surrogate, not a Unicode scalar value")
    return value


def to_wasmtime(ty: ValType, value: Any, name: str, lent: _Lent | None = None) -> Any:
    """`value` (our representation) as wasmtime-py takes it; TypeError/OverflowError/ValueError
    naming `name` (extended with `.field` / `[index]` for nested values) if it does not fit.

    Resource objects are checked to be live (StaleResourceError otherwise) and noted in
    `lent`, which the caller uses to close the ones passed as `own` once the call is made.
    """
    match ty:
        case Bool():
            if type(value) is not bool:
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
            return value
        case Int():
            return int(check_int(name, ty.kind, value))
        case Float():
            return _float(name, ty.kind, value)
        case Char():
            return _char(name, value)
        case String():
            return _text(name, value)
        case List():
            if ty.is_bytes:
                return check_buffer(name, value).tobytes()
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"{name} must be a list, not {type(value).__name__}")
            return [to_wasmtime(ty.element, v, f"{name}[{i}]", lent) for i, v in enumerate(value)]
        case Tuple():
            if not isinstance(value, (tuple, list)) or len(value) != len(ty.elements):
                raise TypeError(f"{name} must be a tuple of {len(ty.elements)} values")
            return tuple(
                to_wasmtime(t, v, f"{name}[{i}]", lent)
                for i, (t, v) in enumerate(zip(ty.elements, value, strict=True))
            )
        case Record():
            record = wc.Record()
            for attr, label, field_ty in ty.fields:
                try:
                    field = getattr(value, attr)
                except AttributeError:
                    raise TypeError(
                        f"{name} must be a {ty.cls.__name__} (or have its fields), "  # type: ignore[union-attr]
                        f"not {type(value).__name__}"
                    ) from None
                setattr(record, label, to_wasmtime(field_ty, field, f"{name}.{attr}", lent))
            return record
        case Option():
            if value is None:
                return _lower_case(ty, "none", None, name)
            return _lower_case(ty, "some", to_wasmtime(ty.payload, value, name, lent), name)
        case Result():
            if type(value) is Ok:
                case, case_ty = "ok", ty.ok
            elif type(value) is Err:
                case, case_ty = "err", ty.err
            else:
                raise TypeError(
                    f"{name} must be sandlink.Ok or sandlink.Err, not {type(value).__name__}"
                )
            return _lower_case(
                ty, case, _payload(case_ty, value.value, f"{name}.{case}", lent), name
            )
        case Variant():
            if type(value) is not VariantValue:
                raise TypeError(
                    f"{name} must be a sandlink.Variant ({ty.describe()}), "
                    f"not {type(value).__name__}"
                )
            for case, case_ty in ty.cases:
                if case == value.case:
                    raw = _payload(case_ty, value.value, f"{name}.{case}", lent)
                    return _lower_case(ty, case, raw, name)
            raise ValueError(
                f"{name}={value.case!r} is not a case of {ty.describe()} "
                f"({[c for c, _ in ty.cases]})"
            )
        case Enum():
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a case name (str), not {type(value).__name__}")
            if value not in ty.names:
                raise ValueError(
                    f"{name}={value!r} is not a case of {ty.describe()} ({list(ty.names)})"
                )
            return value
        case Flags():
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise TypeError(f"{name} must be a set of flag names, not {type(value).__name__}")
            flags = set()
            for flag in value:
                if not isinstance(flag, str):
                    raise TypeError(f"{name} must hold flag names (str), not {type(flag).__name__}")
                if flag not in ty.names:
                    raise ValueError(f"{name}: unknown flag {flag!r}")
                flags.add(flag)
            return flags
        case Own() | Borrow():
            return _lower_resource(ty, value, name, lent)
    raise UnsupportedTypeError(f"{name}: WIT type {ty.describe()} is not supported")


class _Lent:
    """The resource objects one call's arguments pass, by ownership and by borrow, and the
    instance whose handles the host's own objects become (`hosted`)."""

    __slots__ = ("borrowed", "hosted", "owned")

    def __init__(self, hosted: _Instance | None = None) -> None:
        self.owned: list[ResourceObject] = []
        self.borrowed: list[ResourceObject] = []
        self.hosted = hosted


def _lower_resource(ty: Own | Borrow, value: Any, name: str, lent: _Lent | None) -> Any:
    cls: Any = ty.resource.cls
    if cls is None:
        raise UnsupportedTypeError(f"{name}: {ty.describe()} has no Python class")
    if not ty.resource.defined:  # the host's object, handed to the guest
        assert lent is not None and lent.hosted is not None and isinstance(ty, Own)
        if not isinstance(value, cls):
            raise TypeError(f"{name} must be a {cls.__name__}, not {type(value).__name__}")
        return wc.ResourceHost.own(lent.hosted.keep(value), ty.resource.index)
    if type(value) is not cls:
        raise TypeError(f"{name} must be a {cls.__name__}, not {type(value).__name__}")
    handle = value._live()
    if lent is not None:
        owned = isinstance(ty, Own)
        if any(o is value for o in lent.owned) or (
            owned and any(o is value for o in lent.borrowed)
        ):
            raise ValueError(f"{name}: this {cls.__name__} is given to the guest twice in one call")
        (lent.owned if owned else lent.borrowed).append(value)
    return handle


def _payload(case_ty: ValType | None, value: Any, name: str, lent: _Lent | None = None) -> Any:
    if case_ty is None:
        if value is not None:
            raise TypeError(f"{name}: this case has no payload, so its value must be None")
        return None
    return to_wasmtime(case_ty, value, name, lent)


# --- wasmtime-py -> ours ----------------------------------------------------------------------


Lift = Callable[[ResourceType, Any], Any]


def from_wasmtime(ty: ValType, raw: Any, lift: Lift | None = None) -> Any:
    """A wasmtime-py value of type `ty` in our representation; `lift(resource, handle)` turns
    a resource handle into our object (without it, resources are unsupported)."""
    match ty:
        case Bool() | Int() | Float() | Char() | String() | Enum():
            return raw
        case List():
            if ty.is_bytes:
                return bytes(raw)
            return [from_wasmtime(ty.element, v, lift) for v in raw]
        case Tuple():
            return tuple(from_wasmtime(t, v, lift) for t, v in zip(ty.elements, raw, strict=True))
        case Record():
            assert ty.cls is not None
            return ty.cls(
                *(from_wasmtime(t, getattr(raw, label), lift) for _, label, t in ty.fields)
            )
        case Option() | Result() | Variant():
            case, case_ty, payload = _lift_case(ty, raw)
            value = None if case_ty is None else from_wasmtime(case_ty, payload, lift)
            if isinstance(ty, Option):
                return value
            if isinstance(ty, Result):
                return Ok(value) if case == "ok" else Err(value)
            return VariantValue(case, value)
        case Flags():
            return frozenset(raw)
        case Own() | Borrow() if lift is not None:
            return lift(ty.resource, raw)
    raise UnsupportedTypeError(f"{ty.describe()} cannot be handed to the host")


# --- resources --------------------------------------------------------------------------------


class ResourceObject:
    """Base of the class the oracle makes for each resource a component exports.

    Calling the class (`c.Buffer(16)`) calls the resource's constructor; instances have one
    method per `[method]R.f` export and the class one static method per `[static]R.f`. An
    instance owns its guest resource until `close()` (or the end of a `with` block) drops it,
    or until it is passed to an `own<R>` parameter, which gives the guest ownership. It lives
    in the instance (one per thread) it was made in: once that instance is discarded (after
    any trap), or from another thread, using it raises StaleResourceError. An instance
    garbage-collected while open is dropped at the next call into its instance (never from
    `__del__` itself, which may run in the middle of a call).
    """

    __slots__ = ("__weakref__", "_handle", "_owner", "_why")
    _api: ClassVar[OracleHost]
    _resource: ClassVar[ResourceType]
    _constructor: ClassVar[Callable[..., Any] | None] = None

    _handle: wc.ResourceAny | None
    _owner: _Instance
    _why: str | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        constructor = cls._constructor
        if constructor is None:
            raise TypeError(f"{cls.__name__} has no constructor: only the component makes them")
        return constructor(*args, **kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Everything happened in `__new__` (the constructor export)."""

    @classmethod
    def _wrap(cls, owner: _Instance, handle: wc.ResourceAny) -> ResourceObject:
        obj = object.__new__(cls)
        obj._handle, obj._owner, obj._why = handle, owner, None
        return obj

    def _stale_reason(self) -> str | None:
        """Why this object cannot be used here (retiring it if for good), or None."""
        handle = self._handle
        if handle is None:
            return self._why
        owner = self._owner
        if owner.retired:
            self._retire("its instance was discarded after a trap")
        elif owner.thread is not threading.current_thread():
            return "it belongs to another thread's instance"
        else:
            try:
                handle.ptr()
            except ValueError:  # wasmtime-py consumed it: it was passed as an own<R>
                self._retire("it was given to the guest")
        return self._why

    def _retire(self, why: str) -> None:
        handle, self._handle, self._why = self._handle, None, why
        if handle is not None:
            handle.close()  # frees the wasmtime-py wrapper only; no-op if consumed

    def _given_away(self) -> None:
        """After a call that took this object as an own<R>: retire it if wasmtime-py consumed
        its handle (it does as soon as it lowers the argument)."""
        handle = self._handle
        if handle is not None:
            try:
                handle.ptr()
            except ValueError:
                self._retire("it was given to the guest")

    def _live(self) -> wc.ResourceAny:
        """The handle, or StaleResourceError if closed, given away, lost, or not this thread's."""
        why = self._stale_reason()
        if why is not None:
            raise StaleResourceError(f"this {type(self).__name__} cannot be used: {why}")
        assert self._handle is not None
        return self._handle

    def check_live(self) -> None:
        """Raise StaleResourceError unless the resource can be used here."""
        self._live()

    @property
    def closed(self) -> bool:
        """True once the resource is closed, given away, or lost with its instance."""
        return self._handle is None or self._owner.retired

    def close(self) -> None:
        """Drops the guest resource (runs its destructor). Idempotent; a no-op once the
        resource is given away or lost with its instance; from another thread it raises
        StaleResourceError (that thread's instance must not be entered from here)."""
        if self._handle is not None:
            self._api._close_resource(self)

    def __enter__(self) -> Any:
        self._live()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            handle, self._handle, self._why = self._handle, None, "it was closed"
            if handle is not None and not self._owner.retired:
                self._owner.orphans.append(handle)
        except BaseException:  # best effort: never raise from __del__
            pass

    def __repr__(self) -> str:
        why = self._stale_reason()
        return f"<{type(self).__name__} {'open' if why is None else why}>"

    def __reduce__(self) -> Any:
        raise TypeError(f"a {type(self).__name__} lives in a guest instance and cannot be copied")


# --- the instance -----------------------------------------------------------------------------


class _Instance(Clock):
    """One thread's Store and component instance (wasmtime-py objects are not thread-safe)."""

    __slots__ = (
        "__weakref__",
        "depth",
        "funcs",
        "hosted",
        "orphans",
        "outputs",
        "reps",
        "retired",
        "store",
        "thread",
    )

    def __init__(self, timeout: float | None) -> None:
        super().__init__(timeout)
        self.thread = threading.current_thread()
        self.store: wasmtime.Store | None = None
        self.funcs: dict[Function, wc.Func] = {}
        self.depth = 0  # calls in progress (a host callback calling back in would nest them)
        self.retired = False
        # Handles of resource objects collected while open, dropped at the next outermost
        # call (list.append is atomic, so `__del__` may add from any thread).
        self.orphans: list[wc.ResourceAny] = []
        self.outputs: list[_Output] = []  # WASI's stdout and stderr, to deliver
        self.hosted: dict[int, Any] = {}  # the host's objects the guest has handles to, by rep
        self.reps = itertools.count(1)

    def keep(self, obj: Any) -> int:
        """A rep for a host object handed to the guest."""
        rep = next(self.reps)
        self.hosted[rep] = obj
        return rep


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


def _wasip2(interface: str | None) -> bool:
    return interface is not None and interface.startswith("wasi:") and "@0.2." in interface


class _WasiConfig:
    """`sandlink.Wasi` as wasmtime's own WASI (`WasiConfig`): one config per Store."""

    def __init__(self, wasi: Any) -> None:
        from .wasi._cli import sink

        self.wasi = wasi
        self.stdin_file = None
        if wasi.stdin:  # wasmtime reads stdin only from a file
            self.stdin_file = tempfile.NamedTemporaryFile(prefix="sandlink-stdin-")
            self.stdin_file.write(wasi.stdin)
            self.stdin_file.flush()
        self.targets: dict[str, Any] = {
            name: target if target == "inherit" or callable(target) else sink(None, name)
            for name, target in (("stdout", wasi.stdout), ("stderr", wasi.stderr))
        }

    def config(self) -> tuple[wasmtime.WasiConfig, list[_Output]]:
        """A config for a new Store, and the outputs to deliver after each entry."""
        wasi, config = self.wasi, wasmtime.WasiConfig()
        config.argv = wasi.args
        config.env = list(wasi.env.items())
        if self.stdin_file is not None:
            config.stdin_file = self.stdin_file.name
        outputs = []
        for name, target in self.targets.items():
            if target == "inherit":
                getattr(config, f"inherit_{name}")()
            else:
                output = _Output(target)
                setattr(config, f"{name}_file", output.file.name)
                outputs.append(output)
        for guest, (host, writable) in wasi.preopens.items():
            config.preopen_dir(host, guest, writable)
        return config, outputs


class _Output:
    """A guest's stdout or stderr: wasmtime writes it to a file, and what it wrote is given
    to the target after each entry into the guest, on the calling thread. (Not wasmtime's
    custom-output callback: it runs on a runtime thread that can outlive the interpreter.)"""

    def __init__(self, target: Callable[[bytes], Any]) -> None:
        self.file = tempfile.NamedTemporaryFile(prefix="sandlink-output-")
        self.target = target
        self.delivered = 0

    def deliver(self) -> None:
        fd = self.file.fileno()
        size = os.fstat(fd).st_size
        if size > self.delivered:
            data = os.pread(fd, size - self.delivered, self.delivered)
            self.delivered += len(data)
            self.target(data)


class _HostFailed(Exception):
    """Stands in for a host function's exception while it crosses wasmtime-py."""


def _signature(params: Iterable[Param]) -> inspect.Signature:
    return inspect.Signature(
        [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for p in params]
    )


class OracleHost(Host):
    """A component instantiated through `wasmtime.component`, its exports as methods.

    Each thread gets its own instance. After any failed call (trap, or an exception raised
    by an import) the thread's instance is dropped and its next call runs in a fresh one:
    wasmtime refuses to re-enter a trapped instance. Resources made in the dropped instance
    are stale from then on.
    """

    backend = "oracle"

    def __init__(
        self,
        wasm: bytes,
        label: str,
        imports: Mapping[str, Mapping[str, Callable[..., Any]]] | None,
        classes: Mapping[str, type] | None,
        limits: Limits,
        wasi: Any = None,
    ) -> None:
        super().__init__(label, limits)
        self._wasi = None if wasi is None else _WasiConfig(wasi)
        try:
            self._component = wc.Component(self.engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise SandlinkError(f"invalid component: {exc}") from None
        reflection = self._reflection = Reflection(self._component, self.engine)
        self.exports = reflection.exports
        self.imports = reflection.imports
        self.record_classes = assign_record_classes([*self.exports, *self.imports], classes or {})
        for fn in self.exports:
            check_supported(fn, exported=True)
        for fn in self.imports:
            check_supported(fn, exported=False)
        self._linker = self._link(imports or {})
        items: dict[str | None, dict[str, Any]] = {}
        resources: list[ResourceType] = []
        for fn in self.exports:
            if fn.resource is not None and fn.resource not in resources:
                resources.append(fn.resource)
        for _, resource in reflection.resources:
            if resource.defined and resource not in resources:
                resources.append(resource)
        for resource in resources:
            resource.cls = self._resource_class(resource)
            items.setdefault(resource.interface, {})[resource.cls.__name__] = resource.cls
        for fn in self.exports:
            if fn.kind == "function":
                scope = items.setdefault(fn.interface, {})
                if fn.name in scope:
                    raise SandlinkError(f"export {fn.where}: {fn.name} clashes with another export")
                scope[fn.name] = self._method(fn)
        self.component = Component(self, f"component {label} (oracle)")
        self.interfaces = expose(self.component, items)
        interrupts.install()
        self._instance()  # link errors and start-function traps show up here

    # -- imports ----------------------------------------------------------------------------

    def _link(self, imports: Mapping[str, Mapping[str, Callable[..., Any]]]) -> wc.Linker:
        linker = wc.Linker(self.engine)
        declared = self.imports
        hosted = [r for _, r in self._reflection.resources if not r.defined]
        if self._wasi is not None:  # wasmtime's own WASI: what it implements is not ours
            linker.add_wasip2()
            declared = [f for f in declared if not _wasip2(f.interface)]
            hosted = [r for r in hosted if not _wasip2(r.interface)]
        for index, resource in enumerate(hosted):
            resource.index = index  # its wasmtime host type
        given = resolve_imports(declared, hosted, imports)
        missing = missing_imports(declared, hosted, given)
        if missing:
            raise SandlinkError(
                f"missing import: {', '.join(missing)}{wasi_hint(missing, self._wasi)}"
            )
        by_interface: dict[str | None, list[Function]] = {}
        for fn in declared:
            by_interface.setdefault(fn.interface, []).append(fn)
        for resource in hosted:
            by_interface.setdefault(resource.interface, [])
        with linker.root() as root:
            for interface, functions in by_interface.items():
                if interface is None:
                    self._define(root, interface, functions, hosted, given)
                else:
                    with root.add_instance(interface) as instance:
                        self._define(instance, interface, functions, hosted, given)
        return linker

    def _define(
        self,
        target: wc.LinkerInstance,
        interface: str | None,
        functions: list[Function],
        hosted: list[ResourceType],
        given: dict[Any, Any],
    ) -> None:
        for resource in hosted:
            if resource.interface == interface:
                target.add_resource(
                    resource.name or "", wc.ResourceType.host(resource.index), self._hosted_drop
                )
        for fn in functions:
            target.add_func(fn.wit_name, self._host_func(fn, given[(fn.interface, fn.wit_name)]))

    def _hosted_drop(self, _store: Any, rep: int) -> None:
        """The guest dropped its handle to a host object."""
        instance = getattr(self.local, "instance", None)
        if instance is not None and rep in instance.hosted:
            hosted_drop(instance.hosted.pop(rep))

    def _lift_hosted(self, store: Any) -> Callable[[ResourceType, Any], Any]:
        """How the host objects the guest passes (to a host function, or as a result) are
        found again."""
        instance = self.local.instance

        def lift(resource: ResourceType, handle: wc.ResourceAny) -> Any:
            host = handle.to_host(store)
            if host.type != resource.index:
                raise GuestTrap(f"a handle of another resource passed as {resource.describe()}")
            table = instance.hosted
            return table.pop(host.rep) if handle.owned else table[host.rep]

        return lift

    def _host_func(self, fn: Function, callback: Callable[..., Any]) -> Callable[..., Any]:
        local = self.local

        def host(_store: Any, *raw_args: Any) -> Any:
            try:
                lift = self._lift_hosted(_store)
                args = [
                    from_wasmtime(p.type, a, lift) for p, a in zip(fn.params, raw_args, strict=True)
                ]
                result = callback(*args)
                if fn.result is None:
                    return None
                hosted = _Lent(self.local.instance)
                return to_wasmtime(fn.result, result, f"result of {fn.where}", hosted)
            except BaseException as exc:
                # wasmtime-py lets a BaseException (KeyboardInterrupt) escape its ctypes
                # trampoline, which crashes the process: keep it, fail the call, re-raise later.
                instance = getattr(local, "instance", None)
                if instance is not None and instance.pending is None:
                    instance.pending = exc
                raise _HostFailed(fn.where) from None

        return host

    # -- exports ----------------------------------------------------------------------------

    def _instance(self) -> _Instance:
        """This thread's instance (made on first use, and again after a trap)."""
        instance = getattr(self.local, "instance", None)
        if instance is not None:
            result: _Instance = instance
            return result
        instance = _Instance(self.limits.timeout)
        self.local.instance = instance
        store = wasmtime.Store(self.engine)
        if self._wasi is not None:
            config, instance.outputs = self._wasi.config()
            store.set_wasi(config)
        if self.limits.memory is not None:
            store.set_limits(memory_size=self.limits.memory)
        instance.watch(store, self.engine_handle)
        self._enter(instance, store)
        try:
            component = self._linker.instantiate(store, self._component)
        except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
            raise self._failed(instance, exc) or SandlinkError(str(exc)) from None
        except BaseException:
            self._discard(instance)
            raise
        finally:
            for output in instance.outputs:
                output.deliver()  # what start functions wrote
        funcs = {}
        for fn in self.exports:
            parent = (
                None if fn.interface is None else component.get_export_index(store, fn.interface)
            )
            index = component.get_export_index(store, fn.wit_name, parent)
            func = None if index is None else component.get_func(store, index)
            if func is None:
                self._discard(instance)
                raise SandlinkError(f"export {fn.where} not found in the instance")
            funcs[fn] = func
        instance.store, instance.funcs = store, funcs
        return instance

    def _method(self, fn: Function, this: bool = False) -> Callable[..., Any]:
        params = fn.params[1:] if this else fn.params
        signature = _signature(params)

        def method(obj: Any, /, *args: Any, **kwargs: Any) -> Any:
            arguments = {fn.params[0].name: obj, **signature.bind(*args, **kwargs).arguments}
            return self._invoke(fn, arguments)

        def function(*args: Any, **kwargs: Any) -> Any:
            return self._invoke(fn, signature.bind(*args, **kwargs).arguments)

        call = method if this else function

        call.__name__ = call.__qualname__ = fn.name
        call.__doc__ = f"Calls `{fn.where}` through wasmtime.component."
        public = signature
        if this:
            this_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
            public = signature.replace(parameters=[this_param, *signature.parameters.values()])
        call.__signature__ = public  # type: ignore[attr-defined]
        return call

    def _resource_class(self, resource: ResourceType) -> type[ResourceObject]:
        name = class_name(resource.name or "resource")
        where = f"{resource.interface}#{resource.name}" if resource.interface else resource.name
        namespace: dict[str, Any] = {
            "__slots__": (),
            "__module__": "sandlink.resources",
            "__qualname__": name,
            "__doc__": f"WIT resource `{where}`, called through wasmtime.component.",
            "_api": self,
            "_resource": resource,
        }
        for fn in self.exports:
            if fn.resource is not resource:
                continue
            if fn.kind == "constructor":
                constructor = self._method(fn)
                namespace["_constructor"] = staticmethod(constructor)
                namespace["__signature__"] = constructor.__signature__  # type: ignore[attr-defined]
                continue
            method = fn.name + "_" if fn.name in ("close", "closed", "check_live") else fn.name
            if method in namespace:
                raise SandlinkError(f"export {fn.where}: {name}.{method} is defined twice")
            if fn.kind == "static":
                namespace[method] = staticmethod(self._method(fn))
            elif not fn.params or not isinstance(fn.params[0].type, Borrow):
                raise UnsupportedTypeError(f"export {fn.where}: a method without a self")
            else:
                namespace[method] = self._method(fn, this=True)
        return type(name, (ResourceObject,), namespace)

    def _enter(self, instance: _Instance, store: wasmtime.Store) -> None:
        """Give the next entry into the guest its full time and fuel budget."""
        instance.calls += 1
        if self.limits.fuel is not None:
            store.set_fuel(self.limits.fuel)

    def _check_fits(self, args: Iterable[Any]) -> None:
        """An argument bigger than the memory limit cannot be lowered: say so up front."""
        cap = self.limits.memory
        if cap is None:
            return
        for value in args:
            if isinstance(value, (bytes, bytearray, memoryview, str)) and len(value) > cap:
                raise MemoryLimitExceeded(
                    f"{len(value)} bytes do not fit in the {cap}-byte memory limit"
                )

    def _invoke(self, fn: Function, arguments: Mapping[str, Any]) -> Any:
        self._check_fits(arguments.values())
        instance = self._instance()
        if instance.depth:
            raise SandlinkError(
                f"{fn.where} was called from a host callback of the same component on the same "
                "thread: a component instance cannot be re-entered while it runs"
            )
        self._drop_orphans(instance)  # first: a failing drop discards the instance
        instance = self._instance()
        lent = _Lent(instance)  # (the host's own objects become handles of this instance)
        raw_args = [to_wasmtime(p.type, arguments[p.name], p.name, lent) for p in fn.params]
        store = instance.store
        assert store is not None
        self._enter(instance, store)
        instance.depth += 1
        try:
            raw = self._guest(instance, lambda: instance.funcs[fn](store, *raw_args))
        finally:
            instance.depth -= 1
            for obj in lent.owned:
                obj._given_away()
        if fn.result is None:
            return None
        hosted = self._lift_hosted(store)

        def lift(resource: ResourceType, handle: wc.ResourceAny) -> Any:
            if not resource.defined:  # the host's own object, given back
                return hosted(resource, handle)
            return resource.cls._wrap(instance, handle)  # type: ignore[union-attr]

        return from_wasmtime(fn.result, raw, lift)

    def _guest(self, instance: _Instance, run: Callable[[], Any]) -> Any:
        """Run guest code of `instance`; a failure discards it and raises what happened."""
        try:
            return run()
        except BaseException as exc:
            error = self._failed(instance, exc)
            if error is None:
                raise
            raise error from None
        finally:
            for output in instance.outputs:
                output.deliver()

    def _discard(self, instance: _Instance) -> None:
        instance.retired = True
        instance.forget()
        if getattr(self.local, "instance", None) is instance:
            self.local.instance = None

    def _failed(self, instance: _Instance, exc: BaseException) -> BaseException | None:
        """Discards the instance after a failed entry; the exception to raise for `exc`
        (None: re-raise `exc` itself)."""
        # A trap (or an import's exception, which wasmtime turns into one) poisons the
        # instance: drop it so the next call gets a fresh one.
        self._discard(instance)
        pending, instance.pending = instance.pending, None
        if pending is not None:
            return pending
        if isinstance(exc, wasmtime.ExitTrap):
            return GuestExit(exc.code)
        if isinstance(exc, wasmtime.Trap):
            message = exc.message
            code = None if exc.trap_code is None else exc.trap_code.name
        elif isinstance(exc, wasmtime.WasmtimeError):
            message = str(exc)
            code = _trap_code(message)
            if "exceeds memory limits" in message:
                return MemoryLimitExceeded(
                    f"the component needs more memory than its limit: {message}"
                )
        else:
            return None
        if instance.timed_out:
            code = "INTERRUPT"
        return self.limits.exceeded(code) or GuestTrap(message, code)

    # -- resource drops ---------------------------------------------------------------------

    def _close_resource(self, obj: ResourceObject) -> None:
        why = obj._stale_reason()
        if why is not None:
            if obj._handle is not None:  # alive, but another thread's
                raise StaleResourceError(f"this {type(obj).__name__} cannot be closed: {why}")
            return
        handle, instance = obj._handle, obj._owner
        obj._handle, obj._why = None, "it was closed"
        assert handle is not None
        if instance.depth:  # inside a call (an import closing it): drop it afterwards
            instance.orphans.append(handle)
            return
        self._drop_orphans(instance)
        if not instance.retired:  # unless an orphan's drop just discarded it
            self._drop(instance, handle)

    def _drop(self, instance: _Instance, handle: wc.ResourceAny) -> None:
        """Runs the resource's destructor (guest code, so under the call limits)."""
        store = instance.store
        assert store is not None
        try:
            self._enter(instance, store)
            self._guest(instance, lambda: handle.drop(store))
        finally:
            handle.close()

    def _drop_orphans(self, instance: _Instance) -> None:
        """Drops the handles of resource objects collected while open."""
        while instance.orphans and not instance.retired:
            handle = instance.orphans.pop()
            try:
                self._drop(instance, handle)
            except SandlinkError:
                pass  # its destructor trapped: the instance is discarded, nothing to report to
