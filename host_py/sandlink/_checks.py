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


def check_buffer(name: str, value: object) -> memoryview:
    """A read-only byte view of a bytes-like `value` (bytes, bytearray, memoryview, array...)."""
    if isinstance(value, str):
        raise TypeError(f"{name} must be a bytes-like object, not str")
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(f"{name} must be a bytes-like object, not {type(value).__name__}") from None
    if not view.c_contiguous:
        raise TypeError(f"{name} must be a contiguous buffer")
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def writable_buffer(name: str, value: object) -> memoryview:
    """A writable byte view of `value` (bytearray, writable memoryview...), or TypeError."""
    view = check_buffer(name, value)
    if view.readonly:
        raise TypeError(f"{name} must be a writable buffer (e.g. bytearray), not read-only")
    return view


def mask_key(value: object) -> int:
    """A masking key given as a u32 or as the 4 wire bytes, as the big-endian u32 the WIT takes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) != 4:
            raise ValueError(f"key must be 4 bytes, got {len(raw)}")
        return int.from_bytes(raw, "big")
    return check_int("key", "u32", value)


def json_text(value: object) -> str:
    """The JSON text as str (bytes are decoded); invalid UTF-8 is a JsonError at its position."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                _invalid_utf8(value[: exc.start])
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            _invalid_utf8(raw[: exc.start].decode("utf-8"))
    raise TypeError(f"json must be a str or UTF-8 bytes, not {type(value).__name__}")


def _invalid_utf8(before: str) -> None:
    """Raise the JsonError for text that is not valid UTF-8 right after `before`."""
    from ._errors import JsonError

    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    raise JsonError("invalid UTF-8", line, column)
