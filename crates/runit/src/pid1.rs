//! runit proper: the process the kernel starts first. It runs the three
//! stages, answers the shutdown requests, reaps every orphan, and finally
//! halts or reboots the machine.
//!
//! One loop: wait (at most 14 seconds, as runit does, so zombies are reaped
//! even if a SIGCHLD were lost) on a signalfd, note the requests, reap all
//! children, then act. Decisions come from [`crate::stages`].

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};

use rustix::fs::Mode;
use rustix::process::Signal;
use rustix::system::RebootCommand;
use supervise_proto::errno_str;
use supervise_proto::spawn::{fork_run, Group, Mask, Spawn};

use crate::msg::{say, say_all, Line, FATAL, ID, WARNING};
use crate::paths::Paths;
use crate::stages::{after_ctrlaltdel, answer, stage_ended, Answer, Exit, Next, Requests, StageNo};
use crate::sys;

/// runit's periodic wake-up.
const TICK: Duration = Duration::from_secs(14);
/// How long stage 2 gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// The pause between killing a failed stage 2 and starting it again.
const RESTART_PAUSE: Duration = Duration::from_secs(5);
/// The pause after a failed fork.
const FORK_PAUSE: Duration = Duration::from_secs(5);

/// Exit codes of a container's init when the kernel does not let it call
/// reboot(2): what the parent would have seen had the kernel ended the
/// namespace (128 + SIGHUP for a reboot, 128 + SIGINT for a halt).
pub const CONTAINER_EXIT_REBOOT: i32 = 128 + Signal::HUP.as_raw();
pub const CONTAINER_EXIT_HALT: i32 = 128 + Signal::INT.as_raw();

/// The signals PID 1 takes through its signalfd. runit blocks ALRM, HUP,
/// PIPE and TERM and never looks at them; CHLD, CONT and INT are requests;
/// PWR is Debian's addition.
const SIGNALS: [Signal; 8] = [
    Signal::ALARM,
    Signal::CHILD,
    Signal::CONT,
    Signal::HUP,
    Signal::INT,
    Signal::PIPE,
    Signal::TERM,
    Signal::POWER,
];

pub struct Init {
    paths: Paths,
    stage_names: [String; 3],
    sigfd: Option<OwnedFd>,
    /// PID 1 of a PID namespace that is not the machine's: SIGTERM asks
    /// for a shutdown, and a refused reboot(2) ends runit with a code.
    container: bool,
    req: Requests,
    /// Exit statuses of reaped children we still care about.
    ended: HashMap<u32, Exit>,
    watched: Vec<u32>,
}

impl Init {
    pub fn new(paths: Paths, container: bool) -> Init {
        let stage_names = paths.stages.clone().map(|p| p.display().to_string());
        Init {
            paths,
            stage_names,
            sigfd: None,
            container,
            req: Requests::default(),
            ended: HashMap::new(),
            watched: Vec::new(),
        }
    }

    /// Boots, runs the stages and halts. Returns only in a container whose
    /// kernel refused to end it, with the exit code to use.
    pub fn run(mut self) -> i32 {
        self.boot();
        let mut st: StageNo = 0;
        loop {
            let pid = self.spawn_stage(st);
            match self.supervise(st, pid) {
                Next::Run(n) => st = n,
                Next::RestartStage2 => {
                    sys::kill_group(pid, Signal::KILL);
                    self.pause(RESTART_PAUSE);
                    say(&Line::Warn("restarting.".into()));
                    st = 1;
                }
                Next::Halt => return self.halt(),
            }
        }
    }

    fn boot(&mut self) {
        // Failures are harmless: setsid fails when already a session
        // leader, reboot(CAD_OFF) inside a namespace.
        let _ = rustix::process::setsid();
        self.sigfd = sys::block_to_signalfd(&SIGNALS);
        if let Some(fd) = sys::open_write(&self.paths.console) {
            sys::move_to_stdio(fd, &[0, 1, 2]);
        }
        // Ctrl-Alt-Del now sends SIGINT to PID 1 instead of rebooting.
        let _ = rustix::system::reboot(RebootCommand::CadOff);
        say(&Line::Info(format!("{ID}: booting.")));
    }

    /// Reopens the console as standard error, in case it changed.
    fn reget_stderr(&self) {
        if let Some(fd) = sys::open_write(&self.paths.console) {
            sys::move_to_stdio(fd, &[2]);
        }
    }

    /// Waits for a signal or `timeout`, notes requests and reaps children.
    fn wait_event(&mut self, timeout: Option<Duration>) {
        sys::poll_readable(self.sigfd.as_ref(), timeout);
        for s in sys::read_signals(self.sigfd.as_ref()) {
            match s {
                Signal::CONT => self.req.cont = true,
                Signal::INT => self.req.int = true,
                Signal::POWER => self.req.power = true,
                Signal::TERM if self.container => self.req.power = true,
                _ => {}
            }
        }
        self.reap();
    }

    fn reap(&mut self) {
        for (pid, exit) in sys::reap_all() {
            if self.watched.contains(&pid) {
                self.ended.insert(pid, exit);
            }
        }
    }

    fn take_exit(&mut self, pid: u32) -> Option<Exit> {
        let e = self.ended.remove(&pid)?;
        self.watched.retain(|&p| p != pid);
        Some(e)
    }

    /// Sleeps for `d` while still reaping (runit sleeps blind).
    fn pause(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            self.wait_event(Some(left));
        }
    }

    /// Starts `name` as runit starts its children; retries every 5 s
    /// when fork fails. Stage 1 gets the console as its terminal on
    /// descriptor 0; other stages (`setsid`) a session of their own.
    fn spawn(&mut self, name: &str, stage1: bool, setsid: bool) -> u32 {
        let mut child = Spawn::new(name)
            // Every signal unblocked and back at its default. runit 2.1.2
            // left SIGCONT ignored (fixed in 2.3.0).
            .mask(Mask::Empty)
            .announce(Line::Info(format!("enter stage: {name}")).text())
            .failure_message(format!("{FATAL}unable to start child: {name}: "))
            // runit's child exits 0 here, so an unstartable stage counts
            // as one that succeeded.
            .failure_code(0);
        for sig in [
            Signal::CONT,
            Signal::CHILD,
            Signal::INT,
            Signal::TERM,
            Signal::HUP,
            Signal::ALARM,
            Signal::POWER,
        ] {
            child = child.reset_signal(sig.as_raw());
        }
        if stage1 {
            child = child.controlling_tty(
                &self.paths.console,
                0,
                format!("{WARNING}unable to open /dev/console: "),
            );
        } else if setsid {
            child = child.group(Group::NewSession);
        }
        loop {
            match child.spawn() {
                Ok(pid) => {
                    self.watched.push(pid);
                    return pid;
                }
                Err(e) => say(&Line::Fatal(format!(
                    "unable to fork for \"{name}\" pausing: {}",
                    errno_str(e)
                ))),
            }
            self.pause(FORK_PAUSE);
        }
    }

    fn spawn_stage(&mut self, st: StageNo) -> u32 {
        let name = self.stage_names[st].clone();
        self.spawn(&name, st == 0, true)
    }

    /// Watches stage `st` (process `pid`) until it ends or is stopped.
    fn supervise(&mut self, st: StageNo, pid: u32) -> Next {
        loop {
            if let Some(exit) = self.take_exit(pid) {
                let (lines, next) = stage_ended(st, &self.stage_names[st], exit);
                say_all(&lines);
                return next;
            }
            let cad = sys::owner_executable(&self.paths.ctrlaltdel);
            match answer(st, &self.req, cad) {
                Answer::Nothing => {
                    self.wait_event(Some(TICK));
                    self.reget_stderr();
                }
                Answer::NotNow => {
                    say(&Line::Warn("signals only work in stage 2.".into()));
                    self.req = Requests::default();
                }
                Answer::Consider { run_ctrlaltdel } => {
                    if run_ctrlaltdel {
                        self.ctrlaltdel();
                    }
                    let stopit = sys::owner_executable(&self.paths.stopit);
                    if after_ctrlaltdel(&mut self.req, run_ctrlaltdel, stopit) {
                        // A missing file is fine.
                        let _ = rustix::fs::chmod(&self.paths.stopit, Mode::empty());
                        self.stop_stage2(pid);
                        say(&Line::Info(format!(
                            "leave stage: {}",
                            self.stage_names[st]
                        )));
                        return Next::Run(2);
                    }
                }
            }
        }
    }

    /// Runs the ctrlaltdel program to its end (reaping others meanwhile).
    fn ctrlaltdel(&mut self) {
        say(&Line::Info("ctrl-alt-del request...".into()));
        let name = self.paths.ctrlaltdel.display().to_string();
        let pid = self.spawn(&name, false, false);
        let exit = loop {
            if let Some(e) = self.take_exit(pid) {
                break e;
            }
            self.wait_event(Some(TICK));
        };
        if matches!(exit, Exit::Signal(_)) {
            say(&Line::Warn(format!("child crashed: {name}")));
        }
        say(&Line::Info(format!("leave stage: {name}")));
    }

    /// SIGTERM to stage 2, then SIGKILL if it is still there after 5 s.
    fn stop_stage2(&mut self, pid: u32) {
        sys::kill(pid, Signal::TERM);
        let end = Instant::now() + STOP_GRACE;
        loop {
            if self.take_exit(pid).is_some() {
                return;
            }
            match end.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => self.wait_event(Some(left)),
                _ => break,
            }
        }
        say(&Line::Warn(
            "stage 2 not terminated, sending sigkill...".into(),
        ));
        sys::kill(pid, Signal::KILL);
        while self.take_exit(pid).is_none() {
            self.wait_event(Some(TICK));
        }
    }

    /// After stage 3: kill everything, then have a child halt or reboot
    /// (PID 1 itself must not exit on a real machine).
    fn halt(&mut self) -> i32 {
        self.reget_stderr();
        say(&Line::Info(
            "sending KILL signal to all processes...".into(),
        ));
        sys::kill_all(Signal::KILL);
        let reboot = sys::owner_executable(&self.paths.reboot);
        // SAFETY: PID 1 is single-threaded, so the child may go on as
        // runit; the closure returns, and the child _exits with 1.
        let forked = unsafe {
            fork_run(|| {
                self.reboot_system(reboot);
                1
            })
        };
        match forked {
            Ok(pid) => {
                self.watched.push(pid);
                while self.take_exit(pid).is_none() {
                    self.wait_event(Some(TICK));
                }
            }
            // No child: runit then tries from PID 1 itself.
            Err(_) => self.reboot_system(reboot),
        }
        // Still here: the kernel refused. A container's init ends itself
        // so that the container ends; a machine's init must stay.
        if self.container {
            return if reboot {
                CONTAINER_EXIT_REBOOT
            } else {
                CONTAINER_EXIT_HALT
            };
        }
        loop {
            self.wait_event(None);
        }
    }

    fn sync_if_wanted(&self) {
        // runit syncs unless stat(2) finds the nosync file.
        if std::fs::metadata(&self.paths.nosync).is_err() {
            rustix::fs::sync();
        }
    }

    /// Returns only when reboot(2) was refused.
    fn reboot_system(&self, reboot: bool) {
        if reboot {
            say(&Line::Info("system reboot.".into()));
            self.sync_if_wanted();
            let _ = rustix::system::reboot(RebootCommand::Restart);
            return;
        }
        say(&Line::Info("power off...".into()));
        self.sync_if_wanted();
        let _ = rustix::system::reboot(RebootCommand::PowerOff);
        if !self.container {
            std::thread::sleep(Duration::from_secs(2));
        }
        say(&Line::Info("system halt.".into()));
        self.sync_if_wanted();
        let _ = rustix::system::reboot(RebootCommand::Halt);
    }
}
