//! The kernels, each registered once: the WIT export `f` of `kernels` calls `registry::f`,
//! and its records and resources are the types of the same (CamelCase) names here.
//!
//! build.rs generates the rest from `wit/`: the wasm `Guest` impl, the native C ABI and the
//! conversions of records (whose fields have their WIT names). A kernel takes `string` as
//! `&str`, `list<T>` as `Vec<T>`, records as their structs, scalars as themselves, and
//! reaches the host through `crate::host`.
pub use crate::arith::add;
pub use crate::buffer::Buffer;
pub use crate::greet::hello;
pub use crate::mask::ws_mask;
pub use crate::person::{parse_person, Friend, JsonError, Person};
