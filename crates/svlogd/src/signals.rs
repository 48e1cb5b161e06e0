//! Signals become flags plus a byte on a self-pipe, so the main loop's
//! poll(2) wakes up and handles them outside any signal handler.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};

pub static TERM: AtomicBool = AtomicBool::new(false);
pub static HUP: AtomicBool = AtomicBool::new(false);
pub static ALRM: AtomicBool = AtomicBool::new(false);
pub static CHLD: AtomicBool = AtomicBool::new(false);

/// The read end of the self-pipe.
pub struct Signals {
    pub pipe: UnixStream,
}

impl Signals {
    /// Installs the handlers for TERM, HUP, ALRM and CHLD.
    pub fn install() -> std::io::Result<Signals> {
        let (r, w) = UnixStream::pair()?;
        r.set_nonblocking(true)?;
        for (sig, flag) in [
            (libc::SIGTERM, &TERM),
            (libc::SIGHUP, &HUP),
            (libc::SIGALRM, &ALRM),
            (libc::SIGCHLD, &CHLD),
        ] {
            // The flag first, then the wake-up: the loop empties the pipe
            // before it looks at the flags, so no signal is missed.
            signal_hook::flag::register(sig, flag)?;
            signal_hook::low_level::pipe::register(sig, w.try_clone()?)?;
        }
        Ok(Signals { pipe: r })
    }

    /// Empties the pipe (call before taking the flags).
    pub fn drain(&mut self) {
        let mut buf = [0u8; 64];
        while let Ok(n) = self.pipe.read(&mut buf) {
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
