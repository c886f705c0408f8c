"""`sandlink.host` is a component host of its own: it needs nothing of the kernels part."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sandlink
from conftest import Recorder, host

HOST_DIR = Path(sandlink.__file__).parent / "host"


def test_the_host_runs_as_a_package_of_its_own(alltypes_wasm):
    """Loaded under another name, outside `sandlink`: any import of the kernels part (or a
    relative import out of the package) would fail, and `sandlink` never gets imported."""
    code = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            "standalone_host", {str(HOST_DIR / "__init__.py")!r},
            submodule_search_locations=[{str(HOST_DIR)!r}],
        )
        host = importlib.util.module_from_spec(spec)
        sys.modules["standalone_host"] = host
        spec.loader.exec_module(host)
        imports = {{"host-fns": {{"log": print, "combine": lambda a, b, t: t,
                                  "pick": lambda xs: None, "shout": lambda p: p}}}}
        c = host.load_component({str(alltypes_wasm)!r}, imports, cache_dir=False)
        assert c.ping(41) == 42
        o = host.load_component({str(alltypes_wasm)!r}, imports, backend="oracle")
        assert o.echo_string("zoë") == "zoë"
        assert not any(m == "sandlink" or m.startswith("sandlink.") for m in sys.modules), [
            m for m in sys.modules if m.startswith("sandlink")
        ]
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_host_modules_import_only_the_host_and_the_standard_library():
    for module in HOST_DIR.glob("*.py"):
        for line in module.read_text().splitlines():
            if line.startswith(("from ..", "import sandlink", "from sandlink")):
                pytest.fail(f"{module.name} imports outside the host: {line}")


def test_the_loaded_object_holds_only_exports(alltypes_wasm):
    c = sandlink.load_component(alltypes_wasm, Recorder().imports(), cache_dir=False)
    names = set(dir(c))
    assert "ping" in names and "echo_string" in names
    assert not {"limits", "engine", "module", "functions", "schema"} & names
    assert host(c).limits == sandlink.Limits()
    with pytest.raises(AttributeError, match="read-only"):
        c.ping = None
    # Each exported interface is also a namespace of its own.
    assert c.echo.echo_string("x") == "x" and c.echo.echo_string is c.echo_string
    assert "echo_string" in repr(c.echo)
