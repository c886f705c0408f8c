"""The canonical ABI compiled: Python source generated per function from its WIT types.

`export_source` writes the caller of an export, `import_source` the trampoline a core
module calls for an import; the per-type pieces come from the types themselves
(`_types`). Generated code runs against a session `_s` (one thread's Store and instance,
see `_fast.Session`) and an ABI context `_cx` (one memory and its realloc: `_cx.m` is a
memoryview of linear memory at least as long as every allocation made so far,
`_cx.alloc(ctx, size, align)` is `cabi_realloc`). Lowering writes through `_cx.m`;
lifting reads a local `_m` (with `_lm = len(_m)`) and raises `OutOfView` when the guest
points past it, so the caller can refresh the view and lift again.

Every name generated code binds starts with `_`: WIT names never do, so parameters (the
only other names) cannot collide with them.
"""

from __future__ import annotations

import struct
from typing import Any

from ._limits import Limits
from ._runtime import HELPERS
from ._structure import Function
from ._types import MAX_BYTE_LENGTH, Int, Own, Tuple, ValType

LIFT_BUDGET_FACTOR = 4  # one lift may build up to this many times the guest's memory
SPAN_COST = 16  # what a list or string inside a list costs the budget besides its bytes
CLOCK_EVERY = 1 << 20  # budget spent between two looks at the call's deadline


class Emitter:
    """Collects generated source lines and the constants they refer to.

    `encoding` is the function's string encoding; `budget` makes lifts charge the lists and
    strings they read inside lists to `_b` (the lifting budget), looking at the call's
    deadline every CLOCK_EVERY of it; `compiled` makes calls into the guest go through the
    compiled call path (`_s.raw`) instead of ctypes; `counting` makes checks add the bytes
    a call will allocate to `_need`.
    """

    def __init__(self, encoding: str = "utf8", *, budget: bool = False, compiled: bool = False):
        self.lines: list[str] = []
        self.depth = 0
        self.names = 0
        self.globals: dict[str, Any] = dict(HELPERS)
        self._consts: dict[Any, str] = {}
        self.encoding = encoding
        self.budget = budget
        self.compiled = compiled
        self.counting = False
        self.needs: list[str] = []  # byte counts of allocations outside loops
        self.needs_in_loops = False  # some are inside loops: summed into `_need` at run time
        self.base_depth = 0
        self.in_lists = 0  # how deep inside list-element loops the lifting code is

    @property
    def encoding_id(self) -> str:
        return self.encoding.replace("+", "_")

    # -- plumbing

    def fresh(self, prefix: str = "v") -> str:
        self.names += 1
        return f"_{prefix}{self.names}"

    def const(self, value: Any, prefix: str = "K") -> str:
        """A global name bound to `value` (one per distinct constant)."""
        if isinstance(value, struct.Struct):
            key: Any = ("struct", value.format)
        elif isinstance(value, (str, int, tuple)):
            key = (type(value).__name__, value)
        else:
            key = ("object", id(value))
        name = self._consts.get(key)
        if name is None:
            name = self.fresh(prefix)
            self._consts[key] = name
            self.globals[name] = value
        return name

    def struct(self, fmt: str) -> str:
        return self.const(struct.Struct("<" + fmt), "S")

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def indent(self) -> _Indent:
        return _Indent(self)

    def bind(self, expr: str, prefix: str = "v") -> str:
        var = self.fresh(prefix)
        self.emit(f"{var} = {expr}")
        return var

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"

    # -- pieces the types ask for

    def need(self, nbytes: str) -> None:
        """Count `nbytes` toward what this call will allocate in the guest."""
        if not self.counting:
            return
        if self.depth > self.base_depth:
            self.needs_in_loops = True
            self.emit(f"_need += {nbytes}")
        else:
            self.needs.append(nbytes)

    def count_needs(self) -> None:
        """Start counting allocations (before the checks of a call's arguments)."""
        self.counting, self.needs, self.needs_in_loops = True, [], False
        self.base_depth = self.depth
        self.emit("_need = 0")

    def check_needs(self, cap: int) -> None:
        """After the checks: refuse a call whose arguments cannot fit in the memory cap."""
        self.counting = False
        total = " + ".join((["_need"] if self.needs_in_loops else []) + self.needs)
        if total:
            self.emit(f"if {total} > {cap}: raise _too_big({total}, {cap})")
        if not self.needs_in_loops:  # `_need = 0` was not needed after all
            self.lines.remove("    " * self.base_depth + "_need = 0")

    def span(self, ptr: str, nbytes: str, align: int) -> None:
        """Check a guest range before reading it: aligned and within the view; and, inside
        a list (where many values may alias the same bytes), within the lifting budget."""
        tests = [f"{ptr} + {nbytes} > _lm", f"{nbytes} > {MAX_BYTE_LENGTH}"]
        if align > 1:
            tests.insert(0, f"{ptr} & {align - 1}")
        self.emit(f"if {' or '.join(tests)}: _bad_span({ptr}, {nbytes}, {align}, _lm)")
        if self.budget and self.in_lists:
            self.emit(f"_b -= {nbytes} + {SPAN_COST}")
            self.emit("if _b < _t: _t = _spend(_s, _b, _lm)")

    def in_list(self) -> _InList:
        """Generate the body of a loop over list elements (see `span`)."""
        return _InList(self)

    def lift_preamble(self, types: list[ValType]) -> None:
        self.emit("_lm = len(_m)")
        if self.budget and any(t.amplifies() for t in types):
            self.emit(f"_b = {LIFT_BUDGET_FACTOR} * _lm")
            self.emit("if _b > _BUDGET: _b = _BUDGET")
            self.emit(f"_t = _b - {CLOCK_EVERY}")


class _Indent:
    def __init__(self, emitter: Emitter) -> None:
        self.emitter = emitter

    def __enter__(self) -> None:
        self.emitter.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.emitter.depth -= 1


class _InList(_Indent):
    def __enter__(self) -> None:
        super().__enter__()
        self.emitter.in_lists += 1

    def __exit__(self, *exc: object) -> None:
        super().__exit__()
        self.emitter.in_lists -= 1


class Plan:
    """How the host calls one function: the indices its generated code uses."""

    __slots__ = ("abi", "core", "post_return")

    def __init__(self, core: int, abi: int | None, post_return: int | None) -> None:
        self.core = core  # index into the session's raw-callable functions (`_s.funcs`)
        self.abi = abi  # index into the session's ABI contexts (`_s.abi`), if it needs memory
        self.post_return = post_return


def _fallible(ty: ValType) -> bool:
    """Can lifting a flat value of `ty` fail (so its lift needs a guard)?"""
    return not isinstance(ty, Int)


def export_source(
    fn: Function,
    plan: Plan,
    em: Emitter,
    limits: Limits,
    *,
    nested: bool = False,
) -> str:
    """The source of the Python function that calls export `fn`; its name is `_export`.

    `limits` decides what a call checks and starts (its clock, its fuel, the memory cap).
    `nested`: the caller of a function one part of a composed component lowers from
    another; it runs inside a call already (the same session, clock and fuel)."""
    timed, fueled, cap = limits.timeout is not None, limits.fuel is not None, limits.memory
    params = fn.params
    flat_params = fn.type.flat_params()
    flat_results = fn.type.flat_results()
    spilled, by_pointer = fn.type.spills()
    allocates = spilled or any(p.type.allocates() for p in params)
    result = fn.result
    if by_pointer:
        assert result is not None
        em.emit("def _lift(_s, _m, _rp):")
        with em.indent():
            em.lift_preamble([result])
            em.emit(f"if _rp & {result.alignment - 1} or _rp + {result.size} > _lm:")
            em.emit(f"    _bad_span(_rp, {result.size}, {result.alignment}, _lm)")
            em.emit(f"return {result.load(em, '_rp')}")

    em.emit(f"def _export({', '.join(p.name for p in params)}):")
    with em.indent():
        if nested:
            em.emit("_s = _local.s")
        else:
            em.emit("try:")
            em.emit("    _s = _local.s")
            em.emit("except AttributeError:")
            em.emit("    _s = _session()")
            em.emit("if _s.in_host:")
            em.emit(f"    raise _reentered({fn.where!r})")
        if any(isinstance(t, Own) for p in params for t in p.type.walk()):
            em.emit("_moved = set()")
        counting = allocates and cap is not None
        if counting:
            em.count_needs()
        prepared = [p.type.check(em, p.name, p.name) for p in params]
        if counting:
            em.check_needs(cap)  # type: ignore[arg-type]
        if timed and not nested:
            em.emit("_s.calls += 1  # starts this call's clock at the next epoch tick")
        if fueled and not nested:
            em.emit("_SET_FUEL(_s.ctx, _FUEL)")
        em.emit("_slots = _s.slots")
        if plan.abi is not None:
            em.emit(f"_cx = _s.abi[{plan.abi}]")
        if allocates:
            em.emit("_ctx = _s.ctx")
            em.emit("try:")
            em.depth += 1
        if spilled:
            whole = Tuple(tuple(p.type for p in params))
            em.emit(f"_sp = _cx.alloc(_ctx, {whole.size}, {whole.alignment})")
            whole.store(em, em.bind(f"({', '.join(prepared)},)"), "_sp")
            exprs = ["_sp"]
        else:
            exprs = [
                e for p, prep in zip(params, prepared, strict=True) for e in p.type.lower(em, prep)
            ]
        for i, expr in enumerate(exprs):
            em.emit(f"_slots[{2 * i}] = {expr}")
        if allocates:
            em.depth -= 1
            em.emit("except BaseException:")
            em.emit("    _s.retire()  # its memory holds a half-lowered call")
            em.emit("    raise")
        n_slots = max(1 if spilled else len(flat_params), 1 if by_pointer else len(flat_results))
        _emit_call(em, str(plan.core), n_slots)
        value = "None"
        if by_pointer:
            em.emit("_rp = _slots[0] & 0xFFFFFFFF")
            em.emit("try:")
            em.emit("    _r = _lift(_s, _cx.m, _rp)")
            em.emit("except BaseException as _x:")
            em.emit("    _r = _s.lift_again(_lift, _cx, _rp, _x)")
            value = "_r"
        elif result is not None:
            if _fallible(result):
                em.emit("try:")
                with em.indent():
                    value = result.lift(em, iter(["_slots[0]"]))
                em.emit("except BaseException as _x:")
                em.emit("    _s.lift_failed(_x)")
            else:
                value = result.lift(em, iter(["_slots[0]"]))
        if plan.post_return is not None:
            _emit_call(em, str(plan.post_return), 1 if by_pointer else len(flat_results))
        em.emit(f"return {value}")
    return em.source()


def _emit_call(em: Emitter, func: str, n_slots: int) -> None:
    if em.compiled:  # the session's prebuilt native call (`_accel.RawCall`)
        em.emit(f"_e = _s.raw[{func}]()")
    else:
        em.emit(
            f"_e = _CALL(_s.ctx, _s.funcs[{func}], _s.call_args, _SIZES[{n_slots}], _s.call_trap)"
        )
    em.emit("if _e or _slots[_s.trap_slot]:")
    em.emit("    _s.fail(_e)")


def import_source(
    fn: Function, abi: int | None, em: Emitter, *, cap: int | None
) -> tuple[str, int]:
    """The source of the raw host function `_trampoline` for import `fn`, and how many
    raw slots its core signature uses (the size of the buffer it reads and writes)."""
    params = fn.params
    flat_params = fn.type.flat_params()
    flat_results = fn.type.flat_results()
    spilled, by_pointer = fn.type.spills()
    params_raw = 1 if spilled else len(flat_params)
    n_raw = max(params_raw + by_pointer, 0 if by_pointer else len(flat_results), 1)
    result = fn.result
    types = [p.type for p in params]

    em.emit("def _lift(_s, _m, _slots):")
    with em.indent():
        em.lift_preamble(types)
        if spilled:
            whole = Tuple(tuple(types))
            em.emit("_ap = _slots[0] & 0xFFFFFFFF")
            em.span("_ap", str(whole.size), whole.alignment)
            em.emit(f"return {whole.load(em, '_ap')}")
        else:
            slots = iter([f"_slots[{2 * i}]" for i in range(len(flat_params))])
            args = [t.lift(em, slots) for t in types]
            em.emit(f"return ({', '.join(args)}{',' if len(args) == 1 else ''})")

    # `try:` comes first, so that nothing runs before the guard (see _interrupts)
    em.emit("def _trampoline(_env, _caller, _raw, _n, _s=None):")
    with em.indent():
        em.emit("try:")
        with em.indent():
            em.emit("_s = _SESSIONS[_env]")
            em.emit("_s.in_host += 1")
            em.emit("try:")
            with em.indent():
                em.emit("if _DEFERRED: _raise_deferred()")
                em.emit("_slots = _RAW.from_address(_raw)")
                if abi is None:
                    em.emit("_args = _lift(_s, _EMPTY, _slots)")
                else:
                    em.emit(f"_cx = _s.abi[{abi}]")
                    em.emit("try:")
                    em.emit("    _args = _lift(_s, _cx.m, _slots)")
                    em.emit("except BaseException as _x:")
                    em.emit("    _args = _s.lift_again(_lift, _cx, _slots, _x)")
                em.emit("_r = _TARGET(*_args)")
                if result is not None:
                    _emit_import_result(em, fn, result, params_raw, by_pointer, cap)
            em.emit("finally:")
            em.emit("    _s.in_host -= 1")
            em.emit("return 0")
        em.emit("except BaseException as _x:")
        em.emit(f"    return _trap_from(_s, _x, {fn.where!r}, _env)")
    return em.source(), n_raw


def _emit_import_result(
    em: Emitter, fn: Function, result: ValType, params_raw: int, by_pointer: bool, cap: int | None
) -> None:
    where = f"result of {fn.where}"
    if any(isinstance(t, Own) for t in result.walk()):
        em.emit("_moved = set()")
    counting = result.allocates() and cap is not None
    if counting:
        em.count_needs()
    prepared = result.check(em, "_r", where)
    if counting:
        em.check_needs(cap)  # type: ignore[arg-type]
    if by_pointer or result.allocates():
        em.emit("_ctx = _c_void_p(_caller_context(_caller))  # allocations re-enter the caller")
    if by_pointer:
        em.emit(f"_rp = _slots[{2 * params_raw}] & 0xFFFFFFFF")
        em.emit(f"_cx.check_range(_ctx, _rp, {result.size}, {result.alignment})")
        result.store(em, prepared, "_rp")
    else:
        (expr,) = result.lower(em, prepared)
        em.emit(f"_slots[0] = {expr}")
