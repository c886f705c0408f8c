"""Builds sandlink's wheels into dist/ (`just dist`; the artifacts must be built first).

- `sandlink-V-py3-none-any.whl`, the universal wheel: the package and the portable
  component, no compiled code, so it runs wherever wasmtime-py has wheels (the `wasm`
  backend on the pure-Python call path, `oracle` and `python`; no `native` backend).
- `sandlink-V-cp310-abi3-PLATFORM.whl`: the same plus this platform's compiled call path
  (`_accel`, stable ABI, CPython >= 3.10) and the cdylib (`native`). On Linux PLATFORM is
  `manylinux_2_N_<arch>`, N the newest glibc symbol version the two libraries need.

The universal wheel is what setuptools builds from a staged copy of host_py holding only
the component; the platform wheel is that wheel with the libraries added and its WHEEL
and RECORD rewritten (not pure, its own tag), so both carry the same metadata.
"""

from __future__ import annotations

import base64
import hashlib
import platform
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
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


def build_universal(out: Path) -> Path:
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
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), "."],
            cwd=stage,
            check=True,
        )
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
