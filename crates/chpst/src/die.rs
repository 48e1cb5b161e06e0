//! How chpst stops: a message in runit's words on standard error and an
//! exit code (100 for usage, 111 for failures, 0 where setlock -x asks
//! for silence).

use std::io;

use supervise_proto::errstr::raw_errno_str;
use supervise_proto::getopt::OptError;

/// Every fatal message starts with this, whatever name chpst was called
/// by: runit hard-codes it, so `setuidgid` also says "chpst: fatal:".
pub const FATAL: &str = "chpst: fatal: ";
pub const WARNING: &str = "chpst: warning: ";

/// Exit code for bad usage.
pub const EXIT_USAGE: i32 = 100;
/// Exit code for trouble changing the process state.
pub const EXIT_FAIL: i32 = 111;

/// A reason to stop: what to print (maybe nothing) and the exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Die {
    pub code: i32,
    pub text: Vec<u8>,
}

/// runit's text for the errno carried by an I/O error.
pub fn err_text(e: &io::Error) -> &'static str {
    raw_errno_str(e.raw_os_error().unwrap_or(0))
}

impl Die {
    /// `chpst: fatal: WHAT: ERR`
    pub fn sys(what: &str, e: &io::Error) -> Die {
        Die::fail(format!("{FATAL}{what}: {}\n", err_text(e)).into_bytes())
    }

    /// `chpst: fatal: WHAT: ARG: ERR`
    pub fn sys2(what: &str, arg: &[u8], e: &io::Error) -> Die {
        let mut t = format!("{FATAL}{what}: ").into_bytes();
        t.extend_from_slice(arg);
        t.extend_from_slice(format!(": {}\n", err_text(e)).as_bytes());
        Die::fail(t)
    }

    /// `chpst: fatal: WHAT: ARG` (no error text).
    pub fn x2(what: &str, arg: &[u8]) -> Die {
        let mut t = format!("{FATAL}{what}: ").into_bytes();
        t.extend_from_slice(arg);
        t.push(b'\n');
        Die::fail(t)
    }

    /// A failure with a prepared text, exit 111.
    pub fn fail(text: Vec<u8>) -> Die {
        Die {
            code: EXIT_FAIL,
            text,
        }
    }

    /// `usage: PROG TEXT` and a blank line, exit 100. `prefix` is printed
    /// first (the option scanner's complaint, or -V's version line).
    pub fn usage(prefix: &[u8], prog: &[u8], text: &str) -> Die {
        let mut t = prefix.to_vec();
        t.extend_from_slice(b"usage: ");
        t.extend_from_slice(prog);
        t.extend_from_slice(text.as_bytes());
        t.extend_from_slice(b"\n\n");
        Die {
            code: EXIT_USAGE,
            text: t,
        }
    }

    /// Exit quietly with `code`.
    pub fn silent(code: i32) -> Die {
        Die {
            code,
            text: Vec::new(),
        }
    }
}

/// Writes bytes to standard error, ignoring failure (chpst may have been
/// asked to close it).
pub fn write_stderr(text: &[u8]) {
    supervise_proto::fdio::eprint(text);
}

/// The option scanner's complaint as runit prints it, byte for byte:
/// `PROG: illegal option -- c` or `PROG: option requires an argument --
/// c`, newline included (PROG and c may be any bytes).
pub fn opt_complaint(e: &OptError, prog: &[u8]) -> Vec<u8> {
    let (what, c) = match *e {
        OptError::Illegal(c) => (&b": illegal option -- "[..], c),
        OptError::MissingArgument(c) => (&b": option requires an argument -- "[..], c),
    };
    [prog, what, &[c, b'\n']].concat()
}

/// `unable to read DIR/NAME: ERR` -- runit words this one without a
/// colon between the verb and the path.
fn unreadable(prefix: &str, path: &[u8], e: &io::Error) -> Vec<u8> {
    let mut t = format!("{prefix}unable to read ").into_bytes();
    t.extend_from_slice(path);
    t.extend_from_slice(format!(": {}\n", err_text(e)).as_bytes());
    t
}

/// `chpst: fatal: unable to read PATH: ERR`
pub fn die_unreadable(path: &[u8], e: &io::Error) -> Die {
    Die::fail(unreadable(FATAL, path, e))
}

/// `chpst: warning: unable to read PATH: ERR` on standard error.
pub fn warn_unreadable(path: &[u8], e: &io::Error) {
    write_stderr(&unreadable(WARNING, path, e));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let e = io::Error::from(rustix::io::Errno::NOENT);
        assert_eq!(
            Die::sys2("unable to run", b"x", &e).text,
            b"chpst: fatal: unable to run: x: file does not exist\n"
        );
        let e = io::Error::from(rustix::io::Errno::ISDIR);
        assert_eq!(
            die_unreadable(b"e/sub", &e).text,
            b"chpst: fatal: unable to read e/sub: is a directory\n"
        );
        assert_eq!(
            Die::x2("unknown account", b"bob").text,
            b"chpst: fatal: unknown account: bob\n"
        );
        let u = Die::usage(b"p: illegal option -- z\n", b"pgrphack", " child");
        assert_eq!(u.code, 100);
        assert_eq!(u.text, b"p: illegal option -- z\nusage: pgrphack child\n\n");
        assert_eq!(
            opt_complaint(&OptError::Illegal(0xe9), b"\xffx"),
            b"\xffx: illegal option -- \xe9\n"
        );
        assert_eq!(
            opt_complaint(&OptError::MissingArgument(b'u'), b"chpst"),
            b"chpst: option requires an argument -- u\n"
        );
    }
}
