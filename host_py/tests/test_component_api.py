"""The `wasmtime.component` oracle on the all-types guest (guests/alltypes/wit/alltypes.wit)."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
import wasmtime
import wasmtime.component as wc

import sandlink
from conftest import Recorder, host, load_oracle
from sandlink.host._errors import UnsupportedTypeError
from sandlink.host._oracle import _tagged, from_wasmtime, to_wasmtime
from sandlink.host._types import PRIMITIVE_TYPES, List, Option, Record, Result, Tuple, ValType
from sandlink.host._types import Variant as VariantType
from sandlink.host._values import Err, Ok, Variant

U64_MAX = 2**64 - 1
S64_MIN, S64_MAX = -(2**63), 2**63 - 1
F32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]
F32_MIN_SUBNORMAL = struct.unpack("<f", b"\x01\x00\x00\x00")[0]
FLAGS32 = frozenset(f"f{i}" for i in range(32))
MID = frozenset(f"m{i}" for i in range(12))


def f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def imports_with(**overrides: Any) -> dict[str, dict[str, Any]]:
    """A Recorder's imports with some functions replaced."""
    imports = Recorder().imports()
    for functions in imports.values():
        functions.update(overrides)
    return imports


@pytest.fixture(scope="module")
def engine() -> wasmtime.Engine:
    return wasmtime.Engine()


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def api(alltypes_wasm, recorder) -> Any:
    return load_oracle(alltypes_wasm, recorder.imports())


@pytest.fixture(scope="module")
def R(api) -> dict[str, type]:
    return host(api).record_classes


def mixed(R, a=1, b=2, c="three", d=4.5, e=True, f=(-1, 2)):
    return R["mixed"](a=a, b=b, c=c, d=d, e=e, f=list(f))


# --- echo: every type, in and out -----------------------------------------------------------

ECHO_CASES = [
    ("echo_bool", [True, False]),
    ("echo_u8", [0, 1, 127, 128, 255]),
    ("echo_s8", [-128, -1, 0, 127]),
    ("echo_u16", [0, 0x8000, 0xFFFF]),
    ("echo_s16", [-0x8000, -1, 0, 0x7FFF]),
    ("echo_u32", [0, 0x8000_0000, 0xFFFF_FFFF]),
    ("echo_s32", [-0x8000_0000, -1, 0, 0x7FFF_FFFF]),
    ("echo_u64", [0, 2**63, U64_MAX]),
    ("echo_s64", [S64_MIN, -1, 0, S64_MAX]),
    ("echo_f32", [0.0, 1.5, -2.25, F32_MAX, -F32_MAX, F32_MIN_SUBNORMAL, math.inf, -math.inf]),
    ("echo_f64", [0.0, 0.1, -1e300, 5e-324, 1.7976931348623157e308, math.inf, -math.inf]),
    ("echo_char", ["a", "\x00", "é", "€", "🦀", "\U0010ffff"]),
    ("echo_string", ["", "hello", "héllo wörld", "🦀" * 100, "nul\x00inside", "x" * 10_000]),
    ("echo_bytes", [b"", b"\x00", bytes(range(256))]),
    ("echo_list_u32", [[], [0], [1, 0xFFFF_FFFF, 7]]),
    ("echo_list_string", [[], [""], ["a", "🦀", "héllo"]]),
    ("echo_list_list_u16", [[], [[]], [[1], [], [0xFFFF, 0, 2]]]),
    ("echo_list_bool", [[], [True, False, True]]),
    ("echo_list_tuple", [[], [("a", 1), ("🦀", 0xFFFF_FFFF)]]),
    ("echo_tuple", [(0, "", 0.0), (255, "🦀", -1.5)]),
    ("echo_option_u8", [None, 0, 255]),
    ("echo_option_string", [None, "", "x🦀"]),
    ("echo_result", [Ok(0), Ok(0xFFFF_FFFF), Err(""), Err("bad 🦀")]),
    ("echo_result_empty", [Ok(), Err()]),
    ("echo_result_ok_only", [Ok(""), Ok("yes"), Err()]),
    ("echo_result_err_only", [Ok(), Err(0), Err(255)]),
    ("echo_result_same", [Ok("a"), Err("a"), Ok(""), Err("")]),
    (
        "echo_variant",
        [
            Variant("none-case"),
            Variant("small", 0),
            Variant("small", 255),
            Variant("real", -1.5),
            Variant("real", math.inf),
            Variant("big", U64_MAX),
            Variant("text", ""),
            Variant("text", "🦀"),
        ],
    ),
    ("echo_enum", ["red", "green", "blue", "dark-cyan"]),
    ("echo_flags_small", [frozenset(), frozenset({"a"}), frozenset("abcde")]),
    ("echo_flags_mid", [frozenset(), frozenset({"m0", "m11"}), MID]),
    ("echo_flags_32", [frozenset(), frozenset({"f0"}), frozenset({"f31"}), FLAGS32]),
    (
        "echo_list_variant",
        [[], [Variant("none-case"), Variant("big", 1), Variant("text", "t"), Variant("small", 2)]],
    ),
    ("echo_list_option_string", [[], [None], [None, "", "a", None]]),
    ("echo_list_result", [[], [Ok(1), Err("e"), Ok(255)]]),
]


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name, values in ECHO_CASES for value in values],
    ids=lambda v: v if isinstance(v, str) and v.startswith("echo_") else None,
)
def test_echo_round_trips(api, name, value):
    result = getattr(api, name)(value)
    assert result == value
    assert type(result) is type(value)


def test_echo_covers_every_echo_export(api):
    tested = {name for name, _ in ECHO_CASES} | {
        "echo_record",
        "echo_point",
        "echo_nested_record",
        "echo_option_record",
    }
    exported = {fn.name for fn in host(api).exports if fn.name.startswith("echo_")}
    assert exported == tested


def test_signed_zero_and_nan(api):
    for fn in (api.echo_f32, api.echo_f64):
        assert math.copysign(1.0, fn(-0.0)) == -1.0
        assert math.isnan(fn(math.nan))
    assert math.isnan(api.echo_variant(Variant("real", math.nan)).value)


def test_f32_rounds_to_nearest(api):
    assert api.echo_f32(0.1) == f32(0.1) != 0.1
    assert api.echo_f32(3) == 3.0  # ints are accepted for floats
    assert api.echo_tuple((1, "a", 2)) == (1, "a", 2.0)


def test_bytes_like_params_come_back_as_bytes(api):
    assert api.echo_bytes(bytearray(b"abc")) == b"abc"
    assert api.echo_bytes(memoryview(b"xyz")) == b"xyz"
    assert type(api.echo_bytes(bytearray(b"abc"))) is bytes


def test_flags_accept_any_iterable_of_names(api):
    assert api.echo_flags_small({"a", "c"}) == frozenset({"a", "c"})
    assert api.echo_flags_small(["b", "b"]) == frozenset({"b"})
    assert api.echo_flags_32(iter(["f7"])) == frozenset({"f7"})


def test_lists_and_tuples_accept_either_sequence(api):
    assert api.echo_list_u32((1, 2)) == [1, 2]
    assert api.echo_tuple([1, "a", 2.5]) == (1, "a", 2.5)


def test_records(api, R):
    for m in (
        mixed(R),
        mixed(R, a=0, b=0, c="", d=0.0, e=False, f=()),
        mixed(R, a=255, b=U64_MAX, c="🦀 crab", d=-F32_MAX, e=True, f=(-0x8000, 0x7FFF)),
    ):
        assert api.echo_record(m) == m
        assert api.echo_option_record(m) == m
    assert api.echo_option_record(None) is None
    p = R["point"](x=-(2**31), y=2**31 - 1)
    assert api.echo_point(p) == p
    assert api.echo_variant(Variant("pt", p)) == Variant("pt", p)


def test_nested_record(api, R):
    Point, Nested = R["point"], R["nested"]
    n = Nested(
        name="outer",
        inner=mixed(R, c="inner"),
        points=[Point(1, 2), Point(-3, 4)],
        tag="🦀",
    )
    assert api.echo_nested_record(n) == n
    empty = Nested(name="", inner=mixed(R), points=[], tag=None)
    assert api.echo_nested_record(empty) == empty


def test_record_classes_are_named_after_wit(R):
    assert R["mixed"].__name__ == "Mixed"
    assert [f for f in R["mixed"].__dataclass_fields__] == ["a", "b", "c", "d", "e", "f"]


def test_keyword_arguments(api):
    assert api.echo_u8(x=7) == 7
    assert api.make_bytes(fill=3, n=2) == b"\x03\x03"


# --- transforms: the documented results ------------------------------------------------------


def test_transform_record(api, R):
    m = mixed(R, a=255, b=U64_MAX, c="ab🦀", d=1.25, e=True, f=(1, 2, 3))
    assert api.transform_record(m) == mixed(R, a=0, b=0, c="🦀ba", d=2.5, e=False, f=(3, 2, 1))


def test_transform_variant(api, R):
    Point = R["point"]
    cases = [
        (Variant("none-case"), Variant("none-case")),
        (Variant("small", 255), Variant("small", 0)),
        (Variant("small", 1), Variant("small", 2)),
        (Variant("real", 1.5), Variant("real", -1.5)),
        (Variant("big", U64_MAX), Variant("big", 0)),
        (Variant("text", "hi"), Variant("text", "hi!")),
        (Variant("pt", Point(1, 2)), Variant("pt", Point(2, 1))),
    ]
    for given, expected in cases:
        assert api.transform_variant(given) == expected


def test_next_color_cycles(api):
    assert [api.next_color(c) for c in ("red", "green", "blue", "dark-cyan")] == [
        "green",
        "blue",
        "dark-cyan",
        "red",
    ]


def test_invert_flags(api):
    assert api.invert_flags_32(frozenset()) == FLAGS32
    assert api.invert_flags_32(FLAGS32) == frozenset()
    assert api.invert_flags_32({"f0", "f31"}) == FLAGS32 - {"f0", "f31"}


def test_transform_result(api):
    assert api.transform_result(Ok(21)) == Ok(42)
    assert api.transform_result(Ok(0x8000_0001)) == Ok(2)
    assert api.transform_result(Err("bad é")) == Err("BAD é")


def test_many_params(api):
    args = [*range(1, 11), "a", "b", "c", "d"]
    assert api.many_params(*args) == "1,2,3,4,5,6,7,8,9,10|a|b|c|d"
    assert (
        api.many_params(0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFFFF_FFFF, "", "🦀", "", s3="z")
        == "0,0,0,0,0,0,0,0,0,4294967295||🦀||z"
    )


def test_big_result_and_no_params(api):
    assert api.big_result() == (U64_MAX, 1 << 40, "big", b"\x01\x02\x03")
    assert api.no_params_no_result() is None


def test_lists_in_scalars_out(api):
    assert api.sum_list_f64([]) == 0.0
    assert api.sum_list_f64([0.1, 0.2, 0.3]) == (0.1 + 0.2) + 0.3
    assert math.isnan(api.sum_list_f64([1.0, math.nan]))
    assert api.count_bytes(b"") == 0
    assert api.count_bytes(bytes(100_000)) == 100_000


def test_make_bytes_and_memory_growth(alltypes_wasm, engine):
    api = load_oracle(alltypes_wasm, Recorder().imports())
    assert api.make_bytes(0, 1) == b""
    pages = api.hold(0)
    grown = api.hold(8 << 20)  # 8 MiB held: the memory must grow
    assert grown >= pages + 128
    assert api.make_bytes(100_000, 0xAB) == b"\xab" * 100_000
    assert api.echo_string("after growth") == "after growth"


def test_world_level_export(api):
    assert api.ping(1) == 2
    assert api.ping(0xFFFF_FFFF) == 0
    ping = next(f for f in host(api).exports if f.name == "ping")
    assert ping.interface is None and ping.where == "ping"


# --- imports -----------------------------------------------------------------------------------


def test_call_host_calls_every_import(api, recorder, R):
    Point = R["point"]
    recorder.calls.clear()
    result = api.call_host("tag🦀", S64_MIN, -0.5, [3, 0xFFFF_FFFF, 1], Point(2, -3))
    assert result == (f"tag🦀:{S64_MIN}:-0.5", 0xFFFF_FFFF, Point(-3, 2))
    assert recorder.calls == [
        ("log", ("tag🦀",)),
        ("combine", (S64_MIN, -0.5, "tag🦀")),
        ("pick", ([3, 0xFFFF_FFFF, 1],)),
        ("shout", (Point(2, -3),)),
    ]
    assert type(recorder.calls[3][1][0]) is Point
    assert api.call_host("", 0, 0.0, [], Point(0, 0)) == (":0:0.0", None, Point(0, 0))


def test_import_keys_bare_and_python_names(alltypes_wasm, engine):
    seen = []
    imports = {
        "host_fns": {
            "log": seen.append,
            "combine": lambda a, b, tag: "c",
            "pick": lambda xs: None,
            "shout": lambda p: p,
        }
    }
    api = load_oracle(alltypes_wasm, imports)
    p = host(api).record_classes["point"](1, 2)
    assert api.call_host("m", 1, 1.0, [1], p) == ("c", None, p)
    assert seen == ["m"]
    with pytest.raises(sandlink.SandlinkError, match="missing import"):
        load_oracle(alltypes_wasm, {"host-fns": {"log": seen.append}})


def test_unknown_import_names_are_rejected(alltypes_wasm, engine):
    with pytest.raises(ValueError, match="nope"):
        load_oracle(alltypes_wasm, {"nope": {}})
    with pytest.raises(ValueError, match="nope"):
        load_oracle(alltypes_wasm, {"host-fns": {"nope": print}})


def test_missing_import_is_a_load_error(alltypes_wasm, engine):
    with pytest.raises(sandlink.SandlinkError, match=r"missing import: .*host-fns@0\.1\.0#log"):
        load_oracle(alltypes_wasm)


class Boom(Exception):
    pass


def test_import_exception_propagates_and_instance_recovers(alltypes_wasm, engine):
    raised = Boom("from the host")

    def combine(a, b, tag):
        raise raised

    api = load_oracle(alltypes_wasm, imports_with(combine=combine))
    assert api.counter() == 1
    assert api.counter() == 2
    p = host(api).record_classes["point"](1, 2)
    with pytest.raises(Boom) as info:
        api.call_host("m", 1, 1.0, [1], p)
    assert info.value is raised
    assert api.counter() == 1  # a fresh instance
    assert api.echo_string("still works") == "still works"


def test_import_bad_return_value_names_the_import(alltypes_wasm, engine):
    imports = imports_with(combine=lambda a, b, tag: 42)
    api = load_oracle(alltypes_wasm, imports)
    p = host(api).record_classes["point"](1, 2)
    with pytest.raises(TypeError, match="combine"):
        api.call_host("m", 1, 1.0, [1], p)


# --- traps ----------------------------------------------------------------------------------


def test_trap_raises_and_next_call_gets_a_fresh_instance(alltypes_wasm, engine):
    api = load_oracle(alltypes_wasm, Recorder().imports())
    assert api.counter() == 1
    assert api.counter() == 2
    with pytest.raises(sandlink.GuestTrap, match="unreachable"):
        api.fail("deliberate")
    assert api.counter() == 1
    assert api.echo_string("alive") == "alive"


# --- argument checking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "exc", "param"),
    [
        (lambda a: a.echo_u8(256), OverflowError, "x"),
        (lambda a: a.echo_u8(-1), OverflowError, "x"),
        (lambda a: a.echo_s8(128), OverflowError, "x"),
        (lambda a: a.echo_s8(-129), OverflowError, "x"),
        (lambda a: a.echo_u16(0x10000), OverflowError, "x"),
        (lambda a: a.echo_s16(-0x8001), OverflowError, "x"),
        (lambda a: a.echo_u32(2**32), OverflowError, "x"),
        (lambda a: a.echo_s32(2**31), OverflowError, "x"),
        (lambda a: a.echo_u64(2**64), OverflowError, "x"),
        (lambda a: a.echo_s64(S64_MIN - 1), OverflowError, "x"),
        (lambda a: a.echo_f32(1e39), OverflowError, "x"),
        (lambda a: a.echo_f64(10**400), OverflowError, "x"),
        (lambda a: a.echo_u8(True), TypeError, "x"),
        (lambda a: a.echo_u8(1.0), TypeError, "x"),
        (lambda a: a.echo_u32("1"), TypeError, "x"),
        (lambda a: a.echo_f64("1.0"), TypeError, "x"),
        (lambda a: a.echo_f64(True), TypeError, "x"),
        (lambda a: a.echo_bool(1), TypeError, "x"),
        (lambda a: a.echo_string(b"bytes"), TypeError, "x"),
        (lambda a: a.echo_string("lone \ud800"), ValueError, "x"),
        (lambda a: a.echo_char("ab"), TypeError, "x"),
        (lambda a: a.echo_char(""), TypeError, "x"),
        (lambda a: a.echo_char(65), TypeError, "x"),
        (lambda a: a.echo_char("\udfff"), ValueError, "x"),
        (lambda a: a.echo_bytes("text"), TypeError, "x"),
        (lambda a: a.echo_bytes([1, 2]), TypeError, "x"),
        (lambda a: a.echo_list_u32([1, -1]), OverflowError, "x"),
        (lambda a: a.echo_list_u32("12"), TypeError, "x"),
        (lambda a: a.echo_list_string(["a", 1]), TypeError, "x"),
        (lambda a: a.echo_tuple((1, "a")), TypeError, "x"),
        (lambda a: a.echo_tuple((256, "a", 1.0)), OverflowError, "x"),
        (lambda a: a.echo_option_u8(256), OverflowError, "x"),
        (lambda a: a.echo_result(5), TypeError, "x"),
        (lambda a: a.echo_result(Ok("no")), TypeError, "x"),
        (lambda a: a.echo_result(Err(1)), TypeError, "x"),
        (lambda a: a.echo_result_empty(Ok(1)), TypeError, "x"),
        (lambda a: a.echo_result_err_only(Err(300)), OverflowError, "x"),
        (lambda a: a.echo_variant("small"), TypeError, "x"),
        (lambda a: a.echo_variant(Variant("nope", 1)), ValueError, "x"),
        (lambda a: a.echo_variant(Variant("small", 256)), OverflowError, "x"),
        (lambda a: a.echo_variant(Variant("none-case", 1)), TypeError, "x"),
        (lambda a: a.echo_enum("purple"), ValueError, "x"),
        (lambda a: a.echo_enum(0), TypeError, "x"),
        (lambda a: a.echo_flags_small({"z"}), ValueError, "x"),
        (lambda a: a.echo_flags_small("a"), TypeError, "x"),
        (lambda a: a.echo_flags_small({1}), TypeError, "x"),
        (lambda a: a.echo_record((1, 2)), TypeError, "x"),
        (lambda a: a.make_bytes(-1, 0), OverflowError, "n"),
        (lambda a: a.make_bytes(1, 256), OverflowError, "fill"),
        (
            lambda a: a.many_params(*range(5), -1, *range(4), "a", "b", "c", "d"),
            OverflowError,
            "a5",
        ),
        (lambda a: a.many_params(*range(10), "a", "b", 3, "d"), TypeError, "s2"),
    ],
)
def test_bad_arguments_name_the_parameter(api, call, exc, param):
    with pytest.raises(exc, match=rf"\b{param}\b"):
        call(api)


def test_bad_nested_record_field(api, R):
    with pytest.raises(OverflowError, match=r"\bx\.a\b"):
        api.echo_record(mixed(R, a=256))
    with pytest.raises(TypeError, match=r"\bx\.c\b"):
        api.echo_record(mixed(R, c=b"bytes"))
    bad = R["nested"](name="n", inner=mixed(R), points=[R["point"](1, 2**31)], tag=None)
    with pytest.raises(OverflowError, match=r"\bx\b"):
        api.echo_nested_record(bad)


def test_arity_and_keywords_are_checked(api):
    with pytest.raises(TypeError):
        api.echo_u8()
    with pytest.raises(TypeError):
        api.echo_u8(1, 2)
    with pytest.raises(TypeError):
        api.echo_u8(y=1)


def test_bad_arguments_leave_the_instance_usable(api):
    api.counter()
    before = api.counter()
    with pytest.raises(OverflowError):
        api.echo_u8(256)
    assert api.counter() == before + 1  # no re-instantiation for a rejected argument


# --- the walkers agree with wasmtime-py's own conventions ---------------------------------------


def _walk_pairs(ours: ValType, theirs: Any):
    """Yield (our description, wasmtime ValType) for `ours` and everything nested in it."""
    yield ours, theirs
    if isinstance(ours, List):
        yield from _walk_pairs(ours.element, theirs.element)
    elif isinstance(ours, Record):
        for (_, _, t), (_, wt) in zip(ours.fields, theirs.fields, strict=True):
            yield from _walk_pairs(t, wt)
    elif isinstance(ours, Tuple):
        for t, wt in zip(ours.elements, theirs.elements, strict=True):
            yield from _walk_pairs(t, wt)
    elif isinstance(ours, Option):
        yield from _walk_pairs(ours.payload, theirs.payload)
    elif isinstance(ours, (VariantType, Result)):
        their_cases = theirs.cases if isinstance(ours, VariantType) else theirs._cases()
        for (_, t), (_, wt) in zip(ours.cases, their_cases, strict=True):
            if t is not None:
                yield from _walk_pairs(t, wt)


def test_tagging_rule_matches_wasmtime_py(alltypes_wasm, engine, api):
    component = wc.Component.from_file(engine, alltypes_wasm)
    echo = component.type.exports(engine)["sandlink:alltypes/echo@0.1.0"].ty.exports(engine)
    checked = {True: 0, False: 0}
    for fn in host(api).exports:
        if fn.interface is None:
            continue
        fty = echo[fn.wit_name].ty
        pairs = [(p.type, t) for p, (_, t) in zip(fn.params, fty.params, strict=True)]
        if fn.result is not None:
            pairs.append((fn.result, fty.result))
        for ours, theirs in pairs:
            for o, t in _walk_pairs(ours, theirs):
                if isinstance(o, (VariantType, Option, Result)):
                    assert _tagged(o) == t._tagged(), (fn.name, o)
                    checked[_tagged(o)] += 1
    assert checked[True] and checked[False]  # both conventions are exercised


def test_walkers_by_hand():
    opt = Option(PRIMITIVE_TYPES["u8"])
    assert to_wasmtime(opt, None, "x") is None and to_wasmtime(opt, 3, "x") == 3
    res = Result(None, None)  # both cases lack a payload: tagged
    raw = to_wasmtime(res, Err(), "x")
    assert isinstance(raw, wc.Variant) and raw.tag == "err"
    assert from_wasmtime(res, wc.Variant("ok")) == Ok()
    # option<result>: the `none` case and `ok` (no payload) both count as `object`: tagged
    opt_res = Option(Result(None, PRIMITIVE_TYPES["string"]))
    assert to_wasmtime(opt_res, None, "x") == wc.Variant("none")
    assert from_wasmtime(opt_res, wc.Variant("some", None)) == Ok()
    assert from_wasmtime(opt_res, wc.Variant("some", "e")) == Err("e")


def test_untagged_case_wasmtime_cannot_express_is_reported():
    # bool is an int to isinstance(): wasmtime-py would lower `b(True)` as case `a`.
    v = VariantType((("a", PRIMITIVE_TYPES["u32"]), ("b", PRIMITIVE_TYPES["bool"])), "v")
    assert not _tagged(v)
    assert to_wasmtime(v, Variant("a", 1), "x") == 1
    with pytest.raises(UnsupportedTypeError, match="x"):
        to_wasmtime(v, Variant("b", True), "x")
