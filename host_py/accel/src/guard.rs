//! Native guards around the Python raw callbacks of a compiled session: the epoch deadline
//! callback and the resource intrinsics (`resource.new`, `.rep`, `.drop`).
//!
//! Called by ctypes, a Python callback can fail before its first instruction (a
//! RecursionError when the guest was entered near the recursion limit, a MemoryError): the
//! exception escapes before its `try:`, ctypes leaves the return value unset and wasmtime
//! takes garbage for an error or a trap pointer, which crashes the interpreter. Behind
//! these guards the Python function runs with the GIL taken here, and whatever escapes it,
//! exception or panic, becomes a wasmtime error or trap made here, the exception kept for
//! the call to raise.
use std::ffi::c_void;
use std::panic::AssertUnwindSafe;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::guest::CoreState;
use crate::wasmtime::api;

/// A Python raw callback of one session, and the clock id it is called with first.
pub struct Guard {
    pub function: Py<PyAny>,
    pub id: u64,
    pub state: *const CoreState,
}

/// The addresses of the guards' trampolines: (epoch deadline, raw host function).
#[pyfunction]
pub fn guarded_trampolines() -> (usize, usize) {
    (
        guarded_deadline as *const () as usize,
        guarded_callback as *const () as usize,
    )
}

/// Runs `call` with the GIL; whatever escapes it is kept for the call and gives `failed()`.
///
/// # Safety
/// `env` is a [`Guard`] of a live session (`SessionCore.guard`), on the thread running its
/// guest, which released the GIL to run it.
unsafe fn guarded(
    env: *mut c_void,
    call: impl FnOnce(Python<'_>, &Guard) -> PyResult<usize>,
    failed: fn() -> usize,
) -> usize {
    // SAFETY: the contract above; PyGILState_Ensure takes the GIL back for this thread.
    let gil = unsafe { ffi::PyGILState_Ensure() };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: this thread holds the GIL; `env` is a live Guard (contract).
        let (py, guard) = unsafe { (Python::assume_attached(), &*(env as *const Guard)) };
        call(py, guard).unwrap_or_else(|exc| {
            // SAFETY: the session's state owns the guard, so it is alive.
            unsafe { &*guard.state }.keep_pending(exc.into_value(py).into_any());
            failed()
        })
    }));
    let result = outcome.unwrap_or_else(|_| failed());
    // SAFETY: the state PyGILState_Ensure returned, on the same thread.
    unsafe { ffi::PyGILState_Release(gil) };
    result
}

/// `wasmtime_store_epoch_deadline_callback`'s callback: `function(id)` says 0 (go on, for
/// one more tick) or the `wasmtime_error_t*` that stops the call.
unsafe extern "C" fn guarded_deadline(
    _context: *mut c_void,
    env: *mut c_void,
    delta: *mut u64,
    kind: *mut u8,
) -> *mut c_void {
    // SAFETY: wasmtime's out-parameters; "continue, one tick later" unless an error stops it.
    unsafe {
        *delta = 1;
        *kind = 0;
    }
    let call = |py: Python<'_>, g: &Guard| g.function.call1(py, (g.id,))?.extract::<usize>(py);
    // SAFETY: wasmtime passes the env registered with the callback (a Guard).
    unsafe { guarded(env, call, interrupted) as *mut c_void }
}

/// A raw host function's callback: `function(id, caller, args_and_results, n)` returns 0 or
/// the `wasm_trap_t*` to raise.
unsafe extern "C" fn guarded_callback(
    env: *mut c_void,
    caller: *mut c_void,
    raw: *mut c_void,
    n: usize,
) -> *mut c_void {
    let call = |py: Python<'_>, g: &Guard| {
        let args = (g.id, caller as usize, raw as usize, n);
        g.function.call1(py, args)?.extract::<usize>(py)
    };
    // SAFETY: wasmtime passes the env registered with the function (a Guard).
    unsafe { guarded(env, call, failed_trap) as *mut c_void }
}

/// A wasmtime error that stops the call (made without Python).
fn interrupted() -> usize {
    // SAFETY: a NUL-terminated message; wasmtime copies it.
    (unsafe { (bound().error_new)(c"sandlink: interrupted".as_ptr()) }) as usize
}

/// A trap for a host function that failed (made without Python).
pub fn failed_trap() -> usize {
    const WHY: &str = "sandlink: a host function failed";
    // SAFETY: a message and its length; wasmtime copies it.
    (unsafe { (bound().trap_new)(WHY.as_ptr(), WHY.len()) }) as usize
}

fn bound() -> &'static crate::wasmtime::Api {
    // Sessions (and so guards and imports) are made only once the extension is bound; a
    // wrong pointer handed to wasmtime would be worse than stopping here.
    api().unwrap_or_else(|_| std::process::abort())
}
