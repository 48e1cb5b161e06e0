//! One supervised process (the service or its log) and the status files
//! that describe it.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};
use supervise_proto::fdio::write_all;

use rustix::fs::{open, rename, Mode, OFlags};
use supervise_proto::status::{pid_text, stat_text};
use supervise_proto::svdir::SuperviseFiles;
use supervise_proto::{RunState, Status, Tai64n, Want};

use crate::msg::Messages;
use crate::plan::{Action, Step};

/// runit does not restart a service sooner than a second after it started.
pub const RESTART_PAUSE: Duration = Duration::from_secs(1);

pub struct Service {
    pub is_log: bool,
    pub files: &'static SuperviseFiles,
    /// Pid of ./run or ./finish, 0 when neither runs.
    pub pid: u32,
    pub state: RunState,
    pub want: Want,
    pub paused: bool,
    pub got_term: bool,
    /// The status stamp: start of ./run, or when the service went down.
    pub stamp: Tai64n,
    /// When ./run was last started (monotonic), for the restart pause.
    pub started: Instant,
    /// No start of ./run before this instant (runit's one-second pause).
    pub hold_until: Option<Instant>,
    /// The wait status ./run exited with, for ./finish's arguments.
    pub exit_status: i32,
    /// `o` arrived while nothing ran: start ./run once.
    pub once: bool,
    pid_changed: bool,
    /// Control bytes read but not yet acted on.
    pub input: VecDeque<u8>,
    /// Steps of the current control byte still to do.
    pub steps: VecDeque<Step>,
    /// A control script is running: its pid and the action waiting for it.
    pub busy: Option<(u32, Action)>,
    /// The service is being started: control/u runs first.
    pub starting: bool,
    pub control_fd: Option<OwnedFd>,
    // Held open for the process's life: the write end keeps the control
    // FIFO from reporting end-of-file, the ok FIFO's reader tells clients
    // we are here, and the lock keeps a second runsv out.
    pub control_write_fd: Option<OwnedFd>,
    pub ok_fd: Option<OwnedFd>,
    pub lock_fd: Option<OwnedFd>,
}

impl Service {
    pub fn new(is_log: bool, files: &'static SuperviseFiles, want: Want) -> Service {
        Service {
            is_log,
            files,
            pid: 0,
            state: RunState::Down,
            want,
            paused: false,
            got_term: false,
            stamp: Tai64n::now(),
            started: Instant::now(),
            hold_until: None,
            exit_status: 0,
            once: false,
            pid_changed: true,
            input: VecDeque::new(),
            steps: VecDeque::new(),
            busy: None,
            starting: false,
            control_fd: None,
            control_write_fd: None,
            ok_fd: None,
            lock_fd: None,
        }
    }

    /// Nothing is in progress: no script runs and no step waits.
    pub fn idle(&self) -> bool {
        self.busy.is_none() && self.steps.is_empty() && !self.starting
    }

    /// Should ./run (or ./finish) be started now? Returns the instant to
    /// wait for when only the restart pause is in the way.
    pub fn wants_start(&self, now: Instant) -> Result<bool, Instant> {
        if self.pid != 0 || !self.idle() {
            return Ok(false);
        }
        if self.state == RunState::Finish {
            return Ok(true);
        }
        if self.want != Want::Up && !self.once {
            return Ok(false);
        }
        match self.hold_until {
            Some(t) if t > now => Err(t),
            _ => Ok(true),
        }
    }

    /// Records a newly started process.
    pub fn started(&mut self, pid: u32) {
        if self.state != RunState::Finish {
            self.stamp = Tai64n::now();
            self.started = Instant::now();
            self.state = RunState::Run;
        }
        self.pid = pid;
        self.pid_changed = true;
        self.paused = false;
        self.got_term = false;
        self.once = false;
    }

    /// Records the exit of ./run or ./finish. `has_finish` tells whether a
    /// ./finish should run now; returns true when it should.
    pub fn exited(&mut self, wstat: i32, has_finish: bool) -> bool {
        self.pid = 0;
        self.pid_changed = true;
        self.got_term = false;
        if self.state != RunState::Finish && has_finish {
            self.state = RunState::Finish;
            self.exit_status = wstat;
            return true;
        }
        self.state = RunState::Down;
        let now = Instant::now();
        self.stamp = Tai64n::now();
        if now < self.started + RESTART_PAUSE {
            self.hold_until = Some(now + RESTART_PAUSE);
        }
        false
    }

    /// Rewrites pid (when changed), stat and status, each by writing a
    /// `.new` file and renaming it over the old one, so readers never see
    /// a partial file. Failures are warnings: runsv carries on.
    pub fn write_status(&mut self, msg: &Messages) {
        let f = self.files;
        if self.pid_changed {
            if !write_replace(f.pid_new, f.pid, pid_text(self.pid).as_bytes(), msg) {
                return;
            }
            self.pid_changed = false;
        }
        let stat = stat_text(self.state, self.paused, self.got_term, self.want);
        write_replace(f.stat_new, f.stat, stat.as_bytes(), msg);
        let status = Status::new(
            self.stamp,
            self.pid,
            self.paused,
            self.want,
            self.got_term,
            self.state,
        );
        write_replace(f.status_new, f.status, &status.encode(), msg);
    }
}

/// Writes `data` to `tmp` and renames it to `path`; warns in runit's words
/// and returns false on failure.
pub(crate) fn write_replace(tmp: &str, path: &str, data: &[u8], msg: &Messages) -> bool {
    let fd = match open(
        tmp,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    ) {
        Ok(fd) => fd,
        Err(e) => {
            msg.warn(&format!("unable to open {tmp}"), e);
            return false;
        }
    };
    if let Err(e) = write_all(&fd, data) {
        drop(fd);
        let _ = rustix::fs::unlink(tmp);
        msg.warn(&format!("unable to write {tmp}"), e);
        return false;
    }
    drop(fd);
    if let Err(e) = rename(tmp, path) {
        msg.warn(&format!("unable to rename {tmp} to {path}"), e);
        return false;
    }
    true
}
