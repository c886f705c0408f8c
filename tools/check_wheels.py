"""Installs each wheel in dist/, and one pip builds from the sdist, into a fresh venv
outside the tree and uses it as a user would (`just dist-check`, run by CI): the README's
usage example, a WASI component, the `sandlink` command; the universal wheel without
compiled code, the platform wheels with the compiled call path and the `native` backend.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import subprocess, sys
import sandlink, sandlink.host

assert "site-packages" in sandlink.__file__, sandlink.__file__
exec(compile(EXAMPLE, "README.md", "exec"), {})
compiled = sandlink.host.COMPILED
assert compiled is PLATFORM, compiled
if PLATFORM:
    assert sandlink.load("native").add(2, 3) == 5
else:
    try:
        sandlink.load("native")
    except sandlink.SandlinkError as exc:
        assert "libsandlink" in str(exc), exc
    else:
        raise AssertionError("the universal wheel has no native library")
out = []
c = sandlink.load_component(WASI_CLI, wasi=sandlink.Wasi(stdout=out.append))
assert c.greet("wheel") == "hello, wheel" and out == [b"hello, wheel\\n"], out
info = subprocess.run(["sandlink", "info", WASI_CLI], capture_output=True, text=True)
assert info.returncode == 0 and "greet(name: str) -> str" in info.stdout, info
print("ok", sandlink.__version__, "compiled" if compiled else "pure")
"""


def example() -> str:
    """The README's first usage example (the one `test_artifact` runs in the tree)."""
    readme = (ROOT / "README.md").read_text()
    return readme.split("## Using it", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def check(wheel: Path) -> None:
    platform = not wheel.name.endswith("-py3-none-any.whl")
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "venv"
        venv.create(env, with_pip=True)
        python = env / "bin" / "python"
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel],
            check=True,
        )
        preamble = (
            f"EXAMPLE = {example()!r}\nPLATFORM = {platform!r}\n"
            f"WASI_CLI = {str(ROOT / 'target' / 'wasi_cli.wasm')!r}\n"
        )
        env_vars = {"PATH": f"{env / 'bin'}:/usr/bin:/bin"}
        subprocess.run([python, "-c", preamble + CHECK], cwd=tmp, check=True, env=env_vars)


def from_sdist(sdist: Path, out: Path) -> Path:
    """The wheel pip builds from the sdist here (Rust is on PATH: this platform's)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), sdist],
        check=True,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


def main() -> None:
    wheels = sorted((ROOT / "dist").glob("*.whl"))
    sdists = sorted((ROOT / "dist").glob("*.tar.gz"))
    if not wheels or not sdists:
        sys.exit("no wheels or sdist in dist/: run `just dist` first")
    for wheel in wheels:
        print(f"checking {wheel.name}")
        check(wheel)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"building a wheel from {sdists[0].name}")
        wheel = from_sdist(sdists[0], Path(tmp))
        print(f"checking {wheel.name} (built from the sdist)")
        check(wheel)


if __name__ == "__main__":
    main()
