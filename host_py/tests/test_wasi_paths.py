"""The WASI path resolver never opens anything outside the preopened root.

A "secret" file and directory sit next to the sandbox root; every test that tries to
reach them must get a PathError, and every fd that is opened must be inside the root.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandlink.host.wasi import _paths as paths

PathError = paths.PathError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc/self/fd")


@dataclass
class Sandbox:
    root: str  # realpath of the preopened directory
    outside: str  # realpath of its parent, which holds the secrets
    fd: int


def _build(top: Path) -> None:
    """`top/secret`, `top/secretdir/`, `top/mirror/` (a copy of the tree, so an escape
    would find something to open) and the sandbox `top/root/`."""
    (top / "secret").write_text("secret")
    (top / "secretdir").mkdir()
    (top / "secretdir" / "inner").write_text("secret")
    for base in (top / "root", top / "mirror"):
        base.mkdir()
        for d in (base, base / "a", base / "a" / "a", base / "b"):
            d.mkdir(exist_ok=True)
            (d / "x").write_text("x")
            (d / "b").mkdir(exist_ok=True)
        (base / "a" / "deep").mkdir()
        (base / "a" / "file").write_text("file")
    root = top / "root"
    links = {
        "abs": str(top / "secret"),
        "rel_out": "../secret",
        "hop1": "hop2",
        "hop2": "../secret",
        "dir_out": "../secretdir",
        "loop_a": "loop_b",
        "loop_b": "loop_a",
        "self": "self",
        "link_in": "a/file",
        "dirlink": "a",
        "dangling": "a/new",
        "trailing": "a/",
        "link_out": "../mirror",
        "a/link_up": "../../secret",
        "a/link_out": "../../mirror",
        "a/link_in": "../b",
        "a/a/link_out": "../../../mirror/a",
        "a/a/link_in": "../..",
        "b/link_out": "../../mirror/b",
        "b/link_in": "../a/a",
    }
    for name, target in links.items():
        os.symlink(target, root / name)


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    top = tmp_path_factory.mktemp("wasi_paths")
    _build(top)
    fd = os.open(top / "root", os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield Sandbox(os.path.realpath(top / "root"), os.path.realpath(top), fd)
    finally:
        os.close(fd)


def fd_path(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


def open_fd_count() -> int:
    gc.collect()  # garbage of other tests that holds fds must not close them mid-count
    return len(os.listdir("/proc/self/fd"))


def where(box: Sandbox, path: str, base: list[str] | None = None, **kw: object) -> str:
    """Open `path` and return where it landed, relative to the root ("" for the root)."""
    kw.setdefault("follow_last", True)
    kw.setdefault("flags", os.O_RDONLY)
    fd, names = paths.open_beneath(box.fd, base or [], path, **kw)
    try:
        real = fd_path(fd)
    finally:
        os.close(fd)
    rel = os.path.relpath(real, box.root)
    assert not rel.startswith(".."), f"{path!r} escaped to {real}"
    assert names == ([] if rel == "." else rel.split("/"))
    return "" if rel == "." else rel


def code(box: Sandbox, path: str, base: list[str] | None = None, **kw: object) -> str:
    with pytest.raises(PathError) as info:
        where(box, path, base, **kw)
    return info.value.code


# --- split ---------------------------------------------------------------------------


def test_split_drops_dots_and_empties_but_keeps_dotdot():
    assert paths.split("a//./b/../c/") == ["a", "b", "..", "c"]
    assert paths.split(".") == []


@pytest.mark.parametrize(
    ("path", "err"),
    [
        ("/etc/passwd", "not-permitted"),
        ("/", "not-permitted"),
        ("", "no-entry"),
        ("a\0b", "invalid"),
    ],
)
def test_split_refuses(path: str, err: str):
    with pytest.raises(PathError) as info:
        paths.split(path)
    assert info.value.code == err


# --- escapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["..", "../secret", "a/../../secret", "a/a/../../../secret", "../" * 30 + "etc"]
)
def test_dotdot_cannot_climb_out(box: Sandbox, path: str):
    assert code(box, path) == "not-permitted"


def test_absolute_path_refused(box: Sandbox):
    assert code(box, os.path.join(box.outside, "secret")) == "not-permitted"


@pytest.mark.parametrize(
    "path",
    [
        "abs",  # absolute target
        "rel_out",  # ../secret
        "a/link_up",  # ../../secret from a subdirectory
        "hop1",  # hop1 -> hop2 is inside, hop2 -> ../secret is not
        "dir_out/inner",  # symlink out in an intermediate component
        "link_out/x",
        "a/link_out/a/x",
    ],
)
def test_symlinks_cannot_point_out(box: Sandbox, path: str):
    assert code(box, path) == "not-permitted"


@pytest.mark.parametrize("path", ["loop_a", "self", "loop_a/x"])
def test_symlink_loops(box: Sandbox, path: str):
    assert code(box, path) == "loop"


def test_nul_refused(box: Sandbox):
    assert code(box, "a\0/../../secret") == "invalid"


def test_final_symlink_not_followed_is_loop(box: Sandbox):
    assert code(box, "link_in", follow_last=False) == "loop"
    # ...even when opening a directory (Linux says ENOTDIR there, not ELOOP)
    flags = os.O_RDONLY | os.O_DIRECTORY
    assert code(box, "dirlink", follow_last=False, flags=flags) == "loop"
    assert code(box, "rel_out", follow_last=False) == "loop"  # refused without reading it


# --- what works ----------------------------------------------------------------------


def test_symlinks_inside_resolve(box: Sandbox):
    assert where(box, "link_in") == "a/file"
    assert where(box, "dirlink/deep") == "a/deep"
    assert where(box, "a/a/link_in/b") == "b"  # ../.. from a/a is the root
    assert where(box, "trailing") == "a"
    assert where(box, "dirlink/..") == ""  # .. after a symlink: the target's parent


def test_dotdot_inside_resolves(box: Sandbox):
    assert where(box, "a/../b") == "b"
    assert where(box, "./a/./a/../file") == "a/file"
    assert where(box, ".") == ""


def test_dotdot_from_a_base_stops_at_the_root(box: Sandbox):
    base = ["a", "a"]
    assert where(box, "x", base) == "a/a/x"
    assert where(box, "..", base) == "a"
    assert where(box, "../..", base) == ""
    assert where(box, "../../b", base) == "b"
    assert code(box, "../../..", base) == "not-permitted"
    assert code(box, "../../../secret", base) == "not-permitted"


def test_trailing_slash_means_directory(box: Sandbox):
    assert code(box, "a/file/") == "not-directory"
    assert code(box, "link_in/") == "not-directory"
    assert where(box, "dirlink/", follow_last=False) == "a"  # the slash follows the link


def test_plain_errors(box: Sandbox):
    assert code(box, "nope") == "no-entry"
    assert code(box, "a/file/x") == "not-directory"
    assert code(box, "x" * 300) == "name-too-long"
    assert code(box, "a", flags=os.O_WRONLY) == "is-directory"


def test_create_through_dangling_link_stays_inside(tmp_path: Path):
    _build(tmp_path)
    fd = os.open(tmp_path / "root", os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = os.O_WRONLY | os.O_CREAT
        new, names = paths.open_beneath(fd, [], "dangling", follow_last=True, flags=flags)
        os.close(new)
        assert names == ["a", "new"] and (tmp_path / "root" / "a" / "new").is_file()
        # O_EXCL never follows (POSIX), and a symlink out is not created through
        with pytest.raises(PathError) as info:
            paths.open_beneath(fd, [], "link_in", follow_last=True, flags=flags | os.O_EXCL)
        assert info.value.code == "exist"
        with pytest.raises(PathError) as info:
            paths.open_beneath(fd, [], "rel_out", follow_last=True, flags=flags)
        assert info.value.code == "not-permitted"
    finally:
        os.close(fd)


def test_deep_tree_holds_few_fds(tmp_path: Path):
    depth = 60
    (tmp_path / "/".join(["d"] * depth)).mkdir(parents=True)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        before = open_fd_count()
        path = "/".join(["d"] * depth + [".."] * (depth - 1))
        new, names = paths.open_beneath(fd, [], path, follow_last=True, flags=os.O_RDONLY)
        os.close(new)
        assert names == ["d"]
        new, names = paths.open_beneath(fd, ["d"] * depth, "../" * depth, follow_last=True, flags=0)
        assert names == [] and fd_path(new) == os.path.realpath(tmp_path)
        os.close(new)
        assert open_fd_count() == before
    finally:
        os.close(fd)


# --- parent_beneath ------------------------------------------------------------------


def test_parent_beneath(box: Sandbox):
    fd, name, names = paths.parent_beneath(box.fd, [], "dirlink/deep")
    try:
        assert (name, names) == ("deep", ["a"])
        assert fd_path(fd) == os.path.join(box.root, "a")
    finally:
        os.close(fd)
    fd, name, names = paths.parent_beneath(box.fd, ["a"], "../rel_out")
    try:  # the last name is not resolved: that is the caller's (e.g. readlink-at)
        assert (name, names, fd_path(fd)) == ("rel_out", [], box.root)
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("path", "err"),
    [
        ("..", "not-permitted"),
        ("a/..", "not-permitted"),
        ("../secret", "not-permitted"),  # a link-at target outside
        ("a/../../secret", "not-permitted"),
        ("dir_out/inner", "not-permitted"),
        (".", "invalid"),
        ("a/.", "invalid"),
        ("./", "invalid"),
        ("", "no-entry"),
        ("/tmp/x", "not-permitted"),
        ("a\0", "invalid"),
        ("loop_a/x", "loop"),
    ],
)
def test_parent_beneath_refuses(box: Sandbox, path: str, err: str):
    with pytest.raises(PathError) as info:
        paths.parent_beneath(box.fd, [], path)
    assert info.value.code == err


# --- fds -----------------------------------------------------------------------------


def test_no_fd_leak_on_errors(box: Sandbox):
    bad = ["a/a/../../../secret", "a/a/link_out/x", "loop_a/x", "a/file/x", "a/a/b/nope"]
    before = open_fd_count()
    for _ in range(200):
        for path in bad:
            with pytest.raises(PathError):
                paths.open_beneath(box.fd, ["a"], path, follow_last=True, flags=os.O_RDONLY)
            with pytest.raises(PathError):
                paths.parent_beneath(box.fd, ["a"], path + "/y")
    assert open_fd_count() == before


def test_errno_code():
    import errno

    assert paths.errno_code(OSError(errno.ENOENT, "x")) == "no-entry"
    assert paths.errno_code(OSError(errno.EOPNOTSUPP, "x")) == "unsupported"
    assert paths.errno_code(OSError(errno.ESPIPE, "x")) == "invalid-seek"
    assert paths.errno_code(OSError(errno.ECHILD, "x")) == "io"
    assert paths.errno_code(OSError("no errno")) == "io"


# --- property ------------------------------------------------------------------------

COMPONENTS = ["a", "b", "..", ".", "link_out", "link_in", "x", ""]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    comps=st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=10),
    base=st.sampled_from([[], ["a"], ["a", "a"], ["b"], ["b", "b"]]),
    follow_last=st.booleans(),
)
def test_random_paths_stay_inside(
    box: Sandbox, comps: list[str], base: list[str], follow_last: bool
):
    path = "/".join(comps)
    try:
        where(box, path, base, follow_last=follow_last)  # asserts it landed inside
    except PathError:
        pass
    try:
        fd, name, names = paths.parent_beneath(box.fd, base, path)
    except PathError:
        return
    try:
        assert name not in ("", ".", "..") and "/" not in name
        assert fd_path(fd) == os.path.join(box.root, *names)
    finally:
        os.close(fd)


def test_guest_sized_paths_are_bounded(box: Sandbox):
    """A path past PATH_MAX, or a walk of more components than MAX_STEPS (through `..`,
    a deep base or links), is "name-too-long" before it costs more."""
    with pytest.raises(PathError) as raised:
        paths.split("a/" * 3000)
    assert raised.value.code == "name-too-long"
    with pytest.raises(PathError) as raised:
        base = ["a", ".."] * (paths.MAX_STEPS // 2 + 1)  # down and up, again and again
        paths.open_beneath(box.fd, base, ".", follow_last=True, flags=os.O_RDONLY)
    assert raised.value.code == "name-too-long"


def test_dotdot_past_the_kept_fds_stays_cheap_and_inside(tmp_path: Path):
    depth = 200  # far more than the fds one walk keeps
    (tmp_path / "/".join(["d"] * depth)).mkdir(parents=True)
    (tmp_path / "f").write_text("top")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        path = "d/" * depth + "../" * depth + "f"
        before = open_fd_count()
        new, names = paths.open_beneath(fd, [], path, follow_last=True, flags=os.O_RDONLY)
        assert names == ["f"] and os.read(new, 3) == b"top"
        os.close(new)
        assert open_fd_count() == before
    finally:
        os.close(fd)
