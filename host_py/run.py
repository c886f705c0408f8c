"""The sandlink demo: every backend, each function's result, and a short timing table.

    python host_py/run.py          (after `just build`; `just run` does both)

The timings are a few seconds' worth; `just bench` is the real benchmark.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sandlink

SEED = (Path(__file__).parent / "tests" / "data" / "seed_person.json").read_text(encoding="utf-8")
KEY = b"\x37\xfa\x21\x3d"
PAYLOAD_64K = bytes(range(256)) * 256


def per_call_us(fn, budget: float = 0.15) -> float:
    """Median of 5 runs of a loop sized to take about `budget` seconds, in microseconds."""
    number = max(1, int(budget / max(timeit.timeit(fn, number=1), 1e-7)))
    runs = sorted(timeit.repeat(fn, number=number, repeat=5))
    return runs[2] / number * 1e6


def main() -> None:
    lines: list[str] = []
    kernels = {name: sandlink.load(name, print=lines.append) for name in sandlink.BACKENDS}

    print("Results (every backend must agree):")
    results = {}
    for name, k in kernels.items():
        lines.clear()
        k.hello("world")
        person = k.parse_person(SEED)
        try:
            k.parse_person('{"name": "Elliot", "age": -1}')
        except sandlink.JsonError as exc:
            error = exc
        results[name] = (
            lines[0],
            k.add(2, 3),
            person,
            k.ws_mask(b"Hello", KEY).hex(),
            (error.message, error.line, error.column),
        )
    width = max(map(len, kernels))
    for name, (greeting, total, person, masked, error) in results.items():
        print(
            f"  {name:<{width}}  hello -> {greeting!r}  add(2, 3) -> {total}  "
            f"ws_mask(b'Hello') -> {masked}"
        )
        print(f"  {'':<{width}}  parse_person -> {person}")
        print(f"  {'':<{width}}  bad age -> JsonError{error}")
    agreed = len({repr(r) for r in results.values()}) == 1
    print(f"\nAll {len(results)} backends agree: {'yes' if agreed else 'NO'}")

    sink: list[str] = []
    timed = {name: sandlink.load(name, print=sink.append) for name in sandlink.BACKENDS}
    cases = {
        "hello": lambda k: k.hello("world"),
        "add": lambda k: k.add(2, 3),
        "parse_person": lambda k: k.parse_person(SEED),
        "ws_mask 64 KiB": lambda k: k.ws_mask(PAYLOAD_64K, KEY),
    }
    print("\nMicroseconds per call (median of 5; `just bench` for the full report):")
    header = f"  {'case':<16}" + "".join(f"{name:>12}" for name in timed)
    print(header)
    for case, call in cases.items():
        row = f"  {case:<16}"
        for k in timed.values():
            row += f"{per_call_us(lambda k=k, call=call: call(k)):>12.2f}"
            sink.clear()
        print(row)
    if not agreed:
        sys.exit(1)


if __name__ == "__main__":
    main()
