//! sandlink's kernels: pure `no_std` + `alloc` Rust, built twice from the same source.
//!
//! - `wasm32`: one component described by `wit/sandlink.wit` (glue in `wasm`).
//! - everything else: a cdylib with `extern "C"` exports for ctypes (glue in `native`).
//!
//! The kernel modules know nothing of either: adding a kernel means one WIT line,
//! one function here and one line of glue in each of the two glue modules.
#![no_std]

extern crate alloc;

pub mod buffer;
pub mod greet;
pub mod mask;
pub mod person;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
