//! wasm32 glue: allocator, trapping panic handler and the WIT exports.
use alloc::string::String;
use alloc::vec::Vec;

use crate::{greet, mask, person};

wit_bindgen::generate!({ world: "sandlink", path: "wit" });

use exports::sandlink::kernels::kernels::{self, Guest};

#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// A panic is a guest bug: trap, so the host sees a fault and the instance is discarded.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct Kernels;

impl Guest for Kernels {
    fn hello(name: String) {
        sandlink::kernels::host::print(&greet::greeting(&name));
    }

    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn parse_person(json: String) -> Result<kernels::Person, kernels::JsonError> {
        person::parse_person(&json)
            .map(into_wit_person)
            .map_err(|e| kernels::JsonError {
                message: e.message,
                line: e.line,
                column: e.column,
            })
    }

    fn ws_mask(mut payload: Vec<u8>, key: u32, offset: u32) -> Vec<u8> {
        mask::mask_in_place(&mut payload, key, offset);
        payload
    }
}

fn into_wit_person(p: person::Person) -> kernels::Person {
    kernels::Person {
        name: p.name,
        age: p.age,
        cars: p.cars,
        friends: p
            .friends
            .into_iter()
            .map(|f| kernels::Friend {
                name: f.name,
                age: f.age,
            })
            .collect(),
    }
}

export!(Kernels);
