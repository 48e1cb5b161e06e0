//! Starting ./run, ./finish, log/run and control scripts.
//!
//! A plain fork and exec, as runit does: the parent records the pid and
//! writes the status at once instead of waiting for the child's exec to
//! succeed (std's Command does wait), and a child that cannot exec prints
//! runit's fatal message itself and exits 111, so the supervisor handles
//! that like any other quick exit.

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};

use rustix::io::Errno;

/// Where a child's standard input and output go.
pub enum Wiring<'a> {
    /// Inherit runsv's.
    Inherit,
    /// Standard output into the log pipe.
    ToLog(&'a OwnedFd),
    /// Standard input from the log pipe, in directory `log/`.
    FromLog(&'a OwnedFd),
}

/// Starts `prog` (`./run`, `./finish`, `control/x`) with `args`; `fail`
/// is the message the child prints, followed by the error text, when it
/// cannot exec. Returns the pid, or fork's error.
pub fn spawn(prog: &str, args: &[String], wiring: Wiring, fail: &str) -> Result<u32, Errno> {
    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls.
    let argv_owned: Vec<CString> = std::iter::once(prog)
        .chain(args.iter().map(String::as_str))
        .map(|a| CString::new(a).unwrap_or_default())
        .collect();
    let mut argv: Vec<*const libc::c_char> = argv_owned.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let (fd, target, chdir_log) = match wiring {
        Wiring::Inherit => (-1, -1, false),
        Wiring::ToLog(w) => (w.as_raw_fd(), 1, false),
        Wiring::FromLog(r) => (r.as_raw_fd(), 0, true),
    };
    let log_dir = c"log";

    // Signals stay blocked across fork so that runsv's handlers never run
    // in the child; the child resets them before unblocking.
    // SAFETY: sigset_t is plain data; the calls only read/write these sets.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_SETMASK, &all, &mut old);
    }
    // SAFETY: runsv is single-threaded, so the child may run any code; it
    // only makes system calls and then execs or _exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            // Rust ignores SIGPIPE at start-up; the service must not
            // inherit that, nor runsv's handlers.
            for sig in [libc::SIGPIPE, libc::SIGCHLD, libc::SIGTERM] {
                libc::signal(sig, libc::SIG_DFL);
            }
            libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            if fd >= 0 {
                if fd == target {
                    // dup2 onto itself would leave close-on-exec set.
                    libc::fcntl(fd, libc::F_SETFD, 0);
                } else {
                    libc::dup2(fd, target);
                }
            }
            let mut ok = true;
            if chdir_log && libc::chdir(log_dir.as_ptr()) == -1 {
                ok = false;
            }
            if ok {
                libc::execv(argv[0], argv.as_ptr());
            }
        }
        supervise_proto::child::exec_failed(&[fail.as_bytes(), b": "]);
    }
    // Read before sigprocmask can change errno.
    let err = (pid < 0).then(|| std::io::Error::last_os_error().raw_os_error().unwrap_or(0));
    // SAFETY: restores the mask saved above.
    unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    if let Some(e) = err {
        return Err(Errno::from_raw_os_error(e.max(1)));
    }
    drop(argv_owned);
    Ok(pid as u32)
}
