//! The processor (`!cmd` in config): `sh -c cmd` run on each rotated
//! file, and what happens to its files when it succeeds or fails.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{waitpid, Pid, WaitOptions, WaitStatus};

use super::{as_os, saved_with, LogDir, SavedName};
use crate::msg;

/// A processor run for one rotated file.
pub(super) struct Job {
    /// The `.u` file it reads.
    pub(super) saved: SavedName,
    pub(super) cmd: Vec<u8>,
    /// Its own handle on the directory: the job outlives a HUP.
    pub(super) dir: OwnedFd,
    /// The running processor's process id.
    pub(super) child: Option<Pid>,
}

impl LogDir {
    /// Starts (or restarts) the processor for the pending job.
    pub(super) fn start_job(&mut self) {
        loop {
            let Some(job) = &mut self.job else { return };
            msg::info(&[b"processing: ", &self.name, b"/", &job.saved]);
            match spawn_processor(job) {
                Ok(child) => {
                    job.child = Some(child);
                    return;
                }
                Err((what, e)) => {
                    // runit's child prints this and exits 111, and runit
                    // restarts it; we pause between attempts instead of
                    // spinning.
                    msg::fatal2_text(what, &self.name, e);
                    if self.abandon_job() {
                        return;
                    }
                    std::thread::sleep(msg::PAUSE);
                }
            }
        }
    }

    /// Whether to stop retrying the processor, which then is dropped:
    /// when its input is gone (running again could only fail), or when
    /// svlogd is stopping (the input stays, unprocessed, as its `.u`
    /// file; runit would retry for ever and never exit).
    fn abandon_job(&mut self) -> bool {
        let Some(job) = &self.job else { return true };
        if matches!(
            rfs::statat(&job.dir, as_os(&job.saved), AtFlags::empty()),
            Err(Errno::NOENT)
        ) {
            msg::warnx("processor input gone, giving up", &self.name);
        } else if msg::stopping() {
            msg::line(&[
                b"svlogd: warning: stopping, processor input kept: ",
                &self.name,
                b"/",
                &job.saved,
            ]);
        } else {
            return false;
        }
        self.job = None;
        true
    }

    /// Called on SIGCHLD: finishes the job if its processor has exited.
    pub fn reap(&mut self) {
        let Some(pid) = self.job.as_ref().and_then(|j| j.child) else {
            return;
        };
        if let Ok(Some((_, status))) = waitpid(Some(pid), WaitOptions::NOHANG) {
            self.job_done(status);
        }
    }

    /// Blocks until no processor is pending (restarting failed ones).
    pub fn wait_job(&mut self) {
        while let Some(pid) = self.job.as_ref().and_then(|j| j.child) {
            let wait = || loop {
                match waitpid(Some(pid), WaitOptions::empty()) {
                    Ok(Some((_, status))) => return Ok(status),
                    Ok(None) | Err(Errno::INTR) => {}
                    Err(e) => return Err(e),
                }
            };
            match msg::retry("error waiting for processor", &self.name, wait) {
                Ok(status) => self.job_done(status),
                Err(_) => self.job = None,
            }
        }
    }

    fn job_done(&mut self, status: WaitStatus) {
        let Some(job) = &mut self.job else { return };
        job.child = None;
        // runit takes a processor killed by a signal for a success and
        // loses the file; we take it for a failure and run it again.
        let ok = status.exit_status() == Some(0);
        let t = saved_with(&job.saved, b't');
        if !ok {
            msg::warnx("processor failed, restart", &self.name);
            let _ = rfs::unlinkat(&job.dir, as_os(&t), AtFlags::empty());
            if !self.abandon_job() {
                self.start_job();
            }
            return;
        }
        // Each step below may be given up when stopping: the input is
        // only deleted once its output is in place.
        let s = saved_with(&job.saved, b's');
        let dir = &job.dir;
        let rename = || rfs::renameat(dir, as_os(&t), dir, as_os(&s));
        if msg::retry("unable to rename processed", &self.name, rename).is_err() {
            self.job = None;
            return;
        }
        let _ = msg::retry("unable to set mode of processed", &self.name, || {
            rfs::chmodat(dir, as_os(&s), Mode::from_raw_mode(0o744), AtFlags::empty())
        });
        if rfs::unlinkat(dir, as_os(&job.saved), AtFlags::empty()).is_err() {
            msg::line(&[
                b"svlogd: warning: unable to unlink: ",
                &self.name,
                b"/",
                &job.saved,
            ]);
        }
        let _ = msg::retry("unable to rename state", &self.name, || {
            rfs::renameat(dir, "newstate", dir, "state")
        });
        msg::info(&[b"processed: ", &self.name, b"/", &s]);
        self.job = None;
    }
}

/// Opens the processor's files and starts `sh -c CMD` in the directory:
/// stdin the `.u` file, stdout the `.t` file, fd 4 `state` (created empty
/// when missing), fd 5 `newstate` (truncated).
fn spawn_processor(job: &Job) -> Result<Pid, (&'static str, Errno)> {
    // Every file is opened non-blocking, as runit opens them: a FIFO in
    // any of these places must not block svlogd in open(2).
    let read = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let trunc =
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let m644 = Mode::from_raw_mode(0o644);
    let input = rfs::openat(&job.dir, as_os(&job.saved), read, Mode::empty())
        .map_err(|e| ("unable to open input for processor", e))?;
    let output = rfs::openat(&job.dir, as_os(&saved_with(&job.saved, b't')), trunc, m644)
        .map_err(|e| ("unable to open output for processor", e))?;
    let state = match rfs::openat(&job.dir, "state", read, Mode::empty()) {
        Ok(f) => f,
        Err(Errno::NOENT) => {
            // As runit: create it empty (a failure shows in the reopen).
            drop(rfs::openat(&job.dir, "state", trunc, m644));
            rfs::openat(&job.dir, "state", read, Mode::empty())
                .map_err(|e| ("unable to create empty state for processor", e))?
        }
        Err(e) => return Err(("unable to open state for processor", e)),
    };
    let newstate = rfs::openat(&job.dir, "newstate", trunc, m644)
        .map_err(|e| ("unable to open newstate for processor", e))?;
    // Park state and newstate above fd 9 so that moving them to 4 and 5 in
    // the child cannot overwrite one with the other.
    let mv = |fd: &OwnedFd| {
        rustix::io::fcntl_dupfd_cloexec(fd, 10)
            .map_err(|e| ("unable to move filedescriptor for processor", e))
    };
    let state_hi = mv(&state)?;
    let newstate_hi = mv(&newstate)?;
    let (s, n, d, i, o) = (
        state_hi.as_raw_fd(),
        newstate_hi.as_raw_fd(),
        job.dir.as_fd().as_raw_fd(),
        input.as_raw_fd(),
        output.as_raw_fd(),
    );
    let cmd =
        CString::new(job.cmd.clone()).map_err(|_| ("unable to run processor", Errno::INVAL))?;
    let argv: [*const libc::c_char; 4] = [
        c"sh".as_ptr(),
        c"-c".as_ptr(),
        cmd.as_ptr(),
        std::ptr::null(),
    ];
    // The child reports a failed exec through this pipe (closed on
    // exec, so an empty read means the processor is running).
    let (err_r, err_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| ("unable to run processor", e))?;
    // SAFETY: between fork and exec the child only makes
    // async-signal-safe system calls on values prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: we are the child of that fork; the descriptors and argv
        // were made before it and stay valid until exec.
        unsafe { exec_processor(i, o, d, s, n, &argv, err_w.as_raw_fd()) }
    }
    if pid < 0 {
        return Err(("unable to run processor", last_errno()));
    }
    // fork(2) returned the child's id, which is positive.
    let pid = Pid::from_raw(pid).ok_or(("unable to run processor", Errno::SRCH))?;
    drop(err_w);
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match rustix::io::read(&err_r, &mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    if got == 4 {
        // exec failed: collect the child, report its errno.
        while let Err(Errno::INTR) = waitpid(Some(pid), WaitOptions::empty()) {}
        return Err((
            "unable to run processor",
            Errno::from_raw_os_error(i32::from_ne_bytes(buf)),
        ));
    }
    Ok(pid)
}

/// errno of the failed call just made, as rustix's type.
fn last_errno() -> Errno {
    Errno::from_io_error(&std::io::Error::last_os_error()).unwrap_or(Errno::IO)
}

/// The processor's side of the fork: stdin the `.u` file, stdout the `.t`
/// file, the log directory as working directory, fd 4 state, fd 5
/// newstate, SIGPIPE back at its default; then `sh -c CMD`. On failure
/// the errno goes to `err` and the child exits 111.
///
/// # Safety
/// Only in the child of a fork, with every descriptor and pointer made
/// before the fork; it makes async-signal-safe calls only.
unsafe fn exec_processor(
    input: libc::c_int,
    output: libc::c_int,
    dir: libc::c_int,
    state: libc::c_int,
    newstate: libc::c_int,
    argv: &[*const libc::c_char; 4],
    err: libc::c_int,
) -> ! {
    // state and newstate sit above fd 9, so moving them to 4 and 5
    // cannot overwrite one with the other or with input and output,
    // which are moved first.
    // SAFETY: plain system calls on the caller's descriptors; errno is
    // this thread's, read right after the call that failed.
    let ok = libc::dup2(input, 0) >= 0
        && libc::dup2(output, 1) >= 0
        && libc::fchdir(dir) == 0
        && libc::dup2(state, 4) >= 0
        && libc::dup2(newstate, 5) >= 0
        && libc::signal(libc::SIGPIPE, libc::SIG_DFL) != libc::SIG_ERR
        && {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) == 0
        };
    if ok {
        libc::execv(c"/bin/sh".as_ptr(), argv.as_ptr());
    }
    let e = (*libc::__errno_location()).to_ne_bytes();
    libc::write(err, e.as_ptr().cast(), 4);
    libc::_exit(111)
}
