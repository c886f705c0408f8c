//! wasm32 glue: allocator, trapping panic handler and the WIT exports.
use alloc::string::String;
use alloc::vec::Vec;

use crate::{buffer, greet, mask, person};

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
    type Buffer = buffer::Buffer;

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

impl kernels::GuestBuffer for buffer::Buffer {
    fn new(len: u32) -> Self {
        buffer::Buffer::new(len)
    }

    fn len(&self) -> u32 {
        buffer::Buffer::len(self)
    }

    fn address(&self) -> u32 {
        buffer::Buffer::address(self) as u32
    }

    fn read(&self, start: u32, len: u32) -> Vec<u8> {
        buffer::Buffer::read(self, start, len)
    }

    fn write(&self, start: u32, data: Vec<u8>) {
        buffer::Buffer::write(self, start, &data)
    }

    fn mask(&self, start: u32, len: u32, key: u32, offset: u32) {
        buffer::Buffer::mask(self, start, len, key, offset)
    }
}

export!(Kernels);
