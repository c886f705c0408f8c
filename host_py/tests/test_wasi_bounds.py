"""What a guest may make sandlink's WASI hold or do in one call is bounded: host files,
log records, pollables, random bytes; sizes the OS cannot take are error codes, not
exceptions. (Through the WASI functions themselves, as the guest reaches them.)"""

from __future__ import annotations

import logging

import pytest

import sandlink
from sandlink import Err, Ok
from sandlink.host.wasi import _context, _io


def context(tmp_path, **wasi):
    return _context.Context(sandlink.Wasi(**wasi), timeout=1.0, memory=None)


def test_the_guest_holds_a_bounded_number_of_host_files(tmp_path):
    (tmp_path / "f").write_text("x")
    ctx = context(tmp_path, preopens={"/d": tmp_path})
    ((root, _),) = ctx.interfaces["wasi:filesystem/preopens"]["get-directories"]()
    read = frozenset({"read"})
    held = [root.open_at(frozenset(), "f", frozenset(), read) for _ in range(_context.MAX_FILES)]
    assert all(isinstance(r, Ok) for r in held[:-1])
    assert held[-1] == Err("insufficient-memory")  # the preopen's own descriptor counts
    assert isinstance(held[0].value.read_via_stream(0), Err)  # a stream is a file too
    held[0].value.close()
    assert isinstance(root.open_at(frozenset(), "f", frozenset(), read), Ok)


def test_a_directory_listing_is_read_lazily_and_releases_its_file(tmp_path):
    for i in range(50):
        (tmp_path / f"f{i}").write_text("")
    ctx = context(tmp_path, preopens={"/d": tmp_path})
    ((root, _),) = ctx.interfaces["wasi:filesystem/preopens"]["get-directories"]()
    files = root.root.files
    stream = root.read_directory().value
    assert files.used == 2  # the descriptor and the listing
    names = set()
    while (entry := stream.read_directory_entry().value) is not None:
        names.add(entry.name)
    assert names == {f"f{i}" for i in range(50)} and files.used == 1


def test_output_to_the_logger_is_one_record_per_write(tmp_path, caplog):
    ctx = context(tmp_path)
    out = ctx.interfaces["wasi:cli/stdout"]["get-stdout"]()
    with caplog.at_level(logging.INFO, logger="sandlink.wasi"):
        out.write(b"\n" * 100_000)  # one record at most, however many lines
        out.write(b"no newline, ")
        out.write(b"kept nowhere\n")
    assert [r.getMessage() for r in caplog.records] == [
        "guest stdout: " + "\n" * 99_999,
        "guest stdout: no newline, ",
        "guest stdout: kept nowhere",
    ]


def test_polls_and_randomness_are_bounded(tmp_path):
    with pytest.raises(sandlink.GuestTrap, match="at most 4096"):
        _io.poll([_io.Pollable()] * 5000)
    assert _io.poll([_io.Pollable()] * 3) == [0, 1, 2]
    random = context(tmp_path).interfaces["wasi:random/random"]["get-random-bytes"]
    assert len(random(_context.MAX_RANDOM)) == _context.MAX_RANDOM
    with pytest.raises(sandlink.MemoryLimitExceeded, match="random bytes"):
        random(_context.MAX_RANDOM + 1)


def test_offsets_and_sizes_the_os_cannot_take_are_error_codes(tmp_path):
    (tmp_path / "f").write_text("x")
    ctx = context(tmp_path, preopens={"/d": (tmp_path, "rw")})
    ((root, _),) = ctx.interfaces["wasi:filesystem/preopens"]["get-directories"]()
    rw = frozenset({"read", "write"})
    f = root.open_at(frozenset(), "f", frozenset(), rw).value
    assert f.read(1, 2**63) == Err("invalid")
    assert f.write(b"x", 2**63) == Err("invalid")
    assert f.set_size(2**63) == Err("invalid")
    stream = f.read_via_stream(2**64 - 1).value
    result = stream.read(10)
    assert isinstance(result, Err) and result.value.case == "last-operation-failed"
    with pytest.raises(sandlink.GuestTrap, match="more than check-write permits"):
        f.write_via_stream(0).value.write_zeroes(2**64 - 1)
