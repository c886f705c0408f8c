//! A fixed-size byte buffer that outlives calls: the host fills, masks and reads it in place.
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::ops::Range;

use crate::mask;

/// Zero-filled bytes whose address never changes (the allocation is never resized).
pub struct Buffer {
    bytes: RefCell<Box<[u8]>>,
}

impl Buffer {
    pub fn new(len: u32) -> Self {
        Buffer {
            bytes: RefCell::new(vec![0u8; len as usize].into_boxed_slice()),
        }
    }

    pub fn len(&self) -> u32 {
        self.bytes.borrow().len() as u32
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.borrow().is_empty()
    }

    /// The address of the first byte in the 32-bit linear memory it lives in, for hosts
    /// that map that memory (meaningless outside wasm32).
    pub fn address(&self) -> u32 {
        self.bytes.borrow().as_ptr() as usize as u32
    }

    pub fn read(&self, start: u32, len: u32) -> Vec<u8> {
        self.bytes.borrow()[range(start, len)].to_vec()
    }

    pub fn write(&self, start: u32, data: Vec<u8>) {
        self.bytes.borrow_mut()[range(start, data.len() as u32)].copy_from_slice(&data);
    }

    pub fn mask(&self, start: u32, len: u32, key: u32, offset: u32) {
        mask::mask_in_place(&mut self.bytes.borrow_mut()[range(start, len)], key, offset);
    }
}

/// `start..start + len`; a range past the end panics when used (a trap in wasm).
fn range(start: u32, len: u32) -> Range<usize> {
    let start = start as usize;
    start..start.checked_add(len as usize).expect("range overflows")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_writes_and_masks_ranges_in_place() {
        let buffer = Buffer::new(8);
        assert_eq!(buffer.len(), 8);
        assert_eq!(buffer.read(0, 8), vec![0; 8]);
        buffer.write(2, b"Hello".to_vec());
        let before = buffer.address();
        buffer.mask(2, 5, 0x37fa_213d, 0);
        assert_eq!(buffer.read(2, 5), [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(buffer.address(), before);
        // Masking the tail again at its own message offset restores "llo".
        buffer.mask(4, 3, 0x37fa_213d, 2);
        assert_eq!(buffer.read(2, 5), [0x7f, 0x9f, b'l', b'l', b'o']);
    }

    #[test]
    #[should_panic]
    fn a_range_past_the_end_panics() {
        Buffer::new(4).read(2, 3);
    }

    #[test]
    fn an_empty_buffer() {
        let buffer = Buffer::new(0);
        assert!(buffer.is_empty());
        assert_eq!(buffer.read(0, 0), Vec::<u8>::new());
    }
}
