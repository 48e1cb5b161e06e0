//! Wait statuses, decoded in one place: how a child ended, and the raw
//! status runit hands on to ./finish.

use rustix::io::Errno;
use rustix::process::{wait, WaitOptions};

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

/// A wait(2) status as the kernel reported it. Only ended children are
/// collected (no WUNTRACED), so it is either an exit or a killing signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wstat(i32);

impl Wstat {
    pub const fn from_raw(raw: i32) -> Wstat {
        Wstat(raw)
    }

    pub const fn raw(self) -> i32 {
        self.0
    }

    /// How the child ended: killed when the low seven bits name a signal.
    pub const fn exit(self) -> Exit {
        match self.0 & 0x7f {
            0 => Exit::Code((self.0 >> 8) & 0xff),
            sig => Exit::Signal(sig),
        }
    }

    /// The exit code, or None when a signal killed the child.
    pub const fn code(self) -> Option<i32> {
        match self.exit() {
            Exit::Code(c) => Some(c),
            Exit::Signal(_) => None,
        }
    }

    /// ./finish's two arguments as runsv passes them: the exit code (-1
    /// when killed by a signal), then the status's low byte (the signal,
    /// plus 128 when it dumped core; 0 after an exit).
    pub fn finish_args(self) -> [String; 2] {
        let code = self.code().unwrap_or(-1);
        [code.to_string(), (self.0 & 0xff).to_string()]
    }
}

impl From<rustix::process::WaitStatus> for Wstat {
    fn from(st: rustix::process::WaitStatus) -> Wstat {
        Wstat(st.as_raw())
    }
}

/// Collects one ended child, of any process group, without blocking: its
/// pid and status. None when no child has ended (or there are none); an
/// interrupted call is retried. (rustix's `waitpid(None, …)` is
/// waitpid(0): children in the caller's process group only.)
pub fn reap() -> Option<(u32, Wstat)> {
    loop {
        match wait(WaitOptions::NOHANG) {
            Ok(Some((pid, st))) => return Some((pid.as_raw_nonzero().get() as u32, st.into())),
            Err(Errno::INTR) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_exits_and_signals() {
        assert_eq!(Wstat::from_raw(0).exit(), Exit::Code(0));
        assert_eq!(Wstat::from_raw(100 << 8).exit(), Exit::Code(100));
        assert_eq!(Wstat::from_raw(9).exit(), Exit::Signal(9));
        // A core dump sets bit 7; the signal is still 11.
        assert_eq!(Wstat::from_raw(0x80 | 11).exit(), Exit::Signal(11));
        assert_eq!(Wstat::from_raw(3 << 8).code(), Some(3));
        assert_eq!(Wstat::from_raw(15).code(), None);
    }

    #[test]
    fn finish_gets_runits_arguments() {
        assert_eq!(Wstat::from_raw(0).finish_args(), ["0", "0"]);
        assert_eq!(Wstat::from_raw(1 << 8).finish_args(), ["1", "0"]);
        assert_eq!(Wstat::from_raw(9).finish_args(), ["-1", "9"]);
        assert_eq!(Wstat::from_raw(0x80 | 11).finish_args(), ["-1", "139"]);
    }
}
