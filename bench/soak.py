"""Soak: 1,000,000 calls on one loaded object, reporting RSS growth (`just soak`).

Mostly `add` (the per-call path), with `ws_mask`, `parse_person` (valid and invalid) and
`hello` mixed in, so a leak in any of those paths shows up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sandlink

SEED = (Path(__file__).parents[1] / "host_py/tests/data/seed_person.json").read_text("utf-8")


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / (1 << 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--backend", default="wasm", choices=sandlink.BACKENDS)
    args = parser.parse_args()

    k = sandlink.load(args.backend, print=lambda line: None)
    payload = bytes(range(256)) * 64  # 16 KiB
    for _ in range(1000):  # warm up: first instance, caches, allocator high-water marks
        k.add(1, 2), k.ws_mask(payload, 7), k.parse_person(SEED), k.hello("x")
    start_rss, started = rss_mib(), time.monotonic()
    for i in range(args.calls):
        if k.add(i & 0xFFFF, 1) != (i & 0xFFFF) + 1:
            sys.exit(f"wrong answer at call {i}")
        if i % 100 == 0:
            k.ws_mask(payload, i)
            k.parse_person(SEED)
            k.hello("soak")
        if i % 1000 == 0:
            try:
                k.parse_person('{"name": 1}')
            except sandlink.JsonError:
                pass
    elapsed = time.monotonic() - started
    end_rss = rss_mib()
    print(
        f"{args.calls:,} calls on {args.backend} in {elapsed:.1f} s: "
        f"RSS {start_rss:.1f} -> {end_rss:.1f} MiB ({end_rss - start_rss:+.1f} MiB)"
    )


if __name__ == "__main__":
    main()
