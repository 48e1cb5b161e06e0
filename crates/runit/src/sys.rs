//! Thin wrappers over the system calls PID 1 needs, kept in one place so
//! the loop in [`crate::pid1`] reads as runit's logic.
//!
//! PID 1 is single-threaded, so forking and then running ordinary code in
//! the child before execve is sound.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

/// The calling thread's errno.
pub fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// runit's text for the current errno.
pub fn errstr() -> &'static str {
    supervise_proto::errstr::raw_errno_str(errno())
}

pub fn cstring(p: impl AsRef<OsStr>) -> CString {
    // Paths and environment entries cannot hold NUL bytes.
    CString::new(p.as_ref().as_bytes()).unwrap_or_default()
}

/// The environment, as execve wants it.
pub fn environment() -> Vec<CString> {
    std::env::vars_os()
        .map(|(k, v)| {
            let mut b = k.as_bytes().to_vec();
            b.push(b'=');
            b.extend_from_slice(v.as_bytes());
            CString::new(b).unwrap_or_default()
        })
        .collect()
}

/// A signal set.
pub fn sigset(sigs: &[i32]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks `sigs` and returns a non-blocking, close-on-exec signalfd that
/// reports them. Blocked signals are queued even for PID 1 (the kernel
/// drops only unblocked, unhandled ones), so no handlers are needed.
pub fn block_to_signalfd(sigs: &[i32]) -> i32 {
    let set = sigset(sigs);
    // SAFETY: valid set pointers.
    unsafe {
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC)
    }
}

/// Reads every pending signal number from a signalfd.
pub fn read_signals(fd: i32) -> Vec<i32> {
    let mut out = Vec::new();
    if fd < 0 {
        return out;
    }
    loop {
        // SAFETY: signalfd_siginfo is plain data and the buffer is its size.
        let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
        let n = unsafe {
            libc::read(
                fd,
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                std::mem::size_of::<libc::signalfd_siginfo>(),
            )
        };
        if n != std::mem::size_of::<libc::signalfd_siginfo>() as isize {
            return out;
        }
        out.push(info.ssi_signo as i32);
    }
}

/// Waits until `fd` is readable or `timeout` passes (None: forever).
pub fn poll_readable(fd: i32, timeout: Option<Duration>) {
    let ms = match timeout {
        None => -1,
        Some(d) => d.as_millis().min(i32::MAX as u128) as i32,
    };
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    if fd < 0 {
        // No signalfd: fall back to sleeping in slices, reaping on return.
        std::thread::sleep(
            timeout
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1)),
        );
        return;
    }
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) };
}

/// Collects every child that has ended: (pid, wait status).
pub fn reap_all() -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    loop {
        let mut w = 0;
        // SAFETY: plain waitpid.
        let pid = unsafe { libc::waitpid(-1, &mut w, libc::WNOHANG) };
        if pid <= 0 {
            return out;
        }
        out.push((pid, w));
    }
}

/// Whether `path` exists and its owner may execute it (stat follows
/// symlinks, as runit's does).
pub fn owner_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o100 != 0)
        .unwrap_or(false)
}

/// Opens `path` write-only and non-blocking, as runit opens the console
/// (a console that cannot take output must never stall PID 1).
pub fn open_write(path: &CString) -> i32 {
    // SAFETY: valid C string.
    unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_NONBLOCK) }
}

/// Makes `fd` the descriptor `to`, closing the original when it differs.
pub fn move_fd(fd: i32, to: &[i32]) {
    for &t in to {
        // SAFETY: plain descriptor calls.
        unsafe { libc::dup2(fd, t) };
    }
    if !to.contains(&fd) {
        unsafe { libc::close(fd) };
    }
}

pub fn kill(pid: i32, sig: i32) -> i32 {
    // SAFETY: plain kill.
    unsafe { libc::kill(pid, sig) }
}

pub fn fork() -> i32 {
    // SAFETY: the process is single-threaded.
    unsafe { libc::fork() }
}

pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns.
    unsafe { libc::_exit(code) }
}

/// In a freshly forked child: unblock every signal and give the ones runit
/// may have changed their default action back. Rust's runtime ignores
/// SIGPIPE; upstream 2.1.2 left SIGCONT ignored (fixed in 2.3.0).
pub fn reset_signals_for_exec() {
    // SAFETY: plain signal calls on valid arguments.
    unsafe {
        for s in [
            libc::SIGPIPE,
            libc::SIGCONT,
            libc::SIGCHLD,
            libc::SIGINT,
            libc::SIGTERM,
            libc::SIGHUP,
            libc::SIGALRM,
            libc::SIGPWR,
        ] {
            libc::signal(s, libc::SIG_DFL);
        }
        let empty = sigset(&[]);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// execve(path, [path], env); returns only on failure.
pub fn exec(path: &CString, argv0: &CString, env: &[CString]) {
    let argv = [argv0.as_ptr(), std::ptr::null()];
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: NULL-terminated arrays of valid C strings.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
}

pub fn sync() {
    // SAFETY: plain sync.
    unsafe { libc::sync() };
}

/// reboot(2); returns only when the kernel refused.
pub fn reboot(cmd: i32) -> i32 {
    // SAFETY: plain reboot.
    unsafe { libc::reboot(cmd) }
}
