//! One session's view of a guest: its raw-call state ([`CoreState`], registered per thread)
//! and, during a call, one memory with its `cabi_realloc` ([`Memory`]).
use std::cell::RefCell;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::guard::Guard;
use crate::helpers::Helpers;
use crate::import::{Binding, Import};
use crate::wasmtime::{self, api};

/// What the compiled path needs of one session (a Python `_fast.CompiledSession`): its
/// counters, and the addresses of host objects that live as long as it.
pub struct CoreState {
    pub serial: u64,
    /// The Python session, borrowed: valid while `dead` is false (the session owns the
    /// `SessionCore` whose drop sets it).
    session: usize,
    addresses: OnceLock<Addresses>,
    /// Entries into the guest from the host (`Clock.calls`: a new one restarts the clock).
    pub calls: AtomicU64,
    /// Host functions running on this session (`Session.in_host`: the guest is active).
    pub in_host: AtomicU64,
    dead: AtomicBool,
    retired: AtomicBool,
    /// What this session's compiled host functions point at (see `import::Binding`), boxed
    /// because each one's address is a host function's env: it must not move.
    #[allow(clippy::vec_box)]
    imports: Mutex<Vec<Box<Binding>>>,
    /// The session's Python callbacks behind native guards (see `guard::Guard`), boxed alike.
    #[allow(clippy::vec_box)]
    guards: Mutex<Vec<Box<Guard>>>,
    /// `Clock.pending`: the exception a callback caught, for the call it failed to raise.
    pending: Mutex<Option<Py<PyAny>>>,
}

pub struct Addresses {
    pub context: usize,
    pub funcs: Vec<usize>,
    pub slots: usize,
    pub trap_slot: usize,
    /// (`wasmtime_memory_t*`, realloc function) of each ABI context; 0 when absent.
    pub abis: Vec<(usize, usize)>,
    /// Each handle table's `reps` list (never replaced), read directly for borrows of the
    /// host's objects.
    pub reps: Vec<Py<PyList>>,
}

// SAFETY: the addresses are only dereferenced on the session's own thread, under the GIL;
// the flags and counters are atomics.
unsafe impl Send for CoreState {}
unsafe impl Sync for CoreState {}

impl CoreState {
    pub fn usable(&self) -> bool {
        !self.dead.load(Ordering::Acquire) && !self.retired.load(Ordering::Acquire)
    }

    /// The Python session (a new reference). Only while `usable()`.
    pub fn session<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        // SAFETY: not dead, so the session object is alive (it owns our SessionCore), and we
        // hold the GIL.
        unsafe { Bound::from_borrowed_ptr(py, self.session as *mut pyo3::ffi::PyObject) }
    }

    /// The Python session (a new reference), unless it is gone.
    pub fn session_if_alive<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        // SAFETY: as `session`, which only needs it not dead.
        (!self.dead.load(Ordering::Acquire)).then(|| unsafe {
            Bound::from_borrowed_ptr(py, self.session as *mut pyo3::ffi::PyObject)
        })
    }

    /// Keeps `exc` for the call to raise, unless an earlier one is kept (as `_trap_from`).
    pub fn keep_pending(&self, exc: Py<PyAny>) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.get_or_insert(exc);
        }
    }

    pub fn addresses(&self) -> &Addresses {
        self.addresses
            .get()
            .expect("registered sessions are started")
    }

    /// The addresses, once the session started (not yet while its start functions run).
    pub fn started(&self) -> Option<&Addresses> {
        self.addresses.get()
    }
}

impl Addresses {
    /// The raw slot `i` (in 8-byte units) of the session's call buffer.
    pub fn slot(&self, i: usize) -> *mut u64 {
        (self.slots as *mut u64).wrapping_add(i)
    }
}

thread_local! {
    /// This thread's sessions of every compiled host, by host serial.
    static SESSIONS: RefCell<Vec<Arc<CoreState>>> = const { RefCell::new(Vec::new()) };
}

/// This thread's usable session of host `serial`, if it has one.
pub fn current(serial: u64) -> Option<Arc<CoreState>> {
    SESSIONS.with(|s| {
        s.borrow()
            .iter()
            .find(|c| c.serial == serial && c.usable())
            .cloned()
    })
}

/// The compiled path's handle on one session, owned by it (`Session.core`): made first
/// (it holds the session's counters), started once the instance exists, which registers
/// it on the session's thread; the session retires it, its drop kills it.
#[pyclass(frozen, module = "sandlink.host._accel")]
pub struct SessionCore {
    state: Arc<CoreState>,
}

#[pymethods]
impl SessionCore {
    #[new]
    fn new(session: &Bound<'_, PyAny>, serial: u64) -> PyResult<Self> {
        api()?;
        Ok(SessionCore {
            state: Arc::new(CoreState {
                serial,
                session: session.as_ptr() as usize,
                addresses: OnceLock::new(),
                calls: AtomicU64::new(0),
                in_host: AtomicU64::new(0),
                dead: AtomicBool::new(false),
                retired: AtomicBool::new(false),
                imports: Mutex::new(Vec::new()),
                guards: Mutex::new(Vec::new()),
                pending: Mutex::new(None),
            }),
        })
    }

    /// The instance exists: its store context, raw functions, slot buffer and trap slot,
    /// and ABI contexts. Registers the session on this thread.
    fn start(
        &self,
        context: usize,
        funcs: Vec<usize>,
        slots: usize,
        trap_slot: usize,
        abis: Vec<(usize, usize)>,
        reps: Vec<Py<PyList>>,
    ) -> PyResult<()> {
        if context == 0 || slots == 0 {
            return Err(PyValueError::new_err(
                "a session needs its context and slots",
            ));
        }
        let addresses = Addresses {
            context,
            funcs,
            slots,
            trap_slot,
            abis,
            reps,
        };
        if self.state.addresses.set(addresses).is_err() {
            return Err(PyValueError::new_err("this session was started already"));
        }
        let serial = self.state.serial;
        SESSIONS.with(|s| {
            let mut sessions = s.borrow_mut();
            sessions.retain(|c| c.serial != serial && !c.dead.load(Ordering::Acquire));
            sessions.push(Arc::clone(&self.state));
        });
        Ok(())
    }

    /// The `env` of this session's host function for `import`, whose ABI context is the
    /// memory `memory` (`wasmtime_memory_t*`) and realloc `realloc` (`wasmtime_func_t*`), 0
    /// when absent. Lives as long as this session's state.
    fn bind_import(&self, import: Py<Import>, memory: usize, realloc: usize) -> PyResult<usize> {
        let binding = Binding {
            import,
            state: Arc::as_ptr(&self.state),
            memory,
            realloc,
        };
        keep(&self.state.imports, binding)
    }

    /// The `env` of a native guard around `function`, a Python raw callback of this session
    /// (its clock `id` is what it is called with first). Lives as long as this session's state.
    fn guard(&self, function: Py<PyAny>, id: u64) -> PyResult<usize> {
        let state = Arc::as_ptr(&self.state);
        keep(
            &self.state.guards,
            Guard {
                function,
                id,
                state,
            },
        )
    }

    /// Retired (see `retire`): a trap discarded it, even where Python could not say so.
    #[getter]
    fn retired(&self) -> bool {
        self.state.retired.load(Ordering::Acquire)
    }

    #[getter]
    fn pending(&self, py: Python<'_>) -> Option<Py<PyAny>> {
        let pending = self.state.pending.lock().ok()?;
        pending.as_ref().map(|p| p.clone_ref(py))
    }

    #[setter]
    fn set_pending(&self, exc: Option<Py<PyAny>>) -> PyResult<()> {
        *self
            .state
            .pending
            .lock()
            .map_err(|_| PyValueError::new_err("a session's pending exception was poisoned"))? =
            exc;
        Ok(())
    }

    /// Never use this session again (a trap discarded it).
    fn retire(&self) {
        self.state.retired.store(true, Ordering::Release);
    }

    #[getter]
    fn calls(&self) -> u64 {
        self.state.calls.load(Ordering::Relaxed)
    }

    #[setter]
    fn set_calls(&self, n: u64) {
        self.state.calls.store(n, Ordering::Relaxed);
    }

    #[getter]
    fn in_host(&self) -> u64 {
        self.state.in_host.load(Ordering::Relaxed)
    }

    #[setter]
    fn set_in_host(&self, n: u64) {
        self.state.in_host.store(n, Ordering::Relaxed);
    }
}

/// Keeps `item` in `kept` (boxed: it must not move) and returns its address.
fn keep<T>(kept: &Mutex<Vec<Box<T>>>, item: T) -> PyResult<usize> {
    let item = Box::new(item);
    let address = &*item as *const T as usize;
    kept.lock()
        .map_err(|_| PyValueError::new_err("a session's host functions were poisoned"))?
        .push(item);
    Ok(address)
}

impl Drop for SessionCore {
    fn drop(&mut self) {
        self.state.dead.store(true, Ordering::Release);
    }
}

pub const MAX_BYTE_LENGTH: u64 = (1 << 28) - 1;

/// Where a canonical ABI context's memory and realloc are: the store context to use them
/// through (a host function's caller's, inside one), the `wasmtime_memory_t*` and the
/// realloc's `wasmtime_func_t*` (0 when absent).
#[derive(Clone, Copy)]
pub struct Abi {
    pub context: usize,
    pub memory: usize,
    pub realloc: usize,
}

/// One linear memory and its realloc, during one call (a canonical ABI context).
pub struct Memory<'a, 'py> {
    pub py: Python<'py>,
    pub session: &'a Bound<'py, PyAny>,
    /// The session's handle tables' `reps` lists (empty before the session started).
    pub reps: &'a [Py<PyList>],
    pub helpers: &'a Helpers,
    abi: Abi,
    base: *mut u8,
    pub size: u64,
}

impl<'a, 'py> Memory<'a, 'py> {
    /// ABI context `abi` of a started session (`None`: the function has none).
    pub fn of_session(
        py: Python<'py>,
        state: &'a CoreState,
        session: &'a Bound<'py, PyAny>,
        helpers: &'a Helpers,
        abi: Option<usize>,
    ) -> PyResult<Self> {
        let addresses = state.addresses();
        let (memory, realloc) = match abi {
            Some(i) => *addresses
                .abis
                .get(i)
                .ok_or_else(|| PyValueError::new_err("no such ABI context"))?,
            None => (0, 0),
        };
        let context = addresses.context;
        Ok(Memory::new(
            py,
            session,
            helpers,
            Abi {
                context,
                memory,
                realloc,
            },
            &addresses.reps,
        ))
    }

    pub fn new(
        py: Python<'py>,
        session: &'a Bound<'py, PyAny>,
        helpers: &'a Helpers,
        abi: Abi,
        reps: &'a [Py<PyList>],
    ) -> Self {
        // The size is read when first needed (every access past it syncs first).
        Memory {
            py,
            session,
            reps,
            helpers,
            abi,
            base: std::ptr::null_mut(),
            size: 0,
        }
    }

    /// Refresh the memory's size (it only grows; it never moves).
    pub fn sync(&mut self) -> PyResult<()> {
        if self.abi.memory == 0 {
            return Ok(());
        }
        let a = api()?;
        let context = self.abi.context as *const c_void;
        let memory = self.abi.memory as *const c_void;
        // SAFETY: a live context and a memory of its store (the session holds both).
        unsafe {
            if self.base.is_null() {
                self.base = (a.memory_data)(context, memory);
            }
            self.size = (a.memory_data_size)(context, memory) as u64;
        }
        Ok(())
    }

    /// `cabi_realloc(0, 0, align, size)`: a block the guest gives for the host to fill.
    pub fn alloc(&mut self, size: u64, align: u32) -> PyResult<u32> {
        if self.abi.realloc == 0 {
            return Err(self.failure(0, 0, "this function has no realloc option"));
        }
        let mut slots = [0u64, 0, 0, 0, u64::from(align), 0, size, 0, 0, 0];
        let address = slots.as_mut_ptr() as usize;
        // SAFETY: `slots` holds 4 arguments / 1 result (checked realloc type) and the trap.
        let error = unsafe {
            wasmtime::call(
                self.py,
                self.abi.context,
                self.abi.realloc,
                address,
                4,
                address + 64,
            )?
        };
        if error != 0 || slots[8] != 0 {
            return Err(self.failure(error, slots[8] as usize, ""));
        }
        let ptr = (slots[0] & 0xFFFF_FFFF) as u32;
        if ptr & (align - 1) != 0 {
            let why = format!("realloc returned {ptr:#x}, not aligned to {align}");
            return Err(self.failure(0, 0, &why));
        }
        if u64::from(ptr) + size > self.size {
            self.sync()?;
            if u64::from(ptr) + size > self.size {
                return Err(self.failure(0, 0, "realloc returned a block outside memory"));
            }
        }
        Ok(ptr)
    }

    /// Writes `bytes` at `addr` (inside a block the guest allocated).
    pub fn write(&mut self, addr: u64, bytes: &[u8]) -> PyResult<()> {
        let end = addr + bytes.len() as u64;
        if end > self.size {
            self.sync()?;
            if end > self.size {
                return Err(self.failure(0, 0, "a write fell outside guest memory"));
            }
        }
        // SAFETY: [addr, end) is inside the memory (checked above), which is not moved and
        // not otherwise borrowed while the host lowers (the guest is not running).
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.base.add(addr as usize), bytes.len())
        };
        Ok(())
    }

    /// The `n` bytes at `ptr`, checked: aligned to `align` and inside memory.
    pub fn span(&mut self, ptr: u64, n: u64, align: u32) -> PyResult<&[u8]> {
        if ptr & u64::from(align - 1) != 0 {
            return Err(trap(
                self.py,
                self.helpers,
                &format!("guest pointer {ptr:#x} is not aligned to {align} bytes"),
            ));
        }
        if n > MAX_BYTE_LENGTH {
            let why = format!("guest list or string of {n} bytes is longer than the ABI allows");
            return Err(trap(self.py, self.helpers, &why));
        }
        if ptr + n > self.size {
            self.sync()?;
            if ptr + n > self.size {
                let why = "guest data points outside its memory";
                return Err(trap(self.py, self.helpers, why));
            }
        }
        if n == 0 {
            return Ok(&[]);
        }
        // SAFETY: inside the memory (checked), which does not move; the guest is not running
        // while the host lifts, so nothing writes it meanwhile.
        Ok(unsafe { std::slice::from_raw_parts(self.base.add(ptr as usize), n as usize) })
    }

    /// A return area the guest passed a host function: aligned and inside memory, or a trap
    /// (as `_fast.Abi.check_range` says).
    pub fn return_area(&mut self, ptr: u64, size: u32, align: u32) -> PyResult<()> {
        if ptr & u64::from(align - 1) != 0 {
            let why = format!("guest return area {ptr:#x} is not aligned to {align} bytes");
            return Err(trap(self.py, self.helpers, &why));
        }
        let end = ptr + u64::from(size);
        if end > self.size {
            self.sync()?;
            if end > self.size {
                let why = format!("guest return area {ptr:#x}+{size} is outside its memory");
                return Err(trap(self.py, self.helpers, &why));
            }
        }
        Ok(())
    }

    /// Raises what `Session.fail_with` says of a failed raw call (and retires the session).
    pub fn failure(&self, error: usize, trap: usize, why: &str) -> PyErr {
        fail(self.session, error, trap, why)
    }
}

/// The exception `session.fail_with(error, trap, why)` raises. When that method cannot even
/// run (a RecursionError at its entry, near the recursion limit), the session is retired
/// here all the same: a store that trapped is never called again.
pub fn fail(session: &Bound<'_, PyAny>, error: usize, trap: usize, why: &str) -> PyErr {
    let py = session.py();
    match session.call_method1(pyo3::intern!(py, "fail_with"), (error, trap, why)) {
        Err(e) => {
            // A slot read and a native method: no Python frame, so no recursion check.
            if let Ok(core) = session.getattr(pyo3::intern!(py, "core")) {
                if let Ok(core) = core.cast_into::<SessionCore>() {
                    core.get().retire();
                }
            }
            e
        }
        Ok(_) => PyValueError::new_err("Session.fail_with returned"),
    }
}

/// A `GuestTrap(why)` (the guest broke the canonical ABI).
pub fn trap(py: Python<'_>, helpers: &Helpers, why: &str) -> PyErr {
    match helpers.guest_trap.call1(py, (why,)) {
        Ok(exc) => PyErr::from_value(exc.into_bound(py)),
        Err(e) => e,
    }
}
