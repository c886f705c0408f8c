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

__all__ = [
    "Err",
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
    "load_component",
]

Imports = Mapping[str, Mapping[str, Callable[..., Any]]]


def load_component(
    path: str | os.PathLike | bytes,
    imports: Imports | None = None,
    *,
    classes: Mapping[str, type] | None = None,
    backend: Literal["wasm", "component"] = "wasm",
    limits: Limits | None = None,
    cache_dir: str | os.PathLike | Literal[False] | None = None,
) -> Any:
    """Load any component: its exports become methods (Python spelling: `parse_person`).

    `imports` maps interface names (`pkg:ns/iface@ver` or just `iface`; `$root` for
    world-level functions) to {function name: callable}. Records come back as dataclasses
    generated from the component's types, or as the classes given in `classes` by WIT name.
    `limits` bounds every entry into the guest (default `Limits()`); `cache_dir` is where
    compiled artifacts are kept (default: per user; False: none).
    """
    limits = Limits() if limits is None else limits
    if backend == "wasm":
        from ._cache import Cache, default_dir
        from ._fast import WasmComponent

        directory = None if cache_dir is False else Path(cache_dir or default_dir()).absolute()
        return WasmComponent(
            path, imports=imports, classes=classes, limits=limits, cache=Cache(directory)
        )
    if backend == "component":
        from ._oracle import ComponentApiInstance

        return ComponentApiInstance(
            path, imports=imports, classes=dict(classes or {}), limits=limits
        )
    raise ValueError(f"backend must be 'wasm' or 'component', not {backend!r}")
