"""Backend names, and the old spellings that still work (with a DeprecationWarning)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

RENAMED = {"component": "oracle"}  # old name -> new name


def backend(name: object, known: Sequence[str]) -> str:
    """`name` as a current backend name; ValueError for an unknown one."""
    if isinstance(name, str) and name in RENAMED:
        new = RENAMED[name]
        warnings.warn(f"backend {name!r} is now called {new!r}", DeprecationWarning, stacklevel=3)
        name = new
    if name not in known:
        raise ValueError(f"backend must be one of {', '.join(map(repr, known))}, not {name!r}")
    return name  # type: ignore[return-value]
