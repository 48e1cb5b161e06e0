//! tai64n: an `@`-stamp and a space before every line.
//!
//! The stamp is the moment the chunk holding the line's first byte was
//! read, which is when tai64n "read the first character of the line". It
//! uses the same clock rounding as runit and daemontools (microseconds,
//! nanosecond field ending in 500), so stamps sort together with svlogd's.

use supervise_proto::Tai64n;

use crate::filter::Transform;

/// Stamps lines; remembers whether the next byte starts a line.
pub struct Stamper<C: FnMut() -> Tai64n> {
    clock: C,
    at_line_start: bool,
}

impl<C: FnMut() -> Tai64n> Stamper<C> {
    pub fn new(clock: C) -> Self {
        Stamper {
            clock,
            at_line_start: true,
        }
    }
}

impl<C: FnMut() -> Tai64n> Transform for Stamper<C> {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut hex = [0u8; 24];
        (self.clock)().write_hex(&mut hex);
        for line in input.split_inclusive(|&b| b == b'\n') {
            if self.at_line_start {
                out.push(b'@');
                out.extend_from_slice(&hex);
                out.push(b' ');
            }
            out.extend_from_slice(line);
            self.at_line_start = line.ends_with(b"\n");
        }
    }

    /// An unterminated last line is passed on as it is, without a newline
    /// added, as daemontools' tai64n does.
    fn finish(&mut self, _out: &mut Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Vec<u8> {
        let mut n = 0u64;
        let mut s = Stamper::new(|| {
            n += 1;
            Tai64n::from_unix(n, 500)
        });
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c, &mut out);
        }
        s.finish(&mut out);
        out
    }

    #[test]
    fn one_stamp_per_line_by_chunk() {
        let out = run(&[b"a\n\nb", b"c\nd\n"]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "@400000000000000b000001f4 a\n\
             @400000000000000b000001f4 \n\
             @400000000000000b000001f4 bc\n\
             @400000000000000c000001f4 d\n"
        );
    }

    #[test]
    fn empty_input_and_partial_line() {
        assert!(run(&[]).is_empty());
        let out = run(&[b"x"]);
        assert_eq!(out.len(), 27);
        assert!(out.ends_with(b" x"));
    }

    #[test]
    fn bytes_pass_unchanged() {
        let out = run(&[b"\0\xff\r\n"]);
        assert!(out.ends_with(b" \0\xff\r\n"));
    }
}
