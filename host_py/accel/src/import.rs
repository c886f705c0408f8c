//! [`Import`]: a host function a component imports (`canon lower`), called back natively.
//!
//! wasmtime calls [`trampoline`] with the GIL released (the raw call that entered the guest
//! released it). It takes the GIL, and then nothing it does can fail open: every Python
//! exception and every panic becomes a trap, the exception kept for the call to raise
//! (`_fast._trap_from`), and when even that fails, a trap made here. Arguments are lifted
//! with every guest pointer, length, discriminant and string checked and the lifting
//! budget, the user's function is called, its result checked before the guest is touched
//! and lowered (allocating through the caller, as a host function must). What
//! `_codegen.import_source` writes in Python for the pure path.
use std::ffi::c_void;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;

use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::guard::failed_trap;
use crate::guest::{trap, Abi, CoreState, Memory};
use crate::helpers::Helpers;
use crate::lift::Lifter;
use crate::lower::{lower, store, Checker, Where};
use crate::ty::{Signature, Ty};
use crate::wasmtime::api;

/// How to call one import back, as `FastHost._define_imports` plans it.
#[derive(FromPyObject)]
struct Plan {
    #[pyo3(attribute("where"))]
    where_: Py<PyString>,
    /// The user's function.
    target: Py<PyAny>,
    helpers: Py<Helpers>,
    signature: Signature,
    /// Raw slots the parameters take (1 when spilled); the result pointer comes after.
    params_raw: usize,
    /// Raw slots the function's core type uses (what wasmtime must pass at least).
    n_raw: usize,
    /// `Limits.memory`: results that allocate are checked against it.
    cap: Option<u64>,
}

#[pyclass(frozen, module = "sandlink.host._accel")]
pub struct Import {
    plan: Plan,
    /// "result of <where>", for messages.
    result_where: String,
    /// Does lifting the arguments charge a budget (see `Ty::amplifies`)?
    amplifies: bool,
    /// Does lowering the result allocate (then it is checked against `Limits.memory`)?
    result_allocates: bool,
    /// (size, alignment, offsets) of the parameters as one tuple, when they spill.
    spilled: Option<(u32, u32, Vec<u32>)>,
}

#[pymethods]
impl Import {
    #[new]
    fn new(py: Python<'_>, plan: Plan) -> PyResult<Self> {
        api()?;
        let params = &plan.signature.params;
        let spilled = plan.signature.spilled_layout();
        Ok(Import {
            result_where: format!("result of {}", plan.where_.bind(py)),
            amplifies: params.iter().any(Ty::amplifies),
            result_allocates: plan.signature.result.as_ref().is_some_and(Ty::allocates),
            spilled,
            plan,
        })
    }
}

/// The address of [`trampoline`], for `wasmtime_func_new_unchecked`.
#[pyfunction]
pub fn import_trampoline() -> usize {
    trampoline as *const () as usize
}

/// What one import's host function in one session points at (its `env`): made by
/// `SessionCore.bind_import`, owned by the session's state, which outlives its store's calls.
pub struct Binding {
    pub import: Py<Import>,
    pub state: *const CoreState,
    pub memory: usize,
    pub realloc: usize,
}

/// A host function running on a session (`Session.in_host`, which refuses re-entry), for as
/// long as this lives.
struct InHost<'a>(&'a CoreState);

impl<'a> InHost<'a> {
    fn enter(state: &'a CoreState) -> Self {
        state.in_host.fetch_add(1, Ordering::Relaxed);
        InHost(state)
    }
}

impl Drop for InHost<'_> {
    fn drop(&mut self) {
        self.0.in_host.fetch_sub(1, Ordering::Relaxed);
    }
}

/// wasmtime's `wasmtime_func_unchecked_callback_t`: returns 0, or the `wasm_trap_t*` to raise.
///
/// # Safety
/// `env` is a [`Binding`] of a live session (see `SessionCore.bind_import`), `caller` the
/// caller wasmtime passes, `raw` its `n` raw slots (16 bytes each).
unsafe extern "C" fn trampoline(
    env: *mut c_void,
    caller: *mut c_void,
    raw: *mut u64,
    n: usize,
) -> *mut c_void {
    // SAFETY: wasmtime calls this on the thread that entered the guest, which released the
    // GIL for it (`wasmtime::call`); PyGILState_Ensure takes it back for this thread.
    let gil = unsafe { ffi::PyGILState_Ensure() };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: this thread holds the GIL (above); `env` is a live Binding (contract).
        let (py, binding) = unsafe { (Python::assume_attached(), &*(env as *const Binding)) };
        binding.call(py, caller as usize, raw, n)
    }));
    let trap = outcome.unwrap_or_else(|_| failed_trap());
    // SAFETY: the state PyGILState_Ensure returned, on the same thread.
    unsafe { ffi::PyGILState_Release(gil) };
    trap as *mut c_void
}

impl Binding {
    /// Runs the import: 0, or the trap to return (never fails open).
    fn call(&self, py: Python<'_>, caller: usize, raw: *mut u64, n: usize) -> usize {
        // SAFETY: the state owns this binding, so it is alive while the binding is.
        let state = unsafe { &*self.state };
        let import = self.import.get();
        let session = state.session_if_alive(py);
        let outcome = {
            let _in_host = InHost::enter(state); // left even if what runs panics
            match &session {
                Some(session) => self.run(py, import, session, caller, raw, n),
                None => Err(PyValueError::new_err("the session of this call is gone")),
            }
        };
        let Err(err) = outcome else {
            return 0;
        };
        let exc = err.into_value(py).into_any();
        let h = import.plan.helpers.get();
        let session = session.map_or_else(|| py.None().into_bound(py), Bound::into_any);
        let where_ = import.plan.where_.bind(py);
        match h.trap_from.call1(py, (session, exc.clone_ref(py), where_)) {
            Ok(trap) => trap.extract::<usize>(py).ok().filter(|&t| t != 0),
            Err(_) => None,
        }
        .unwrap_or_else(|| {
            // `_trap_from` could not run (say, at the recursion limit): keep it natively.
            state.keep_pending(exc);
            failed_trap()
        })
    }

    fn run(
        &self,
        py: Python<'_>,
        import: &Import,
        session: &Bound<'_, PyAny>,
        caller: usize,
        raw: *mut u64,
        n: usize,
    ) -> PyResult<()> {
        let plan = &import.plan;
        let h = plan.helpers.get();
        if !h.deferred.bind(py).is_empty() {
            h.raise_deferred.call0(py)?; // a signal noted while no Python could run
        }
        if n < plan.n_raw {
            return Err(trap(
                py,
                h,
                "a host function got fewer raw slots than its type has",
            ));
        }
        // SAFETY: `raw` holds `n` 16-byte slots (contract), at least `n_raw` (checked).
        let slot = |i: usize| unsafe { raw.add(2 * i) };
        let a = api()?;
        // Allocations re-enter the guest through the caller, as a host function must.
        // SAFETY: the caller wasmtime passed to this host function.
        let context = unsafe { (a.caller_context)(caller as *mut c_void) } as usize;
        let abi = Abi {
            context,
            memory: self.memory,
            realloc: self.realloc,
        };
        // SAFETY: the state owns this binding, so it is alive while the binding is.
        let state = unsafe { &*self.state };
        let reps = state.started().map_or(&[][..], |a| &a.reps[..]); // none in start functions
        let mut memory = Memory::new(py, session, h, abi, reps);

        let mut args = Vec::with_capacity(plan.signature.params.len());
        {
            let mut lifter = Lifter::new(
                py,
                h,
                &mut memory,
                import.amplifies,
                plan.signature.encoding,
            )?;
            if let Some((size, align, offs)) = &import.spilled {
                // SAFETY: slot 0 exists (n_raw >= 1).
                let ap = unsafe { *slot(0) } & 0xFFFF_FFFF;
                lifter.m.span(ap, u64::from(*size), *align)?;
                for (ty, off) in plan.signature.params.iter().zip(offs) {
                    args.push(lifter.load(ty, ap + u64::from(*off))?);
                }
            } else {
                // SAFETY: the parameters' flat slots are within `n_raw`.
                let mut flat = (0..plan.params_raw).map(|i| unsafe { *slot(i) });
                for ty in &plan.signature.params {
                    args.push(lifter.lift(ty, &mut flat)?);
                }
            }
        }

        let returned = plan.target.bind(py).call1(PyTuple::new(py, args)?)?;

        let Some(ty) = &plan.signature.result else {
            return Ok(());
        };
        let mut checker = Checker {
            py,
            h,
            session,
            moved: None,
            need: 0,
            encoding: plan.signature.encoding,
        };
        let prep = checker.check(ty, &returned, Where::Param(&import.result_where))?;
        if let Some(cap) = plan.cap {
            if import.result_allocates && checker.need > cap {
                let exc = h.too_big.call1(py, (checker.need, cap))?;
                return Err(PyErr::from_value(exc.into_bound(py)));
            }
        }
        if plan.signature.by_pointer {
            // SAFETY: the result pointer's slot follows the parameters' (within `n_raw`).
            let rp = unsafe { *slot(plan.params_raw) } & 0xFFFF_FFFF;
            memory.return_area(rp, ty.size, ty.align)?;
            store(ty, &prep, &mut memory, rp)
        } else {
            let mut flat = Vec::with_capacity(1);
            lower(ty, &prep, &mut memory, &mut flat)?;
            for (i, value) in flat.into_iter().enumerate() {
                // SAFETY: a flat result fits the slots (`n_raw` covers the results).
                unsafe { *slot(i) = value };
            }
            Ok(())
        }
    }
}
