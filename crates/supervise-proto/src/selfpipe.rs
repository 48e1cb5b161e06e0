//! Signals become flags plus a byte on a self-pipe, so the main loop's
//! poll(2) wakes up and handles them outside any signal handler.
//!
//! A plain sigaction handler rather than a signal library: all it does is
//! set a flag and write one byte, and supervisors and loggers that run for
//! the life of every service should not carry a registry of handlers
//! (locks, hash maps, random keys) in their resident memory for that.
//! One process, one set: `install` is called once, at start-up.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};

use rustix::pipe::{pipe_with, PipeFlags};

pub static TERM: AtomicBool = AtomicBool::new(false);
pub static HUP: AtomicBool = AtomicBool::new(false);
pub static ALRM: AtomicBool = AtomicBool::new(false);
pub static CHLD: AtomicBool = AtomicBool::new(false);

/// The self-pipe's write end, for the handler.
static WAKE: AtomicI32 = AtomicI32::new(-1);

/// Bit N: the handler is installed for signal N.
static INSTALLED: AtomicU64 = AtomicU64::new(0);

/// The signals [`Signals::install`] put the handler on, plus the two
/// Rust's start-up catches (SIGSEGV and SIGBUS, for stack overflows):
/// all the handlers a process of this workspace has, for
/// [`crate::spawn::Spawn::handlers_only`].
pub fn handlers() -> Vec<libc::c_int> {
    let set = INSTALLED.load(Ordering::SeqCst);
    (1..64)
        .filter(|&s| set & (1 << s) != 0)
        .chain([libc::SIGSEGV, libc::SIGBUS])
        .collect()
}

/// The self-pipe.
pub struct Signals {
    /// The read end: readable when a signal arrived.
    pub pipe: OwnedFd,
    /// The write end, kept open for the handler.
    _wake: OwnedFd,
}

fn flag_of(sig: libc::c_int) -> Option<&'static AtomicBool> {
    match sig {
        libc::SIGTERM => Some(&TERM),
        libc::SIGHUP => Some(&HUP),
        libc::SIGALRM => Some(&ALRM),
        libc::SIGCHLD => Some(&CHLD),
        _ => None,
    }
}

/// Async-signal-safe: an atomic store and a write(2), errno preserved.
extern "C" fn on_signal(sig: libc::c_int) {
    // SAFETY: errno is thread-local; saving and restoring it keeps the
    // interrupted code's view of it intact.
    let errno = unsafe { *libc::__errno_location() };
    if let Some(flag) = flag_of(sig) {
        // The flag first, then the wake-up: the loop empties the pipe
        // before it looks at the flags, so no signal is missed.
        flag.store(true, Ordering::SeqCst);
    }
    let fd = WAKE.load(Ordering::SeqCst);
    if fd >= 0 {
        // A full pipe already means "wake up": the byte is not needed.
        unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) };
    }
    unsafe { *libc::__errno_location() = errno };
}

impl Signals {
    /// Installs the handler for `sigs` (any of TERM, HUP, ALRM and CHLD),
    /// restarting interrupted system calls, as the handler never needs to
    /// interrupt one: poll(2) returns early anyway.
    pub fn install(sigs: &[libc::c_int]) -> Result<Signals, rustix::io::Errno> {
        let (r, w) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)?;
        WAKE.store(w.as_raw_fd(), Ordering::SeqCst);
        for &sig in sigs {
            // SAFETY: a zeroed sigaction is valid; the handler is
            // async-signal-safe.
            let rc = unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                sa.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                libc::sigaction(sig, &sa, std::ptr::null_mut())
            };
            if rc == 0 && (1..64).contains(&sig) {
                INSTALLED.fetch_or(1 << sig, Ordering::SeqCst);
            }
            if rc != 0 {
                let e = std::io::Error::last_os_error();
                return Err(
                    rustix::io::Errno::from_io_error(&e).unwrap_or(rustix::io::Errno::INVAL)
                );
            }
        }
        Ok(Signals { pipe: r, _wake: w })
    }

    /// Empties the pipe (call before taking the flags).
    pub fn drain(&self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = rustix::io::read(&self.pipe, &mut buf) {
            if n == 0 {
                break;
            }
        }
    }
}

/// Reads and clears a flag.
pub fn take(flag: &AtomicBool) -> bool {
    flag.swap(false, Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_sets_its_flag_and_wakes_the_pipe() {
        let s = Signals::install(&[libc::SIGALRM]).unwrap();
        assert!(!take(&ALRM));
        let me = rustix::process::getpid();
        rustix::process::kill_process(me, rustix::process::Signal::ALARM).unwrap();
        let mut fds = [rustix::event::PollFd::new(
            &s.pipe,
            rustix::event::PollFlags::IN,
        )];
        // Sent to the process, the signal may reach another test thread a
        // moment later: wait for the pipe, with a deadline.
        let deadline = rustix::event::Timespec {
            tv_sec: 10,
            tv_nsec: 0,
        };
        let ready = loop {
            match rustix::event::poll(&mut fds, Some(&deadline)) {
                // It may interrupt this very poll.
                Err(rustix::io::Errno::INTR) => continue,
                r => break r.unwrap(),
            }
        };
        assert_eq!(ready, 1);
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        s.drain();
        assert!(take(&ALRM));
        assert!(!take(&ALRM));
        assert_eq!(rustix::event::poll(&mut fds, Some(&zero)).unwrap(), 0);
        assert!(handlers().contains(&libc::SIGALRM));
    }
}
