//! One supervised process (the service or its log) and the status files
//! that describe it. No clock is read here: every change takes the
//! [`Now`] the supervisor read, so the rules are unit tested with made-up
//! times.

use std::collections::VecDeque;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use supervise_proto::status::{replace, write_files, Record};
use supervise_proto::svdir::SuperviseFiles;
use supervise_proto::xstatus::{
    XStatus, LOG_XSTATUS, LOG_XSTATUS_NEW, MAIN_XSTATUS, MAIN_XSTATUS_NEW,
};
use supervise_proto::{Control, RunState, Tai64n, Want};

use crate::deaths::Deaths;
use crate::msg::Messages;
use crate::plan::{Action, Step};
use crate::readiness::Readiness;
use crate::stop::Stopper;

/// runit does not restart a service sooner than a second after it started.
pub const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// A moment, on both clocks runsv uses: the monotonic one for the restart
/// pause, the wall clock for the status stamp.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub mono: Instant,
    pub wall: Tai64n,
}

impl Now {
    pub fn read() -> Now {
        Now {
            mono: Instant::now(),
            wall: Tai64n::now(),
        }
    }
}

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
    /// `o` asked for one start of ./run once nothing runs.
    pub once: bool,
    pid_changed: bool,
    /// The record changed since the status files were last written: they
    /// are rewritten once the action at hand (a kill, a fork) is done.
    status_dirty: bool,
    /// Control commands read but not yet acted on.
    pub input: VecDeque<Control>,
    /// Steps of the current control command still to do.
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
    /// Readiness notification (services that opt in).
    pub readiness: Readiness,
    /// The stop settings and what they have pending (stop.rs).
    pub stopper: Stopper,
    /// Exit records and the crash-loop state.
    pub deaths: Deaths,
    /// supervise/xstatus, written only for services that opt in to
    /// something runit does not have.
    pub xstatus: XStatus,
}

impl Service {
    pub fn new(is_log: bool, files: &'static SuperviseFiles, want: Want, now: Now) -> Service {
        Service {
            is_log,
            files,
            pid: 0,
            state: RunState::Down,
            want,
            paused: false,
            got_term: false,
            stamp: now.wall,
            started: now.mono,
            hold_until: None,
            exit_status: 0,
            once: false,
            pid_changed: true,
            status_dirty: false,
            input: VecDeque::new(),
            steps: VecDeque::new(),
            busy: None,
            starting: false,
            control_fd: None,
            control_write_fd: None,
            ok_fd: None,
            lock_fd: None,
            readiness: Readiness::new(is_log),
            stopper: Stopper::new(is_log),
            deaths: Deaths::new(is_log),
            xstatus: XStatus::default(),
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
    pub fn started(&mut self, pid: u32, now: Now) {
        if self.state != RunState::Finish {
            self.stamp = now.wall;
            self.started = now.mono;
            self.state = RunState::Run;
            self.once = false;
        }
        self.pid = pid;
        self.pid_changed = true;
        self.paused = false;
        self.got_term = false;
    }

    /// Records the exit of ./run or ./finish. `has_finish` tells whether a
    /// ./finish should run now; returns true when it should.
    pub fn exited(&mut self, wstat: i32, has_finish: bool, now: Now) -> bool {
        self.pid = 0;
        self.pid_changed = true;
        self.got_term = false;
        if self.state != RunState::Finish && has_finish {
            self.state = RunState::Finish;
            self.exit_status = wstat;
            // An `o` taken during the stop counts as read during ./finish,
            // where it starts nothing (runit reads it after the reap).
            self.once = false;
            return true;
        }
        self.state = RunState::Down;
        self.stamp = now.wall;
        if now.mono < self.started + RESTART_PAUSE {
            self.hold_until = Some(now.mono + RESTART_PAUSE);
        }
        false
    }

    /// What the status files say about this service.
    pub fn record(&self) -> Record {
        Record {
            stamp: self.stamp,
            pid: self.pid,
            paused: self.paused,
            want: self.want,
            got_term: self.got_term,
            state: self.state,
        }
    }

    /// Rewrites pid (when changed), stat and status now. Failures are
    /// warnings in runit's words: runsv carries on.
    pub fn write_status(&mut self, msg: &Messages) {
        self.status_dirty = false;
        let written = write_files(self.files, &self.record(), self.pid_changed, |e| {
            msg.write_failed(e)
        });
        if written {
            self.pid_changed = false;
        }
    }

    /// The record changed: the status files are rewritten at the next
    /// [`Service::flush`]. On ext4 each of the three renames costs a few
    /// tenths of a millisecond, so the supervisor sends its signal or
    /// forks first and writes after, as runit writes after its fork; a
    /// death followed at once by a restart then writes the new run's
    /// record only, which is what runit leaves on disk too.
    pub fn mark_status(&mut self) {
        self.status_dirty = true;
    }

    /// Writes what is pending: the exit record, then the status files
    /// (the order of the immediate writes).
    pub fn flush(&mut self, msg: &Messages) {
        self.deaths.flush(msg);
        if self.status_dirty {
            self.write_status(msg);
        }
    }

    /// Whether the service has a stop setting, so that what the stop
    /// settings have pending belongs in xstatus.
    pub fn stop_extended(&self) -> bool {
        self.stopper.extended()
    }

    /// Replaces supervise/xstatus with the record in memory (the stop
    /// settings' keys refreshed), and tells waiters (see Readiness::ring).
    /// Callers decide whether the service has opted in to anything.
    pub fn write_xstatus(&mut self, msg: &Messages) {
        // A pending exit record was decided before: on disk first. A
        // pending status record is the state now, which in runit's order
        // follows xstatus (a new run's record after its readiness
        // settings, so sv never sees the run without them): it is
        // written after, at the round's flush.
        self.deaths.flush(msg);
        self.stopper.fill(&mut self.xstatus, self.pid);
        let tmp = if self.is_log {
            LOG_XSTATUS_NEW
        } else {
            MAIN_XSTATUS_NEW
        };
        match replace(tmp, self.xstatus_path(), &self.xstatus.encode()) {
            Ok(()) => self.readiness.ring(),
            Err(e) => msg.write_failed(e),
        }
    }

    pub fn xstatus_path(&self) -> &'static str {
        if self.is_log {
            LOG_XSTATUS
        } else {
            MAIN_XSTATUS
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use supervise_proto::svdir::MAIN_FILES;

    /// A clock that only moves when told.
    struct Clock {
        t0: Instant,
    }

    impl Clock {
        fn new() -> Clock {
            Clock { t0: Instant::now() }
        }
        /// `ms` milliseconds after the start, on both clocks.
        fn at(&self, ms: u64) -> Now {
            Now {
                mono: self.t0 + Duration::from_millis(ms),
                wall: Tai64n {
                    secs: 0x4000_0000_6b01_0000 + ms / 1000,
                    nanos: (ms % 1000) as u32 * 1_000_000,
                },
            }
        }
    }

    fn service(want: Want, c: &Clock) -> Service {
        Service::new(false, &MAIN_FILES, want, c.at(0))
    }

    #[test]
    fn a_quick_exit_holds_the_restart_for_a_second() {
        let c = Clock::new();
        let mut s = service(Want::Up, &c);
        assert_eq!(s.wants_start(c.at(0).mono), Ok(true));
        s.started(10, c.at(0));
        assert_eq!(s.wants_start(c.at(1).mono), Ok(false), "running");
        assert!(!s.exited(0, false, c.at(300)));
        assert_eq!(
            (s.state, s.pid, s.stamp),
            (RunState::Down, 0, c.at(300).wall)
        );
        // Held for a second from the exit, as runit's sleep(1) does.
        assert_eq!(s.wants_start(c.at(700).mono), Err(c.at(1300).mono));
        assert_eq!(s.wants_start(c.at(1299).mono), Err(c.at(1300).mono));
        assert_eq!(s.wants_start(c.at(1300).mono), Ok(true));
        // A run of more than a second restarts at once.
        s.started(11, c.at(1300));
        assert_eq!(s.stamp, c.at(1300).wall);
        s.exited(0, false, c.at(2400));
        assert_eq!(s.wants_start(c.at(2400).mono), Ok(true));
    }

    #[test]
    fn nothing_starts_when_wanted_down_or_while_busy() {
        let c = Clock::new();
        let mut s = service(Want::Down, &c);
        assert_eq!(s.wants_start(c.at(5000).mono), Ok(false));
        s.want = Want::Up;
        s.starting = true;
        assert_eq!(s.wants_start(c.at(5000).mono), Ok(false), "control/u runs");
        s.starting = false;
        assert_eq!(s.wants_start(c.at(5000).mono), Ok(true));
    }

    /// `o` or `u` arriving inside the second after a quick exit start ./run
    /// when the second is over; nothing is dropped.
    #[test]
    fn once_and_up_inside_the_pause_start_after_it() {
        let c = Clock::new();
        for up in [false, true] {
            let mut s = service(Want::Up, &c);
            s.started(10, c.at(0));
            s.want = Want::Down;
            s.exited(15, false, c.at(100));
            assert_eq!(s.wants_start(c.at(200).mono), Ok(false));
            // What the supervisor does with `o` (want down, once) or `u`.
            if up {
                s.want = Want::Up;
            } else {
                s.once = true;
            }
            assert_eq!(s.wants_start(c.at(200).mono), Err(c.at(1100).mono));
            assert_eq!(s.wants_start(c.at(1100).mono), Ok(true));
            s.started(11, c.at(1100));
            assert_eq!(s.state, RunState::Run);
            assert!(!s.once, "a start uses the once up");
            s.exited(0, false, c.at(1200));
            assert_eq!(s.wants_start(c.at(9000).mono), Ok(up), "up: {up}");
        }
    }

    /// An `o` taken while a stop is under way starts ./run after it, unless
    /// ./finish runs first (runit would read the `o` during ./finish).
    #[test]
    fn once_during_a_stop() {
        let c = Clock::new();
        for finish in [false, true] {
            let mut s = service(Want::Up, &c);
            s.started(10, c.at(0));
            s.want = Want::Down;
            s.got_term = true;
            s.once = true;
            assert_eq!(s.exited(15, finish, c.at(2000)), finish);
            if finish {
                assert_eq!(s.wants_start(c.at(2000).mono), Ok(true), "./finish");
                s.started(12, c.at(2000));
                s.exited(0, false, c.at(2100));
            }
            assert_eq!(
                s.wants_start(c.at(9000).mono),
                Ok(!finish),
                "finish: {finish}"
            );
        }
    }

    #[test]
    fn finish_runs_at_once_and_keeps_the_run_stamp() {
        let c = Clock::new();
        let mut s = service(Want::Up, &c);
        s.started(10, c.at(0));
        s.paused = true;
        s.got_term = true;
        assert!(s.exited(0x0f, true, c.at(200)));
        assert_eq!((s.state, s.pid, s.exit_status), (RunState::Finish, 0, 0x0f));
        assert!(!s.got_term);
        assert_eq!(s.stamp, c.at(0).wall, "the stamp is still ./run's start");
        // ./finish starts at once, the pause notwithstanding.
        assert_eq!(s.wants_start(c.at(200).mono), Ok(true));
        s.started(11, c.at(210));
        assert_eq!(
            (s.state, s.pid, s.stamp),
            (RunState::Finish, 11, c.at(0).wall)
        );
        assert!(!s.paused);
        assert_eq!(s.wants_start(c.at(220).mono), Ok(false));
        // Its exit is the service's: down, stamped, held from ./run's start.
        assert!(!s.exited(0, true, c.at(400)));
        assert_eq!(
            (s.state, s.pid, s.stamp),
            (RunState::Down, 0, c.at(400).wall)
        );
        assert_eq!(s.wants_start(c.at(400).mono), Err(c.at(1400).mono));
        let r = s.record();
        assert_eq!((r.pid, r.state, r.want), (0, RunState::Down, Want::Up));
    }
}
