//! runit proper: the process the kernel starts first. It runs the three
//! stages, answers the shutdown requests, reaps every orphan, and finally
//! halts or reboots the machine.
//!
//! One loop: wait (at most 14 seconds, as runit does, so zombies are reaped
//! even if a SIGCHLD were lost) on a signalfd, note the requests, reap all
//! children, then act. Decisions come from [`crate::stages`].

use std::collections::HashMap;
use std::ffi::CString;
use std::time::{Duration, Instant};

use crate::msg::{say, say_all, write_fd, Line, ID};
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
pub const CONTAINER_EXIT_REBOOT: i32 = 128 + libc::SIGHUP;
pub const CONTAINER_EXIT_HALT: i32 = 128 + libc::SIGINT;

/// The signals PID 1 takes through its signalfd. runit blocks ALRM, HUP,
/// PIPE and TERM and never looks at them; CHLD, CONT and INT are requests;
/// PWR is Debian's addition.
const SIGNALS: [i32; 8] = [
    libc::SIGALRM,
    libc::SIGCHLD,
    libc::SIGCONT,
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGPIPE,
    libc::SIGTERM,
    libc::SIGPWR,
];

pub struct Init {
    paths: Paths,
    stage_names: [String; 3],
    console: CString,
    sigfd: i32,
    env: Vec<CString>,
    /// PID 1 of a PID namespace that is not the machine's: SIGTERM asks
    /// for a shutdown, and a refused reboot(2) ends runit with a code.
    container: bool,
    req: Requests,
    /// Exit statuses of reaped children we still care about.
    ended: HashMap<i32, Exit>,
    watched: Vec<i32>,
}

impl Init {
    pub fn new(paths: Paths, container: bool) -> Init {
        let stage_names = paths.stages.clone().map(|p| p.display().to_string());
        let console = sys::cstring(&paths.console);
        Init {
            paths,
            stage_names,
            console,
            sigfd: -1,
            env: sys::environment(),
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
                    sys::kill(-pid, libc::SIGKILL);
                    self.pause(RESTART_PAUSE);
                    say(&Line::Warn("restarting.".into()));
                    st = 1;
                }
                Next::Halt => return self.halt(),
            }
        }
    }

    fn boot(&mut self) {
        // SAFETY: plain calls; failures are harmless (setsid fails when
        // already a session leader, reboot(CAD_OFF) inside a namespace).
        unsafe { libc::setsid() };
        self.sigfd = sys::block_to_signalfd(&SIGNALS);
        let fd = sys::open_write(&self.console);
        if fd != -1 {
            sys::move_fd(fd, &[0, 1, 2]);
        }
        // Ctrl-Alt-Del now sends SIGINT to PID 1 instead of rebooting.
        unsafe { libc::reboot(libc::RB_DISABLE_CAD) };
        say(&Line::Info(format!("{ID}: booting.")));
    }

    /// Reopens the console as standard error, in case it changed.
    fn reget_stderr(&self) {
        let fd = sys::open_write(&self.console);
        if fd != -1 {
            sys::move_fd(fd, &[2]);
        }
    }

    /// Waits for a signal or `timeout`, notes requests and reaps children.
    fn wait_event(&mut self, timeout: Option<Duration>) {
        sys::poll_readable(self.sigfd, timeout);
        for s in sys::read_signals(self.sigfd) {
            match s {
                libc::SIGCONT => self.req.cont = true,
                libc::SIGINT => self.req.int = true,
                libc::SIGPWR => self.req.power = true,
                libc::SIGTERM if self.container => self.req.power = true,
                _ => {}
            }
        }
        self.reap();
    }

    fn reap(&mut self) {
        for (pid, w) in sys::reap_all() {
            if self.watched.contains(&pid) {
                self.ended.insert(pid, Exit::from_wait_status(w));
            }
        }
    }

    fn take_exit(&mut self, pid: i32) -> Option<Exit> {
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

    /// Forks a child that becomes `prog`; retries every 5 s when fork fails.
    fn spawn(&mut self, name: &str, stage1: bool, setsid: bool) -> i32 {
        let path = sys::cstring(name);
        let enter = Line::Info(format!("enter stage: {name}")).text();
        loop {
            let pid = sys::fork();
            if pid > 0 {
                self.watched.push(pid);
                return pid;
            }
            if pid == 0 {
                self.child(&path, &enter, name, stage1, setsid);
            }
            say(&Line::Fatal(format!(
                "unable to fork for \"{name}\" pausing: {}",
                sys::errstr()
            )));
            self.pause(FORK_PAUSE);
        }
    }

    /// The child side of [`Init::spawn`]: never returns.
    fn child(&self, path: &CString, enter: &str, name: &str, stage1: bool, setsid: bool) -> ! {
        if stage1 {
            // Stage 1 gets the console as its terminal on descriptor 0.
            // SAFETY: plain descriptor calls.
            let fd = unsafe { libc::open(self.console.as_ptr(), libc::O_RDWR) };
            if fd != -1 {
                unsafe { libc::ioctl(fd, libc::TIOCSCTTY, 0) };
                sys::move_fd(fd, &[0]);
            } else {
                say(&Line::Warn(format!(
                    "unable to open /dev/console: {}",
                    sys::errstr()
                )));
            }
        } else if setsid {
            unsafe { libc::setsid() };
        }
        sys::reset_signals_for_exec();
        write_fd(2, enter.as_bytes());
        sys::exec(path, path, &self.env);
        say(&Line::Fatal(format!(
            "unable to start child: {name}: {}",
            sys::errstr()
        )));
        // runit's child exits 0 here, so an unstartable stage counts as
        // one that succeeded.
        sys::exit_now(0)
    }

    fn spawn_stage(&mut self, st: StageNo) -> i32 {
        let name = self.stage_names[st].clone();
        self.spawn(&name, st == 0, true)
    }

    /// Watches stage `st` (process `pid`) until it ends or is stopped.
    fn supervise(&mut self, st: StageNo, pid: i32) -> Next {
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
                        let p = sys::cstring(&self.paths.stopit);
                        // SAFETY: valid C string. A missing file is fine.
                        unsafe { libc::chmod(p.as_ptr(), 0) };
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
    fn stop_stage2(&mut self, pid: i32) {
        sys::kill(pid, libc::SIGTERM);
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
        sys::kill(pid, libc::SIGKILL);
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
        sys::kill(-1, libc::SIGKILL);
        let reboot = sys::owner_executable(&self.paths.reboot);
        let pid = sys::fork();
        if pid <= 0 {
            self.reboot_system(reboot);
            if pid == 0 {
                sys::exit_now(1);
            }
        } else {
            self.watched.push(pid);
            while self.take_exit(pid).is_none() {
                self.wait_event(Some(TICK));
            }
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
            sys::sync();
        }
    }

    /// Returns only when reboot(2) was refused.
    fn reboot_system(&self, reboot: bool) {
        if reboot {
            say(&Line::Info("system reboot.".into()));
            self.sync_if_wanted();
            sys::reboot(libc::RB_AUTOBOOT);
            return;
        }
        say(&Line::Info("power off...".into()));
        self.sync_if_wanted();
        sys::reboot(libc::RB_POWER_OFF);
        if !self.container {
            std::thread::sleep(Duration::from_secs(2));
        }
        say(&Line::Info("system halt.".into()));
        self.sync_if_wanted();
        sys::reboot(libc::RB_HALT_SYSTEM);
    }
}
