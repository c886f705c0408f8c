"""Hand-written components shaped like wasmtime-py's own component tests, on both backends.

wasmtime-py (github.com/bytecodealliance/wasmtime-py, tests/component/*.py) tests its component
API with small WAT components: exports lifted straight from a core module without memory,
host imports lowered into a core module and lifted back out (a value goes host -> guest ->
host -> guest -> host), memory and realloc living in a core module of their own, resources the
component defines, instance imports and exports, the empty component... Those shapes differ
from what `cargo component` emits (one main module exporting `memory` and `cabi_realloc`).
The fixtures in `wasmtime_py_shapes/*.wat` re-create them (each names the wasmtime-py test it
follows); they are built with `wasm-tools parse` at test time.

Every fixture is loaded on both backends: "oracle" (wasmtime.component) and
"wasm" (the fast host), and the fast host must give exactly the oracle's values (same Python
types; NaN compared as NaN, -0.0 told apart from 0.0) and raise the same exception types; where
wasmtime-py's test states a value, the oracle must give that value too. Shapes sandlink does not
support (resources the host implements, WASI, component-model async) must fail at load with a
clear sandlink error; those loads run in a subprocess so that a crash fails the test instead of
killing the session.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import struct
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sandlink
from conftest import wat_builder
from sandlink import Err, Ok, Variant

SHAPES = Path(__file__).resolve().parent / "wasmtime_py_shapes"
FIXTURES = (
    "async_lift",
    "core_module_exports",
    "core_module_import",
    "counter",
    "empty",
    "empty_instance_import",
    "future_result",
    "host_resource",
    "host_resource_drop",
    "import_empty",
    "import_missing",
    "imports_various",
    "interfaces",
    "lift_only",
    "lists",
    "named_simple",
    "resource_any",
    "retptr",
    "scalars",
    "stream_param",
    "wasi_stdout",
)

U32_MAX, U64_MAX = 2**32 - 1, 2**64 - 1
S64_MIN, S64_MAX = -(2**63), 2**63 - 1
NAN, INF = math.nan, math.inf


def f32(x: float) -> float:
    """`x` rounded to the nearest f32, as the guest sees it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


F32_MAX = f32(3.4028234663852886e38)
F32_TINY = struct.unpack("<f", b"\x01\x00\x00\x00")[0]  # the smallest f32 subnormal


def record_classes(obj: Any) -> dict[str, type]:
    """The record classes (WIT name -> class) a loaded component made."""
    return obj.__sandlink__.record_classes


# --- building and loading ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`build(name)`: wasmtime_py_shapes/<name>.wat compiled to a .wasm in a session tmp dir."""
    return wat_builder(SHAPES, tmp_path_factory.mktemp("wasmtime_py_shapes"))


Imports = Mapping[str, Mapping[str, Callable[..., Any]]]


def load(
    wasm: Path,
    backend: str,
    imports: Imports | None = None,
    classes: Mapping[str, type] | None = None,
) -> Any:
    return sandlink.load_component(
        wasm, imports=imports, classes=classes, backend=backend, cache_dir=False
    )


class Both:
    """One component on both backends, each with its own imports (made by `make_imports`
    from a list the imports may log their calls to: `oracle_log` / `fast_log`).

    The oracle loads at once; the fast host on first use (so a fast host that cannot load
    fails the test that uses it, not the fixture), with the oracle's record classes and the
    `classes` given."""

    def __init__(
        self,
        wasm: Path,
        make_imports: Callable[[list[Any]], Imports] | None = None,
        classes: Mapping[str, type] | None = None,
    ) -> None:
        self.wasm = wasm
        self.make_imports = make_imports or (lambda _log: {})
        self.classes = dict(classes or {})
        self.oracle_log: list[Any] = []
        self.fast_log: list[Any] = []
        self.oracle = load(wasm, "oracle", self.make_imports(self.oracle_log), classes)
        self._fast: Any = None

    @property
    def fast(self) -> Any:
        if self._fast is None:
            classes = {**record_classes(self.oracle), **self.classes}
            self._fast = load(self.wasm, "wasm", self.make_imports(self.fast_log), classes)
        return self._fast

    def both(self) -> Iterator[tuple[str, Any, list[Any]]]:
        """(backend, loaded component, its log), the oracle first."""
        yield "oracle", self.oracle, self.oracle_log
        yield "wasm", self.fast, self.fast_log

    def clear(self) -> None:
        self.oracle_log.clear()
        self.fast_log.clear()


def echo_imports(*names: str) -> Callable[[list[Any]], Imports]:
    """World-level imports `echo-*` that log (name, value) and hand the value back."""

    def make(log: list[Any]) -> Imports:
        def echo(name: str) -> Callable[[Any], Any]:
            def call(value: Any) -> Any:
                log.append((name, value))
                return value

            return call

        return {"$root": {name: echo(name) for name in names}}

    return make


# --- comparing values -------------------------------------------------------------------------


def canon(value: Any, record_types: bool = True) -> Any:
    """`value` as nested tuples that are equal only when the values and their Python types
    are: NaN equals NaN, -0.0 differs from 0.0, True differs from 1. With `record_types`
    False, records compare by field names and values only (not by class)."""
    if isinstance(value, float):
        return (float, "nan" if math.isnan(value) else value.hex())
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(canon(v, record_types) for v in value))
    if isinstance(value, frozenset):
        return (frozenset, tuple(sorted(value)))
    if isinstance(value, (Ok, Err)):
        return (type(value), canon(value.value, record_types))
    if isinstance(value, Variant):
        return (Variant, value.case, canon(value.value, record_types))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = tuple(
            (f.name, canon(getattr(value, f.name), record_types)) for f in dataclasses.fields(value)
        )
        return (type(value) if record_types else "record", fields)
    raise AssertionError(f"not a sandlink value: {value!r} ({type(value).__name__})")


def assert_same(got: Any, want: Any) -> None:
    """`got` is exactly `want` (types included, NaN-aware)."""
    assert canon(got) == canon(want), f"{got!r} != {want!r}"


def raised(call: Callable[[], Any]) -> BaseException:
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("no exception was raised")


def assert_same_error(both: Both, call: Callable[[Any], Any], expected: type) -> None:
    """`call(component)` raises an `expected` on the oracle and the same type on the fast host."""
    want = raised(lambda: call(both.oracle))
    assert isinstance(want, expected), f"oracle raised {want!r}, not a {expected.__name__}"
    got = raised(lambda: call(both.fast))
    assert type(got) is type(want), f"fast host raised {got!r}, the oracle {want!r}"


def check_echo(both: Both, name: str, value: Any, expected: Any) -> None:
    """`name(value)` gives `expected` on the oracle and exactly the oracle's value on the fast
    host, and on each the host import saw `expected` once. What the import sees is compared
    with records by fields only: wasmtime's component type does not list `(import "pair" (type
    (eq ...)))` type imports, so the oracle names the import's record "record", not "pair"; a
    host reading the binary may well call it "pair"."""
    both.clear()
    want = getattr(both.oracle, name)(value)
    assert_same(want, expected)
    got = getattr(both.fast, name)(value)
    assert_same(got, want)
    wit = name.replace("_", "-")
    seen = canon([(wit, expected)], record_types=False)
    assert canon(both.oracle_log, record_types=False) == seen
    assert canon(both.fast_log, record_types=False) == seen


def echo_cases(table: Mapping[str, list[Any]]) -> list[Any]:
    """pytest params (name, value, expected) from {name: [value or (value, expected)...]}:
    a plain value is expected back unchanged; a `Rounds(value, expected)` changes."""
    params = []
    for name, values in table.items():
        for i, case in enumerate(values):
            value, expected = split(case)
            params.append(pytest.param(name, value, expected, id=f"{name}-{i}"))
    return params


@dataclasses.dataclass(frozen=True)
class Rounds:
    """An argument the trip changes (an f32 rounded, a bytearray given back as bytes)."""

    value: Any
    expected: Any


def split(case: Any) -> tuple[Any, Any]:
    """(argument, expected result) of a case: a `Rounds`, or a value expected unchanged."""
    return (case.value, case.expected) if isinstance(case, Rounds) else (case, case)


# --- every fixture ----------------------------------------------------------------------------


def test_the_fixture_list_is_complete():
    assert sorted(p.stem for p in SHAPES.glob("*.wat")) == sorted(FIXTURES)


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_builds(build, name):
    assert build(name).read_bytes().startswith(b"\0asm")


# --- empty and non-function exports -----------------------------------------------------------


def test_empty_component_loads(build):
    """test_component.py::test_smoke / test_instance.py::test_smoke: `(component)`."""
    both = Both(build("empty"))
    for _, component, _ in both.both():
        assert component is not None
        assert not hasattr(component, "hello")  # wasmtime-py: get_export_index('hello') is None


def test_core_module_exports_are_not_functions(build):
    """test_component.py::test_exports: exported core modules (top level and in an instance)
    load, are not callable, and do not hide the function next to them."""
    both = Both(build("core_module_exports"))
    for _, component, _ in both.both():
        for name in ("foo", "x", "m"):
            assert not hasattr(component, name), name
    assert both.oracle.ping() == 7
    assert_same(both.fast.ping(), both.oracle.ping())


def test_an_empty_instance_import_needs_nothing(build):
    """test_types.py::test_instance: `(import "b" (instance))` needs no imports."""
    both = Both(build("empty_instance_import"))
    assert both.oracle.ping() == 7
    assert_same(both.fast.ping(), 7)


# --- exports lifted from a memory-less core module --------------------------------------------


@pytest.fixture(scope="module")
def lift_only(build) -> Both:
    return Both(build("lift_only"))


def test_call_without_memory(lift_only):
    """test_func.py::test_call: a() -> None, b(100) -> None, c() -> 101."""
    for _, component, _ in lift_only.both():
        assert component.a() is None
        assert component.b(100) is None
        assert component.b(x=100) is None
        assert_same(component.c(), 101)


def test_a_trap_is_a_guest_trap_and_the_next_call_works(lift_only):
    """test_func.py::test_call's b traps (unreachable) for anything but 100."""
    want = raised(lambda: lift_only.oracle.b(99))
    assert isinstance(want, sandlink.GuestTrap)
    got = raised(lambda: lift_only.fast.b(99))
    assert type(got) is type(want)
    assert got.code == want.code == "UNREACHABLE"
    for _, component, _ in lift_only.both():
        assert component.b(100) is None
        assert component.c() == 101


def test_wrong_arguments_to_a_memory_less_export(lift_only):
    """test_func.py::test_call: b() without its argument is a TypeError."""
    assert_same_error(lift_only, lambda c: c.b(), TypeError)
    assert_same_error(lift_only, lambda c: c.b(100, 1), TypeError)
    assert_same_error(lift_only, lambda c: c.a(1), TypeError)
    assert_same_error(lift_only, lambda c: c.b("100"), TypeError)
    assert_same_error(lift_only, lambda c: c.b(True), TypeError)
    assert_same_error(lift_only, lambda c: c.b(-1), OverflowError)
    assert_same_error(lift_only, lambda c: c.b(U32_MAX + 1), OverflowError)


# --- world-level imports ----------------------------------------------------------------------


def test_roundtrip_empty(build):
    """test_func.py::test_roundtrip_empty: export x() calls import x() once and returns None."""
    both = Both(build("import_empty"), lambda log: {"$root": {"x": lambda: log.append("x")}})
    for _, component, log in both.both():
        assert component.x() is None
        assert log == ["x"]


def test_an_exception_in_an_import_comes_out_of_the_call(build):
    """test_linker.py::test_host_exception: the import raises RuntimeError("oh no"); the call
    raises it (same type, same message); the next call runs in a working instance."""
    fail = [True]

    def x(log: list[Any]) -> Callable[[], None]:
        def call() -> None:
            log.append("x")
            if fail[0]:
                raise RuntimeError("oh no")

        return call

    both = Both(build("import_empty"), lambda log: {"$root": {"x": x(log)}})
    want = raised(both.oracle.x)
    assert type(want) is RuntimeError and str(want) == "oh no"
    got = raised(both.fast.x)
    assert type(got) is RuntimeError and str(got) == "oh no"
    fail[0] = False
    for _, component, log in both.both():
        assert component.x() is None
        assert log == ["x", "x"]


def test_a_missing_import_fails_the_load(build):
    """test_linker.py::test_fail_instantiate: instantiating without `x` fails (sandlink: at
    load, a SandlinkError naming it); with it, the component loads; an unknown import name is
    a ValueError."""
    wasm = build("import_missing")
    for backend in ("oracle", "wasm"):
        with pytest.raises(sandlink.SandlinkError, match=r"\bx\b"):
            load(wasm, backend)
        assert load(wasm, backend, {"$root": {"x": lambda: None}}) is not None
        with pytest.raises(ValueError):
            load(wasm, backend, {"$root": {"x": lambda: None, "y": lambda: None}})


@pytest.fixture(scope="module")
def various(build) -> Both:
    results = {"c": "", "d": None}

    def make(log: list[Any]) -> Imports:
        def d(a: int, b: int) -> Any:
            log.append(("d", a, b))
            return a * 65536 + b if results["d"] is None else results["d"]

        return {
            "$root": {
                "a": lambda: log.append(("a",)),
                "b": lambda x: log.append(("b", x)),
                "c": lambda: log.append(("c",)) or results["c"],
                "d": d,
            }
        }

    both = Both(build("imports_various"), make)
    both.results = results  # type: ignore[attr-defined]
    return both


def test_imports_of_several_signatures(various):
    """test_types.py::test_func's imports a(), b(x: u32), c() -> string, d(a: u8, b: u16) -> u32,
    each called through the export of the same name."""
    various.clear()
    for _, component, log in various.both():
        assert component.a() is None
        assert component.b(7) is None
        assert component.b(U32_MAX) is None
        assert_same(component.d(255, 65535), 16777215)
        assert_same(component.d(b=2, a=1), 65538)
        assert log == [("a",), ("b", 7), ("b", U32_MAX), ("d", 255, 65535), ("d", 1, 2)]


@pytest.mark.parametrize("text", ["", "hello", "hé🦀\U0010ffff", "nul\x00inside", "x" * 100_000])
def test_an_import_returning_a_string_into_another_modules_memory(various, text):
    various.results["c"] = text
    assert_same(various.oracle.c(), text)
    assert_same(various.fast.c(), text)


def test_an_import_returning_a_bad_value_fails_the_call(various):
    """The import's result is checked like an argument: same exception on both backends."""
    try:
        various.results["d"] = U32_MAX + 1
        assert_same_error(various, lambda c: c.d(1, 2), OverflowError)
        various.results["d"] = "ten"
        assert_same_error(various, lambda c: c.d(1, 2), TypeError)
    finally:
        various.results["d"] = None
    various.results["c"] = b"bytes"
    assert_same_error(various, lambda c: c.c(), TypeError)
    various.results["c"] = ""
    for _, component, _ in various.both():
        assert component.d(0, 1) == 1  # the instance works again


# --- primitives through an import (roundtrip_simple) ------------------------------------------

SCALARS = ("bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64", "char")

# wasmtime-py's values (test_roundtrip_primitive), then edge values.
SCALAR_CASES = {
    "echo_bool": [True, False],
    "echo_u8": [0, 1, 42, 255],
    "echo_u16": [0, 1, 42, 65535, 0x8000],
    "echo_u32": [0, 1, 42, U32_MAX, 2**31],
    "echo_u64": [0, 1, 42, U64_MAX, 2**63],
    "echo_s8": [0, 1, -1, 42, -42, 127, -128],
    "echo_s16": [0, 1, -1, 42, -42, 32767, -32768],
    "echo_s32": [0, 1, -1, 42, -42, 2**31 - 1, -(2**31)],
    "echo_s64": [0, 1, -1, 42, -42, S64_MAX, S64_MIN],
    "echo_f32": [
        0.0,
        1.0,
        -1.0,
        -0.0,
        Rounds(0.1, f32(0.1)),
        Rounds(1 / 3, f32(1 / 3)),
        F32_MAX,
        -F32_MAX,
        F32_TINY,
        INF,
        -INF,
        NAN,
    ],
    "echo_f64": [0.0, 1.0, -1.0, -0.0, 0.1, 5e-324, 1.7976931348623157e308, INF, -INF, NAN],
    "echo_char": ["a", "b", "\x00", "é", "€", "🦀", "\U0010ffff", "\ud7ff", "\ue000"],
}


@pytest.fixture(scope="module")
def scalars(build) -> Both:
    return Both(build("scalars"), echo_imports(*(f"echo-{t}" for t in SCALARS)))


@pytest.mark.parametrize(("name", "value", "expected"), echo_cases(SCALAR_CASES))
def test_roundtrip_primitive(scalars, name, value, expected):
    """test_func.py::test_roundtrip_primitive: every primitive through import and export."""
    check_echo(scalars, name, value, expected)


def test_roundtrip_primitive_covers_every_export(scalars):
    assert set(SCALAR_CASES) == {f"echo_{t}" for t in SCALARS}


def test_primitives_by_keyword(scalars):
    scalars.clear()
    for _, component, _ in scalars.both():
        assert_same(component.echo_u8(v=200), 200)
        assert_same(component.echo_char(v="🦀"), "🦀")


BAD_SCALARS = [
    ("echo_bool", object(), TypeError),  # wasmtime-py: `Bad()` is a TypeError
    ("echo_bool", 1, TypeError),
    ("echo_u8", object(), TypeError),
    ("echo_u8", 1.0, TypeError),
    ("echo_u8", 256, OverflowError),
    ("echo_u8", -1, OverflowError),
    ("echo_u16", 65536, OverflowError),
    ("echo_u32", U32_MAX + 1, OverflowError),
    ("echo_u64", U64_MAX + 1, OverflowError),
    ("echo_u64", -1, OverflowError),
    ("echo_s8", 128, OverflowError),
    ("echo_s8", -129, OverflowError),
    ("echo_s16", -32769, OverflowError),
    ("echo_s32", 2**31, OverflowError),
    ("echo_s64", S64_MAX + 1, OverflowError),
    ("echo_s64", S64_MIN - 1, OverflowError),
    ("echo_s64", "1", TypeError),
    ("echo_f32", object(), TypeError),
    ("echo_f32", "1.0", TypeError),
    ("echo_f32", 1e39, OverflowError),
    ("echo_f64", None, TypeError),
    ("echo_char", object(), TypeError),
    ("echo_char", "", TypeError),
    ("echo_char", "ab", TypeError),
    ("echo_char", "\ud800", ValueError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD_SCALARS)
def test_bad_primitives_raise_the_oracles_exception(scalars, name, value, error):
    scalars.clear()
    assert_same_error(scalars, lambda c: getattr(c, name)(value), error)
    assert scalars.oracle_log == scalars.fast_log == []  # rejected before the guest ran


# --- enum, flags, payload-less variant, empty result (roundtrip_simple) -----------------------

ABC = ("a", "b", "c")
NAMED_SIMPLE_CASES = {
    "echo_enum": list(ABC),
    "echo_flags": [
        frozenset(),
        frozenset({"a"}),
        frozenset({"b"}),
        frozenset({"c"}),
        frozenset({"a", "b"}),
        frozenset({"a", "c"}),
        frozenset({"b", "c"}),
        frozenset(ABC),
        Rounds({"a", "c"}, frozenset({"a", "c"})),  # wasmtime-py passes sets
        Rounds(["b", "b"], frozenset({"b"})),
    ],
    "echo_variant": [Variant("a"), Variant("b")],
    "echo_result": [Ok(), Err()],
}


@pytest.fixture(scope="module")
def named_simple(build) -> Both:
    names = ("echo-enum", "echo-flags", "echo-variant", "echo-result")
    return Both(build("named_simple"), echo_imports(*names))


@pytest.mark.parametrize(("name", "value", "expected"), echo_cases(NAMED_SIMPLE_CASES))
def test_roundtrip_enum_flags_variant_result(named_simple, name, value, expected):
    """test_func.py::test_enum, ::test_flags, ::test_variant (no payloads), ::test_result
    (`(result)`)."""
    check_echo(named_simple, name, value, expected)


BAD_NAMED_SIMPLE = [
    ("echo_enum", "d", ValueError),  # wasmtime-py: an unknown case is an error
    ("echo_enum", "", ValueError),
    ("echo_enum", 0, TypeError),
    ("echo_flags", frozenset({"d"}), ValueError),  # wasmtime-py: an unknown flag is an error
    ("echo_flags", "abc", TypeError),
    ("echo_flags", object(), TypeError),
    ("echo_variant", Variant("c"), ValueError),  # wasmtime-py: ValueError
    ("echo_variant", Variant("a", 1), TypeError),
    ("echo_variant", "a", TypeError),
    ("echo_result", None, TypeError),
    ("echo_result", Ok(1), TypeError),
    ("echo_result", Variant("ok"), TypeError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD_NAMED_SIMPLE)
def test_bad_enum_flags_variant_result(named_simple, name, value, error):
    named_simple.clear()
    assert_same_error(named_simple, lambda c: getattr(c, name)(value), error)
    assert named_simple.oracle_log == named_simple.fast_log == []


# --- two-value types through a return pointer into another module's memory (retptr) ----------

RETPTR_NAMES = (
    "echo-record",
    "echo-tuple",
    "echo-num",
    "echo-int-or-float",
    "echo-maybe-float",
    "echo-option",
    "echo-result",
    "echo-result-ok",
    "echo-result-err",
)


@pytest.fixture(scope="module")
def retptr(build) -> Both:
    return Both(build("retptr"), echo_imports(*RETPTR_NAMES))


def retptr_cases(pair: type) -> dict[str, list[Any]]:
    """wasmtime-py's values for each type (its test's list), then edge values."""
    return {
        "echo_record": [
            *(pair(0, False), pair(1, True), pair(42, False), pair(65535, True)),
            pair(U32_MAX, True),
        ],
        "echo_tuple": [
            *((0, False), (1, True), (42, False), (65535, True)),
            (U32_MAX, False),
        ],
        "echo_num": [
            *(Variant("a", 1), Variant("b", 2)),
            *(Variant("a", 0), Variant("a", U32_MAX), Variant("b", U64_MAX), Variant("b", 0)),
        ],
        "echo_int_or_float": [
            *(Variant("a", 1), Variant("b", 2.0)),
            *(Variant("a", U32_MAX), Variant("b", -0.0), Variant("b", NAN), Variant("b", -INF)),
            Rounds(Variant("b", 0.1), Variant("b", f32(0.1))),
        ],
        "echo_maybe_float": [
            *(Variant("a"), Variant("b", 2.0)),
            *(Variant("b", 0.0), Variant("b", NAN), Variant("b", INF), Variant("b", F32_TINY)),
        ],
        "echo_option": [*(None, 3, 0), U32_MAX],
        "echo_result": [*(Ok(3), Err(1.0)), Ok(0), Ok(U32_MAX), Err(-0.0), Err(NAN), Err(-INF)],
        "echo_result_ok": [*(Ok(3), Err()), Ok(0), Ok(U32_MAX)],
        "echo_result_err": [*(Err(3.0), Ok()), Err(NAN), Rounds(Err(0.1), Err(f32(0.1)))],
    }


def test_retptr_cases_cover_every_export(retptr):
    names = set(retptr_cases(record_classes(retptr.oracle)["pair"]))
    assert names == {n.replace("-", "_") for n in RETPTR_NAMES}


@pytest.mark.parametrize("name", [n.replace("-", "_") for n in RETPTR_NAMES])
def test_roundtrip_through_a_return_pointer(retptr, name):
    """test_func.py::test_record, ::test_tuple, ::test_variant, ::test_option, ::test_result
    (`retptr_component`): results come back through memory owned by a code-less module."""
    pair = record_classes(retptr.oracle)["pair"]
    for case in retptr_cases(pair)[name]:
        value, expected = split(case)
        check_echo(retptr, name, value, expected)


def test_the_record_is_a_dataclass_named_after_its_wit_type(retptr):
    pair = record_classes(retptr.oracle)["pair"]
    assert dataclasses.is_dataclass(pair) and pair.__name__ == "Pair"
    assert [f.name for f in dataclasses.fields(pair)] == ["a", "b"]
    result = retptr.fast.echo_record(pair(a=7, b=True))
    assert type(result) is pair and result == pair(7, True)


def test_a_record_class_of_the_users(build):
    """test_func.py::test_record passes its own `@dataclass class Record(a, b)`."""

    @dataclasses.dataclass
    class MyPair:
        a: int
        b: bool

    both = Both(build("retptr"), echo_imports(*RETPTR_NAMES), classes={"pair": MyPair})
    assert record_classes(both.oracle).get("pair", MyPair) is MyPair
    want = both.oracle.echo_record(MyPair(65535, True))
    assert type(want) is MyPair and want == MyPair(65535, True)
    got = both.fast.echo_record(MyPair(65535, True))
    assert type(got) is MyPair and got == want


@dataclasses.dataclass
class OnlyA:
    a: int


BAD_RETPTR = [
    ("echo_record", object(), TypeError),  # wasmtime-py: AttributeError (no fields)
    ("echo_record", OnlyA(0), TypeError),  # wasmtime-py: a record missing a field
    ("echo_record", (0, False), TypeError),
    ("echo_tuple", (0,), TypeError),  # wasmtime-py: TypeError
    ("echo_tuple", (0, "x"), TypeError),  # wasmtime-py: TypeError
    ("echo_tuple", (0, False, 1), TypeError),
    ("echo_tuple", (-1, False), OverflowError),
    ("echo_num", Variant("c", 1), ValueError),
    ("echo_num", Variant("a", U32_MAX + 1), OverflowError),
    ("echo_num", 1, TypeError),  # wasmtime-py takes the raw payload; sandlink wants a Variant
    ("echo_int_or_float", Variant("b", "x"), TypeError),
    ("echo_int_or_float", Variant("a", 1.5), TypeError),
    ("echo_maybe_float", Variant("a", 1.0), TypeError),
    ("echo_maybe_float", None, TypeError),
    ("echo_option", object(), TypeError),
    ("echo_option", -1, OverflowError),
    ("echo_result", 3, TypeError),  # wasmtime-py takes the raw payload; sandlink wants Ok/Err
    ("echo_result", Ok(1.5), TypeError),
    ("echo_result", Err(1), Exception),  # an int for an f32: whatever the oracle says
    ("echo_result_ok", Err(1.0), TypeError),
    ("echo_result_err", Ok(1), TypeError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD_RETPTR)
def test_bad_retptr_values(retptr, name, value, error):
    retptr.clear()
    try:
        want = getattr(retptr.oracle, name)(value)
    except Exception as exc:
        assert isinstance(exc, error)
        got = raised(lambda: getattr(retptr.fast, name)(value))
        assert type(got) is type(exc), f"fast host raised {got!r}, the oracle {exc!r}"
    else:  # accepted by the oracle (e.g. an int where a float goes): then the same value
        assert error is Exception, f"the oracle accepted {value!r}: {want!r}"
        assert_same(getattr(retptr.fast, name)(value), want)


# --- strings and lists: memory and realloc in a module of their own (list_component) ----------

LIST_CASES = {  # wasmtime-py's values for each type (its test's list), then edge values
    "echo_string": [
        *("", "a", "hello, world!"),
        *("héllo wörld", "🦀" * 100, "nul\x00inside", "\U0010ffff", "x" * 100_000),
    ],
    "echo_bytes": [
        *(b"", b"a", b"hello, world!"),
        *(b"\x00", bytes(range(256)), bytes(100_000)),
        Rounds(bytearray(b"abc"), b"abc"),
        Rounds(memoryview(b"xyz"), b"xyz"),
    ],
    "echo_u32s": [
        *([], [1], [1, 2, 3, 4, 5]),
        *([0, U32_MAX], list(range(10_000))),
        Rounds((1, 2), [1, 2]),
    ],
    "echo_strings": [[], [""], ["a", "🦀", "héllo"], ["x" * 1000] * 50, ["", "", ""]],
}


@pytest.fixture(scope="module")
def lists(build) -> Both:
    names = ("echo-string", "echo-bytes", "echo-u32s", "echo-strings")
    return Both(build("lists"), echo_imports(*names))


@pytest.mark.parametrize(("name", "value", "expected"), echo_cases(LIST_CASES))
def test_roundtrip_strings_and_lists(lists, name, value, expected):
    """test_func.py::test_string and ::test_list (`list_component`)."""
    check_echo(lists, name, value, expected)


BAD_LISTS = [
    ("echo_string", object(), TypeError),
    ("echo_string", b"bytes", TypeError),
    ("echo_string", "lone \ud800 surrogate", ValueError),
    ("echo_bytes", "text", TypeError),
    ("echo_bytes", [1, 2], TypeError),
    ("echo_u32s", [1, 2, 3, "x"], TypeError),  # wasmtime-py: TypeError
    ("echo_u32s", [1, -1], OverflowError),
    ("echo_u32s", "12", TypeError),
    ("echo_strings", ["a", 1], TypeError),
    ("echo_strings", "ab", TypeError),
]


@pytest.mark.parametrize(("name", "value", "error"), BAD_LISTS)
def test_bad_strings_and_lists(lists, name, value, error):
    lists.clear()
    assert_same_error(lists, lambda c: getattr(c, name)(value), error)
    assert lists.oracle_log == lists.fast_log == []


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    numbers=st.lists(st.integers(0, U32_MAX), max_size=50),
    texts=st.lists(st.text(st.characters(exclude_categories=["Cs"]), max_size=20), max_size=10),
)
def test_strings_and_lists_agree_with_the_oracle(build, text, numbers, texts):
    both = _shared_lists(build)
    check_echo(both, "echo_string", text, text)
    check_echo(both, "echo_bytes", text.encode(), text.encode())
    check_echo(both, "echo_u32s", numbers, numbers)
    check_echo(both, "echo_strings", texts, texts)


_LISTS: dict[int, Both] = {}


def _shared_lists(build: Callable[[str], Path]) -> Both:
    """One `lists` pair for all of hypothesis' examples (a function-scoped fixture would not do)."""
    if id(build) not in _LISTS:
        names = ("echo-string", "echo-bytes", "echo-u32s", "echo-strings")
        _LISTS[id(build)] = Both(build("lists"), echo_imports(*names))
    return _LISTS[id(build)]


# --- instance imports and exports -------------------------------------------------------------


@pytest.mark.parametrize("key", ["sandlink:shapes/log@0.1.0", "log"])
def test_interface_exports_are_flattened_and_interface_imports_called(build, key):
    """test_component.py::test_exports / test_types.py::test_instance, with functions: the
    exported instance's functions are attributes; the imported one is given by full or bare
    interface name."""
    both = Both(build("interfaces"), lambda log: {key: {"note": log.append}})
    checks = [
        (("add", 2, 3), 5),
        (("add", U32_MAX, 2), 1),  # wraps (i32.add)
        (("add", 0, 0), 0),
        (("negate", 5), -5),
        (("negate", 0), 0),
        (("negate", S64_MAX), -S64_MAX),
        (("negate", S64_MIN), S64_MIN),  # wraps (i64.sub)
        (("answer",), 42),
    ]
    for (name, *args), expected in checks:
        want = getattr(both.oracle, name)(*args)
        assert_same(want, expected)
        assert_same(getattr(both.fast, name)(*args), want)
    assert both.oracle_log == both.fast_log == [42]
    assert_same_error(both, lambda c: c.add(1), TypeError)
    assert_same_error(both, lambda c: c.negate(S64_MAX + 1), OverflowError)


# --- resources the component exports ----------------------------------------------------------


def test_resource_any(build):
    """test_value.py::test_resource_any: resource `t` (rep i32, no constructor, no destructor),
    `new(x) -> own<t>` and `drop(x: own<t>)`."""
    both = Both(build("resource_any"))
    for backend, component, _ in both.both():
        T = component.T
        assert isinstance(T, type) and T.__name__ == "T", backend
        r1 = component.new(100)
        r2 = component.new(200)
        assert isinstance(r1, T) and isinstance(r2, T)
        assert not r1.closed and not r2.closed
        with pytest.raises(TypeError):
            T(1)  # no constructor
        r1.close()  # the host drops r1 (wasmtime-py: r1.drop(store))
        assert r1.closed
        r1.close()  # idempotent
        assert component.drop(r2) is None  # the guest drops r2
        assert r2.closed  # given away
        with pytest.raises(sandlink.StaleResourceError):
            component.drop(r2)
        with pytest.raises(sandlink.StaleResourceError):
            component.drop(r1)
        with component.new(5) as r3:
            assert not r3.closed
        assert r3.closed
        with pytest.raises(TypeError):
            component.drop(1)  # wasmtime-py: an int is a TypeError
        with pytest.raises(TypeError):
            component.drop(None)
    # an object of the other backend's class is not a `t` here
    with pytest.raises(TypeError):
        both.fast.drop(both.oracle.new(1))
    with pytest.raises(TypeError):
        both.oracle.drop(both.fast.new(1))


def counter_story(component: Any) -> list[Any]:
    """Everything `counter.wat` can do, as the list of what was observed."""
    seen: list[Any] = []
    Counter = component.Counter
    seen.append(Counter.__name__)
    c = Counter(5)
    seen += [isinstance(c, Counter), c.get(), c.add(3), c.add(n=2), c.get(), component.dropped()]
    z = Counter.zero()
    seen += [isinstance(z, Counter), z.get(), component.dropped()]
    seen += [Counter.take(z), z.closed, component.dropped()]  # the guest dropped z
    try:
        z.get()
    except sandlink.StaleResourceError:
        seen.append("stale")
    c.close()
    seen += [c.closed, component.dropped()]  # the host dropped c
    c.close()
    seen.append(component.dropped())  # no second destructor run
    with Counter(start=U32_MAX) as w:
        seen += [w.add(1), w.get()]  # wraps
    seen += [w.closed, component.dropped()]
    try:
        w.add(1)
    except sandlink.StaleResourceError:
        seen.append("stale")
    a, b = Counter(1), Counter(2)
    seen += [a.add(10), b.get(), Counter.take(b), a.get(), component.dropped()]
    try:
        Counter.take(42)
    except TypeError:
        seen.append("TypeError")
    a.close()
    seen.append(component.dropped())
    return seen


COUNTER_STORY = ["Counter", True, 5, 8, 10, 10, 0]
COUNTER_STORY += [True, 0, 0, 0, True, 1, "stale", True, 2, 2]
COUNTER_STORY += [0, 0, True, 3, "stale", 11, 2, 2, 11, 4, "TypeError", 5]


def test_exported_resource_with_constructor_methods_statics_and_destructor(build):
    """Extends test_value.py::test_resource_any: [constructor], [method], [static], and a
    destructor that runs when the host closes a counter or the guest drops one it was given."""
    both = Both(build("counter"))
    want = counter_story(both.oracle)
    assert want == COUNTER_STORY
    assert counter_story(both.fast) == want


# --- shapes sandlink does not support: a clear error at load, not a crash ---------------------

LOAD_PROBE = textwrap.dedent(
    """
    import json, sys
    import sandlink
    path, backend, imports = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    imports = {key: {name: (lambda *a: None) for name in names} for key, names in imports.items()}
    try:
        sandlink.load_component(path, imports=imports, backend=backend, cache_dir=False)
    except BaseException as exc:
        print(json.dumps({
            "raised": type(exc).__name__,
            "unsupported": isinstance(exc, sandlink.UnsupportedTypeError),
            "sandlink": isinstance(exc, sandlink.SandlinkError),
            "message": str(exc),
        }))
    else:
        print(json.dumps({"raised": None}))
    """
)


def load_in_a_subprocess(
    wasm: Path, backend: str = "wasm", imports: Mapping[str, list[str]] | None = None
) -> dict[str, Any]:
    """What loading `wasm` raises, found in a child process (a crash fails the test only)."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, str(wasm), backend, json.dumps(imports or {})],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (
        f"loading {wasm.name} on {backend!r} crashed the process "
        f"(exit {done.returncode}):\n{done.stderr[-3000:]}"
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_unsupported(outcome: dict[str, Any], pattern: str, exact: bool = True) -> None:
    """The load raised an UnsupportedTypeError (or, `exact` False, any SandlinkError) whose
    message matches `pattern` (case-insensitive)."""
    assert outcome["raised"] is not None, "the component loaded: it should not have"
    kind = "unsupported" if exact else "sandlink"
    wanted = "UnsupportedTypeError" if exact else "SandlinkError"
    assert outcome[kind], f"raised {outcome['raised']}: {outcome['message']}, not a {wanted}"
    assert re.search(pattern, outcome["message"], re.IGNORECASE), outcome["message"]


def test_a_resource_the_host_implements_is_unsupported(build):
    """test_func.py::test_resources: imported resource `t` with mk/borrow/own. The imports are
    given, so what fails is the resource (the oracle fails the same way)."""
    wasm = build("host_resource")
    imports = {"$root": ["mk", "borrow", "own"]}
    assert_unsupported(load_in_a_subprocess(wasm, "oracle", imports), "resource")
    assert_unsupported(load_in_a_subprocess(wasm, "wasm", imports), "resource")


def test_an_export_taking_a_host_resource_drops_it(build):
    """test_value.py::test_resource_host_dtor / test_exception_in_host_resource_dtor: only
    an imported resource type (a class given at the top level) and an export taking own<t>,
    which drops it: the object's close() runs, and an exception there is the call's."""
    wasm = build("host_resource_drop")

    class T:
        closed: ClassVar[list[str]] = []

        def __init__(self, name: str, fail: bool = False) -> None:
            self.name, self.fail = name, fail

        def close(self) -> None:
            if self.fail:
                raise RuntimeError(f"cannot close {self.name}")
            T.closed.append(self.name)

    for backend in ("oracle", "wasm"):
        T.closed = []
        c = sandlink.load_component(wasm, {"$root": {"t": T}}, backend=backend)
        c.drop(T("a"))
        assert T.closed == ["a"], backend
        with pytest.raises(RuntimeError, match="cannot close b"):
            c.drop(T("b", fail=True))
        c.drop(T("c"))
        assert T.closed == ["a", "c"], backend


def test_a_component_needing_wasi_loads_only_with_wasi(build):
    """A WASI output-stream (a host resource) through wasi:cli/stdout: without `wasi=` a
    load error that says to grant it; with it, the call runs on both backends."""
    wasm = build("wasi_stdout")
    assert_unsupported(load_in_a_subprocess(wasm, "oracle"), "wasi", exact=False)
    assert_unsupported(load_in_a_subprocess(wasm, "wasm"), "wasi=sandlink.Wasi", exact=False)
    for backend in ("oracle", "wasm"):
        assert sandlink.load_component(wasm, backend=backend, wasi=True).hello() is None


def test_a_stream_is_unsupported(build):
    """test_func.py's TODO "roundtrip stream": an export taking stream<u8>."""
    wasm = build("stream_param")
    assert_unsupported(load_in_a_subprocess(wasm, "oracle"), "stream")
    assert_unsupported(load_in_a_subprocess(wasm, "wasm"), "stream")


def test_a_future_is_unsupported(build):
    """test_func.py's TODO "roundtrip future": an export returning future<u32>."""
    wasm = build("future_result")
    assert_unsupported(load_in_a_subprocess(wasm, "oracle"), "future")
    assert_unsupported(load_in_a_subprocess(wasm, "wasm"), "future")


def test_an_async_export_is_unsupported(build):
    """An `async func` export lifted with the async option and a callback.

    The oracle cannot run this shape: wasmtime-py loads it without complaint and only fails
    when it is called ("cannot synchronously call an async-lifted export"), so only the fast
    host is checked: it must refuse the export at load."""
    outcome = load_in_a_subprocess(build("async_lift"), "wasm")
    assert_unsupported(outcome, "async")


def test_a_core_module_import_is_unsupported(build):
    """test_types.py::test_component: the component imports a core module.

    The oracle cannot run this shape: wasmtime-py's linker fails to instantiate it with a
    WasmtimeError ("module implementation is missing"), not a sandlink error, so only the fast
    host is checked: a SandlinkError that says an imported (core) module is what it cannot
    provide."""
    outcome = load_in_a_subprocess(build("core_module_import"), "wasm")
    assert_unsupported(outcome, r"import.*module|module.*import", exact=False)
