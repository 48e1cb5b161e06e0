//! runit's decimal scanner, which sv (`-w`, `$SVWAIT`), chpst (ids and
//! limits) and svlogd (options and config) all use.

/// Reads leading ASCII digits as runit's `scan_ulong` does: the value
/// wraps on overflow (runit keeps it in an unsigned long), and the count
/// of bytes used is returned beside it (0 when `s` starts with no digit).
pub fn scan_ulong(s: &[u8]) -> (u64, usize) {
    let mut v: u64 = 0;
    let mut n = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        n += 1;
    }
    (v, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_then_stop_and_wrap() {
        assert_eq!(scan_ulong(b"123x"), (123, 3));
        assert_eq!(scan_ulong(b"x"), (0, 0));
        assert_eq!(scan_ulong(b""), (0, 0));
        assert_eq!(scan_ulong(b"18446744073709551615"), (u64::MAX, 20));
        assert_eq!(scan_ulong(b"18446744073709551616"), (0, 20));
    }
}
