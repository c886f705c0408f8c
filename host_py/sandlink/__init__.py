"""sandlink: Rust kernels in one portable, sandboxed wasm component, called at near-native speed.

    import sandlink
    k = sandlink.load()                     # the bundled component, fast wasm backend
    k.add(2, 3)                             # 5
    k.parse_person(text)                    # sandlink.Person, or raises sandlink.JsonError
    k.ws_mask(payload, b"\\x37\\xfa\\x21\\x3d")  # RFC 6455 masking

Backends: "wasm" (default: the component through the fast host), "component" (wasmtime's
component API: slow, the correctness oracle), "native" (the cdylib through ctypes) and
"python" (the pure-Python reference). All return equal values and raise the same errors.
`load_component` calls any other component the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal, Protocol

from ._artifacts import COMPONENT, artifact_path
from ._model import Friend, JsonError, Person
from .host import (
    Err,
    GuestTrap,
    Limits,
    MemoryLimitExceeded,
    Ok,
    OutOfFuel,
    SandlinkError,
    StaleResourceError,
    Timeout,
    UnsupportedTypeError,
    Variant,
    load_component,
)

__all__ = [
    "BACKENDS",
    "Err",
    "Friend",
    "GuestTrap",
    "JsonError",
    "Kernels",
    "Limits",
    "MemoryLimitExceeded",
    "Ok",
    "OutOfFuel",
    "Person",
    "SandlinkError",
    "StaleResourceError",
    "Timeout",
    "UnsupportedTypeError",
    "Variant",
    "load",
    "load_component",
]

Backend = Literal["wasm", "component", "native", "python"]
BACKENDS: tuple[Backend, ...] = ("wasm", "component", "native", "python")


class Kernels(Protocol):
    """What `load()` returns, whatever the backend."""

    def hello(self, name: str) -> None: ...
    def add(self, a: int, b: int) -> int: ...
    def parse_person(self, json: str | bytes) -> Person: ...
    def ws_mask(self, payload: Any, key: int | bytes, offset: int = 0) -> bytes: ...


def load(
    backend: Backend = "wasm",
    *,
    print: Callable[[str], object] | None = None,
    path: str | os.PathLike | None = None,
    limits: Limits | None = None,
    cache_dir: str | os.PathLike | Literal[False] | None = None,
) -> Kernels:
    """Load the kernels.

    `print` receives `hello`'s line (default: sys.stdout). `path` overrides the bundled
    artifact (the component, or for "native" the shared library). `limits` bounds each
    sandboxed call (default `Limits()`: 512 MiB memory, 10 s per call). `cache_dir` is where
    compiled artifacts are kept (default: per user, see `sandlink._cache`; False: none).
    """
    if backend == "python":
        from ._python import PythonKernels

        return PythonKernels(print=print)
    if backend == "native":
        from ._native import NativeKernels

        return NativeKernels(print=print, path=path)
    if backend not in ("wasm", "component"):
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    from ._kernels import HOST_INTERFACE, RECORD_CLASSES, ComponentKernels, stdout_print
    from .host import memory_view

    imports = {HOST_INTERFACE: {"print": print or stdout_print}}
    component = load_component(
        path or artifact_path(COMPONENT),
        imports=imports,
        classes=RECORD_CLASSES,
        backend=backend,
        limits=limits,
        cache_dir=cache_dir,
    )
    return ComponentKernels(component, pin=memory_view if backend == "wasm" else None)
