"""The canonical ABI, compiled: Python source generated per function from its WIT types.

Layout (`size`, `alignment`), flattening (`flatten`) and the emitters that turn a type into
straight-line lowering/lifting code. Flat core values are handled as raw bit patterns
(unsigned ints as wasmtime's 16-byte raw slots hold them), which makes the canonical
ABI's variant "join" coercions no-ops when lowering and a mask when lifting.

Generated code runs against a session object `s` that provides `s.m` (a memoryview of
linear memory, at least as large as every allocation made so far) and `s.alloc(ctx, size,
align)` (cabi_realloc, growing `s.m` when needed). Lowering writes through `s.m`; lifting
reads a local `m`, and raises `OutOfView` when the guest points past it, so the caller can
refresh the view (memory may have grown during the call) and lift again.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator
from typing import Any

from . import _schema as t
from ._checks import utf8
from ._errors import GuestTrap, UnsupportedTypeError

MAX_FLAT_PARAMS = 16
MAX_FLAT_RESULTS = 1

# kind -> (struct code, size, flat core type)
_PRIM = {
    "bool": ("B", 1, "i32"),
    "u8": ("B", 1, "i32"),
    "s8": ("b", 1, "i32"),
    "u16": ("H", 2, "i32"),
    "s16": ("h", 2, "i32"),
    "u32": ("I", 4, "i32"),
    "s32": ("i", 4, "i32"),
    "char": ("I", 4, "i32"),
    "u64": ("Q", 8, "i64"),
    "s64": ("q", 8, "i64"),
    "f32": ("f", 4, "f32"),
    "f64": ("d", 8, "f64"),
}
_INT_BITS = {"u8": 8, "s8": 8, "u16": 16, "s16": 16, "u32": 32, "s32": 32, "u64": 64, "s64": 64}
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


# ---------------------------------------------------------------- layout


def cases(ty: t.Type) -> tuple[tuple[str, t.Type | None], ...]:
    """The cases of any variant-like type, in discriminant order."""
    if isinstance(ty, t.Variant):
        return ty.cases
    if isinstance(ty, t.Option):
        return (("none", None), ("some", ty.payload))
    if isinstance(ty, t.Result):
        return (("ok", ty.ok), ("err", ty.err))
    if isinstance(ty, t.Enum):
        return tuple((name, None) for name in ty.names)
    raise TypeError(ty)


def _variant_like(ty: t.Type) -> bool:
    return isinstance(ty, (t.Variant, t.Option, t.Result, t.Enum))


def _disc_code(n_cases: int) -> str:
    return "B" if n_cases <= 0x100 else "H" if n_cases <= 0x10000 else "I"


def _flags_codes(n: int) -> str:
    return "B" if n <= 8 else "H" if n <= 16 else "I" * ((n + 31) // 32)


def _align_to(offset: int, align: int) -> int:
    return (offset + align - 1) // align * align


def _fields(ty: t.Type) -> list[t.Type]:
    if isinstance(ty, t.Record):
        return [f for _, f in ty.fields]
    assert isinstance(ty, t.Tuple)
    return list(ty.elements)


def _handle(ty: t.Type) -> bool:
    """Own and borrow handles are an i32 in memory and when flat."""
    return isinstance(ty, (t.Own, t.Borrow))


def alignment(ty: t.Type) -> int:
    if _handle(ty):
        return 4
    if isinstance(ty, t.Prim):
        return 4 if ty.kind == "string" else _PRIM[ty.kind][1]
    if isinstance(ty, t.List):
        return 4
    if isinstance(ty, (t.Record, t.Tuple)):
        return max((alignment(f) for f in _fields(ty)), default=1)
    if isinstance(ty, t.Flags):
        return struct.calcsize(_flags_codes(len(ty.names))[0])
    payload = max((alignment(p) for _, p in cases(ty) if p is not None), default=1)
    return max(struct.calcsize(_disc_code(len(cases(ty)))), payload)


def size(ty: t.Type) -> int:
    if _handle(ty):
        return 4
    if isinstance(ty, t.Prim):
        return 8 if ty.kind == "string" else _PRIM[ty.kind][1]
    if isinstance(ty, t.List):
        return 8
    if isinstance(ty, (t.Record, t.Tuple)):
        offset = 0
        for f in _fields(ty):
            offset = _align_to(offset, alignment(f)) + size(f)
        return _align_to(offset, alignment(ty))
    if isinstance(ty, t.Flags):
        return struct.calcsize("<" + _flags_codes(len(ty.names)))
    return _align_to(_payload_offset(ty) + _max_payload_size(ty), alignment(ty))


def _payload_offset(ty: t.Type) -> int:
    payload_align = max((alignment(p) for _, p in cases(ty) if p is not None), default=1)
    return _align_to(struct.calcsize(_disc_code(len(cases(ty)))), payload_align)


def _max_payload_size(ty: t.Type) -> int:
    return max((size(p) for _, p in cases(ty) if p is not None), default=0)


def _join(a: str, b: str) -> str:
    if a == b:
        return a
    if {a, b} == {"i32", "f32"}:
        return "i32"
    return "i64"


def flatten(ty: t.Type) -> list[str]:
    """The core wasm types a value of `ty` flattens to."""
    if _handle(ty):
        return ["i32"]
    if isinstance(ty, t.Prim):
        return ["i32", "i32"] if ty.kind == "string" else [_PRIM[ty.kind][2]]
    if isinstance(ty, t.List):
        return ["i32", "i32"]
    if isinstance(ty, (t.Record, t.Tuple)):
        return [core for f in _fields(ty) for core in flatten(f)]
    if isinstance(ty, t.Flags):
        return ["i32"] * ((len(ty.names) + 31) // 32)
    joined: list[str] = []
    for _, payload in cases(ty):
        for i, core in enumerate(flatten(payload) if payload is not None else []):
            if i < len(joined):
                joined[i] = _join(joined[i], core)
            else:
                joined.append(core)
    return ["i32", *joined]


# ---------------------------------------------------------------- helpers for generated code


def _f32_bits(value: float) -> int:
    return _U32.unpack(_F32.pack(value))[0]


def _f64_bits(value: float) -> int:
    return _U64.unpack(_F64.pack(value))[0]


def _bits_f32(bits: int) -> float:
    return _F32.unpack(_U32.pack(bits & 0xFFFF_FFFF))[0]


def _bits_f64(bits: int) -> float:
    return _F64.unpack(_U64.pack(bits))[0]


class OutOfView(Exception):
    """The guest pointed past the host's view of its memory (refresh the view, or it lied)."""


def _span(m: memoryview, ptr: int, nbytes: int) -> memoryview:
    if ptr + nbytes > len(m):
        raise OutOfView(ptr, nbytes)
    return m[ptr : ptr + nbytes]


def _char(code: int) -> str:
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise GuestTrap(f"guest returned {code:#x}, which is not a Unicode scalar value")
    return chr(code)


def _bad_case(tag: int, name: str) -> GuestTrap:
    return GuestTrap(f"guest returned discriminant {tag}, which is not a case of {name}")


def _flag_set(names: tuple[str, ...], words: tuple[int, ...]) -> frozenset[str]:
    return frozenset(n for i, n in enumerate(names) if words[i >> 5] >> (i & 31) & 1)


def _lower_char(name: str, value: Any) -> int:
    if not isinstance(value, str) or len(value) != 1:
        raise TypeError(f"{name} must be a one-character str (char)")
    code = ord(value)
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError(f"{name} must be a Unicode scalar value, not a surrogate")
    return code


def _lower_float(name: str, value: Any, bits: Any) -> int:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a float, not {type(value).__name__}")
    try:
        return bits(float(value))
    except OverflowError:
        raise OverflowError(f"{name}={value!r} is out of range for f32") from None


def _lower_bool(name: str, value: Any) -> int:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return 1 if value else 0


def _encode(name: str, value: Any) -> bytes:
    if type(value) is not str and not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return utf8(name, value)


def _sequence(name: str, value: Any) -> list | tuple:
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{name} must be a list, not {type(value).__name__}")
    return value


def _tuple(name: str, value: Any, n: int) -> tuple:
    if not isinstance(value, tuple) or len(value) != n:
        raise TypeError(f"{name} must be a tuple of {n} items")
    return value


def _fields_of(name: str, value: Any, cls: type, attrs: tuple[str, ...]) -> tuple:
    try:
        return tuple(getattr(value, a) for a in attrs)
    except AttributeError:
        raise TypeError(f"{name} must be a {cls.__name__} (or have its fields)") from None


def _case_index(name: str, value: Any, index: dict[str, int], what: str) -> int:
    try:
        return index[value]
    except (KeyError, TypeError):
        raise ValueError(f"{name}={value!r} is not a case of {what}") from None


def _flag_words(name: str, value: Any, bits: dict[str, int], nwords: int) -> list[int]:
    if isinstance(value, str):
        raise TypeError(f"{name} must be a set of flag names, not str")
    words = [0] * nwords
    try:
        for flag in value:
            bit = bits[flag]
            words[bit >> 5] |= 1 << (bit & 31)
    except KeyError as exc:
        raise ValueError(f"{name}: unknown flag {exc.args[0]!r}") from None
    except TypeError:
        raise TypeError(f"{name} must be a set of flag names") from None
    return words


HELPERS = {
    "_span": _span,
    "_char": _char,
    "_bad_case": _bad_case,
    "_flag_set": _flag_set,
    "_bits_f32": _bits_f32,
    "_bits_f64": _bits_f64,
    "_f32_bits": _f32_bits,
    "_f64_bits": _f64_bits,
    "_lower_char": _lower_char,
    "_lower_float": _lower_float,
    "_lower_bool": _lower_bool,
    "_encode": _encode,
    "_sequence": _sequence,
    "_tuple": _tuple,
    "_fields_of": _fields_of,
    "_case_index": _case_index,
    "_flag_words": _flag_words,
    "GuestTrap": GuestTrap,
    "OutOfView": OutOfView,
    "struct_error": struct.error,
}


# ---------------------------------------------------------------- the emitter


class Emitter:
    """Collects generated source lines and the constants they refer to."""

    def __init__(self, check_int: Any, check_buffer: Any) -> None:
        self.lines: list[str] = []
        self.depth = 0
        self.names = 0
        self.globals: dict[str, Any] = dict(HELPERS)
        self.globals["check_int"] = check_int
        self.globals["check_buffer"] = check_buffer
        self._consts: dict[Any, str] = {}

    # -- plumbing

    def fresh(self, prefix: str = "v") -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    def const(self, value: Any, prefix: str = "K") -> str:
        key = (type(value).__name__, id(value)) if not isinstance(value, (str, int)) else value
        if isinstance(value, struct.Struct):
            key = ("struct", value.format)
        name = self._consts.get(key)
        if name is None:
            name = self.fresh(prefix)
            self._consts[key] = name
            self.globals[name] = value
        return name

    def struct(self, fmt: str) -> str:
        return self.const(struct.Struct("<" + fmt), "S")

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indent(self) -> _Indent:
        return _Indent(self)

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    # -- lowering to flat values (raw bits)

    def lower_flat(self, ty: t.Type, value: str, where: str) -> list[str]:
        """Emit code that checks `value` and returns expressions for its flat raw slots."""
        if _handle(ty):
            # Into the instance that implements the resource: a borrow is the rep itself,
            # an own moves the object into a new handle of that instance's table.
            cls = self.const(ty.resource.cls, "C")
            helper = "_borrow" if isinstance(ty, t.Borrow) else "_give"
            return [f"{helper}(s, {where!r}, {value}, {cls})"]
        if isinstance(ty, t.Prim):
            return self._lower_flat_prim(ty.kind, value, where)
        if isinstance(ty, t.List):
            return self._lower_list(ty, value, where)
        if isinstance(ty, (t.Record, t.Tuple)):
            parts = self._split(ty, value, where)
            return [
                e
                for part, f in zip(parts, _fields(ty), strict=True)
                for e in self.lower_flat(f, part, where)
            ]
        if isinstance(ty, t.Flags):
            words = self.fresh("w")
            self.emit(
                f"{words} = _flag_words({where!r}, {value}, {self._flag_bits(ty)}, "
                f"{len(flatten(ty))})"
            )
            return [f"{words}[{i}]" for i in range(len(flatten(ty)))]
        return self._lower_flat_variant(ty, value, where)

    def _lower_flat_prim(self, kind: str, value: str, where: str) -> list[str]:
        if kind == "string":
            return self._lower_string(value, where)
        if kind in _INT_BITS:
            var = self._checked_int(kind, value, where)
            if kind.startswith("s"):
                return [f"({var} & {(1 << (64 if kind == 's64' else 32)) - 1:#x})"]
            return [var]
        if kind == "bool":
            return [f"_lower_bool({where!r}, {value})"]
        if kind == "char":
            return [f"_lower_char({where!r}, {value})"]
        bits = "_f32_bits" if kind == "f32" else "_f64_bits"
        return [f"_lower_float({where!r}, {value}, {bits})"]

    def _checked_int(self, kind: str, value: str, where: str) -> str:
        lo, hi = _int_range(kind)
        var = self.fresh()
        self.emit(f"{var} = {value}")
        self.emit(f"if type({var}) is not int or not {lo} <= {var} <= {hi}:")
        self.emit(f"    {var} = check_int({where!r}, {kind!r}, {var})")
        return var

    def _lower_string(self, value: str, where: str) -> list[str]:
        raw, ptr = self.fresh("b"), self.fresh("p")
        self.emit(f"{raw} = _encode({where!r}, {value})")
        self.emit(f"{ptr} = s.alloc(ctx, len({raw}), 1)")
        self.emit(f"s.m[{ptr}:{ptr} + len({raw})] = {raw}")
        return [ptr, f"len({raw})"]

    def _lower_list(self, ty: t.List, value: str, where: str) -> list[str]:
        element = ty.element
        ptr, n = self.fresh("p"), self.fresh("n")
        if isinstance(element, t.Prim) and element.kind in ("u8", "s8"):
            view = self.fresh("b")
            self.emit(f"{view} = {value}")
            self.emit(f"if type({view}) is bytes:")
            self.emit(f"    {n} = len({view})")
            self.emit("else:")
            self.emit(f"    {view} = check_buffer({where!r}, {view})")
            self.emit(f"    {n} = {view}.nbytes")
            self.emit(f"{ptr} = s.alloc(ctx, {n}, 1)")
            self.emit(f"s.m[{ptr}:{ptr} + {n}] = {view}")
            return [ptr, n]
        seq = self.fresh("q")
        self.emit(f"{seq} = _sequence({where!r}, {value})")
        self.emit(f"{n} = len({seq})")
        self.emit(f"{ptr} = s.alloc(ctx, {n} * {size(element)}, {alignment(element)})")
        item, i = self.fresh("e"), self.fresh("i")
        self.emit(f"for {i}, {item} in enumerate({seq}):")
        with self.indent():
            self.store(element, item, f"{ptr} + {i} * {size(element)}", where)
        return [ptr, n]

    def _split(self, ty: t.Type, value: str, where: str) -> list[str]:
        """Emit code that checks a record/tuple value and binds its parts; return their names."""
        parts = [self.fresh() for _ in _fields(ty)]
        if isinstance(ty, t.Record):
            cls = self.const(ty.cls, "C")
            attrs = tuple(n for n, _ in ty.fields)
            source = f"_fields_of({where!r}, {value}, {cls}, {attrs!r})"
        else:
            source = f"_tuple({where!r}, {value}, {len(parts)})"
        self.emit(
            f"{', '.join(parts)}{',' if len(parts) == 1 else ''} = {source}" if parts else source
        )
        return parts

    def _flag_bits(self, ty: t.Flags) -> str:
        return self.const({n: i for i, n in enumerate(ty.names)}, "F")

    def _case_lookup(self, ty: t.Type, value: str, where: str) -> tuple[str, str | None]:
        """Emit code that finds the case index of a variant-like value; return (index, payload)."""
        index = self.fresh("c")
        if isinstance(ty, t.Enum):
            names = self.const({n: i for i, n in enumerate(ty.names)}, "F")
            self.emit(f"{index} = _case_index({where!r}, {value}, {names}, {ty.name!r})")
            return index, None
        if isinstance(ty, t.Option):
            self.emit(f"{index} = 0 if {value} is None else 1")
            return index, value
        payload = self.fresh()
        if isinstance(ty, t.Result):
            ok, err = self.const(_ok_class(), "C"), self.const(_err_class(), "C")
            self.emit(f"if type({value}) is {ok}: {index} = 0")
            self.emit(f"elif type({value}) is {err}: {index} = 1")
            self.emit(f"else: raise TypeError({where!r} + ' must be sandlink.Ok or sandlink.Err')")
        else:
            assert isinstance(ty, t.Variant)
            names = self.const({n: i for i, (n, _) in enumerate(ty.cases)}, "F")
            variant = self.const(_variant_class(), "C")
            self.emit(f"if type({value}) is not {variant}:")
            self.emit(f"    raise TypeError({where!r} + ' must be a sandlink.Variant')")
            self.emit(f"{index} = _case_index({where!r}, {value}.case, {names}, {ty.name!r})")
        self.emit(f"{payload} = {value}.value")
        return index, payload

    def _lower_flat_variant(self, ty: t.Type, value: str, where: str) -> list[str]:
        flat = flatten(ty)
        index, payload = self._case_lookup(ty, value, where)
        slots = [self.fresh("f") for _ in flat[1:]]
        for i, (_, case_ty) in enumerate(cases(ty)):
            self.emit(f"{'if' if i == 0 else 'elif'} {index} == {i}:")
            with self.indent():
                exprs = [] if case_ty is None else self.lower_flat(case_ty, payload, where)
                exprs += ["0"] * (len(slots) - len(exprs))
                for slot, expr in zip(slots, exprs, strict=True):
                    self.emit(f"{slot} = {expr}")
                if not slots:
                    self.emit("pass")
        return [index, *slots]

    # -- storing into memory

    def store(self, ty: t.Type, value: str, addr: str, where: str) -> None:
        """Emit code that checks `value` and writes it at `addr` in linear memory."""
        if _handle(ty):
            (expr,) = self.lower_flat(ty, value, where)
            self.emit(f"{self.struct('I')}.pack_into(s.m, {addr}, {expr})")
            return
        if isinstance(ty, t.Prim) and ty.kind != "string":
            if ty.kind in _INT_BITS:
                expr = self._checked_int(ty.kind, value, where)
            else:
                (expr,) = self._lower_flat_prim(ty.kind, value, where)
                if ty.kind in ("f32", "f64"):
                    expr = f"_bits_{ty.kind}({expr})"
            self.emit(f"{self.struct(_PRIM[ty.kind][0])}.pack_into(s.m, {addr}, {expr})")
            return
        if isinstance(ty, (t.Prim, t.List)):
            ptr, n = self.lower_flat(ty, value, where)
            self.emit(f"{self.struct('II')}.pack_into(s.m, {addr}, {ptr}, {n})")
            return
        if isinstance(ty, (t.Record, t.Tuple)):
            parts = self._split(ty, value, where)
            offset = 0
            for part, f in zip(parts, _fields(ty), strict=True):
                offset = _align_to(offset, alignment(f))
                self.store(f, part, f"{addr} + {offset}", where)
                offset += size(f)
            return
        if isinstance(ty, t.Flags):
            words = self.lower_flat(ty, value, where)
            fmt = _flags_codes(len(ty.names))
            self.emit(f"{self.struct(fmt)}.pack_into(s.m, {addr}, {', '.join(words)})")
            return
        index, payload = self._case_lookup(ty, value, where)
        self.emit(f"{self.struct(_disc_code(len(cases(ty))))}.pack_into(s.m, {addr}, {index})")
        offset = _payload_offset(ty)
        for i, (_, case_ty) in enumerate(cases(ty)):
            if case_ty is not None:
                self.emit(f"if {index} == {i}:")
                with self.indent():
                    self.store(case_ty, payload, f"{addr} + {offset}", where)

    # -- lifting from flat values

    def lift_flat(self, ty: t.Type, slots: Iterator[str]) -> str:
        """Emit code that builds a value of `ty` from flat raw-slot expressions; return its name."""
        if _handle(ty):
            return self._bind(self._lift_handle(ty, f"{next(slots)} & 0xFFFFFFFF"))
        if isinstance(ty, t.Prim):
            if ty.kind == "string":
                return self._bind(
                    self._text(f"{next(slots)} & 0xFFFFFFFF", f"{next(slots)} & 0xFFFFFFFF")
                )
            return self._bind(self._lift_prim(ty.kind, next(slots)))
        if isinstance(ty, t.List):
            ptr, n = (
                self._bind(f"{next(slots)} & 0xFFFFFFFF"),
                self._bind(f"{next(slots)} & 0xFFFFFFFF"),
            )
            return self._load_list(ty, ptr, n)
        if isinstance(ty, (t.Record, t.Tuple)):
            return self._build(ty, [self.lift_flat(f, slots) for f in _fields(ty)])
        if isinstance(ty, t.Flags):
            words = [self._bind(f"{next(slots)} & 0xFFFFFFFF") for _ in flatten(ty)]
            names = self.const(ty.names, "N")
            return self._bind(f"_flag_set({names}, ({', '.join(words)},))")
        flat = flatten(ty)
        tag = self._bind(f"{next(slots)} & 0xFFFFFFFF")
        payload_slots = [self._bind(next(slots)) for _ in flat[1:]]
        result = self.fresh()
        self._lift_cases(
            ty, tag, result, lambda case_ty: self.lift_flat(case_ty, iter(payload_slots))
        )
        return result

    def _lift_handle(self, ty: t.Type, handle: str) -> str:
        if isinstance(ty, t.Borrow):
            raise UnsupportedTypeError("a borrow<...> handed to the host is not supported")
        return f"_take(s, {handle}, {self.const(ty.resource.cls, 'C')})"

    def _lift_prim(self, kind: str, raw: str) -> str:
        if kind == "bool":
            return f"({raw} & 0xFFFFFFFF) != 0"
        if kind == "char":
            return f"_char({raw} & 0xFFFFFFFF)"
        if kind == "f32":
            return f"_bits_f32({raw})"
        if kind == "f64":
            return f"_bits_f64({raw})"
        bits = _INT_BITS[kind]
        mask = (1 << bits) - 1
        if kind.startswith("u"):
            return f"({raw} & {mask:#x})"
        sign = 1 << (bits - 1)
        return f"((({raw} & {mask:#x}) ^ {sign:#x}) - {sign:#x})"

    def _lift_cases(self, ty: t.Type, tag: str, result: str, lift_payload: Any) -> None:
        all_cases = cases(ty)
        for i, (name, case_ty) in enumerate(all_cases):
            self.emit(f"{'if' if i == 0 else 'elif'} {tag} == {i}:")
            with self.indent():
                payload = "None" if case_ty is None else lift_payload(case_ty)
                self.emit(f"{result} = {self._wrap_case(ty, i, name, payload)}")
        self.emit("else:")
        self.emit(f"    raise _bad_case({tag}, {getattr(ty, 'name', type(ty).__name__.lower())!r})")

    def _wrap_case(self, ty: t.Type, index: int, name: str, payload: str) -> str:
        if isinstance(ty, t.Enum):
            return repr(name)
        if isinstance(ty, t.Option):
            return payload
        if isinstance(ty, t.Result):
            cls = self.const(_ok_class() if index == 0 else _err_class(), "C")
            return f"{cls}({payload})"
        return f"{self.const(_variant_class(), 'C')}({name!r}, {payload})"

    def _span(self, ptr: str, nbytes: str) -> str:
        """Emit a bounds check; return the expression for the bytes (`lm` is len(m))."""
        p, n = self._bind(ptr), self._bind(nbytes)
        self.emit(f"if {p} + {n} > lm: raise OutOfView({p}, {n})")
        return f"m[{p}:{p} + {n}]"

    def _text(self, ptr: str, nbytes: str) -> str:
        return f"{self._span(ptr, nbytes)}.tobytes().decode()"

    def _bind(self, expr: str) -> str:
        var = self.fresh()
        self.emit(f"{var} = {expr}")
        return var

    def _build(self, ty: t.Type, parts: list[str]) -> str:
        if isinstance(ty, t.Record):
            return self._bind(f"{self.const(ty.cls, 'C')}({', '.join(parts)})")
        return self._bind(f"({', '.join(parts)}{',' if len(parts) == 1 else ''})")

    # -- loading from memory

    def load(self, ty: t.Type, addr: str) -> str:
        """Emit code that reads a value of `ty` at `addr`; return the name holding it."""
        if _variant_like(ty):
            tag = self._bind(f"{self.struct(_disc_code(len(cases(ty))))}.unpack_from(m, {addr})[0]")
            result = self.fresh()
            offset = _payload_offset(ty)
            self._lift_cases(
                ty, tag, result, lambda case_ty: self.load(case_ty, f"{addr} + {offset}")
            )
            return result
        fmt, leaves = _leaf_format(ty)
        raw = self._bind(f"{self.struct(fmt)}.unpack_from(m, {addr})")
        return self._from_leaves(ty, raw, itertools.count(), leaves, addr)

    def _from_leaves(
        self, ty: t.Type, raw: str, index: Iterator[int], leaves: dict, addr: str
    ) -> str:
        """Build a value from a tuple of unpacked leaf fields (see `_leaf_format`)."""
        if _handle(ty):
            return self._bind(self._lift_handle(ty, f"{raw}[{next(index)}]"))
        if isinstance(ty, t.Prim):
            i = next(index)
            if ty.kind == "string":
                return self._bind(self._text(f"{raw}[{i}]", f"{raw}[{next(index)}]"))
            if ty.kind in ("bool", "char"):
                return self._bind(self._lift_prim(ty.kind, f"{raw}[{i}]"))
            return f"{raw}[{i}]"
        if isinstance(ty, t.List):
            i = next(index)
            return self._load_list(ty, f"{raw}[{i}]", f"{raw}[{next(index)}]")
        if isinstance(ty, (t.Record, t.Tuple)):
            parts = [self._from_leaves(f, raw, index, leaves, addr) for f in _fields(ty)]
            return self._build(ty, parts)
        if isinstance(ty, t.Flags):
            words = [f"{raw}[{next(index)}]" for _ in _flags_codes(len(ty.names))]
            names = self.const(ty.names, "N")
            return self._bind(f"_flag_set({names}, ({', '.join(words)},))")
        return self.load(ty, f"{addr} + {leaves[id(ty)]}")

    def _load_list(self, ty: t.List, ptr: str, n: str) -> str:
        element = ty.element
        if isinstance(element, t.Prim) and element.kind in ("u8", "s8"):
            data = self._span(ptr, n)
            return self._bind(
                f"bytes({data})" if element.kind == "u8" else f"{data}.cast('b').tolist()"
            )
        width = size(element)
        span = self._bind(self._span(ptr, f"{n} * {width}"))
        fmt, leaves = _leaf_format(element)
        if _variant_like(element) or leaves:
            result, i = self._bind("[]"), self.fresh("i")
            self.emit(f"for {i} in range({n}):")
            with self.indent():
                self.emit(f"{result}.append({self.load(element, f'{ptr} + {i} * {width}')})")
            return result
        row, result = self.fresh("r"), self._bind("[]")
        self.emit(f"for {row} in {self.struct(fmt)}.iter_unpack({span}):")
        with self.indent():
            value = self._from_leaves(element, row, itertools.count(), leaves, "None")
            self.emit(f"{result}.append({value})")
        return result


class _Indent:
    def __init__(self, emitter: Emitter) -> None:
        self.emitter = emitter

    def __enter__(self) -> None:
        self.emitter.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.emitter.depth -= 1


def _int_range(kind: str) -> tuple[int, int]:
    bits = _INT_BITS[kind]
    if kind.startswith("u"):
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _leaf_format(ty: t.Type) -> tuple[str, dict[int, int]]:
    """One struct format covering a type's fixed-position leaves, with padding.

    Variant-like fields cannot be unpacked in one go (their payload depends on the case):
    they are skipped here and their offsets returned, keyed by id(field type), to be loaded
    separately. The format spans the whole type, trailing padding included, so that
    `iter_unpack` walks an array of it.
    """
    parts: list[str] = []
    variants: dict[int, int] = {}
    position = 0

    def walk(ty: t.Type, offset: int) -> None:
        nonlocal position
        if _variant_like(ty):
            variants[id(ty)] = offset
            return
        if isinstance(ty, (t.Record, t.Tuple)):
            inner = offset
            for f in _fields(ty):
                inner = _align_to(inner, alignment(f))
                walk(f, inner)
                inner += size(f)
            return
        if offset > position:
            parts.append(f"{offset - position}x")
        if _handle(ty):
            code = "I"
        elif isinstance(ty, t.Prim):
            code = "II" if ty.kind == "string" else _PRIM[ty.kind][0]
        elif isinstance(ty, t.List):
            code = "II"
        else:
            assert isinstance(ty, t.Flags)
            code = _flags_codes(len(ty.names))
        parts.append(code)
        position = offset + struct.calcsize("<" + code)

    walk(ty, 0)
    end = size(ty)
    if end > position:
        parts.append(f"{end - position}x")
    return "".join(parts), variants


def _ok_class() -> type:
    from ._values import Ok

    return Ok


def _err_class() -> type:
    from ._values import Err

    return Err


def _variant_class() -> type:
    from ._values import Variant

    return Variant
