"""Hostile WASI calls: the WASI 0.2 host refuses what no real toolchain would ever ask.

The fixture `tests/hostile/wasi_attacks.wat` imports WASI 0.2.0 (streams, pollables,
stdout, the monotonic clock, filesystem descriptors and preopens) and exports one attack
per function: forged, dropped and other-type handles to the host's resources, a written
list outside memory (past it, straddling its end, 2^28 bytes long, wrapping past 2^32),
and a get-directories return area outside memory or misaligned. On both backends, the
oracle (wasmtime's own WASI) and `wasm` (sandlink's), each attack is a GuestTrap that
writes nothing; the healthy `hello` (stdout "hi\\n", result 0) works before and after every
one (after a trap, in a fresh instance). Each backend runs in a child interpreter, so a
crash or a hang fails the test instead of killing pytest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_hostile import BACKENDS, Raises, c, check, check_loaded, run_child

HELLO = b"hi\n"
TRAP = Raises("GuestTrap")

# hello(), then the call, then hello() again; what stdout got in the three; the preopened
# directory's listing at the end.
WASI_ATTACKS = """
seen = []
wasi = sandlink.Wasi(stdout=seen.append, preopens={"/data": (ARGS["data"], "rw")})
try:
    obj = sandlink.load_component(
        ARGS["path"], backend=ARGS["backend"], wasi=wasi, cache_dir=False
    )
    loaded = {"value": ["loaded", ARGS["backend"]]}
except BaseException as exc:
    obj, loaded = None, describe(exc)
results = []
for name, args, kwargs in [] if obj is None else ARGS["calls"]:
    del seen[:]
    before = call(obj, "hello")
    out = call(obj, name, *args, **kwargs)
    after = call(obj, "hello")
    results.append([before, out, after, b"".join(map(bytes, seen)).hex()])
emit({"load": loaded, "results": results, "files": sorted(os.listdir(ARGS["data"]))})
"""

# Every attack, with what it must do on both backends (the oracle agrees: each is a trap).
ATTACKS = [
    # Output-stream handles never given (0 is never a handle), dropped, or a pollable's.
    (c("write_forged", 0), TRAP),
    (c("write_forged", 1), TRAP),  # hello's stdout handle, already dropped
    (c("write_forged", 12345), TRAP),
    (c("write_forged", 2**32 - 1), TRAP),
    (c("stdout_dropped_write"), TRAP),
    (c("stdout_dropped_twice"), TRAP),
    (c("pollable_as_stream"), TRAP),
    # The written list: past the end of memory, straddling it, 2^28 bytes, wrapping.
    (c("write_outside"), TRAP),
    (c("write_straddles"), TRAP),
    (c("write_huge"), TRAP),
    (c("write_wraps"), TRAP),
    # Pollables dropped, never given, or an output stream's handle.
    (c("block_dropped_pollable"), TRAP),
    (c("block_forged", 1), TRAP),
    (c("block_forged", 12345), TRAP),
    (c("stream_as_pollable"), TRAP),
    # Descriptors never given (no get-directories was called), or an output stream's.
    (c("drop_forged_descriptor", 0), TRAP),
    (c("drop_forged_descriptor", 1), TRAP),
    (c("drop_forged_descriptor", 12345), TRAP),
    (c("drop_stream_as_descriptor"), TRAP),
    (c("open_at_forged", 1), TRAP),
    (c("open_at_forged", 12345), TRAP),
    # get-directories' return area: past the end, straddling it, misaligned.
    (c("get_directories_result_outside"), TRAP),
    (c("get_directories_result_straddles"), TRAP),
    (c("get_directories_result_misaligned"), TRAP),
]


def spell(call_: tuple[str, tuple[Any, ...], dict[str, Any]]) -> str:
    name, args, _ = call_
    return f"{name}({', '.join(map(repr, args))})"


@pytest.fixture
def component(wat) -> Path:
    """tests/hostile/wasi_attacks.wat, compiled."""
    return wat("wasi_attacks")


def run(component: Path, tmp_path: Path, backend: str, calls: list) -> dict[str, Any]:
    """The WASI_ATTACKS child's result on `backend`, a fresh preopened directory given."""
    data = tmp_path / f"data-{backend}"
    data.mkdir()
    result = run_child(
        WASI_ATTACKS,
        path=str(component),
        backend=backend,
        data=str(data),
        calls=calls,
    )
    check_loaded(result, backend)
    return result


@pytest.mark.parametrize("backend", BACKENDS)
def test_healthy_calls_work(backend, component, tmp_path):
    """`hello` prints on both backends; get-directories, used properly, sees the preopen."""
    calls = [c("preopen_count"), c("hello"), c("preopen_count")]
    result = run(component, tmp_path, backend, calls)
    for call_, (before, out, after, stdout) in zip(calls, result["results"], strict=True):
        check(before, 0, f"[{backend}] hello() before {spell(call_)}")
        check(out, 1 if call_[0] == "preopen_count" else 0, f"[{backend}] {spell(call_)}")
        check(after, 0, f"[{backend}] hello() after {spell(call_)}")
        want = HELLO * (3 if call_[0] == "hello" else 2)
        assert bytes.fromhex(stdout) == want, f"[{backend}] stdout: {bytes.fromhex(stdout)!r}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_wasi_attacks_trap_and_write_nothing(backend, component, tmp_path):
    """Each attack is a GuestTrap; `hello` works before and after it (in a fresh instance
    after the trap); stdout holds exactly the two healthy writes; no file appears."""
    result = run(component, tmp_path, backend, [call_ for call_, _ in ATTACKS])
    for (call_, want), (before, out, after, stdout) in zip(ATTACKS, result["results"], strict=True):
        what = f"[{backend}] {spell(call_)}"
        check(before, 0, f"{what}: hello() before it")
        check(out, want, what)
        check(after, 0, f"{what}: hello() after it")
        written = bytes.fromhex(stdout)
        assert written == HELLO * 2, f"{what}: stdout got {written!r}, not just hello's twice"
    assert result["files"] == [], f"[{backend}] the preopened directory got {result['files']}"
