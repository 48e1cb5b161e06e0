//! svlogd's diagnostics on standard error, in runit's exact shapes:
//! `svlogd: warning: WHAT: DIR: ERR`, `svlogd: pausing: ...`,
//! `svlogd: info: ...`, `svlogd: fatal: ...`.
//!
//! Lines selected for standard error by `e` patterns are collected in a
//! buffer and written once per input batch; every diagnostic first flushes
//! that buffer so the order on standard error stays the order of events.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rustix::io::Errno;
use supervise_proto::errstr::errno_str;

static VERBOSE: AtomicBool = AtomicBool::new(false);

/// How long runit waits before retrying an operation that failed
/// ("pausing: ...").
pub const PAUSE: Duration = Duration::from_secs(3);

// A static, not a thread-local: svlogd has one thread, and with musl a
// static program whose thread-locals outgrow libc's built-in block maps
// them before main without checking, so under a tight RLIMIT_AS it would
// die of SIGSEGV instead of saying "out of memory" (tests/svlogd_limits.rs).
static PENDING: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<u8>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn set_verbose(v: bool) {
    VERBOSE.store(v, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Writes all of `b` to fd 2, ignoring errors (nowhere to report them).
fn write_stderr(b: &[u8]) {
    supervise_proto::fdio::eprint(b);
}

/// Queues bytes (a line selected by an `e` pattern) for standard error.
pub fn queue(parts: &[&[u8]]) {
    let mut p = pending();
    for part in parts {
        p.extend_from_slice(part);
    }
}

/// Writes out what [`queue`] collected.
pub fn flush() {
    let mut p = pending();
    if !p.is_empty() {
        write_stderr(&p);
        p.clear();
        if p.capacity() > 1 << 16 {
            p.shrink_to(1 << 12);
        }
    }
}

/// One diagnostic line made of `parts` (a newline is added).
pub fn line(parts: &[&[u8]]) {
    flush();
    let mut v = Vec::with_capacity(128);
    for part in parts {
        v.extend_from_slice(part);
    }
    v.push(b'\n');
    write_stderr(&v);
}

/// `svlogd: warning: WHAT: NAME: ERR`
pub fn warn2(what: &str, name: &[u8], e: Errno) {
    line(&[
        b"svlogd: warning: ",
        what.as_bytes(),
        b": ",
        name,
        b": ",
        errno_str(e).as_bytes(),
    ]);
}

/// `svlogd: warning: WHAT: ERR`
pub fn warn1(what: &str, e: Errno) {
    line(&[
        b"svlogd: warning: ",
        what.as_bytes(),
        b": ",
        errno_str(e).as_bytes(),
    ]);
}

/// `svlogd: warning: WHAT: NAME` (no error text)
pub fn warnx(what: &str, name: &[u8]) {
    line(&[b"svlogd: warning: ", what.as_bytes(), b": ", name]);
}

/// `svlogd: pausing: WHAT: NAME: ERR`, then runit's three-second pause.
pub fn pause2(what: &str, name: &[u8], e: Errno) {
    line(&[
        b"svlogd: pausing: ",
        what.as_bytes(),
        b": ",
        name,
        b": ",
        errno_str(e).as_bytes(),
    ]);
    std::thread::sleep(PAUSE);
}

/// Whether SIGTERM has arrived. The flag is never cleared (the main loop
/// only reads it), so a step deep inside rotation or the processor can
/// ask too.
pub fn stopping() -> bool {
    supervise_proto::selfpipe::TERM.load(Ordering::SeqCst)
}

/// Runs `op` until it succeeds, pausing after each failure as runit
/// does, but only until svlogd is stopping: then the failure is reported
/// as `svlogd: warning: stopping: WHAT: NAME: ERR` and returned, and the
/// caller gives the step up. For steps that hold no log data not yet
/// written, so that a file something else put in the directory (a FIFO,
/// a directory, a dangling symlink) cannot keep `sv down` from working.
pub fn retry<T>(
    what: &str,
    name: &[u8],
    mut op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    loop {
        match op() {
            Ok(v) => return Ok(v),
            Err(e) if stopping() => {
                line(&[
                    b"svlogd: warning: stopping: ",
                    what.as_bytes(),
                    b": ",
                    name,
                    b": ",
                    errno_str(e).as_bytes(),
                ]);
                return Err(e);
            }
            Err(e) => pause2(what, name, e),
        }
    }
}

/// Runs `op` until it succeeds, pausing after each failure as runit
/// does, whatever signals arrive: for steps that would lose log data if
/// given up.
pub fn retry_forever<T>(what: &str, name: &[u8], mut op: impl FnMut() -> Result<T, Errno>) -> T {
    loop {
        match op() {
            Ok(v) => return v,
            Err(e) => pause2(what, name, e),
        }
    }
}

/// `svlogd: info: ...` when -v was given.
pub fn info(parts: &[&[u8]]) {
    if verbose() {
        let mut v: Vec<&[u8]> = Vec::with_capacity(parts.len() + 1);
        v.push(b"svlogd: info: ");
        v.extend_from_slice(parts);
        line(&v);
    }
}

/// `svlogd: fatal: WHAT: NAME: ERR` as printed by a processor child that
/// could not be set up (runit prints it from the forked child).
pub fn fatal2_text(what: &str, name: &[u8], e: Errno) {
    line(&[
        b"svlogd: fatal: ",
        what.as_bytes(),
        b": ",
        name,
        b": ",
        errno_str(e).as_bytes(),
    ]);
}

/// `svlogd: fatal: WHAT` and exit 111.
pub fn fatalx(what: &str) -> ! {
    line(&[b"svlogd: fatal: ", what.as_bytes()]);
    std::process::exit(111);
}

/// `svlogd: fatal: WHAT: ERR` and exit 111.
pub fn fatal(what: &str, e: Errno) -> ! {
    line(&[
        b"svlogd: fatal: ",
        what.as_bytes(),
        b": ",
        errno_str(e).as_bytes(),
    ]);
    std::process::exit(111);
}
