//! Delivering control bytes to one directory's supervisor.
//!
//! As daemontools does, svc changes into each directory (so a name that is
//! not a directory reads "unable to chdir to"), opens `supervise/control`
//! without blocking (ENXIO: nobody reads it, "supervise not running"),
//! then writes in blocking mode, and changes back before the next name.

use std::os::fd::OwnedFd;
use supervise_proto::fdio::write_all;

use rustix::fs::{fcntl_getfl, fcntl_setfl, open, Mode, OFlags};
use rustix::io::Errno;
use supervise_proto::errno_str;
use supervise_proto::svdir::MAIN_FILES;

/// The directory svc started in, to return to after each service.
pub struct Session {
    home: OwnedFd,
}

/// A per-directory problem: svc warns and goes on.
#[derive(Debug, PartialEq, Eq)]
pub enum Warning {
    Chdir(Errno),
    NotRunning,
    Open(Errno),
    Write(Errno),
}

impl Warning {
    /// daemontools' warning line for `dir`.
    pub fn message(&self, dir: &[u8]) -> Vec<u8> {
        let (before, after): (&[u8], String) = match self {
            Warning::Chdir(e) => (b"unable to chdir to ", format!(": {}", errno_str(*e))),
            Warning::NotRunning => (b"unable to control ", ": supervise not running".into()),
            Warning::Open(e) => (b"unable to control ", format!(": {}", errno_str(*e))),
            Warning::Write(e) => (
                b"error writing commands to ",
                format!(": {}", errno_str(*e)),
            ),
        };
        let mut m = b"svc: warning: ".to_vec();
        m.extend_from_slice(before);
        m.extend_from_slice(dir);
        m.extend_from_slice(after.as_bytes());
        m.push(b'\n');
        m
    }
}

impl Session {
    pub fn start() -> Result<Session, Errno> {
        let home = open(".", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())?;
        Ok(Session { home })
    }

    /// Sends `bytes` to the supervisor of `dir`. Leaves the process in
    /// `dir` (or wherever the chdir failed); call [`Session::return_home`].
    pub fn send(&mut self, dir: &[u8], bytes: &[u8]) -> Result<(), Warning> {
        rustix::process::chdir(dir).map_err(Warning::Chdir)?;
        let fd = open(
            MAIN_FILES.control,
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NXIO => Warning::NotRunning,
            e => Warning::Open(e),
        })?;
        // Blocking from here on, as daemontools: a supervisor whose FIFO is
        // full is busy, not gone, and the bytes should still arrive.
        // (daemontools ignores a failure here too; the write then reports.)
        if let Ok(flags) = fcntl_getfl(&fd) {
            let _ = fcntl_setfl(&fd, flags - OFlags::NONBLOCK);
        }
        write_all(&fd, bytes).map_err(Warning::Write)
    }

    pub fn return_home(&mut self) -> Result<(), Errno> {
        rustix::process::fchdir(&self.home)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_texts() {
        assert_eq!(
            Warning::Chdir(Errno::NOENT).message(b"/x"),
            b"svc: warning: unable to chdir to /x: file does not exist\n"
        );
        assert_eq!(
            Warning::NotRunning.message(b"a"),
            b"svc: warning: unable to control a: supervise not running\n"
        );
        assert_eq!(
            Warning::Open(Errno::NOENT).message(b"e"),
            b"svc: warning: unable to control e: file does not exist\n"
        );
        assert_eq!(
            Warning::Write(Errno::PIPE).message(b"e"),
            b"svc: warning: error writing commands to e: broken pipe\n"
        );
    }
}
