"""Reading the core modules out of a component binary (no wasmtime needed)."""

from __future__ import annotations

from ._errors import SandlinkError

_COMPONENT_HEADER = b"\0asm\x0d\x00\x01\x00"
_CORE_MODULE_SECTION = 1


def _leb128(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise SandlinkError("truncated component binary")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def core_modules(component: bytes) -> list[bytes]:
    """Every core module embedded at the top level of `component`, in order."""
    if not component.startswith(_COMPONENT_HEADER):
        raise SandlinkError("not a WebAssembly component (bad header)")
    modules = []
    pos = len(_COMPONENT_HEADER)
    while pos < len(component):
        section_id = component[pos]
        size, pos = _leb128(component, pos + 1)
        if pos + size > len(component):
            raise SandlinkError("truncated component binary")
        if section_id == _CORE_MODULE_SECTION:
            modules.append(component[pos : pos + size])
        pos += size
    return modules
