"""Resources the host implements: a Python class stands for the WIT resource, the guest
holds handles to its objects, and both backends agree on every call.

The `hostres` guest (tests/guests/hostres) exercises constructors, methods, static
functions, `own` and `borrow` parameters, lists and options of handles, and drops; the
hostile fixture `hosted_handles.wat` forges handles (in a child process, as every attack).
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from test_hostile import BACKENDS, Raises, check, check_loaded, run_child

import sandlink


class Counter:
    """The host's implementation of `sandlink:hostres/tally#counter`."""

    closed: ClassVar[list[int]] = []

    def __init__(self, start: int) -> None:
        self.value = start

    def get(self) -> int:
        return self.value

    def add(self, n: int) -> None:
        self.value += n

    def label(self) -> str:
        return f"counter {self.value}"

    @staticmethod
    def merge(a: Counter, b: Counter) -> Counter:
        return Counter(a.value + b.value)

    def close(self) -> None:
        Counter.closed.append(self.value)


def tally(**overrides: Any) -> dict[str, Any]:
    functions = {
        "counter": Counter,
        "take": lambda c: c.value,
        "peek": lambda c: c.value,
        "fresh": lambda n: [Counter(i) for i in range(n)],
        "maybe": lambda start: Counter(start) if start else None,
    }
    return {"tally": {**functions, **overrides}}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def load(path: Any, backend: str, imports: Any = None, **kwargs: Any) -> Any:
    return sandlink.load_component(
        path, tally() if imports is None else imports, backend=backend, **kwargs
    )


def test_calls_agree_with_the_oracle(hostres_wasm, backend):
    Counter.closed = []
    k = load(hostres_wasm, backend)
    assert k.count(5, 3) == 8
    assert k.merged(2, 3) == 5
    assert k.taken(7) == 7
    assert k.peeked(4) == (4, 5)
    assert k.many(5) == 10
    assert k.maybe_value(0) is None
    assert k.maybe_value(3) == 3
    assert k.label_of(9) == "counter 9"
    # Dropped by the guest: count's, merge's result, peeked's, fresh's five, maybe's one,
    # label_of's. Given back to the host (`take`, merge's arguments): not closed by a drop.
    assert sorted(Counter.closed) == sorted([8, 5, 5, 0, 1, 2, 3, 4, 3, 9])


def test_close_runs_when_the_guest_drops(hostres_wasm, backend):
    Counter.closed = []
    k = load(hostres_wasm, backend)
    k.hoard(4)
    assert Counter.closed == []
    assert k.release() == 4
    assert sorted(Counter.closed) == [0, 1, 2, 3]


def test_methods_may_be_given_by_wit_name(hostres_wasm, backend):
    imports = tally()
    imports["tally"]["[method]counter.get"] = lambda c: c.value * 100
    assert load(hostres_wasm, backend, imports).count(1, 1) == 200


def test_a_class_without_close_is_fine(hostres_wasm, backend):
    class Plain:
        def __init__(self, start: int) -> None:
            self.v = start

        def get(self) -> int:
            return self.v

        def add(self, n: int) -> None:
            self.v += n

        def label(self) -> str:
            return "plain"

        merge = None  # never called here, but must be named: see the next test

    imports = tally(counter=Plain, fresh=lambda n: [], maybe=lambda s: None)
    imports["tally"]["[static]counter.merge"] = lambda a, b: Plain(a.v + b.v)
    k = load(hostres_wasm, backend, imports)
    assert k.count(2, 2) == 4
    assert k.merged(1, 2) == 3


def test_missing_class_or_member_is_a_load_error(hostres_wasm, backend):
    imports = tally()
    del imports["tally"]["counter"]
    with pytest.raises(sandlink.SandlinkError, match=r"tally#counter \(a class\)"):
        load(hostres_wasm, backend, imports)
    with pytest.raises(TypeError, match="resource counter must be given as a class"):
        load(hostres_wasm, backend, tally(counter=lambda start: start))

    class NoLabel(Counter):
        label = None  # type: ignore[assignment]

    with pytest.raises(ValueError, match=r"NoLabel has no method 'label'.*\[method\]counter"):
        load(hostres_wasm, backend, tally(counter=NoLabel))


def test_wrong_objects_from_the_host_are_refused(hostres_wasm, backend):
    k = load(hostres_wasm, backend, tally(fresh=lambda n: [Counter(1), "not a counter"]))
    with pytest.raises(TypeError, match=r"must be a Counter, not str"):
        k.many(2)
    assert k.count(1, 1) == 2  # a fresh instance after the failed call


def test_an_exception_in_close_is_the_call_s(hostres_wasm, backend):
    class Fragile(Counter):
        def close(self) -> None:
            raise OSError("cannot close")

    k = load(hostres_wasm, backend, tally(counter=Fragile))
    with pytest.raises(OSError, match="cannot close"):
        k.count(1, 1)
    assert k.taken(3) == 3  # nothing dropped: fine


def test_handles_are_capped_by_limits(hostres_wasm, backend):
    k = load(hostres_wasm, backend, limits=sandlink.Limits(handles=100))
    k.hoard(100)
    assert k.release() == 100
    if backend == "wasm":  # wasmtime's own tables are the oracle's (not capped by Limits)
        with pytest.raises(sandlink.MemoryLimitExceeded, match=r"Limits\.handles"):
            k.hoard(101)


def test_the_host_s_objects_pass_through_exports(hostres_wasm, backend):
    Counter.closed = []
    k = load(hostres_wasm, backend)
    mine = Counter(5)
    k.stash(mine, 2)  # given to the guest, which keeps it (and adds 2 through its method)
    assert k.unstash() is mine and mine.value == 7  # given back: the very object
    assert k.unstash() is None
    k.stash(Counter(1), 0)
    assert k.release() == 1 and Counter.closed == [1]  # the guest dropped it: closed
    with pytest.raises(TypeError, match="c must be a Counter, not int"):
        k.stash(3, 0)


def test_exports_borrowing_host_resources_are_refused(backend, wat):
    with pytest.raises(sandlink.UnsupportedTypeError, match="cannot lend the guest"):
        sandlink.load_component(wat("hosted_export"), backend=backend)


HOSTED = """
seen = []

class R:
    def __init__(self, v):
        seen.append(["new", v])
        self.v = v
    def get(self):
        seen.append(["get", self.v])
        return self.v
    def close(self):
        seen.append(["close", self.v])

class S:
    pass

def take(r):
    seen.append(["take", r.v])
    return r.v

imports = {"test:hostile/hosted": {"r": R, "s": S, "take": take}}
obj, loaded = load(ARGS["path"], ARGS["backend"], eval(ARGS["limits"]), imports=imports)
results = []
for name, args in ARGS["calls"]:
    del seen[:]
    results.append([call(obj, name, *args), list(seen)])
emit({"load": loaded, "results": results})
"""

TRAP = Raises("GuestTrap")
HOSTED_CASES = [
    (("roundtrip", 9), 9, [["new", 9], ["get", 9], ["close", 9]]),
    (("get_forged", 0), TRAP, []),
    (("get_forged", 1), TRAP, []),
    (("get_forged", 12345), TRAP, []),
    (("get_forged", 2**32 - 1), TRAP, []),
    (("drop_forged", 0), TRAP, []),
    (("drop_forged", 77), TRAP, []),
    (("get_foreign",), TRAP, []),  # an `s` handle passed as `borrow<r>`
    (("drop_foreign",), TRAP, []),
    (("get_after_drop",), TRAP, [["new", 7], ["close", 7]]),
    (("drop_twice",), TRAP, [["new", 7], ["close", 7]]),
    (("get_after_take",), TRAP, [["new", 7], ["take", 7]]),
    (("take_twice",), TRAP, [["new", 7], ["take", 7]]),
    (("roundtrip", 11), 11, [["new", 11], ["get", 11], ["close", 11]]),
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_forged_handles_to_host_objects_trap(backend, wat):
    """Unknown, dropped, given-away and other-type handles passed to the host's methods
    or to resource.drop trap; the host never sees them."""
    calls = [list(call_) for call_, _, _ in HOSTED_CASES]
    calls = [[name, args] for name, *args in calls]
    result = run_child(
        HOSTED, path=str(wat("hosted_handles")), backend=backend, limits="None", calls=calls
    )
    check_loaded(result, backend)
    for (call_, want, saw), (out, seen) in zip(HOSTED_CASES, result["results"], strict=True):
        check(out, want, f"[{backend}] {call_}")
        assert seen == saw, f"[{backend}] {call_}: the host saw {seen}"


def test_handle_flood_of_host_objects_is_capped(wat):
    result = run_child(
        HOSTED,
        path=str(wat("hosted_handles")),
        backend="wasm",
        limits="Limits(handles=1000)",
        calls=[["hoard", [1000]], ["hoard", [1001]], ["roundtrip", [3]]],
    )
    check_loaded(result, "wasm")
    (first, _), (flood, _), (after, _) = result["results"]
    check(first, None, "hoard(1000)")
    check(flood, Raises("MemoryLimitExceeded"), "hoard(1001)")
    check(after, 3, "roundtrip(3) afterwards")
