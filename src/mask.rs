//! RFC 6455 §5.3 masking: `out[i] = payload[i] ^ key_bytes[(offset + i) % 4]`.
//!
//! `key` is the four masking-key bytes in wire order read as a big-endian `u32`, and
//! `offset` is the position of the buffer in the whole message (only `offset % 4`
//! matters), so a message masked chunk by chunk equals the message masked whole.
//!
//! Speed: the key is rotated once by `offset % 4` so the buffer's own index picks the
//! key byte; a short byte loop runs up to the next 32-byte address boundary, then
//! 32-byte blocks are XORed as four `u64` words holding the key pattern (built with
//! `from_ne_bytes`, so it is correct on either endianness), then 8-byte words, then
//! the last bytes. Measured natively (x86-64, 64 KiB): ~39 GB/s for any start address,
//! against ~17 GB/s for plain 8-byte words from an address that is not 16-aligned and
//! ~1.7 GB/s for the byte loop. Every block length is a multiple of 4, so the key
//! phase only changes after the head.
//!
//! On wasm32 the blocks after the head go through `mask_simd` instead: explicit `v128`
//! XORs, 8 vectors (128 bytes) per loop iteration, then single vectors; the scalar code
//! then does the last < 16 bytes. wasm32-unknown-unknown has no SIMD by default, and
//! wasmtime spills the key and reloads it around the epoch check at every loop back
//! edge, which costs about as much as 8 vector XORs: 1, 4 or 6 vectors per iteration
//! ran no faster than the `u64` words, 8 was the fastest (12, 16 and 32: 2-7% slower).
//! Measured through wasmtime-py with epoch interruption (x86-64, in place, per call):
//! 256 KiB in 6.5 µs and 1 MiB in 24 µs, against 8.4 and 31 µs with `u64` words and
//! 6.3 and 21 µs for the native kernel through ctypes. Only `mask_simd` enables
//! `simd128`, but LLVM compiles a wasm module with the union of its functions'
//! features, so a few 16-byte copies elsewhere become `v128.load`/`v128.store` too:
//! the module needs SIMD anyway (on by default in wasmtime).
use alloc::vec::Vec;

/// Bytes per unrolled step; also the address alignment the head loop runs up to.
const BLOCK: usize = 32;

/// Masks `buf` in place; see `wit/sandlink.wit` (`ws-mask`) for `key` and `offset`.
pub fn mask_in_place(buf: &mut [u8], key: u32, offset: u32) {
    let head_len = buf.as_ptr().align_offset(BLOCK).min(buf.len());
    let (head, body) = buf.split_at_mut(head_len);
    mask_bytes(head, rotated_key(key, offset));

    // `head_len < 2^32` and 2^32 is a multiple of 4, so wrapping keeps `offset % 4` right.
    let k = rotated_key(key, offset.wrapping_add(head_len as u32));
    #[cfg(target_arch = "wasm32")]
    let body = mask_simd(body, k);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);

    let mut blocks = body.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for w in block.chunks_exact_mut(8) {
            xor_word(w, word);
        }
    }
    let mut words = blocks.into_remainder().chunks_exact_mut(8);
    for w in &mut words {
        xor_word(w, word);
    }
    mask_bytes(words.into_remainder(), k);
}

/// 16-byte vectors per iteration of `mask_simd`'s loop (measured: see the module doc).
#[cfg(target_arch = "wasm32")]
const UNROLL: usize = 8;

/// XORs the key pattern into the longest prefix of `body` whose length is a multiple of
/// 16 (`UNROLL` vectors per iteration, then single vectors), returning the rest. `k` is
/// the key for `body[0]`; every vector is 16 bytes, a multiple of 4, so it stays right.
#[cfg(target_arch = "wasm32")]
#[target_feature(enable = "simd128")]
fn mask_simd(body: &mut [u8], k: [u8; 4]) -> &mut [u8] {
    use core::arch::wasm32::{u32x4_splat, v128, v128_load, v128_store, v128_xor};
    // wasm32 is little-endian, so each u32 lane holds `k` in memory order.
    let pattern = u32x4_splat(u32::from_le_bytes(k));
    let xor = |vector: &mut [u8; 16]| {
        let p = core::ptr::from_mut(vector).cast::<v128>();
        // SAFETY: `p` points to the 16 bytes of `vector`, which we borrow mutably, and
        // `v128_load`/`v128_store` are 1-aligned accesses, so any address will do.
        unsafe { v128_store(p, v128_xor(v128_load(p), pattern)) };
    };
    let (vectors, rest) = body.as_chunks_mut::<16>();
    let mut steps = vectors.chunks_exact_mut(UNROLL);
    for step in &mut steps {
        step.iter_mut().for_each(xor);
    }
    steps.into_remainder().iter_mut().for_each(xor);
    rest
}

/// `ws-mask`: `payload` masked (in place: its bytes are the result).
pub fn ws_mask(mut payload: Vec<u8>, key: u32, offset: u32) -> Vec<u8> {
    mask_in_place(&mut payload, key, offset);
    payload
}

/// The key bytes in wire order, rotated so that `result[i % 4]` masks buffer byte `i`.
#[inline]
fn rotated_key(key: u32, offset: u32) -> [u8; 4] {
    key.rotate_left(8 * (offset % 4)).to_be_bytes()
}

/// XORs one 8-byte chunk with `word` (the key pattern in native byte order).
#[inline(always)]
fn xor_word(chunk: &mut [u8], word: u64) {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(chunk);
    chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
}

/// The plain byte loop, for the head and the tail.
#[inline]
fn mask_bytes(buf: &mut [u8], k: [u8; 4]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked copy of `payload` (what `ws-mask` returns).
    fn mask(payload: &[u8], key: u32, offset: u32) -> Vec<u8> {
        ws_mask(payload.to_vec(), key, offset)
    }
    use alloc::vec;

    /// The definition, byte by byte.
    fn reference(payload: &[u8], key: u32, offset: u32) -> Vec<u8> {
        let k = key.to_be_bytes();
        payload
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ k[((offset as u64 + i as u64) % 4) as usize])
            .collect()
    }

    fn message(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(7))
            .collect()
    }

    const KEY: u32 = 0x37fa_213d;

    #[test]
    fn rfc6455_section_5_7_example() {
        assert_eq!(mask(b"Hello", KEY, 0), [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(mask(&[0x7f, 0x9f, 0x4d, 0x51, 0x58], KEY, 0), b"Hello");
    }

    #[test]
    fn empty_payload() {
        assert_eq!(mask(&[], KEY, 3), Vec::<u8>::new());
        mask_in_place(&mut [], KEY, 0);
    }

    #[test]
    fn masking_twice_is_identity() {
        for len in [0, 1, 5, 31, 32, 33, 100, 1000, 4099] {
            for offset in 0..4 {
                let msg = message(len);
                assert_eq!(mask(&mask(&msg, KEY, offset), KEY, offset), msg);
            }
        }
    }

    #[test]
    fn chunked_equals_whole_at_every_split() {
        let msg = message(37);
        let whole = mask(&msg, KEY, 0);
        for a in 0..=msg.len() {
            let mut out = mask(&msg[..a], KEY, 0);
            out.extend(mask(&msg[a..], KEY, a as u32));
            assert_eq!(out, whole, "split at {a}");
            for b in a..=msg.len() {
                let mut out = mask(&msg[..a], KEY, 0);
                out.extend(mask(&msg[a..b], KEY, a as u32));
                out.extend(mask(&msg[b..], KEY, b as u32));
                assert_eq!(out, whole, "splits at {a}, {b}");
            }
        }
    }

    #[test]
    fn chunked_in_place_equals_whole_for_large_messages() {
        let msg = message(5000);
        let whole = mask(&msg, KEY, 0);
        let mut buf = msg.clone();
        let mut pos = 0;
        for step in [1usize, 7, 33, 64, 100, 1000, 3795] {
            mask_in_place(&mut buf[pos..pos + step], KEY, pos as u32);
            pos += step;
        }
        assert_eq!(pos, msg.len());
        assert_eq!(buf, whole);
    }

    #[test]
    fn every_offset_length_and_start_address_matches_the_reference() {
        for key in [KEY, 0, u32::MAX, 0x0102_0304] {
            for offset in 0..8 {
                for len in 0..=40 {
                    for start in 0..8 {
                        let mut big = message(len + 8 + BLOCK);
                        let expected = reference(&big[start..start + len], key, offset);
                        let buf = &mut big[start..start + len];
                        mask_in_place(buf, key, offset);
                        assert_eq!(
                            buf,
                            &expected[..],
                            "key {key:#x} off {offset} len {len} start {start}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn long_buffers_at_every_start_address_match_the_reference() {
        for start in 0..BLOCK + 1 {
            for len in [63, 64, 65, 200, 4096 + 13] {
                let mut big = message(len + BLOCK + 1);
                let expected = reference(&big[start..start + len], KEY, 1);
                mask_in_place(&mut big[start..start + len], KEY, 1);
                assert_eq!(
                    &big[start..start + len],
                    &expected[..],
                    "start {start} len {len}"
                );
            }
        }
    }

    /// Lengths around the wasm32 vector blocks (16 bytes, 8 of them per iteration) from
    /// every start address, so the head, the blocks and the tail meet at each boundary.
    /// Natively this checks the scalar path; tests/test_mask_simd.py checks the wasm one.
    #[test]
    fn lengths_around_the_vector_blocks_match_the_reference() {
        let lengths = [
            15, 16, 17, 127, 128, 129, 143, 144, 145, 255, 256, 257, 4095, 4096, 4097, 4223,
        ];
        for start in 0..BLOCK + 1 {
            for len in lengths {
                for offset in 0..4 {
                    let mut big = message(len + BLOCK + 1);
                    let expected = reference(&big[start..start + len], KEY, offset);
                    mask_in_place(&mut big[start..start + len], KEY, offset);
                    assert_eq!(
                        &big[start..start + len],
                        &expected[..],
                        "start {start} len {len} offset {offset}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_offset_mod_4_matters_even_near_wrap() {
        let msg = message(77);
        for offset in [u32::MAX - 7, u32::MAX - 4, u32::MAX - 1, u32::MAX] {
            let expected = reference(&msg, KEY, offset);
            assert_eq!(mask(&msg, KEY, offset), expected, "offset {offset}");
            assert_eq!(mask(&msg, KEY, offset % 4), expected, "offset {offset}");
        }
        // A chunk whose offset wraps: u32::MAX % 4 == 3, so the key starts at its last byte.
        assert_eq!(
            mask(&[0, 0, 0, 0, 0], KEY, u32::MAX),
            vec![0x3d, 0x37, 0xfa, 0x21, 0x3d]
        );
    }
}
