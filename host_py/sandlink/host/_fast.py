"""The fast host: a component run the way its own structure says, called with raw calls.

The component stays the artifact and WIT the contract. At load, `_structure` reads the
component binary into its instantiation graph; every core module is compiled (or taken
from the cache); every core function the host will call or define raw is checked against
the type the canonical ABI gives it; and every export and import is compiled to Python
from its WIT types (`_codegen`). Nothing is called raw whose type was not checked.

Each thread gets its own `Session`: a Store, the core instances the graph describes,
the host functions of its imports (which find their session from the store that calls
them), a handle table per resource type, and the ABI contexts (memory + realloc) its
functions use. A trap discards the thread's session; the next call makes a new one.

On the compiled call path (`ffi.accel`) an export whose types the extension carries is an
`_accel.Export` instead of generated Python (`_compiles`), and sessions are
`CompiledSession`s, whose `core` the extension reads.
"""

from __future__ import annotations

import ctypes
import functools
import itertools
import marshal
import struct
import threading
import types
import weakref
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import wasmtime

try:  # the C pickler: `pickle` itself costs ~1 ms of startup and is only its wrapper
    import _pickle
except ImportError:  # pragma: no cover - other Pythons
    import pickle as _pickle  # type: ignore[no-redef]

from . import _ffi as ffi
from . import _interrupts as interrupts
from ._cache import Cache, sha256
from ._codegen import (
    CLOCK_EVERY,
    LIFT_BUDGET_FACTOR,
    Emitter,
    Plan,
    export_source,
    import_source,
)
from ._engine import CLOCKS, Clock, deadline_error
from ._errors import GuestTrap, MemoryLimitExceeded, SandlinkError
from ._exports import Component, Host, expose
from ._limits import Limits
from ._resources import HELPERS as RESOURCE_HELPERS
from ._resources import GuestResource, HandleTable, hosted_drop
from ._runtime import HELPERS, OutOfView
from ._structure import (
    CoreRef,
    CoreType,
    Function,
    ModuleInfo,
    Options,
    Structure,
    assign_record_classes,
    missing_imports,
    resolve_imports,
    wasi_hint,
)
from ._types import ResourceType, class_name

_SIZES = [ctypes.c_size_t(n) for n in range(40)]
# The compiled imports' host function (`_accel.Import`: its env says which one).
# The compiled path's native host functions: compiled imports, and the guards of Python
# callbacks (the epoch deadline's, the resource intrinsics') that no exception escapes.
if ffi.accel is not None:
    _COMPILED_IMPORT = ffi.UncheckedCallback(ffi.accel.import_trampoline())
    _deadline_address, _callback_address = ffi.accel.guarded_trampolines()
    _GUARDED_DEADLINE = ffi.DeadlineCallback(_deadline_address)
    _GUARDED_CALLBACK = ffi.UncheckedCallback(_callback_address)
_RAW_SLOT = ctypes.c_uint64 * 2
_LIFT_ERRORS = (OutOfView, struct.error, UnicodeDecodeError, IndexError)
_CORE_VALTYPES = {
    "i32": wasmtime.ValType.i32,
    "i64": wasmtime.ValType.i64,
    "f32": wasmtime.ValType.f32,
    "f64": wasmtime.ValType.f64,
}


def _core_type(ty: Any) -> CoreType:
    if isinstance(ty, wasmtime.FuncType):
        return CoreType("func", tuple(map(str, ty.params)), tuple(map(str, ty.results)))
    if isinstance(ty, wasmtime.MemoryType):
        return CoreType("memory", memory64=ty.is_64)
    if isinstance(ty, wasmtime.TableType):
        return CoreType("table")
    if isinstance(ty, wasmtime.GlobalType):
        return CoreType("global")
    return CoreType(type(ty).__name__)


def _module_info(module: wasmtime.Module) -> ModuleInfo:
    return ModuleInfo(
        tuple((i.module, i.name or "", _core_type(i.type)) for i in module.imports),
        {e.name: _core_type(e.type) for e in module.exports},
    )


def _func_type(ty: CoreType) -> wasmtime.FuncType:
    return wasmtime.FuncType(
        [_CORE_VALTYPES[t]() for t in ty.params], [_CORE_VALTYPES[t]() for t in ty.results]
    )


# -- raw callbacks: each starts with `try:` (see _interrupts) and never lets anything escape


def _keepable(exc: BaseException) -> BaseException:
    """`exc` without the frames of sandlink's generated code at the head of its traceback:
    they hold views of memory (guest memory, wasmtime's call buffers) that must not outlive
    the call. The frames of the host's own code (a callback that raised) stay."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith("<sandlink"):
        tb = tb.tb_next
    return exc.with_traceback(tb)


def _trap_from(session: Session | None, exc: BaseException, what: str, env: int = 0) -> int:
    """The trap a raw host function returns for `exc`, kept to be raised by the call (by
    the session of clock `env` when the exception came before the session was found: on
    Python 3.10 a signal's handler can run at a callback's first line, inside its guard)."""
    try:
        if session is None:
            session = CLOCKS.get(env)  # type: ignore[assignment]
        if session is not None and session.pending is None:
            session.pending = _keepable(exc)
        return ffi.new_trap(f"sandlink: {what} failed ({type(exc).__name__})")
    except BaseException:
        return ffi.new_trap("sandlink: a host function failed")


def _intrinsic(kind: str, resource: int, dtor: int | None, hosted: bool) -> Callable[..., int]:
    """The raw host function for `resource.new`, `resource.rep` or `resource.drop` (of a
    resource the host implements (`hosted`): only drop, which closes the host's object)."""

    @interrupts.callback_entry
    def intrinsic(env: int, caller: int, raw: int, n: int, _s: Any = None) -> int:
        try:
            _s = CLOCKS[env]
            if interrupts.DEFERRED:
                interrupts.raise_deferred()
            slot = _RAW_SLOT.from_address(raw)
            value = slot[0] & 0xFFFFFFFF
            table = _s.tables[resource]
            if kind == "new":
                slot[0] = table.add(value)
            elif kind == "rep":
                slot[0] = table.get(value)
            else:
                rep = table.remove(value)
                if hosted:
                    _s.in_host += 1
                    try:
                        hosted_drop(rep)
                    finally:
                        _s.in_host -= 1
                elif dtor is not None:  # nested in the guest's call: no new clock
                    _s.call_raw(dtor, (rep,), ctypes.c_void_p(ffi.caller_context(caller)))
            return 0
        except BaseException as exc:
            exc.__traceback__ = None  # its frame holds a view of wasmtime's call buffer
            return _trap_from(_s, exc, f"resource.{kind}", env)

    return intrinsic


# -- sessions


class Abi:
    """One memory and its realloc, as one session sees them (a canonical ABI context)."""

    __slots__ = (
        "_alloc",
        "_alloc_call",
        "_alloc_slots",
        "base",
        "m",
        "memory",
        "realloc",
        "session",
        "size",
    )

    def __init__(self, session: Session, memory: wasmtime.Memory | None, realloc: int | None):
        self.session = session
        self.memory = None if memory is None else ffi.memory_address(memory)
        self.realloc = None if realloc is None else session.funcs[realloc]
        buffer = (ctypes.c_uint64 * 10)()  # 4 args / 1 result, then the trap slot
        self._alloc_slots = memoryview(buffer).cast("B").cast("Q")
        self._alloc = (
            buffer,
            ctypes.c_void_p(ctypes.addressof(buffer)),
            ctypes.c_void_p(ctypes.addressof(buffer) + 64),
        )
        self._alloc_call = None  # the compiled realloc call
        if session.host.compiled and self.realloc is not None:
            args, trap = self._alloc[1:]
            self._alloc_call = ffi.accel.RawCall(
                session.ctx.value, self.realloc.value, args.value, 4, trap.value
            )
        self.size = -1
        self.base = 0
        self.m = memoryview(b"")
        if self.memory is not None:
            self.sync(session.ctx)

    def sync(self, ctx: Any) -> None:
        """Refresh the view to the memory's current length (it never moves)."""
        if self.memory is None:
            return
        size = ffi.memory_data_size(ctx, self.memory)
        if size != self.size:
            self.base = ffi.memory_data(ctx, self.memory)
            array = (ctypes.c_ubyte * size).from_address(self.base)
            array.keep_alive = self.session  # and so its Store
            self.m = memoryview(array).cast("B")
            self.size = size

    def alloc(self, ctx: Any, size: int, align: int) -> int:
        """`cabi_realloc(0, 0, align, size)`; the view covers the new block on return."""
        if self.realloc is None:
            raise SandlinkError("this function has no realloc option, so it cannot allocate")
        slots = self._alloc_slots
        slots[0], slots[2], slots[4], slots[6] = 0, 0, align, size
        call = self._alloc_call
        if call is None:
            _, args, trap = self._alloc
            error = ffi.func_call_unchecked(ctx, self.realloc, args, _SIZES[4], trap)
        else:  # inside a host function, `ctx` is its caller's context
            error = call() if ctx is self.session.ctx else call.within(ctx.value)
        if error or slots[8]:
            self.session.fail(error, slots, 8)
        ptr = slots[0] & 0xFFFFFFFF
        if ptr & (align - 1):
            self.session.fail(None, why=f"realloc returned {ptr:#x}, not aligned to {align}")
        if ptr + size > self.size:
            self.sync(ctx)
            if ptr + size > self.size:
                self.session.fail(None, why="realloc returned a block outside memory")
        return ptr

    def check_range(self, ctx: Any, ptr: int, size: int, align: int) -> None:
        """A return area the guest passed: aligned and inside memory, or a trap."""
        if ptr & (align - 1):
            raise GuestTrap(f"guest return area {ptr:#x} is not aligned to {align} bytes")
        if ptr + size > self.size:
            self.sync(ctx)
            if ptr + size > self.size:
                raise GuestTrap(f"guest return area {ptr:#x}+{size} is outside its memory")

    def pin(self, address: int, length: int) -> memoryview:
        """A writable view of guest memory that keeps its Store (so the memory) alive.

        Memory never moves, so the view stays valid as the guest grows its memory; holding
        the session means it can never point at freed memory, even after a trap.
        """
        if address + length > self.size:
            self.sync(self.session.ctx)
            if address + length > self.size:
                raise GuestTrap(f"guest range {address}+{length} is outside its memory")
        array = (ctypes.c_ubyte * length).from_address(self.base + address)
        array.keep_alive = self.session  # type: ignore[attr-defined]
        return memoryview(array).cast("B")


class Session(Clock):
    """One thread's Store and instance, and the raw-call buffers that go with them."""

    __slots__ = (
        "__weakref__",
        "_buffer",
        "_keep",
        "abi",
        "call_args",
        "call_trap",
        "ctx",
        "funcs",
        "host",
        "in_host",
        "instances",
        "orphans",
        "raw",
        "retired",
        "slots",
        "store",
        "tables",
        "thread",
        "trap_slot",
    )
    ctx: ctypes.c_void_p  # the store's context (what raw calls take)

    def __init__(self, host: FastHost) -> None:
        super().__init__(host.limits.timeout)
        self.host = host
        self.thread = threading.current_thread()
        self.retired = False
        self.in_host = 0  # host callbacks running on this session (the guest is active)
        self.orphans: list[tuple[int, int]] = []  # (destructor, rep) of collected resources
        limits = host.limits
        self.tables = [HandleTable(r.describe(), limits.handles) for r in host.structure.resources]
        self.store = store = wasmtime.Store(host.engine)
        self.ctx = ctypes.c_void_p(ffi.store_context(store))
        if limits.memory is not None:
            store.set_limits(memory_size=limits.memory)
        self.trap_slot = 2 * host.slot_count
        self._buffer = (ctypes.c_uint64 * (self.trap_slot + 2))()
        self.slots = memoryview(self._buffer).cast("B").cast("Q")
        self.call_args = ctypes.c_void_p(ctypes.addressof(self._buffer))
        self.call_trap = ctypes.c_void_p(ctypes.addressof(self._buffer) + 8 * self.trap_slot)
        self.instances: list[wasmtime.Instance] = []
        self.funcs: list[ctypes.c_void_p | None] = [None] * len(host.raw_refs)
        self.raw: list[Any] = [None] * len(host.raw_refs)  # compiled calls of `funcs`
        self.abi: list[Abi | None] = [None] * len(host.abi_keys)
        self._keep: list[Any] = []  # the wasmtime objects whose structs raw calls point at
        try:
            self.watch(store, host.engine_handle)
            self._instantiate()
        except BaseException:
            self.retire()
            raise

    def _instantiate(self) -> None:
        host = self.host
        if host.limits.fuel is not None:
            self.store.set_fuel(host.limits.fuel)
        self.calls += 1  # start functions run under the same clock as a call
        hosted: dict[CoreRef, wasmtime.Func] = {}
        for step in host.structure.steps:
            externs = [self._extern(ref, hosted) for ref in step.imports]
            try:
                instance = wasmtime.Instance(self.store, host.modules[step.module], externs)
            except (wasmtime.Trap, wasmtime.WasmtimeError) as exc:
                raise self._error(exc) from None
            self.instances.append(instance)
        for i, ref in enumerate(host.raw_refs):
            if self.funcs[i] is None:
                self._raw(i, self._extern(ref, hosted))
        for i in range(len(self.abi)):
            self.abi_at(i)

    def _error(self, exc: wasmtime.Trap | wasmtime.WasmtimeError) -> BaseException:
        pending, self.pending = self.pending, None
        if pending is not None:
            return pending
        if isinstance(exc, wasmtime.Trap):
            code = None if exc.trap_code is None else exc.trap_code.name
            return self.host.trap_error(str(exc.message), code, self)
        message = str(exc)
        if "exceeds memory limits" in message:
            return MemoryLimitExceeded(f"the component needs more memory than its limit: {message}")
        return self.host.trap_error(message, None, self)

    def _extern(self, ref: CoreRef, hosted: dict[CoreRef, wasmtime.Func]) -> Any:
        if ref.kind == "export":
            return self.instances[ref.index].exports(self.store)[ref.name]
        func = hosted.get(ref)
        if func is None:
            host = self.host
            abi = None
            if ref.kind == "lower":
                index = host.lowered_abi[ref.index]
                if index is not None:
                    abi = self.abi_at(index)
            callback, ty = host.callbacks[ref]
            callback, env = self._host_function(ref, callback, abi)
            func = hosted[ref] = ffi.func_new(self.store, ty, callback, env)
            raw = host.raw_index.get(ref)
            if raw is not None:
                self._raw(raw, func)
        return func

    def _host_function(self, ref: CoreRef, callback: Any, abi: Abi | None) -> tuple[Any, int]:
        """The raw host function for `ref` in this session's store, and its env (for a
        Python one, this session's clock id: it finds the session by it)."""
        return callback, self.id

    def _raw(self, index: int, func: wasmtime.Func) -> None:
        self._keep.append(func)
        address = ffi.func_address(func)
        self.funcs[index] = ctypes.c_void_p(address)
        if self.host.compiled:
            self.raw[index] = ffi.accel.RawCall(
                self.ctx.value,
                address,
                self.call_args.value,
                self.host.raw_lengths[index],
                self.call_trap.value,
            )

    def abi_at(self, index: int) -> Abi:
        abi = self.abi[index]
        if abi is None:
            memory_ref, realloc_ref = self.host.abi_keys[index]
            memory: Any = None
            if memory_ref is not None:
                memory = self.instances[memory_ref.index].exports(self.store)[memory_ref.name]
                self._keep.append(memory)
            realloc = None if realloc_ref is None else self.host.raw_index[realloc_ref]
            if realloc is not None and self.funcs[realloc] is None:
                hosted: dict[CoreRef, Any] = {}
                self._raw(realloc, self._extern(realloc_ref, hosted))  # type: ignore[arg-type]
            abi = self.abi[index] = Abi(self, memory, realloc)
        return abi

    def memory_size(self) -> int:
        """The size of the largest linear memory of this instance (any core module's)."""
        sizes = [
            extern.data_len(self.store)
            for instance in self.instances
            for extern in instance.exports(self.store).values()
            if isinstance(extern, wasmtime.Memory)
        ]
        return max(sizes, default=0)

    # -- failing

    def retire(self) -> None:
        """Never use this instance again (its resources go stale with it)."""
        self.retired = True
        self.forget()
        local = self.host.local
        if getattr(local, "s", None) is self:
            del local.s

    def fail(
        self, error: int | None, slots: Any = None, trap_slot: int | None = None, why: str = ""
    ) -> None:
        """A raw call failed: retire this session and raise what happened."""
        slots = self.slots if slots is None else slots
        trap_slot = self.trap_slot if trap_slot is None else trap_slot
        trap, slots[trap_slot] = slots[trap_slot], 0
        self.fail_with(error or 0, trap, why)

    def fail_with(self, error: int, trap: int, why: str = "") -> NoReturn:
        """A raw call failed with `error` (a wasmtime_error_t*) or `trap` (a wasm_trap_t*,
        taken over) or, if neither, for `why`: retire this session and raise."""
        self.retire()
        pending, self.pending = self.pending, None
        if trap:
            message, code = ffi.trap_from_address(trap)
        elif error:
            message, code = str(ffi.error_from_address(error)), None
        else:
            message, code = why or "guest call failed", None
        if pending is not None:
            raise pending
        raise self.host.trap_error(message, code, self)

    def lift_failed(self, exc: BaseException) -> None:
        """Lifting a flat result failed: the guest broke the ABI."""
        self.retire()
        exc.__traceback__ = None  # its frames hold views of guest memory: let them go now
        raise _lift_error(exc) from None

    def lift_again(self, lift: Callable[..., Any], abi: Abi, arg: Any, exc: BaseException) -> Any:
        """After a first lift failed with `exc`: if the guest only pointed past the host's
        view (its memory grew during the call), refresh the view and lift again; else, or
        if it fails again, the guest broke the ABI: retire this session and raise."""
        if isinstance(exc, OutOfView):
            abi.sync(self.ctx)
            try:
                return lift(self, abi.m, arg)
            except BaseException as again:
                exc = again
        self.retire()
        raise _lift_error(exc) from None

    # -- entering the guest outside an export call

    def call_raw(self, index: int, args: tuple[int, ...], ctx: Any = None) -> int:
        """Call raw function `index` with i32 arguments; return its first result slot."""
        trap_slot = 2 * max(len(args), 1)
        buffer = (ctypes.c_uint64 * (trap_slot + 2))(*(v for a in args for v in (a, 0)))
        address = ctypes.addressof(buffer)
        error = ffi.func_call_unchecked(
            ctx or self.ctx,
            self.funcs[index],
            ctypes.c_void_p(address),
            _SIZES[max(len(args), 1)],
            ctypes.c_void_p(address + 8 * trap_slot),
        )
        if error is not None or buffer[trap_slot]:
            self.fail(error, buffer, trap_slot)
        return buffer[0]

    def enter(self) -> None:
        """A fresh clock and fuel for an entry into the guest from the host."""
        self.calls += 1
        fuel = self.host.limits.fuel
        if fuel is not None:
            self.store.set_fuel(fuel)

    def destroy(self, dtor: int, rep: int) -> None:
        """Run a destructor for the host (close() or a collected object), under the limits."""
        self.drop_orphans()
        if not self.retired:
            self.enter()
            self.call_raw(dtor, (rep,))

    def drop_orphans(self) -> None:
        """Run the destructors of resources that were garbage-collected unclosed."""
        while self.orphans and not self.retired and not self.in_host:
            dtor, rep = self.orphans.pop()
            self.enter()
            self.call_raw(dtor, (rep,))


def _in_core(name: str) -> Any:
    """A session attribute kept in its `core` (`_accel.SessionCore`) instead."""
    return property(
        lambda session: getattr(session.core, name),
        lambda session, value: setattr(session.core, name, value),
    )


class CompiledSession(Session):
    """A session of a host on the compiled call path: its `core` (`_accel.SessionCore`)
    holds what the compiled exports read on every call, the counters included."""

    __slots__ = ("core",)

    def __init__(self, host: FastHost) -> None:
        self.core = ffi.accel.SessionCore(self, host.serial)  # first: it holds the counters
        super().__init__(host)
        self.core.start(
            self.ctx.value,
            [0 if f is None else f.value for f in self.funcs],
            self.call_args.value,
            self.trap_slot,
            [(a.memory or 0, a.realloc.value if a.realloc else 0) for a in self.abi],  # type: ignore[union-attr]
            [table.reps for table in self.tables],
        )

    # The counters and the kept exception live in the core, where the extension reads them.
    calls = _in_core("calls")
    in_host = _in_core("in_host")
    pending = _in_core("pending")

    @property
    def retired(self) -> bool:  # also when the extension retired it (see _accel's guest.fail)
        result: bool = self.core.retired
        return result

    @retired.setter
    def retired(self, value: bool) -> None:
        if value:
            self.core.retire()

    def on_deadline(self, store: wasmtime.Store) -> None:
        # Behind a native guard: nothing escapes it as a garbage pointer (see _accel's guard).
        ffi.on_epoch_deadline(store, _GUARDED_DEADLINE, self.core.guard(deadline_error, self.id))

    def _host_function(self, ref: CoreRef, callback: Any, abi: Abi | None) -> tuple[Any, int]:
        if isinstance(callback, ffi.accel.Import):
            # A compiled import: its env says which import, session and ABI context.
            env = self.core.bind_import(
                callback,
                (abi and abi.memory) or 0,
                abi.realloc.value if abi and abi.realloc else 0,
            )
            return _COMPILED_IMPORT, env
        python = self.host.intrinsics.get(ref)
        if python is not None:  # a resource intrinsic: behind a native guard too
            return _GUARDED_CALLBACK, self.core.guard(python, self.id)
        return callback, self.id

    def retire(self) -> None:
        self.core.retire()
        super().retire()


_EMPTY = memoryview(b"")


def _lift_error(exc: BaseException) -> BaseException:
    if isinstance(exc, OutOfView):
        return GuestTrap("guest data points outside its memory")
    if isinstance(exc, UnicodeDecodeError):
        return GuestTrap(f"guest string is not valid {exc.encoding}")
    if isinstance(exc, (struct.error, IndexError)):
        return GuestTrap("guest data points outside its memory")
    return exc


# -- helpers of generated code that need the host


def _reentered(where: str) -> SandlinkError:
    return SandlinkError(
        f"{where} was called from a host callback of the same component on the same thread: "
        "a component instance cannot be re-entered while it runs"
    )


def _too_big(need: int, cap: int) -> MemoryLimitExceeded:
    return MemoryLimitExceeded(
        f"{need} bytes of arguments do not fit in the {cap}-byte memory limit"
    )


class FastHost(Host):
    """A component loaded on the fast host: the state behind its exports."""

    backend = "wasm"

    def __init__(
        self,
        wasm: bytes,
        label: str,
        imports: Mapping[str, Mapping[str, Callable[..., Any]]] | None,
        classes: Mapping[str, type] | None,
        limits: Limits,
        cache: Cache,
        compiled: bool,
        wasi: Any = None,
    ) -> None:
        super().__init__(label, limits)
        self.cache = cache
        self.compiled = compiled  # calls go through the compiled call path (`ffi.accel`)
        self.serial = next(_SERIALS)  # names this host to the compiled path's sessions
        # What calls need besides the type helpers, on either call path.
        self._call_helpers = {
            **RESOURCE_HELPERS,
            "_reentered": _reentered,
            "_too_big": _too_big,
            "_BUDGET": min(limits.memory or 1 << 62, 1 << 62),  # beyond any 4x-memory budget
            "_spend": functools.partial(_spend, limits.memory),
        }
        self._accel_helpers: Any = None
        digest, key = sha256(wasm).hexdigest(), self.engine_handle.key
        structure, self.modules = load_structure(wasm, self.engine, key, cache)
        self.structure = structure
        self._codes = _load_codes(cache, digest, key)
        self._new_codes = 0
        self.exports, self.imports = structure.exports, structure.imports
        functions = [
            *structure.exports,
            *structure.imports,
            *(lw.function for lw in structure.lowered),
        ]
        self.record_classes = assign_record_classes(functions, classes or {})
        self.resource_classes = {
            r.index: _resource_class(r) for r in structure.resources if r.defined
        }
        self.raw_refs: list[CoreRef] = []
        self.raw_index: dict[CoreRef, int] = {}
        self.abi_keys: list[tuple[CoreRef | None, CoreRef | None]] = []
        self.slot_count = 1
        self.callbacks: dict[CoreRef, tuple[Any, wasmtime.FuncType]] = {}
        # The resource intrinsics' Python functions (what compiled sessions guard natively).
        self.intrinsics: dict[CoreRef, Callable[..., int]] = {}
        self.lowered_abi: list[int | None] = []
        hosted = [r for r in structure.resources if not r.defined]
        given_imports: Mapping[str, Mapping[str, Any]] = imports or {}
        self.wasi: Any = None
        if wasi is not None:  # imported only then: WASI costs nothing to those without it
            from .wasi._context import Context

            self.wasi = Context(wasi, limits.timeout, limits.memory)
            given_imports = self.wasi.with_imports(structure.imports, hosted, given_imports)
        given = resolve_imports(structure.imports, hosted, given_imports)
        missing = missing_imports(structure.imports, hosted, given)
        if missing:
            raise SandlinkError(f"missing import: {', '.join(missing)}{wasi_hint(missing, wasi)}")
        self._define_imports(
            [
                self._caller(lw.function, nested=True)
                if lw.function.core is not None  # a composed component's own function
                else given[(lw.function.interface, lw.function.wit_name)]
                for lw in structure.lowered
            ]
        )
        for resource in structure.resources:
            dtor = None if resource.dtor is None else self._raw_ref(resource.dtor)
            if resource.defined:
                resource.cls._dtor = dtor  # type: ignore[union-attr]
            for kind in ("new", "rep", "drop") if resource.defined else ("drop",):
                ref = CoreRef("intrinsic", resource.index, kind)
                python = self.intrinsics[ref] = _intrinsic(
                    kind, resource.index, dtor, not resource.defined
                )
                callback = ffi.UncheckedCallback(python)
                self.callbacks[ref] = (callback, _func_type(_intrinsic_type(kind)))
        items = self._compile_exports()
        # Raw slots each raw function's calls use; the session's buffer holds the most.
        self.raw_lengths = [
            max(len(t.params), len(t.results))
            for t in (structure.ref_types[ref] for ref in self.raw_refs)
        ]
        self.slot_count = max([self.slot_count, *self.raw_lengths])
        if self._new_codes:
            cache.write("code", digest, key, marshal.dumps(self._codes))
        self.component = Component(self, f"component {label} (wasm)")
        self.interfaces = expose(self.component, items)
        interrupts.install()
        self.session()  # instantiate now: link errors and start-function traps surface here

    # -- loading

    def _raw_ref(self, ref: CoreRef) -> int:
        index = self.raw_index.get(ref)
        if index is None:
            index = self.raw_index[ref] = len(self.raw_refs)
            self.raw_refs.append(ref)
        return index

    def _abi(self, memory: CoreRef | None, realloc: CoreRef | None) -> int | None:
        if memory is None and realloc is None:
            return None
        if realloc is not None:
            self._raw_ref(realloc)
        key = (memory, realloc)
        if key not in self.abi_keys:
            self.abi_keys.append(key)
        return self.abi_keys.index(key)

    def _emitter(self, encoding: str) -> Emitter:
        limits = self.limits
        em = Emitter(encoding, budget=True, compiled=self.compiled)
        em.globals.update(self._call_helpers)
        em.globals.update(
            _local=self.local,
            _session=self.session,
            _CALL=ffi.func_call_unchecked,
            _SIZES=_SIZES,
            _SET_FUEL=ffi.set_fuel,
            _FUEL=ctypes.c_uint64(limits.fuel or 0),
            _SESSIONS=CLOCKS,
            _DEFERRED=interrupts.DEFERRED,
            _raise_deferred=interrupts.raise_deferred,
            _trap_from=_trap_from,
            _c_void_p=ctypes.c_void_p,
            _caller_context=ffi.caller_context,
            _EMPTY=_EMPTY,
        )
        return em

    def _define_imports(self, targets: list[Callable[..., Any]]) -> None:
        for i, lowered in enumerate(self.structure.lowered):
            fn, options = lowered.function, lowered.options
            abi = self._abi(options.memory, options.realloc)
            self.lowered_abi.append(abi)
            ref = CoreRef("lower", i, "")
            ty = self.structure.ref_types[ref]
            if self.compiled and _compiles(fn):
                # Each session binds it to its store (`Session._extern`).
                compiled = self._compiled_import(fn, options, targets[i])
                self.callbacks[ref] = (compiled, _func_type(ty))
                continue
            em = self._emitter(options.encoding)
            source, n_raw = import_source(fn, abi, em, cap=self.limits.memory)
            em.globals.update(_TARGET=targets[i], _RAW=ctypes.c_uint64 * (2 * n_raw))
            trampoline = self._build(em, source, "_trampoline", f"import {fn.where}")
            interrupts.callback_entry(trampoline)
            self.callbacks[ref] = (ffi.UncheckedCallback(trampoline), _func_type(ty))

    def _compiled_import(self, fn: Function, options: Options, target: Callable[..., Any]) -> Any:
        """The compiled path's host function for import `fn` (`_accel.Import`)."""
        flat_params, flat_results = fn.type.flat_params(), fn.type.flat_results()
        spilled, by_pointer = fn.type.spills()
        params_raw = 1 if spilled else len(flat_params)
        plan = types.SimpleNamespace(
            where=fn.where,
            target=target,
            helpers=self._accel(),
            signature=_accel_signature(fn, options),
            params_raw=params_raw,
            n_raw=max(params_raw + by_pointer, 0 if by_pointer else len(flat_results)),
            cap=self.limits.memory,
        )
        return ffi.accel.Import(plan)

    def _accel(self) -> Any:
        """The compiled path's helpers (`_accel.Helpers`): what the pure path's generated
        code calls, shared so that errors are the same."""
        if self._accel_helpers is None:
            self._accel_helpers = ffi.accel.Helpers(
                {
                    **HELPERS,
                    **self._call_helpers,
                    "_MethodType": types.MethodType,
                    "_GuestTrap": GuestTrap,
                    "LIFT_BUDGET_FACTOR": LIFT_BUDGET_FACTOR,
                    "CLOCK_EVERY": CLOCK_EVERY,
                    "_trap_from": _trap_from,
                    "_DEFERRED": interrupts.DEFERRED,
                    "_raise_deferred": interrupts.raise_deferred,
                }
            )
        return self._accel_helpers

    def _compile_exports(self) -> dict[str | None, dict[str, Any]]:
        items: dict[str | None, dict[str, Any]] = {}
        for fn in self.structure.exports:
            self._attach(items.setdefault(fn.interface, {}), fn, self._caller(fn))
        for resource in self.structure.resources:
            if resource.defined and resource.name is not None:
                scope = items.setdefault(resource.interface, {})
                name = class_name(resource.name)
                if scope.get(name, resource.cls) is not resource.cls:
                    raise SandlinkError(
                        f"resource {resource.name}: {name} clashes with another export"
                    )
                scope[name] = resource.cls
        return items

    def _caller(self, fn: Function, nested: bool = False) -> Callable[..., Any]:
        """The compiled Python function that calls the lifted function `fn`."""
        assert fn.core is not None and fn.options is not None
        options = fn.options
        plan = Plan(
            self._raw_ref(fn.core),
            self._abi(options.memory, options.realloc),
            None if options.post_return is None else self._raw_ref(options.post_return),
        )
        flat = fn.type.lifted_core_type()
        self.slot_count = max(self.slot_count, len(flat.params), len(flat.results))
        if self.compiled and _compiles(fn):
            result: Callable[..., Any] = self._compiled_export(fn, options, plan, nested)
            return result
        em = self._emitter(options.encoding)
        source = export_source(fn, plan, em, self.limits, nested=nested)
        caller = self._build(em, source, "_export", f"export {fn.where}")
        caller.__name__ = caller.__qualname__ = fn.name
        return caller

    def _compiled_export(
        self, fn: Function, options: Options, plan: Plan, nested: bool = False
    ) -> Any:
        """The compiled path's caller of export `fn` (`_accel.Export`)."""
        accel, limits = ffi.accel, self.limits
        flat_params, flat_results = fn.type.flat_params(), fn.type.flat_results()
        spilled, by_pointer = fn.type.spills()
        post_len = 1 if by_pointer else len(flat_results)
        spec = types.SimpleNamespace(
            name=fn.name,
            where=fn.where,
            serial=self.serial,
            make_session=weakref.WeakMethod(self.session),  # no cycle through the extension
            helpers=self._accel(),
            names=[p.name for p in fn.params],
            signature=_accel_signature(fn, options),
            func=plan.core,
            abi=plan.abi,
            post_return=plan.post_return,
            call_len=max(1 if spilled else len(flat_params), post_len),
            post_len=post_len,
            cap=limits.memory,
            fuel=limits.fuel,
            timed=limits.timeout is not None,
            nested=nested,
        )
        export = accel.Export(spec)
        if fn.kind == "method" and not nested:  # a descriptor, which binds its function
            export.__name__ = export.__qualname__ = fn.name
            return export
        return export.function()

    def _attach(self, scope: dict[str, Any], fn: Function, caller: Callable[..., Any]) -> None:
        if fn.kind == "function":
            if fn.name in scope:
                raise SandlinkError(f"export {fn.where}: {fn.name} clashes with another export")
            scope[fn.name] = caller
            return
        resource = fn.resource
        assert resource is not None and resource.cls is not None
        cls = resource.cls
        if fn.kind == "constructor":
            local = self.local

            def new(cls: type, *args: Any, **kwargs: Any) -> Any:
                session = getattr(local, "s", None)
                if session is not None and session.orphans:
                    session.drop_orphans()
                return caller(*args, **kwargs)

            cls.__new__ = new  # type: ignore[method-assign,assignment]
            return
        name = fn.name
        if name in ("close", "closed", "check_live"):
            name += "_"  # the resource base's own API keeps its name
        if name in cls.__dict__:
            raise SandlinkError(f"export {fn.where}: {cls.__name__}.{name} is defined twice")
        setattr(cls, name, caller if fn.kind == "method" else staticmethod(caller))

    # -- sessions

    def session(self) -> Session:
        """This thread's session (made on first use)."""
        session = getattr(self.local, "s", None)
        if session is None or session.retired:
            session = CompiledSession(self) if self.compiled else Session(self)
            self.local.s = session
        return session

    def trap_error(self, message: str, code: str | None, session: Session) -> GuestTrap:
        limits = self.limits
        exceeded = limits.exceeded("INTERRUPT" if session.timed_out else code)
        if exceeded is not None:
            return exceeded
        if limits.memory is not None:
            size = session.memory_size()
            if size * 2 > limits.memory:
                # A wasm allocator cannot say why it aborted: a trap with memory past half
                # the cap is taken as a failed growth.
                return MemoryLimitExceeded(
                    f"guest memory reached {size} of its {limits.memory}-byte limit ({message})",
                    code,
                )
        return GuestTrap(message, code)

    def _build(self, em: Emitter, source: str, name: str, label: str) -> Callable[..., Any]:
        """Define the generated function `name` (its code from the cache when it has it)."""
        source_hash = sha256(source.encode()).hexdigest()
        code = self._codes.get(source_hash)
        if code is None:
            code = self._codes[source_hash] = compile(source, f"<sandlink {label}>", "exec")
            self._new_codes += 1
        namespace = em.globals
        exec(code, namespace)
        fn = namespace[name]
        fn.__sandlink_source__ = source
        result: Callable[..., Any] = fn
        return result


def _spend(memory_limit: int | None, session: Session, budget: int, view_length: int) -> int:
    """A lift spent another CLOCK_EVERY of its budget: look at the deadline, refuse what
    would go over budget; return where to look next."""
    if budget >= 0:
        session.check()
        return budget - CLOCK_EVERY
    budget = min(memory_limit or 1 << 64, LIFT_BUDGET_FACTOR * view_length)
    raise MemoryLimitExceeded(
        f"lifting the guest's value would build more than {budget} bytes "
        f"({LIFT_BUDGET_FACTOR}x its {view_length}-byte memory, within Limits.memory): refused"
    )


_SERIALS = itertools.count(1)


def load_structure(
    wasm: bytes, engine: wasmtime.Engine, key: tuple[Any, ...], cache: Cache
) -> tuple[Structure, list[wasmtime.Module]]:
    """A component's structure and its compiled core modules, from the cache when it has
    them; on a miss wasmtime validates the component first."""
    modules: list[wasmtime.Module] = []

    def module(module_hash: str, raw: Callable[[], bytes]) -> wasmtime.Module:
        return cache.load(
            "module",
            module_hash,
            key,
            lambda: wasmtime.Module(engine, raw()),
            lambda m: bytes(m.serialize()),
            lambda data: wasmtime.Module.deserialize(engine, data),
        )

    def read() -> tuple[Structure, list[str]]:
        import wasmtime.component  # only on a cache miss: it is slow to import

        from ._graph import read_structure

        try:
            wasmtime.component.Component(engine, wasm)
        except wasmtime.WasmtimeError as exc:
            raise SandlinkError(f"invalid component: {exc}") from None
        hashes: list[str] = []

        def module_info(raw_modules: list[bytes]) -> list[ModuleInfo]:
            for raw in raw_modules:
                hashes.append(sha256(raw).hexdigest())
                modules.append(module(hashes[-1], lambda raw=raw: raw))  # type: ignore[misc]
            return [_module_info(m) for m in modules]

        return read_structure(wasm, module_info), hashes

    digest = sha256(wasm).hexdigest()
    structure, hashes = cache.load("structure", digest, key, read, _pickle.dumps, _pickle.loads)
    if not modules:  # the structure came from the cache: so may the modules
        for i, module_hash in enumerate(hashes):
            modules.append(module(module_hash, lambda i=i: _core_modules(wasm)[i]))  # type: ignore[misc]
    return structure, modules


def _core_modules(wasm: bytes) -> list[bytes]:
    """The core modules of a component (for one evicted from the cache)."""
    from ._binary import read_component

    return read_component(wasm).modules


def _load_codes(cache: Cache, digest: str, key: tuple[Any, ...]) -> dict[str, Any]:
    """The compiled generated code of a component, by the sha256 of its source."""
    payload = cache.read("code", digest, key)
    if payload is not None:
        try:
            codes = marshal.loads(payload)
            if isinstance(codes, dict):
                return codes
        except (ValueError, EOFError, TypeError):
            pass
    return {}


def _accel_signature(fn: Function, options: Options) -> types.SimpleNamespace:
    """`fn`'s types as the compiled path reads them (`_accel`'s `Signature`), lifted or
    lowered with these options."""
    spilled, by_pointer = fn.type.spills()
    return types.SimpleNamespace(
        params=tuple(p.type.accel_spec() for p in fn.params),
        result=None if fn.result is None else fn.result.accel_spec(),
        spilled=spilled,
        by_pointer=by_pointer,
        encoding=options.encoding,
    )


def _compiles(fn: Function) -> bool:
    """Does the compiled path take this function (an export, an import, or a call between
    the parts of a composed component)? Every type the host supports compiles."""
    value_types = [p.type for p in fn.params] + ([] if fn.result is None else [fn.result])
    return all(t.compiles() for t in value_types)


def _intrinsic_type(kind: str) -> CoreType:
    return CoreType("func", ("i32",), () if kind == "drop" else ("i32",))


def _resource_class(resource: ResourceType) -> type:
    name = class_name(resource.name or "resource")
    where = f"{resource.interface}#{resource.name}" if resource.interface else resource.name
    cls = type(
        name,
        (GuestResource,),
        {
            "__slots__": (),
            "__module__": "sandlink.resources",
            "__doc__": f"WIT resource `{where}`.",
            "_resource": resource,
        },
    )
    resource.cls = cls
    return cls


def memory_view(resource: GuestResource, address: int, length: int) -> memoryview:
    """A writable view of `length` bytes at `address` in the memory of the instance that
    holds `resource` (for resources that hand out the address of their bytes)."""
    resource.check_live()
    session = resource._session
    abi = next((a for a in session.abi if a is not None and a.memory is not None), None)
    if abi is None:
        raise SandlinkError("this component has no memory to view")
    result: memoryview = abi.pin(address, length)
    return result
