"""Argument checks shared by every backend, so each raises the same exception for the same input."""

from __future__ import annotations

INT_RANGES: dict[str, tuple[int, int]] = {
    "u8": (0, 0xFF),
    "u16": (0, 0xFFFF),
    "u32": (0, 0xFFFF_FFFF),
    "u64": (0, 0xFFFF_FFFF_FFFF_FFFF),
    "s8": (-0x80, 0x7F),
    "s16": (-0x8000, 0x7FFF),
    "s32": (-0x8000_0000, 0x7FFF_FFFF),
    "s64": (-0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
}


def check_int(name: str, kind: str, value: object) -> int:
    """`value` as an int of WIT type `kind` ("u32"...); TypeError/OverflowError name `name`."""
    if type(value) is not int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int ({kind}), not {type(value).__name__}")
    lo, hi = INT_RANGES[kind]
    if not lo <= value <= hi:
        raise OverflowError(f"{name}={value} is out of range for {kind} ({lo}..={hi})")
    return value


def check_str(name: str, value: object) -> str:
    """`value` as a str that a WIT string can hold (no lone surrogates)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.isascii():
        utf8(name, value)
    return value


def utf8(name: str, value: str) -> bytes:
    """`value` encoded as UTF-8; a lone surrogate is a ValueError naming `name`."""
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"{name} contains a lone surrogate, which no WIT string can hold"
        ) from None


def _view(name: str, value: object) -> memoryview:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a bytes-like object, not str")
    try:
        return memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be a bytes-like object, not {type(value).__name__}") from None


def check_buffer(name: str, value: object) -> memoryview:
    """A flat byte view of any bytes-like `value` (bytes, bytearray, memoryview, array...);
    a strided one (`memoryview(b)[::2]`) is copied into a contiguous one."""
    view = _view(name, value)
    if not view.c_contiguous:
        return memoryview(view.tobytes())
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def writable_buffer(name: str, value: object) -> memoryview:
    """A writable flat byte view of `value` (bytearray, writable memoryview...), or TypeError."""
    view = _view(name, value)
    if not view.c_contiguous:
        raise TypeError(f"{name} must be a contiguous buffer to be written in place")
    view = view.cast("B") if view.format != "B" or view.ndim != 1 else view
    if view.readonly:
        raise TypeError(f"{name} must be a writable buffer (e.g. bytearray), not read-only")
    return view
