"""Resources through the oracle: the kernels component's `buffer`, and a hand-written one."""

from __future__ import annotations

import gc
import inspect

import pytest

import sandlink
from conftest import host, load_oracle
from sandlink._bundled import COMPONENT, bundled
from sandlink.host._limits import Limits
from sandlink.host._oracle import ResourceObject

KEY = 0x37FA213D
MiB = 1024 * 1024


def make(limits: Limits | None = None):
    lines: list[str] = []
    return load_oracle(bundled(COMPONENT), {"host": {"print": lines.append}}, limits=limits)


@pytest.fixture
def api():
    return make()


def test_buffer_is_a_class_named_buffer(api):
    assert isinstance(api.Buffer, type) and issubclass(api.Buffer, ResourceObject)
    assert api.Buffer.__name__ == "Buffer"
    assert api.Buffer._resource.cls is api.Buffer
    assert list(inspect.signature(api.Buffer).parameters) == ["len_"]
    assert list(inspect.signature(api.Buffer.read).parameters) == ["self", "start", "len_"]
    # Resource functions are methods of the class, not attributes of the instance.
    for name in ("buffer", "len", "address", "read", "write", "mask"):
        assert not hasattr(api, name)
    assert api.add(2, 3) == 5  # plain functions still are


def test_create_len_read_write_mask_round_trip(api):
    buf = api.Buffer(16)
    assert isinstance(buf, api.Buffer) and not buf.closed
    assert buf.len_() == 16
    assert buf.read(0, 16) == bytes(16)
    assert isinstance(buf.address(), int)
    buf.write(0, b"Hello")
    assert buf.read(0, 5) == b"Hello"
    buf.mask(0, 5, KEY, 0)
    assert buf.read(0, 5).hex() == "7f9f4d5158"
    assert buf.read(0, 5) == api.ws_mask(b"Hello", KEY, 0)
    buf.mask(start=0, len_=5, key=KEY, offset=0)  # masking is its own inverse
    assert buf.read(0, 5) == b"Hello"
    assert "open" in repr(buf)
    buf.close()


def test_two_buffers_are_independent(api):
    a, b = api.Buffer(8), api.Buffer(8)
    a.write(0, b"aaaaaaaa")
    b.write(0, b"bbbbbbbb")
    assert a.read(0, 8) == b"aaaaaaaa" and b.read(0, 8) == b"bbbbbbbb"
    assert a.address() != b.address()
    a.close()
    assert b.read(0, 8) == b"bbbbbbbb"


def test_reading_past_the_end_traps_and_makes_the_old_buffer_stale(api):
    old = api.Buffer(4)
    with pytest.raises(sandlink.GuestTrap):
        old.read(2, 10)
    assert old.closed
    with pytest.raises(sandlink.StaleResourceError, match=r"Buffer.*trap"):
        old.len_()
    with pytest.raises(sandlink.StaleResourceError):
        old.write(0, b"x")
    old.close()  # a no-op: its instance is gone
    new = api.Buffer(4)
    new.write(0, b"abcd")
    assert new.read(0, 4) == b"abcd"
    assert "trap" in repr(old)


def test_close_then_use_is_stale(api):
    buf = api.Buffer(4)
    buf.close()
    assert buf.closed
    buf.close()  # idempotent
    with pytest.raises(sandlink.StaleResourceError, match=r"Buffer.*closed"):
        buf.read(0, 1)
    assert "closed" in repr(buf)
    assert api.Buffer(4).len_() == 4  # the instance itself is fine


def test_context_manager_closes(api):
    with api.Buffer(8) as buf:
        buf.write(0, b"12345678")
        assert buf.read(0, 8) == b"12345678"
    assert buf.closed
    with pytest.raises(sandlink.StaleResourceError):
        buf.len_()


def test_a_non_buffer_where_a_buffer_is_expected_is_a_type_error(api):
    with pytest.raises(TypeError, match=r"self must be a Buffer"):
        api.Buffer.len_(42)
    other = make()  # another instance's Buffer is another class
    foreign = other.Buffer(4)
    with pytest.raises(TypeError, match=r"self must be a Buffer"):
        api.Buffer.read(foreign, 0, 1)
    assert foreign.len_() == 4


def test_wrong_arguments_are_rejected_before_the_call(api):
    buf = api.Buffer(4)
    with pytest.raises(TypeError):
        buf.read(0)
    with pytest.raises(OverflowError):
        buf.read(-1, 1)
    assert buf.len_() == 4


def test_buffers_cannot_be_copied(api):
    import copy
    import pickle

    buf = api.Buffer(4)
    with pytest.raises(TypeError):
        copy.copy(buf)
    with pytest.raises(TypeError):
        pickle.dumps(buf)


def test_many_create_close_cycles_do_not_leak():
    # 2000 x 64 KiB = 125 MiB would never fit in 16 MiB if drops leaked.
    api = make(Limits(memory=16 * MiB))
    for _ in range(2000):
        buf = api.Buffer(64 * 1024)
        buf.write(64 * 1024 - 1, b"x")
        buf.close()
    with api.Buffer(4) as buf:
        assert buf.len_() == 4


def test_leaking_buffers_does_hit_the_memory_limit():
    """The control for the test above: without close(), the same loop runs out of memory."""
    api = make(Limits(memory=16 * MiB))
    kept = []
    with pytest.raises(sandlink.GuestTrap):
        for _ in range(2000):
            kept.append(api.Buffer(64 * 1024))
    assert all(buf.closed for buf in kept)  # lost with the trapped instance
    assert api.Buffer(4).len_() == 4


def test_garbage_collected_buffers_are_dropped_at_the_next_call():
    api = make(Limits(memory=16 * MiB))
    for _ in range(2000):
        api.Buffer(64 * 1024)  # never closed: dropped once collected
    gc.collect()
    buf = api.Buffer(4)  # drops the last collected one first
    assert buf.len_() == 4
    assert not host(api)._instance().orphans


# A component whose resource `thing` (rep: the u32 it was made with) has an own<thing> static
# and a function taking a borrow and an own: what the kernels' buffer does not exercise.
THING_WAT = """
(component
  (type $r (resource (rep i32)))
  (core func $new (canon resource.new $r))
  (core func $rep (canon resource.rep $r))
  (core func $drop (canon resource.drop $r))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "ctor") (param i32) (result i32) local.get 0 call $new)
    (func (export "get") (param i32) (result i32) local.get 0)
    (func (export "consume") (param i32) (result i32) (local $v i32)
      local.get 0 call $rep local.set $v local.get 0 call $drop local.get $v)
    (func (export "pair") (param i32 i32) (result i32)
      local.get 1 call $rep local.get 0 i32.add)
  )
  (core instance $i (instantiate $m (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
  (func $ctor (param "v" u32) (result (own $r)) (canon lift (core func $i "ctor")))
  (func $get (param "self" (borrow $r)) (result u32) (canon lift (core func $i "get")))
  (func $consume (param "x" (own $r)) (result u32) (canon lift (core func $i "consume")))
  (func $pair (param "a" (borrow $r)) (param "b" (own $r)) (result u32)
    (canon lift (core func $i "pair")))
  (component $c
    (import "r" (type $r (sub resource)))
    (import "ctor" (func $ctor (param "v" u32) (result (own $r))))
    (import "get" (func $get (param "self" (borrow $r)) (result u32)))
    (import "consume" (func $consume (param "x" (own $r)) (result u32)))
    (import "pair" (func $pair (param "a" (borrow $r)) (param "b" (own $r)) (result u32)))
    (export $r2 "thing" (type $r))
    (export "[constructor]thing" (func $ctor) (func (param "v" u32) (result (own $r2))))
    (export "[method]thing.get" (func $get) (func (param "self" (borrow $r2)) (result u32)))
    (export "[static]thing.consume" (func $consume) (func (param "x" (own $r2)) (result u32)))
    (export "pair" (func $pair) (func (param "a" (borrow $r2)) (param "b" (own $r2)) (result u32)))
  )
  (instance $inst (instantiate $c (with "r" (type $r)) (with "ctor" (func $ctor))
    (with "get" (func $get)) (with "consume" (func $consume)) (with "pair" (func $pair))))
  (export "t:t/api" (instance $inst))
)
"""


@pytest.fixture
def things():
    return load_oracle(THING_WAT.encode())


def test_an_own_parameter_gives_the_object_away(things):
    thing = things.Thing(7)
    assert thing.get() == 7
    assert things.Thing.consume(thing) == 7
    assert thing.closed
    with pytest.raises(sandlink.StaleResourceError, match=r"Thing.*given to the guest"):
        thing.get()
    thing.close()  # a no-op: the guest owns (and dropped) it


def test_a_borrow_parameter_keeps_the_object_and_an_own_one_does_not(things):
    kept, given = things.Thing(1), things.Thing(10)
    assert things.pair(kept, given) == 11
    assert not kept.closed and kept.get() == 1
    assert given.closed
    with pytest.raises(sandlink.StaleResourceError):
        things.pair(kept, given)
    with pytest.raises(ValueError, match="twice"):
        things.pair(kept, kept)  # borrowed and given away in the same call
    assert kept.get() == 1


def test_an_own_parameter_checks_its_class(things):
    with pytest.raises(TypeError, match=r"x must be a Thing"):
        things.Thing.consume(42)
