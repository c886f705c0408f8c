//! `add`: the smallest kernel, for measuring what a call costs.

/// `a + b` modulo 2^32.
pub fn add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn add_wraps() {
        assert_eq!(super::add(2, 3), 5);
        assert_eq!(super::add(u32::MAX, 1), 0);
    }
}
