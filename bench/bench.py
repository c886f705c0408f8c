"""The sandlink benchmark: every backend and what a Python user would pick instead, one process.

    python bench/bench.py            full run: bench/results/latest.json, latest.md, *.png
    python bench/bench.py --quick    under a minute: checks every result is there and correct
    python bench/bench.py readme     paste the summary of bench/results/latest.json into README.md

Every contestant's answer is checked against the pure-Python reference before it is timed; a
wrong or missing one makes the run exit 1 (in both modes). Speed is never asserted: the goals
(P1-P6) are reported as PASS/FAIL with their ratios. bench/README.md explains the contestants
and how to read the report.

The seed system (Go built with `-buildmode=c-shared`, bench/seed_go) is a contestant when `go`
is on PATH (`just bench` builds it first); without Go it is skipped, and the run says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import reprlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import peers
import report
import seed_go

import sandlink
from sandlink._bundled import COMPONENT, bundled

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
README = ROOT / "README.md"
SEED = (ROOT / "host_py" / "tests" / "data" / "seed_person.json").read_text(encoding="utf-8")
KEY = b"\x37\xfa\x21\x3d"  # RFC 6455 §5.7
KiB, MiB = 1 << 10, 1 << 20
STREAM_SIZE, CHUNK = 1 * MiB, 4 * KiB
ODD_CHUNK = CHUNK - 3  # the streams are also checked in chunks of this size (a rotated key)
THREAD_SIZE = 256 * KiB  # P6: each thread masks its own buffer of this size in place
FRAME = 125  # P3: the largest websocket payload with a one-byte length: a small frame

#: The mask contestants besides the backends. At offset 0 websockets' `apply_mask` is called
#: as is; streaming needs the key rotated to each chunk's offset, as its users would do.
MASK_PEERS: dict[str, Callable[..., bytes]] = {
    "bytearray loop": peers.bytearray_loop,
    "int.from_bytes": peers.int_xor,
    "bytes.translate": peers.bytes_translate,
    "numpy": peers.numpy_xor,
    "websockets C": peers.apply_mask,
}
STREAM_PEERS = MASK_PEERS | {"websockets C": peers.websockets_c}

#: The largest mask payload a slow contestant is given. `oracle` converts list<u8> one byte
#: at a time through wasmtime-py (~0.1-0.3 s at 64 KiB), so it stops at 4 KiB, plus one
#: 64 KiB sample (`EXTRA_SIZES`) with few repeats, and sits out streaming (1 MiB).
MASK_CAPS = {"oracle": 4 * KiB, "bytearray loop": 1 * MiB}
EXTRA_SIZES = {"oracle": {64 * KiB}}

#: P5: one fresh interpreter per run, wall time of the whole process.
STARTUP = {
    "python -c pass": "pass",
    "import wasmtime": "import wasmtime",
    "sandlink: import + load + add": "import sandlink; k = sandlink.load(); k.add(1, 2)",
}


@dataclass(frozen=True)
class Settings:
    mode: str
    sizes: tuple[int, ...]  # mask sweep payloads
    repeats: int  # timing runs per contestant (fewer for slow ones, never under 3)
    run_time: float  # seconds one timing run lasts at least (its calls are calibrated)
    slow_budget: float  # seconds of timing runs for a contestant whose one call > run_time
    startup_runs: int  # fresh processes per P5 command
    in_place_sizes: tuple[int, ...]  # zero-copy (in-place) mask payloads
    thread_window: float  # P6: seconds each thread-scaling run masks for
    thread_repeats: int  # P6: runs with 1 thread and with 2, interleaved


FULL = Settings(
    "full",
    tuple(sorted({FRAME, *(16 * 4**i for i in range(11))})),
    21,
    0.015,
    1.5,
    21,
    (64 * KiB, 256 * KiB, 1 * MiB, 16 * MiB),
    0.5,
    7,
)
QUICK = Settings(
    "quick",
    (16, FRAME, 4 * KiB, 64 * KiB, 256 * KiB, 1 * MiB),
    3,
    0.002,
    0.1,
    3,
    (64 * KiB, 256 * KiB, 1 * MiB),
    0.1,
    3,
)


@dataclass
class Call:
    """One contestant's call: `func(*args)`; `normalize` maps its answer onto the reference's."""

    func: Callable[..., Any]
    args: tuple
    normalize: Callable[[Any], Any] | None = None
    in_place: bool = False  # masks its first argument in place (normalize reads it back)

    def answer(self) -> Any:
        result = self.func(*self.args)
        return result if self.normalize is None else self.normalize(result)


@dataclass
class Case:
    group: str  # "call", "json", "mask", "stream", "in place" or "masker"
    name: str
    calls: dict[str, Call]
    expected: Any  # the reference backend's answer
    size: int | None = None  # payload bytes
    setup: str = "pass"  # before each timing run, untimed
    check: Callable[[Call], Any] = Call.answer  # one call, as compared with `expected`


# -- the cases ---------------------------------------------------------------------------------

SINK: list[str] = []  # hello's print target: in memory, cleared before every timing run


def hello_check(call: Call) -> list[str]:
    SINK.clear()
    call.answer()
    return list(SINK)


WASI_CLI = ROOT / "target" / "wasi_cli.wasm"  # `just build-test-guests` builds it
WASI_SINK: list[bytes] = []  # the WASI guest's stdout: in memory, cleared before every run


def printed_check(call: Call) -> tuple[Any, bytes]:
    WASI_SINK.clear()
    return call.answer(), b"".join(WASI_SINK)


def wasi_cases() -> list[Case]:
    """A WASI 0.2 component (Rust std for wasm32-wasip2: tests/wasi_guests/wasi_cli) on the
    fast host, whose WASI is sandlink's, and on the oracle, whose WASI is wasmtime's: a
    plain export, and one that prints a line through wasi:cli/stdout (`println!`)."""
    wasi = sandlink.Wasi(stdout=WASI_SINK.append)
    hosts = {
        "wasm": sandlink.load_component(WASI_CLI, wasi=wasi),
        "wasm-pure": sandlink.load_component(WASI_CLI, wasi=wasi, compiled=False),
        "oracle": sandlink.load_component(WASI_CLI, wasi=wasi, backend="oracle"),
    }
    return [
        Case("wasi", "wasi add", {n: Call(k.add, (2, 3)) for n, k in hosts.items()}, 5),
        Case(
            "wasi",
            "wasi print a line",
            {n: Call(k.greet, ("world",)) for n, k in hosts.items()},
            ("hello, world", b"hello, world\n"),
            setup="wasi_sink.clear()",
            check=printed_check,
        ),
    ]


def payload(size: int) -> bytes:
    """Deterministic bytes that are neither zeros nor a short period."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def stream(mask: Callable[..., bytes], chunks: list[bytes], key: bytes) -> bytes:
    """A message masked chunk by chunk as it arrives, the offset advancing."""
    out = []
    offset = 0
    for chunk in chunks:
        out.append(mask(chunk, key, offset))
        offset += len(chunk)
    return b"".join(out)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def stream_check(odd_chunks: list[bytes]) -> Callable[[Call], Any]:
    """The timed 4 KiB chunking, and also chunks of an odd size, so offsets that are not a
    multiple of 4 (a rotated key) are checked too."""

    def check(call: Call) -> Any:
        mask, _, key = call.args
        return call.answer(), stream(mask, odd_chunks, key)

    return check


def in_place_check(data: bytes) -> Callable[[Call], Any]:
    """One call (the masked bytes, read back for an in-place contestant); an in-place one is
    called a second time, which must restore `data` (masking is an involution)."""

    def check(call: Call) -> tuple[bytes, bool]:
        first = call.answer()
        return first, (call.answer() == data) if call.in_place else True

    return check


def read_back(view: Any) -> Callable[[Any], bytes]:
    """An in-place contestant's answer: its buffer's bytes after the call."""
    return lambda _: bytes(view)


def stream_into(k: Any, buf: Any, chunks: list[bytes], key: bytes) -> bytes:
    """The zero-copy streaming loop over one `k.buffer(len(chunk))`. One iteration: copy the
    chunk into the buffer (`view[:] = chunk`: into guest memory on wasm), mask it in place
    (`masker.mask_into(buf)`: one guest call on wasm, the offset kept by the masker), and copy
    it out (`bytes(view)`). The view is fetched once per message, as a careful user would."""
    masker = k.masker(key)
    view = buf.view
    out = []
    for chunk in chunks:
        view[:] = chunk
        masker.mask_into(buf)
        out.append(bytes(view))
    return b"".join(out)


def stream_masker(k: Any, buf: None, chunks: list[bytes], key: bytes) -> bytes:
    """The copying streaming loop: `masker.mask(chunk)` returns new bytes per chunk."""
    masker = k.masker(key)
    out = []
    for chunk in chunks:
        out.append(masker.mask(chunk))
    return b"".join(out)


def stream_peer(mask: Callable[..., bytes], buf: None, chunks: list[bytes], key: bytes) -> bytes:
    """A peer's `mask(chunk, key, offset)` in the same streaming loop as the `stream` case."""
    return stream(mask, chunks, key)


def masker_check(odd_chunks: list[bytes]) -> Callable[[Call], Any]:
    """The timed 4 KiB chunking, and chunks of ODD_CHUNK bytes (a new buffer of that size for
    the in-place loops), so rotated keys are checked too."""

    def check(call: Call) -> Any:
        k, buf, _, key = call.args
        odd_buf = None if buf is None else k.buffer(len(odd_chunks[0]))
        try:
            return call.answer(), call.func(k, odd_buf, odd_chunks, key)
        finally:
            if odd_buf is not None:
                odd_buf.close()

    return check


def mask_sizes(contestant: str, sizes: tuple[int, ...]) -> set[int]:
    cap = MASK_CAPS.get(contestant, math.inf)
    return {s for s in sizes if s <= cap} | (EXTRA_SIZES.get(contestant, set()) & set(sizes))


def build_cases(settings: Settings, seed: seed_go.SeedGo | None = None) -> list[Case]:
    """Every case; `seed` (the Go c-shared library, when it is built) joins the backends in the
    per-call cases, the mask sweep and the stream."""
    kernels = {name: sandlink.load(name, print=SINK.append) for name in sandlink.BACKENDS}
    # The wasm backend again, on the pure-Python call path (the fallback without the
    # compiled extension), right after `wasm` in every table.
    pure = sandlink.load("wasm", print=SINK.append, compiled=False)
    kernels = {"wasm": kernels.pop("wasm"), "wasm-pure": pure, **kernels}
    reference = kernels["python"]
    with_seed = kernels | ({} if seed is None else {seed_go.NAME: seed})

    def backends(method: str, *args: Any) -> dict[str, Call]:
        return {name: Call(getattr(k, method), args) for name, k in with_seed.items()}

    cases = [
        Case(
            "call",
            "hello",
            backends("hello", "world"),
            ["Hello, world!"],
            setup="sink.clear()",
            check=hello_check,
        ),
        Case("call", "add", backends("add", 2, 3), 5),
        Case(
            "json",
            "parse_person",
            backends("parse_person", SEED)
            | {
                "json.loads": Call(json.loads, (SEED,), peers.person_from_dict),
                "json.loads+Person": Call(peers.json_person, (SEED,)),
                "orjson.loads": Call(orjson.loads, (SEED,), peers.person_from_dict),
                "orjson.loads+Person": Call(peers.orjson_person, (SEED,)),
            },
            reference.parse_person(SEED),
        ),
    ]
    for size in settings.sizes:
        data = payload(size)
        contestants = {name: k.ws_mask for name, k in with_seed.items()} | MASK_PEERS
        calls = {
            name: Call(mask, (data, KEY))
            for name, mask in contestants.items()
            if size in mask_sizes(name, settings.sizes)
        }
        cases.append(
            Case(
                "mask", f"mask {report.size_label(size)}", calls, reference.ws_mask(data, KEY), size
            )
        )
    message = payload(STREAM_SIZE)
    chunks, odd = chunked(message, CHUNK), chunked(message, CHUNK - 3)
    contestants = {n: k.ws_mask for n, k in with_seed.items() if n != "oracle"}
    contestants |= STREAM_PEERS
    cases.append(
        Case(
            "stream",
            f"stream {report.size_label(STREAM_SIZE)} in {report.size_label(CHUNK)} chunks",
            {name: Call(stream, (mask, chunks, KEY)) for name, mask in contestants.items()},
            (reference.ws_mask(message, KEY),) * 2,
            STREAM_SIZE,
            check=stream_check(odd),
        )
    )
    return cases + wasi_cases() + zero_copy_cases(kernels, settings)


def zero_copy_cases(kernels: dict[str, Any], settings: Settings) -> list[Case]:
    """In-place masks of buffers filled beforehand (wasm: in guest memory, one guest call, no
    copy), against websockets' `apply_mask` (new bytes: what its users call) and numpy in
    place; then the masker streaming a message into a 4 KiB buffer."""
    reference = kernels["python"]
    cases = []
    for size in settings.in_place_sizes:
        data = payload(size)
        calls = {}
        for name in ("wasm", "wasm-pure", "native", "websockets C", "numpy in place", "python"):
            if name == "websockets C":
                calls[name] = Call(peers.apply_mask, (data, KEY))
            elif name == "numpy in place":
                octets, words, key64 = peers.numpy_in_place(bytearray(data), KEY)
                calls[name] = Call(
                    np.bitwise_xor, (words, key64, words), read_back(octets), in_place=True
                )
            else:
                k = kernels[name]
                buf = k.buffer(size)
                buf.view[:] = data
                calls[name] = Call(k.ws_mask_into, (buf, KEY), read_back(buf.view), in_place=True)
        cases.append(
            Case(
                "in place",
                f"mask in place {report.size_label(size)}",
                calls,
                (reference.ws_mask(data, KEY), True),
                size,
                check=in_place_check(data),
            )
        )
    message, odd_message = payload(STREAM_SIZE), payload(ODD_CHUNK * 16)
    chunks, odd = chunked(message, CHUNK), chunked(odd_message, ODD_CHUNK)
    calls = {
        f"{name} mask_into": Call(
            stream_into, (kernels[name], kernels[name].buffer(CHUNK), chunks, KEY)
        )
        for name in ("wasm", "wasm-pure", "native")
    }
    calls |= {
        f"{name} mask": Call(stream_masker, (kernels[name], None, chunks, KEY))
        for name in ("wasm", "native", "python")
    }
    calls["websockets C"] = Call(stream_peer, (peers.websockets_c, None, chunks, KEY))
    cases.append(
        Case(
            "masker",
            f"masker: {report.size_label(STREAM_SIZE)} in {report.size_label(CHUNK)} chunks",
            calls,
            (reference.ws_mask(message, KEY), reference.ws_mask(odd_message, KEY)),
            STREAM_SIZE,
            check=masker_check(odd),
        )
    )
    return cases


# -- timing ------------------------------------------------------------------------------------


def timer(call: Call, setup: str) -> timeit.Timer:
    """A timeit loop calling `func(a0, a1, ...)` inline: no wrapper or unpacking is timed."""
    names = {f"a{i}": arg for i, arg in enumerate(call.args)}
    stmt = f"f({', '.join(names)})"
    return timeit.Timer(
        stmt, setup, globals={"f": call.func, "sink": SINK, "wasi_sink": WASI_SINK, **names}
    )


def calibrate(t: timeit.Timer, run_time: float) -> tuple[int, float]:
    """Calls per timing run so that one run lasts ≥ run_time; also the warm-up."""
    number = 1
    while True:
        elapsed = t.timeit(number)
        if elapsed >= run_time:
            return number, elapsed / number
        grow = math.ceil(number * 1.2 * run_time / max(elapsed, 1e-9))
        number = min(max(grow, 2 * number), 100 * number)


def summarize(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    q1, median, q3 = statistics.quantiles(s, n=4, method="inclusive") if len(s) > 1 else s * 3
    return {"median_s": median, "q1_s": q1, "q3_s": q3, "min_s": s[0], "max_s": s[-1]}


def mismatch(got: Any, expected: Any) -> str:
    """A short account of how a wrong answer differs from the reference's."""
    if isinstance(got, tuple) and isinstance(expected, tuple) and len(got) == len(expected):
        pairs = enumerate(zip(got, expected, strict=True))
        return "; ".join(f"[{i}] {mismatch(g, e)}" for i, (g, e) in pairs if g != e)
    if isinstance(got, bytes) and isinstance(expected, bytes):
        pairs = enumerate(zip(got, expected, strict=False))
        i = next((i for i, (g, e) in pairs if g != e), None)
        if i is None:
            return f"{len(got)} bytes, expected {len(expected)}"
        return f"byte {i} differs: {got[i : i + 8].hex()}... for {expected[i : i + 8].hex()}..."
    return f"got {reprlib.repr(got)}, expected {reprlib.repr(expected)}"


def measure(case: Case, settings: Settings, log: Callable[[str], None]) -> dict[str, dict]:
    """Check every contestant, then time the correct ones in interleaved rounds (so drift in
    the machine's state hits all of them alike). Times are seconds per call."""
    results: dict[str, dict] = {}
    plans: dict[str, tuple[timeit.Timer, int, int]] = {}
    for name, call in case.calls.items():
        try:
            got = case.check(call)
        except Exception as exc:
            results[name] = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            continue
        if got != case.expected:
            results[name] = {"status": "wrong", "error": mismatch(got, case.expected)}
            continue
        t = timer(call, case.setup)
        t.timeit(1)  # warm-up
        number, per_call = calibrate(t, settings.run_time)
        repeats = settings.repeats
        if number == 1:  # slower than one run: a fixed time budget, at least 3 runs
            repeats = max(3, min(repeats, int(settings.slow_budget / per_call)))
        plans[name] = (t, number, repeats)
    samples: dict[str, list[float]] = {name: [] for name in plans}
    for round_ in range(max((p[2] for p in plans.values()), default=0)):
        for name, (t, number, repeats) in plans.items():
            if round_ < repeats:
                samples[name].append(t.timeit(number) / number)
    SINK.clear()
    for name, (_, number, _) in plans.items():
        results[name] = {"status": "ok", "number": number, "samples_s": samples[name]}
        results[name] |= summarize(samples[name])
    for name in case.calls:
        r = results[name]
        if r["status"] == "ok":
            iqr = report.iqr_percent(r)
            log(
                f"  {case.name:<28} {name:<20} {report.fmt_time(r['median_s']):>10}  "
                f"IQR {iqr:4.1f}%  ({r['number']} calls x {len(r['samples_s'])})"
            )
        else:
            log(f"  {case.name:<28} {name:<20} {r['status'].upper()}: {r['error']}")
    return results


def measure_startup(settings: Settings, log: Callable[[str], None]) -> dict[str, dict]:
    """Wall time of fresh processes, interleaved; one discarded run of each warms the OS file
    cache and sandlink's compiled-artifact cache first."""

    # Warm also means bytecode: an installed package has its .pyc files, so let the discarded
    # first run write them even where the environment says not to.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - start

    for code in STARTUP.values():
        run(code)
    samples: dict[str, list[float]] = {name: [] for name in STARTUP}
    for _ in range(settings.startup_runs):
        for name, code in STARTUP.items():
            samples[name].append(run(code))
    results = {}
    for name, code in STARTUP.items():
        results[name] = {"command": f"python -c {code!r}", "samples_s": samples[name]}
        results[name] |= summarize(samples[name])
        r = results[name]
        log(
            f"  {'fresh process':<28} {name:<30} {report.fmt_time(r['median_s']):>10}  "
            f"IQR {report.iqr_percent(r):4.1f}%  (x {len(samples[name])})"
        )
    return results


def gil_share(k: Any, data: bytes, settings: Settings) -> float | None:
    """P6: the share of an in-place wasm mask call (one thread, a tight loop) that holds the
    GIL: 1 - (time inside the raw calls, GIL released) / wall time. The compiled extension
    times its raw calls while asked to; without it (SANDLINK_PURE=1) there is no figure."""
    from sandlink.host import _ffi

    accel = _ffi.accel
    if accel is None:
        return None
    buf = k.buffer(THREAD_SIZE)
    buf.view[:] = data
    mask, calls = k.ws_mask_into, max(1, int(settings.thread_window / 10e-6))
    shares = []
    for _ in range(settings.thread_repeats):
        accel.time_guest_calls(True)
        start = time.perf_counter()
        for _ in range(calls):
            mask(buf, KEY)
        wall = time.perf_counter() - start
        shares.append(1 - accel.time_guest_calls(False) / wall)
    buf.close()
    return statistics.median(shares)


def measure_threads(settings: Settings, log: Callable[[str], None]) -> dict[str, Any]:
    """P6: in-place wasm masking throughput with 1 and with 2 threads on ONE loaded object.

    Each thread makes its own `k.buffer(THREAD_SIZE)` (a buffer belongs to the thread that
    made it), fills it and checks one in-place mask, then waits on a barrier with the others
    and masks in place for `thread_window` seconds. Throughput: all bytes masked / (last stop -
    first start). Runs with 1 and 2 threads alternate; the medians are compared. Afterwards
    each thread checks its buffer again (masked iff it masked an odd number of times)."""
    k = sandlink.load()
    data = payload(THREAD_SIZE)
    masked = sandlink.load("python").ws_mask(data, KEY)
    window = settings.thread_window

    def once(threads: int) -> float:
        barrier = threading.Barrier(threads)
        spans: list[tuple[float, float, int]] = []
        errors: list[str] = []

        def worker() -> None:
            try:
                buf = k.buffer(THREAD_SIZE)
                buf.view[:] = data
                k.ws_mask_into(buf, KEY)
                if bytes(buf.view) != masked:
                    raise AssertionError(mismatch(bytes(buf.view), masked))
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                barrier.abort()
                return
            mask, n = k.ws_mask_into, 0
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                return
            start = time.perf_counter()
            end = start + window
            while time.perf_counter() < end:
                mask(buf, KEY)
                n += 1
            stop = time.perf_counter()
            if bytes(buf.view) != (data if n % 2 else masked):
                errors.append(f"a thread's buffer is wrong after {n} in-place masks")
            buf.close()
            spans.append((start, stop, n))

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        if errors or len(spans) != threads:
            raise AssertionError("; ".join(errors) or "a thread did not finish")
        elapsed = max(s[1] for s in spans) - min(s[0] for s in spans)
        return sum(s[2] for s in spans) * THREAD_SIZE / elapsed

    result: dict[str, Any] = {
        "size": THREAD_SIZE,
        "window_s": window,
        "cores": os.cpu_count(),
        "throughput_Bps": {"1": [], "2": []},
    }
    try:
        once(1)  # warm-up, and the correctness check in a thread
        for _ in range(settings.thread_repeats):
            for threads in (1, 2):
                result["throughput_Bps"][str(threads)].append(once(threads))
    except Exception as exc:
        result |= {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        log(f"  {'threads':<28} ERROR: {result['error']}")
        return result
    result["status"] = "ok"
    result["median_Bps"] = {n: statistics.median(v) for n, v in result["throughput_Bps"].items()}
    result["gil_share"] = gil_share(k, data, settings)
    for n, v in result["throughput_Bps"].items():
        label = f"wasm in place, {n} thread(s)"
        rate = report.fmt_rate(result["median_Bps"][n])
        log(f"  {label:<28} {rate:>12}  (median of {len(v)} x {window} s)")
    return result


# -- goals -------------------------------------------------------------------------------------


def goals(cases: list[dict], startup: dict[str, dict], threads: dict[str, Any]) -> list[dict]:
    """P1-P6 (issue: near-native calls) and W1-W2 (WASI) from this run's medians: each a
    ratio against its target, PASS or FAIL."""

    def median(case: str, contestant: str) -> float | None:
        for c in cases:
            if c["name"] == case:
                r = c["results"].get(contestant, {})
                return r.get("median_s")
        return None

    def mask(size: int) -> str:
        return f"mask {report.size_label(size)}"

    def in_place(size: int) -> str:
        return f"mask in place {report.size_label(size)}"

    masker = f"masker: {report.size_label(STREAM_SIZE)} in {report.size_label(CHUNK)} chunks"
    websockets = "websockets C"
    specs = [  # id, goal, (case, numerator), (case, denominator), op, target
        ("P1", "wasm `add` ≤ 0.3x native", ("add", "wasm"), ("add", "native"), "<=", 0.3),
        (
            "P1",
            "wasm-pure (no compiled path) `add` ≤ 1x native",
            ("add", "wasm-pure"),
            ("add", "native"),
            "<=",
            1.0,
        ),
        (
            "P2",
            "wasm parse_person (typed Person) ≤ 0.8x `json.loads` (dict)",
            ("parse_person", "wasm"),
            ("parse_person", "json.loads"),
            "<=",
            0.8,
        ),
        *(
            (
                "P3",
                f"wasm `ws_mask` {report.size_label(size)} ≤ {target}x websockets C",
                (mask(size), "wasm"),
                (mask(size), websockets),
                "<=",
                target,
            )
            for size, target in ((FRAME, 3), (4 * KiB, 2.5), (256 * KiB, 2.5))
        ),
        (
            "P3",
            f"{report.size_label(STREAM_SIZE)} in {report.size_label(CHUNK)} chunks through "
            "wasm `masker.mask_into` ≤ 1.5x websockets C",
            (masker, "wasm mask_into"),
            (masker, websockets),
            "<=",
            1.5,
        ),
        *(
            (
                "P4",
                f"zero-copy wasm mask in place {report.size_label(size)} (`k.ws_mask_into` on "
                "a `k.buffer`) ≤ 0.9x websockets C `apply_mask`",
                (in_place(size), "wasm"),
                (in_place(size), websockets),
                "<=",
                0.9,
            )
            for size in (256 * KiB, 1 * MiB)
        ),
    ]
    specs += [
        (
            "W1",
            "WASI component: wasm `add` ≥ 10x faster than through wasmtime.component (oracle)",
            ("wasi add", "wasm"),
            ("wasi add", "oracle"),
            "<=",
            0.1,
        ),
        (
            "W2",
            "WASI component: a line printed through wasi:cli/stdout ≤ 3x wasm `hello` (host.print)",
            ("wasi print a line", "wasm"),
            ("hello", "wasm"),
            "<=",
            3.0,
        ),
    ]
    rows = []
    for gid, text, (ncase, num), (dcase, den), op, target in specs:
        rows.append(
            goal_row(gid, text, num, median(ncase, num), den, median(dcase, den), op, target)
        )
    num, den = "sandlink: import + load + add", "import wasmtime"
    rows.append(
        goal_row(
            "P5",
            "fresh process: import sandlink + warm load + first call ≤ 1.2x `import wasmtime`",
            num,
            startup.get(num, {}).get("median_s"),
            den,
            startup.get(den, {}).get("median_s"),
            "<=",
            1.2,
        )
    )
    share = threads.get("gil_share")
    rows.append(
        goal_row(
            "P6",
            f"share of a wasm in-place mask call ({report.size_label(THREAD_SIZE)}) that holds "
            "the GIL ≤ 5%",
            "GIL held",
            share,
            "the whole call",
            None if share is None else 1.0,
            "<=",
            0.05,
            unit="share",
        )
    )
    return rows


def goal_row(gid, text, num, num_s, den, den_s, op, target, unit="s") -> dict:
    if num_s is None or den_s is None:
        return {"id": gid, "goal": text, "status": "MISSING", "ratio": None, "target": target}
    ratio = num_s / den_s
    ok = ratio <= target if op == "<=" else ratio >= target
    return {
        "id": gid,
        "goal": text,
        "status": "PASS" if ok else "FAIL",
        "ratio": ratio,
        "op": op,
        "target": target,
        "numerator": [num, num_s],
        "denominator": [den, den_s],
        "unit": unit,
    }


# -- the run -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def command(*argv: str) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT).stdout.strip()
        except OSError:
            return ""

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    packages = ("wasmtime", "numpy", "websockets", "orjson", "matplotlib")
    commit = command("git", "rev-parse", "--short", "HEAD")
    if commit and command("git", "status", "--porcelain"):
        commit += " (uncommitted changes)"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": {p: metadata.version(p) for p in packages},
        "rustc": command("rustc", "--version") or "unavailable",
        "commit": commit or "unknown",
        "component_sha256": hashlib.sha256(bundled(COMPONENT).read_bytes()).hexdigest(),
        "websockets_apply_mask_is_c": peers.websockets_is_c(),
    }


def problems(data: dict) -> list[str]:
    """Why a run is incomplete or incorrect (empty when it is neither)."""
    found = []
    for case in data["cases"]:
        for name in case["expected_contestants"]:
            r = case["results"].get(name)
            if r is None:
                found.append(f"{case['name']}: {name} missing")
            elif r["status"] != "ok":
                found.append(f"{case['name']}: {name} {r['status']}: {r['error']}")
            elif not r["samples_s"]:
                found.append(f"{case['name']}: {name} has no samples")
    for name in STARTUP:
        if not data["startup"].get(name, {}).get("samples_s"):
            found.append(f"startup: {name} has no samples")
    if data["threads"]["status"] != "ok":
        found.append(f"threads (P6): {data['threads']['error']}")
    seed = data["seed_go"]
    if seed["status"] == "error":
        found.append(f"{seed['name']}: {seed['reason']}")
    if not data["machine"]["websockets_apply_mask_is_c"]:
        found.append("websockets.speedups.apply_mask is not the C extension")
    found += [f"goal {g['id']} ({g['goal']}): missing" for g in data["goals"] if g["ratio"] is None]
    return found


def load_seed(log: Callable[[str], None]) -> tuple[dict[str, Any], seed_go.SeedGo | None]:
    """The seed contestant (Go c-shared, bench/seed_go) if it can run. Without Go on PATH it is
    skipped (not a failure: CI may have no Go); with Go but without an up-to-date library
    (`just build-seed-go`, which `just bench` runs) the run reports a problem."""
    found = seed_go.probe()
    seed = None
    if found["status"] == "ok":
        try:
            seed = seed_go.SeedGo(print=SINK.append)
        except OSError as exc:
            found |= {"status": "error", "reason": f"cannot load {found['library']}: {exc}"}
    if found["status"] == "ok":
        log(f"contestant `{seed_go.NAME}`: {found['library']}, {found['go']}")
    elif found["status"] == "skipped":
        log(f"SKIPPED: contestant `{seed_go.NAME}`: {found['reason']}")
    else:
        log(f"ERROR: contestant `{seed_go.NAME}`: {found['reason']}")
    return found, seed


def run(settings: Settings, out: Path) -> int:
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    data: dict[str, Any] = {
        "mode": settings.mode,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {k: v for k, v in vars(settings).items() if k != "mode"},
        "mask_caps": MASK_CAPS,
        "extra_sizes": {k: sorted(v) for k, v in EXTRA_SIZES.items()},
    }
    log(f"sandlink bench ({settings.mode}): {data['machine']['cpu']}, load {load_before:.2f}")
    data["seed_go"], seed = load_seed(log)
    log("fresh-process startup (P5)")
    data["startup"] = measure_startup(settings, log)
    cases = build_cases(settings, seed)
    data["cases"] = []
    for i, case in enumerate(cases, 1):
        load = os.getloadavg()[0]
        log(f"[{i}/{len(cases)}] {case.name} (load {load:.2f})")
        results = measure(case, settings, log)
        data["cases"].append(
            {
                "group": case.group,
                "name": case.name,
                "size": case.size,
                "load_average": load,
                "expected_contestants": list(case.calls),
                "results": results,
            }
        )
    log(f"threads (P6): wasm in place, {report.size_label(THREAD_SIZE)} per thread")
    data["threads"] = measure_threads(settings, log)
    data["goals"] = goals(data["cases"], data["startup"], data["threads"])
    data["load_average"] = [load_before, os.getloadavg()[0]]
    data["seconds"] = time.perf_counter() - started
    data["problems"] = problems(data)

    out.mkdir(parents=True, exist_ok=True)
    write(out / "latest.json", json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    write(out / "latest.md", report.markdown(data, level=1))
    report.plots(data, out)
    # The result on stdout (progress and problems go to stderr).
    print(f"\n{report.goals_table(data['goals'])}\n", flush=True)
    log(f"wrote {out}/latest.json, latest.md, {', '.join(report.PLOTS)} in {data['seconds']:.0f} s")
    if data["seed_go"]["status"] == "skipped":
        log(f"SKIPPED: contestant `{seed_go.NAME}`: {data['seed_go']['reason']}")
    for problem in data["problems"]:
        log(f"PROBLEM: {problem}")
    return 1 if data["problems"] else 0


def write(path: Path, text: str) -> None:
    """All or nothing: a reader never sees a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def update_readme(results: Path, readme: Path) -> int:
    data = json.loads((results / "latest.json").read_text(encoding="utf-8"))
    if data["mode"] != "full":
        print(f"{results}/latest.json is a {data['mode']} run; run the full bench", file=sys.stderr)
        return 1
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench -->\n", "<!-- /bench -->"
    if text.count(start) != 1 or text.count(end) != 1 or text.index(start) > text.index(end):
        print(f"{readme} needs one {start.strip()} ... {end.strip()} section", file=sys.stderr)
        return 1
    link = os.path.relpath(results, readme.parent)
    body = report.markdown(data, level=2, summary=True, link=link)
    head, rest = text.split(start)
    write(readme, head + start + body.rstrip("\n") + "\n" + end + rest.split(end, 1)[1])
    print(f"updated {readme} from {results}/latest.json ({data['date']})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "mode",
        nargs="?",
        choices=("run", "readme"),
        default="run",
        help="run the benchmark (default), or paste the latest results into README",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="under a minute; results go to a temporary directory unless --out",
    )
    parser.add_argument("--out", type=Path, help=f"results directory (default {RESULTS})")
    args = parser.parse_args(argv)
    if args.mode == "readme":
        return update_readme(args.out or RESULTS, README)
    if args.quick:
        out = args.out or Path(tempfile.gettempdir()) / "sandlink-bench-quick"
        return run(QUICK, out)
    return run(FULL, args.out or RESULTS)


if __name__ == "__main__":
    sys.exit(main())
