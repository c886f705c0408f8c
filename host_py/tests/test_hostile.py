"""Hostile components: whatever a component does, the host stays sound.

The contract, on every case below: no interpreter crash, no read or write outside linear
memory, no hang past `Limits`; the only outcomes are the right value, or an exception that
is a `sandlink.SandlinkError` (or, when a host callback raised, that same exception).

Each fixture is a hand-written component in `tests/hostile/*.wat` (its first line says
what it attacks), compiled with `wasm-tools parse` at test time. Every case runs in a child
interpreter, so a crash (a negative return code) or a hang fails one test instead of
killing pytest. Cases run on both guest backends with the same expectation, taken from the
canonical ABI: the `component` backend (wasmtime's own implementation, the oracle) and the
fast host (`wasm`) must each meet it, so they agree with each other.
"""

from __future__ import annotations

import builtins
import dataclasses
import inspect
import json
import keyword
import os
import reprlib
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import sandlink
from sandlink import Limits

HOSTILE = Path(__file__).resolve().parent / "hostile"
# The child imports the very sandlink this process imported.
SANDLINK_ROOT = Path(sandlink.__file__).resolve().parents[1]
BACKENDS = ("oracle", "wasm")  # the oracle first
MARK = "@@hostile-outcome@@ "
MiB = 1 << 20
HOST = "test:hostile/host@0.1.0"
SHORT = reprlib.Repr()
SHORT.maxstring = SHORT.maxother = SHORT.maxlong = 80
SHORT.maxlevel = 4


# --- Run in the child (shipped as source; see PRELUDE) -----------------------------------


def encode(value: Any) -> Any:
    """A JSON-able description of `value` that is equal exactly when the values are."""
    if value is None or isinstance(value, bool):
        return [type(value).__name__, value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [encode(v) for v in value]]
    if isinstance(value, (set, frozenset)):
        return ["set", sorted((encode(v) for v in value), key=json.dumps)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return [type(value).__name__, {f.name: encode(getattr(value, f.name)) for f in fields}]
    return [type(value).__name__, repr(value)]


def describe(exc: BaseException) -> dict[str, Any]:
    """The outcome of a call that raised `exc`."""
    mro = [cls.__name__ for cls in type(exc).__mro__]
    return {"error": type(exc).__name__, "mro": mro, "message": str(exc)[:2000]}


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """`{"value": ...}` or `{"error": ..., "mro": [...], "message": ...}` for one call."""
    try:
        value = fn(*args, **kwargs)
    except BaseException as exc:  # KeyboardInterrupt too: it is an outcome here
        return describe(exc)
    return {"value": encode(value)}


def call(obj: Any, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The outcome of `obj.<name>(*args, **kwargs)` (a missing attribute is an outcome too)."""
    sys.stderr.write(f"hostile: calling {name}\n")  # so a crash report names the call
    sys.stderr.flush()
    return outcome(lambda: getattr(obj, name)(*args, **kwargs))


def load(
    path: Any, backend: str, limits: Any = None, imports: Any = None
) -> tuple[Any, dict[str, Any]]:
    """(the loaded object or None, the outcome of loading it)."""
    try:
        obj = sandlink.load_component(
            path, imports, backend=backend, limits=limits, cache_dir=False
        )
    except BaseException as exc:
        return None, describe(exc)
    return obj, {"value": ["loaded", backend]}


def public(obj: Any) -> list[str]:
    """The object's public attribute names."""
    return sorted(name for name in dir(obj) if not name.startswith("_"))


def max_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(result: dict[str, Any]) -> None:
    """Report the child's result to the parent (the last marked line of stdout wins)."""
    sys.stdout.write(MARK + json.dumps(result) + "\n")
    sys.stdout.flush()


def guard(rss_mib: float) -> None:
    """Stop this child, saying why, once its resident memory passes `rss_mib` MiB."""
    if not os.path.exists("/proc/self/statm"):
        return
    page = os.sysconf("SC_PAGE_SIZE")

    def watch() -> None:
        while True:
            with open("/proc/self/statm") as statm:
                rss = int(statm.read().split()[1]) * page / MiB
            if rss > rss_mib:
                emit({"guard": f"resident memory reached {rss:.0f} MiB (bound: {rss_mib} MiB)"})
                os._exit(0)
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()


CHILD_FUNCTIONS = (encode, describe, outcome, call, load, public, max_rss_mib, emit, guard)


# --- Parent side ---------------------------------------------------------------------------

PRELUDE = """\
from __future__ import annotations

import dataclasses, faulthandler, json, os, resource, signal, sys, threading, time
import sandlink
from sandlink import Limits

MARK = {mark!r}
MiB = {mib!r}
HOST = {host!r}
faulthandler.enable()
faulthandler.dump_traceback_later({hang_after!r}, exit=True)
{functions}
ARGS = {args!r}
guard({rss_mib!r})
"""


def run_child(
    code: str, *, hang_after: float = 60, rss_mib: float = 2048, **args: Any
) -> dict[str, Any]:
    """Run `code` in a fresh interpreter and return the result it `emit`s.

    `ARGS` holds the keyword arguments (as Python literals). A child that crashes, hangs
    for `hang_after` seconds, passes `rss_mib` MiB of resident memory or emits nothing
    fails the test, with its stderr.
    """
    functions = "\n\n".join(inspect.getsource(fn) for fn in CHILD_FUNCTIONS)
    source = PRELUDE.format(
        mark=MARK,
        mib=MiB,
        host=HOST,
        hang_after=hang_after,
        functions=functions,
        args=args,
        rss_mib=rss_mib,
    ) + textwrap.dedent(code)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SANDLINK_ROOT), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", source],
            capture_output=True,
            text=True,
            timeout=hang_after + 30,
            cwd=SANDLINK_ROOT,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr or ""
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        pytest.fail(f"child hung: still running after {hang_after + 30} s\n{stderr[-4000:]}")
    stderr = proc.stderr[-6000:]
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        pytest.fail(f"child interpreter CRASHED with {name}\n--- stderr ---\n{stderr}")
    if "Timeout (0:" in proc.stderr:
        pytest.fail(f"child hung: still running after {hang_after} s\n--- stderr ---\n{stderr}")
    if proc.returncode != 0:
        pytest.fail(f"child exited with status {proc.returncode}\n--- stderr ---\n{stderr}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if not lines:
        pytest.fail(f"child reported nothing\n--- stdout ---\n{proc.stdout[-2000:]}\n{stderr}")
    result = json.loads(lines[-1][len(MARK) :])
    if "guard" in result:
        pytest.fail(f"child stopped: {result['guard']}\n--- stderr ---\n{stderr}")
    return result


@dataclasses.dataclass(frozen=True)
class Raises:
    """Expect an exception whose class (or a base class) is named `name`."""

    name: str = "SandlinkError"


def show(out: dict[str, Any] | None) -> str:
    """One outcome, readably (and briefly)."""
    if out is None:
        return "nothing (not called)"
    if "error" in out:
        return f"{out['error']} (mro {out['mro']}): {out['message'][:600]}"
    return f"value {SHORT.repr(out['value'])}"


def is_error(out: dict[str, Any] | None, name: str = "SandlinkError") -> bool:
    return out is not None and "error" in out and name in out["mro"]


def check(out: dict[str, Any] | None, want: Any, what: str) -> None:
    """Assert one outcome: `want` is a value, or a `Raises` (always also a SandlinkError)."""
    if isinstance(want, Raises):
        kind = want.name if want.name == "SandlinkError" else f"{want.name} (a SandlinkError)"
        assert is_error(out, want.name) and is_error(out), (
            f"{what}: expected a {kind}, got {show(out)}"
        )
    else:
        assert out == {"value": encode(want)}, (
            f"{what}: expected {SHORT.repr(want)}, got {show(out)}"
        )


def check_loaded(result: dict[str, Any], backend: str) -> None:
    assert "value" in result["load"], f"[{backend}] load failed: {show(result['load'])}"


def c(name: str, *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """One call: export `name` (Python spelling) with these arguments."""
    return (name, args, kwargs)


CALLS = """
obj, loaded = load(ARGS["path"], ARGS["backend"], eval(ARGS["limits"]))
calls = [] if obj is None else [call(obj, n, *a, **k) for n, a, k in ARGS["calls"]]
emit({"load": loaded, "calls": calls})
"""


def expect(
    path: Path, backend: str, cases: list[tuple[Any, Any]], limits: str = "None", **kw: Any
) -> None:
    """Load `path` on `backend` in a child, make each call in order, check each outcome."""
    calls = [call_ for call_, _ in cases]
    result = run_child(CALLS, path=str(path), backend=backend, limits=limits, calls=calls, **kw)
    check_loaded(result, backend)
    for (call_, want), out in zip(cases, result["calls"], strict=True):
        name, args, kwargs = call_
        spelled = ", ".join(
            [*map(SHORT.repr, args), *(f"{k}={SHORT.repr(v)}" for k, v in kwargs.items())]
        )
        check(out, want, f"[{backend}] {name}({spelled})")


def python_name(wit: str) -> str:
    """The spelling rule: snake_case, plus `_` for Python keywords and builtins."""
    name = wit.replace("-", "_")
    return name + "_" if keyword.iskeyword(name) or hasattr(builtins, name) else name


# --- The fixtures themselves --------------------------------------------------------------

FIXTURES = sorted(HOSTILE.glob("*.wat"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_says_what_it_attacks(path):
    """Every fixture opens with a `;; Attacks:` comment."""
    assert path.read_text().startswith(";; Attacks: "), path.name


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture_is_valid_unless_named_invalid(path, wat):
    """Fixtures are valid components, except `invalid_*` ones, which must not validate."""
    proc = subprocess.run(
        ["wasm-tools", "validate", "--features", "component-model", str(wat(path.stem))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if path.stem.startswith("invalid_"):
        assert proc.returncode != 0, f"{path.name} is meant to be invalid but validates"
    else:
        assert proc.returncode == 0, f"{path.name}: {proc.stderr}"


# --- 1. Decoys, type mismatches, invalid components ---------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_decoy_named_export(backend, wat):
    """The lifted core function is the one `canon lift` names, not one named like the export."""
    expect(wat("decoy_named_export"), backend, [(c("add", 2, 3), 5), (c("sub", 7, 3), 4)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_decoy_realloc(backend, wat):
    """Arguments are lowered with the `realloc` option's function, not `cabi_realloc`."""
    big = "x" * 100_000
    expect(
        wat("decoy_realloc"),
        backend,
        [(c("echo", "héllo ☃ 😀"), "héllo ☃ 😀"), (c("echo", ""), ""), (c("echo", big), big)],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_decoy_post_return(backend, wat):
    """The post-return that runs is the `post-return` option's, not `cabi_post_<name>`."""
    expect(
        wat("decoy_post_return"),
        backend,
        [(c("greet"), "hello"), (c("greet"), "hello"), (c("cleanups"), 2)],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_memory_and_code_in_different_modules(backend, wat):
    """Exports whose code lives in a module that imports its memory and allocator work."""
    expect(
        wat("split_memory_code"),
        backend,
        [(c("echo", "héllo ☃"), "héllo ☃"), (c("total", [1, 2, 3, 2**32 - 1]), 2**32 + 5)],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_modules_export_memory_and_realloc(backend, wat):
    """With a decoy module also exporting `memory` + `cabi_realloc`, the lifted ones are used."""
    expect(
        wat("two_libc"),
        backend,
        [(c("greet"), "hello"), (c("echo", "héllo ☃"), "héllo ☃"), (c("greet"), "hello")],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_component_without_memory(backend, wat):
    """A component with no memory and no allocator (scalars only) loads and works."""
    expect(
        wat("no_memory"),
        backend,
        [(c("answer"), 42), (c("negate", 1.5), -1.5), (c("flip", True), False)],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_core_import_names_are_not_guessed(backend, wat):
    """Host functions reach the core imports they were lowered into, whatever their names."""
    code = """
    imports = {HOST: {"ping": lambda x: x + 100, "pong": lambda x: x + 200}}
    obj, loaded = load(ARGS["path"], ARGS["backend"], imports=imports)
    calls = [] if obj is None else [call(obj, "call_ping", 1), call(obj, "call_pong", 1)]
    emit({"load": loaded, "calls": calls})
    """
    result = run_child(code, path=str(wat("decoy_import_names")), backend=backend)
    check_loaded(result, backend)
    check(result["calls"][0], 101, f"[{backend}] call_ping(1) (reaches `ping`)")
    check(result["calls"][1], 201, f"[{backend}] call_pong(1) (reaches `pong`)")


INVALID = sorted(p.stem for p in HOSTILE.glob("invalid_*.wat"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fixture", INVALID)
def test_invalid_component_is_rejected_at_load(fixture, backend, wat):
    """An invalid component (wrong core types, missing options) raises a SandlinkError at load."""
    result = run_child(CALLS, path=str(wat(fixture)), backend=backend, limits="None", calls=[])
    check(result["load"], Raises(), f"[{backend}] load of {fixture}")


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_binaries_load_or_raise(backend, wat):
    """Every prefix of a component binary either loads or raises a SandlinkError."""
    data = wat("decoy_realloc").read_bytes()
    prefixes = sorted({*range(0, len(data), 5), len(data) - 1})
    code = """
    data = open(ARGS["path"], "rb").read()
    bad = {}
    for n in ARGS["prefixes"]:
        obj, loaded = load(data[:n], ARGS["backend"])
        if "error" in loaded and "SandlinkError" not in loaded["mro"]:
            bad[n] = loaded
    emit({"bad": bad})
    """
    result = run_child(code, path=str(wat("decoy_realloc")), backend=backend, prefixes=prefixes)
    bad = [f"{n} bytes: {show(out)}" for n, out in result["bad"].items()]
    assert not bad, f"[{backend}] {len(bad)} prefixes raised other errors: {bad[:3]}"


# --- 2. Canonical options: string encodings, a second memory -------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_utf16_strings(backend, wat):
    """string-encoding=utf16: results decode as UTF-16 and arguments are encoded as UTF-16."""
    text = "héllo ☃ 😀"
    expect(
        wat("utf16_strings"),
        backend,
        [
            (c("hi"), "hi"),
            (c("emoji"), "a😀"),
            (c("echo", text), text),
            (c("units", text), len(text.encode("utf-16-le")) // 2),
            (c("echo", ""), ""),
        ],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_latin1_utf16_strings(backend, wat):
    """string-encoding=latin1+utf16: Latin-1 and tagged UTF-16 results decode right."""
    expect(
        wat("latin1_utf16_strings"),
        backend,
        [
            (c("hi"), "hi"),
            (c("cafe"), "café"),
            (c("snowman"), "☃x"),
            (c("echo", "héllo"), "héllo"),
            (c("echo", "héllo ☃ 😀"), "héllo ☃ 😀"),
            (c("echo", ""), ""),
        ],
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_lift_from_second_memory(backend, wat):
    """A lift whose `memory` option names the module's second memory reads and writes that one."""
    expect(
        wat("second_memory"),
        backend,
        [(c("greet"), "hello"), (c("echo", "héllo ☃"), "héllo ☃"), (c("first", b"\x07abc"), 7)],
    )


# --- 3. Start functions --------------------------------------------------------------------

START_CALLS_HOST = """
calls = []

def ping(x):
    calls.append(x)
    if ARGS["raise"]:
        raise ValueError("ping refused")
    return x * 3

obj, loaded = load(ARGS["path"], ARGS["backend"], imports={HOST: {"ping": ping}})
seen = None if obj is None else call(obj, "seen")
emit({"load": loaded, "seen": seen, "calls": calls})
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_function_calls_host(backend, wat):
    """A start function may call a lowered host import; what it got is visible afterwards."""
    path = str(wat("start_calls_host"))
    result = run_child(START_CALLS_HOST, path=path, backend=backend, **{"raise": False})
    check_loaded(result, backend)
    check(result["seen"], 21, f"[{backend}] seen()")
    assert result["calls"] and set(result["calls"]) == {7}, result["calls"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_function_host_call_raises(backend, wat):
    """A host import that raises during the start function surfaces that same exception."""
    path = str(wat("start_calls_host"))
    result = run_child(START_CALLS_HOST, path=path, backend=backend, **{"raise": True})
    failure = result["load"] if "error" in result["load"] else result["seen"]
    assert is_error(failure, "ValueError") and "ping refused" in failure["message"], (
        f"[{backend}] expected the callback's ValueError at load or first call, got {show(failure)}"
    )


IMPORT_ATTACKS = """
seen = []
imports = {HOST: {
    "log": lambda s: seen.append(["log", s]),
    "get": lambda: seen.append(["get"]) or "h\u00e9llo",
    "wide": lambda *a: seen.append(["wide", *a]) or sum(a),
}}
obj, loaded = load(ARGS["path"], ARGS["backend"], imports=imports)
results = []
for name in ARGS["names"]:
    del seen[:]
    results.append([call(obj, name), list(seen)])
emit({"load": loaded, "results": results})
"""

TRAP = Raises("GuestTrap")
IMPORT_CASES = [
    ("log_ok", None, [["log", "hi"]]),
    ("log_outside", TRAP, []),  # the string's bytes lie past the end of memory
    ("log_straddles", TRAP, []),
    ("log_too_long", TRAP, []),  # 2**28 bytes: longer than the ABI allows
    ("log_not_utf8", TRAP, []),
    ("get_ok", 6, [["get"]]),  # len("héllo".encode())
    ("get_outside", TRAP, [["get"]]),  # the result area: checked once the host answered
    ("get_misaligned", TRAP, [["get"]]),
    ("get_rogue_realloc", TRAP, [["get"]]),  # realloc answers outside memory
    ("wide_ok", 153, [["wide", *range(1, 18)]]),  # 17 parameters, spilled to memory
    ("wide_outside", TRAP, []),
    ("wide_misaligned", TRAP, []),
    ("log_ok", None, [["log", "hi"]]),  # a fresh instance after all that
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_imports_refuse_what_the_guest_hands_them(backend, wat):
    """Bad pointers, lengths, bytes, result areas and realloc answers given to the host
    functions a component imports trap; the host function never sees bad arguments."""
    names = [name for name, _, _ in IMPORT_CASES]
    result = run_child(
        IMPORT_ATTACKS, path=str(wat("import_attacks")), backend=backend, names=names
    )
    check_loaded(result, backend)
    for (name, want, calls), (out, seen) in zip(IMPORT_CASES, result["results"], strict=True):
        check(out, want, f"[{backend}] {name}()")
        assert seen == calls, f"[{backend}] {name}(): the host saw {seen}"


START_THEN_CALL = """
started = time.monotonic()
obj, loaded = load(ARGS["path"], ARGS["backend"], eval(ARGS["limits"]))
first = None if obj is None else call(obj, "double", 2)
emit({"load": loaded, "first": first, "elapsed": time.monotonic() - started})
"""


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("limits", "error"),
    [("Limits(timeout=0.2)", "Timeout"), ("Limits(timeout=None, fuel=1_000_000)", "OutOfFuel")],
    ids=["timeout", "fuel"],
)
def test_start_function_spins_until_a_limit(limits, error, backend, wat):
    """A start function that never returns is stopped by the limit, promptly."""
    result = run_child(
        START_THEN_CALL, path=str(wat("start_spins")), backend=backend, limits=limits
    )
    failure = result["load"] if "error" in result["load"] else result["first"]
    check(failure, Raises(error), f"[{backend}] load or first call")
    assert result["elapsed"] < 3.0, f"[{backend}] took {result['elapsed']:.2f} s"


@pytest.mark.parametrize("backend", BACKENDS)
def test_start_function_traps(backend, wat):
    """A start function that traps makes the load (or the first call) raise a GuestTrap."""
    result = run_child(
        START_THEN_CALL, path=str(wat("start_traps")), backend=backend, limits="None"
    )
    failure = result["load"] if "error" in result["load"] else result["first"]
    check(failure, Raises("GuestTrap"), f"[{backend}] load or first call")


# --- 4. Re-entry and nested traps ---------------------------------------------------------

REENTRY = """
inner = []
obj = None

def callback(x):
    {body}

obj, loaded = load(ARGS["path"], ARGS["backend"], imports={{HOST: {{"callback": callback}}}})
outer = None if obj is None else call(obj, "call_out", 5)
after = None if obj is None else call(obj, "double", 4)
emit({{"load": loaded, "inner": inner, "outer": outer, "after": after}})
"""


def run_reentry(
    wat: Callable[[str], Path], backend: str, body: str, inner: int = 1
) -> dict[str, Any]:
    """`call_out(5)` with `body` as the host callback; it records `inner` outcomes."""
    code = REENTRY.format(body=textwrap.indent(textwrap.dedent(body), " " * 4).strip())
    result = run_child(code, path=str(wat("reentry")), backend=backend)
    check_loaded(result, backend)
    assert len(result["inner"]) >= inner, (
        f"[{backend}] the callback recorded {result['inner']}; call_out(5): {show(result['outer'])}"
    )
    return result


def check_outer_then_healthy(result: dict[str, Any], backend: str) -> None:
    """The outer call returned callback's 0 + 1 or failed cleanly; the object still works."""
    outer = result["outer"]
    assert outer == {"value": encode(1)} or is_error(outer), (
        f"[{backend}] call_out(5): expected 1 or a SandlinkError, got {show(outer)}"
    )
    check(result["after"], 8, f"[{backend}] double(4) afterwards")


@pytest.mark.parametrize("backend", BACKENDS)
def test_reentry_from_callback_is_refused(backend, wat):
    """A host callback calling back into the same instance gets a SandlinkError."""
    result = run_reentry(
        wat,
        backend,
        """
        inner.append(call(obj, "double", x))
        return 0
        """,
    )
    check(result["inner"][0], Raises(), f"[{backend}] double() re-entered from the callback")
    check_outer_then_healthy(result, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reentry_error_propagates_from_callback(backend, wat):
    """A callback that lets the re-entry error escape makes the outer call raise it."""
    result = run_reentry(
        wat,
        backend,
        """
        try:
            value = obj.double(x)
        except BaseException as exc:
            inner.append(describe(exc))
            raise
        inner.append({"value": encode(value)})
        return value
        """,
    )
    check(result["inner"][0], Raises(), f"[{backend}] double() re-entered from the callback")
    check(result["outer"], Raises(result["inner"][0]["error"]), f"[{backend}] call_out(5)")
    check(result["after"], 8, f"[{backend}] double(4) afterwards")


@pytest.mark.parametrize("backend", BACKENDS)
def test_nested_trap_in_callback_then_call_again(backend, wat):
    """A callback that catches a nested trap and calls again gets SandlinkErrors, no crash."""
    result = run_reentry(
        wat,
        backend,
        """
        inner.append(call(obj, "crash"))
        inner.append(call(obj, "double", x))
        return 0
        """,
        inner=2,
    )
    check(result["inner"][0], Raises(), f"[{backend}] crash() from the callback")
    check(result["inner"][1], Raises(), f"[{backend}] double() after the nested trap")
    check_outer_then_healthy(result, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_callback_calls_from_another_thread(backend, wat):
    """A callback that calls the object from another thread gets a value or an error, no hang."""
    result = run_reentry(
        wat,
        backend,
        """
        box = []
        worker = threading.Thread(target=lambda: box.append(call(obj, "double", x)), daemon=True)
        worker.start()
        worker.join(10)
        hung = {"error": "Hang", "mro": ["Hang"], "message": "no return within 10 s"}
        inner.append(box[0] if box else hung)
        return 0
        """,
    )
    inside = result["inner"][0]
    assert inside == {"value": encode(10)} or is_error(inside), (
        f"[{backend}] double(5) from another thread: expected 10 or a SandlinkError, "
        f"got {show(inside)}"
    )
    check_outer_then_healthy(result, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_callback_exception_propagates(backend, wat):
    """An exception raised by a host callback comes out of the export call as itself."""
    result = run_reentry(
        wat,
        backend,
        """
        raise LookupError("no such thing")
        """,
        inner=0,
    )
    outer = result["outer"]
    assert is_error(outer, "LookupError") and "no such thing" in outer["message"], (
        f"[{backend}] call_out(5): expected the callback's LookupError, got {show(outer)}"
    )
    check(result["after"], 8, f"[{backend}] double(4) afterwards")


# --- 5. Forged and foreign handles ---------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_forged_and_foreign_handles_trap(backend, wat):
    """resource.rep/drop on unknown, dropped or other-type handles is a GuestTrap."""
    trap = Raises("GuestTrap")
    expect(
        wat("forged_handles"),
        backend,
        [
            (c("roundtrip", 9), 9),
            (c("rep_forged", 0), trap),
            (c("rep_forged", 12345), trap),
            (c("rep_forged", 2**32 - 1), trap),
            (c("drop_forged", 0), trap),
            (c("drop_forged", 12345), trap),
            (c("rep_foreign"), trap),
            (c("drop_foreign"), trap),
            (c("rep_after_drop"), trap),
            (c("drop_twice"), trap),
            (c("roundtrip", 11), 11),
        ],
    )


# --- 6. Amplification and out-of-bounds results -------------------------------------------

AMPLIFY = """
obj, loaded = load(ARGS["path"], ARGS["backend"], eval(ARGS["limits"]))
if obj is None:
    emit({"load": loaded})
else:
    call(obj, ARGS["name"], 2, 2)  # warm up: the instance exists, its code has run once
    rss = max_rss_mib()
    started = time.monotonic()
    out = outcome(lambda: len(getattr(obj, ARGS["name"])(*ARGS["args"])))
    elapsed = time.monotonic() - started
    grown = max_rss_mib() - rss
    after = call(obj, ARGS["name"], 2, 1)
    emit({"load": loaded, "out": out, "elapsed": elapsed, "grown": grown, "after": after})
"""

AMPLIFIERS = {"nest": [[0], [0]], "strings": ["a", "a"]}  # name -> its value for (2, 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_amplifying_results_small_are_right(backend, wat):
    """Small results whose elements share their data lift to the right values."""
    expect(
        wat("amplify_lists"),
        backend,
        [
            (c("nest", 3, 2), [[0, 1], [0, 1], [0, 1]]),
            (c("strings", 3, 2), ["aa", "aa", "aa"]),
            (c("nest", 0, 0), []),
            (c("nest", 2, 0), [[], []]),
        ],
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "args"), [("nest", (65536, 256)), ("strings", (65536, 4096))])
def test_amplifying_results_hit_the_memory_limit(name, args, backend, wat):
    """A result lifting to >100 MiB from <1 MiB of guest memory stops at the memory cap."""
    # The fast host must raise MemoryLimitExceeded; the oracle may stop it another way (it
    # bounds copying with wasmtime's own budget). Either way memory grows < 200 MiB.
    result = run_child(
        AMPLIFY,
        path=str(wat("amplify_lists")),
        backend=backend,
        limits="Limits(memory=16 << 20)",
        name=name,
        args=args,
        rss_mib=1024,
    )
    check_loaded(result, backend)
    error = "MemoryLimitExceeded" if backend == "wasm" else "SandlinkError"
    check(result["out"], Raises(error), f"[{backend}] {name}{args}")
    assert result["grown"] < 200, f"[{backend}] peak memory grew by {result['grown']:.0f} MiB"
    check(result["after"], AMPLIFIERS[name], f"[{backend}] {name}(2, 1) afterwards")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("name", "args"), [("nest", (524288, 256)), ("strings", (524288, 4096))])
def test_amplifying_results_stop_within_the_timeout(name, args, backend, wat):
    """A gigabyte-sized amplified result under a 50 ms timeout fails within 2 s."""
    result = run_child(
        AMPLIFY,
        path=str(wat("amplify_lists")),
        backend=backend,
        limits="Limits(timeout=0.05)",
        name=name,
        args=args,
        rss_mib=1024,
    )
    check_loaded(result, backend)
    check(result["out"], Raises(), f"[{backend}] {name}{args}")
    assert result["elapsed"] < 2.0, f"[{backend}] took {result['elapsed']:.2f} s"
    check(result["after"], AMPLIFIERS[name], f"[{backend}] {name}(2, 1) afterwards")


@pytest.mark.parametrize("backend", BACKENDS)
def test_results_outside_memory_trap(backend, wat):
    """Results (and return areas) past the end of memory, or whose size wraps 32 bits, trap."""
    trap = Raises("GuestTrap")
    expect(
        wat("result_past_memory"),
        backend,
        [
            (c("empty"), []),
            (c("past_end"), trap),
            (c("straddle"), trap),
            (c("wrap_around"), trap),
            (c("huge_len"), trap),
            (c("retptr_past_end"), trap),
            (c("string_straddle"), trap),
            (c("string_wrap"), trap),
            (c("empty"), []),
        ],
    )


# --- 7. Handle floods ----------------------------------------------------------------------

FLOOD = """
obj, loaded = load(ARGS["path"], ARGS["backend"], Limits())
if obj is None:
    emit({"load": loaded})
else:
    small = call(obj, "flood", 10)
    rss = max_rss_mib()
    started = time.monotonic()
    out = call(obj, "flood_forever")
    elapsed = time.monotonic() - started
    grown = max_rss_mib() - rss
    after = call(obj, "count")
    emit({"load": loaded, "small": small, "out": out, "elapsed": elapsed, "grown": grown,
          "after": after})
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_handle_flood_is_capped(backend, wat):
    """Endless resource.new under the default limits fails cleanly, in bounded host memory."""
    result = run_child(
        FLOOD, path=str(wat("handle_flood")), backend=backend, rss_mib=1024, hang_after=30
    )
    check_loaded(result, backend)
    assert "value" in result["small"], f"[{backend}] flood(10): {show(result['small'])}"
    check(result["out"], Raises(), f"[{backend}] flood_forever()")
    assert result["grown"] < 200, f"[{backend}] peak memory grew by {result['grown']:.0f} MiB"
    check(result["after"], 1, f"[{backend}] count() afterwards")


# --- 8. Names ------------------------------------------------------------------------------

EXPORT_NAMES = [
    "limits",
    "module",
    "engine",
    "linker",
    "functions",
    "lift",
    "retire",
    "close",
    "schema",
    "record-classes",
    "class",
    "from",
    "lambda",
    "type",
    "len",
    "list",
    "bytes",
]  # the order of python_names_exports.wat: export k returns x + 1000 * k


def test_spelling_rule():
    """The rule the name tests use: keywords and builtins get `_`, other names do not."""
    assert [python_name(n) for n in ("type", "class", "len", "limits", "record-classes")] == [
        "type_",
        "class_",
        "len_",
        "limits",
        "record_classes",
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_exports_named_like_host_attributes_and_keywords(backend, wat):
    """Exports named `limits`, `schema`, `close`, `class`, `type`, ... are each callable."""
    cases = [(c(python_name(n), 5), 5 + 1000 * k) for k, n in enumerate(EXPORT_NAMES, start=1)]
    expect(wat("python_names_exports"), backend, cases)


@pytest.mark.parametrize("backend", BACKENDS)
def test_parameters_named_like_host_locals_and_keywords(backend, wat):
    """Parameters named `s`, `ctx`, `slots`, `sp`, `m`, `len`, `class`, ... work, by keyword too."""
    slots = bytes(range(256)) * 3
    expect(
        wat("python_names_params"),
        backend,
        [
            (c("echo_slots", slots), slots),
            (c("echo_slots", slots=b"\x00\x01\xfe\xff"), b"\x00\x01\xfe\xff"),
            (c("echo_s", "héllo ☃"), "héllo ☃"),
            (c("echo_s", s="héllo ☃"), "héllo ☃"),
            (c("mix", 1, 2, 3, 4, 5), 12345),
            (c("mix", s=1, ctx=2, slots=3, sp=4, m=5), 12345),
            (c("builtins", 1, 2, 3, 4), 1234),
            (c("builtins", len_=1, type_=2, list_=3, bytes_=4), 1234),
            (c("keywords", 1, 2, 3), 123),
            (c("keywords", class_=1, from_=2, lambda_=3), 123),
            (c("pick", "a", "b", "c", 2), "c"),
            (c("pick", m="a", sp="b", ctx="c", which=1), "b"),
        ],
    )


# --- 9. Misalignment -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_misaligned_pointers_trap(backend, wat):
    """Misaligned return areas, list pointers and realloc blocks trap, as the ABI requires."""
    trap = Raises("GuestTrap")
    expect(
        wat("misaligned"),
        backend,
        [
            (c("pair_ok"), (1, 2)),
            (c("pair"), trap),
            (c("text"), trap),
            (c("words"), trap),
            (c("halves"), trap),
            (c("total", [1, 2, 3]), trap),
            (c("total", []), trap),  # realloc is called (and checked) for empty lists too
            (c("pair_ok"), (1, 2)),
        ],
    )


# --- 10. Out-of-range values ---------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_of_range_values(backend, wat):
    """Invalid chars, discriminants and UTF-8/16 trap; bools, flags, ints lift as the ABI says."""
    trap = Raises("GuestTrap")
    expect(
        wat("bad_values"),
        backend,
        [
            (c("bad_bool"), True),  # any nonzero bit pattern is true
            (c("bad_bool_list"), [False, True, True, True]),
            (c("bad_char"), trap),
            (c("surrogate"), trap),
            (c("surrogate_list"), trap),
            (c("bad_enum"), trap),
            (c("bad_enum_list"), trap),
            (c("bad_variant"), trap),
            (c("bad_option"), trap),
            (c("bad_result"), trap),
            (c("bad_utf8"), trap),
            (c("overlong_utf8"), trap),
            (c("encoded_surrogate"), trap),
            (c("bad_utf16"), trap),
            (c("bad_flags"), frozenset({"p", "q"})),  # unknown bits are ignored
            (c("wide_u8"), 300 % 256),  # integers are truncated to their width
            (c("wide_s8"), 200 - 256),
            (c("wide_u16"), 0xFFFF),
        ],
    )


# --- 11. Interrupts ------------------------------------------------------------------------

INTERRUPT = """
obj, loaded = load(ARGS["path"], ARGS["backend"], eval(ARGS["limits"]))
if obj is None:
    emit({"load": loaded})
else:
    sent = []

    def interrupt():
        time.sleep(0.3)
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    spun = call(obj, "spin")
    delay = time.monotonic() - sent[0] if sent else None
    after = call(obj, "double", 21)
    emit({"load": loaded, "spun": spun, "delay": delay, "after": after})
"""


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("limits", ["Limits.none()", "Limits()"])
def test_sigint_interrupts_a_spinning_call(limits, backend, wat):
    """Ctrl-C during a call that never returns raises KeyboardInterrupt within 1 s."""
    result = run_child(
        INTERRUPT, path=str(wat("spin_and_double")), backend=backend, limits=limits, hang_after=15
    )
    check_loaded(result, backend)
    assert is_error(result["spun"], "KeyboardInterrupt"), (
        f"[{backend}] spin(): expected KeyboardInterrupt, got {show(result['spun'])}"
    )
    assert result["delay"] is not None and result["delay"] < 1.0, (
        f"[{backend}] KeyboardInterrupt came {result['delay']} s after SIGINT"
    )
    check(result["after"], 42, f"[{backend}] double(21) afterwards")


# --- 12. Fork ------------------------------------------------------------------------------

FORK = """
obj, loaded = load(ARGS["path"], ARGS["backend"], Limits(timeout=0.3))
if obj is None:
    emit({"load": loaded})
    raise SystemExit
first = call(obj, "double", 1)
read_end, write_end = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read_end)
    started = time.monotonic()
    spun = call(obj, "spin")
    elapsed = time.monotonic() - started
    after = call(obj, "double", 3)
    report = json.dumps({"spun": spun, "elapsed": elapsed, "after": after}).encode()
    os.write(write_end, report)
    os._exit(0)
os.close(write_end)
deadline = time.monotonic() + 10
status = None
while time.monotonic() < deadline:
    done, polled = os.waitpid(pid, os.WNOHANG)
    if done:
        status = polled
        break
    time.sleep(0.05)
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
chunks = []
while chunk := os.read(read_end, 1 << 16):
    chunks.append(chunk)
if status is None:
    child = {"failed": "the forked child was still running after 10 s (killed)"}
elif os.WIFSIGNALED(status):
    child = {"failed": f"the forked child died of signal {os.WTERMSIG(status)}"}
elif not chunks:
    child = {"failed": f"the forked child reported nothing (status {status})"}
else:
    child = json.loads(b"".join(chunks))
emit({"load": loaded, "first": first, "child": child, "parent": call(obj, "double", 2)})
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("backend", BACKENDS)
def test_fork_child_times_out(backend, wat):
    """After fork, a spinning call in the child still times out (within 2 s); parent is fine."""
    result = run_child(FORK, path=str(wat("spin_and_double")), backend=backend, hang_after=45)
    check_loaded(result, backend)
    check(result["first"], 2, f"[{backend}] double(1) before the fork")
    child = result["child"]
    assert "failed" not in child, f"[{backend}] {child.get('failed')}"
    check(child["spun"], Raises("Timeout"), f"[{backend}] spin() in the forked child")
    assert child["elapsed"] < 2.0, f"[{backend}] the child's Timeout took {child['elapsed']:.2f} s"
    check(child["after"], 6, f"[{backend}] double(3) in the child afterwards")
    check(result["parent"], 4, f"[{backend}] double(2) in the parent afterwards")


# --- 13. Bad limits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timeout": float("nan")},
        {"timeout": -1},
        {"timeout": float("inf")},
        {"timeout": "1"},
        {"fuel": 2**64},
        {"fuel": -5},
        {"memory": 0},
        {"memory": -1},
        {"memory": 2**64},
    ],
    ids=repr,
)
def test_bad_limits_are_rejected(kwargs):
    """Limits that make no sense raise ValueError or TypeError when constructed."""
    with pytest.raises((ValueError, TypeError)):
        Limits(**kwargs)


def test_sane_limits_are_accepted():
    """The rejections above are not everything: ordinary limits construct."""
    Limits(memory=1 << 20, timeout=0.5, fuel=10)
    Limits(timeout=3)
    Limits.none()


# --- 14. The empty component ---------------------------------------------------------------

EMPTY = """
empty, loaded = load(ARGS["empty"], ARGS["backend"])
other, other_loaded = load(ARGS["other"], ARGS["backend"])
emit({"load": loaded, "other_load": other_loaded,
      "empty": None if empty is None else public(empty),
      "other": None if other is None else public(other)})
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_component(backend, wat):
    """`(component)` loads and has no exports: only a real export adds an attribute."""
    result = run_child(
        EMPTY, empty=str(wat("empty")), other=str(wat("spin_and_double")), backend=backend
    )
    check_loaded(result, backend)
    assert "value" in result["other_load"], show(result["other_load"])
    empty, other = set(result["empty"]), set(result["other"])
    assert empty <= other and other - empty == {"spin", "double"}, (empty, other)
