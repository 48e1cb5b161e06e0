//! Cutting the input into log lines, runit's way, for a whole buffer at a
//! time.
//!
//! A line's first `len` bytes (the -l option) are its *head*: replaced
//! bytes (-r/-R) apply there, patterns see only the head, and copies to
//! standard error and UDP carry only the head (with `...` when the line
//! reached `len` bytes). The rest of a long line, the *tail*, is passed
//! through untouched. The timestamp of a line is the time its first byte
//! was read.
//!
//! The splitter is sans-IO: it reports lines to a [`Sink`] and tells the
//! caller how many input bytes it consumed; an incomplete short line is
//! left in the caller's buffer (with its timestamp kept here) until more
//! input arrives. A long line is reported as soon as its head is known,
//! so memory stays bounded whatever the line length.

use crate::stamp::STAMP_LEN;

/// Where lines go.
pub trait Sink {
    /// A line's head. `truncated`: the line reached the head length (its
    /// stderr/UDP copies get `...`). `complete`: the newline came within
    /// the head, so no tail follows and the line ends here.
    fn head(&mut self, stamp: &[u8], head: &[u8], truncated: bool, complete: bool);
    /// More raw bytes of a long line.
    fn tail(&mut self, chunk: &[u8]);
    /// The end of a long line.
    fn end(&mut self);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between lines.
    Fresh,
    /// A short line has started but its newline has not arrived; its
    /// bytes are still in the caller's buffer.
    Partial,
    /// A long line's head has been reported; tail bytes follow.
    Tail,
}

pub struct Splitter {
    line_max: usize,
    /// The replacement map for head bytes, when -r/-R was given.
    map: Option<Box<[u8; 256]>>,
    scratch: Vec<u8>,
    state: State,
    stamp: [u8; STAMP_LEN],
    stamp_len: usize,
}

impl Splitter {
    /// `repl`/`replace` as from -r and -R.
    pub fn new(line_max: usize, repl: Option<u8>, replace: &[u8]) -> Splitter {
        let map = repl.map(|r| {
            let mut m = Box::new([0u8; 256]);
            for (b, slot) in m.iter_mut().enumerate() {
                let b = b as u8;
                *slot = if !(32..=126).contains(&b) || replace.contains(&b) {
                    r
                } else {
                    b
                };
            }
            m
        });
        Splitter {
            line_max,
            map,
            // Grown by the heads it holds: -l may be larger than any line.
            scratch: Vec::new(),
            state: State::Fresh,
            stamp: [0; STAMP_LEN],
            stamp_len: 0,
        }
    }

    /// Whether a line has started and not ended.
    pub fn in_line(&self) -> bool {
        self.state != State::Fresh
    }

    /// Reports every line (or line part) `buf` completes. `stamp` is the
    /// timestamp for lines starting in this buffer. Returns the number of
    /// bytes consumed; the caller keeps the rest (an unfinished short
    /// line, shorter than the head length) at the front of its next
    /// buffer.
    pub fn feed(&mut self, buf: &[u8], stamp: &[u8], sink: &mut impl Sink) -> usize {
        let mut pos = 0;
        while pos < buf.len() {
            let rest = &buf[pos..];
            if self.state == State::Tail {
                match find_nl(rest) {
                    Some(i) => {
                        if i > 0 {
                            sink.tail(&rest[..i]);
                        }
                        sink.end();
                        self.state = State::Fresh;
                        pos += i + 1;
                    }
                    None => {
                        sink.tail(rest);
                        pos = buf.len();
                    }
                }
                continue;
            }
            if self.state == State::Fresh {
                self.stamp[..stamp.len()].copy_from_slice(stamp);
                self.stamp_len = stamp.len();
            }
            let window = &rest[..rest.len().min(self.line_max)];
            match find_nl(window) {
                Some(i) => {
                    self.emit_head(&rest[..i], false, true, sink);
                    self.state = State::Fresh;
                    pos += i + 1;
                }
                None if window.len() == self.line_max => {
                    self.emit_head(window, true, false, sink);
                    self.state = State::Tail;
                    pos += self.line_max;
                }
                None => {
                    self.state = State::Partial;
                    break;
                }
            }
        }
        pos
    }

    /// End of input: an unfinished line is completed as if its newline had
    /// arrived (runit drops it; we keep it). `rest` is what `feed` left.
    pub fn finish(&mut self, rest: &[u8], sink: &mut impl Sink) {
        match self.state {
            State::Fresh => {}
            State::Partial => self.emit_head(rest, false, true, sink),
            State::Tail => sink.end(),
        }
        self.state = State::Fresh;
    }

    fn emit_head(&mut self, head: &[u8], truncated: bool, complete: bool, sink: &mut impl Sink) {
        let stamp = &self.stamp[..self.stamp_len];
        match &self.map {
            None => sink.head(stamp, head, truncated, complete),
            Some(m) => {
                self.scratch.clear();
                self.scratch.extend(head.iter().map(|&b| m[b as usize]));
                sink.head(stamp, &self.scratch, truncated, complete);
            }
        }
    }
}

/// The index of the first newline in `h`: eight bytes at a time.
#[inline]
pub fn find_nl(h: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut chunks = h.chunks_exact(8);
    let mut at = 0;
    for c in chunks.by_ref() {
        let w = u64::from_le_bytes(c.try_into().unwrap()) ^ NL;
        // A zero byte in w is a newline; the lowest flagged byte is exact.
        let z = w.wrapping_sub(LO) & !w & HI;
        if z != 0 {
            return Some(at + (z.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testrng::Rng;

    /// Records what a sink sees as text events.
    #[derive(Default)]
    struct Rec(Vec<String>);

    impl Sink for Rec {
        fn head(&mut self, stamp: &[u8], head: &[u8], truncated: bool, complete: bool) {
            self.0.push(format!(
                "H[{}|{}|{}{}]",
                String::from_utf8_lossy(stamp),
                String::from_utf8_lossy(head),
                if truncated { "T" } else { "" },
                if complete { "C" } else { "" }
            ));
        }
        fn tail(&mut self, chunk: &[u8]) {
            self.0
                .push(format!("t[{}]", String::from_utf8_lossy(chunk)));
        }
        fn end(&mut self) {
            self.0.push("E".into());
        }
    }

    /// Feeds `input` in the given chunk sizes (like successive reads),
    /// then ends the input. Stamps are "sN" for the N-th read.
    fn run(sp: &mut Splitter, input: &[u8], cuts: &[usize]) -> Vec<String> {
        let mut rec = Rec::default();
        let mut buf: Vec<u8> = Vec::new();
        let mut at = 0;
        for (k, &c) in cuts.iter().enumerate() {
            let end = (at + c).min(input.len());
            buf.extend_from_slice(&input[at..end]);
            at = end;
            let stamp = format!("s{k}");
            let used = sp.feed(&buf, stamp.as_bytes(), &mut rec);
            buf.drain(..used);
        }
        assert_eq!(at, input.len(), "cuts must cover the input");
        sp.finish(&buf, &mut rec);
        rec.0
    }

    /// Joins events, merging consecutive tail chunks into one.
    fn merge_tails(ev: &[String]) -> String {
        let mut out = String::new();
        let mut prev_tail = false;
        for e in ev {
            let is_tail = e.starts_with("t[");
            if is_tail && prev_tail {
                out.pop(); // the previous tail's ']'
                out.push_str(&e[2..]);
            } else {
                out.push_str(e);
            }
            prev_tail = is_tail;
        }
        out
    }

    #[test]
    fn short_lines_and_a_partial_one() {
        let mut sp = Splitter::new(10, None, b"");
        let ev = run(&mut sp, b"ab\ncd\nef", &[8]);
        assert_eq!(ev, ["H[s0|ab|C]", "H[s0|cd|C]", "H[s0|ef|C]"]);
    }

    #[test]
    fn stamp_is_from_the_first_byte() {
        let mut sp = Splitter::new(10, None, b"");
        let ev = run(&mut sp, b"abc\nde\n", &[5, 2]);
        assert_eq!(ev, ["H[s0|abc|C]", "H[s0|de|C]"]);
        let ev = run(&mut sp, b"abc\nde\n", &[4, 3]);
        assert_eq!(ev, ["H[s0|abc|C]", "H[s1|de|C]"]);
    }

    #[test]
    fn long_lines() {
        let mut sp = Splitter::new(4, None, b"");
        let ev = run(&mut sp, b"abcdefg\nabcd\nab\n", &[16]);
        assert_eq!(
            ev,
            [
                "H[s0|abcd|T]",
                "t[efg]",
                "E",
                "H[s0|abcd|T]",
                "E",
                "H[s0|ab|C]"
            ]
        );
        // Split in every possible place: same events apart from stamps.
        let input = b"abcdefg\nabcd\nab\n";
        for cut in 1..input.len() {
            let ev = run(&mut sp, input, &[cut, input.len() - cut]);
            let ev: Vec<String> = ev.iter().map(|e| e.replace("s1", "s0")).collect();
            assert_eq!(
                merge_tails(&ev),
                "H[s0|abcd|T]t[efg]EH[s0|abcd|T]EH[s0|ab|C]",
                "cut {cut}"
            );
        }
    }

    #[test]
    fn unterminated_long_line_at_eof() {
        let mut sp = Splitter::new(3, None, b"");
        assert_eq!(
            run(&mut sp, b"abcdef", &[6]),
            ["H[s0|abc|T]", "t[def]", "E"]
        );
        assert_eq!(run(&mut sp, b"abc", &[3]), ["H[s0|abc|T]", "E"]);
        assert_eq!(run(&mut sp, b"", &[0]), Vec::<String>::new());
    }

    #[test]
    fn replacement_applies_to_the_head_only() {
        let mut sp = Splitter::new(5, Some(b'.'), b"b");
        let ev = run(&mut sp, b"a\tb~c\x7f\xffxyz\n\n", &[20]);
        assert_eq!(
            ev,
            ["H[s0|a..~c|T]", "t[\u{7f}\u{fffd}xyz]", "E", "H[s0||C]"]
        );
    }

    /// Found while writing the svlogd_args fuzz target: a -l near the
    /// top of usize (runit's scanner takes any) made the splitter ask for
    /// that much memory at once (capacity overflow).
    #[test]
    fn huge_line_max_allocates_by_use() {
        let mut sp = Splitter::new(usize::MAX - 1, Some(b'.'), b"b");
        let ev = run(&mut sp, b"ab\x01\n", &[4]);
        assert_eq!(ev, ["H[s0|a..|C]"]);
    }

    #[test]
    fn find_nl_agrees_with_naive() {
        let mut rng = Rng::new(3);
        for _ in 0..20_000 {
            let len = rng.below(70);
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    if rng.below(40) == 0 {
                        b'\n'
                    } else {
                        (rng.below(256)) as u8
                    }
                })
                .collect();
            assert_eq!(find_nl(&v), v.iter().position(|&b| b == b'\n'), "{v:?}");
        }
        assert_eq!(find_nl(b"\x8a\x0a"), Some(1));
        assert_eq!(find_nl(b"\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0a"), Some(7));
    }

    /// Property: however the input is cut into reads, the lines seen are
    /// the same, and heads plus tails give back the input's lines.
    #[test]
    fn fuzz_cuts_do_not_change_lines() {
        let mut rng = Rng::new(11);
        for round in 0..3_000 {
            let line_max = 1 + rng.below(12);
            let len = rng.below(80);
            let input: Vec<u8> = (0..len)
                .map(|_| match rng.below(8) {
                    0 => b'\n',
                    _ => b'a' + rng.below(26) as u8,
                })
                .collect();
            let mut cuts = Vec::new();
            let mut left = len;
            while left > 0 {
                let c = 1 + rng.below(left.min(17));
                cuts.push(c);
                left -= c;
            }
            cuts.push(0);
            let mut sp = Splitter::new(line_max, None, b"");
            let events = run(&mut sp, &input, &cuts);
            // Rebuild the text: every line gets a newline at its end.
            let mut text = String::new();
            for e in &events {
                if let Some(h) = e.strip_prefix("H[") {
                    let parts: Vec<&str> = h.trim_end_matches(']').splitn(3, '|').collect();
                    text.push_str(parts[1]);
                    if parts[2].contains('C') {
                        text.push('\n');
                    }
                } else if let Some(t) = e.strip_prefix("t[") {
                    text.push_str(t.trim_end_matches(']'));
                } else {
                    text.push('\n');
                }
            }
            let mut want = String::from_utf8(input.clone()).unwrap();
            if !want.is_empty() && !want.ends_with('\n') {
                want.push('\n');
            }
            assert_eq!(text, want, "round {round} cuts {cuts:?}");
            // One-shot feeding gives the same events modulo stamps.
            let mut sp2 = Splitter::new(line_max, None, b"");
            let one = run(&mut sp2, &input, &[len]);
            let norm = |v: &[String]| -> Vec<String> {
                v.iter()
                    .map(|e| {
                        let mut s = e.clone();
                        for k in 0..=cuts.len() {
                            s = s
                                .replace(&format!("|s{k}|"), "|s|")
                                .replace(&format!("[s{k}|"), "[s|");
                        }
                        s
                    })
                    .collect::<Vec<String>>()
            };
            assert_eq!(
                merge_tails(&norm(&events)),
                merge_tails(&norm(&one)),
                "round {round}"
            );
        }
    }
}
