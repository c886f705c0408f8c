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
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import wasmtime
import wasmtime.component

from . import _schema as t
from . import _wasmtime_ffi as ffi
from ._canonical import (
    MAX_FLAT_PARAMS,
    MAX_FLAT_RESULTS,
    Emitter,
    alignment,
    cases,
    flatten,
    size,
)
from ._checks import check_buffer, check_int
from ._component_binary import core_modules
from ._errors import GuestTrap, SandlinkError, UnsupportedTypeError


class _Session:
    """One thread's Store, instance and call buffers."""

    def __init__(self, host: WasmComponent) -> None:
        self.host = host
        self.pending: BaseException | None = None
        self.store = wasmtime.Store(host.engine)
        self.ctx = ffi.store_context(self.store)
        exports = host.linker.instantiate(self.store, host.module).exports(self.store)
        memory = exports["memory"]
        if not isinstance(memory, wasmtime.Memory):
            raise SandlinkError("the main core module's `memory` export is not a memory")
        # The Func/Memory objects own the structs whose addresses the raw calls use: keep them.
        self._funcs = [exports[name] for name in [*host.core_exports, "cabi_realloc"]]
        self.fn = [ffi.func_address(f) for f in self._funcs]
        self.realloc = self.fn[-1]
        self.mem = ffi.memory_address(memory)
        self._memory = memory
        self._buffer = (ctypes.c_uint64 * (2 * host.slot_count))()
        self.slots = memoryview(self._buffer).cast("B").cast("Q")
        self.sa = ctypes.addressof(self._buffer)
        self._alloc_buffer = (ctypes.c_uint64 * 8)()
        self._alloc_slots = memoryview(self._alloc_buffer).cast("B").cast("Q")
        self._alloc_address = ctypes.addressof(self._alloc_buffer)
        self._trap = ctypes.c_void_p()
        self.ta = ctypes.addressof(self._trap)
        self.size = -1
        self.m = memoryview(b"")
        self.sync(self.ctx)

    def sync(self, ctx: int) -> None:
        """Refresh the memory view if the guest grew its memory (the base may have moved)."""
        size = ffi.memory_data_size(ctx, self.mem)
        if size != self.size:
            base = ffi.memory_data(ctx, self.mem)
            self.m = memoryview((ctypes.c_ubyte * size).from_address(base)).cast("B")
            self.size = size

    def alloc(self, ctx: int, size: int, align: int) -> int:
        slots = self._alloc_slots
        slots[0] = 0
        slots[2] = 0
        slots[4] = align
        slots[6] = size
        self.invoke(ctx, self.realloc, self._alloc_address, 4)
        self.sync(ctx)
        return slots[0] & 0xFFFFFFFF

    def invoke(self, ctx: int, func: int, args: int, n: int) -> None:
        error = ffi.func_call_unchecked(ctx, func, args, n, self.ta)
        if error is not None or self._trap.value:
            self.fail(error)

    def fail(self, error: int | None) -> None:
        """A call trapped or failed: retire this session and raise what happened."""
        self.host.retire(self)
        pending, self.pending = self.pending, None
        trap = self._trap.value
        self._trap.value = None
        if trap:
            message, code = ffi.trap_from_address(trap)
        elif error:
            message, code = str(ffi.error_from_address(error)), None
        else:
            message, code = "guest call failed", None
        if pending is not None:
            raise pending
        raise GuestTrap(message, code)


class WasmComponent:
    """Any component's exports as Python functions, called through the fast host.

    `imports` maps an interface name (full, like `pkg:ns/iface@1.0.0`, or bare, like
    `iface`; `$root` for world-level functions) to a mapping of function name (WIT or
    Python spelling) to a callable. `classes` maps WIT record names to the classes to build.
    """

    def __init__(
        self,
        source: str | os.PathLike | bytes,
        imports: Mapping[str, Mapping[str, Callable[..., Any]]] | None = None,
        classes: Mapping[str, type] | None = None,
        engine: wasmtime.Engine | None = None,
    ) -> None:
        wasm = source if isinstance(source, bytes) else open(source, "rb").read()
        self.engine = engine or wasmtime.Engine()
        component = wasmtime.component.Component(self.engine, wasm)
        self.schema = t.describe_component(component, self.engine, dict(classes or {}))
        self.module = self._main_module(wasm)
        exported = {e.name for e in self.module.exports}
        self.linker = wasmtime.Linker(self.engine)
        self._callbacks: list[Any] = []
        self._local = threading.local()
        self.core_exports: list[str] = []
        self.slot_count = 4
        self._define_imports(dict(imports or {}))
        self.functions: dict[str, Callable[..., Any]] = {}
        for function in self.schema.exports:
            if function.core_name not in exported:
                raise UnsupportedTypeError(f"{function.core_name}: not found in the core module")
            caller = self._compile_export(function, exported)
            if function.name in self.functions:
                raise SandlinkError(f"two exports are both called {function.name}")
            self.functions[function.name] = caller
            setattr(self, function.name, caller)

    # -- sessions

    def session(self) -> _Session:
        session = _Session(self)
        self._local.s = session
        return session

    def retire(self, session: _Session) -> None:
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
            if function is None or not isinstance(imp.type, wasmtime.FuncType):
                raise UnsupportedTypeError(f"core import {imp.module}::{imp.name} is not supported")
            callback = ffi.UncheckedCallback(self._compile_import(function, resolved[function]))
            self._callbacks.append(callback)
            ffi.define_unchecked(self.linker, imp.module, imp.name, imp.type, callback)

    # -- compiling

    def _emitter(self) -> Emitter:
        emitter = Emitter(check_int, check_buffer)
        emitter.globals.update(
            _local=self._local,
            _session=self.session,
            CALL=ffi.func_call_unchecked,
            caller_context=ffi.caller_context,
            new_trap=ffi.new_trap,
            Raw=ctypes.c_uint64,
            memoryview=memoryview,
        )
        return emitter

    def _compile_export(self, function: t.Function, exported: set[str]) -> Callable[..., Any]:
        em = self._emitter()
        params = [p.name for p in function.params]
        flat_params = [c for p in function.params for c in flatten(p.type)]
        flat_results = flatten(function.result) if function.result is not None else []
        index = len(self.core_exports)
        self.core_exports.append(function.core_name)
        post = f"cabi_post_{function.core_name}"
        post_index = None
        if post in exported:
            post_index = len(self.core_exports)
            self.core_exports.append(post)
        self.slot_count = max(self.slot_count, len(flat_params), len(flat_results))

        em.emit(f"def {function.name}({', '.join(params)}):")
        with em.indent():
            em.emit("try:")
            em.emit("    s = _local.s")
            em.emit("except AttributeError:")
            em.emit("    s = _session()")
            em.emit("ctx = s.ctx")
            allocates = (
                any(_allocates(p.type) for p in function.params)
                or len(flat_params) > MAX_FLAT_PARAMS
            )
            if allocates:
                em.emit("try:")
                em.depth += 1
            if len(flat_params) > MAX_FLAT_PARAMS:
                spilled = t.Tuple(tuple(p.type for p in function.params))
                em.emit(f"sp = s.alloc(ctx, {size(spilled)}, {alignment(spilled)})")
                em.store(spilled, f"({', '.join(params)},)", "sp", "arguments")
                exprs = ["sp"]
            else:
                exprs = [e for p in function.params for e in em.lower_flat(p.type, p.name, p.name)]
            em.emit("slots = s.slots")
            for i, expr in enumerate(exprs):
                em.emit(f"slots[{2 * i}] = {expr}")
            if allocates:
                em.depth -= 1
                em.emit("except BaseException:")
                em.emit("    s.host.retire(s)  # its memory holds a half-lowered call")
                em.emit("    raise")
            n_slots = max(len(exprs), len(flat_results))
            em.emit(f"e = CALL(ctx, s.fn[{index}], s.sa, {n_slots}, s.ta)")
            em.emit("if e is not None or s._trap.value:")
            em.emit("    s.fail(e)")
            result = "None"
            if function.result is not None:
                if len(flat_results) > MAX_FLAT_RESULTS:
                    em.emit("s.sync(ctx)")
                    em.emit("rp = slots[0] & 0xFFFFFFFF")
                    result = em.load(function.result, "rp")
                else:
                    if _reads_memory(function.result):
                        em.emit("s.sync(ctx)")
                    result = em.lift_flat(function.result, iter(["slots[0]"]))
            if post_index is not None:
                em.emit(f"e = CALL(ctx, s.fn[{post_index}], s.sa, 1, s.ta)")
                em.emit("if e is not None or s._trap.value:")
                em.emit("    s.fail(e)")
            em.emit(f"return {result}")
        return _build(em, function.name)

    def _compile_import(
        self, function: t.Function, target: Callable[..., Any]
    ) -> Callable[..., int]:
        em = self._emitter()
        em.globals["TARGET"] = target
        flat_params = [c for p in function.params for c in flatten(p.type)]
        flat_results = flatten(function.result) if function.result is not None else []
        params_raw = 1 if len(flat_params) > MAX_FLAT_PARAMS else len(flat_params)
        returns_by_pointer = len(flat_results) > MAX_FLAT_RESULTS
        n_raw = max(
            params_raw + returns_by_pointer, 0 if returns_by_pointer else len(flat_results), 1
        )
        em.globals["RAW"] = ctypes.c_uint64 * (2 * n_raw)
        em.emit("def trampoline(env, caller, raw, n):")
        with em.indent():
            em.emit("s = _local.s")
            em.emit("try:")
            with em.indent():
                em.emit("ctx = caller_context(caller)")
                em.emit("slots = memoryview(RAW.from_address(raw)).cast('B').cast('Q')")
                em.emit("s.sync(ctx)")
                if len(flat_params) > MAX_FLAT_PARAMS:
                    spilled = t.Tuple(tuple(p.type for p in function.params))
                    args = em.load(spilled, "(slots[0] & 0xFFFFFFFF)")
                    em.emit(f"r = TARGET(*{args})")
                else:
                    slot_exprs = iter([f"slots[{2 * i}]" for i in range(len(flat_params))])
                    args = [em.lift_flat(p.type, slot_exprs) for p in function.params]
                    em.emit(f"r = TARGET({', '.join(args)})")
                if function.result is not None:
                    where = f"result of {function.wit_name}"
                    if returns_by_pointer:
                        em.emit(f"rp = slots[{2 * params_raw}] & 0xFFFFFFFF")
                        em.store(function.result, "r", "rp", where)
                    else:
                        (expr,) = em.lower_flat(function.result, "r", where)
                        em.emit(f"slots[0] = {expr}")
                em.emit("return 0")
            em.emit("except BaseException as exc:")
            em.emit("    s.pending = exc")
            em.emit(f"    return new_trap({'host function ' + function.wit_name + ' raised'!r})")
        return _build(em, "trampoline")


def _build(em: Emitter, name: str) -> Callable[..., Any]:
    namespace = em.globals
    code = compile(em.source(), f"<sandlink {name}>", "exec")
    exec(code, namespace)
    fn = namespace[name]
    fn.__sandlink_source__ = em.source()
    return fn


def _allocates(ty: t.Type) -> bool:
    """Does lowering a value of `ty` allocate in guest memory?"""
    if isinstance(ty, t.Prim):
        return ty.kind == "string"
    if isinstance(ty, t.List):
        return True
    if isinstance(ty, (t.Record, t.Tuple)):
        fields = [f for _, f in ty.fields] if isinstance(ty, t.Record) else ty.elements
        return any(_allocates(f) for f in fields)
    if isinstance(ty, t.Flags | t.Enum):
        return False
    return any(p is not None and _allocates(p) for _, p in cases(ty))


_reads_memory = (
    _allocates  # a flat result points into memory exactly when lowering it would allocate
)
