"""The one place that touches wasmtime-py's private ctypes handles (hence the exact pin).

Functions here are our own copies of the C entry points (`dll["name"]` makes a new
function object), so changing their argtypes cannot break wasmtime-py's own calls.
Pointers cross as plain ints (addresses); the hot-path call takes prebuilt ctypes objects.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import c_size_t, c_uint64, c_void_p
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi

_dll = _ffi.dll


def _function(name: str, restype: Any, *argtypes: Any) -> Any:
    fn = _dll[name]  # pyright: ignore[reportIndexIssue]
    fn.restype = restype
    if argtypes:
        fn.argtypes = argtypes
    return fn


# (context, func*, args_and_results*, len, trap**) -> wasmtime_error_t*. No argtypes: the hot
# path passes prebuilt ctypes objects (c_void_p / c_size_t), ctypes' cheapest conversion.
func_call_unchecked = _function("wasmtime_func_call_unchecked", c_void_p)
memory_data = _function("wasmtime_memory_data", c_void_p, c_void_p, c_void_p)
memory_data_size = _function("wasmtime_memory_data_size", c_size_t, c_void_p, c_void_p)
caller_context = _function("wasmtime_caller_context", c_void_p, c_void_p)
trap_new = _function("wasmtime_trap_new", c_void_p, ctypes.c_char_p, c_size_t)
error_new = _function("wasmtime_error_new", c_void_p, ctypes.c_char_p)
set_fuel = _function("wasmtime_context_set_fuel", c_void_p)  # (context, u64): prebuilt args

# wasmtime_error_t* (*)(wasmtime_context_t*, void *data, uint64_t *delta, uint8_t *update_kind)
DeadlineCallback = ctypes.CFUNCTYPE(
    c_size_t, c_void_p, c_void_p, ctypes.POINTER(c_uint64), ctypes.POINTER(ctypes.c_uint8)
)
_store_epoch_deadline_callback = _function(
    "wasmtime_store_epoch_deadline_callback", None, c_void_p, DeadlineCallback, c_void_p, c_void_p
)
DEADLINE_CONTINUE = 0

# size_t (*)(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results, size_t n):
# the size_t is the wasm_trap_t* to raise, or 0.
UncheckedCallback = ctypes.CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_void_p, c_size_t)
_Finalizer = ctypes.CFUNCTYPE(None, c_void_p)
_NO_FINALIZER = _Finalizer()
_func_new_unchecked = _function(
    "wasmtime_func_new_unchecked",
    None,
    c_void_p,
    c_void_p,
    UncheckedCallback,
    c_void_p,
    _Finalizer,
    c_void_p,
)


# The compiled call path (host_py/accel, `sandlink.host._accel`): raw calls and epoch ticks
# made natively, through this same library. Absent when it was not built or when
# SANDLINK_PURE=1; the pure-Python path (ctypes) does everything it does, slower.
def _load_accel() -> Any:
    if os.environ.get("SANDLINK_PURE") == "1":
        return None
    try:
        from . import _accel
    except ImportError:
        return None
    # The wasmtime C functions the compiled path calls, bound by address (see _accel).
    module: Any = _accel
    module.bind({name: _address(name) for name in module.C_FUNCTIONS})
    return module


def _address(name: str) -> int:
    return ctypes.cast(_dll[name], c_void_p).value  # type: ignore[return-value]


accel = _load_accel()


def engine_address(engine: wasmtime.Engine) -> int:
    return ctypes.cast(engine.ptr(), c_void_p).value  # type: ignore[return-value]


def library_path() -> Path:
    """The wasmtime shared library wasmtime-py loaded (what compiled artifacts depend on)."""
    return Path(_dll._name)  # pyright: ignore[reportAttributeAccessIssue]


def store_context(store: wasmtime.Store) -> int:
    return ctypes.cast(store._context(), c_void_p).value  # type: ignore[return-value]


def on_epoch_deadline(store: wasmtime.Store, callback: Any, env: int) -> None:
    """Call `callback(context, env, delta, kind)` (a DeadlineCallback, kept alive by the
    caller) at each epoch deadline of `store`."""
    store_ptr = ctypes.cast(store.ptr(), c_void_p).value
    _store_epoch_deadline_callback(store_ptr, callback, env, None)


def func_new(
    store: wasmtime.Store, ty: wasmtime.FuncType, callback: Any, env: int
) -> wasmtime.Func:
    """A raw host function in `store`: `callback(env, caller, args_and_results, n)` (an
    UncheckedCallback, kept alive by the caller) reads and writes raw slots sized by `ty`."""
    func = _ffi.wasmtime_func_t()
    ty_ptr = ctypes.cast(ty.ptr(), c_void_p).value
    _func_new_unchecked(
        store_context(store), ty_ptr, callback, env, _NO_FINALIZER, ctypes.byref(func)
    )
    return wasmtime.Func._from_raw(func)


def func_address(func: wasmtime.Func) -> int:
    return ctypes.addressof(func._func)


def memory_address(memory: wasmtime.Memory) -> int:
    return ctypes.addressof(memory._memory)


def error_from_address(address: int) -> wasmtime.WasmtimeError:
    return wasmtime.WasmtimeError._from_ptr(
        ctypes.cast(address, ctypes.POINTER(_ffi.wasmtime_error_t))
    )


def trap_from_address(address: int) -> tuple[str, str | None]:
    """(message, code name) of a wasm_trap_t*, which this takes ownership of and frees."""
    trap = wasmtime.Trap._from_ptr(ctypes.cast(address, ctypes.POINTER(_ffi.wasm_trap_t)))
    code = trap.trap_code
    return trap.message, None if code is None else code.name


def new_trap(message: str) -> int:
    raw = message.encode()
    result: int = trap_new(raw, len(raw))
    return result
