//! The readproctitle emulation behind runsvdir's `log` argument.
//!
//! runsvdir's stderr (and so every runsv's and every ./run's that does
//! not redirect it) becomes a pipe that runsvdir reads itself. The text
//! read is scrolled into the memory of the `log` argument, so `ps` shows
//! the latest messages in runsvdir's command line: every byte (NUL bytes
//! are dropped) shifts the argument left by one from its sixth character
//! on, keeping the first five (`log: ` in the usual `log: .....`), and
//! lands at the end.
//!
//! The argument's memory is found through /proc/self/stat (arg_start) and
//! written through /proc/self/mem, so no raw pointers are involved; if
//! either is unavailable the title simply stays as it is.

use std::fs::File;
use std::os::unix::fs::FileExt;

/// How many leading characters of the log argument never scroll.
pub const KEEP: usize = 5;

/// The visible text of the status area.
#[derive(Debug, Clone)]
pub struct Area {
    text: Vec<u8>,
}

impl Area {
    pub fn new(initial: &[u8]) -> Area {
        Area {
            text: initial.to_vec(),
        }
    }

    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// Scrolls `input` in, byte by byte, as runit does. Returns whether
    /// anything changed.
    pub fn push(&mut self, input: &[u8]) -> bool {
        let len = self.text.len();
        if len <= KEEP {
            return false;
        }
        let window = len - KEEP;
        let bytes: Vec<u8> = input.iter().copied().filter(|&b| b != 0).collect();
        if bytes.is_empty() {
            return false;
        }
        let tail = &mut self.text[KEEP..];
        if bytes.len() >= window {
            tail.copy_from_slice(&bytes[bytes.len() - window..]);
        } else {
            tail.copy_within(bytes.len().., 0);
            tail[window - bytes.len()..].copy_from_slice(&bytes);
        }
        true
    }
}

/// Where argument `index` of this process lives, as an address.
fn argument_address(index: usize, expect: &[u8], mem: &File) -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised name start at field 3; arg_start is
    // field 48 and arg_end field 49 (proc(5)).
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let start: u64 = f.get(48 - 3)?.parse().ok()?;
    let end: u64 = f.get(49 - 3)?.parse().ok()?;
    if end <= start || end - start > 1 << 24 {
        return None;
    }
    let mut all = vec![0u8; (end - start) as usize];
    mem.read_exact_at(&mut all, start).ok()?;
    let mut offset = 0usize;
    for _ in 0..index {
        let nul = all[offset..].iter().position(|&b| b == 0)?;
        offset += nul + 1;
    }
    // Only write where the argument really is.
    let here = all.get(offset..offset + expect.len())?;
    (here == expect && all.get(offset + expect.len()) == Some(&0)).then_some(start + offset as u64)
}

/// Our own command line's log argument, writable.
pub struct Title {
    area: Area,
    target: Option<(File, u64)>,
}

impl Title {
    /// Locates argv[`index`], whose text is `initial`.
    pub fn new(index: usize, initial: &[u8]) -> Title {
        let target = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/proc/self/mem")
            .ok()
            .and_then(|mem| argument_address(index, initial, &mem).map(|a| (mem, a)));
        Title {
            area: Area::new(initial),
            target,
        }
    }

    /// Scrolls `input` in and updates the command line.
    pub fn push(&mut self, input: &[u8]) {
        if self.area.push(input) {
            if let Some((mem, addr)) = &self.target {
                let _ = mem.write_all_at(self.area.text(), *addr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// runit's own algorithm, byte by byte, to compare against.
    fn reference(text: &mut [u8], input: &[u8]) {
        for &ch in input {
            if ch == 0 {
                continue;
            }
            for i in 6..text.len() {
                text[i - 1] = text[i];
            }
            let n = text.len();
            text[n - 1] = ch;
        }
    }

    #[test]
    fn scrolls_like_runit() {
        let mut a = Area::new(b"xyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
        a.push(b".12\n");
        assert_eq!(a.text(), b"xyzABGHIJKLMNOPQRSTUVWXYZ.12\n");
        let mut b = Area::new(b"log: 0123456789");
        b.push(b".A\0B");
        assert_eq!(b.text(), b"log: 3456789.AB");
    }

    #[test]
    fn matches_bytewise_reference_for_all_chunk_sizes() {
        let init = b"log: ..........";
        let input: Vec<u8> = (0..200u32).map(|i| (i % 7) as u8 + b'a').collect();
        for chunk in 1..40 {
            let mut a = Area::new(init);
            let mut r = init.to_vec();
            for c in input.chunks(chunk) {
                a.push(c);
                reference(&mut r, c);
                assert_eq!(a.text(), &r[..], "chunk {chunk}");
            }
        }
    }

    #[test]
    fn finds_and_rewrites_own_arguments() {
        // The test binary's argv[0] is its path; rewrite it in place and
        // check /proc/self/cmdline shows the change.
        let argv0 = std::fs::read("/proc/self/cmdline").unwrap();
        let first = argv0.split(|&b| b == 0).next().unwrap().to_vec();
        if first.len() < 8 {
            return;
        }
        let mut t = Title::new(0, &first);
        assert!(t.target.is_some(), "argv[0] not found");
        t.push(b"ZZ");
        let now = std::fs::read("/proc/self/cmdline").unwrap();
        let shown = now.split(|&b| b == 0).next().unwrap();
        assert!(shown.ends_with(b"ZZ"));
        assert_eq!(shown.len(), first.len());
        assert_eq!(&shown[..KEEP], &first[..KEEP]);
    }
}
