//! runsvdir's diagnostics, in runit's words:
//! `runsvdir DIR: warning: WHAT: ERR` and `runsvdir DIR: fatal: ...`.
//!
//! Each message goes out in one write(2) and errors are ignored: with the
//! `log` argument, stderr is a non-blocking pipe that runsvdir drains
//! itself, and a full pipe must cost a message, never a panic or a hang
//! (Rust's `eprintln!` would panic on EAGAIN).

use rustix::io::Errno;
use supervise_proto::errno_str;

/// Exit code for bad usage.
pub const USAGE: i32 = 1;
/// Exit code when runsvdir cannot even start.
pub const FATAL: i32 = 100;

/// Writes one complete line to fd 2, ignoring failures.
pub fn write_stderr(line: &[u8]) {
    supervise_proto::fdio::eprint(line);
}

/// Message formatter bound to the services directory's name.
#[derive(Clone, Debug)]
pub struct Messages {
    prefix: Vec<u8>,
}

impl Messages {
    pub fn new(dir: &[u8]) -> Messages {
        let mut prefix = b"runsvdir ".to_vec();
        prefix.extend_from_slice(dir);
        Messages { prefix }
    }

    fn line(&self, kind: &str, parts: &[&[u8]]) -> Vec<u8> {
        let mut v = self.prefix.clone();
        v.extend_from_slice(b": ");
        v.extend_from_slice(kind.as_bytes());
        v.extend_from_slice(b": ");
        for p in parts {
            v.extend_from_slice(p);
        }
        v.push(b'\n');
        v
    }

    /// `runsvdir DIR: warning: PARTS...`
    pub fn warn(&self, parts: &[&[u8]]) {
        write_stderr(&self.line("warning", parts));
    }

    /// `runsvdir DIR: warning: PARTS...: ERR`
    pub fn warn_errno(&self, parts: &[&[u8]], e: Errno) {
        let mut all: Vec<&[u8]> = parts.to_vec();
        all.push(b": ");
        all.push(errno_str(e).as_bytes());
        self.warn(&all);
    }

    /// `runsvdir DIR: fatal: PARTS...: ERR` (the caller exits).
    pub fn fatal_errno(&self, parts: &[&[u8]], e: Errno) {
        let mut all: Vec<&[u8]> = parts.to_vec();
        all.push(b": ");
        all.push(errno_str(e).as_bytes());
        write_stderr(&self.line("fatal", &all));
    }

    /// The text of a warning, for tests.
    #[cfg(test)]
    pub fn warning_text(&self, parts: &[&[u8]]) -> String {
        String::from_utf8_lossy(&self.line("warning", parts)).into_owned()
    }
}

/// `usage: PROG [-P] dir` followed by an empty line, as runit prints it.
pub fn usage(prog: &[u8]) -> i32 {
    let mut v = b"usage: ".to_vec();
    v.extend_from_slice(prog);
    v.extend_from_slice(b" [-P] dir\n\n");
    write_stderr(&v);
    USAGE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let m = Messages::new(b"/etc/service");
        assert_eq!(
            m.warning_text(&[b"unable to stat ", b"x"]),
            "runsvdir /etc/service: warning: unable to stat x\n"
        );
    }
}
