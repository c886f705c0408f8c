"""The `wasm` backend's two call paths: the compiled one (`sandlink.host._accel`) and the
pure-Python one. The whole suite runs on each (`just test`: the second time with
SANDLINK_PURE=1); these tests check which one runs, and that they agree call for call."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sandlink
import sandlink.host
from conftest import Recorder, host, same, strategy, wat_builder
from sandlink import Limits

PURE = os.environ.get("SANDLINK_PURE") == "1"


def test_the_compiled_path_is_on_unless_turned_off():
    # Not a skip: a build that lost the extension must fail here, not run pure twice.
    assert sandlink.host.COMPILED is (not PURE)
    k = sandlink.load(cache_dir=False)
    assert host(k.exports).compiled is (not PURE)
    add = k.exports.add
    if PURE:  # generated Python, calling through ctypes
        assert "_CALL(" in add.__sandlink_source__
    else:  # the whole call compiled (builtin functions of an `Export`), resource methods too
        buffer = k.buffer(4)
        for fn in (add, k.exports.Buffer.read, buffer.resource.read.__func__):
            export = type(fn.__self__)
            assert (export.__name__, export.__module__) == ("Export", "sandlink.host._accel")
    # No generated Python at all; the host functions the guest calls (`print`) compiled too.
    assert bool(host(k.exports)._codes) is PURE
    imports = [cb for ref, (cb, _) in host(k.exports).callbacks.items() if ref.kind == "lower"]
    assert len(imports) == 1
    assert (type(imports[0]).__name__ == "Import") is (not PURE)


def test_compiled_is_checked():
    with pytest.raises(TypeError, match="compiled"):
        sandlink.load(compiled=1)
    with pytest.raises(ValueError, match="oracle"):
        sandlink.load("oracle", compiled=False)
    with pytest.raises(ValueError, match="native"):
        sandlink.load("native", compiled=True)
    if PURE:
        with pytest.raises(sandlink.SandlinkError, match="SANDLINK_PURE"):
            sandlink.load(compiled=True)
    assert host(sandlink.load(compiled=False).exports).compiled is False


needs_compiled = pytest.mark.skipif(PURE, reason="the compiled path is off (SANDLINK_PURE=1)")


@needs_compiled
def test_the_kernels_agree_on_both_paths():
    fast = sandlink.load(compiled=True, cache_dir=False)
    pure = sandlink.load(compiled=False, cache_dir=False)
    key = b"\x37\xfa\x21\x3d"
    for data in (b"", b"x", bytes(range(256)) * 17):
        for offset in (0, 1, 2, 3, 5):
            assert fast.ws_mask(data, key, offset) == pure.ws_mask(data, key, offset)
    doc = '{"name": "Zoë", "age": 25, "cars": ["Audi"], "friends": [{"name": "B", "age": 2}]}'
    assert fast.parse_person(doc) == pure.parse_person(doc)
    assert fast.add(2**32 - 1, 7) == pure.add(2**32 - 1, 7) == 6
    with fast.buffer(4096) as a, pure.buffer(4096) as b:
        a.write(bytes(range(256)) * 16)
        b.write(bytes(range(256)) * 16)
        fast.ws_mask_into(a, key, 3)
        pure.ws_mask_into(b, key, 3)
        assert a.read() == b.read()


@pytest.fixture(scope="module")
def both_paths(alltypes_wasm):
    fast = sandlink.load_component(alltypes_wasm, imports=Recorder().imports(), compiled=True)
    pure = sandlink.load_component(
        alltypes_wasm,
        imports=Recorder().imports(),
        classes=host(fast).record_classes,
        compiled=False,
    )
    functions = [
        f.name
        for f in host(fast).exports
        if f.kind == "function" and f.name not in ("hold", "fail", "counter", "call_host")
    ]
    return fast, pure, functions


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_every_alltypes_export_agrees_on_both_paths(both_paths, data):
    fast, pure, functions = both_paths
    name = data.draw(st.sampled_from(functions), label="function")
    fn = next(f for f in host(fast).exports if f.name == name)
    args = [data.draw(strategy(p.type), label=p.name) for p in fn.params]
    got, expected = outcome(getattr(fast, name), args), outcome(getattr(pure, name), args)
    assert got[0] == expected[0], (got, expected)  # the same value, or the same exception
    assert same(got[1], expected[1]) if got[0] == "value" else got == expected


@needs_compiled
def test_exports_bind_arguments_as_python_functions_do(both_paths):
    """Compiled exports are builtin functions: the same signature (`inspect`), and the same
    binding, keywords included, and binding errors as the generated Python functions."""
    fast, pure, functions = both_paths
    for name in functions:
        fn = next(f for f in host(fast).exports if f.name == name)
        compiled, generated = getattr(fast, name), getattr(pure, name)
        names = [p.name for p in fn.params]
        assert list(inspect.signature(compiled).parameters) == names, name
        assert list(inspect.signature(generated).parameters) == names, name
        too_many = (None,) * (len(names) + 1)
        for args, kwargs in [(too_many, {}), ((), {"nope": 1}), ((), {})]:
            if not names and not args and not kwargs:
                continue  # a valid call
            assert binding(compiled, args, kwargs) == binding(generated, args, kwargs), name
        if names:  # the first argument twice, and every argument by keyword
            twice = binding(compiled, (None,), {names[0]: None})
            assert twice == binding(generated, (None,), {names[0]: None})
            assert "multiple values" in twice
    k, pure_k = sandlink.load(cache_dir=False), sandlink.load(compiled=False, cache_dir=False)
    assert k.add(b=2, a=40) == pure_k.add(b=2, a=40) == 42
    assert k.ws_mask(payload=b"abc", key=1, offset=2) == pure_k.ws_mask(b"abc", 1, 2)
    assert k.add.__doc__ == pure_k.add.__doc__ and "modulo" in k.add.__doc__


PATHS = [False] if PURE else [True, False]


class Boom(Exception):
    pass


@pytest.mark.parametrize("compiled", PATHS)
@pytest.mark.parametrize(
    "raised", [Boom("from the host"), MemoryError(), RecursionError(), KeyboardInterrupt()]
)
def test_an_import_that_raises_fails_the_call_with_its_exception(alltypes_wasm, compiled, raised):
    """Whatever a host function raises (even what Python raises when it runs out of memory
    or stack) becomes a trap, and the call raises that very exception; never fails open."""

    def combine(a, b, tag):
        raise raised

    imports = with_import(Recorder(), combine=combine)
    api = sandlink.load_component(alltypes_wasm, imports=imports, compiled=compiled)
    point = host(api).record_classes["point"]
    assert api.counter() == 1
    with pytest.raises(type(raised)) as caught:
        api.call_host("m", 1, 1.0, [1], point(1, 2))
    assert caught.value is raised
    assert api.counter() == 1  # a fresh instance
    assert api.echo_string("still works") == "still works"


@pytest.mark.parametrize(
    "returned, error",
    [(42, TypeError), ("\ud800", ValueError), (None, TypeError), (b"bytes", TypeError)],
)
def test_an_import_returning_a_bad_value_fails_alike_on_both_paths(alltypes_wasm, returned, error):
    messages = set()
    for compiled in PATHS:
        imports = with_import(Recorder(), combine=lambda a, b, tag: returned)
        api = sandlink.load_component(alltypes_wasm, imports=imports, compiled=compiled)
        with pytest.raises(error, match="combine") as caught:
            api.call_host("m", 1, 1.0, [1], host(api).record_classes["point"](1, 2))
        messages.add(str(caught.value))
    assert len(messages) == 1, messages


HOSTILE = Path(__file__).parent / "hostile"


@pytest.fixture(scope="module")
def encodings(tmp_path_factory):
    """The utf16 and latin1+utf16 fixtures, loaded on both paths."""
    build = wat_builder(HOSTILE, tmp_path_factory.mktemp("encodings"))
    loaded = {}
    for name in ("utf16_strings", "latin1_utf16_strings"):
        path = build(name)
        loaded[name] = [sandlink.load_component(path, compiled=c) for c in PATHS]
    return loaded


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_utf16_and_latin1_strings_agree_on_both_paths(encodings, text):
    """Other string encodings run compiled too: the same text back, the same errors (a lone
    surrogate cannot be encoded in any of them)."""
    for name, (fast, pure) in encodings.items():
        assert type(fast.echo.__self__).__name__ == "Export", name
        got, expected = outcome(fast.echo, [text]), outcome(pure.echo, [text])
        assert got == expected, (name, got, expected)
        if got[0] == "value":
            assert got[1] == text


@needs_compiled
def test_unencodable_strings_fail_alike_on_both_paths(encodings):
    for name, (fast, pure) in encodings.items():
        for bad in ("\ud800", "x\udfffy", 7, b"bytes"):
            got, expected = outcome(fast.echo, [bad]), outcome(pure.echo, [bad])
            assert got == expected and got[0] in ("ValueError", "TypeError"), (name, got)


def with_import(recorder, **replaced):
    """The recorder's imports, some replaced."""
    ((interface, functions),) = recorder.imports().items()
    return {interface: {**functions, **replaced}}


def binding(function, args, kwargs):
    """The TypeError calling `function` raises for a call that cannot bind."""
    with pytest.raises(TypeError) as caught:
        function(*args, **kwargs)
    return str(caught.value)


def outcome(function, args):
    """("value", what it returned) or (exception type name, its message)."""
    try:
        return "value", function(*args)
    except sandlink.SandlinkError as exc:  # a guest trap: its message names wasm offsets
        return type(exc).__name__, ""
    except Exception as exc:
        return type(exc).__name__, str(exc)


@needs_compiled
def test_a_timeout_fires_while_python_is_busy(faults_wasm):
    """The native ticker needs no GIL: a spinning guest times out even while another
    thread runs pure Python flat out (it would too with the Python ticker, late)."""
    script = textwrap.dedent(
        f"""
        import threading, sandlink
        from sandlink import Limits
        guest = sandlink.load_component(
            {str(faults_wasm)!r}, imports={{"host": {{"tick": lambda n: n + 1}}}},
            limits=Limits(timeout=0.2), cache_dir=False)
        assert guest.__sandlink__.compiled
        stop = False
        def busy():
            n = 0
            while not stop:
                n += 1
        t = threading.Thread(target=busy)
        t.start()
        try:
            guest.spin()
        except sandlink.Timeout:
            print("timed out")
        finally:
            stop = True
            t.join()
        assert guest.double(4) == 8
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "timed out"


def test_calls_and_limits_hold_on_the_pure_path_too(faults_wasm):
    guest = sandlink.load_component(
        faults_wasm,
        imports={"host": {"tick": lambda n: n + 1}},
        limits=Limits(timeout=0.2),
        cache_dir=False,
        compiled=False,
    )
    assert guest.double(21) == 42
    assert guest.call_host(5) == 5
    with pytest.raises(sandlink.Timeout):
        guest.spin()
    with pytest.raises(sandlink.GuestTrap):
        guest.crash()
    assert guest.double(4) == 8


@pytest.mark.parametrize("compiled", [True, False])
def test_a_guest_list_longer_than_the_abi_allows_traps_on_both_paths(alltypes_wasm, compiled):
    """One byte past the canonical ABI's longest list: a trap, wherever it lies (found by
    the differential test above: the pure path used to check it only out of its view)."""
    if compiled and PURE:
        pytest.skip("the compiled path is off (SANDLINK_PURE=1)")
    c = sandlink.load_component(
        alltypes_wasm, imports=Recorder().imports(), cache_dir=False, compiled=compiled
    )
    with pytest.raises(sandlink.GuestTrap, match="longer than the ABI allows"):
        c.make_bytes(1 << 28, 7)
    assert c.make_bytes(3, 7) == b"\x07\x07\x07"
