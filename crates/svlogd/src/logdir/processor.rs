//! The processor (`!cmd` in config): `sh -c cmd` run on each rotated
//! file, and what happens to its files when it succeeds or fails.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{waitpid, Pid, WaitOptions};
use supervise_proto::spawn::{Failed, Mask, Spawn};
use supervise_proto::wait::Wstat;

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
            self.job_done(status.into());
        }
    }

    /// Blocks until no processor is pending (restarting failed ones).
    pub fn wait_job(&mut self) {
        while let Some(pid) = self.job.as_ref().and_then(|j| j.child) {
            let wait = || loop {
                match waitpid(Some(pid), WaitOptions::empty()) {
                    Ok(Some((_, status))) => return Ok(Wstat::from(status)),
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

    fn job_done(&mut self, status: Wstat) {
        let Some(job) = &mut self.job else { return };
        job.child = None;
        // runit takes a processor killed by a signal for a success and
        // loses the file; we take it for a failure and run it again.
        let ok = status.code() == Some(0);
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
    // Everything as runit's processor has it: stdin, stdout, fd 4 and 5,
    // the log directory as working directory, SIGPIPE at its default and
    // no signal blocked.
    let sh = Spawn::new("/bin/sh")
        .argv0("sh")
        .arg("-c")
        .arg(OsStr::from_bytes(&job.cmd))
        .fd(&input, 0)
        .fd(&output, 1)
        .fd(&state, 4)
        .fd(&newstate, 5)
        .fchdir(&job.dir)
        .mask(Mask::Empty);
    match sh.spawn_confirmed() {
        Ok(pid) => Pid::from_raw(pid as i32).ok_or(("unable to run processor", Errno::SRCH)),
        Err(Failed::Fork(e) | Failed::Exec(e)) => Err(("unable to run processor", e)),
    }
}
