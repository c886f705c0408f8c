"""`python -m sandlink` (also the `sandlink` command): look at a component, or call it.

    sandlink info thing.wasm                   its exports and imports as Python signatures
    sandlink stubs thing.wasm -o thing.pyi     a stub of its exports, to type-check calls
    sandlink call thing.wasm add 2 3           one call; arguments are JSON, else text
    sandlink bench                             the bundled kernels timed on each backend
    sandlink call app.wasm run --dir /data=./data:rw --env K=V --arg x < input

`call` runs on the fast host with the default limits. A WASI component gets nothing but
what the options grant (and stdin when it is not a terminal); its output goes to this
process's stdout and stderr.
A failure is one line on stderr and a nonzero status (a guest's exit: its own status).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

from .host import GuestExit, SandlinkError, Wasi, load_component
from .host._types import List, Option, Record, Tuple, ValType, class_name


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except GuestExit as exc:
        return exc.code
    except (SandlinkError, OSError, ValueError, TypeError, LookupError) as exc:
        print(f"sandlink: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sandlink", description="Look at a WebAssembly component, or call it, sandboxed."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    info = commands.add_parser("info", help="its exports and imports as Python signatures")
    info.add_argument("path", help="a component (.wasm)")
    info.set_defaults(run=_info)
    stubs = commands.add_parser("stubs", help="a .pyi of its exports, from its own types")
    stubs.add_argument("path", help="a component (.wasm)")
    stubs.add_argument("-o", "--output", help="where to write it (default: stdout)")
    stubs.set_defaults(run=_stubs)
    bench = commands.add_parser("bench", help="time the bundled kernels on each backend")
    bench.add_argument("--seconds", type=float, default=0.5, help="per cell (default 0.5)")
    bench.set_defaults(run=_bench)
    call = commands.add_parser("call", help="call one export and print what it returns")
    call.add_argument("path", help="a component (.wasm)")
    call.add_argument("function", help="an export: `name`, or `interface.name`")
    call.add_argument("args", nargs="*", help="its arguments: JSON, else taken as text")
    call.add_argument("--arg", action="append", default=[], help="a WASI argument (repeat)")
    call.add_argument("--env", action="append", default=[], metavar="K=V", help="(repeat)")
    call.add_argument(
        "--dir", action="append", default=[], metavar="GUEST=HOST[:rw]", help="a preopen"
    )
    call.set_defaults(run=_call)
    return parser


# -- info


def _read(path: str) -> tuple[bytes, Any]:
    """A component's bytes and structure (read once, then from the startup cache)."""
    from .host._cache import Cache, default_dir
    from .host._engine import engine_for
    from .host._fast import load_structure

    with open(path, "rb") as f:
        wasm = f.read()
    engine = engine_for(False)
    structure, _ = load_structure(wasm, engine.engine, engine.key, Cache(default_dir()))
    return wasm, structure


def _stubs(args: argparse.Namespace) -> None:
    from .host._stubs import stub

    _, structure = _read(args.path)
    text = stub(structure, os.path.basename(args.path))
    if args.output is None:
        sys.stdout.write(text)
    else:
        with open(args.output, "w") as f:
            f.write(text)


def _info(args: argparse.Namespace) -> None:
    wasm, structure = _read(args.path)
    print(f"{args.path}: {len(wasm):,} bytes, sha256 {hashlib.sha256(wasm).hexdigest()}")
    for title, functions in (("exports", structure.exports), ("imports", structure.imports)):
        print(f"{title}:")
        interface = ""
        for fn in sorted(functions, key=lambda f: (f.interface or "", f.kind == "function")):
            if (fn.interface or "") != interface:
                interface = fn.interface or ""
                print(f"  {interface}")
            indent = "    " if interface else "  "
            print(indent + signature(fn))
        if not functions:
            print("  (none)")


def signature(fn: Any) -> str:
    """A function as a Python signature: `add(a: int, b: int) -> int`; a resource's
    constructor, methods and static functions on its class (`Counter.get(self) -> int`)."""
    params = [f"{p.name}: {p.type.annotation()}" for p in fn.params]
    result = "None" if fn.result is None else fn.result.annotation()
    if fn.kind == "function":
        return f"{fn.name}({', '.join(params)}) -> {result}"
    cls = class_name(fn.owner)
    if fn.kind == "constructor":
        return f"{cls}({', '.join(params)})"
    if fn.kind == "method":
        return f"{cls}.{fn.name}({', '.join(['self', *params[1:]])}) -> {result}"
    return f"{cls}.{fn.name}({', '.join(params)}) -> {result}  (static)"


# -- call


def _call(args: argparse.Namespace) -> None:
    wasi = Wasi(  # only what the options grant (a component without WASI ignores it)
        args=args.arg,
        env=dict(_pair(e, "--env") for e in args.env),
        stdin=None if sys.stdin.isatty() else sys.stdin.buffer.read(),
        stdout="inherit",
        stderr="inherit",
        preopens=dict(_preopen(d) for d in args.dir),
    )
    component = load_component(args.path, wasi=wasi)
    target: Any = component
    for part in args.function.split("."):
        target = getattr(target, part.replace("-", "_"), None)
        if target is None:
            raise LookupError(f"{args.path} exports no {args.function!r} (see `sandlink info`)")
    fn = _described(component, args.function)
    params = [p.type for p in fn.params] if fn is not None else []
    values = [
        _argument(text, params[i] if i < len(params) else None) for i, text in enumerate(args.args)
    ]
    result = target(*values)
    if result is not None:
        print(repr(result))


BENCH_CASES = (  # (name, method, arguments)
    ("add", "add", (2, 3)),
    (
        "parse_person",
        "parse_person",
        ('{"name": "Elliot", "age": 25, "cars": ["a"], "friends": []}',),
    ),
    ("ws_mask 125 B", "ws_mask", (bytes(125), b"\x37\xfa\x21\x3d")),
    ("ws_mask 64 KiB", "ws_mask", (bytes(65536), b"\x37\xfa\x21\x3d")),
)


def _bench(args: argparse.Namespace) -> None:
    """Median-of-five timings of the bundled kernels on every backend that loads here but
    the slow `oracle` (a quick look at this machine; `just bench` is the full suite)."""
    import functools
    import statistics
    import timeit

    from . import BACKENDS, load

    kernels = {}
    for backend in BACKENDS:
        if backend == "oracle":
            continue
        try:
            kernels[backend] = load(backend)
        except SandlinkError as exc:
            print(f"{backend}: not available ({exc})", file=sys.stderr)
    print("| call | " + " | ".join(kernels) + " |")
    print("|---|" + "---:|" * len(kernels))
    for name, method, call_args in BENCH_CASES:
        cells = []
        for k in kernels.values():
            fn = getattr(k, method)
            timer = timeit.Timer(functools.partial(fn, *call_args))
            number, _ = timer.autorange()
            number = max(1, int(number * args.seconds / 5 / 0.2))  # five runs in all
            runs = timer.repeat(repeat=5, number=number)
            cells.append(_duration(statistics.median(runs) / number))
        print(f"| {name} | " + " | ".join(cells) + " |")


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _described(component: Any, name: str) -> Any:
    """The export's description (for its parameters' types), if found."""
    host = component.__sandlink__
    wanted = name.rsplit(".", 1)[-1].replace("-", "_")
    return next((f for f in host.exports if f.name == wanted and f.kind == "function"), None)


def _argument(text: str, ty: ValType | None) -> Any:
    """A command-line argument as a value: JSON when it parses, else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return value if ty is None else _shaped(value, ty)


def _shaped(value: Any, ty: ValType) -> Any:
    """JSON made into what `ty` takes: text or a list of ints for `list<u8>`, an object
    (by WIT or Python field names) for a record, a list for a tuple."""
    if isinstance(ty, List):
        if ty.is_bytes:
            return value.encode() if isinstance(value, str) else bytes(value)
        return [_shaped(v, ty.element) for v in value] if isinstance(value, list) else value
    if isinstance(ty, Record) and isinstance(value, dict):
        given = {k.replace("-", "_"): v for k, v in value.items()}
        return types.SimpleNamespace(
            **{attr: _shaped(given[attr], f) for attr, _, f in ty.fields if attr in given}
        )
    if isinstance(ty, Tuple) and isinstance(value, list):
        return tuple(_shaped(v, t) for v, t in zip(value, ty.elements, strict=False))
    if isinstance(ty, Option) and value is not None:
        return _shaped(value, ty.payload)
    return value


def _pair(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"{option} wants KEY=VALUE, not {text!r}")
    return key, value


def _preopen(text: str) -> tuple[str, tuple[str, str]]:
    guest, host = _pair(text, "--dir")
    host, _, mode = host.rpartition(":") if host.endswith((":rw", ":ro")) else (host, "", "ro")
    return guest, (os.path.abspath(host), mode)
