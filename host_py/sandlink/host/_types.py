"""WIT value types: each class is one type, and everything that depends on it lives on it.

A type knows its canonical-ABI layout (`size`, `alignment`, `flat`) and emits the Python
that moves a value of it across the canonical ABI (see `_codegen.Emitter` for the contract
of generated code). Lowering is split in two phases so that a bad argument is rejected
before the guest is touched:

- `check(em, value, where)` validates a Python value and returns the name of its
  *prepared* form (ints as ints, strings encoded, lists of prepared elements, records and
  tuples as tuples, variant-likes as `(case index, prepared payload)`, flags as one int);
- `lower(em, prepared)` returns the flat raw-slot expressions of a prepared value and
  `store(em, prepared, addr)` writes it to linear memory; both may allocate in the guest.

Lifting reads guest data: `lift(em, slots)` from flat raw slots, `load(em, addr)` from
memory; both verify what the guest hands over (bounds, alignment, discriminants, UTF-8)
and charge lists and strings to the call's lifting budget.

Flat values are raw bit patterns (wasmtime's raw slots hold unsigned ints), which makes the
canonical ABI's variant "join" coercions no-ops when lowering and a mask when lifting.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ._checks import INT_RANGES
from ._records import FIELDS

if TYPE_CHECKING:
    from ._codegen import Emitter

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1
MAX_BYTE_LENGTH = (1 << 28) - 1  # of one string or list (the spec's MAX_*_BYTE_LENGTH)
UTF16_TAG = 1 << 31


def align_to(offset: int, alignment: int) -> int:
    return (offset + alignment - 1) // alignment * alignment


def class_name(wit_name: str) -> str:
    """`json-error` -> `JsonError`."""
    return "".join(part[:1].upper() + part[1:] for part in wit_name.split("-"))


def join(a: str, b: str) -> str:
    """The canonical ABI's join of two flat core types (variant payloads share slots)."""
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


class ValType:
    """Base of every WIT value type; types are compared by identity (they form trees)."""

    __slots__ = ("alignment", "flat", "size")
    name: str | None = None

    def _layout(self, size: int, alignment: int, flat: tuple[str, ...]) -> None:
        self.size = size
        self.alignment = alignment
        self.flat = flat

    def describe(self) -> str:
        """The type in WIT syntax (for messages)."""
        raise NotImplementedError

    def annotation(self) -> str:
        """The type of its Python values, as an annotation (`sandlink.Ok` is `Ok`)."""
        return "Any"

    def accel_spec(self) -> tuple[Any, ...]:
        """The type for the compiled call path (`sandlink.host._accel`): `(kind, size,
        alignment, flat length, *details)`; its layout stays defined here."""
        return (self.kind_name, self.size, self.alignment, len(self.flat), *self.accel_details())

    kind_name = ""

    def accel_details(self) -> tuple[Any, ...]:
        return ()

    def compiles(self) -> bool:
        """Can the compiled call path carry values of this type?"""
        return bool(self.kind_name) and all(child.compiles() for child in self.children())

    def __repr__(self) -> str:
        return f"<WIT {self.describe()}>"

    def children(self) -> tuple[ValType, ...]:
        return ()

    def walk(self) -> Iterator[ValType]:
        """This type and every type inside it."""
        yield self
        for child in self.children():
            yield from child.walk()

    def allocates(self) -> bool:
        """Does lowering a value of this type allocate guest memory?"""
        return any(child.allocates() for child in self.children())

    def reads_memory(self) -> bool:
        """Does lifting a value of this type read lists or strings from memory?"""
        return any(child.reads_memory() for child in self.children())

    def amplifies(self) -> bool:
        """Can a lifted value of this type be much bigger than the guest memory it reads (a
        list whose elements point elsewhere, maybe all at the same bytes)? Then its lift
        charges what it builds to a budget."""
        return any(child.amplifies() for child in self.children())

    # -- code generation: see the module docstring

    def check(self, em: Emitter, value: str, where: str) -> str:
        raise NotImplementedError

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        raise NotImplementedError

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        raise NotImplementedError

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        raise NotImplementedError

    def load(self, em: Emitter, addr: str) -> str:
        raise NotImplementedError

    # -- fixed-position leaves, for unpacking a whole record (or array of them) at once

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        """Append (offset, struct code) of each memory cell of this type (see leaf_format)."""
        raise NotImplementedError

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        """Build a value from the tuple `raw` of unpacked cells, consuming its indices."""
        raise NotImplementedError


class _Scalar(ValType):
    """A type held in one flat slot and one fixed-size memory cell (struct code `code`)."""

    __slots__ = ()
    code = ""

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        return [prepared]

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        em.emit(f"{em.struct(self.code)}.pack_into(_cx.m, {addr}, {prepared})")

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        return em.bind(self.from_raw(next(slots)))

    def load(self, em: Emitter, addr: str) -> str:
        return em.bind(self.from_cell(f"{em.struct(self.code)}.unpack_from(_m, {addr})[0]"))

    def from_raw(self, raw: str) -> str:
        """The Python value of a raw flat slot."""
        raise NotImplementedError

    def from_cell(self, cell: str) -> str:
        """The Python value of an unpacked memory cell."""
        return cell

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        cells.append((offset, self.code))

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        cell = f"{raw}[{next(index)}]"
        value = self.from_cell(cell)
        return value if value == cell else em.bind(value)  # a plain cell needs no name


class Bool(_Scalar):
    __slots__ = ()
    code = "B"
    kind_name = "bool"

    def __init__(self) -> None:
        self._layout(1, 1, ("i32",))

    def describe(self) -> str:
        return "bool"

    def annotation(self) -> str:
        return "bool"

    def check(self, em: Emitter, value: str, where: str) -> str:
        return em.bind(
            f"1 if {value} is True else 0 if {value} is False else _bad_bool({where!r}, {value})"
        )

    def from_raw(self, raw: str) -> str:
        return f"({raw} & 0xFFFFFFFF) != 0"

    def from_cell(self, cell: str) -> str:
        return f"{cell} != 0"


class Int(_Scalar):
    __slots__ = ("kind",)
    kind_name = "int"

    def accel_details(self) -> tuple[Any, ...]:
        return (self.kind,)

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "u8" ... "s64"
        bits = int(kind[1:])
        self._layout(bits // 8, bits // 8, ("i64",) if bits == 64 else ("i32",))

    @property
    def code(self) -> str:  # type: ignore[override]
        return {"u8": "B", "s8": "b", "u16": "H", "s16": "h", "u32": "I", "s32": "i"}.get(
            self.kind, "Q" if self.kind == "u64" else "q"
        )

    def describe(self) -> str:
        return self.kind

    def annotation(self) -> str:
        return "int"

    def check(self, em: Emitter, value: str, where: str) -> str:
        lo, hi = INT_RANGES[self.kind]
        var = em.bind(value)
        em.emit(f"if type({var}) is not int or not {lo} <= {var} <= {hi}:")
        em.emit(f"    {var} = _check_int({where!r}, {self.kind!r}, {var})")
        return var

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        if self.kind.startswith("u"):
            return [prepared]
        return [f"({prepared} & {(1 << (64 if self.kind == 's64' else 32)) - 1:#x})"]

    def from_raw(self, raw: str) -> str:
        bits = int(self.kind[1:])
        mask = (1 << bits) - 1
        if self.kind.startswith("u"):
            return f"({raw} & {mask:#x})"
        sign = 1 << (bits - 1)
        return f"((({raw} & {mask:#x}) ^ {sign:#x}) - {sign:#x})"


class Float(_Scalar):
    __slots__ = ("kind",)
    kind_name = "float"

    def accel_details(self) -> tuple[Any, ...]:
        return (self.kind,)

    def __init__(self, kind: str) -> None:
        self.kind = kind  # "f32" or "f64"
        self._layout(4 if kind == "f32" else 8, 4 if kind == "f32" else 8, (kind,))

    @property
    def code(self) -> str:  # type: ignore[override]
        return "f" if self.kind == "f32" else "d"

    def describe(self) -> str:
        return self.kind

    def annotation(self) -> str:
        return "float"

    def check(self, em: Emitter, value: str, where: str) -> str:
        return em.bind(f"_float_bits({where!r}, {value}, {self.kind!r})")  # the raw bits

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        bits = "I" if self.kind == "f32" else "Q"
        em.emit(f"{em.struct(bits)}.pack_into(_cx.m, {addr}, {prepared})")

    def from_raw(self, raw: str) -> str:
        return f"_bits_{self.kind}({raw})"


class Char(_Scalar):
    __slots__ = ()
    code = "I"
    kind_name = "char"

    def __init__(self) -> None:
        self._layout(4, 4, ("i32",))

    def describe(self) -> str:
        return "char"

    def annotation(self) -> str:
        return "str"

    def check(self, em: Emitter, value: str, where: str) -> str:
        return em.bind(f"_char_code({where!r}, {value})")

    def from_raw(self, raw: str) -> str:
        return f"_char({raw} & 0xFFFFFFFF)"

    def from_cell(self, cell: str) -> str:
        return f"_char({cell})"


class String(ValType):
    """A string; its encoding in guest memory is the function's `string-encoding` option."""

    __slots__ = ()
    kind_name = "string"

    def __init__(self) -> None:
        self._layout(8, 4, ("i32", "i32"))

    def describe(self) -> str:
        return "string"

    def annotation(self) -> str:
        return "str"

    def allocates(self) -> bool:
        return True

    def reads_memory(self) -> bool:
        return True

    def check(self, em: Emitter, value: str, where: str) -> str:
        # utf8 and utf16: the encoded bytes; latin1+utf16: (bytes, tagged code units).
        var = em.bind(f"_encode_{em.encoding_id}({where!r}, {value})")
        em.need(f"len({var})" if em.encoding != "latin1+utf16" else f"len({var}[0])")
        return var

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        ptr = em.fresh("p")
        if em.encoding == "latin1+utf16":
            raw, units = em.fresh("b"), em.fresh("u")
            em.emit(f"{raw}, {units} = {prepared}")
            align = 2
        else:
            raw = prepared
            units = f"len({raw})" if em.encoding == "utf8" else f"len({raw}) >> 1"
            align = 1 if em.encoding == "utf8" else 2
        em.emit(f"{ptr} = _cx.alloc(_ctx, len({raw}), {align})")
        em.emit(f"_cx.m[{ptr}:{ptr} + len({raw})] = {raw}")
        return [ptr, units]

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        ptr, units = self.lower(em, prepared)
        em.emit(f"{em.struct('II')}.pack_into(_cx.m, {addr}, {ptr}, {units})")

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        ptr = em.bind(f"{next(slots)} & 0xFFFFFFFF")
        units = em.bind(f"{next(slots)} & 0xFFFFFFFF")
        return self._text(em, ptr, units)

    def load(self, em: Emitter, addr: str) -> str:
        ptr, units = em.fresh("p"), em.fresh("u")
        em.emit(f"{ptr}, {units} = {em.struct('II')}.unpack_from(_m, {addr})")
        return self._text(em, ptr, units)

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        cells.append((offset, "II"))

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        ptr, units = em.bind(f"{raw}[{next(index)}]"), em.bind(f"{raw}[{next(index)}]")
        return self._text(em, ptr, units)

    def _text(self, em: Emitter, ptr: str, units: str) -> str:
        if em.encoding == "utf8":
            em.span(ptr, units, 1)
            return em.bind(f"_m[{ptr}:{ptr} + {units}].tobytes().decode()")
        if em.encoding == "utf16":
            nbytes = em.bind(f"{units} << 1")
            em.span(ptr, nbytes, 2)
            return em.bind(f"_utf16(_m[{ptr}:{ptr} + {nbytes}])")
        # latin1+utf16: the top bit of the length says UTF-16 (then it counts code units).
        text, nbytes = em.fresh("v"), em.fresh("n")
        em.emit(f"if {units} & {UTF16_TAG:#x}:")
        with em.indent():
            em.emit(f"{nbytes} = ({units} ^ {UTF16_TAG:#x}) << 1")
            em.span(ptr, nbytes, 2)
            em.emit(f"{text} = _utf16(_m[{ptr}:{ptr} + {nbytes}])")
        em.emit("else:")
        with em.indent():
            em.span(ptr, units, 2)
            em.emit(f"{text} = _m[{ptr}:{ptr} + {units}].tobytes().decode('latin-1')")
        return text


class List(ValType):
    __slots__ = ("element",)
    kind_name = "list"

    def accel_details(self) -> tuple[Any, ...]:
        packed = self.packed_code
        return (
            self.element.accel_spec(),
            packed,
            None if packed is None else self.element.describe(),
        )

    def __init__(self, element: ValType) -> None:
        self.element = element
        self._layout(8, 4, ("i32", "i32"))

    def describe(self) -> str:
        return f"list<{self.element.describe()}>"

    def annotation(self) -> str:
        return "bytes" if self.is_bytes else f"list[{self.element.annotation()}]"

    def children(self) -> tuple[ValType, ...]:
        return (self.element,)

    def allocates(self) -> bool:
        return True

    def reads_memory(self) -> bool:
        return True

    def amplifies(self) -> bool:
        return self.element.reads_memory()

    @property
    def is_bytes(self) -> bool:
        return isinstance(self.element, Int) and self.element.kind == "u8"

    @property
    def packed_code(self) -> str | None:
        """The struct code of elements that pack as plain numbers (checked in one go)."""
        element = self.element
        if isinstance(element, (Int, Float)) and not self.is_bytes:
            return {"f32": "f", "f64": "d"}.get(element.kind) or element.code
        return None

    def check(self, em: Emitter, value: str, where: str) -> str:
        element = self.element
        if self.is_bytes:
            var = em.bind(value)
            em.emit(f"if type({var}) is not bytes: {var} = _check_buffer({where!r}, {var})")
            em.need(f"len({var})")
            return var
        if self.packed_code is not None:
            var = em.bind(
                f"_pack_numbers({where!r}, {value}, {self.packed_code!r}, {element.describe()!r})"
            )
            em.need(f"len({var})")
            return var
        seq, out, item = em.fresh("q"), em.fresh("l"), em.fresh("e")
        em.emit(f"{seq} = _sequence({where!r}, {value})")
        em.need(f"len({seq}) * {element.size}")
        em.emit(f"{out} = []")
        em.emit(f"for {item} in {seq}:")
        with em.indent():
            em.emit(f"{out}.append({element.check(em, item, where + '[*]')})")
        return out

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        element = self.element
        ptr, n = em.fresh("p"), em.fresh("n")
        if self.is_bytes or self.packed_code is not None:
            em.emit(f"{n} = len({prepared})")
            em.emit(f"{ptr} = _cx.alloc(_ctx, {n}, {element.alignment})")
            em.emit(f"_cx.m[{ptr}:{ptr} + {n}] = {prepared}")
            return [ptr, n if self.is_bytes else f"{n} // {element.size}"]
        em.emit(f"{n} = len({prepared})")
        em.emit(f"{ptr} = _cx.alloc(_ctx, {n} * {element.size}, {element.alignment})")
        item, i = em.fresh("e"), em.fresh("i")
        em.emit(f"for {i}, {item} in enumerate({prepared}):")
        with em.indent():
            element.store(em, item, f"{ptr} + {i} * {element.size}")
        return [ptr, n]

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        ptr, n = self.lower(em, prepared)
        em.emit(f"{em.struct('II')}.pack_into(_cx.m, {addr}, {ptr}, {n})")

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        ptr = em.bind(f"{next(slots)} & 0xFFFFFFFF")
        n = em.bind(f"{next(slots)} & 0xFFFFFFFF")
        return self._elements(em, ptr, n)

    def load(self, em: Emitter, addr: str) -> str:
        ptr, n = em.fresh("p"), em.fresh("n")
        em.emit(f"{ptr}, {n} = {em.struct('II')}.unpack_from(_m, {addr})")
        return self._elements(em, ptr, n)

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        cells.append((offset, "II"))

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        ptr, n = em.bind(f"{raw}[{next(index)}]"), em.bind(f"{raw}[{next(index)}]")
        return self._elements(em, ptr, n)

    def _elements(self, em: Emitter, ptr: str, n: str) -> str:
        element = self.element
        width = element.size
        nbytes = n if width == 1 else em.bind(f"{n} * {width}")
        em.span(ptr, nbytes, element.alignment)
        if self.is_bytes:
            return em.bind(f"_m[{ptr}:{ptr} + {n}].tobytes()")
        if isinstance(element, Int) and element.kind == "s8":
            return em.bind(f"_m[{ptr}:{ptr} + {n}].cast('b').tolist()")
        fmt, variants = leaf_format(element)
        if isinstance(element, _Scalar):  # one cell per element
            rows = f"{em.struct(fmt)}.iter_unpack(_m[{ptr}:{ptr} + {nbytes}].tobytes())"
            return em.bind(f"[{element.from_cell('_r[0]')} for _r in {rows}]")
        result = em.bind("[]")
        if not variants:  # fixed layout: unpack each element whole
            row = em.fresh("r")
            rows = f"{em.struct(fmt)}.iter_unpack(_m[{ptr}:{ptr} + {nbytes}].tobytes())"
            em.emit(f"for {row} in {rows}:")
            with em.in_list():
                value = element.from_leaves(em, row, itertools.count(), {}, "None")
                em.emit(f"{result}.append({value})")
            return result
        i = em.fresh("i")
        em.emit(f"for {i} in range({n}):")
        with em.in_list():
            em.emit(f"{result}.append({element.load(em, f'{ptr} + {i} * {width}')})")
        return result


class Record(ValType):
    """A record; `fields` are (Python attribute, WIT label, type); `cls` builds the values."""

    __slots__ = ("cls", "fields", "name")
    kind_name = "record"

    def accel_details(self) -> tuple[Any, ...]:
        attrs = tuple(a for a, _, _ in self.fields)
        fields = tuple(f.accel_spec() for _, _, f in self.fields)
        return (self.cls, attrs, fields, _fillable(self.cls, attrs))

    def __init__(self, fields: tuple[tuple[str, str, ValType], ...], name: str | None = None):
        self.fields = fields
        self.name = name
        self.cls: type | None = None
        _layout_struct(self, [f for _, _, f in fields])

    def describe(self) -> str:
        return (
            self.name
            or "record { " + ", ".join(f"{w}: {t.describe()}" for _, w, t in self.fields) + " }"
        )

    def annotation(self) -> str:
        return self.cls.__name__ if self.cls is not None else class_name(self.name or "record")

    def children(self) -> tuple[ValType, ...]:
        return tuple(f for _, _, f in self.fields)

    def check(self, em: Emitter, value: str, where: str) -> str:
        parts = [em.fresh("v") for _ in self.fields]
        attrs = tuple(a for a, _, _ in self.fields)
        source = f"_fields_of({where!r}, {value}, {em.const(self.cls, 'C')}, {attrs!r})"
        em.emit(f"{', '.join(parts)}, = {source}")
        prepared = [
            f.check(em, part, f"{where}.{a}")
            for part, (a, _, f) in zip(parts, self.fields, strict=True)
        ]
        return em.bind(f"({', '.join(prepared)},)")

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        return _lower_parts(em, prepared, self.children())

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        _store_parts(em, prepared, self.children(), addr)

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        parts = [f.lift(em, slots) for f in self.children()]
        return em.bind(f"{em.const(self.cls, 'C')}({', '.join(parts)})")

    def load(self, em: Emitter, addr: str) -> str:
        return _load_fixed(self, em, addr)

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        _struct_leaves(self.children(), offset, cells, variants)

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        parts = [f.from_leaves(em, raw, index, variants, addr) for f in self.children()]
        return em.bind(f"{em.const(self.cls, 'C')}({', '.join(parts)})")


class Tuple(ValType):
    __slots__ = ("elements",)
    kind_name = "tuple"

    def accel_details(self) -> tuple[Any, ...]:
        return (tuple(e.accel_spec() for e in self.elements),)

    def __init__(self, elements: tuple[ValType, ...]) -> None:
        self.elements = elements
        _layout_struct(self, list(elements))

    def describe(self) -> str:
        return f"tuple<{', '.join(e.describe() for e in self.elements)}>"

    def annotation(self) -> str:
        return f"tuple[{', '.join(t.annotation() for t in self.elements)}]"

    def children(self) -> tuple[ValType, ...]:
        return self.elements

    def check(self, em: Emitter, value: str, where: str) -> str:
        parts = [em.fresh("v") for _ in self.elements]
        em.emit(f"{', '.join(parts)}, = _tuple({where!r}, {value}, {len(parts)})")
        prepared = [
            e.check(em, part, f"{where}[{i}]")
            for i, (part, e) in enumerate(zip(parts, self.elements, strict=True))
        ]
        return em.bind(f"({', '.join(prepared)},)")

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        return _lower_parts(em, prepared, self.elements)

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        _store_parts(em, prepared, self.elements, addr)

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        parts = [e.lift(em, slots) for e in self.elements]
        return em.bind(f"({', '.join(parts)},)")

    def load(self, em: Emitter, addr: str) -> str:
        return _load_fixed(self, em, addr)

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        _struct_leaves(self.elements, offset, cells, variants)

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        parts = [e.from_leaves(em, raw, index, variants, addr) for e in self.elements]
        return em.bind(f"({', '.join(parts)},)")


class Flags(ValType):
    __slots__ = ("name", "names")
    kind_name = "flags"

    def accel_details(self) -> tuple[Any, ...]:
        return (self.names, {n: i for i, n in enumerate(self.names)})

    def __init__(self, names: tuple[str, ...], name: str | None = None) -> None:
        self.names = names
        self.name = name
        n = len(names)
        words = (n + 31) // 32
        size = 1 if n <= 8 else 2 if n <= 16 else 4 * words
        self._layout(size, min(size, 4), ("i32",) * words)

    @property
    def codes(self) -> str:
        return {1: "B", 2: "H"}.get(self.size) or "I" * (self.size // 4)

    def describe(self) -> str:
        return self.name or f"flags {{ {', '.join(self.names)} }}"

    def annotation(self) -> str:
        return "frozenset[str]"

    def check(self, em: Emitter, value: str, where: str) -> str:
        bits = em.const({n: i for i, n in enumerate(self.names)}, "F")
        return em.bind(f"_flag_bits({where!r}, {value}, {bits})")

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        return [f"({prepared} >> {32 * i} & 0xFFFFFFFF)" for i in range(len(self.flat))]

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        words = self.lower(em, prepared) if len(self.codes) > 1 else [prepared]
        em.emit(f"{em.struct(self.codes)}.pack_into(_cx.m, {addr}, {', '.join(words)})")

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        words = [f"({next(slots)} & 0xFFFFFFFF) << {32 * i}" for i in range(len(self.flat))]
        return self.from_bits(em, " | ".join(words))

    def load(self, em: Emitter, addr: str) -> str:
        return _load_fixed(self, em, addr)

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        cells.append((offset, self.codes))

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        words = [f"{raw}[{next(index)}] << {32 * i}" for i in range(len(self.codes))]
        return self.from_bits(em, " | ".join(words))

    def from_bits(self, em: Emitter, bits: str) -> str:
        return em.bind(f"_flag_set({em.const(self.names, 'N')}, {bits})")


class _Cases(ValType):
    """Variant-like types: a discriminant, then the payload of the case (if any)."""

    __slots__ = ("disc_code", "payload_offset")

    @property
    def cases(self) -> tuple[tuple[str, ValType | None], ...]:
        raise NotImplementedError

    def children(self) -> tuple[ValType, ...]:
        return tuple(p for _, p in self.cases if p is not None)

    def accel_details(self) -> tuple[Any, ...]:
        cases = tuple((c, None if t is None else t.accel_spec()) for c, t in self.cases)
        index = {c: i for i, (c, _) in enumerate(self.cases)}
        disc = struct.calcsize(self.disc_code)
        offset = self.payload_offset
        return (disc, offset, cases, index, self.describe())

    def _layout_cases(self) -> None:
        n = len(self.cases)
        disc = 1 if n <= 0x100 else 2 if n <= 0x10000 else 4
        payloads = [p for _, p in self.cases if p is not None]
        payload_align = max((p.alignment for p in payloads), default=1)
        self.disc_code = {1: "B", 2: "H", 4: "I"}[disc]
        alignment = max(disc, payload_align)
        self.payload_offset = align_to(disc, payload_align)
        size = align_to(self.payload_offset + max((p.size for p in payloads), default=0), alignment)
        joined: list[str] = []
        for p in payloads:
            for i, core in enumerate(p.flat):
                joined[i : i + 1] = [join(joined[i], core) if i < len(joined) else core]
        self._layout(size, alignment, ("i32", *joined))

    # -- what a Python value of each case looks like

    def case_of(self, em: Emitter, value: str, where: str) -> tuple[str, str]:
        """Emit code finding the case index of `value`; return (index, payload) names."""
        raise NotImplementedError

    def wrap(self, em: Emitter, index: int, payload: str) -> str:
        """The Python value of case `index` with the lifted `payload`."""
        raise NotImplementedError

    # -- code generation

    def check(self, em: Emitter, value: str, where: str) -> str:
        index, payload = self.case_of(em, value, where)
        prepared = em.fresh("c")
        for i, (case, case_ty) in enumerate(self.cases):
            em.emit(f"{'if' if i == 0 else 'elif'} {index} == {i}:")
            with em.indent():
                if case_ty is None:
                    if payload != "None":
                        error = f"_no_payload({where!r}, {case!r}, {payload})"
                        em.emit(f"if {payload} is not None: raise {error}")
                    em.emit(f"{prepared} = ({i}, None)")
                else:
                    em.emit(f"{prepared} = ({i}, {case_ty.check(em, payload, f'{where}.{case}')})")
        return prepared

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        index, payload = em.fresh("c"), em.fresh("v")
        em.emit(f"{index}, {payload} = {prepared}")
        slots = [em.fresh("f") for _ in self.flat[1:]]
        for i, (_, case_ty) in enumerate(self.cases):
            em.emit(f"{'if' if i == 0 else 'elif'} {index} == {i}:")
            with em.indent():
                exprs = [] if case_ty is None else case_ty.lower(em, payload)
                exprs += ["0"] * (len(slots) - len(exprs))
                for slot, expr in zip(slots, exprs, strict=True):
                    em.emit(f"{slot} = {expr}")
                if not slots:
                    em.emit("pass")
        return [index, *slots]

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        index, payload = em.fresh("c"), em.fresh("v")
        em.emit(f"{index}, {payload} = {prepared}")
        em.emit(f"{em.struct(self.disc_code)}.pack_into(_cx.m, {addr}, {index})")
        for i, (_, case_ty) in enumerate(self.cases):
            if case_ty is not None:
                em.emit(f"if {index} == {i}:")
                with em.indent():
                    case_ty.store(em, payload, f"{addr} + {self.payload_offset}")

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        tag = em.bind(f"{next(slots)} & 0xFFFFFFFF")
        payload_slots = [em.bind(next(slots)) for _ in self.flat[1:]]
        return self._lift_cases(em, tag, lambda case_ty: case_ty.lift(em, iter(payload_slots)))

    def load(self, em: Emitter, addr: str) -> str:
        tag = em.bind(f"{em.struct(self.disc_code)}.unpack_from(_m, {addr})[0]")
        return self._lift_cases(
            em, tag, lambda case_ty: case_ty.load(em, f"{addr} + {self.payload_offset}")
        )

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        variants[id(self)] = offset

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        return self.load(em, f"{addr} + {variants[id(self)]}")

    def _lift_cases(self, em: Emitter, tag: str, lift_payload: Any) -> str:
        result = em.fresh("v")
        for i, (_, case_ty) in enumerate(self.cases):
            em.emit(f"{'if' if i == 0 else 'elif'} {tag} == {i}:")
            with em.indent():
                payload = "None" if case_ty is None else lift_payload(case_ty)
                em.emit(f"{result} = {self.wrap(em, i, payload)}")
        em.emit("else:")
        em.emit(f"    raise _bad_case({tag}, {self.describe()!r})")
        return result


class Variant(_Cases):
    __slots__ = ("_cases", "name")
    kind_name = "variant"

    def __init__(self, cases: tuple[tuple[str, ValType | None], ...], name: str | None = None):
        self._cases = cases
        self.name = name
        self._layout_cases()

    @property
    def cases(self) -> tuple[tuple[str, ValType | None], ...]:
        return self._cases

    def describe(self) -> str:
        return (
            self.name
            or "variant { "
            + ", ".join(c if t is None else f"{c}({t.describe()})" for c, t in self._cases)
            + " }"
        )

    def annotation(self) -> str:
        return "Variant"

    def case_of(self, em: Emitter, value: str, where: str) -> tuple[str, str]:
        index, payload = em.fresh("c"), em.fresh("v")
        names = em.const({n: i for i, (n, _) in enumerate(self._cases)}, "F")
        em.emit(
            f"{index}, {payload} = _variant_case({where!r}, {value}, {names}, {self.describe()!r})"
        )
        return index, payload

    def wrap(self, em: Emitter, index: int, payload: str) -> str:
        return f"_Variant({self._cases[index][0]!r}, {payload})"


class Enum(_Cases):
    __slots__ = ("name", "names")
    kind_name = "enum"

    def __init__(self, names: tuple[str, ...], name: str | None = None) -> None:
        self.names = names
        self.name = name
        self._layout_cases()

    @property
    def cases(self) -> tuple[tuple[str, ValType | None], ...]:
        return tuple((n, None) for n in self.names)

    def describe(self) -> str:
        return self.name or f"enum {{ {', '.join(self.names)} }}"

    def annotation(self) -> str:
        return f"Literal[{', '.join(map(repr, self.names))}]"

    def check(self, em: Emitter, value: str, where: str) -> str:
        names = em.const({n: i for i, n in enumerate(self.names)}, "F")
        return em.bind(f"(_enum_case({where!r}, {value}, {names}, {self.describe()!r}), None)")

    def case_of(self, em: Emitter, value: str, where: str) -> tuple[str, str]:
        raise AssertionError("enums are checked whole")

    def wrap(self, em: Emitter, index: int, payload: str) -> str:
        return repr(self.names[index])


class Option(_Cases):
    __slots__ = ("payload",)
    kind_name = "option"

    def __init__(self, payload: ValType) -> None:
        self.payload = payload
        self._layout_cases()

    @property
    def cases(self) -> tuple[tuple[str, ValType | None], ...]:
        return (("none", None), ("some", self.payload))

    def describe(self) -> str:
        return f"option<{self.payload.describe()}>"

    def annotation(self) -> str:
        return f"{self.payload.annotation()} | None"

    def case_of(self, em: Emitter, value: str, where: str) -> tuple[str, str]:
        index = em.bind(f"0 if {value} is None else 1")
        return index, value

    def wrap(self, em: Emitter, index: int, payload: str) -> str:
        return payload


class Result(_Cases):
    __slots__ = ("err", "ok")
    kind_name = "result"

    def __init__(self, ok: ValType | None, err: ValType | None) -> None:
        self.ok = ok
        self.err = err
        self._layout_cases()

    @property
    def cases(self) -> tuple[tuple[str, ValType | None], ...]:
        return (("ok", self.ok), ("err", self.err))

    def describe(self) -> str:
        ok = "_" if self.ok is None else self.ok.describe()
        return f"result<{ok}, {'_' if self.err is None else self.err.describe()}>"

    def annotation(self) -> str:
        return "Ok | Err"

    def case_of(self, em: Emitter, value: str, where: str) -> tuple[str, str]:
        index, payload = em.fresh("c"), em.fresh("v")
        em.emit(f"{index}, {payload} = _result_case({where!r}, {value})")
        return index, payload

    def wrap(self, em: Emitter, index: int, payload: str) -> str:
        return f"{'_Ok' if index == 0 else '_Err'}({payload})"


class ResourceType:
    """A resource type. `defined`: the component implements it (its `rep` is an i32 the
    guest chose); otherwise the host does, and the guest's handles stand for objects of
    `cls`, the user's class. `cls` is the Python class the host exposes it as; `index`
    numbers its handle table within a session."""

    __slots__ = ("cls", "defined", "dtor", "index", "interface", "name")

    def __init__(self, defined: bool, dtor: Any = None) -> None:
        self.defined = defined
        self.dtor = dtor  # the core function of its destructor (a `_structure` reference)
        self.name: str | None = None
        self.interface: str | None = None
        self.cls: type | None = None
        self.index = -1

    def describe(self) -> str:
        return self.name or "resource"

    def __repr__(self) -> str:
        return f"<WIT resource {self.describe()}>"


class _Handle(ValType):
    __slots__ = ("resource",)

    def __init__(self, resource: ResourceType) -> None:
        self.resource = resource
        self._layout(4, 4, ("i32",))

    def store(self, em: Emitter, prepared: str, addr: str) -> None:
        (expr,) = self.lower(em, prepared)
        em.emit(f"{em.struct('I')}.pack_into(_cx.m, {addr}, {expr})")

    def load(self, em: Emitter, addr: str) -> str:
        handle = em.bind(f"{em.struct('I')}.unpack_from(_m, {addr})[0]")
        return self.lift(em, iter([handle]))

    def leaves(self, offset: int, cells: list[tuple[int, str]], variants: dict[int, int]) -> None:
        cells.append((offset, "I"))

    def from_leaves(
        self, em: Emitter, raw: str, index: Iterator[int], variants: dict[int, int], addr: str
    ) -> str:
        return self.lift(em, iter([f"{raw}[{next(index)}]"]))

    def annotation(self) -> str:
        resource = self.resource
        return resource.cls.__name__ if resource.cls else class_name(resource.name or "resource")

    def table(self, em: Emitter) -> str:
        return f"_s.tables[{self.resource.index}]"

    def cls(self, em: Emitter) -> str:
        return em.const(self.resource.cls, "C")

    def accel_details(self) -> tuple[Any, ...]:
        return (self.resource.index, self.resource.cls)

    def accel_spec(self) -> tuple[Any, ...]:
        spec = super().accel_spec()
        # A resource the host implements: its table, and the user's class (held strongly).
        return spec if self.resource.defined else (f"hosted-{spec[0]}", *spec[1:])

    def host_check(self, em: Emitter, value: str, where: str) -> str:
        """Check an object of a resource the host implements (its class is the user's)."""
        return em.bind(f"_hosted_check({where!r}, {value}, {self.cls(em)})")


class Own(_Handle):
    """An owned handle: lowering moves the Python object's resource into the guest."""

    __slots__ = ()
    kind_name = "own"

    def describe(self) -> str:
        return f"own<{self.resource.describe()}>"

    def check(self, em: Emitter, value: str, where: str) -> str:
        if not self.resource.defined:
            return self.host_check(em, value, where)
        return em.bind(f"_own_check(_s, {where!r}, {value}, {self.cls(em)}, _moved)")

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        if not self.resource.defined:  # the object itself goes in the guest's table
            return [em.bind(f"{self.table(em)}.add({prepared})")]
        return [em.bind(f"_give(_s, {self.table(em)}, {prepared})")]

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        handle = f"{next(slots)} & 0xFFFFFFFF"
        if not self.resource.defined:  # the guest gives the host's object back
            return em.bind(f"{self.table(em)}.remove({handle})")
        return em.bind(f"_take(_s, {self.table(em)}, {handle}, {self.cls(em)})")


class Borrow(_Handle):
    """A borrowed handle: lowered into the implementing instance as the resource's rep."""

    __slots__ = ()
    kind_name = "borrow"

    def describe(self) -> str:
        return f"borrow<{self.resource.describe()}>"

    def check(self, em: Emitter, value: str, where: str) -> str:
        return em.bind(f"_borrow_check(_s, {where!r}, {value}, {self.cls(em)})")

    def lower(self, em: Emitter, prepared: str) -> list[str]:
        return [prepared]

    def lift(self, em: Emitter, slots: Iterator[str]) -> str:
        # Only the host's resources are lent to the host (`check_supported`).
        assert not self.resource.defined
        return em.bind(f"{self.table(em)}.get({next(slots)} & 0xFFFFFFFF)")


class Unsupported(ValType):
    """A type sandlink cannot carry yet (stream, future, error-context, fixed lists, maps):
    any function using it is refused at load, naming it."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what
        self._layout(0, 1, ())

    def describe(self) -> str:
        return self.what


PRIMITIVE_TYPES: dict[str, ValType] = {
    "bool": Bool(),
    "char": Char(),
    "string": String(),
    **{kind: Int(kind) for kind in INT_RANGES},
    "f32": Float("f32"),
    "f64": Float("f64"),
}


def _fillable(cls: Any, attrs: tuple[str, ...]) -> bool:
    """Is making `cls(*values)` the same as setting `attrs` on a bare instance? True of a
    plain dataclass with exactly those fields (frozen or not, slots or not): then the
    compiled path fills the instance directly, without running its __init__. Records of
    `_records` are known without asking `dataclasses` (which would import it)."""
    if cls.__dict__.get(FIELDS) == attrs and "__post_init__" not in cls.__dict__:
        return cls.__new__ is object.__new__
    fields = getattr(cls, "__dataclass_fields__", None)
    params = getattr(cls, "__dataclass_params__", None)
    return (
        fields is not None
        and params is not None
        and params.init
        and cls.__new__ is object.__new__
        and not getattr(cls, "__abstractmethods__", None)
        and not hasattr(cls, "__post_init__")
        and tuple(fields) == attrs  # no InitVar or ClassVar pseudo-fields either
        and all(f.init for f in fields.values())
    )


# -- layout helpers shared by records, tuples and flags


def _layout_struct(ty: ValType, fields: list[ValType]) -> None:
    offset, alignment = 0, 1
    for f in fields:
        offset = align_to(offset, f.alignment) + f.size
        alignment = max(alignment, f.alignment)
    ty._layout(align_to(offset, alignment), alignment, tuple(c for f in fields for c in f.flat))


def _struct_leaves(
    fields: tuple[ValType, ...], offset: int, cells: list[tuple[int, str]], variants: dict[int, int]
) -> None:
    for f in fields:
        offset = align_to(offset, f.alignment)
        f.leaves(offset, cells, variants)
        offset += f.size


def _lower_parts(em: Emitter, prepared: str, parts: tuple[ValType, ...]) -> list[str]:
    return [e for i, part in enumerate(parts) for e in part.lower(em, f"{prepared}[{i}]")]


def _store_parts(em: Emitter, prepared: str, parts: tuple[ValType, ...], addr: str) -> None:
    offset = 0
    for i, part in enumerate(parts):
        offset = align_to(offset, part.alignment)
        part.store(em, f"{prepared}[{i}]", f"{addr} + {offset}")
        offset += part.size


def leaf_format(ty: ValType) -> tuple[str, dict[int, int]]:
    """One struct format covering a type's fixed-position leaves, with padding.

    Variant-like parts cannot be unpacked in one go (their payload depends on the case):
    they are left out and their offsets returned, keyed by id(type), to be loaded on
    their own. The format spans the whole type, trailing padding included, so that
    `iter_unpack` walks an array of it.
    """
    cells: list[tuple[int, str]] = []
    variants: dict[int, int] = {}
    ty.leaves(0, cells, variants)
    parts, position = [], 0
    for offset, code in cells:
        if offset > position:
            parts.append(f"{offset - position}x")
        parts.append(code)
        position = offset + struct.calcsize("<" + code)
    if ty.size > position:
        parts.append(f"{ty.size - position}x")
    return "".join(parts), variants


def _load_fixed(ty: ValType, em: Emitter, addr: str) -> str:
    fmt, variants = leaf_format(ty)
    raw = em.bind(f"{em.struct(fmt)}.unpack_from(_m, {addr})")
    return ty.from_leaves(em, raw, itertools.count(), variants, addr)
