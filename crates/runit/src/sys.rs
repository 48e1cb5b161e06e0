//! Thin wrappers over the system calls PID 1 needs, kept in one place so
//! the loop in [`crate::pid1`] reads as runit's logic. Starting processes
//! is supervise_proto's spawn module; what is left on libc here is what
//! rustix does not offer: signal masks, signalfd and kill(-1).

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::{Mode, OFlags};
use rustix::process::{Pid, Signal};
use supervise_proto::wait::{self, Exit};

/// A signal set.
fn sigset(sigs: &[Signal]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; sigemptyset initialises it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in sigs {
            libc::sigaddset(&mut set, s.as_raw());
        }
        set
    }
}

/// Blocks `sigs` and returns a non-blocking, close-on-exec signalfd that
/// reports them. Blocked signals are queued even for PID 1 (the kernel
/// drops only unblocked, unhandled ones), so no handlers are needed.
pub fn block_to_signalfd(sigs: &[Signal]) -> Option<OwnedFd> {
    let set = sigset(sigs);
    // SAFETY: valid set pointers; a descriptor signalfd returns is new
    // and ours to own.
    unsafe {
        libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        let fd = libc::signalfd(-1, &set, libc::SFD_NONBLOCK | libc::SFD_CLOEXEC);
        (fd >= 0).then(|| OwnedFd::from_raw_fd(fd))
    }
}

/// Reads every pending signal from a signalfd.
pub fn read_signals(fd: Option<&OwnedFd>) -> Vec<Signal> {
    const INFO: usize = std::mem::size_of::<libc::signalfd_siginfo>();
    let mut out = Vec::new();
    let Some(fd) = fd else {
        return out;
    };
    let mut info = [0u8; INFO];
    while rustix::io::read(fd, &mut info) == Ok(INFO) {
        // ssi_signo, a u32, is the record's first field.
        let signo = u32::from_ne_bytes([info[0], info[1], info[2], info[3]]);
        out.extend(Signal::from_named_raw(signo as i32));
    }
    out
}

/// Waits until `fd` is readable or `timeout` passes (None: forever).
pub fn poll_readable(fd: Option<&OwnedFd>, timeout: Option<Duration>) {
    let Some(fd) = fd else {
        // No signalfd: fall back to sleeping in slices, reaping on return.
        std::thread::sleep(
            timeout
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1)),
        );
        return;
    };
    let ts = timeout.map(|d| Timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: d.subsec_nanos() as i64,
    });
    let _ = poll(&mut [PollFd::new(fd, PollFlags::IN)], ts.as_ref());
}

/// Collects every child that has ended: (pid, how it ended).
pub fn reap_all() -> Vec<(u32, Exit)> {
    std::iter::from_fn(wait::reap)
        .map(|(pid, st)| (pid, st.exit()))
        .collect()
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
pub fn open_write(path: &Path) -> Option<OwnedFd> {
    rustix::fs::open(path, OFlags::WRONLY | OFlags::NONBLOCK, Mode::empty()).ok()
}

/// Makes `fd` each of the standard descriptors in `to` (0, 1, 2), closing
/// the original unless it is one of them.
pub fn move_to_stdio(fd: OwnedFd, to: &[i32]) {
    let raw = fd.as_raw_fd();
    for &t in to.iter().filter(|&&t| t != raw) {
        let _ = match t {
            0 => rustix::stdio::dup2_stdin(&fd),
            1 => rustix::stdio::dup2_stdout(&fd),
            _ => rustix::stdio::dup2_stderr(&fd),
        };
    }
    if to.contains(&raw) {
        let _ = fd.into_raw_fd();
    }
}

fn pid(p: u32) -> Option<Pid> {
    Pid::from_raw(p as i32)
}

/// Signals one process; errors are runit's to ignore.
pub fn kill(p: u32, sig: Signal) {
    if let Some(p) = pid(p) {
        let _ = rustix::process::kill_process(p, sig);
    }
}

/// Signals the process group `p` leads.
pub fn kill_group(p: u32, sig: Signal) {
    if let Some(p) = pid(p) {
        let _ = rustix::process::kill_process_group(p, sig);
    }
}

/// Signals every process but PID 1 itself (kill(-1), which rustix lacks).
pub fn kill_all(sig: Signal) {
    // SAFETY: a plain system call on integer arguments.
    unsafe { libc::kill(-1, sig.as_raw()) };
}
