"""`sandlink stubs`: the stub of a component's exports matches what the host exposes,
name for name and parameter for parameter (the stub is valid Python: it is run here)."""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from test_host_resources import tally

import sandlink
from conftest import ALLTYPES, HOSTRES, REPO, WASI_CLI, Recorder, _guest

GUESTS = {
    "sandlink": (REPO / "target" / "sandlink.wasm", lambda: {"host": {"print": print}}, None),
    "alltypes": (ALLTYPES, lambda: Recorder().imports(), None),
    "hostres": (HOSTRES, tally, None),
    "wasi_cli": (WASI_CLI, None, True),
}


def stub_module(path: Path, name: str) -> types.ModuleType:
    done = subprocess.run(
        [sys.executable, "-m", "sandlink", "stubs", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    module = types.ModuleType(f"stub_{name}")
    exec(compile(done.stdout, f"{name}.pyi", "exec"), module.__dict__)
    return module


def public(obj: Any) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


def declared(protocol: type) -> set[str]:
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {n for n, v in vars(protocol).items() if inspect.isfunction(v)}
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("name", GUESTS)
def test_the_stub_declares_what_the_component_exposes(name):
    path, imports, wasi = GUESTS[name]
    path = _guest(path)
    stub = stub_module(path, name)
    component = sandlink.load_component(path, imports() if imports else None, wasi=wasi)
    assert declared(stub.Component) == public(component)
    for attr in public(component):
        value = getattr(component, attr)
        if callable(value) and not isinstance(value, type):
            runtime = list(inspect.signature(value).parameters)
            stubbed = list(inspect.signature(getattr(stub.Component, attr)).parameters)[1:]
            assert stubbed == runtime, attr


def test_resource_classes_carry_their_methods():
    stub = stub_module(_guest(REPO / "target" / "sandlink.wasm"), "sandlink")
    component = sandlink.load_component(
        REPO / "target" / "sandlink.wasm", {"host": {"print": print}}
    )
    assert public(stub.Buffer) >= public(component.Buffer)
    assert list(inspect.signature(stub.Buffer.read).parameters) == ["self", "start", "len_"]
    assert stub.Kernels.__annotations__["Buffer"] == "type[_Buffer]"
    assert stub.Person.__init__.__annotations__["friends"] == "list[Friend]"


def test_imported_resources_are_the_user_s_classes():
    stub = stub_module(_guest(HOSTRES), "hostres")
    assert stub.Counter is Any  # whatever class the imports give
    assert stub.Component.stash.__annotations__["c"] == "Counter"
