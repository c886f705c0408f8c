"""The fast host: a component called through its main core module with raw wasmtime calls.

The component stays the artifact and WIT the contract: the core modules are read out of
the component binary, the main one (it exports `memory` and `cabi_realloc`) is
instantiated with a core `Linker`, and every export's calling convention is compiled
from the component's own type information (`_schema` + `_canonical`).

Each thread gets its own Store and instance (a `_Session`); Engine, compiled module and
linker are shared. A trap discards the thread's session; the next call makes a new one.
"""

from __future__ import annotations

import ctypes
import marshal
import os
import struct
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import wasmtime

from . import _ffi as ffi
from . import _resources as resource
from . import _schema as t
from ._binary import core_modules
from ._cache import Cache, sha256
from ._canonical import (
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    Emitter,
    OutOfView,
    alignment,
    cases,
    flatten,
    size,
)
from ._checks import check_buffer, check_int
from ._engine import engine_for
from ._errors import (
    GuestTrap,
    MemoryLimitExceeded,
    SandlinkError,
    UnsupportedTypeError,
)
from ._limits import DEFAULT, Limits

# What lifting raises when the guest points past the host's view of its memory (the view
# may be stale: memory can grow during the call), or hands back text that is not UTF-8.
LIFT_ERRORS = (OutOfView, struct.error, UnicodeDecodeError)
_SIZES = [ctypes.c_size_t(n) for n in range(MAX_FLAT_PARAMS + 2)]


class _Session:
    """One thread's Store and instance, and the raw-call buffers that go with them.

    Every raw call uses prebuilt ctypes objects (`c*` attributes) for its arguments.
    The trap pointer of a call lands in the slot just past its arguments, so a failed
    call is seen with one memoryview read.
    """

    __slots__ = (
        "__weakref__",
        "_alloc_slots",
        "_buffers",
        "_deadline",
        "_keep",
        "base",
        "calloc",
        "calls",
        "cctx",
        "cfn",
        "crealloc",
        "csa",
        "cta",
        "handles",
        "host",
        "m",
        "mem",
        "next_handle",
        "orphans",
        "pending",
        "retired",
        "size",
        "slots",
        "store",
        "thread",
        "timed_out",
        "trap_slot",
        "watched",
        "watched_since",
    )

    def __init__(self, host: WasmComponent) -> None:
        self.host = host
        self.pending: BaseException | None = None
        self.retired = False
        self.thread = threading.current_thread()
        self.handles: dict[int, int] = {}  # the canonical ABI handle table: handle -> rep
        self.next_handle = 1
        self.orphans: list[tuple[int, int]] = []  # (destructor, rep) of collected resources
        self.store = wasmtime.Store(host.engine)
        self.cctx = ctypes.c_void_p(ffi.store_context(self.store))
        limits = host.limits
        if limits.memory is not None:
            self.store.set_limits(memory_size=limits.memory)
        self.calls = self.watched = 0
        self.watched_since = 0.0
        self.timed_out = False
        self._deadline = None
        if limits.timeout is not None:
            # Through a weak reference: a callback holding the session would keep every
            # retired Store (and its memory) alive until a garbage collection.
            self._deadline = ffi.DeadlineCallback(_deadline_callback(weakref.ref(self)))
            ffi.on_epoch_deadline(self.store, self._deadline)
            self.store.set_epoch_deadline(1)
            host.engine_handle.start_ticker()
        if limits.fuel is not None:
            self.store.set_fuel(limits.fuel)  # for instantiation; each call refuels
        exports = host.linker.instantiate(self.store, host.module).exports(self.store)
        memory = exports["memory"]
        if not isinstance(memory, wasmtime.Memory):
            raise SandlinkError("the main core module's `memory` export is not a memory")
        funcs = [exports[name] for name in host.core_exports]
        realloc = exports["cabi_realloc"]
        self._keep = (funcs, realloc, memory)  # they own the structs the raw calls point at
        self.cfn = [ctypes.c_void_p(ffi.func_address(f)) for f in funcs]
        self.crealloc = ctypes.c_void_p(ffi.func_address(realloc))
        self.mem = ffi.memory_address(memory)

        self.trap_slot = 2 * host.slot_count
        call_buffer = (ctypes.c_uint64 * (self.trap_slot + 2))()
        alloc_buffer = (ctypes.c_uint64 * 10)()  # 4 args / 1 result, then the trap slot
        self._buffers = (call_buffer, alloc_buffer)
        self.slots = memoryview(call_buffer).cast("B").cast("Q")
        self._alloc_slots = memoryview(alloc_buffer).cast("B").cast("Q")
        self.csa = ctypes.c_void_p(ctypes.addressof(call_buffer))
        self.cta = ctypes.c_void_p(ctypes.addressof(call_buffer) + 8 * self.trap_slot)
        self.calloc = (
            ctypes.c_void_p(ctypes.addressof(alloc_buffer)),
            ctypes.c_void_p(ctypes.addressof(alloc_buffer) + 64),
        )
        self.size = -1
        self.m = memoryview(b"")
        self.sync(self.cctx)

    def _on_deadline(self, delta: Any, kind: Any) -> int:
        """At each epoch tick while guest code runs: stop the call once it is over time.

        `calls` changes with every call, so the first tick a call sees starts its clock.
        """
        now = time.monotonic()
        if self.calls != self.watched:
            self.watched, self.watched_since = self.calls, now
        elif now - self.watched_since >= self.host.limits.timeout:  # type: ignore[operator]
            self.timed_out = True
            return ffi.error_new(b"sandlink: call timed out")
        delta[0] = 1
        kind[0] = ffi.DEADLINE_CONTINUE
        return 0

    def sync(self, ctx: ctypes.c_void_p | int) -> None:
        """Refresh the memory view to the memory's current length (it never moves)."""
        size = ffi.memory_data_size(ctx, self.mem)
        if size != self.size:
            self.base = ffi.memory_data(ctx, self.mem)
            self.m = memoryview((ctypes.c_ubyte * size).from_address(self.base)).cast("B")
            self.size = size

    def alloc(self, ctx: ctypes.c_void_p, size: int, align: int) -> int:
        """`cabi_realloc(0, 0, align, size)`; the view covers the new block on return."""
        cap = self.host.limits.memory
        if cap is not None and size > cap:
            self.host.retire(self)
            raise MemoryLimitExceeded(f"{size} bytes do not fit in the {cap}-byte memory limit")
        slots = self._alloc_slots
        slots[0] = 0
        slots[2] = 0
        slots[4] = align
        slots[6] = size
        args, trap = self.calloc
        error = ffi.func_call_unchecked(ctx, self.crealloc, args, _SIZES[4], trap)
        if error is not None or slots[8]:
            self.fail(error, 8, slots)
        ptr = slots[0] & 0xFFFFFFFF
        if ptr + size > self.size:
            self.sync(ctx)
            if ptr + size > self.size:
                self.fail(None, 8, slots, "cabi_realloc returned a block outside memory")
        return ptr

    def pin_view(self, address: int, length: int) -> memoryview:
        """A writable view of guest memory that keeps this Store (so the memory) alive.

        Memory never moves, so the view stays valid as the guest grows its memory; holding
        the session means it can never point at freed memory, even after a trap.
        """
        if address + length > self.size:
            self.sync(self.cctx)
            if address + length > self.size:
                raise GuestTrap(f"guest range {address}+{length} is outside its memory")
        array = (ctypes.c_ubyte * length).from_address(self.base + address)
        array.keep_alive = self  # type: ignore[attr-defined]
        return memoryview(array).cast("B")

    def new_handle(self, rep: int) -> int:
        handle = self.next_handle
        self.next_handle += 1
        self.handles[handle] = rep
        return handle

    def drop_orphans(self) -> None:
        """Run the destructors of resources that were garbage-collected unclosed."""
        while self.orphans:
            dtor, rep = self.orphans.pop()
            self.call_core(dtor, rep)

    def call_core(self, index: int, *args: int, ctx: Any = None) -> int:
        """Call core export `index` with i32 arguments; return its first result slot.

        For the odd call (destructors), not the hot path: it makes its own buffer.
        """
        trap_slot = 2 * max(len(args), 1)
        buffer = (ctypes.c_uint64 * (trap_slot + 2))(*(v for a in args for v in (a, 0)))
        address = ctypes.addressof(buffer)
        error = ffi.func_call_unchecked(
            ctx or self.cctx,
            self.cfn[index],
            ctypes.c_void_p(address),
            _SIZES[max(len(args), 1)],
            ctypes.c_void_p(address + 8 * trap_slot),
        )
        if error is not None or buffer[trap_slot]:
            self.fail(error, trap_slot, buffer)
        return buffer[0]

    def lift_again(self, lift: Callable[..., Any], *args: Any) -> Any:
        """Lift after refreshing the view (memory grew during the call), or fail for good."""
        self.sync(self.cctx)
        try:
            return lift(self, self.m, *args)
        except UnicodeDecodeError:
            self.host.retire(self)
            raise GuestTrap("guest returned a string that is not valid UTF-8") from None
        except (OutOfView, struct.error):
            self.host.retire(self)
            raise GuestTrap("guest result points outside its memory") from None

    def fail(
        self, error: int | None, trap_slot: int | None = None, slots: Any = None, why: str = ""
    ) -> None:
        """A call trapped or failed: retire this session and raise what happened."""
        self.host.retire(self)
        slots = self.slots if slots is None else slots
        trap_slot = self.trap_slot if trap_slot is None else trap_slot
        trap, slots[trap_slot] = slots[trap_slot], 0
        pending, self.pending = self.pending, None
        if trap:
            message, code = ffi.trap_from_address(trap)
        elif error:
            message, code = str(ffi.error_from_address(error)), None
        else:
            message, code = why or "guest call failed", None
        if pending is not None:
            raise pending
        limits = self.host.limits
        exceeded = limits.exceeded("INTERRUPT" if self.timed_out else code)
        if exceeded is not None:
            raise exceeded
        if limits.memory is not None and self._near_memory_cap(limits.memory):
            # A wasm allocator cannot say why it aborted: a trap with memory past half the
            # cap is taken as a failed growth.
            raise MemoryLimitExceeded(
                f"guest memory reached {self.size} of its {limits.memory}-byte limit ({message})",
                code,
            )
        raise GuestTrap(message, code)

    def _near_memory_cap(self, cap: int) -> bool:
        self.sync(self.cctx)
        return self.size * 2 > cap


def _deadline_callback(session: weakref.ref[_Session]) -> Callable[..., int]:
    def on_deadline(context: int, data: int, delta: Any, kind: Any) -> int:
        alive = session()
        return 0 if alive is None else alive._on_deadline(delta, kind)

    return on_deadline


class WasmComponent:
    """Any component's exports as Python functions, called through the fast host.

    `imports` maps interface names to {function name: callable} (see
    `_schema.resolve_imports`); `classes` maps WIT record names to the classes to build.
    """

    def __init__(
        self,
        source: str | os.PathLike | bytes,
        imports: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None,
        classes: Mapping[str, type] | None = None,
        limits: Limits = DEFAULT,
        cache: Cache | None = None,
    ) -> None:
        if isinstance(source, bytes):
            wasm = source
        else:
            with open(source, "rb") as f:
                wasm = f.read()
        if not isinstance(limits, Limits):
            raise TypeError(f"limits must be a sandlink.Limits, not {type(limits).__name__}")
        self.limits = limits
        self.engine_handle = engine_for(limits.timeout is not None, limits.fuel is not None)
        self.engine = engine = self.engine_handle.engine
        self.cache = cache or Cache(None)
        digest, key = sha256(wasm).hexdigest(), self.engine_handle.key
        wire = self.cache.load(
            "schema",
            digest,
            key,
            lambda: _reflect(engine, wasm),
            marshal.dumps,  # the wire form is plain dicts, lists and strings
            marshal.loads,
        )
        self.schema = t.build_schema(wire, classes)
        self.module = self.cache.load(
            "module",
            digest,
            key,
            lambda: self._main_module(wasm),
            lambda m: m.serialize(),
            lambda raw: wasmtime.Module.deserialize(engine, raw),
        )
        exported = {e.name for e in self.module.exports}
        self.linker = wasmtime.Linker(self.engine)
        self._callbacks: list[Any] = []
        self._local = threading.local()
        self.core_exports: list[str] = []
        self.slot_count = 1
        self.resource_classes = {
            key: self._resource_class(r, exported) for key, r in self.schema.resources.items()
        }
        self._define_imports(dict(imports or {}))
        self.functions: dict[str, Callable[..., Any]] = {}
        for function in self.schema.exports:
            if function.core_name not in exported:
                raise UnsupportedTypeError(f"{function.core_name}: not found in the core module")
            caller = self._compile_export(function, exported)
            if function.kind == "function":
                if function.name in self.functions:
                    raise SandlinkError(f"two exports are both called {function.name}")
                self.functions[function.name] = caller
                setattr(self, function.name, caller)
            else:
                self._attach(function, caller)

    # -- sessions

    def session(self) -> _Session:
        session = _Session(self)
        self._local.s = session
        return session

    def retire(self, session: _Session) -> None:
        session.retired = True  # its resources go stale with it
        if getattr(self._local, "s", None) is session:
            del self._local.s

    # -- loading

    def _main_module(self, wasm: bytes) -> wasmtime.Module:
        for raw in core_modules(wasm):
            module = wasmtime.Module(self.engine, raw)
            names = {e.name for e in module.exports}
            if {"memory", "cabi_realloc"} <= names:
                return module
        raise SandlinkError("no core module exports both `memory` and `cabi_realloc`")

    def _define_imports(self, imports: Mapping[str, Mapping[str, Callable[..., Any]]]) -> None:
        resolved = t.resolve_imports(self.schema, imports)
        by_core = {(f.interface or t.ROOT, f.wit_name): f for f in resolved}
        for imp in self.module.imports:
            function = by_core.get((imp.module, imp.name))
            if not isinstance(imp.type, wasmtime.FuncType):
                raise UnsupportedTypeError(
                    f"core import {imp.module}::{imp.name} is not a function"
                )
            if function is not None:
                trampoline = self._compile_import(function, resolved[function])
            else:
                trampoline = self._resource_intrinsic(imp.module, imp.name)
            callback = ffi.UncheckedCallback(trampoline)
            self._callbacks.append(callback)
            ffi.define_unchecked(self.linker, imp.module, imp.name, imp.type, callback)

    # -- resources

    def _resource_class(self, r: t.Resource, exported: set[str]) -> type:
        """The Python class for an exported resource, e.g. `component.Buffer`."""
        name = t.class_name(r.name)
        cls = type(name, (resource.GuestResource,), {"__slots__": (), "_wit_name": r.name})
        dtor = f"{r.interface}#[dtor]{r.name}" if r.interface else f"[dtor]{r.name}"
        if dtor in exported:
            cls._dtor = len(self.core_exports)
            self.core_exports.append(dtor)
        r.cls = cls
        if hasattr(self, name):
            raise SandlinkError(f"resource {r.name}: {name} clashes with another attribute")
        setattr(self, name, cls)
        return cls

    def _attach(self, function: t.Function, caller: Callable[..., Any]) -> None:
        cls = self.resource_classes[(function.interface, function.resource)]
        if function.kind == "constructor":
            local = self._local

            def new(cls: type, *args: Any, **kwargs: Any) -> Any:
                session = getattr(local, "s", None)
                if session is not None and session.orphans:
                    session.drop_orphans()
                return caller(*args, **kwargs)

            cls.__new__ = new  # type: ignore[method-assign]
        elif function.kind == "method":
            setattr(cls, function.name, caller)
        elif function.kind == "static":
            setattr(cls, function.name, staticmethod(caller))
        else:
            raise UnsupportedTypeError(f"{function.core_name}: unknown kind {function.kind}")

    def _resource_intrinsic(self, module: str, name: str) -> Callable[..., int]:
        """`[resource-new]R`, `[resource-rep]R`, `[resource-drop]R` for an exported resource."""
        interface = module.removeprefix("[export]")
        kind, _, resource_name = name[1:].partition("]")
        cls = self.resource_classes.get((interface, resource_name))
        if not module.startswith("[export]") or cls is None:
            raise UnsupportedTypeError(f"core import {module}::{name} is not supported")
        local = self._local
        one_slot = ctypes.c_uint64 * 2

        def intrinsic(env: int, caller: int, raw: int, n: int) -> int:
            s = local.s
            try:
                slots = one_slot.from_address(raw)
                value = slots[0] & 0xFFFFFFFF
                if kind == "resource-new":
                    slots[0] = s.new_handle(value)
                elif kind == "resource-rep":
                    slots[0] = s.handles[value]
                elif kind == "resource-drop":
                    rep = s.handles.pop(value)
                    if cls._dtor is not None:
                        ctx = ctypes.c_void_p(ffi.caller_context(caller))
                        s.call_core(cls._dtor, rep, ctx=ctx)
                else:
                    raise UnsupportedTypeError(f"core import {module}::{name} is not supported")
                return 0
            except BaseException as exc:
                s.pending = exc
                return ffi.new_trap(f"{name} failed")

        if kind not in ("resource-new", "resource-rep", "resource-drop"):
            raise UnsupportedTypeError(f"core import {module}::{name} is not supported")
        return intrinsic

    # -- compiling

    def _emitter(self) -> Emitter:
        emitter = Emitter(check_int, check_buffer)
        emitter.globals.update(resource.HELPERS)
        emitter.globals.update(
            _local=self._local,
            _session=self.session,
            CALL=ffi.func_call_unchecked,
            SIZES=_SIZES,
            LIFT_ERRORS=LIFT_ERRORS,
            SET_FUEL=ffi.set_fuel,
            FUEL=ctypes.c_uint64(self.limits.fuel or 0),
            caller_context=ffi.caller_context,
            c_void_p=ctypes.c_void_p,
            new_trap=ffi.new_trap,
        )
        return emitter

    def _compile_export(self, function: t.Function, exported: set[str]) -> Callable[..., Any]:
        em = self._emitter()
        params = [p.name for p in function.params]
        flat_params = [c for p in function.params for c in flatten(p.type)]
        flat_results = [] if function.result is None else flatten(function.result)
        index = len(self.core_exports)
        self.core_exports.append(function.core_name)
        post = f"cabi_post_{function.core_name}"
        post_index = None
        if post in exported:
            post_index = len(self.core_exports)
            self.core_exports.append(post)
        spilled = len(flat_params) > MAX_FLAT_PARAMS
        by_pointer = len(flat_results) > MAX_FLAT_RESULTS
        n_args = 1 if spilled else len(flat_params)
        self.slot_count = max(self.slot_count, n_args, len(flat_results))
        if by_pointer:
            em.emit("def lift(s, m, rp):")
            with em.indent():
                em.emit("lm = len(m)")
                em.emit(f"return {em.load(function.result, 'rp')}")

        em.emit(f"def {function.name}({', '.join(params)}):")
        with em.indent():
            em.emit("try:")
            em.emit("    s = _local.s")
            em.emit("except AttributeError:")
            em.emit("    s = _session()")
            em.emit("slots = s.slots")
            if self.limits.timeout is not None:
                em.emit("s.calls += 1  # starts this call's clock at the next epoch tick")
            if self.limits.fuel is not None:
                em.emit("SET_FUEL(s.cctx, FUEL)")
            allocates = spilled or any(_allocates(p.type) for p in function.params)
            if allocates:
                em.emit("ctx = s.cctx")
                em.emit("try:")
                em.depth += 1
            if spilled:
                whole = t.Tuple(tuple(p.type for p in function.params))
                em.emit(f"sp = s.alloc(ctx, {size(whole)}, {alignment(whole)})")
                em.store(whole, f"({', '.join(params)},)", "sp", "arguments")
                exprs = ["sp"]
            else:
                exprs = [e for p in function.params for e in em.lower_flat(p.type, p.name, p.name)]
            for i, expr in enumerate(exprs):
                em.emit(f"slots[{2 * i}] = {expr}")
            if allocates:
                em.depth -= 1
                em.emit("except BaseException:")
                em.emit("    s.host.retire(s)  # its memory holds a half-lowered call")
                em.emit("    raise")
            self._emit_call(em, index, max(n_args, len(flat_results)))
            result = "None"
            if by_pointer:
                em.emit("rp = slots[0] & 0xFFFFFFFF")
                em.emit("try:")
                em.emit("    result = lift(s, s.m, rp)")
                em.emit("except LIFT_ERRORS:")
                em.emit("    result = s.lift_again(lift, rp)")
                result = "result"
            elif function.result is not None:
                result = em.lift_flat(function.result, iter(["slots[0]"]))
            if post_index is not None:
                self._emit_call(em, post_index, 1)
            em.emit(f"return {result}")
        return _build(em, function.name)

    @staticmethod
    def _emit_call(em: Emitter, index: int, n_slots: int) -> None:
        em.emit(f"e = CALL(s.cctx, s.cfn[{index}], s.csa, SIZES[{n_slots}], s.cta)")
        em.emit("if e is not None or slots[s.trap_slot]:")
        em.emit("    s.fail(e)")

    def _compile_import(self, function: t.Function, target: Callable[..., Any]) -> Callable:
        em = self._emitter()
        em.globals["TARGET"] = target
        flat_params = [c for p in function.params for c in flatten(p.type)]
        flat_results = [] if function.result is None else flatten(function.result)
        spilled = len(flat_params) > MAX_FLAT_PARAMS
        by_pointer = len(flat_results) > MAX_FLAT_RESULTS
        params_raw = 1 if spilled else len(flat_params)
        n_raw = max(params_raw + by_pointer, 0 if by_pointer else len(flat_results), 1)
        em.globals["RAW"] = ctypes.c_uint64 * (2 * n_raw)  # indexed as raw slots: [2 * i]

        em.emit("def lift(s, m, slots):")
        with em.indent():
            em.emit("lm = len(m)")
            if spilled:
                whole = t.Tuple(tuple(p.type for p in function.params))
                em.emit(f"return {em.load(whole, '(slots[0] & 0xFFFFFFFF)')}")
            else:
                slot_exprs = iter([f"slots[{2 * i}]" for i in range(len(flat_params))])
                args = [em.lift_flat(p.type, slot_exprs) for p in function.params]
                em.emit(f"return ({', '.join(args)}{',' if len(args) == 1 else ''})")

        em.emit("def trampoline(env, caller, raw, n):")
        with em.indent():
            em.emit("s = _local.s")
            em.emit("try:")
            with em.indent():
                em.emit("slots = RAW.from_address(raw)")
                em.emit("try:")
                em.emit("    args = lift(s, s.m, slots)")
                em.emit("except LIFT_ERRORS:")
                em.emit("    args = s.lift_again(lift, slots)")
                em.emit("r = TARGET(*args)")
                if function.result is not None and (by_pointer or _allocates(function.result)):
                    em.emit("ctx = c_void_p(caller_context(caller))  # for allocating the result")
                if by_pointer:
                    where = f"result of {function.wit_name}"
                    em.emit(f"rp = slots[{2 * params_raw}] & 0xFFFFFFFF")
                    em.emit(f"if rp + {size(function.result)} > s.size:")
                    em.emit("    s.sync(ctx)")
                    em.store(function.result, "r", "rp", where)
                elif function.result is not None:
                    where = f"result of {function.wit_name}"
                    (expr,) = em.lower_flat(function.result, "r", where)
                    em.emit(f"slots[0] = {expr}")
                em.emit("return 0")
            em.emit("except BaseException as exc:")
            em.emit("    s.pending = exc")
            em.emit(f"    return new_trap({'host function ' + function.wit_name + ' raised'!r})")
        return _build(em, "trampoline")


def _reflect(engine: wasmtime.Engine, wasm: bytes) -> dict[str, Any]:
    """The component's types in wire form (compiles it: only on a cache miss)."""
    import wasmtime.component

    from ._reflect import reflect

    return reflect(wasmtime.component.Component(engine, wasm), engine)


def _build(em: Emitter, name: str) -> Callable[..., Any]:
    namespace = em.globals
    source = em.source()
    exec(compile(source, f"<sandlink {name}>", "exec"), namespace)
    fn = namespace[name]
    fn.__sandlink_source__ = source
    return fn


def _allocates(ty: t.Type) -> bool:
    """Does lowering a value of `ty` allocate in guest memory?"""
    if isinstance(ty, (t.Own, t.Borrow)):
        return False
    if isinstance(ty, t.Prim):
        return ty.kind == "string"
    if isinstance(ty, t.List):
        return True
    if isinstance(ty, t.Record):
        return any(_allocates(f) for _, f in ty.fields)
    if isinstance(ty, t.Tuple):
        return any(_allocates(e) for e in ty.elements)
    if isinstance(ty, (t.Flags, t.Enum)):
        return False
    return any(p is not None and _allocates(p) for _, p in cases(ty))
