"""sandlink: Rust kernels in one portable, sandboxed wasm component, called at near-native speed.

    import sandlink
    k = sandlink.load()                     # the bundled component, fast wasm backend
    k.add(2, 3)                             # 5
    k.parse_person(text)                    # sandlink.Person, or raises sandlink.JsonError
    k.ws_mask(payload, b"\\x37\\xfa\\x21\\x3d")  # RFC 6455 masking

Backends: "wasm" (default: the component through the fast host), "oracle" (the component
through wasmtime's own component API: slow, the correctness oracle; "component" is its old
name), "native" (the cdylib through ctypes) and "python" (the pure-Python reference). All
return equal values and raise the same errors.
`load_component` calls any other component the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal, Protocol

from . import _api
from ._api import Friend, Person
from ._buffer import Buffer
from ._bundled import COMPONENT, NATIVE_LIBRARY, bundled
from ._masker import Masker
from ._model import JsonError
from ._version import __version__
from .host import (
    Err,
    GuestExit,
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
    Wasi,
    load_component,
    memory_view,
)
from .host._backends import backend as _backend

__all__ = [
    "BACKENDS",
    "Buffer",
    "Err",
    "Friend",
    "GuestExit",
    "GuestTrap",
    "JsonError",
    "Kernels",
    "Limits",
    "Masker",
    "MemoryLimitExceeded",
    "Ok",
    "OutOfFuel",
    "Person",
    "SandlinkError",
    "StaleResourceError",
    "Timeout",
    "UnsupportedTypeError",
    "Variant",
    "Wasi",
    "__version__",
    "load",
    "load_component",
]

Backend = Literal["wasm", "oracle", "native", "python"]
BACKENDS: tuple[Backend, ...] = ("wasm", "oracle", "native", "python")


class Kernels(_api.Exports, Protocol):
    """What `load()` returns, whatever the backend: the WIT exports (`_api.Exports`, each
    documented there), with `parse_person` and `ws_mask` adapted, and buffers."""

    backend: str

    def parse_person(self, json: str | bytes | bytearray | memoryview) -> Person: ...  # type: ignore[override]
    def ws_mask(
        self, payload: bytes | bytearray | memoryview, key: int | bytes, offset: int = 0
    ) -> bytes: ...
    def buffer(self, n: int) -> Buffer: ...
    def ws_mask_into(
        self,
        buf: Buffer | bytearray | memoryview,
        key: int | bytes,
        offset: int = 0,
        nbytes: int | None = None,
    ) -> None: ...
    def masker(self, key: int | bytes) -> Masker: ...


def load(
    backend: Backend = "wasm",
    *,
    print: Callable[[str], object] | None = None,
    path: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
    cache_dir: str | os.PathLike[str] | Literal[False] | None = None,
    compiled: bool | None = None,
) -> Kernels:
    """Load the kernels.

    `print` receives `hello`'s line (default: sys.stdout). `path` overrides the bundled
    artifact (the component, or for "native" the shared library). `limits` bounds each
    sandboxed call (default `Limits()`: 512 MiB memory, 10 s per call). `cache_dir` is where
    compiled artifacts are kept (default: per user; False: none). `compiled` picks the
    `wasm` backend's call path, as for `load_component`.
    """
    how: dict[str, Any] = {"print": print, "path": path, "limits": limits, "cache_dir": cache_dir}
    kernels: Any = _load(_backend(backend, BACKENDS), compiled=compiled, **how)
    kernels._how = tuple({**how, "compiled": compiled}.items())  # how to load it: pickling
    result: Kernels = kernels
    return result


def _load(
    backend: str,
    *,
    print: Callable[[str], object] | None,
    path: str | os.PathLike[str] | None,
    limits: Limits | None,
    cache_dir: str | os.PathLike[str] | Literal[False] | None,
    compiled: bool | None,
) -> Kernels:
    from ._kernels import RECORD_CLASSES, GuestKernels, HostKernels, imports_for

    imports = imports_for(print)
    if compiled is not None and backend != "wasm":
        raise ValueError(f"compiled= picks a call path of the wasm backend, not of {backend!r}")
    if backend == "python":
        from ._python import PythonExports

        return HostKernels(backend, PythonExports(imports), "the Python reference")  # type: ignore[return-value]
    if backend == "native":
        from ._native import NativeExports

        library = path or bundled(NATIVE_LIBRARY)
        return HostKernels(backend, NativeExports(library, imports, RECORD_CLASSES), library)  # type: ignore[return-value]
    component = path or bundled(COMPONENT)
    exports = load_component(
        component,
        imports=imports,
        classes=RECORD_CLASSES,
        backend=backend,  # type: ignore[arg-type]
        limits=limits,
        cache_dir=cache_dir,
        compiled=compiled,
    )
    pin = memory_view if backend == "wasm" else None
    return GuestKernels(backend, exports, component, pin)  # type: ignore[return-value]
