//! Process start-up without Rust's runtime start-up.
//!
//! svlogd's binary enters at C's `main` (`#![no_main]` in main.rs). Rust's
//! usual start-up probes the main thread's stack guard (glibc reads
//! /proc/self/maps for that, with stdio and scanf), names the main thread
//! and installs a stack-overflow handler. None of that is needed here, and
//! in a statically linked binary that code and the C library parts it
//! pulls in are a good share of the resident memory of a process that
//! runs, once per service, for as long as the machine is up. What the
//! runtime did that matters for svlogd is done here instead.

use std::ffi::{c_char, c_int, CStr, OsString};
use std::os::unix::ffi::OsStringExt;

/// What Rust's runtime would otherwise have done before `main`:
/// - descriptors 0, 1 and 2 are made valid (/dev/null when closed), so no
///   file we open later lands on one of them and receives diagnostics;
/// - SIGPIPE is ignored, so a closed standard error is an error to ignore
///   rather than death. Processors get it back at its default (see
///   `logdir::spawn_processor`).
pub fn init() {
    for fd in 0..3 {
        // SAFETY: plain system calls on descriptor numbers.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1
                && *libc::__errno_location() == libc::EBADF
                && libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) == -1
            {
                libc::abort();
            }
        }
    }
    // SAFETY: setting a disposition is a plain system call.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}

/// The command line from C's `argc`/`argv`.
///
/// # Safety
/// `argv` must hold `argc` valid NUL-terminated strings, as C's `main`
/// receives them.
pub unsafe fn args(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
    (0..argc.max(0) as usize)
        .map(|i| unsafe { *argv.add(i) })
        .take_while(|p| !p.is_null())
        .map(|p| OsString::from_vec(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec()))
        .collect()
}
