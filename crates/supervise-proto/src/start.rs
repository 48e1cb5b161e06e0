//! Process start-up for programs entered at C's `main` (`#![no_main]`).
//!
//! Rust's usual start-up probes the main thread's stack guard (glibc reads
//! /proc/self/maps with stdio and scanf), installs a stack-overflow handler
//! on its own signal stack and ignores SIGPIPE. For runsv and svlogd, which
//! run once per service for as long as the machine is up, that code and
//! the pages it touches are a good share of their memory; for sv it is
//! start-up time. What the runtime did that matters is done here instead.

use std::ffi::{c_char, c_int, CStr, OsString};
use std::os::fd::{BorrowedFd, IntoRawFd};
use std::os::unix::ffi::OsStringExt;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// What to do with SIGPIPE.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SigPipe {
    /// Ignore it: a closed pipe is a write error to handle, not death
    /// (long-lived supervisors and loggers). Children must get the default
    /// back before exec.
    Ignore,
    /// Keep the default: die quietly when the reader goes away, as runit's
    /// short-lived tools do.
    Default,
}

/// Makes descriptors 0, 1 and 2 valid (/dev/null where closed), so that no
/// file opened later lands on one of them and receives output meant for
/// standard output or error; then sets SIGPIPE's disposition.
pub fn init(sigpipe: SigPipe) {
    for fd in 0..3 {
        // SAFETY: the number is only asked about (F_GETFD), never read,
        // written or closed through.
        let probe = unsafe { BorrowedFd::borrow_raw(fd) };
        if rustix::io::fcntl_getfd(probe) == Err(Errno::BADF) {
            // open(2) takes the lowest free number: this one. It stays
            // open for the life of the process.
            match rustix::fs::open(c"/dev/null", OFlags::RDWR, Mode::empty()) {
                Ok(null) => {
                    let _ = null.into_raw_fd();
                }
                Err(_) => std::process::abort(),
            }
        }
    }
    if sigpipe == SigPipe::Ignore {
        // SAFETY: setting a disposition to SIG_IGN runs no code.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    }
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

/// Defines a program's C `main`: [`init`] with the SIGPIPE choice, then
/// `run` (a non-capturing closure or fn taking the command line) whose
/// result is the exit code. The crate root still needs `#![no_main]`.
#[macro_export]
macro_rules! c_main {
    ($sigpipe:expr, $run:expr) => {
        #[cfg(not(test))]
        #[no_mangle]
        extern "C" fn main(
            argc: ::std::ffi::c_int,
            argv: *const *const ::std::ffi::c_char,
        ) -> ::std::ffi::c_int {
            $crate::start::init($sigpipe);
            // SAFETY: the C runtime passes main a valid argv of argc strings.
            let args = unsafe { $crate::start::args(argc, argv) };
            let run: fn(::std::vec::Vec<::std::ffi::OsString>) -> i32 = $run;
            run(args)
        }
    };
}

/// A global allocator that, where the system allocator fails, prints
/// its message on standard error and exits 111, as runit's programs do
/// on "out of memory", instead of Rust's default of a message and SIGABRT.
/// Under a tight RLIMIT_AS the first allocation may already fail, and a
/// supervisor seeing exit 111 retries where a signal looks like a crash.
/// Only the message and `_exit` run on that path: nothing that allocates.
/// Allocations meant to fail softly (`try_reserve`) go inside
/// [`fallibly`], where a failure is returned as usual. Once a program
/// holds data it must not lose (svlogd, after its first read), it calls
/// [`nomem_pause`]: a failure then prints that message, sleeps three
/// seconds and tries again, as runit's svlogd pauses, so the data waits
/// for memory instead of dying with the process.
///
/// The message is the one given (`#[global_allocator] static A: NomemExit
/// = NomemExit(b"svlogd: fatal: out of memory.\n");` in a main.rs), or the
/// one set by [`nomem_message`] (the multicall binary, which learns the
/// program at run time). Without either, failures are left to Rust.
pub struct NomemExit(pub &'static [u8]);

/// A message set at run time, readable from the allocator (which must not
/// allocate or lock): a pointer and a length, both atomic.
struct StaticText {
    ptr: std::sync::atomic::AtomicPtr<u8>,
    len: std::sync::atomic::AtomicUsize,
}

impl StaticText {
    const fn new() -> StaticText {
        StaticText {
            ptr: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
            len: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn set(&self, msg: &'static [u8]) {
        use std::sync::atomic::Ordering::SeqCst;
        self.len.store(msg.len(), SeqCst);
        self.ptr.store(msg.as_ptr().cast_mut(), SeqCst);
    }

    fn get(&self) -> Option<&'static [u8]> {
        use std::sync::atomic::Ordering::SeqCst;
        let p = self.ptr.load(SeqCst);
        // SAFETY: ptr and len are only stored together, by `set`, from one
        // &'static [u8] (before any thread is started).
        (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, self.len.load(SeqCst)) })
    }
}

static MESSAGE: StaticText = StaticText::new();
static PAUSE: StaticText = StaticText::new();

/// Sets the message [`NomemExit`] prints (before any thread is started).
pub fn nomem_message(msg: &'static [u8]) {
    MESSAGE.set(msg);
}

impl NomemExit {
    fn message(&self) -> &'static [u8] {
        MESSAGE.get().unwrap_or(self.0)
    }

    /// `alloc()`'s result, or what the failure calls for: a retry after a
    /// pause (see [`nomem_pause`]), or the message and exit 111.
    fn check(&self, mut alloc: impl FnMut() -> *mut u8) -> *mut u8 {
        use std::sync::atomic::Ordering::Relaxed;
        loop {
            let p = alloc();
            if !p.is_null() || FALLIBLE.load(Relaxed) != 0 {
                return p;
            }
            if let Some(msg) = PAUSE.get() {
                let _ = rustix::io::write(rustix::stdio::stderr(), msg);
                let mut t = rustix::time::Timespec {
                    tv_sec: 3,
                    tv_nsec: 0,
                };
                // A signal cuts the sleep short; the rest is slept.
                while let rustix::thread::NanosleepRelativeResult::Interrupted(left) =
                    rustix::thread::nanosleep(&t)
                {
                    t = left;
                }
                continue;
            }
            let msg = self.message();
            if !msg.is_empty() {
                let _ = rustix::io::write(rustix::stdio::stderr(), msg);
                // SAFETY: _exit ends the process without atexit handlers
                // or stdio flushing, so nothing that might allocate runs.
                unsafe { libc::_exit(111) }
            }
            return p;
        }
    }
}

/// From now on [`NomemExit`] meets a failed allocation by printing `msg`,
/// sleeping three seconds and trying again, forever (single-threaded
/// programs only: the pause stops the whole program).
pub fn nomem_pause(msg: &'static [u8]) {
    PAUSE.set(msg);
}

/// Open [`fallibly`] calls (a count, as they may nest; process-wide, which
/// suits the single-threaded programs that use [`NomemExit`]).
static FALLIBLE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Runs `f` with allocation failures returned to it (for `try_reserve`)
/// rather than ending the process under [`NomemExit`].
pub fn fallibly<T>(f: impl FnOnce() -> T) -> T {
    use std::sync::atomic::Ordering::Relaxed;
    FALLIBLE.fetch_add(1, Relaxed);
    let r = f();
    FALLIBLE.fetch_sub(1, Relaxed);
    r
}

// SAFETY: every call goes to the system allocator with the caller's
// arguments (a failed realloc leaves the block as it was, so trying it
// again is sound); a null result is retried or ends the process instead
// of being returned, unless inside `fallibly`.
unsafe impl std::alloc::GlobalAlloc for NomemExit {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        self.check(|| unsafe { std::alloc::System.alloc(layout) })
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        self.check(|| unsafe { std::alloc::System.alloc_zeroed(layout) })
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        self.check(|| unsafe { std::alloc::System.realloc(ptr, layout, new) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_read_up_to_argc() {
        let a = [c"prog".as_ptr(), c"x y".as_ptr(), std::ptr::null()];
        let v = unsafe { args(2, a.as_ptr()) };
        assert_eq!(v, vec![OsString::from("prog"), OsString::from("x y")]);
        assert!(unsafe { args(0, a.as_ptr()) }.is_empty());
    }
}
