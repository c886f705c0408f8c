"""Shared fixtures."""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

import sandlink
from sandlink.host._checks import INT_RANGES
from sandlink.host._types import (
    Bool,
    Char,
    Enum,
    Flags,
    Float,
    Int,
    List,
    Option,
    Record,
    Result,
    String,
    Tuple,
    ValType,
    Variant,
)
from sandlink.host._values import Err, Ok
from sandlink.host._values import Variant as VariantValue

REPO = Path(__file__).resolve().parents[2]
ALLTYPES = REPO / "target" / "alltypes.wasm"
FAULTS = REPO / "target" / "faults.wasm"
HOSTRES = REPO / "target" / "hostres.wasm"
WASI_CLI = REPO / "target" / "wasi_cli.wasm"
PYGUEST = REPO / "target" / "pyguest.wasm"


def _guest(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: build the test guests first (`just build-test-guests`)")
    return path


@pytest.fixture(scope="session")
def alltypes_wasm() -> Path:
    """The all-types test guest component (built from tests/guests/alltypes)."""
    return _guest(ALLTYPES)


@pytest.fixture(scope="session")
def faults_wasm() -> Path:
    """The misbehaving test guest component (built from tests/guests/faults)."""
    return _guest(FAULTS)


@pytest.fixture(scope="session")
def wasi_cli() -> Path:
    """A Rust std guest for wasm32-wasip2 (built from tests/wasi_guests/wasi_cli)."""
    return _guest(WASI_CLI)


@pytest.fixture(scope="session")
def pyguest() -> Path:
    """A guest written in Python, built by componentize-py (tests/py_guests/pyguest)."""
    return _guest(PYGUEST)


@pytest.fixture(scope="session")
def hostres_wasm() -> Path:
    """The guest using a resource the host implements (built from tests/guests/hostres)."""
    return _guest(HOSTRES)


class Recorder:
    """Host imports that record their arguments and return configurable values."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def log(self, msg: str) -> None:
        self.calls.append(("log", (msg,)))

    def combine(self, a: int, b: float, tag: str) -> str:
        self.calls.append(("combine", (a, b, tag)))
        return f"{tag}:{a}:{b!r}"

    def pick(self, xs: list[int]) -> int | None:
        self.calls.append(("pick", (xs,)))
        return max(xs, default=None)

    def shout(self, p: Any) -> Any:
        self.calls.append(("shout", (p,)))
        return type(p)(x=p.y, y=p.x)

    def imports(self) -> dict[str, dict[str, Any]]:
        return {
            "sandlink:alltypes/host-fns@0.1.0": {
                "log": self.log,
                "combine": self.combine,
                "pick": self.pick,
                "shout": self.shout,
            }
        }


def wat_builder(directory: Path, out: Path) -> Callable[[str], Path]:
    """`build(name)`: `directory/<name>.wat` compiled (once) to a component in `out`, with
    `wasm-tools parse`; a missing tool or a bad fixture fails the test, saying which."""
    tool = shutil.which("wasm-tools")
    if tool is None:
        pytest.fail(
            f"wasm-tools is not on PATH: the fixtures in {directory.name}/ are compiled at "
            "test time (`just setup` installs it into ~/.cargo/bin)"
        )
    built: dict[str, Path] = {}

    def build(name: str) -> Path:
        if name not in built:
            source, target = directory / f"{name}.wat", out / f"{name}.wasm"
            proc = subprocess.run(
                [tool, "parse", str(source), "-o", str(target)],
                capture_output=True,
                text=True,
                timeout=60,
            )
            if proc.returncode != 0:
                pytest.fail(f"wasm-tools parse {source.name} failed:\n{proc.stderr}")
            built[name] = target
        return built[name]

    return build


@pytest.fixture(scope="session")
def wat(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """`wat(name)`: tests/hostile/<name>.wat compiled to a component binary."""
    return wat_builder(Path(__file__).resolve().parent / "hostile", tmp_path_factory.mktemp("wat"))


def load_oracle(path: Any, imports: Any = None, **kwargs: Any) -> Any:
    """A component on the `component` backend (the wasmtime.component oracle)."""
    return sandlink.load_component(path, imports, backend="oracle", **kwargs)


def same(a: Any, b: Any) -> bool:
    """Equality where NaN equals NaN (at any depth)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if hasattr(a, "__dataclass_fields__") and type(a) is type(b):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    return a == b


def host(component: Any) -> Any:
    """The host behind a loaded component (its exports, record classes, limits...)."""
    return component.__sandlink__


def strategy(ty: ValType) -> st.SearchStrategy:
    """Python values of WIT type `ty` (resources excluded)."""
    match ty:
        case Bool():
            return st.booleans()
        case Int():
            lo, hi = INT_RANGES[ty.kind]
            return st.integers(lo, hi)
        case Float():
            return st.floats(width=32 if ty.kind == "f32" else 64)
        case Char():
            return st.characters(exclude_categories=["Cs"])
        case String():
            return st.text(max_size=12)
        case List():
            return (
                st.binary(max_size=64)
                if ty.is_bytes
                else st.lists(strategy(ty.element), max_size=4)
            )
        case Record():
            return st.builds(ty.cls, *(strategy(f) for _, _, f in ty.fields))
        case Tuple():
            return st.tuples(*(strategy(e) for e in ty.elements))
        case Option():
            return st.none() | strategy(ty.payload)
        case Result():
            ok = st.none() if ty.ok is None else strategy(ty.ok)
            err = st.none() if ty.err is None else strategy(ty.err)
            return st.builds(Ok, ok) | st.builds(Err, err)
        case Variant():
            return st.one_of(
                *(
                    st.builds(VariantValue, st.just(case), st.none() if p is None else strategy(p))
                    for case, p in ty.cases
                )
            )
        case Enum():
            return st.sampled_from(ty.names)
        case Flags():
            return st.frozensets(st.sampled_from(ty.names))
    raise AssertionError(f"no strategy for {ty!r}")
