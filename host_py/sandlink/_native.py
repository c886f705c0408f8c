"""The native backend: the kernels' cdylib through ctypes, bound from the WIT.

No sandbox and no portability, but the lowest per-call cost: the reference the wasm
backends are measured against. Nothing here is per kernel: each export's C function, its
argument checks and its result conversion are derived from its WIT types (`_api`), by
the same rules build.rs follows to generate the C side (see its docs): a `string` or
`list<u8>` parameter is (pointer, length); a function with one returns an `i32` status
and any function whose result is not a scalar writes it through a last `out` pointer,
freed by `sandlink_<f>_free`; every function first takes the `SandlinkHost` holding the
callables of the WIT imports.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from . import _api
from .host import Err, Ok, SandlinkError
from .host._checks import INT_RANGES, check_buffer, check_int, check_str
from .host._records import record_class
from .host._runtime import char_code as _char_code
from .host._types import class_name

__all__ = ["NativeExports"]

_OK = 0
_STATUS = {1: "a null pointer with a non-zero length", 2: "text that is not UTF-8"}
_SCALARS: dict[str, Any] = {
    "bool": ctypes.c_bool,
    "u8": ctypes.c_uint8,
    "u16": ctypes.c_uint16,
    "u32": ctypes.c_uint32,
    "u64": ctypes.c_uint64,
    "s8": ctypes.c_int8,
    "s16": ctypes.c_int16,
    "s32": ctypes.c_int32,
    "s64": ctypes.c_int64,
    "f32": ctypes.c_float,
    "f64": ctypes.c_double,
    "char": ctypes.c_uint32,
}
# The first byte of a writable buffer, holding its export; not `(c_char * n).from_buffer`, as
# ctypes caches one array type per length forever.
_char_from_buffer = ctypes.c_char.from_buffer
# A fresh bytes object with uninitialized contents (the C API idiom for "fill this in",
# with a null source: never a shared one-byte singleton, as a copy from a pointer may be),
# which `masked_copy` fills and masks where it lies. Never called with size 0 (that is
# the shared empty singleton). A private prototype, so the shared
# `ctypes.pythonapi.PyBytes_FromStringAndSize` keeps whatever argtypes others give it.
_new_bytes = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_ssize_t)(
    ("PyBytes_FromStringAndSize", ctypes.pythonapi)
)


class _Bytes(ctypes.Structure):
    """`SandlinkList<u8>`: a `string` (UTF-8) or `list<u8>`. POINTER(c_char), not c_void_p:
    `ptr[:len]` makes the bytes in one step, about twice as fast as ctypes.string_at."""

    _fields_ = (("ptr", ctypes.POINTER(ctypes.c_char)), ("len", ctypes.c_size_t))


def _slice_arg(where: str, value: Any) -> tuple[Any, int]:
    """A `list<u8>` argument as (pointer object, length), without copying when it can."""
    if type(value) is bytes:
        return value, len(value)
    view = check_buffer(where, value)
    n = view.nbytes
    if not view.readonly:
        return (ctypes.byref(_char_from_buffer(view)) if n else None), n
    if type(view.obj) is bytes and len(view.obj) == n:
        return view.obj, n  # the whole bytes object: its address, no copy
    raw = view.tobytes()
    return raw, n


class _Types:
    """ctypes forms and converters of WIT types (one per type, made on first use)."""

    def __init__(self, classes: Mapping[str, type]) -> None:
        self.classes = dict(classes)
        self._c: dict[Any, Any] = {}

    def c_type(self, ty: Any) -> Any:
        """The C form of `ty` in results and records."""
        if isinstance(ty, str):
            return _Bytes if ty == "string" else _SCALARS[ty]
        if ty in self._c:
            return self._c[ty]
        kind = ty[0]
        c: Any
        if kind == "list" and ty[1] == "u8":
            c = _Bytes
        elif kind == "list":
            c = _struct(
                "List", ("ptr", ctypes.POINTER(self.c_type(ty[1]))), ("len", ctypes.c_size_t)
            )
        elif kind == "record":
            fields = [(name, self.c_type(t)) for name, t in _api.RECORDS[ty[1]]]
            c = _struct(f"Sandlink_{ty[1]}", *fields)
        elif kind == "result":
            ok, err = (ctypes.c_uint8 if t is None else self.c_type(t) for t in ty[1:])
            c = _struct("Result", ("is_err", ctypes.c_uint8), ("ok", ok), ("err", err))
        elif kind == "option":
            c = _struct("Option", ("is_some", ctypes.c_uint8), ("value", self.c_type(ty[1])))
        else:
            raise SandlinkError(f"the native backend has no C form for WIT {ty!r}")
        self._c[ty] = c
        return c

    def lift(self, ty: Any, expr: str, namespace: dict[str, Any]) -> str:
        """A Python expression for the value of `ty` whose C form is `expr` (as ctypes hands
        it out); the names it uses go into `namespace`."""
        if isinstance(ty, str):
            if ty == "string":
                return f"{expr}.ptr[: {expr}.len].decode()"
            return f"chr({expr})" if ty == "char" else expr
        kind = ty[0]
        if kind == "list" and ty[1] == "u8":
            return f"{expr}.ptr[: {expr}.len]"
        if kind == "list":
            items = f"{expr}.ptr[: {expr}.len]"
            element = self.lift(ty[1], "_x", namespace)
            return items if element == "_x" else f"[{element} for _x in {items}]"
        if kind == "record":
            return f"{self._record_lifter(ty[1], namespace)}({expr})"
        if kind == "result":
            ok = "None" if ty[1] is None else self.lift(ty[1], f"{expr}.ok", namespace)
            err = "None" if ty[2] is None else self.lift(ty[2], f"{expr}.err", namespace)
            namespace.update(_Ok=Ok, _Err=Err)
            return f"(_Err({err}) if {expr}.is_err else _Ok({ok}))"
        if kind == "option":
            value = self.lift(ty[1], f"{expr}.value", namespace)
            return f"({value} if {expr}.is_some else None)"
        raise SandlinkError(f"the native backend has no C form for WIT {ty!r}")

    def _record_lifter(self, name: str, namespace: dict[str, Any]) -> str:
        """The name of a function making record `name` from its C struct (defined once)."""
        function = f"_lift_{name.replace('-', '_')}"
        if function not in namespace:
            namespace[function] = None  # a record containing itself is not possible in WIT
            cls = f"_C_{name.replace('-', '_')}"
            namespace[cls] = self.record_class(name)
            lines, values = [f"def {function}(_c):"], []
            for i, (field, t) in enumerate(_api.RECORDS[name]):
                if issubclass(self.c_type(t), ctypes.Structure):
                    # Each read of a struct field makes a new ctypes object: read it once.
                    lines.append(f"    _{i} = _c.{field}")
                    values.append(self.lift(t, f"_{i}", namespace))
                else:
                    values.append(self.lift(t, f"_c.{field}", namespace))
            lines.append(f"    return {cls}({', '.join(values)})")
            source = "\n".join(lines) + "\n"
            exec(compile(source, f"<sandlink native {name}>", "exec"), namespace)
        return function

    def record_class(self, name: str) -> type:
        cls = self.classes.get(name)
        if cls is None:
            fields = [field for field, _ in _api.RECORDS[name]]
            cls = record_class(class_name(name), tuple(fields), "sandlink.records")
            self.classes[name] = cls
        return cls


def _struct(name: str, *fields: tuple[str, Any]) -> type:
    return type(name, (ctypes.Structure,), {"_fields_": fields})


def _is_slice(ty: Any) -> bool:
    result: bool = ty == "string" or ty == ("list", "u8")
    return result


def _status_error(function: str, status: int) -> SandlinkError:
    why = _STATUS.get(status, f"status {status}")
    return SandlinkError(f"sandlink_{function} refused its arguments: {why}")


class NativeExports:
    """The kernels' exports from the cdylib, each bound from its WIT types.

    `imports` gives the WIT imports' callables, as for `load_component`
    (`{"host": {"print": callable}}`). Exported functions become attributes (Python
    spelling), taking and returning what the component would.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        imports: Mapping[str, Mapping[str, Callable[..., Any]]],
        classes: Mapping[str, type],
    ) -> None:
        self._lib = lib = ctypes.CDLL(os.fspath(path))
        self._types = types = _Types(classes)
        self._failures: list[tuple[int, BaseException]] = []  # what host callables raised
        self._callbacks: list[Any] = []
        self._host = self._make_host(imports)
        host = ctypes.c_void_p(ctypes.addressof(self._host))
        for wit_name, (name, params, result) in _api.EXPORTS.items():
            fn = self._bind(lib, wit_name, name, params, result, host, types)
            fn.__doc__ = _api.DOCS.get(name) or None
            setattr(self, name, fn)
        # The one export that is not a WIT function: masking into memory the caller owns.
        self._mask_into = lib.sandlink_ws_mask_into
        self._mask_into.restype = ctypes.c_int32
        self._mask_into.argtypes = (
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint32,
            ctypes.c_uint32,
        )

    def mask_in_place(self, view: memoryview, key: int, offset: int) -> None:
        """`ws-mask` of the writable `view`, in place (no copy)."""
        n = view.nbytes
        if n:
            # byref keeps the export (and so the buffer's size) alive until the call returns.
            where = ctypes.byref(_char_from_buffer(view))
            status = self._mask_into(where, where, n, key, offset)
            if status != _OK:
                raise _status_error("ws_mask_into", status)

    def masked_copy(self, payload: Any, key: int, offset: int) -> bytes:
        """`ws-mask` with one copy: into a new bytes object, in one call."""
        source, n = _slice_arg("payload", payload)
        if type(key) is not int or not 0 <= key <= 0xFFFF_FFFF:
            check_int("key", "u32", key)
        if type(offset) is not int or not 0 <= offset <= 0xFFFF_FFFF:
            check_int("offset", "u32", offset)
        if not n:
            return b""
        out = _new_bytes(None, n)  # a fresh, unshared bytes object: ours to fill
        status = self._mask_into(source, out, n, key, offset)
        if status != _OK:
            raise _status_error("ws_mask_into", status)
        result: bytes = out
        return result

    # -- the imports: a SandlinkHost of ctypes callbacks

    def _make_host(self, imports: Mapping[str, Mapping[str, Callable[..., Any]]]) -> Any:
        given = {name: fn for functions in imports.values() for name, fn in functions.items()}
        fields: list[tuple[str, Any]] = [("ctx", ctypes.c_void_p)]
        values = []
        for wit_name, (name, params, result) in _api.IMPORTS.items():
            target = given.get(wit_name, given.get(name))
            if target is None:
                raise SandlinkError(f"missing import: {wit_name}")
            argtypes: list[Any] = []
            for _, ty in params:
                argtypes += [ctypes.c_void_p, ctypes.c_size_t] if _is_slice(ty) else [_SCALARS[ty]]
            restype = None if result is None else _SCALARS[result]
            prototype = ctypes.CFUNCTYPE(restype, ctypes.c_void_p, *argtypes)
            callback = prototype(self._callback(target, params, result))
            self._callbacks.append(callback)
            fields.append((wit_name.replace("-", "_"), prototype))
            values.append(callback)
        return _struct("SandlinkHost", *fields)(None, *values)

    def _callback(self, target: Callable[..., Any], params: Any, result: Any) -> Callable[..., Any]:
        """The Python function behind an import's C callback: C arguments in, `target`
        called, its exception kept for the export call to raise (ctypes would only print
        it)."""
        raw, args = [], []
        for pname, ty in params:
            if _is_slice(ty):
                raw += [f"{pname}_ptr", f"{pname}_len"]
                value = f"_string_at({pname}_ptr, {pname}_len)"
                args.append(f"{value}.decode()" if ty == "string" else value)
            else:
                raw.append(pname)
                args.append(f"chr({pname})" if ty == "char" else pname)
        fallback = "None" if result is None else "0"
        source = (
            f"def _callback(_ctx, {', '.join(raw)}):\n"
            "    try:\n"
            f"        return _target({', '.join(args)})\n"
            "    except BaseException as _exc:\n"
            "        _failures.append((_get_ident(), _exc))\n"
            f"        return {fallback}\n"
        )
        namespace: dict[str, Any] = {
            "_target": target,
            "_failures": self._failures,
            "_get_ident": threading.get_ident,
            "_string_at": ctypes.string_at,
        }
        exec(compile(source, "<sandlink native import>", "exec"), namespace)
        callback: Callable[..., Any] = namespace["_callback"]
        return callback

    def _raise_failure(self) -> None:
        me = threading.get_ident()
        for i, (thread, exc) in enumerate(self._failures):
            if thread == me:
                del self._failures[i]
                try:
                    raise exc
                finally:
                    exc = None  # type: ignore[assignment]  # no frame <-> traceback cycle

    # -- the exports

    def _bind(
        self,
        lib: Any,
        wit_name: str,
        name: str,
        params: Any,
        result: Any,
        host: Any,
        types: _Types,
    ) -> Callable[..., Any]:
        c_name = wit_name.replace("-", "_")
        function = getattr(lib, f"sandlink_{c_name}")
        fallible = any(_is_slice(ty) for _, ty in params)
        direct = not fallible and (
            result is None or (isinstance(result, str) and result != "string")
        )
        argtypes: list[Any] = [ctypes.c_void_p]
        lines = [f"def {name}({', '.join(p for p, _ in params)}):"]
        args = ["_host"]
        namespace: dict[str, Any] = {
            "_host": host,
            "_check_int": check_int,
            "_check_str": check_str,
            "_slice": _slice_arg,
            "_failures": self._failures,
            "_raise": self._raise_failure,
            "_status": _status_error,
            "_float": _float,
            "_char": _char_code,
            "_bool": _bool,
        }
        for pname, ty in params:
            if ty == "string":
                lines.append(f"    if type({pname}) is str and {pname}.isascii():")
                lines.append(f"        {pname} = {pname}.encode()")
                lines.append("    else:")
                lines.append(f"        {pname} = _check_str({pname!r}, {pname}).encode()")
                args += [pname, f"len({pname})"]
                argtypes += [ctypes.c_char_p, ctypes.c_size_t]
            elif ty == ("list", "u8"):
                lines.append(f"    {pname}, _n_{pname} = _slice({pname!r}, {pname})")
                args += [pname, f"_n_{pname}"]
                argtypes += [ctypes.c_void_p, ctypes.c_size_t]
            elif ty in INT_RANGES:
                lo, hi = INT_RANGES[ty]
                lines.append(f"    if type({pname}) is not int or not {lo} <= {pname} <= {hi}:")
                lines.append(f"        {pname} = _check_int({pname!r}, {ty!r}, {pname})")
                args.append(pname)
                argtypes.append(_SCALARS[ty])
            elif ty in ("f32", "f64"):
                lines.append(f"    {pname} = _float({pname!r}, {pname}, {ty!r})")
                args.append(pname)
                argtypes.append(_SCALARS[ty])
            elif ty in ("char", "bool"):
                lines.append(f"    {pname} = _{ty}({pname!r}, {pname})")
                args.append(pname)
                argtypes.append(_SCALARS[ty])
            else:
                raise SandlinkError(f"the native backend cannot pass a WIT {ty!r} parameter")
        if direct:
            function.restype = None if result is None else _SCALARS[result]
            lines.append(f"    _r = _f({', '.join(args)})")
            lines.append("    if _failures: _raise()")
            value = "_r" if result != "char" else "chr(_r)"
            lines.append(f"    return {None if result is None else value}")
        else:
            function.restype = ctypes.c_int32
            out_type: Any = None
            lift = ""
            if result is not None:
                out_type = types.c_type(result)
                argtypes.append(ctypes.POINTER(out_type))
                namespace["_Out"] = out_type
                # A scalar's C form is a ctypes instance: its value is `.value`.
                scalar = isinstance(result, str) and result != "string"
                lift = types.lift(result, "_out.value" if scalar else "_out", namespace)
                lines.append("    _out = _Out()")
                args.append("_out")
            lines.append(f"    _s = _f({', '.join(args)})")
            lines.append("    if _failures: _raise()")
            lines.append(f"    if _s != 0: raise _status({c_name!r}, _s)")
            if result is not None:
                free = getattr(lib, f"sandlink_{c_name}_free", None)
                if free is not None:
                    free.restype = None
                    free.argtypes = (ctypes.POINTER(out_type),)
                    namespace["_free"] = free
                    lines += [
                        "    try:",
                        f"        return {lift}",
                        "    finally:",
                        "        _free(_out)",
                    ]
                else:
                    lines.append(f"    return {lift}")
        function.argtypes = argtypes
        namespace["_f"] = function
        exec(compile("\n".join(lines) + "\n", f"<sandlink native {wit_name}>", "exec"), namespace)
        made: Callable[..., Any] = namespace[name]
        return made


def _float(where: str, value: Any, kind: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{where} must be a float ({kind}), not {type(value).__name__}")
    return float(value)


def _bool(where: str, value: Any) -> bool:
    if type(value) is not bool:
        raise TypeError(f"{where} must be a bool, not {type(value).__name__}")
    return value
