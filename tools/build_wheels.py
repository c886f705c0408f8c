"""Builds sandlink's wheels and sdist into dist/ (`just dist`; build the artifacts first).

- `sandlink-V-py3-none-any.whl`, the universal wheel: the package and the portable
  component, no compiled code, so it runs wherever wasmtime-py has wheels (the `wasm`
  backend on the pure-Python call path, `oracle` and `python`; no `native` backend).
- `sandlink-V-cp310-abi3-PLATFORM.whl`: the same plus this platform's compiled call path
  (`_accel`, stable ABI, CPython >= 3.10) and the cdylib (`native`). On Linux PLATFORM is
  `manylinux_2_N_<arch>`, N the newest glibc symbol version the two libraries need.

- `sandlink-V.tar.gz`, the sdist: the Rust, WIT and Python sources with the tests and the
  prebuilt component; building a wheel from it builds the Rust parts when Rust is there
  (`tools/sandlink_build.py`), else it gives the universal wheel.

The universal wheel is what setuptools builds from a staged copy of host_py holding only
the component; the platform wheel is that wheel with the libraries added and its WHEEL
and RECORD rewritten (not pure, its own tag), so both carry the same metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "host_py"
ARTIFACTS = PACKAGE / "sandlink" / "_artifacts"
LIBRARIES = {  # in the wheel -> where `just build` leaves it
    "sandlink/host/_accel.abi3.so": PACKAGE / "sandlink" / "host" / "_accel.abi3.so",
    "sandlink/_artifacts/libsandlink.so": ARTIFACTS / "libsandlink.so",
}


def main() -> None:
    out = ROOT / "dist"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    universal = build_universal(out)
    print(universal.name)
    print(build_platform(universal, out).name)
    print(build_sdist(out, universal).name)


def pip_wheel(stage: Path, out: Path) -> None:
    """A wheel of the staged package, built by pip (in an isolated environment)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."],
        cwd=stage,
        check=True,
    )


def build_universal(out: Path, make: Callable[[Path, Path], None] = pip_wheel) -> Path:
    component = ARTIFACTS / "sandlink.wasm"
    if not component.is_file():
        sys.exit(f"{component} is missing: run `just build` first")
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp) / "host_py"
        shutil.copytree(
            PACKAGE,
            stage,
            ignore=shutil.ignore_patterns(
                "tests", "accel", "__pycache__", "*.egg-info", "*.so", "_artifacts"
            ),
        )
        (stage / "sandlink" / "_artifacts").mkdir()
        shutil.copy(component, stage / "sandlink" / "_artifacts")
        make(stage, out)
    (wheel,) = out.glob("*-py3-none-any.whl")
    return wheel


def build_platform(universal: Path, out: Path) -> Path:
    for path in LIBRARIES.values():
        if not path.is_file():
            sys.exit(f"{path} is missing: run `just build` first")
    tag = f"cp310-abi3-{platform_tag()}"
    name = universal.name.replace("py3-none-any", tag)
    with (
        zipfile.ZipFile(universal) as src,
        zipfile.ZipFile(out / name, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        dist_info = next(n.split("/")[0] for n in src.namelist() if n.endswith("/WHEEL"))
        files = {
            n: src.read(n)
            for n in src.namelist()
            if n not in (f"{dist_info}/WHEEL", f"{dist_info}/RECORD")
        }
        files |= {arc: path.read_bytes() for arc, path in LIBRARIES.items()}
        wheel = src.read(f"{dist_info}/WHEEL").decode()
        wheel = wheel.replace("Root-Is-Purelib: true", "Root-Is-Purelib: false")
        files[f"{dist_info}/WHEEL"] = re.sub(r"Tag: .*", f"Tag: {tag}", wheel).encode()
        record = [f"{n},sha256={digest(data)},{len(data)}" for n, data in files.items()]
        record.append(f"{dist_info}/RECORD,,")
        files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
        for n, data in files.items():
            info = zipfile.ZipInfo(n, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if n.endswith(".so") else 0o644) << 16
            dst.writestr(info, data, zipfile.ZIP_DEFLATED)
    return out / name


SDIST_FILES = ["Cargo.toml", "Cargo.lock", "build.rs", "README.md", "justfile"]
SDIST_TREES = ["src", "wit", "host_py"]
SDIST_TOOLS = ["tools/build_wheels.py", "tools/sandlink_build.py"]
SDIST_PYPROJECT = """\
# The sdist's own build: tools/sandlink_build.py builds the Rust parts when it can.
[build-system]
requires = ["setuptools>=68"]
build-backend = "sandlink_build"
backend-path = ["tools"]
"""


def build_sdist(out: Path, universal: Path) -> Path:
    """The committed sources (Rust, WIT, the Python package and its tests) and the prebuilt
    component, with a build backend that builds the wheels from them."""
    with zipfile.ZipFile(universal) as wheel:
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        pkg_info = wheel.read(metadata)
    base = universal.name.split("-py3-")[0]  # sandlink-V
    path = out / f"{base}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:

        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size, info.mode, info.mtime = len(data), mode, 1767225600
            tar.addfile(info, io.BytesIO(data))

        tracked = (
            subprocess.run(
                ["git", "ls-files", "-z", *SDIST_TREES], cwd=ROOT, capture_output=True, check=True
            )
            .stdout.decode()
            .split("\0")
        )
        component = str((ARTIFACTS / "sandlink.wasm").relative_to(ROOT))
        names = [*SDIST_FILES, *SDIST_TOOLS, *filter(None, tracked), component]
        for name in names:
            add(name, (ROOT / name).read_bytes())
        add("pyproject.toml", SDIST_PYPROJECT.encode())
        add("PKG-INFO", pkg_info)
    return path


def platform_tag() -> str:
    """This platform's wheel tag; on Linux the manylinux one the libraries allow."""
    if not sys.platform.startswith("linux"):
        return sysconfig.get_platform().replace("-", "_").replace(".", "_")
    needed = max(
        int(v)
        for path in LIBRARIES.values()
        for v in re.findall(rb"GLIBC_2\.(\d+)", path.read_bytes())
    )
    return f"manylinux_2_{needed}_{platform.machine()}"


def digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


if __name__ == "__main__":
    main()
