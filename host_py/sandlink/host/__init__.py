"""sandlink.host: call any WebAssembly component from Python, sandboxed, at near-native speed.

    from sandlink.host import load_component, Limits
    c = load_component("thing.wasm", imports={"host-fns": {"log": print}})
    c.some_export(1, "two")

The generic component host: it reads the component binary, instantiates its core modules
the way the component says, and calls every export through the canonical ABI compiled to
Python from the component's own types. It knows nothing of sandlink's kernels.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from ._errors import (
    GuestExit,
    GuestTrap,
    MemoryLimitExceeded,
    OutOfFuel,
    SandlinkError,
    StaleResourceError,
    Timeout,
    UnsupportedTypeError,
)
from ._limits import Limits
from ._values import Err, Ok, Variant
from .wasi import Wasi


def memory_view(resource: Any, address: int, length: int) -> memoryview:
    """A writable view of `length` bytes at `address` in the linear memory of the instance
    that holds `resource` (an exported resource object of the fast host): for resources
    that hand out where their bytes are. The view keeps that memory alive; it is only as
    trustworthy as the guest that gave the address."""
    from ._fast import memory_view as view

    return view(resource, address, length)


__all__ = [
    "COMPILED",
    "Err",
    "GuestExit",
    "GuestTrap",
    "Imports",
    "Limits",
    "MemoryLimitExceeded",
    "Ok",
    "OutOfFuel",
    "SandlinkError",
    "StaleResourceError",
    "Timeout",
    "UnsupportedTypeError",
    "Variant",
    "Wasi",
    "load_component",
    "memory_view",
]

Imports = Mapping[str, Mapping[str, Callable[..., Any]]]

COMPILED: bool  # see __getattr__


def __getattr__(name: str) -> Any:
    # COMPILED: is the compiled call path (`sandlink.host._accel`) installed and on? Without
    # it the `wasm` backend makes the same calls in pure Python (slower, just as checked).
    # Looked up on first use: it imports wasmtime, which `import sandlink` does not.
    if name == "COMPILED":
        from ._ffi import accel

        return accel is not None
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _call_path(compiled: bool | None) -> bool:
    from ._ffi import accel

    if compiled is None:
        return accel is not None
    if type(compiled) is not bool:
        raise TypeError(f"compiled must be a bool or None, not {type(compiled).__name__}")
    if compiled and accel is None:
        raise SandlinkError(
            "the compiled call path is not available: "
            + (
                "SANDLINK_PURE=1 turns it off"
                if os.environ.get("SANDLINK_PURE") == "1"
                else "sandlink.host._accel was not built (`just build`)"
            )
        )
    return compiled


def load_component(
    path: str | os.PathLike[str] | bytes,
    imports: Imports | None = None,
    *,
    classes: Mapping[str, type] | None = None,
    backend: Literal["wasm", "oracle"] = "wasm",
    limits: Limits | None = None,
    cache_dir: str | os.PathLike[str] | Literal[False] | None = None,
    compiled: bool | None = None,
    wasi: Any = None,
) -> Any:
    """Load any component: its exports become methods (Python spelling: `parse_person`).

    `imports` maps interface names (`pkg:ns/iface@ver` or just `iface`; `$root` for
    world-level functions) to {function name: callable}. Records come back as dataclasses
    generated from the component's types, or as the classes given in `classes` by WIT name.
    `limits` bounds every entry into the guest (default `Limits()`); `cache_dir` is where
    compiled artifacts are kept (default: per user; False: none). `backend="oracle"` runs it
    through wasmtime's own component API instead (slow: the correctness oracle).
    `compiled` picks the `wasm` backend's call path: the compiled one (`COMPILED` says
    whether it is installed; True requires it), or the pure-Python one (False); the default
    is the compiled one when it is there (it is not under SANDLINK_PURE=1).
    `wasi` runs a component that imports WASI 0.2: a `sandlink.Wasi` saying what it may
    use (arguments, environment, stdin, stdout/stderr, preopened directories), or True for
    nothing but clocks and random numbers (its output goes to the `sandlink.wasi` logger).
    """
    from ._backends import backend as check_backend

    backend = check_backend(backend, ("wasm", "oracle"))  # type: ignore[assignment]
    if compiled is not None and backend != "wasm":
        raise ValueError(f"compiled= picks a call path of the wasm backend, not of {backend!r}")
    limits = Limits() if limits is None else limits
    if not isinstance(limits, Limits):
        raise TypeError(f"limits must be a sandlink.Limits, not {type(limits).__name__}")
    if wasi is not None and wasi is not False:
        if wasi is True:
            wasi = Wasi()
        elif not isinstance(wasi, Wasi):
            raise TypeError(
                f"wasi must be a sandlink.Wasi, True or None, not {type(wasi).__name__}"
            )
    else:
        wasi = None
    if isinstance(path, (bytes, bytearray, memoryview)):
        wasm, label = bytes(path), f"<{len(path)} bytes>"
    else:
        with open(path, "rb") as f:
            wasm = f.read()
        label = os.fspath(path)
    if backend == "wasm":
        compiled_path = _call_path(compiled)
        from ._cache import Cache, default_dir
        from ._fast import FastHost

        directory = None if cache_dir is False else Path(cache_dir or default_dir()).absolute()
        host = FastHost(
            wasm, label, imports, classes, limits, Cache(directory), compiled_path, wasi
        )
        return host.component
    from ._oracle import OracleHost

    return OracleHost(wasm, label, imports, classes, limits, wasi).component
