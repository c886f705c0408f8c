"""`sandlink._api` is generated from wit/ (tools/gen_api.py): it must be what wit/ says now,
and what it says must be what the built component and the cdylib really export."""

from __future__ import annotations

import ctypes
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import sandlink
from sandlink import _api
from sandlink._bundled import COMPONENT, NATIVE_LIBRARY, bundled
from sandlink._kernels import Kernels as Facade
from sandlink.host import load_component

ROOT = Path(__file__).resolve().parents[2]


def test_api_module_is_what_the_wit_says() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_api.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr + done.stdout


def test_every_wit_export_is_a_component_export_and_a_cdylib_symbol() -> None:
    component = load_component(bundled(COMPONENT), imports={"host": {"print": print}})
    functions = {
        name
        for name in dir(component.kernels)
        if not name.startswith("_") and not isinstance(getattr(component.kernels, name), type)
    }
    assert functions == {name for name, _, _ in _api.EXPORTS.values()}
    lib = ctypes.CDLL(str(bundled(NATIVE_LIBRARY)))
    for wit_name in _api.EXPORTS:
        getattr(lib, f"sandlink_{wit_name.replace('-', '_')}")  # AttributeError if missing


def test_exports_protocol_lists_every_function_with_its_docs() -> None:
    for wit_name, (name, params, _result) in _api.EXPORTS.items():
        method = getattr(_api.Exports, name)
        assert list(method.__annotations__)[:-1] == [p for p, _ in params], wit_name
        assert _api.DOCS[name], f"{wit_name} has no doc comment in wit/"
        assert inspect.getdoc(method) == _api.DOCS[name]


@pytest.mark.parametrize("backend", ["wasm", "oracle", "native", "python"])
def test_every_backend_passes_exports_through_with_the_wit_docs(backend: str) -> None:
    k = sandlink.load(backend)
    for name, doc in _api.DOCS.items():
        if name not in vars(Facade):  # adapted exports document themselves
            assert inspect.getdoc(getattr(k, name)) == doc, (backend, name)
