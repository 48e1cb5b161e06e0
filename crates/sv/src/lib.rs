//! sv: control and inspect services supervised by runsv.
//!
//! [`cli`] turns the command line into a [`cli::Config`]; [`report`] words
//! status lines and failures exactly as runit 2.1.2 does; [`machine`] gives
//! the status in forms programs read (`-o`); this module walks
//! the services, writes control bytes and waits for the wanted state.

pub mod cli;
mod machine;
mod report;
mod watch;

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::fs::{open, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{chdir, fchdir};
use supervise_proto::svdir::{self, ControlError, StatusReadError, CHECK, LOG};
use supervise_proto::xstatus::{XStatus, MAIN_XSTATUS};
use supervise_proto::{Control, RunState, Status, DEFAULT_SVDIR, VERSION_ID};

use cli::{Config, Refused};
use report::Report;
use watch::Watch;

/// Runs sv with its command line; returns the exit code.
pub fn run(args: &[OsString]) -> i32 {
    let cfg = match cli::parse(args, std::env::var_os("SVWAIT")) {
        Ok(c) => c,
        Err((prog, lsb, Refused::Usage { version })) => {
            if version {
                eprintln!("{VERSION_ID}");
            }
            eprint!("{}", Config::usage_text(&prog, lsb));
            return if lsb { 2 } else { 100 };
        }
    };
    let svdir = std::env::var_os("SVDIR").unwrap_or_else(|| DEFAULT_SVDIR.into());
    if let Some(format) = &cfg.output {
        return machine::run(&cfg.prog, format, &svdir, &cfg.services);
    }
    let mut sv = Sv::new(cfg, svdir);
    sv.main()
}

/// One service's outcome so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// Still to be waited for.
    Waiting,
    /// Done (reached, failed, or nothing to wait for).
    Done,
}

struct Sv {
    cfg: Config,
    /// The command's control bytes, spelled once.
    bytes: Vec<u8>,
    svdir: OsString,
    report: Report,
    /// The directory sv was started in, to come back to before a relative
    /// service name.
    home: Option<OwnedFd>,
    /// Whether the working directory may no longer be `home`.
    away: bool,
    /// When sv started (whole seconds matter for the restart checks).
    start_secs: u64,
    /// "Now" for status ages; refreshed on every wait round.
    now_secs: u64,
    /// Byte 19 of the record status_get read last, as stored: runit's sv
    /// words the line by it, and runsv never writes one above 2.
    state_byte: u8,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Sv {
    fn new(cfg: Config, svdir: OsString) -> Sv {
        let now = unix_now();
        let report = Report::new();
        let bytes = cfg.command.controls.iter().map(|c| c.byte()).collect();
        Sv {
            cfg,
            bytes,
            svdir,
            report,
            home: None,
            away: false,
            start_secs: now,
            now_secs: now,
            state_byte: 0,
        }
    }

    fn fatal(&mut self, what: &str, e: Errno) -> i32 {
        self.report.flush();
        eprintln!(
            "{}: fatal: {}: {}",
            self.cfg.prog,
            what,
            supervise_proto::errno_str(e)
        );
        if self.cfg.lsb {
            151
        } else {
            100
        }
    }

    fn main(&mut self) -> i32 {
        match open(
            ".",
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => self.home = Some(fd),
            Err(e) => return self.fatal("unable to open current directory", e),
        }
        let services = self.cfg.services.clone();
        let mut pending = vec![Pending::Done; services.len()];
        for (i, name) in services.iter().enumerate() {
            self.report.set_service(name);
            match self.enter(name) {
                Ok(true) => pending[i] = self.act(),
                Ok(false) => {}
                Err(code) => return code,
            }
        }
        if self.cfg.command.wait {
            if let Err(code) = self.wait(&services, &mut pending) {
                return code;
            }
        }
        self.report.flush();
        self.report.exit_code()
    }

    /// Changes into the service directory: names without a leading `/` or
    /// `.` (and without a trailing `/`) are looked up in $SVDIR. Err is a
    /// fatal exit code (the way back to the start directory is gone).
    fn enter(&mut self, name: &OsString) -> Result<bool, i32> {
        let b = name.as_bytes();
        let lookup = !b.is_empty() && b[0] != b'/' && b[0] != b'.' && !b.ends_with(b"/");
        let first: &[u8] = if lookup { self.svdir.as_bytes() } else { b };
        if self.away && first.first() != Some(&b'/') {
            self.return_home()?;
        }
        self.away = true;
        let r = if lookup {
            chdir(Path::new(&self.svdir)).and_then(|_| chdir(Path::new(name)))
        } else {
            chdir(Path::new(name))
        };
        match r {
            Ok(()) => Ok(true),
            Err(e) => {
                self.report
                    .fail("unable to change to service directory", Some(e));
                Ok(false)
            }
        }
    }

    /// Back to the start directory. runit goes back after every service;
    /// sv waits until a relative name needs it, which with absolute names
    /// (the usual case with many services) saves a system call each.
    fn return_home(&mut self) -> Result<(), i32> {
        if let Some(fd) = self.home.as_ref() {
            if let Err(e) = fchdir(fd) {
                return Err(self.fatal("unable to change to original directory", e));
            }
        }
        self.away = false;
        Ok(())
    }

    /// The first pass over a service: print its status, or write its
    /// control bytes. Returns whether it is still to be waited for.
    fn act(&mut self) -> Pending {
        if self.cfg.command.status {
            self.status();
            return Pending::Done;
        }
        if self.cfg.command.check_only {
            return Pending::Waiting;
        }
        // Lent out for the call (control needs self mutably): no copy
        // per service.
        let bytes = std::mem::take(&mut self.bytes);
        let r = self.control(&bytes);
        self.bytes = bytes;
        match r {
            Ok(()) => Pending::Waiting,
            Err(()) => Pending::Done,
        }
    }

    /// Is runsv there, and what does its status say? `Ok(None)` when runsv
    /// is not running (already reported).
    fn status_get(&mut self, exit_ok: bool) -> Result<Option<Status>, ()> {
        match svdir::supervisor_running(Path::new(".")) {
            Ok(true) => {}
            Ok(false) => {
                if exit_ok {
                    self.report.ok_line("runsv not running");
                } else {
                    self.report.fail("runsv not running", None);
                }
                return Ok(None);
            }
            Err(e) => {
                self.report.warn("unable to open supervise/ok", Some(e));
                return Err(());
            }
        }
        match svdir::read_status_bytes(Path::new(".")) {
            Ok(mut b) if b.len() == supervise_proto::status::RUNIT_STATUS_LEN => {
                // runit's sv takes any 20 bytes: a state byte runsv never
                // writes reads as down here, and the line is worded by
                // the byte itself (see Report::status_line).
                self.state_byte = b[19];
                if b[19] > 2 {
                    b[19] = 0;
                }
                match Status::decode(&b) {
                    Ok(s) => Ok(Some(s)),
                    Err(_) => {
                        self.report
                            .warn("unable to read supervise/status: bad format", None);
                        Err(())
                    }
                }
            }
            Ok(_) => {
                self.report
                    .warn("unable to read supervise/status: bad format", None);
                Err(())
            }
            Err(StatusReadError::Open(e)) => {
                self.report.warn("unable to open supervise/status", Some(e));
                Err(())
            }
            Err(StatusReadError::Read(e)) => {
                self.report.warn("unable to read supervise/status", Some(e));
                Err(())
            }
        }
    }

    /// `sv status`: the service, then its log if it has one.
    fn status(&mut self) {
        let main = match self.status_get(false) {
            Ok(Some(st)) => st,
            Ok(None) => {
                self.lsb_exit_status(None);
                return;
            }
            Err(()) => {
                if self.cfg.lsb {
                    self.report.flush();
                    std::process::exit(4);
                }
                return;
            }
        };
        let kind = self.status_text(false, &main);
        match chdir(LOG) {
            Err(Errno::NOENT) => {}
            Err(e) => self.report.log_chdir_warning(e),
            Ok(()) => {
                self.report.separator_next();
                self.report.set_log_suffix(true);
                if let Ok(Some(st)) = self.status_get(false) {
                    self.status_text(true, &st);
                }
                self.report.set_log_suffix(false);
            }
        }
        self.report.end_line();
        self.lsb_exit_status(kind);
    }

    /// The status description of the service (or log) in the current
    /// directory, with the readiness clause when it opted in to
    /// notification. Returns whether a process runs, as status_line does.
    fn status_text(&mut self, log: bool, st: &Status) -> Option<bool> {
        // Read once: the `failed` mark and the readiness clause both come
        // from it (one open per service, the file being absent for most).
        let x = XStatus::read(Path::new(MAIN_XSTATUS));
        let gave_up = x.as_ref().is_some_and(|x| x.failed.is_some());
        let kind = self.report.status_line(
            log,
            st,
            self.state_byte,
            self.now_secs,
            Path::new("down"),
            gave_up,
        );
        if kind.is_some() {
            let r = XStatus::readiness(x.as_ref(), st);
            let state = x.and_then(|x| x.notify_state);
            self.report.readiness_clause(r, state, self.now_secs);
        }
        kind
    }

    /// In LSB mode `status` exits at once: 0 running, 3 down, 1 when runsv
    /// is not there. The service's own state decides, not its log's
    /// (runit 2.3.0's fix).
    fn lsb_exit_status(&mut self, running: Option<bool>) {
        if !self.cfg.lsb {
            return;
        }
        self.report.flush();
        std::process::exit(match running {
            Some(true) => 0,
            Some(false) => 3,
            None => 1,
        });
    }

    /// Writes control bytes (spelled from [`Control`]s), unless the status
    /// shows the service already wants what the first command asks for.
    fn control(&mut self, bytes: &[u8]) -> Result<(), ()> {
        let first = bytes.first().copied().and_then(Control::from_byte);
        let exit_ok = first == Some(Control::Exit);
        let st = match self.status_get(exit_ok) {
            Ok(Some(st)) => st,
            _ => return Err(()),
        };
        let wanted = match first {
            Some(Control::Up) => st.wants_up(),
            Some(Control::Down) => st.wants_down() && st.got_term,
            _ => false,
        };
        if wanted {
            return Ok(());
        }
        match svdir::send_control(Path::new("."), bytes) {
            Ok(()) => Ok(()),
            Err(ControlError::Open(Errno::NXIO)) => {
                if exit_ok {
                    self.report.ok_line("runsv not running");
                } else {
                    self.report.fail("runsv not running", None);
                }
                Err(())
            }
            Err(ControlError::Open(e)) => {
                self.report
                    .warn("unable to open supervise/control", Some(e));
                Err(())
            }
            Err(ControlError::Write(e)) => {
                self.report
                    .warn("unable to write to supervise/control", Some(e));
                Err(())
            }
        }
    }

    /// Runs ./check (stdout closed); a missing check means "available".
    fn check_script(&mut self) -> bool {
        match rustix::fs::stat(CHECK) {
            Err(Errno::NOENT) => return true,
            Err(e) => {
                self.report.warn("unable to stat check", Some(e));
                return false;
            }
            Ok(_) => {}
        }
        let child = std::process::Command::new("./check")
            .stdout(std::process::Stdio::null())
            .status();
        match child {
            Ok(st) => st.code() == Some(0),
            Err(e) => {
                self.report
                    .warn("unable to run ./check", Some(svdir::errno_of(&e)));
                false
            }
        }
    }

    /// "Up" in the sense sv waits for: a service that opted in to
    /// readiness notification must have said it is ready, and ./check
    /// (if there is one) must pass, as in runit.
    fn up_and_ready(&mut self, st: &Status) -> bool {
        let x = XStatus::read(Path::new(MAIN_XSTATUS));
        XStatus::readiness(x.as_ref(), st).counts_as_up() && self.check_script()
    }

    /// Has the service reached what `controls` asked for (or, for
    /// `check`, the state it wants)? Prints the `ok:` line when it has.
    fn reached(&mut self, controls: &[Control]) -> Pending {
        let st = match self.status_get(controls.first() == Some(&Control::Exit)) {
            Err(()) => return Pending::Done,
            Ok(None) => return Pending::Done,
            Ok(Some(st)) => st,
        };
        let pid = st.pid != 0;
        let up = |sv: &mut Sv| pid && st.state == RunState::Run && sv.up_and_ready(&st);
        let down = !pid && st.state == RunState::Down;
        // runit 2.3.0: check waits for the wanted state.
        if self.cfg.command.check_only && !(if st.wants_up() { up(self) } else { down }) {
            return Pending::Waiting;
        }
        let stamp = st.stamp.unix_secs();
        for &c in controls {
            let done = match c {
                Control::Exit => false,
                Control::Up => up(self),
                Control::Down => down,
                Control::Term | Control::Kill => {
                    (!pid && st.wants_down())
                        || (self.start_secs <= stamp
                            && pid
                            && !st.got_term
                            && self.up_and_ready(&st))
                }
                Control::Once => (pid || self.start_secs <= stamp) && (!pid || st.wants_down()),
                Control::Pause => !pid || st.paused,
                Control::Cont => !pid || !st.paused,
                _ => true,
            };
            if !done {
                return Pending::Waiting;
            }
        }
        self.report.ok_prefix();
        self.status_text(false, &st);
        self.report.end_line();
        Pending::Done
    }

    /// Polls every waiting service until each is done or the timeout has
    /// passed; then reports timeouts (and sends `k` for force-* commands).
    fn wait(&mut self, services: &[OsString], pending: &mut [Pending]) -> Result<(), i32> {
        let controls = self.cfg.command.controls.clone();
        let limit = Duration::from_secs(self.cfg.timeout);
        let began = Instant::now();
        // runit polls every 420 ms; polling sooner costs little and answers
        // sooner. The interval grows so a long wait stays cheap, and a
        // change of readiness ends the pause at once (see watch).
        let mut pause = Duration::from_millis(5);
        let mut watch = Watch::new();
        loop {
            self.now_secs = unix_now();
            let mut all_done = true;
            for (i, name) in services.iter().enumerate() {
                if pending[i] != Pending::Waiting {
                    continue;
                }
                self.report.set_service(name);
                if self.enter(name)? {
                    watch.arm(i);
                    pending[i] = self.reached(&controls);
                } else {
                    pending[i] = Pending::Done;
                }
                if pending[i] == Pending::Waiting {
                    all_done = false;
                } else {
                    watch.disarm(i);
                }
            }
            if all_done {
                return Ok(());
            }
            if began.elapsed() >= limit {
                break;
            }
            self.report.flush();
            watch.pause(
                pause
                    .min(limit.saturating_sub(began.elapsed()))
                    .max(Duration::from_millis(1)),
            );
            pause = (pause * 2).min(Duration::from_millis(100));
        }
        for (i, name) in services.iter().enumerate() {
            if pending[i] != Pending::Waiting {
                continue;
            }
            self.report.set_service(name);
            if !self.enter(name)? {
                continue;
            }
            self.report.timeout_prefix(self.cfg.command.kill);
            if let Ok(Some(st)) = self.status_get(false) {
                self.status_text(false, &st);
            }
            self.report.end_line();
            if self.cfg.command.kill {
                let _ = self.control(&[Control::Kill.byte()]);
            }
        }
        Ok(())
    }
}
