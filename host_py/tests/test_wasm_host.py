"""The fast host is generic: on the all-types guest it equals the wasmtime.component oracle.

Values are drawn from the component's own type descriptions, so every export, every type
in params and results, and the imports are covered without a hand-written list.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandlink
from conftest import Recorder, host, load_oracle, same, strategy
from sandlink.host._values import Err, Variant

# Exports checked separately (they trap, keep state, or allocate on purpose).
SPECIAL = {"fail", "hold", "counter", "make_bytes"}


@pytest.fixture(scope="module")
def pair(alltypes_wasm):
    """(fast host, oracle, their Recorders), sharing record classes so values compare equal."""
    oracle_fns, fast_fns = Recorder(), Recorder()
    oracle = sandlink.load_component(alltypes_wasm, imports=oracle_fns.imports(), backend="oracle")
    fast = sandlink.load_component(
        alltypes_wasm, imports=fast_fns.imports(), classes=host(oracle).record_classes
    )
    return fast, oracle, fast_fns, oracle_fns


def exported(alltypes_wasm) -> list[Any]:
    oracle = load_oracle(alltypes_wasm, Recorder().imports())
    return [f for f in host(oracle).exports if f.name not in SPECIAL]


def pytest_generate_tests(metafunc):
    if "function_name" in metafunc.fixturenames:
        from conftest import ALLTYPES

        names = [f.name for f in exported(ALLTYPES)] if ALLTYPES.is_file() else ["missing"]
        metafunc.parametrize("function_name", names)


def test_every_export_matches_the_oracle(pair, function_name):
    fast, oracle, fast_fns, oracle_fns = pair
    function = next(f for f in host(fast).exports if f.name == function_name)
    args = st.tuples(*(strategy(p.type) for p in function.params))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(args)
    def check(values):
        fast_fns.calls.clear()
        oracle_fns.calls.clear()
        expected = getattr(oracle, function_name)(*values)
        got = getattr(fast, function_name)(*values)
        assert same(got, expected), (values, got, expected)
        assert same(fast_fns.calls, oracle_fns.calls)

    check()


def test_known_answers(pair):
    fast, *_ = pair
    assert fast.ping(41) == 42 and fast.ping(4294967295) == 0
    assert fast.many_params(*range(1, 11), "a", "b", "c", "d") == "1,2,3,4,5,6,7,8,9,10|a|b|c|d"
    assert fast.echo_string("Zoë 🦀") == "Zoë 🦀"
    assert fast.echo_char("🦀") == "🦀"
    assert fast.echo_bytes(memoryview(b"abc")) == b"abc"
    assert fast.echo_s64(-(2**63)) == -(2**63)
    assert fast.echo_result(Err("no")) == Err("no")
    assert fast.echo_variant(Variant("big", 2**64 - 1)) == Variant("big", 2**64 - 1)
    assert fast.echo_flags_32(frozenset({"f0", "f31"})) == {"f0", "f31"}
    assert fast.count_bytes(bytearray(1000)) == 1000


@pytest.mark.parametrize(
    ("name", "args", "error"),
    [
        ("echo_u8", (256,), OverflowError),
        ("echo_s8", (-129,), OverflowError),
        ("echo_u64", (-1,), OverflowError),
        ("echo_u32", ("1",), TypeError),
        ("echo_bool", (1,), TypeError),
        ("echo_char", ("ab",), TypeError),
        ("echo_string", (b"x",), TypeError),
        ("echo_bytes", ("x",), TypeError),
        ("echo_enum", ("purple",), ValueError),
        ("echo_flags_small", ({"zz"},), ValueError),
        ("echo_result", (5,), TypeError),
        ("echo_variant", (Variant("nope", 1),), ValueError),
        ("echo_list_u32", ([1, -1],), OverflowError),
    ],
)
def test_bad_arguments_name_the_parameter(pair, name, args, error):
    fast, *_ = pair
    with pytest.raises(error, match=r"^x"):
        getattr(fast, name)(*args)
    assert fast.ping(1) == 2  # still healthy


def test_guest_trap_raises_and_the_next_call_gets_a_fresh_instance(pair):
    fast, *_ = pair
    fast.counter()
    before = fast.counter()
    assert before >= 2
    with pytest.raises(sandlink.GuestTrap) as caught:
        fast.fail("boom")
    assert caught.value.code == "UNREACHABLE"
    assert fast.counter() == 1  # a new instance: its state starts again


def test_import_exception_propagates(alltypes_wasm):
    class Nope(Exception):
        pass

    def pick(xs):
        raise Nope(xs)

    fns = Recorder()
    imports = fns.imports()
    imports["sandlink:alltypes/host-fns@0.1.0"]["pick"] = pick
    fast = sandlink.load_component(alltypes_wasm, imports=imports)
    point = host(fast).record_classes["point"]
    with pytest.raises(Nope):
        fast.call_host("m", 1, 2.0, [3], point(1, 2))
    assert fast.ping(1) == 2


def test_missing_import_is_a_load_error(alltypes_wasm):
    with pytest.raises(sandlink.SandlinkError, match="pick"):
        sandlink.load_component(alltypes_wasm, imports={"host-fns": {"log": print}})


def test_memory_growth_between_and_within_calls(pair):
    fast, *_ = pair
    pages = [fast.hold(4 << 20) for _ in range(8)]  # the guest keeps 4 MiB more each time
    assert pages == sorted(pages) and pages[-1] > pages[0]
    big = fast.make_bytes(32 << 20, 7)
    assert len(big) == 32 << 20 and big.count(7) == len(big)
    payload = bytes(range(256)) * (64 << 10)  # 16 MiB in: allocation grows memory
    assert fast.count_bytes(payload) == len(payload)
    assert fast.echo_bytes(payload) == payload


def test_threads_each_get_their_own_instance(pair):
    fast, *_ = pair
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(500):
                assert fast.ping(seed * 1000 + i) == seed * 1000 + i + 1
                assert fast.echo_string(f"{seed}-{i}") == f"{seed}-{i}"
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
