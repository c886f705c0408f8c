//! [`Export`]: the whole call of one exported function, compiled: this thread's session,
//! the re-entry guard, every argument checked before the guest is touched, the memory cap,
//! the call's clock and fuel, lowering, the raw call with the GIL released, every failure
//! as the pure path raises it, lifting, post-return. What `_codegen.export_source` writes
//! in Python for the pure path, for the functions the compiled path takes (see
//! `FastHost._compiled_export`).
use std::cell::UnsafeCell;
use std::ffi::CString;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::impl_::trampoline::{fastcall_cfunction_with_keywords as fastcall, MethodDef};
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::guest::{self, CoreState, Memory};
use crate::helpers::Helpers;
use crate::lift::Lifter;
use crate::lower::{lower, store, Checker, Prep, Where};
use crate::ty::{Signature, Ty};
use crate::wasmtime::{self, api};

/// A call's arguments, in parameter order.
type Values<'py> = Vec<Bound<'py, PyAny>>;

/// How to call one export, as `FastHost._compiled_export` plans it (read by attribute).
#[derive(FromPyObject)]
struct Plan {
    name: String,
    #[pyo3(attribute("where"))]
    where_: Py<PyString>,
    /// The host's serial: which session of this thread is its own.
    serial: u64,
    /// A `WeakMethod` of `FastHost.session`, which makes this thread's session (and so
    /// registers its core).
    make_session: Py<PyAny>,
    helpers: Py<Helpers>,
    names: Vec<Py<PyString>>,
    signature: Signature,
    /// Indices of the session's raw functions and ABI contexts.
    func: usize,
    abi: Option<usize>,
    post_return: Option<usize>,
    /// Raw slots the call and the post-return use.
    call_len: usize,
    post_len: usize,
    /// `Limits.memory` and `Limits.fuel`; `timed`: `Limits.timeout` is set.
    cap: Option<u64>,
    fuel: Option<u64>,
    timed: bool,
    /// Called by one part of a composed component from another: inside a call already (its
    /// session, clock and fuel), from a host callback (so no re-entry guard).
    nested: bool,
}

#[pyclass(frozen, dict, module = "sandlink.host._accel")]
pub struct Export {
    plan: Plan,
    /// The parameter names again, for messages.
    texts: Vec<String>,
    /// Does lifting the result charge a budget (see `Ty::amplifies`)?
    amplifies: bool,
    /// (size, alignment, offsets) of the parameters as one tuple, when they spill.
    spilled: Option<(u32, u32, Vec<u32>)>,
    allocates: bool,
    /// What the export's builtin functions (`function()`) are made from.
    def: FunctionDef,
}

#[pymethods]
impl Export {
    #[new]
    fn new(py: Python<'_>, plan: Plan) -> PyResult<Self> {
        api()?;
        let params = &plan.signature.params;
        if params.len() != plan.names.len() {
            return Err(PyValueError::new_err("one name per parameter"));
        }
        let spilled = plan.signature.spilled_layout();
        let texts = plan
            .names
            .iter()
            .map(|n| Ok(n.bind(py).to_str()?.to_owned()))
            .collect::<PyResult<Vec<_>>>()?;
        let def = FunctionDef::new(&plan.name, &texts)?;
        Ok(Export {
            def,
            allocates: spilled.is_some() || params.iter().any(Ty::allocates),
            amplifies: plan.signature.result.as_ref().is_some_and(Ty::amplifies),
            plan,
            texts,
            spilled,
        })
    }

    /// The export as a builtin function: what users call. Python passes it the arguments
    /// as they are (METH_FASTCALL), with no tuple or dict to build and take apart, which
    /// is a quarter of a small call's cost. Its `self` is this object (which owns what the
    /// function points at), so it keeps this alive; this does not keep it.
    fn function<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let def = slf.get().def.def.get();
        // SAFETY: `def` lives as long as this object, which the function holds as its self.
        unsafe {
            let made = ffi::PyCMethod_New(
                def,
                slf.as_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
            Bound::from_owned_ptr_or_err(slf.py(), made)
        }
    }

    /// The functions' `__doc__` (after their text signature, which `inspect.signature` reads).
    #[setter]
    fn set_doc(&self, doc: &str) -> PyResult<()> {
        self.def.set_doc(&self.plan.name, &self.texts, doc)
    }

    /// A resource method: bound to its object, as a Python function would be (from the
    /// class: its builtin function, which takes the object first).
    fn __get__<'py>(
        slf: Bound<'py, Self>,
        obj: Option<Bound<'py, PyAny>>,
        _owner: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match obj {
            Some(obj) if !obj.is_none() => {
                let method_type = slf
                    .get()
                    .plan
                    .helpers
                    .get()
                    .method_type
                    .bind(slf.py())
                    .clone();
                let function = Export::function(&slf)?;
                method_type.call1((function, obj))
            }
            _ => Export::function(&slf),
        }
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: as Python lists missing arguments.
fn english_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

/// The builtin functions' entry (see `Export::function`), behind PyO3's own trampoline
/// for such functions (what its `#[pymethods]` use: the GIL count, panics as exceptions).
struct FastCall;

impl MethodDef<fastcall::Func> for FastCall {
    const METH: fastcall::Func = call_fast;
}

/// # Safety
/// CPython's METH_FASTCALL | METH_KEYWORDS contract: `slf` is the function's self (an
/// `Export`, see `Export::function`), `args` holds `nargs` positional values followed by
/// one value per name in `kwnames` (a tuple, or NULL).
unsafe fn call_fast(
    py: Python<'_>,
    slf: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargs: ffi::Py_ssize_t,
    kwnames: *mut ffi::PyObject,
) -> PyResult<*mut ffi::PyObject> {
    // SAFETY: the caller's contract (above).
    unsafe {
        // The function's self is the `Export` that made it (`Export::function`).
        let slf = Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<Export>();
        let export = slf.get();
        let n = usize::try_from(nargs).unwrap_or(0);
        if kwnames.is_null() && n == export.plan.names.len() {
            // Every argument by position (the common call): viewed where CPython put them.
            // `Bound` is a transparent, non-null object pointer; CPython keeps `args` and its
            // references for the call, and a slice drops nothing.
            let values: &[Bound<'_, PyAny>] = if n == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(args.cast::<Bound<'_, PyAny>>(), n)
            };
            return export.enter(py, values).map(Bound::into_ptr);
        }
        let keywords: Vec<(Bound<'_, PyString>, Bound<'_, PyAny>)> = if kwnames.is_null() {
            Vec::new()
        } else {
            let names = Bound::from_borrowed_ptr(py, kwnames).cast_into::<PyTuple>()?;
            let mut pairs = Vec::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                let value = Bound::from_borrowed_ptr(py, *args.add(n + i));
                pairs.push((name.cast_into::<PyString>()?, value));
            }
            pairs
        };
        let positional = (0..n).map(|i| Bound::from_borrowed_ptr(py, *args.add(i)));
        let values = export.bind_arguments(py, positional, keywords)?;
        export.enter(py, &values).map(Bound::into_ptr)
    }
}

/// A `PyMethodDef` for an export's builtin functions, and the strings it points at.
struct FunctionDef {
    def: UnsafeCell<ffi::PyMethodDef>,
    /// Owned here for `def`, which points at them.
    _name: CString,
    doc: UnsafeCell<CString>,
}

// SAFETY: the cells are written (`set_doc`) and read (by CPython, for `__doc__`) only by a
// thread holding the GIL.
unsafe impl Sync for FunctionDef {}
unsafe impl Send for FunctionDef {}

impl FunctionDef {
    fn new(name: &str, params: &[String]) -> PyResult<Self> {
        let name = CString::new(name).map_err(|_| PyValueError::new_err("NUL in a name"))?;
        let doc = text_signature(name.to_str().unwrap_or(""), params, "")?;
        let def = ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer {
                PyCFunctionFastWithKeywords: fastcall::<FastCall>,
            },
            ml_flags: ffi::METH_FASTCALL | ffi::METH_KEYWORDS,
            ml_doc: doc.as_ptr(),
        };
        Ok(FunctionDef {
            def: UnsafeCell::new(def),
            _name: name,
            doc: UnsafeCell::new(doc),
        })
    }

    fn set_doc(&self, name: &str, params: &[String], doc: &str) -> PyResult<()> {
        let doc = text_signature(name, params, doc)?;
        // SAFETY: under the GIL (a #[setter]); CPython reads `ml_doc` only under the GIL too,
        // and copies it into a str before it lets go.
        unsafe {
            (*self.def.get()).ml_doc = doc.as_ptr();
            *self.doc.get() = doc;
        }
        Ok(())
    }
}

/// `name($export, a, b)\n--\n\ndoc`: CPython's text signature (the `$` parameter is the
/// function's bound self, the `Export`, which `inspect` leaves out), then the doc.
fn text_signature(name: &str, params: &[String], doc: &str) -> PyResult<CString> {
    let text = format!("{name}($export, {})\n--\n\n{doc}", params.join(", "));
    let text = text.replace("($export, )", "($export)");
    CString::new(text).map_err(|_| PyValueError::new_err("NUL in a docstring"))
}

impl Export {
    /// The arguments in parameter order, as Python binds them to `def f(a, b)`.
    fn bind_arguments<'py>(
        &self,
        py: Python<'py>,
        positional: impl ExactSizeIterator<Item = Bound<'py, PyAny>>,
        keywords: Vec<(Bound<'py, PyString>, Bound<'py, PyAny>)>,
    ) -> PyResult<Values<'py>> {
        let n = self.plan.names.len();
        if keywords.is_empty() && positional.len() == n {
            return Ok(positional.collect());
        }
        if positional.len() > n {
            return Err(PyTypeError::new_err(format!(
                "{}() takes {n} positional argument{} but {} {} given",
                self.plan.name,
                if n == 1 { "" } else { "s" },
                positional.len(),
                if positional.len() == 1 { "was" } else { "were" }
            )));
        }
        let mut values: Vec<Option<Bound<'py, PyAny>>> = positional.map(Some).collect();
        values.resize(n, None);
        for (key, value) in keywords {
            let Some(i) = self
                .plan
                .names
                .iter()
                .position(|name| name.bind(py).as_any().eq(&key).unwrap_or(false))
            else {
                return Err(PyTypeError::new_err(format!(
                    "{}() got an unexpected keyword argument '{}'",
                    self.plan.name, key
                )));
            };
            if values[i].is_some() {
                return Err(PyTypeError::new_err(format!(
                    "{}() got multiple values for argument '{}'",
                    self.plan.name, key
                )));
            }
            values[i] = Some(value);
        }
        let missing: Vec<String> = values
            .iter()
            .zip(&self.plan.names)
            .filter(|(v, _)| v.is_none())
            .map(|(_, name)| format!("'{}'", name.bind(py)))
            .collect();
        if !missing.is_empty() {
            return Err(PyTypeError::new_err(format!(
                "{}() missing {} required positional argument{}: {}",
                self.plan.name,
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                english_list(&missing)
            )));
        }
        Ok(values.into_iter().flatten().collect())
    }

    /// The call, arguments bound: this thread's session, then `call`.
    fn enter<'py>(
        &self,
        py: Python<'py>,
        values: &[Bound<'py, PyAny>],
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = self.session(py)?;
        let session = state.session(py);
        self.call(py, &state, &session, values)
    }

    /// This thread's session, made (by the host) if it has none or its last one trapped.
    fn session(&self, py: Python<'_>) -> PyResult<Arc<CoreState>> {
        if let Some(state) = guest::current(self.plan.serial) {
            return Ok(state);
        }
        if self.plan.nested {
            return Err(PyValueError::new_err(
                "a nested call outside its outer call",
            ));
        }
        // A weak method (no reference cycle through this object): the host, or None.
        let make = self.plan.make_session.call0(py)?;
        if make.is_none(py) {
            return Err(PyValueError::new_err(
                "the component this function belongs to is gone",
            ));
        }
        make.call0(py)?;
        guest::current(self.plan.serial)
            .ok_or_else(|| PyValueError::new_err("the host made no compiled session"))
    }

    fn call<'py>(
        &self,
        py: Python<'py>,
        state: &CoreState,
        session: &Bound<'py, PyAny>,
        values: &[Bound<'py, PyAny>],
    ) -> PyResult<Bound<'py, PyAny>> {
        let h = self.plan.helpers.get();
        let entry = !self.plan.nested; // an entry from the host, not a nested call
        if entry && state.in_host.load(Ordering::Relaxed) != 0 {
            let exc = h.reentered.call1(py, (&self.plan.where_,))?;
            return Err(PyErr::from_value(exc.into_bound(py)));
        }

        // Check every argument before the guest is touched.
        let mut checker = Checker {
            py,
            h,
            session,
            moved: None,
            need: 0,
            encoding: self.plan.signature.encoding,
        };
        let mut preps: Vec<Prep<'py>> = Vec::with_capacity(values.len());
        for ((ty, name), value) in self
            .plan
            .signature
            .params
            .iter()
            .zip(&self.texts)
            .zip(values)
        {
            preps.push(checker.check(ty, value, Where::Param(name))?);
        }
        if let Some(cap) = self.plan.cap {
            if self.allocates && checker.need > cap {
                let exc = h.too_big.call1(py, (checker.need, cap))?;
                return Err(PyErr::from_value(exc.into_bound(py)));
            }
        }

        if entry && self.plan.timed {
            // The call's clock starts at the next epoch tick (see `_engine.Clock`).
            // Only this thread writes the count (the ticker reads it): no atomic add needed.
            let calls = state.calls.load(Ordering::Relaxed);
            state.calls.store(calls.wrapping_add(1), Ordering::Relaxed);
        }
        if let Some(fuel) = self.plan.fuel.filter(|_| entry) {
            // SAFETY: the session's live context.
            unsafe { (api()?.context_set_fuel)(state.addresses().context as *mut _, fuel) };
        }

        let mut memory = Memory::of_session(py, state, session, h, self.plan.abi)?;
        let lowered = self.lower_arguments(&preps, &mut memory, state);
        if let Err(e) = lowered {
            if self.allocates {
                session.call_method0(pyo3::intern!(py, "retire"))?; // half-lowered memory
            }
            return Err(e);
        }
        drop(preps);

        self.raw_call(py, state, session, self.plan.func, self.plan.call_len)?;

        let value = match &self.plan.signature.result {
            None => py.None().into_bound(py),
            Some(ty) => match self.lift_result(py, h, ty, &mut memory, state) {
                Ok(v) => v,
                Err(e) => {
                    session.call_method0(pyo3::intern!(py, "retire"))?;
                    return Err(e);
                }
            },
        };
        if let Some(post) = self.plan.post_return {
            self.raw_call(py, state, session, post, self.plan.post_len)?;
        }
        Ok(value)
    }

    fn lower_arguments(
        &self,
        preps: &[Prep<'_>],
        memory: &mut Memory<'_, '_>,
        state: &CoreState,
    ) -> PyResult<()> {
        let mut flat = Vec::with_capacity(self.plan.call_len);
        if let Some((size, align, offs)) = &self.spilled {
            let base = memory.alloc(u64::from(*size), *align)?;
            for ((ty, p), off) in self.plan.signature.params.iter().zip(preps).zip(offs) {
                store(ty, p, memory, u64::from(base) + u64::from(*off))?;
            }
            flat.push(u64::from(base));
        } else {
            for (ty, p) in self.plan.signature.params.iter().zip(preps) {
                lower(ty, p, memory, &mut flat)?;
            }
        }
        let addresses = state.addresses();
        for (i, v) in flat.into_iter().enumerate() {
            // SAFETY: the session's slot buffer holds `2 * slot_count` values, at least twice
            // every raw function's flat length (`FastHost.slot_count`).
            unsafe { *addresses.slot(2 * i) = v };
        }
        Ok(())
    }

    fn raw_call(
        &self,
        py: Python<'_>,
        state: &CoreState,
        session: &Bound<'_, PyAny>,
        func: usize,
        len: usize,
    ) -> PyResult<()> {
        let a = state.addresses();
        let address = *a
            .funcs
            .get(func)
            .ok_or_else(|| PyValueError::new_err("no such raw function"))?;
        let trap_slot = a.slot(a.trap_slot);
        // SAFETY: a checked function of this session, its slot buffer and trap slot.
        let error =
            unsafe { wasmtime::call(py, a.context, address, a.slots, len, trap_slot as usize)? };
        // SAFETY: the trap slot of the session's buffer.
        let trap = unsafe { std::mem::replace(&mut *trap_slot, 0) };
        if error != 0 || trap != 0 {
            return Err(guest::fail(session, error, trap as usize, ""));
        }
        Ok(())
    }

    fn lift_result<'py>(
        &self,
        py: Python<'py>,
        h: &Helpers,
        ty: &Ty,
        memory: &mut Memory<'_, 'py>,
        state: &CoreState,
    ) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: slot 0 of the session's buffer holds the (first) result.
        let first = unsafe { *state.addresses().slot(0) };
        let mut lifter = Lifter::new(py, h, memory, self.amplifies, self.plan.signature.encoding)?;
        if self.plan.signature.by_pointer {
            let rp = first & 0xFFFF_FFFF;
            lifter.m.span(rp, u64::from(ty.size), ty.align)?;
            lifter.load(ty, rp)
        } else {
            lifter.lift(ty, &mut std::iter::once(first))
        }
    }
}
