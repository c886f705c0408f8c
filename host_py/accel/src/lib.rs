//! `sandlink.host._accel`: the fast host's optional compiled call path.
//!
//! The pure-Python host enters the guest through ctypes (`wasmtime_func_call_unchecked`:
//! ~0.3 µs a call, most of it converting arguments) and ticks engine epochs from a Python
//! thread (which needs the GIL to tick). This extension does both natively, through the
//! very wasmtime library wasmtime-py loaded: `sandlink.host._ffi` hands over the addresses
//! of the few C functions used (`bind`), so Stores, Modules and Engines are wasmtime-py's
//! own and no second wasmtime is linked.
//!
//! - [`RawCall`]: one prebuilt raw call of one core function in one store, made with the
//!   GIL released; ~0.1 µs.
//! - `export::Export`, `import::Import`: the whole call of an export, and the host function
//!   for an import, compiled (see those modules).
//! - [`Ticker`]: a native thread that increments an engine's epoch every tick, so timeouts
//!   and Ctrl-C are seen while Python is busy.
//!
//! Safety: every address is the host's own (a store context, a `wasmtime_func_t`, a raw-slot
//! buffer, an engine), never the guest's; the Python objects that own them outlive the
//! `RawCall`/`Ticker` made from them (the session holds both, see `_fast.Session`).
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

mod export;
mod guard;
mod guest;
mod helpers;
mod import;
mod lift;
mod lower;
mod ty;
mod wasmtime;

use wasmtime::api;

/// One raw call of one core function in one store: its context, its `wasmtime_func_t`, the
/// raw-slot buffer its arguments and results go through, how many slots, and where the trap
/// goes. Calling it returns 0, or the `wasmtime_error_t*` the call failed with.
#[pyclass(frozen, module = "sandlink.host._accel")]
struct RawCall {
    context: usize,
    func: usize,
    slots: usize,
    len: usize,
    trap: usize,
}

#[pymethods]
impl RawCall {
    #[new]
    fn new(context: usize, func: usize, slots: usize, len: usize, trap: usize) -> PyResult<Self> {
        api()?;
        if context == 0 || func == 0 || slots == 0 || trap == 0 {
            return Err(PyValueError::new_err("a raw call needs non-null addresses"));
        }
        Ok(RawCall {
            context,
            func,
            slots,
            len,
            trap,
        })
    }

    /// Calls the function in its own store's context.
    fn __call__(&self, py: Python<'_>) -> PyResult<usize> {
        self.call_in(py, self.context)
    }

    /// Calls the function in `context`: the caller's, from inside a host function.
    fn within(&self, py: Python<'_>, context: usize) -> PyResult<usize> {
        if context == 0 {
            return Err(PyValueError::new_err("a raw call needs a context"));
        }
        self.call_in(py, context)
    }
}

impl RawCall {
    fn call_in(&self, py: Python<'_>, context: usize) -> PyResult<usize> {
        // SAFETY: the addresses are live host objects (see the module docs) and `slots` holds
        // at least `len` raw values for this function's checked core type.
        unsafe { wasmtime::call(py, context, self.func, self.slots, self.len, self.trap) }
    }
}

/// A native thread that increments an engine's epoch every `tick` seconds until stopped
/// (or dropped). It holds the Python engine object, so the engine outlives it.
#[pyclass(module = "sandlink.host._accel")]
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<JoinHandle<()>>>,
    pid: u32,
    _engine: Py<PyAny>,
}

#[pymethods]
impl Ticker {
    #[new]
    fn new(engine: Py<PyAny>, engine_address: usize, tick: f64) -> PyResult<Self> {
        let increment = api()?.engine_increment_epoch;
        if engine_address == 0 {
            return Err(PyValueError::new_err("a ticker needs an engine"));
        }
        if !(tick.is_finite() && tick > 0.0) {
            return Err(PyValueError::new_err(
                "a tick must be a positive number of seconds",
            ));
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let period = Duration::from_secs_f64(tick);
        let thread = std::thread::Builder::new()
            .name("sandlink-epoch".into())
            .spawn(move || {
                while !stopped.load(Ordering::Acquire) {
                    std::thread::park_timeout(period);
                    if stopped.load(Ordering::Acquire) {
                        break;
                    }
                    // SAFETY: the engine is alive while this thread runs: the Ticker holds
                    // it and joins this thread before letting it go.
                    unsafe { increment(engine_address as *mut c_void) };
                }
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the ticker: {e}")))?;
        Ok(Ticker {
            stop,
            thread: Mutex::new(Some(thread)),
            pid: std::process::id(),
            _engine: engine,
        })
    }

    /// Stops the thread and waits for it (without the GIL).
    fn stop(&self, py: Python<'_>) {
        py.detach(|| self.halt());
    }

    /// Is the thread running (in this process)?
    #[getter]
    fn running(&self) -> bool {
        self.pid == std::process::id()
            && self
                .thread
                .lock()
                .map(|t| t.as_ref().is_some_and(|t| !t.is_finished()))
                .unwrap_or(false)
    }
}

impl Ticker {
    fn halt(&self) {
        self.stop.store(true, Ordering::Release);
        let thread = match self.thread.lock() {
            Ok(mut guard) => guard.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(thread) = thread {
            // After fork() the thread exists only in the parent: never join it in a child.
            if self.pid == std::process::id() {
                thread.thread().unpark();
                let _ = thread.join();
            }
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.halt();
    }
}

#[pymodule]
fn _accel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("C_FUNCTIONS", wasmtime::NAMES.to_vec())?;
    m.add_function(wrap_pyfunction!(wasmtime::bind, m)?)?;
    m.add_function(wrap_pyfunction!(wasmtime::time_guest_calls, m)?)?;
    m.add_class::<RawCall>()?;
    m.add_class::<Ticker>()?;
    m.add_class::<guest::SessionCore>()?;
    m.add_class::<helpers::Helpers>()?;
    m.add_class::<export::Export>()?;
    m.add_class::<import::Import>()?;
    m.add_function(wrap_pyfunction!(import::import_trampoline, m)?)?;
    m.add_function(wrap_pyfunction!(guard::guarded_trampolines, m)?)?;
    Ok(())
}
