"""The benchmark's report, made from the results dict alone (as saved in latest.json):
Markdown tables for latest.md and the README, and the PNG plots."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

PLOTS = ("mask_sweep.png", "per_call.png")
BACKENDS = ("wasm", "wasm-pure", "oracle", "native", "python")
SEED = "seed: Go c-shared"  # the seed benchmark's system (bench/seed_go), when Go is there
#: One colour per contestant in every plot; the sandboxed backend is the heavy line.
COLOURS = {
    "wasm": "#1f4e9c",
    "wasm-pure": "#6baed6",
    "oracle": "#7f7f7f",
    "native": "#2ca02c",
    "python": "#bcbd22",
    "bytearray loop": "#d62728",
    "int.from_bytes": "#ff7f0e",
    "bytes.translate": "#e377c2",
    "numpy": "#17becf",
    "numpy in place": "#17becf",
    "websockets C": "#9467bd",
    "json.loads": "#8c564b",
    "json.loads+Person": "#c49c94",
    "orjson.loads": "#17becf",
    "orjson.loads+Person": "#9edae5",
    SEED: "#222222",
}
DESCRIPTIONS = {
    "wasm": "the component through sandlink's fast host (`sandlink.load('wasm')`): sandboxed; "
    "calls made by the compiled extension (`sandlink.host._accel`)",
    "wasm-pure": "the same, on the pure-Python call path (`sandlink.load(compiled=False)`, what "
    "runs without the extension)",
    "oracle": "the same component through `wasmtime.component` (`sandlink.load('oracle')`)",
    "native": "the same Rust as a cdylib through ctypes (`sandlink.load('native')`): no sandbox",
    "python": "sandlink's pure-Python reference backend (`sandlink.load('python')`)",
    SEED: "the system of the benchmark that started sandlink: Go (`encoding/json`, a plain byte "
    "loop for the mask) built with `go build -buildmode=c-shared` and called through ctypes, "
    "hello printing through a C callback (bench/seed_go); only when Go is installed",
    "bytearray loop": "`out[i] ^= key[i & 3]` over a bytearray: the loop everyone writes first",
    "int.from_bytes": "one XOR of two big ints (`int.from_bytes`): the classic pure-Python trick",
    "bytes.translate": "4 strided slices through XOR tables (aiohttp's pure-Python fallback)",
    "numpy": "`np.bitwise_xor` of `np.frombuffer(payload)` and the key tiled to its length",
    "websockets C": "`websockets.speedups.apply_mask`, websockets' C extension (new bytes)",
    "numpy in place": "`np.bitwise_xor(words, key64, out=words)`: the payload viewed as uint64, "
    "XORed in place with one uint64 holding the key twice (the fastest correct numpy way found: "
    "the uint32 view is as fast, the uint8 array against the tiled key ~20% slower)",
    "wasm / native / python, in place": "`k.ws_mask_into(buf, key)` on `buf = k.buffer(n)` filled "
    "beforehand: on wasm the bytes live in guest memory and the mask is one guest call, no copy",
    "wasm / native mask_into (stream)": "`m = k.masker(key)`, then per 4 KiB chunk "
    "`view[:] = chunk` (into a 4 KiB `k.buffer`, guest memory on wasm), `m.mask_into(buf)`, "
    "`bytes(view)`",
    "wasm / native / python mask (stream)": "`m = k.masker(key)`, then `m.mask(chunk)` per "
    "chunk (new bytes)",
    "json.loads": "`json.loads` alone: a dict, untyped",
    "json.loads+Person": "`json.loads`, then the same `Person`/`Friend`: the typed baseline",
    "orjson.loads": "`orjson.loads` alone: a dict, untyped",
    "orjson.loads+Person": "`orjson.loads`, then the same `Person`/`Friend` dataclasses",
}

#: The plots' footnote on the backends, for readers who see only the plots.
WHO = (
    "wasm: the sandboxed component through sandlink's fast host · native: the same Rust as a "
    "cdylib via ctypes, no sandbox · oracle: the same component via wasmtime.component · "
    "python: sandlink's pure-Python reference · seed: Go c-shared: the seed benchmark's Go "
    "library via ctypes."
)

#: The seed benchmark's cases (Go c-shared from Python through ctypes; its own figures were
#: taken on another machine): case, the Python builtin it was compared with here, what that is,
#: and the published (Go, Python) figures.
SEED_CASES = (
    ("hello", "python", "`python`: the f-string printed into the list", ("2.5 µs", "1.4 µs")),
    ("add", "python", "`python`: int `+` (and its checks)", ("-", "-")),
    ("parse_person", "json.loads", "`json.loads` (a dict)", ("8.7 µs", "1.9 µs")),
    ("mask 64 KiB", "python", "`python`: the pure-Python reference", ("163 µs", "quadratic")),
    ("mask 256 KiB", "python", "`python`: the pure-Python reference", ("755 µs", "quadratic")),
)
#: The seed's published ratios, Go ÷ Python, for its small calls.
SEED_PUBLISHED_RATIO = {"hello": 2.5 / 1.4, "parse_person": 8.7 / 1.9}


# -- numbers -----------------------------------------------------------------------------------


def sig3(value: float) -> str:
    """Three significant digits, keeping trailing zeros (2.00, 75.8, 487, 12,345)."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{max(0, 2 - math.floor(math.log10(value)))}f}" if value > 0 else "0"


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            return f"{sig3(seconds / scale)} {unit}"
    raise AssertionError


def fmt_rate(bytes_per_s: float) -> str:
    return f"{sig3(bytes_per_s / (1 << 30))} GiB/s"


def size_label(size: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def iqr_percent(result: dict) -> float:
    return 100 * (result["q3_s"] - result["q1_s"]) / result["median_s"]


def ratio(value: float) -> str:
    return f"{sig3(value)}x"


def ok(case: dict) -> dict[str, dict]:
    """The contestants of a case that have timings."""
    return {n: r for n, r in case["results"].items() if r["status"] == "ok"}


def cell(result: dict | None) -> str:
    if result is None:
        return "-"
    if result["status"] != "ok":
        return result["status"].upper()
    return f"{fmt_time(result['median_s'])} ({iqr_percent(result):.0f}%)"


# -- Markdown ----------------------------------------------------------------------------------


def goals_table(goals: list[dict]) -> str:
    lines = ["| goal | target | measured | result |", "|---|---|---|---|"]
    for g in goals:
        if g["ratio"] is None:
            lines.append(f"| {g['id']} | {g['goal']} | - | MISSING |")
            continue
        (num, num_s), (den, den_s) = g["numerator"], g["denominator"]
        unit = g.get("unit")
        if unit == "share":
            measured = f"{100 * g['ratio']:.1f}% ({num} / {den})"
            target = f"{g['op'].replace('<=', '≤').replace('>=', '≥')} {100 * g['target']:g}%"
            lines.append(f"| {g['id']} | {g['goal']} | {target} | {measured} | **{g['status']}** |")
            continue
        fmt = fmt_rate if unit == "B/s" else fmt_time
        measured = f"{ratio(g['ratio'])} ({num} {fmt(num_s)} / {den} {fmt(den_s)})"
        target = f"{g['op'].replace('<=', '≤').replace('>=', '≥')} {g['target']}x"
        status = f"**{g['status']}**"
        lines.append(f"| {g['id']} | {g['goal']} | {target} | {measured} | {status} |")
    lines[0] = "| | goal | target | measured (ratio of medians) | result |"
    lines[1] = "|---|---|---|---|---|"
    return "\n".join(lines)


def when(data: dict) -> str:
    return data["date"][:16].replace("T", " ") + " UTC"


def machine_line(data: dict) -> str:
    m = data["machine"]
    p = m["packages"]
    load = " → ".join(f"{x:.2f}" for x in data["load_average"])
    go = seed_status(data).get("go")
    return (
        f"{m['cpu']}, {m['cores']} cores, {m['os']} · {m['python']} · wasmtime-py "
        f"{p['wasmtime']} · {m['rustc']} · {f'{go} · ' if go else ''}numpy {p['numpy']} · "
        f"websockets {p['websockets']} · orjson {p['orjson']} · {when(data)} · load average "
        f"{load} · {data['mode']} run, {data['seconds']:.0f} s · commit {m['commit']}"
    )


def seed_status(data: dict) -> dict:
    """How the seed contestant fared in this run (results from before it existed: not run)."""
    return data.get("seed_go") or {
        "status": "skipped",
        "reason": "not measured (these results predate the seed contestant)",
    }


def seed_table(data: dict) -> list[str]:
    """The seed benchmark's cases side by side: the Python builtin it compared against, the
    seed (Go c-shared), sandlink's Rust cdylib and wasm, each with its time ÷ the seed's."""
    by_name = {c["name"]: c for c in data["cases"]}
    lines = [
        "| case | Python builtin | its time | ÷ seed | seed: Go c-shared | Rust cdylib (`native`) "
        "| ÷ seed | sandlink `wasm` | ÷ seed | published: seed Go / Python |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, python, what, (pub_go, pub_py) in SEED_CASES:
        results = by_name.get(name, {}).get("results", {})
        seed = results.get(SEED)
        cells = [f"`{name}`", what]
        for who in (python, SEED, "native", "wasm"):
            r = results.get(who)
            cells.append(cell(r))
            if who != SEED:
                both = r and seed and r["status"] == seed["status"] == "ok"
                cells.append(ratio(r["median_s"] / seed["median_s"]) if both else "")
        cells.append(f"{pub_go} / {pub_py}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def seed_summary(data: dict) -> str:
    """The seed's own conclusion (small calls 2-4x slower than Python builtins), as measured
    here: seed ÷ Python builtin for hello, add and parse_person; or why the seed did not run."""
    status = seed_status(data)
    if status["status"] != "ok":
        return f"The seed contestant did not run: {status['reason']}."
    by_name = {c["name"]: c for c in data["cases"]}
    parts = []
    for name, python, _, _ in SEED_CASES[:3]:
        results = by_name.get(name, {}).get("results", {})
        seed, base = results.get(SEED), results.get(python)
        if not (seed and base and seed["status"] == base["status"] == "ok"):
            parts.append(f"`{name}` -")
            continue
        published = SEED_PUBLISHED_RATIO.get(name)
        was = f" (published: {ratio(published)})" if published else ""
        parts.append(f"`{name}` {ratio(seed['median_s'] / base['median_s'])}{was}")
    return (
        f"Seed ÷ Python builtin on the small calls, the seed's own yardstick: {', '.join(parts)}. "
        f"Go here: {status.get('go')}."
    )


def per_call_table(cases: list[dict]) -> list[str]:
    names = [c for c in cases if c["group"] in ("call", "json")]
    contestants = list(dict.fromkeys(n for c in names for n in c["expected_contestants"]))
    lines = [
        "| contestant | " + " | ".join(f"`{c['name']}`" for c in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for who in contestants:
        cells = [cell(c["results"].get(who)) for c in names]
        lines.append(f"| {who} | " + " | ".join(cells) + " |")
    return lines


def wasi_table(cases: list[dict]) -> list[str]:
    return relative_table([c for c in cases if c["group"] == "wasi"], "wasm")


def mask_table(cases: list[dict]) -> list[str]:
    """The 64 KiB and 256 KiB masks and the stream: median (spread) and time relative to wasm."""
    chosen = [c for c in cases if c["group"] == "mask" and c["size"] in (64 << 10, 256 << 10)]
    chosen += [c for c in cases if c["group"] == "stream"]
    return relative_table(chosen, "wasm")


def in_place_table(cases: list[dict]) -> list[str]:
    return relative_table([c for c in cases if c["group"] == "in place"], "wasm")


def masker_table(cases: list[dict]) -> list[str]:
    return relative_table([c for c in cases if c["group"] == "masker"], "wasm mask_into")


def threads_table(threads: dict) -> list[str]:
    if threads.get("status") != "ok":
        return [f"Thread scaling failed: {threads.get('error')}"]
    lines = ["| threads | median throughput | runs |", "|---|---:|---:|"]
    for n, samples in threads["throughput_Bps"].items():
        lines.append(f"| {n} | {fmt_rate(threads['median_Bps'][n])} | {len(samples)} |")
    share = threads.get("gil_share")
    if share is not None:
        lines += ["", f"One thread's in-place call holds the GIL {100 * share:.1f}% of its time."]
    return lines


def relative_table(chosen: list[dict], base: str) -> list[str]:
    """Median (spread) of each contestant of each case, and its time relative to `base`'s."""
    contestants = list(dict.fromkeys(n for c in chosen for n in c["expected_contestants"]))
    lines = [
        "| contestant | " + " | ".join(f"{c['name']} | ÷ {base}" for c in chosen) + " |",
        "|---|" + "---:|---:|" * len(chosen),
    ]
    for who in contestants:
        cells = []
        for c in chosen:
            r, wasm = c["results"].get(who), c["results"].get(base)
            both = r and wasm and r["status"] == wasm["status"] == "ok"
            cells += [cell(r), ratio(r["median_s"] / wasm["median_s"]) if both else ""]
        lines.append(f"| {who} | " + " | ".join(cells) + " |")
    return lines


def sweep_table(cases: list[dict]) -> list[str]:
    sweep = [c for c in cases if c["group"] == "mask"]
    contestants = list(dict.fromkeys(n for c in sweep for n in c["expected_contestants"]))
    lines = ["| payload | " + " | ".join(contestants) + " |", "|---:|" + "---:|" * len(contestants)]
    for c in sweep:
        cells = []
        for who in contestants:
            r = c["results"].get(who)
            cells.append(fmt_time(r["median_s"]) if r and r["status"] == "ok" else cell(r))
        lines.append(f"| {size_label(c['size'])} | " + " | ".join(cells) + " |")
    return lines


def startup_table(startup: dict[str, dict]) -> list[str]:
    lines = ["| fresh process | median wall time | IQR | runs |", "|---|---:|---:|---:|"]
    for r in startup.values():
        lines.append(
            f"| `{r['command']}` | {fmt_time(r['median_s'])} | {iqr_percent(r):.0f}% "
            f"| {len(r['samples_s'])} |"
        )
    return lines


def markdown(data: dict, level: int, summary: bool = False, link: str = ".") -> str:
    """The report; `summary` (for the README) leaves out the sweep table and the glossary and
    links to the full one. Headings start at `level`."""
    h = "#" * level
    cases = data["cases"]
    s = data["settings"]
    out = []
    if not summary:
        out += [f"{h} sandlink benchmark", ""]
    out += [
        machine_line(data),
        "",
        f"Times are the median of {s['repeats']} timing runs (fewer for contestants slower than "
        f"{fmt_time(s['run_time'])} a call), each a loop calibrated to last ≥ "
        f"{fmt_time(s['run_time'])}; the figure in parentheses is the spread, the interquartile "
        "range as % of the median. Every answer was checked against the Python reference before "
        "timing. Ratios are of medians from this one process.",
        "",
        f"{h}# Goals",
        "",
        goals_table(data["goals"]),
        "",
        f"{h}# The seed benchmark",
        "",
        "sandlink began with a benchmark of Go functions built with `go build "
        "-buildmode=c-shared` and called from Python through ctypes; it found small calls "
        "through the FFI 2-4x slower than Python builtins. Here is that system (bench/seed_go: "
        "`encoding/json`, a plain byte loop, hello printing through a C callback into the same "
        "list) on its own cases, next to the Python builtin it was compared with, sandlink's "
        "Rust cdylib and the sandboxed wasm. ÷ seed: the contestant's time over the seed's "
        "(below 1: faster than the seed). The published figures were taken on another machine; "
        "its pure-Python mask was a quadratic loop.",
        "",
        *seed_table(data),
        "",
        seed_summary(data),
        "",
        f"{h}# Per-call cost",
        "",
        "`hello` prints through the host import into an in-memory list; `parse_person` reads "
        "the 164-byte seed document (host_py/tests/data/seed_person.json).",
        "",
        *per_call_table(cases),
        "",
        f"{h}# WASI components",
        "",
        "A component built by rustc for wasm32-wasip2 (host_py/tests/wasi_guests/wasi_cli), "
        "loaded with `wasi=sandlink.Wasi(stdout=...)`: on `wasm` its WASI imports are "
        "sandlink's, on `oracle` wasmtime's own (`add_wasip2`). `wasi print a line` is "
        "`println!` (check-write, write, blocking-flush through wasi:io/streams) into an "
        "in-memory list. ÷ wasm: the contestant's time over wasm's.",
        "",
        *wasi_table(cases),
        "",
        f"{h}# Masking (RFC 6455)",
        "",
        "÷ wasm: the contestant's time over wasm's (below 1: faster than wasm). The stream masks "
        "a 1 MiB message as 256 chunks of 4 KiB, each at its offset.",
        "",
        *mask_table(cases),
        "",
        f"{h}# Zero-copy masking",
        "",
        "In place: `k.ws_mask_into(buf, key)` on a `buf = k.buffer(n)` filled beforehand (on "
        "`wasm` the bytes live in guest memory: one guest call, no copy); numpy in place on a "
        "uint64 view; websockets' C `apply_mask` returns new bytes, as its users call it. "
        "Each in-place answer was checked, and a second call checked to restore the payload.",
        "",
        *in_place_table(cases),
        "",
        "Streaming with `m = k.masker(key)`: a 1 MiB message in 4 KiB chunks. `mask_into`: per "
        "chunk, `view[:] = chunk` (copy into a 4 KiB `k.buffer`, guest memory on `wasm`), "
        "`m.mask_into(buf)` (one guest call on `wasm`), `bytes(view)` (copy out). `mask`: "
        "`m.mask(chunk)`, new bytes. Checked against the whole-message mask, also in 4093-byte "
        "chunks.",
        "",
        *masker_table(cases),
        "",
        "P6, thread scaling: ONE `sandlink.load()` shared; each thread makes its own "
        f"{size_label(data['threads']['size'])} `k.buffer` and masks it in place for "
        f"{data['threads']['window_s']} s after a common barrier; throughput = all bytes "
        f"masked / wall time; {data['threads']['cores']} cores.",
        "",
        *threads_table(data["threads"]),
        "",
        f"{h}# Startup",
        "",
        "P5 compares whole fresh processes: the sandlink one loads the component from the "
        "compiled-artifact cache (warmed by a discarded first run); `python -c pass` is the "
        "interpreter's floor.",
        "",
        *startup_table(data["startup"]),
        "",
    ]
    caps = ", ".join(f"{n} ≤ {size_label(v)}" for n, v in data["mask_caps"].items())
    note = (
        f"Slow contestants are capped in the mask sweep ({caps}); `oracle` converts "
        "`list<u8>` one byte at a time, so it gets a single 64 KiB sample with few repeats and "
        "sits out the 256 KiB and streaming cases."
    )
    if summary:
        out += [
            note,
            "",
            f"Full tables, the size sweep and the glossary: [{link}/latest.md]({link}/latest.md).",
            "",
            f"![mask time vs payload size]({link}/mask_sweep.png)",
            "",
            f"![per-call overhead]({link}/per_call.png)",
        ]
        return "\n".join(out) + "\n"
    out += [
        f"{h}# Mask size sweep",
        "",
        note,
        "",
        *sweep_table(cases),
        "",
        "![mask time vs payload size](mask_sweep.png)",
        "",
        "![per-call overhead](per_call.png)",
        "",
        f"{h}# Contestants",
        "",
        *(f"- **{n}**: {d}" for n, d in DESCRIPTIONS.items()),
        "",
    ]
    if data["problems"]:
        out += [f"{h}# Problems", "", *(f"- {p}" for p in data["problems"]), ""]
    return "\n".join(out)


# -- plots -------------------------------------------------------------------------------------


def crossovers(sizes: list[int], wasm: list[float], peer: list[float]) -> list[tuple[float, bool]]:
    """Where the peer's time curve crosses wasm's: (payload size, wasm is faster beyond it),
    interpolated linearly in log-log between neighbouring measured sizes."""
    found = []
    logs = [math.log(p / w) for p, w in zip(peer, wasm, strict=True)]  # > 0: wasm faster
    for i in range(1, len(sizes)):
        a, b = logs[i - 1], logs[i]
        if (a > 0) != (b > 0):
            t = a / (a - b)
            x = math.exp(math.log(sizes[i - 1]) + t * (math.log(sizes[i]) - math.log(sizes[i - 1])))
            found.append((x, b > 0))
    return found


def interpolate(sizes: list[int], times: list[float], x: float) -> float:
    """The time at size x on the log-log line through the measured points around it."""
    for i in range(1, len(sizes)):
        if sizes[i - 1] <= x <= sizes[i]:
            t = math.log(x / sizes[i - 1]) / math.log(sizes[i] / sizes[i - 1])
            return math.exp(math.log(times[i - 1]) + t * math.log(times[i] / times[i - 1]))
    raise ValueError(x)


def approx_size(x: float) -> str:
    """A crossover size, rounded to 2 significant figures in B, KiB or MiB."""
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)):
        if x >= scale:
            return f"{float(f'{x / scale:.2g}'):g} {unit}"
    return f"{x:.0f} B"


def series(cases: list[dict], who: str) -> tuple[list[int], list[float]]:
    points = [(c["size"], ok(c)[who]["median_s"]) for c in cases if who in ok(c)]
    return [p[0] for p in points], [p[1] for p in points]


def plots(data: dict, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "figure.dpi": 100})
    title = f"{data['machine']['cpu']}, {data['machine']['cores']} cores · {data['date'][:10]}"
    sweep = [c for c in data["cases"] if c["group"] == "mask"]
    repeats = data["settings"]["repeats"]
    in_place = [c for c in data["cases"] if c["group"] == "in place"]
    sweep_plot(plt, sweep, title, data["mask_caps"], repeats, out / PLOTS[0], in_place)
    per_call_plot(plt, data["cases"], title, out / PLOTS[1])


def size_ticks(ax: Any, sizes: list[int]) -> None:
    ax.set_xscale("log")
    ax.set_xticks(sizes)
    ax.set_xticklabels([size_label(s).replace(" ", "\u2009") for s in sizes], rotation=45)
    ax.minorticks_off()
    ax.set_xlabel("payload size")


def sweep_plot(
    plt: Any,
    cases: list[dict],
    subtitle: str,
    caps_: dict[str, int],
    repeats: int,
    path: Path,
    in_place: list[dict] = (),
) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.6))
    contestants = list(dict.fromkeys(n for c in cases for n in c["expected_contestants"]))
    all_sizes = [c["size"] for c in cases]
    wasm_sizes, wasm_t = series(cases, "wasm")
    wasm_at = dict(zip(wasm_sizes, wasm_t, strict=True))
    notes = []
    for who in contestants:
        sizes, times = series(cases, who)
        style = {"color": COLOURS.get(who), "marker": "o", "markersize": 3.5, "label": who}
        if who == "wasm":
            style |= {"linewidth": 3, "zorder": 5}
        left.plot(sizes, [t * 1e6 for t in times], **style)
        if who == "wasm":
            continue
        common = [s for s in sizes if s in wasm_at]
        wasm_common = [wasm_at[s] for s in common]
        rel = [times[sizes.index(s)] / wasm_at[s] for s in common]
        right.plot(common, rel, **style)
        for x, wasm_wins in crossovers(
            common, wasm_common, [r * w for r, w in zip(rel, wasm_common, strict=True)]
        ):
            mark = {
                "marker": "X",
                "markersize": 9,
                "color": COLOURS.get(who),
                "zorder": 6,
                "markeredgecolor": "black",
                "linestyle": "none",
            }
            right.plot([x], [1], **mark)
            left.plot([x], [interpolate(common, wasm_common, x) * 1e6], **mark)
            verb = "wasm overtakes" if wasm_wins else "wasm is overtaken by"
            notes.append(f"{verb} {who} at ~{approx_size(x)}")
    for who in ("wasm", "native"):  # the zero-copy points: dashed, on the time panel only
        sizes, times = series(in_place, who)
        if sizes:
            style = {"color": COLOURS[who], "marker": "s", "markersize": 3.5, "linestyle": "--"}
            left.plot(sizes, [t * 1e6 for t in times], label=f"{who} in place", **style)
    baseline = right.axhline(1, color=COLOURS["wasm"], linewidth=3, zorder=4)
    right.legend([baseline], ["wasm (= 1)"], loc="upper left", fontsize=8)
    left.set_yscale("log")
    left.set_ylabel("time per call (µs, log scale)")
    left.set_title("Masking time vs payload size (lower is faster)")
    left.grid(True, which="major", alpha=0.3)
    size_ticks(left, all_sizes)
    left.legend(loc="upper left", fontsize=8)
    right.set_yscale("log")
    right.set_ylabel("contestant time ÷ wasm time (log scale)")
    right.set_title("Relative to wasm: above the line, wasm is faster")
    right.grid(True, which="major", alpha=0.3)
    size_ticks(right, all_sizes)
    caps = ", ".join(f"{n} ≤ {size_label(v)}" for n, v in caps_.items())
    footer = [
        WHO,
        "X marks a crossover (interpolated between measured sizes): "
        + ("; ".join(notes) if notes else "none")
        + ".",
        f"Each point: median of up to {repeats} timed runs. Capped for time: {caps} "
        "(oracle converts list<u8> a byte at a time; it also has one 64 KiB sample).",
    ]
    text = "\n".join(textwrap.fill(line, 190) for line in footer)
    fig.text(0.01, 0.01, text, fontsize=8, va="bottom", ha="left")
    fig.suptitle(f"sandlink ws_mask: the sandbox vs the alternatives  ({subtitle})")
    fig.tight_layout(rect=(0, 0.04 + 0.022 * text.count("\n"), 1, 1))
    fig.savefig(path, pil_kwargs={"optimize": True})
    plt.close(fig)


def per_call_plot(plt: Any, cases: list[dict], subtitle: str, path: Path) -> None:
    """One panel per call case: horizontal bars (median, IQR whiskers) on a log axis."""
    chosen = [c for c in cases if c["group"] in ("call", "json")]
    heights = [len(c["expected_contestants"]) for c in chosen]
    fig, axes = plt.subplots(
        len(chosen),
        1,
        figsize=(8, 1.1 + 0.32 * sum(heights)),
        sharex=True,
        gridspec_kw={"height_ratios": heights},
    )
    for ax, case in zip(axes, chosen, strict=True):
        names = [n for n in case["expected_contestants"] if n in ok(case)][::-1]
        results = [ok(case)[n] for n in names]
        med = [r["median_s"] * 1e6 for r in results]
        err = [
            [(r["median_s"] - r["q1_s"]) * 1e6 for r in results],
            [(r["q3_s"] - r["median_s"]) * 1e6 for r in results],
        ]
        ax.barh(names, med, xerr=err, color=[COLOURS.get(n) for n in names], capsize=2)
        for y, (value, r) in enumerate(zip(med, results, strict=True)):
            ax.text(r["q3_s"] * 1.15e6, y, fmt_time(value * 1e-6), va="center", fontsize=8)
        ax.set_title(f"{case['name']}", loc="left", fontweight="bold")
        ax.set_xscale("log")
        ax.grid(True, axis="x", which="major", alpha=0.3)
    lo = min(r["median_s"] for c in chosen for r in ok(c).values()) * 1e6
    hi = max(r["median_s"] for c in chosen for r in ok(c).values()) * 1e6
    axes[-1].set_xlim(lo / 2, hi * 6)
    axes[-1].set_xlabel(
        "time per call (µs, log scale; whiskers: interquartile range; shorter is faster)"
    )
    fig.suptitle(f"sandlink per-call overhead by backend and alternative\n({subtitle})")
    fig.text(0.01, 0.01, textwrap.fill(WHO, 140), fontsize=7.5, va="bottom", ha="left")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, pil_kwargs={"optimize": True})
    plt.close(fig)
