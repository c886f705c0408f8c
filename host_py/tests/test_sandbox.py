"""The sandbox holds: every guest fault is its own exception, and the object keeps working."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import sandlink
from conftest import host
from sandlink import Limits

MiB = 1 << 20
GUEST_BACKENDS = ("wasm", "oracle")


def load_faults(path, backend="wasm", limits=None, tick=None):
    calls = []

    def default_tick(n: int) -> int:
        calls.append(n)
        return n + 1

    imports = {"host": {"tick": tick or default_tick}}
    return sandlink.load_component(
        path, imports=imports, backend=backend, limits=limits or Limits(), cache_dir=False
    )


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
def test_spin_times_out_quickly_then_the_object_works(faults_wasm, backend):
    guest = load_faults(faults_wasm, backend, Limits(timeout=0.2))
    assert guest.double(21) == 42
    started = time.monotonic()
    with pytest.raises(sandlink.Timeout) as caught:
        guest.spin()
    elapsed = time.monotonic() - started
    assert 0.19 <= elapsed < 0.5, elapsed
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, sandlink.GuestTrap)
    assert guest.double(4) == 8
    assert guest.counter() == 1  # a fresh instance


def test_short_calls_never_time_out(faults_wasm):
    guest = load_faults(faults_wasm, limits=Limits(timeout=0.05))
    deadline = time.monotonic() + 0.3  # many ticks pass while calls keep coming
    n = 0
    while time.monotonic() < deadline:
        assert guest.double(n) == 2 * n
        n += 1
    assert guest.counter() == 1  # never re-instantiated


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
def test_fuel_runs_out_then_refills(faults_wasm, backend):
    guest = load_faults(faults_wasm, backend, Limits(timeout=None, fuel=1_000_000))
    with pytest.raises(sandlink.OutOfFuel):
        guest.spin()
    for x in range(100):  # each call gets the full budget again
        assert guest.double(x) == 2 * x


def test_hoarding_hits_the_memory_cap_then_the_object_works(faults_wasm):
    guest = load_faults(faults_wasm, limits=Limits(memory=64 * MiB))
    with pytest.raises(sandlink.MemoryLimitExceeded):
        guest.hoard(1 * MiB)
    assert guest.double(5) == 10
    assert guest.keep(10 * MiB) == 10 * MiB  # a fresh instance: nothing kept


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
def test_unreachable_is_a_guest_trap_with_its_code(faults_wasm, backend):
    guest = load_faults(faults_wasm, backend)
    guest.counter()
    with pytest.raises(sandlink.GuestTrap) as caught:
        guest.crash()
    assert type(caught.value) is sandlink.GuestTrap
    assert caught.value.code == "UNREACHABLE" and caught.value.message
    assert guest.counter() == 1


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
@pytest.mark.parametrize(
    ("big_frames", "code"), [(False, "STACK_OVERFLOW"), (True, "MEMORY_OUT_OF_BOUNDS")]
)
def test_stack_overflow_is_a_guest_trap(faults_wasm, backend, big_frames, code):
    guest = load_faults(faults_wasm, backend)
    assert guest.recurse(100, big_frames) > 0
    with pytest.raises(sandlink.GuestTrap) as caught:
        guest.recurse(10_000_000, big_frames)
    assert caught.value.code == code
    assert guest.double(3) == 6


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
def test_the_guest_calls_the_host_in_a_loop(faults_wasm, backend):
    guest = load_faults(faults_wasm, backend)
    assert guest.call_host(50_000 if backend == "wasm" else 2_000) == (
        50_000 if backend == "wasm" else 2_000
    )


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
@pytest.mark.parametrize("error", [ValueError("bad tick"), KeyboardInterrupt()])
def test_host_exceptions_propagate_unchanged(faults_wasm, backend, error):
    def tick(n: int) -> int:
        if n == 1000:
            raise error
        return n + 1

    guest = load_faults(faults_wasm, backend, tick=tick)
    with pytest.raises(type(error)) as caught:
        guest.call_host(5000)
    assert caught.value is error
    assert guest.double(7) == 14


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
def test_a_payload_bigger_than_the_memory_cap(backend):
    k = sandlink.load(backend, limits=Limits(memory=16 * MiB), cache_dir=False)
    with pytest.raises(sandlink.MemoryLimitExceeded):
        k.ws_mask(bytes(32 * MiB), 1)
    assert k.ws_mask(b"Hello", b"\x37\xfa\x21\x3d") == bytes.fromhex("7f9f4d5158")


def test_limits_are_validated():
    for bad in (dict(memory=-1), dict(memory=1.5), dict(timeout=0), dict(fuel="x")):
        with pytest.raises((TypeError, ValueError)):
            Limits(**bad)
    with pytest.raises(TypeError, match="limits"):
        sandlink.load(limits={"memory": 1})
    assert Limits.none() == Limits(memory=None, timeout=None, fuel=None, handles=None)


def test_one_ticker_per_engine(faults_wasm):
    a = load_faults(faults_wasm, limits=Limits(timeout=1.0))
    b = load_faults(faults_wasm, limits=Limits(timeout=2.0))
    a.double(1)
    b.double(1)
    handle = host(a).engine_handle
    assert handle is host(b).engine_handle and handle.ticking
    python_tickers = [t for t in threading.enumerate() if t.name == "sandlink-epoch"]
    if sandlink.host.COMPILED:  # a native thread: it ticks while Python is busy
        assert python_tickers == []
    else:
        # one per engine (one per fuel setting), each a daemon
        assert handle._ticker._thread in python_tickers and len(python_tickers) <= 2
        assert all(t.daemon for t in python_tickers)


@pytest.mark.parametrize("backend", sandlink.BACKENDS)
def test_threads_share_one_object(backend):
    k = sandlink.load(backend, print=lambda line: None, cache_dir=False)
    calls = 10_000 if backend != "oracle" else 300
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(calls):
                a, b = seed * 1_000_003 + i, i * 7
                assert k.add(a, b) == (a + b) & 0xFFFFFFFF
                if i % 100 == 0:
                    payload = bytes([seed, i & 0xFF]) * 50
                    expected = bytes(x ^ (seed + 1) for x in payload)
                    assert k.ws_mask(payload, bytes([seed + 1] * 4)) == expected
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


CACHE_PROBE = textwrap.dedent(
    """
    import sys, sandlink
    k = sandlink.load(cache_dir=sys.argv[1])
    assert k.add(2, 3) == 5
    cache = k.exports.__sandlink__.cache
    print(",".join(sorted(cache.hits)) + "|" + ",".join(sorted(cache.misses)))
    """
)


def probe_cache(directory) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", CACHE_PROBE, str(directory)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(os.path.dirname(sandlink.__path__[0]))},
    )
    hits, misses = done.stdout.strip().split("|")
    return hits, misses


def test_a_second_process_loads_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    everything = "module,module,module,structure"  # its three core modules, its structure
    assert probe_cache(cache) == ("", everything)
    assert probe_cache(cache) == (everything, "")
    entries = sorted(p.name.split("-")[0] for p in cache.iterdir())
    # Generated Python functions' code too, unless the compiled path runs every function.
    code = [] if sandlink.host.COMPILED else ["code"]
    assert entries == [*code, "module", "module", "module", "structure"]
    assert cache.stat().st_mode & 0o777 == 0o700  # private: wasmtime runs what it loads


def test_a_corrupt_cache_entry_is_rebuilt(tmp_path):
    probe_cache(tmp_path)
    for entry in tmp_path.iterdir():
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    everything = "module,module,module,structure"
    assert probe_cache(tmp_path) == ("", everything)
    assert probe_cache(tmp_path) == (everything, "")


def test_the_default_cache_is_per_user_not_the_working_directory(monkeypatch, tmp_path):
    from sandlink.host._cache import default_dir

    monkeypatch.delenv("SANDLINK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert default_dir() == tmp_path / "sandlink"
    monkeypatch.setenv("SANDLINK_CACHE_DIR", "relative/dir")
    assert default_dir().is_absolute()


def test_guest_calls_run_in_parallel_with_the_gil_released(faults_wasm):
    """Two threads spinning until a 0.3 s timeout finish together, not one after the other."""
    guest = load_faults(faults_wasm, limits=Limits(timeout=0.3))
    guest.double(1)
    outcomes: list[type] = []

    def spin() -> None:
        try:
            guest.spin()
        except sandlink.Timeout as exc:
            outcomes.append(type(exc))

    threads = [threading.Thread(target=spin) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert outcomes == [sandlink.Timeout, sandlink.Timeout]
    assert elapsed < 0.55, f"{elapsed:.2f} s: the spins ran one after the other"


@pytest.mark.parametrize("backend", GUEST_BACKENDS)
def test_a_memory_cap_below_the_initial_memory_fails_the_load(backend):
    with pytest.raises(sandlink.MemoryLimitExceeded, match="memory"):
        sandlink.load(backend, limits=Limits(memory=64 * 1024), cache_dir=False)


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(lambda: sandlink.load(print=lambda line: None, compiled=False), id="pure"),
        pytest.param(
            lambda: sandlink.load(print=lambda line: None),
            id="default",
        ),
    ],
)
def test_a_dropped_component_is_collected(load):
    """Nothing global (the epoch callbacks' registry, the compiled path's sessions) keeps a
    component on the fast host alive once its last reference is gone."""
    import gc
    import weakref

    hosts = []
    for _ in range(3):
        k = load()
        k.add(1, 2)
        k.hello("x")
        with k.buffer(16) as buf:  # a resource: its class holds compiled methods
            k.ws_mask_into(buf, 7)
        hosts.append(weakref.ref(k.exports.__sandlink__))
        del k, buf
    gc.collect()
    assert [h() for h in hosts] == [None, None, None]


NEAR_THE_LIMIT = textwrap.dedent(
    """
    import sys
    import sandlink
    from sandlink import Limits

    imports = {"host": {"tick": lambda n: n + 1}}
    c = sandlink.load_component(sys.argv[1], imports=imports, limits=Limits(timeout=0.03))
    k = sandlink.load(print=lambda line: None)

    def deep(n, call):
        return call() if n == 0 else deep(n - 1, call)

    buffer = k.exports.Buffer
    calls = [c.spin, lambda: c.call_host(3), lambda: buffer(16).close(), lambda: k.hello("x")]
    seen = set()
    for call in calls:
        for margin in range(1, 40):
            try:
                deep(sys.getrecursionlimit() - margin, call)
                seen.add("ok")
            except BaseException as exc:
                seen.add(type(exc).__name__)
    assert c.double(21) == 42 and k.add(2, 3) == 5  # and both still work
    print(" ".join(sorted(seen)))
    """
)


@pytest.mark.skipif(
    not sandlink.host.COMPILED,
    reason="the pure path's ctypes callbacks can still fail before their guard at the "
    "recursion limit (a known crash of the fallback: see the README)",
)
def test_guest_calls_near_the_recursion_limit_raise_never_crash(faults_wasm):
    """Entered with almost no Python stack left, the host's callbacks (the epoch deadline's,
    imports, resource intrinsics) must not fail open: every call raises or returns."""
    done = subprocess.run(
        [sys.executable, "-c", NEAR_THE_LIMIT, str(faults_wasm)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = set(done.stdout.split())
    assert "RecursionError" in seen and "ok" in seen and "TypeError" not in seen, seen


def test_entries_unused_for_30_days_are_pruned_when_writing(tmp_path):
    from sandlink.host._cache import STALE_AFTER, Cache

    old = time.time() - STALE_AFTER - 3600
    stale = tmp_path / f"module-{'ab' * 20}.bin"
    torn = tmp_path / ".sandlink-tmp-x1y2"
    foreign = tmp_path / "notes.bin"  # a user's cache_dir may hold other files
    for path in (stale, torn, foreign):
        path.write_bytes(b"x")
        os.utime(path, (old, old))
    everything = "module,module,module,structure"
    assert probe_cache(tmp_path) == ("", everything)  # a write: prunes
    assert not stale.exists() and not torn.exists() and foreign.exists()
    # A hit marks its entries used: aged again, they survive the next pruning.
    entries = sorted(tmp_path.glob("*-*.bin"))
    for entry in entries:
        os.utime(entry, (old, old))
    assert probe_cache(tmp_path) == (everything, "")
    Cache(tmp_path)._prune()
    assert sorted(tmp_path.glob("*-*.bin")) == entries and len(entries) >= 4


@pytest.mark.parametrize(
    ("platform", "env", "expected"),
    [
        ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/sandlink"),
        ("linux", {}, "~/.cache/sandlink"),
        ("darwin", {}, "~/Library/Caches/sandlink"),
        ("win32", {"LOCALAPPDATA": "/local"}, "/local/sandlink"),
    ],
)
def test_the_default_cache_directory_is_the_platforms(monkeypatch, platform, env, expected):
    from sandlink.host import _cache

    for name in ("SANDLINK_CACHE_DIR", "XDG_CACHE_HOME", "LOCALAPPDATA"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(_cache.sys, "platform", platform)
    assert _cache.default_dir() == Path(expected).expanduser().absolute()
