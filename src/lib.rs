//! sandlink's kernels: pure `no_std` + `alloc` Rust, built twice from the same source.
//!
//! - `wasm32`: one component described by `wit/sandlink.wit` (glue in `wasm`).
//! - everything else: a cdylib with `extern "C"` exports for ctypes (glue in `native`).
//!
//! The kernel modules know nothing of either: adding a kernel is its WIT line, its
//! function in a kernel module, and its line in `registry`; build.rs generates the glue.
#![no_std]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

pub mod arith;
pub mod buffer;
pub mod greet;
pub mod host;
pub mod mask;
pub mod person;
pub mod registry;

#[cfg(target_arch = "wasm32")]
mod wasm;

#[cfg(not(target_arch = "wasm32"))]
pub mod native;
