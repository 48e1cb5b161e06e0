//! Starting `runsv NAME` with fork(2) and execvp(3), as runit does.
//!
//! Not std's Command: it uses vfork semantics (posix_spawn), so runsvdir
//! would wait for every child's exec before starting the next one, which
//! makes a fan-out of a thousand services twice as slow on a busy machine.
//! With a plain fork runsvdir goes on at once and an exec failure is
//! reported by the child itself, in runit's words, exactly as runit's
//! runsvdir does.

use std::ffi::{CStr, CString};

use rustix::io::Errno;

/// Everything the child needs, prepared before fork so that the child
/// allocates nothing.
pub struct Prepared {
    name: CString,
    /// `runsvdir DIR: fatal: unable to start runsv NAME: `
    failure: Vec<u8>,
    new_session: bool,
}

impl Prepared {
    /// None when NAME holds a NUL byte (impossible for a file name).
    pub fn new(dir: &[u8], name: &[u8], new_session: bool) -> Option<Prepared> {
        let mut failure = b"runsvdir ".to_vec();
        failure.extend_from_slice(dir);
        failure.extend_from_slice(b": fatal: unable to start runsv ");
        failure.extend_from_slice(name);
        failure.extend_from_slice(b": ");
        Some(Prepared {
            name: CString::new(name).ok()?,
            failure,
            new_session,
        })
    }

    /// Forks; the child execs `runsv NAME` found through $PATH in the
    /// current directory. Returns the child's pid, or fork's error.
    pub fn spawn(&self) -> Result<u32, Errno> {
        const PROG: &CStr = c"runsv";
        let argv = [PROG.as_ptr(), self.name.as_ptr(), std::ptr::null()];
        // SAFETY: runsvdir is single-threaded, so the child may run any
        // code; it still sticks to system calls and the buffers prepared
        // above, and always ends in exec or _exit.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(Errno::from_raw_os_error(
                std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EAGAIN),
            ));
        }
        if pid > 0 {
            return Ok(pid as u32);
        }
        unsafe {
            // Rust ignores SIGPIPE; runsv must start with runit's
            // defaults. Caught signals are reset by exec itself.
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            if self.new_session {
                libc::setsid();
            }
            libc::execvp(PROG.as_ptr(), argv.as_ptr());
        }
        supervise_proto::child::exec_failed(&[&self.failure])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepares_the_failure_text() {
        let p = Prepared::new(b"/etc/service", b"getty-5", true).unwrap();
        assert_eq!(
            p.failure,
            b"runsvdir /etc/service: fatal: unable to start runsv getty-5: "
        );
        assert!(Prepared::new(b"d", b"a\0b", false).is_none());
    }
}
