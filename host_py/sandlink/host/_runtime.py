"""What generated canonical-ABI code calls at run time (names as generated code spells them).

Checks of host values raise TypeError / ValueError / OverflowError naming the argument;
checks of guest values raise GuestTrap (or `OutOfView`, which makes the host refresh its
view of memory and lift again before it gives up).
"""

from __future__ import annotations

import struct
from typing import Any

from ._checks import INT_RANGES, check_buffer, check_int
from ._errors import GuestTrap
from ._types import MAX_BYTE_LENGTH, UTF16_TAG
from ._values import Err, Ok, Variant

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class OutOfView(Exception):
    """The guest pointed past the host's view of its memory (refresh the view, or it lied)."""


# -- host values going in


def bad_bool(where: str, value: Any) -> int:
    raise TypeError(f"{where} must be a bool, not {type(value).__name__}")


def float_bits(where: str, value: Any, kind: str) -> int:
    """The raw bits of `value` as an f32 or f64."""
    if type(value) is not float and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        raise TypeError(f"{where} must be a float ({kind}), not {type(value).__name__}")
    try:
        if kind == "f32":
            single: int = _U32.unpack(_F32.pack(value))[0]
            return single
        double: int = _U64.unpack(_F64.pack(value))[0]
        return double
    except (OverflowError, struct.error):
        raise OverflowError(f"{where}={value!r} is out of range for {kind}") from None


def bits_f32(bits: int) -> float:
    result: float = _F32.unpack(_U32.pack(bits & 0xFFFF_FFFF))[0]
    return result


def bits_f64(bits: int) -> float:
    result: float = _F64.unpack(_U64.pack(bits))[0]
    return result


def char_code(where: str, value: Any) -> int:
    if not isinstance(value, str) or len(value) != 1:
        what = f"a str of length {len(value)}" if isinstance(value, str) else type(value).__name__
        raise TypeError(f"{where} must be a one-character str (char), not {what}")
    code = ord(value)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"{where} is a lone surrogate, not a Unicode scalar value")
    return code


def _text(where: str, value: Any) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise TypeError(f"{where} must be a str, not {type(value).__name__}")
    return value


def _too_long(where: str, nbytes: int) -> ValueError:
    return ValueError(
        f"{where} is {nbytes} bytes long; the canonical ABI carries at most {MAX_BYTE_LENGTH}"
    )


def _surrogate(where: str) -> ValueError:
    return ValueError(f"{where} contains a lone surrogate, which no WIT string can hold")


def encode_utf8(where: str, value: Any) -> bytes:
    try:
        raw = _text(where, value).encode("utf-8")
    except UnicodeEncodeError:
        raise _surrogate(where) from None
    if len(raw) > MAX_BYTE_LENGTH:
        raise _too_long(where, len(raw))
    return raw


def encode_utf16(where: str, value: Any) -> bytes:
    try:
        raw = _text(where, value).encode("utf-16-le")
    except UnicodeEncodeError:
        raise _surrogate(where) from None
    if len(raw) > MAX_BYTE_LENGTH:
        raise _too_long(where, len(raw))
    return raw


def encode_latin1_utf16(where: str, value: Any) -> tuple[bytes, int]:
    """Latin-1 when every character fits, else UTF-16 with the tag bit set in the length."""
    text = _text(where, value)
    try:
        raw = text.encode("latin-1")
        units = len(raw)
    except UnicodeEncodeError:
        raw = encode_utf16(where, text)
        units = len(raw) >> 1 | UTF16_TAG
    if len(raw) > MAX_BYTE_LENGTH:
        raise _too_long(where, len(raw))
    return raw, units


def buffer_of(where: str, value: Any) -> memoryview:
    """Any bytes-like `value` as a contiguous byte view (a strided one is copied)."""
    view = check_buffer(where, value)
    if view.nbytes > MAX_BYTE_LENGTH:
        raise _too_long(where, view.nbytes)
    return view


_NUMBER_TYPES = {"f": (int, float), "d": (int, float)}


def pack_numbers(where: str, value: Any, code: str, kind: str) -> bytes:
    """A list of numbers of WIT type `kind`, packed as struct `code` cells, checked whole."""
    seq = sequence(where, value)
    allowed = _NUMBER_TYPES.get(code, (int,))
    if all(type(x) in allowed for x in seq):
        try:
            raw = struct.pack(f"<{len(seq)}{code}", *seq)
        except (struct.error, OverflowError):
            pass
        else:
            if len(raw) > MAX_BYTE_LENGTH:
                raise _too_long(where, len(raw))
            return raw
    for i, x in enumerate(seq):  # find and name the first bad element
        item = f"{where}[{i}]"
        if kind in INT_RANGES:
            check_int(item, kind, x)
        else:
            float_bits(item, x, kind)
    raise AssertionError("a list that does not pack has a bad element")


def sequence(where: str, value: Any) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{where} must be a list, not {type(value).__name__}")
    return value


def tuple_of(where: str, value: Any, n: int) -> list[Any] | tuple[Any, ...]:
    if not isinstance(value, (tuple, list)) or len(value) != n:
        raise TypeError(f"{where} must be a tuple of {n} values")
    return value


def fields_of(where: str, value: Any, cls: type, attrs: tuple[str, ...]) -> tuple[Any, ...]:
    try:
        return tuple(getattr(value, a) for a in attrs)
    except AttributeError:
        raise TypeError(
            f"{where} must be a {cls.__name__} (or have its fields), not {type(value).__name__}"
        ) from None


def flag_bits(where: str, value: Any, bits: dict[str, int]) -> int:
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{where} must be a set of flag names, not {type(value).__name__}")
    word = 0
    try:
        for flag in value:
            if not isinstance(flag, str):
                raise TypeError(f"{where} must hold flag names (str), not {type(flag).__name__}")
            if flag not in bits:
                raise ValueError(f"{where}: unknown flag {flag!r}")
            word |= 1 << bits[flag]
    except TypeError as exc:
        if exc.args and str(exc.args[0]).startswith(where):
            raise
        raise TypeError(
            f"{where} must be a set of flag names, not {type(value).__name__}"
        ) from None
    return word


def variant_case(where: str, value: Any, names: dict[str, int], what: str) -> tuple[int, Any]:
    if type(value) is not Variant:
        raise TypeError(f"{where} must be a sandlink.Variant ({what}), not {type(value).__name__}")
    return enum_case(where, value.case, names, what), value.value


def enum_case(where: str, value: Any, names: dict[str, int], what: str) -> int:
    if not isinstance(value, str):
        raise TypeError(f"{where} must be a case name (str) of {what}, not {type(value).__name__}")
    try:
        return names[value]
    except KeyError:
        raise ValueError(f"{where}={value!r} is not a case of {what} ({list(names)})") from None


def result_case(where: str, value: Any) -> tuple[int, Any]:
    kind = type(value)
    if kind is Ok:
        return 0, value.value
    if kind is Err:
        return 1, value.value
    raise TypeError(f"{where} must be sandlink.Ok or sandlink.Err, not {kind.__name__}")


def no_payload(where: str, case: str, payload: Any) -> TypeError:
    return TypeError(f"{where}: case {case!r} has no payload, so its value must be None")


# -- guest values coming out


def guest_char(code: int) -> str:
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise GuestTrap(f"guest returned {code:#x}, which is not a Unicode scalar value")
    return chr(code)


def utf16(view: memoryview) -> str:
    return view.tobytes().decode("utf-16-le")


def flag_set(names: tuple[str, ...], bits: int) -> frozenset[str]:
    return frozenset(n for i, n in enumerate(names) if bits >> i & 1)


def bad_case(tag: int, what: str) -> GuestTrap:
    return GuestTrap(f"guest returned discriminant {tag}, which is not a case of {what}")


def bad_span(ptr: int, nbytes: int, align: int, view_length: int) -> None:
    """Raise for a guest range that is misaligned, too long, or past the view."""
    if ptr & (align - 1):
        raise GuestTrap(f"guest pointer {ptr:#x} is not aligned to {align} bytes")
    if nbytes > MAX_BYTE_LENGTH:
        raise GuestTrap(f"guest list or string of {nbytes} bytes is longer than the ABI allows")
    raise OutOfView(ptr, nbytes, view_length)


HELPERS = {
    "_check_int": check_int,
    "_bad_bool": bad_bool,
    "_float_bits": float_bits,
    "_bits_f32": bits_f32,
    "_bits_f64": bits_f64,
    "_char_code": char_code,
    "_char": guest_char,
    "_encode_utf8": encode_utf8,
    "_encode_utf16": encode_utf16,
    "_encode_latin1_utf16": encode_latin1_utf16,
    "_check_buffer": buffer_of,
    "_pack_numbers": pack_numbers,
    "_sequence": sequence,
    "_tuple": tuple_of,
    "_fields_of": fields_of,
    "_flag_bits": flag_bits,
    "_flag_set": flag_set,
    "_variant_case": variant_case,
    "_enum_case": enum_case,
    "_result_case": result_case,
    "_no_payload": no_payload,
    "_utf16": utf16,
    "_bad_case": bad_case,
    "_bad_span": bad_span,
    "_Ok": Ok,
    "_Err": Err,
    "_Variant": Variant,
}
