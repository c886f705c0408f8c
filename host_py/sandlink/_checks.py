"""Argument checks of the kernels' own API (the host's generic checks are in host._checks)."""

from __future__ import annotations

from .host._checks import check_int


def mask_key(value: object) -> int:
    """A masking key given as a u32 or as the 4 wire bytes, as the big-endian u32 the WIT takes."""
    if type(value) is bytes and len(value) == 4:  # the common case, first
        return int.from_bytes(value, "big")
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) != 4:
            raise ValueError(f"key must be 4 bytes, got {len(raw)}")
        return int.from_bytes(raw, "big")
    return check_int("key", "u32", value)


def prefix_length(nbytes: object, size: int) -> int:
    """How many bytes of a `size`-byte buffer to work on: all (None) or the first `nbytes`."""
    if nbytes is None:
        return size
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise TypeError(f"nbytes must be an int or None, not {type(nbytes).__name__}")
    if not 0 <= nbytes <= size:
        raise ValueError(f"nbytes must be between 0 and the buffer's {size} bytes, not {nbytes}")
    return nbytes


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
    from ._model import JsonError

    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    raise JsonError("invalid UTF-8", line, column)
