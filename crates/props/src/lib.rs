//! The properties every parser of outside bytes must keep, written once
//! and run two ways: by the libFuzzer targets in `fuzz/` (nightly, `make
//! fuzz`) and by the proptest suites in this crate's `tests/` (stable,
//! `make check`).
//!
//! Each public function takes raw bytes, carves its parameters out of them
//! with [`Input`], runs one parser and panics when a property fails. Not
//! panicking (and finishing) on any input is the first property of all;
//! the others are cheap checks: round trips, bounded output, agreement
//! between two ways of computing the same answer.

pub mod chpst_props;
pub mod proto;
pub mod svlogd_props;
pub mod tai64n_props;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// Fuzz input read front to back: parameters first, the bytes to parse
/// last. Reading past the end gives zeros, so every input is usable.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    /// The next byte (0 once the input is used up).
    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }

    /// A piece whose length is the next byte, below `max`.
    pub fn piece(&mut self, max: u8) -> &'a [u8] {
        let n = self.byte() % max;
        self.take(n as usize)
    }

    /// Everything not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// An argument vector: `data` split at NUL bytes (which no argument can
/// hold), at most 64 words.
pub fn words(data: &[u8]) -> Vec<OsString> {
    data.split(|&b| b == 0)
        .take(64)
        .map(|w| OsString::from_vec(w.to_vec()))
        .collect()
}

/// Cuts `data` into chunks whose sizes come from `sizes` (cycled; 0 means
/// "the rest"), so a streaming parser can be fed the same bytes two ways.
pub fn chunks<'a>(data: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let s = sizes.get(i % sizes.len().max(1)).copied().unwrap_or(0) as usize;
        let n = if s == 0 {
            rest.len()
        } else {
            s.min(rest.len())
        };
        out.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_reads_zeros_past_the_end() {
        let mut i = Input::new(b"\x02ab");
        assert_eq!(i.piece(8), b"ab");
        assert_eq!(i.byte(), 0);
        assert_eq!(i.take(3), b"");
    }

    #[test]
    fn chunks_cover_the_input() {
        assert_eq!(chunks(b"abcdef", &[2, 1]), [&b"ab"[..], b"c", b"de", b"f"]);
        assert_eq!(chunks(b"abc", &[]), [&b"abc"[..]]);
        assert_eq!(words(b"a\0\0b").len(), 3);
    }
}
