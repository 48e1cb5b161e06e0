//! svlogd: its config file, its command line, its pattern language and
//! the cutting of input into lines.

use svlogd::config;
use svlogd::lines::{Sink, Splitter};
use svlogd::options;
use svlogd::pmatch::pmatch;

use crate::{chunks, words, Input};

/// A config file: parsing is deterministic, bounded by the input, and a
/// comment line added at the end changes nothing.
pub fn config_file(data: &[u8]) {
    let mut warnings = Vec::new();
    let c = config::parse(data, |what, v| warnings.push((what.len(), v.len())));
    assert_eq!(c, config::parse(data, |_, _| {}));
    let lines = data.iter().filter(|&&b| b == b'\n').count() + 1;
    assert!(warnings.len() <= lines);
    assert!(warnings.iter().all(|&(_, v)| v <= data.len()));
    assert!(c.patterns.len() <= data.len());
    assert!(c.prefix.len() <= data.len() && !c.prefix.contains(&0));
    // `!` then a NUL gives an empty processor, as runit's C string does.
    if let Some(p) = &c.processor {
        assert!(p.len() <= data.len() && !p.contains(&0));
    }
    let _ = c.udp_addr();
    let mut more = data.to_vec();
    if !more.ends_with(b"\n") {
        more.push(b'\n');
    }
    let before = config::parse(&more, |_, _| {});
    more.extend_from_slice(b"# comment\n");
    assert_eq!(before, config::parse(&more, |_, _| {}));
}

/// The command line (-l, -b, -r, -R, -t): accepted options respect runit's
/// rules (buflen > len > 0, a NUL-free replacement byte, a directory).
pub fn command_line(data: &[u8]) {
    let args = words(data);
    match options::parse("/bin/svlogd", &args) {
        Ok(o) => {
            assert!(o.line_max > 0 && o.buf_len > o.line_max);
            assert!(!o.dirs.is_empty());
            assert_ne!(o.repl, Some(0));
            if !o.replace.is_empty() {
                assert!(o.repl.is_some());
            }
        }
        Err(u) => assert!(u.text("svlogd").ends_with("\n\n")),
    }
}

/// The pattern language: any pattern and text give an answer; a pattern
/// without `*` and `+` matches exactly itself; one ending in `*` after
/// plain bytes matches exactly the texts that start with them.
pub fn pattern(data: &[u8]) {
    let mut inp = Input::new(data);
    let pat = inp.piece(64);
    let text = inp.rest();
    let m = pmatch(pat, text);
    let plain = |p: &[u8]| !p.iter().any(|&b| b == b'*' || b == b'+');
    if plain(pat) {
        assert_eq!(m, pat == text);
    }
    if let Some(stem) = pat.strip_suffix(b"*") {
        if plain(stem) {
            assert_eq!(m, text.starts_with(stem));
        }
    }
    assert!(pmatch(b"*", text));
    assert_eq!(pmatch(b"", text), text.is_empty());
}

/// What a splitter reports, as one list of events.
#[derive(Debug, Default, PartialEq, Eq)]
struct Events {
    /// (head, truncated, complete, the tail's chunks joined).
    lines: Vec<(Vec<u8>, bool, bool, Vec<u8>)>,
    ends: usize,
}

impl Sink for Events {
    fn head(&mut self, _stamp: &[u8], head: &[u8], truncated: bool, complete: bool) {
        self.lines
            .push((head.to_vec(), truncated, complete, Vec::new()));
    }
    fn tail(&mut self, chunk: &[u8]) {
        let last = self.lines.last_mut().expect("a tail after a head");
        assert!(!last.2, "a tail after a complete line");
        last.3.extend_from_slice(chunk);
    }
    fn end(&mut self) {
        self.ends += 1;
    }
}

/// Feeds `input` to a splitter the way svlogd's loop does: the caller
/// keeps what was not consumed and puts the next read behind it.
fn split(sp: &mut Splitter, input: &[u8], sizes: &[u8], line_max: usize) -> Events {
    let mut ev = Events::default();
    let mut held: Vec<u8> = Vec::new();
    for chunk in chunks(input, sizes) {
        held.extend_from_slice(chunk);
        let used = sp.feed(&held, b"", &mut ev);
        assert!(used <= held.len());
        held.drain(..used);
        // Memory stays bounded: only a short line's start is kept.
        assert!(held.len() < line_max, "{} held, -l {line_max}", held.len());
    }
    sp.finish(&held, &mut ev);
    assert!(!sp.in_line());
    ev
}

/// Line handling under -l, -r and -R: heads are at most -l bytes and only
/// a full head has a tail; heads and tails give back every line (the last
/// one completed), with replacement in heads only; and how the input is
/// cut into reads changes nothing.
pub fn lines(data: &[u8]) {
    let mut inp = Input::new(data);
    let line_max = 1 + inp.byte() as usize % 48;
    let flags = inp.byte();
    let repl = (flags & 1 == 1).then(|| inp.byte().max(1));
    let replace = inp.piece(8).to_vec();
    let sizes = inp.piece(8).to_vec();
    let input = inp.rest();
    let new = || Splitter::new(line_max, repl, &replace);
    let ev = split(&mut new(), input, &sizes, line_max);
    assert_eq!(ev, split(&mut new(), input, &[], line_max));
    let mut want: Vec<u8> = input.to_vec();
    if !want.is_empty() && !want.ends_with(b"\n") {
        want.push(b'\n');
    }
    let map = |b: u8| match repl {
        Some(r) if !(32..=126).contains(&b) || replace.contains(&b) => r,
        _ => b,
    };
    let mut pos = 0;
    let mut long = 0;
    for (head, truncated, complete, tail) in &ev.lines {
        assert!(head.len() <= line_max);
        assert_eq!(*truncated, !complete);
        assert_eq!(*truncated, head.len() == line_max && !complete);
        if *complete {
            assert!(tail.is_empty());
        } else {
            long += 1;
        }
        let orig = &want[pos..pos + head.len()];
        assert!(head.iter().zip(orig).all(|(&h, &o)| h == map(o)));
        pos += head.len();
        assert_eq!(tail[..], want[pos..pos + tail.len()]);
        pos += tail.len();
        assert_eq!(want[pos], b'\n');
        pos += 1;
    }
    assert_eq!(pos, want.len(), "every byte is in a line");
    assert_eq!(ev.ends, long, "one end per long line");
}
