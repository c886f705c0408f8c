"""Reading a component binary into its definitions, in order (no wasmtime needed).

The component model's binary format (design/mvp/Binary.md of the spec): after the 8-byte
preamble come sections `id, LEB128 size, payload`. Each definition appends to one index
space of its component; `_structure` replays them to build the instantiation graph. This
module only decodes: every index is kept as a number, every type as a small tuple, and
anything malformed is a `MalformedComponent` naming the byte offset. Constructs sandlink
cannot run (async, threads, values, start functions, GC core types) decode to an error
naming them, raised where they are first used or at once where they change the layout.

Type expressions (`ValType`): a primitive name ("u32", "string"...) or a type index (int).
Defined types are tuples whose first item names the kind:
  ("record", ((label, vt), ...)), ("variant", ((label, vt | None), ...)), ("list", vt),
  ("fixed-list", vt, n), ("tuple", (vt, ...)), ("flags", (label, ...)),
  ("enum", (label, ...)), ("option", vt), ("result", vt | None, vt | None), ("own", idx),
  ("borrow", idx), ("stream", vt | None), ("future", vt | None), ("map", vt, vt),
  ("error-context",), ("func", ((name, vt), ...), vt | None, is_async),
  ("resource", core valtype, dtor core func idx | None),
  ("component", (decl, ...)), ("instance", (decl, ...)), or a primitive name.
Extern types: ("core module", idx), ("func", idx), ("value", ...), ("type", ("eq", idx)),
("type", ("sub resource",)), ("component", idx), ("instance", idx).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._errors import SandlinkError, UnsupportedTypeError

PREAMBLE = b"\0asm\x0d\x00\x01\x00"
CORE_PREAMBLE = b"\0asm\x01\x00\x00\x00"

PRIMITIVES = {
    0x7F: "bool",
    0x7E: "s8",
    0x7D: "u8",
    0x7C: "s16",
    0x7B: "u16",
    0x7A: "s32",
    0x79: "u32",
    0x78: "s64",
    0x77: "u64",
    0x76: "f32",
    0x75: "f64",
    0x74: "char",
    0x73: "string",
    0x64: "error-context",
}
CORE_SORTS = {
    0x00: "core func",
    0x01: "core table",
    0x02: "core memory",
    0x03: "core global",
    0x04: "core tag",
    0x10: "core type",
    0x11: "core module",
    0x12: "core instance",
}
SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}
_CORE_VALTYPES = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128"}
_REF_SHORTHANDS = frozenset(range(0x69, 0x75))  # funcref, externref, anyref, ... exnref


class MalformedComponent(SandlinkError):
    """The bytes are not a well-formed component (truncated, bad LEB128, unknown opcode...)."""


# -- definitions: each appends one item to the index space named by its `space`


class CoreModule(NamedTuple):
    module: int  # index into Component.modules (the module's bytes)

    @property
    def space(self) -> str:
        return "core module"


class CoreInstantiate(NamedTuple):
    module: int
    args: tuple[tuple[str, int], ...]  # (import module name, core instance index)

    @property
    def space(self) -> str:
        return "core instance"


class CoreInlineInstance(NamedTuple):
    exports: tuple[tuple[str, str, int], ...]  # (name, core sort, index)

    @property
    def space(self) -> str:
        return "core instance"


class CoreTypeDef(NamedTuple):
    type: Any  # ("func", params, results) or ("module", ...): kept only to count

    @property
    def space(self) -> str:
        return "core type"


class ComponentDef(NamedTuple):
    component: Component

    @property
    def space(self) -> str:
        return "component"


class Instantiate(NamedTuple):
    component: int
    args: tuple[tuple[str, str, int], ...]  # (import name, sort, index)

    @property
    def space(self) -> str:
        return "instance"


class InlineInstance(NamedTuple):
    exports: tuple[tuple[str, str, int], ...]  # (name, sort, index)

    @property
    def space(self) -> str:
        return "instance"


class Alias(NamedTuple):
    sort: str  # the space it appends to
    kind: str  # "export", "core export" or "outer"
    target: int  # instance / core instance index, or the outer count
    name: str | int  # export name, or the outer index

    @property
    def space(self) -> str:
        return self.sort


class TypeDef(NamedTuple):
    type: Any

    @property
    def space(self) -> str:
        return "type"


class CanonOptions(NamedTuple):
    encoding: str  # "utf8", "utf16" or "latin1+utf16"
    memory: int | None  # core memory index
    realloc: int | None  # core func index
    post_return: int | None  # core func index


class CanonLift(NamedTuple):
    core_func: int
    options: CanonOptions
    type: int

    @property
    def space(self) -> str:
        return "func"


class CanonLower(NamedTuple):
    func: int
    options: CanonOptions

    @property
    def space(self) -> str:
        return "core func"


class CanonResource(NamedTuple):
    kind: str  # "new", "drop" or "rep"
    type: int

    @property
    def space(self) -> str:
        return "core func"


class Import(NamedTuple):
    name: str
    extern: tuple[Any, ...]  # an extern type

    @property
    def space(self) -> str:
        return _extern_space(self.extern)


class Export(NamedTuple):
    name: str
    sort: str
    index: int  # type: ignore[assignment]  # (shadows tuple.index, which is never used)
    extern: tuple[Any, ...] | None  # the ascribed type, if any

    @property
    def space(self) -> str:
        return self.sort


class Component(NamedTuple):
    """One component: its definitions in order, and the core modules of the whole binary."""

    definitions: tuple[Any, ...]
    modules: list[bytes]  # shared by nested components: CoreModule.module indexes it


def _extern_space(extern: tuple[Any, ...]) -> str:
    return "core module" if extern[0] == "core module" else extern[0]


def read_component(data: bytes) -> Component:
    """Decode a whole component binary (nested components included)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a component must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if data.startswith(CORE_PREAMBLE):
        raise MalformedComponent("this is a core wasm module, not a component")
    modules: list[bytes] = []
    reader = _Reader(data, 0, len(data))
    component = reader.component(modules)
    return component


class _Reader:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int, end: int) -> None:
        self.data = data
        self.pos = pos
        self.end = end

    def fail(self, why: str) -> MalformedComponent:
        return MalformedComponent(f"malformed component at byte {self.pos}: {why}")

    # -- primitives

    def byte(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end")
        return self.data[self.pos]

    def u32(self) -> int:
        result = shift = 0
        for _ in range(5):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                if result > 0xFFFF_FFFF:
                    raise self.fail("integer too large for u32")
                return result
            shift += 7
        raise self.fail("integer representation too long")

    def u64(self) -> int:
        result = shift = 0
        for _ in range(10):
            b = self.byte()
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
            shift += 7
        raise self.fail("integer representation too long")

    def s33(self) -> int:
        result = shift = 0
        for _ in range(5):
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result
        raise self.fail("integer representation too long")

    def take(self, n: int) -> bytes:
        if n > self.end - self.pos:
            raise self.fail(f"{n} bytes expected, {self.end - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def name(self) -> str:
        raw = self.take(self.u32())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("a name is not valid UTF-8") from None

    def vec(self, item: Any) -> tuple[Any, ...]:
        return tuple(item() for _ in range(self.u32()))

    def sub(self, size: int) -> _Reader:
        if size > self.end - self.pos:
            raise self.fail(f"section of {size} bytes runs past the end")
        reader = _Reader(self.data, self.pos, self.pos + size)
        self.pos += size
        return reader

    def done(self) -> None:
        if self.pos != self.end:
            raise self.fail(f"{self.end - self.pos} unexpected trailing bytes")

    # -- the component

    def component(self, modules: list[bytes]) -> Component:
        if self.take(len(PREAMBLE)) != PREAMBLE:
            raise MalformedComponent("not a WebAssembly component (bad preamble or version)")
        definitions: list[Any] = []
        while self.pos < self.end:
            section_id = self.byte()
            section = self.sub(self.u32())
            if section_id == 0:  # custom section: names, producers...
                continue
            definitions.extend(section.section(section_id, modules))
            section.done()
        return Component(tuple(definitions), modules)

    def section(self, section_id: int, modules: list[bytes]) -> list[Any]:
        if section_id == 1:
            modules.append(self.take(self.end - self.pos))
            return [CoreModule(len(modules) - 1)]
        if section_id == 2:
            return list(self.vec(self.core_instance))
        if section_id == 3:
            return list(self.vec(lambda: CoreTypeDef(self.core_type())))
        if section_id == 4:
            nested = _Reader(self.data, self.pos, self.end).component(modules)
            self.pos = self.end
            return [ComponentDef(nested)]
        if section_id == 5:
            return list(self.vec(self.instance))
        if section_id == 6:
            return list(self.vec(self.alias))
        if section_id == 7:
            return list(self.vec(lambda: TypeDef(self.deftype())))
        if section_id == 8:
            return list(self.vec(self.canon))
        if section_id == 9:
            raise UnsupportedTypeError("component start functions (values) are not supported")
        if section_id == 10:
            return list(self.vec(lambda: Import(self.extern_name(), self.extern_type())))
        if section_id == 11:
            return list(self.vec(self.export))
        if section_id == 12:
            raise UnsupportedTypeError("component value definitions are not supported")
        raise self.fail(f"unknown section id {section_id}")

    def core_instance(self) -> Any:
        kind = self.byte()
        if kind == 0x00:
            module = self.u32()

            def arg() -> tuple[str, int]:
                name = self.name()
                if self.byte() != 0x12:
                    raise self.fail("a core instantiation argument must be an instance")
                return name, self.u32()

            return CoreInstantiate(module, self.vec(arg))
        if kind == 0x01:
            return CoreInlineInstance(self.vec(lambda: (self.name(), *self.core_sort_index())))
        raise self.fail(f"unknown core instance kind {kind:#x}")

    def core_sort(self) -> str:
        b = self.byte()
        sort = CORE_SORTS.get(b)
        if sort is None:
            raise self.fail(f"unknown core sort {b:#x}")
        return sort

    def core_sort_index(self) -> tuple[str, int]:
        return self.core_sort(), self.u32()

    def sort(self) -> str:
        b = self.byte()
        if b == 0x00:
            return self.core_sort()
        sort = SORTS.get(b)
        if sort is None:
            raise self.fail(f"unknown sort {b:#x}")
        return sort

    def instance(self) -> Any:
        kind = self.byte()
        if kind == 0x00:
            component = self.u32()
            return Instantiate(component, self.vec(lambda: (self.name(), self.sort(), self.u32())))
        if kind == 0x01:
            return InlineInstance(self.vec(lambda: (self.extern_name(), self.sort(), self.u32())))
        raise self.fail(f"unknown instance kind {kind:#x}")

    def alias(self) -> Alias:
        sort = self.sort()
        kind = self.byte()
        if kind == 0x00:
            return Alias(sort, "export", self.u32(), self.name())
        if kind == 0x01:
            return Alias(sort, "core export", self.u32(), self.name())
        if kind == 0x02:
            return Alias(sort, "outer", self.u32(), self.u32())
        raise self.fail(f"unknown alias kind {kind:#x}")

    def extern_name(self) -> str:
        kind = self.byte()
        if kind in (0x00, 0x01):
            return self.name()
        if kind == 0x02:  # a name with attributes (implements, version suffix, id): ignored
            name = self.name()
            for _ in range(self.u32()):
                attribute = self.byte()
                if attribute not in (0x00, 0x01, 0x02):
                    raise self.fail(f"unknown name attribute {attribute:#x}")
                self.name()
            return name
        raise self.fail(f"unknown extern name kind {kind:#x}")

    def export(self) -> Export:
        name = self.extern_name()
        sort = self.sort()
        index = self.u32()
        ascribed = self.extern_type() if self.optional() else None
        return Export(name, sort, index, ascribed)

    def optional(self) -> bool:
        b = self.byte()
        if b not in (0x00, 0x01):
            raise self.fail(f"bad option marker {b:#x}")
        return b == 0x01

    # -- canonical definitions

    def canon(self) -> Any:
        op = self.byte()
        if op == 0x00:
            self.expect(0x00, "canon lift")
            core_func = self.u32()
            options = self.options()
            return CanonLift(core_func, options, self.u32())
        if op == 0x01:
            self.expect(0x00, "canon lower")
            func = self.u32()
            return CanonLower(func, self.options())
        if op in (0x02, 0x03, 0x04):
            return CanonResource({0x02: "new", 0x03: "drop", 0x04: "rep"}[op], self.u32())
        # Everything else is async, threads or error-context: each adds one core function
        # whose immediates we cannot size without knowing it, so refuse here.
        raise UnsupportedTypeError(
            f"canonical built-in {op:#x} (async, threads or error-context) is not supported"
        )

    def expect(self, value: int, what: str) -> None:
        if self.byte() != value:
            raise self.fail(f"bad {what} encoding")

    def options(self) -> CanonOptions:
        encoding, memory, realloc, post_return = "utf8", None, None, None
        for _ in range(self.u32()):
            op = self.byte()
            if op in (0x00, 0x01, 0x02):
                encoding = ("utf8", "utf16", "latin1+utf16")[op]
            elif op == 0x03:
                memory = self.u32()
            elif op == 0x04:
                realloc = self.u32()
            elif op == 0x05:
                post_return = self.u32()
            elif op in (0x06, 0x07):
                raise UnsupportedTypeError("async canonical options are not supported")
            else:
                raise UnsupportedTypeError(f"canonical option {op:#x} is not supported")
        return CanonOptions(encoding, memory, realloc, post_return)

    # -- component types

    def valtype(self) -> str | int:
        b = self.peek()
        if b in PRIMITIVES and b >= 0x64:
            self.pos += 1
            return PRIMITIVES[b]
        value = self.s33()
        if value < 0:
            raise self.fail(f"unknown value type {b:#x}")
        return value

    def maybe_valtype(self) -> str | int | None:
        return self.valtype() if self.optional() else None

    def label(self) -> str:
        return self.name()

    def deftype(self) -> Any:
        b = self.byte()
        if b in PRIMITIVES:
            return PRIMITIVES[b]
        if b == 0x72:
            return ("record", self.vec(lambda: (self.label(), self.valtype())))
        if b == 0x71:

            def case() -> tuple[str, str | int | None]:
                label, payload = self.label(), self.maybe_valtype()
                if self.byte() != 0x00:  # the retired `refines` field
                    raise UnsupportedTypeError("variant cases that refine others")
                return label, payload

            return ("variant", self.vec(case))
        if b == 0x70:
            return ("list", self.valtype())
        if b == 0x67:
            return ("fixed-list", self.valtype(), self.u32())
        if b == 0x6F:
            return ("tuple", self.vec(self.valtype))
        if b == 0x6E:
            return ("flags", self.vec(self.label))
        if b == 0x6D:
            return ("enum", self.vec(self.label))
        if b == 0x6B:
            return ("option", self.valtype())
        if b == 0x6A:
            return ("result", self.maybe_valtype(), self.maybe_valtype())
        if b == 0x69:
            return ("own", self.u32())
        if b == 0x68:
            return ("borrow", self.u32())
        if b == 0x66:
            return ("stream", self.maybe_valtype())
        if b == 0x65:
            return ("future", self.maybe_valtype())
        if b == 0x63:
            return ("map", self.valtype(), self.valtype())
        if b in (0x40, 0x43):
            params = self.vec(lambda: (self.label(), self.valtype()))
            kind = self.byte()
            if kind == 0x00:
                result = self.valtype()
            elif kind == 0x01:
                self.expect(0x00, "result list")
                result = None
            else:
                raise self.fail(f"bad result list {kind:#x}")
            return ("func", params, result, b == 0x43)
        if b == 0x41:
            return ("component", self.vec(self.component_decl))
        if b == 0x42:
            return ("instance", self.vec(self.instance_decl))
        if b == 0x3F:
            rep = self.core_valtype()
            dtor = self.u32() if self.optional() else None
            return ("resource", rep, dtor)
        if b == 0x3E:  # async resource destructor (callback): refused where used
            raise UnsupportedTypeError("resources with async destructors are not supported")
        raise self.fail(f"unknown type {b:#x}")

    def component_decl(self) -> tuple[Any, ...]:
        if self.peek() == 0x03:
            self.pos += 1
            return ("import", self.extern_name(), self.extern_type())
        return self.instance_decl()

    def instance_decl(self) -> tuple[Any, ...]:
        kind = self.byte()
        if kind == 0x00:
            return ("core type", self.core_type())
        if kind == 0x01:
            return ("type", self.deftype())
        if kind == 0x02:
            return ("alias", self.alias())
        if kind == 0x04:
            return ("export", self.extern_name(), self.extern_type())
        raise self.fail(f"unknown declaration kind {kind:#x}")

    def extern_type(self) -> tuple[Any, ...]:
        kind = self.byte()
        if kind == 0x00:
            self.expect(0x11, "core module type")
            return ("core module", self.u32())
        if kind == 0x01:
            return ("func", self.u32())
        if kind == 0x02:
            if self.optional():
                return ("value", ("type", self.valtype()))
            return ("value", ("eq", self.u32()))
        if kind == 0x03:
            bound = self.byte()
            if bound == 0x00:
                return ("type", ("eq", self.u32()))
            if bound == 0x01:
                return ("type", ("sub resource",))
            raise self.fail(f"unknown type bound {bound:#x}")
        if kind == 0x04:
            return ("component", self.u32())
        if kind == 0x05:
            return ("instance", self.u32())
        raise self.fail(f"unknown extern type {kind:#x}")

    # -- core types (decoded to keep counting: sandlink never needs their contents)

    def core_type(self) -> tuple[Any, ...]:
        b = self.byte()
        if b == 0x60:
            return ("func", self.vec(self.core_valtype), self.vec(self.core_valtype))
        if b == 0x50:
            return ("module", self.vec(self.module_decl))
        raise UnsupportedTypeError(f"core type {b:#x} (GC or recursive types) is not supported")

    def module_decl(self) -> tuple[Any, ...]:
        kind = self.byte()
        if kind == 0x00:
            return ("import", self.name(), self.name(), self.core_extern_type())
        if kind == 0x01:
            return ("type", self.core_type())
        if kind == 0x02:
            self.expect(0x10, "core alias")
            self.expect(0x01, "core alias")
            return ("alias", self.u32(), self.u32())
        if kind == 0x03:
            return ("export", self.name(), self.core_extern_type())
        raise self.fail(f"unknown module declaration {kind:#x}")

    def core_extern_type(self) -> tuple[Any, ...]:
        kind = self.byte()
        if kind == 0x00:
            return ("func", self.u32())
        if kind == 0x01:
            return ("table", self.core_valtype(), self.limits())
        if kind == 0x02:
            return ("memory", self.limits())
        if kind == 0x03:
            return ("global", self.core_valtype(), self.byte())
        if kind == 0x04:
            self.expect(0x00, "tag type")
            return ("tag", self.u32())
        raise self.fail(f"unknown core extern type {kind:#x}")

    def limits(self) -> tuple[Any, ...]:
        flags = self.byte()
        if flags > 0x0F:
            raise self.fail(f"bad limits flags {flags:#x}")
        read = self.u64 if flags & 0x04 else self.u32
        minimum = read()
        maximum = read() if flags & 0x01 else None
        page_log2 = self.u32() if flags & 0x08 else None
        return (flags, minimum, maximum, page_log2)

    def core_valtype(self) -> str:
        b = self.byte()
        name = _CORE_VALTYPES.get(b)
        if name is not None:
            return name
        if b in _REF_SHORTHANDS:
            return f"ref {b:#x}"
        if b in (0x63, 0x64):
            return f"ref {b:#x} {self.s33()}"
        raise self.fail(f"unknown core value type {b:#x}")
