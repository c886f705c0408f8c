//! The few wasmtime C API functions the compiled path calls, bound at import to the library
//! wasmtime-py loaded (`bind`, called by `sandlink.host._ffi` with their addresses).
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// `wasmtime_func_call_unchecked(context, func, args_and_results, len, trap) -> error`.
type FuncCallUnchecked = unsafe extern "C" fn(
    *mut c_void,
    *const c_void,
    *mut u64,
    usize,
    *mut *mut c_void,
) -> *mut c_void;
/// `wasmtime_engine_increment_epoch(engine)`.
type EngineIncrementEpoch = unsafe extern "C" fn(*mut c_void);
/// `wasmtime_memory_data(context, memory) -> base`.
type MemoryData = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut u8;
/// `wasmtime_memory_data_size(context, memory) -> bytes`.
type MemoryDataSize = unsafe extern "C" fn(*const c_void, *const c_void) -> usize;
/// `wasmtime_context_set_fuel(context, fuel) -> error`.
type ContextSetFuel = unsafe extern "C" fn(*mut c_void, u64) -> *mut c_void;
/// `wasmtime_caller_context(caller) -> context`.
type CallerContext = unsafe extern "C" fn(*mut c_void) -> *mut c_void;
/// `wasmtime_trap_new(message, length) -> trap`.
type TrapNew = unsafe extern "C" fn(*const u8, usize) -> *mut c_void;
/// `wasmtime_error_new(nul-terminated message) -> error`.
type ErrorNew = unsafe extern "C" fn(*const std::ffi::c_char) -> *mut c_void;

pub struct Api {
    pub func_call_unchecked: FuncCallUnchecked,
    pub engine_increment_epoch: EngineIncrementEpoch,
    pub memory_data: MemoryData,
    pub memory_data_size: MemoryDataSize,
    pub context_set_fuel: ContextSetFuel,
    pub caller_context: CallerContext,
    pub trap_new: TrapNew,
    pub error_new: ErrorNew,
}

static API: OnceLock<Api> = OnceLock::new();

pub fn api() -> PyResult<&'static Api> {
    API.get()
        .ok_or_else(|| PyRuntimeError::new_err("sandlink.host._accel is not bound to wasmtime"))
}

/// The C functions the extension calls (`sandlink.host._ffi` binds them by these names).
pub const NAMES: [&str; 8] = [
    "wasmtime_func_call_unchecked",
    "wasmtime_engine_increment_epoch",
    "wasmtime_memory_data",
    "wasmtime_memory_data_size",
    "wasmtime_context_set_fuel",
    "wasmtime_caller_context",
    "wasmtime_trap_new",
    "wasmtime_error_new",
];

/// Binds the extension to wasmtime's C API: `{name: address}` of each function it uses, in
/// the library wasmtime-py loaded. Once per process; binding again to other addresses is
/// an error.
#[pyfunction]
pub fn bind(addresses: HashMap<String, usize>) -> PyResult<()> {
    let mut found = [0usize; NAMES.len()];
    for (slot, name) in found.iter_mut().zip(NAMES) {
        *slot = match addresses.get(name) {
            Some(&address) if address != 0 => address,
            _ => return Err(PyValueError::new_err(format!("no address for {name}"))),
        };
    }
    // SAFETY: each address is of the C function of that name, looked up in wasmtime's library
    // by `_ffi` (the caller's contract; this module is private to sandlink.host), and the
    // types above are those functions' C signatures.
    let given = unsafe {
        Api {
            func_call_unchecked: std::mem::transmute::<usize, FuncCallUnchecked>(found[0]),
            engine_increment_epoch: std::mem::transmute::<usize, EngineIncrementEpoch>(found[1]),
            memory_data: std::mem::transmute::<usize, MemoryData>(found[2]),
            memory_data_size: std::mem::transmute::<usize, MemoryDataSize>(found[3]),
            context_set_fuel: std::mem::transmute::<usize, ContextSetFuel>(found[4]),
            caller_context: std::mem::transmute::<usize, CallerContext>(found[5]),
            trap_new: std::mem::transmute::<usize, TrapNew>(found[6]),
            error_new: std::mem::transmute::<usize, ErrorNew>(found[7]),
        }
    };
    let bound = API.get_or_init(|| given);
    if bound.func_call_unchecked as usize != found[0] || bound.memory_data as usize != found[2] {
        return Err(PyRuntimeError::new_err(
            "sandlink.host._accel is bound to another wasmtime library",
        ));
    }
    Ok(())
}

/// Calls a core function raw, with the GIL released: 0, or the `wasmtime_error_t*` of the
/// failure (a trap lands in `*trap`).
///
/// # Safety
/// `context`, `func` are a live store context and a `wasmtime_func_t` of that store; `slots`
/// holds at least `len` raw values (16 bytes each) for the function's checked core type;
/// `trap` is writable.
pub unsafe fn call(
    _gil: Python<'_>,
    context: usize,
    func: usize,
    slots: usize,
    len: usize,
    trap: usize,
) -> PyResult<usize> {
    let call = api()?.func_call_unchecked;
    let timing = TIMING.load(Ordering::Relaxed);
    let started = timing.then(Instant::now);
    // The guest may run for long, and the host functions it calls take the GIL themselves.
    // Released by hand, not with `py.detach`: nothing here touches Python, and detach's
    // bookkeeping costs as much as the rest of a small call's entry.
    // SAFETY: this thread holds the GIL (`_gil`); the call below does not use Python, and
    // the state is restored before anything else does.
    let error = unsafe {
        let saved = pyo3::ffi::PyEval_SaveThread();
        let error = call(
            context as *mut c_void,
            func as *const c_void,
            slots as *mut u64,
            len,
            trap as *mut *mut c_void,
        ) as usize;
        pyo3::ffi::PyEval_RestoreThread(saved);
        error
    };
    if let Some(started) = started {
        DETACHED_NS.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    }
    Ok(error)
}

static TIMING: AtomicBool = AtomicBool::new(false);
static DETACHED_NS: AtomicU64 = AtomicU64::new(0);

/// For the benchmark (how much of a call holds the GIL): starts (`on`) or stops timing the
/// raw calls; returns the seconds spent in them, GIL released, since the last call of this.
#[pyfunction]
pub fn time_guest_calls(on: bool) -> f64 {
    TIMING.store(on, Ordering::Relaxed);
    DETACHED_NS.swap(0, Ordering::Relaxed) as f64 / 1e9
}
