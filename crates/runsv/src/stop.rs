//! How a service is stopped: its stop settings (files in the service
//! directory, read at each start of ./run) and the policy that turns them
//! into signals and deadlines.
//!
//! runit sends TERM and CONT to ./run's pid and nothing more. A service
//! that sets nothing keeps exactly that. The settings, each opt-in:
//!
//! - `down-signal` (s6's name and format): a signal name (`QUIT`,
//!   `SIGQUIT`, any case) or number, sent instead of TERM; CONT still
//!   follows, and `control/t` still replaces it when present.
//! - `timeout-kill` (s6): milliseconds; runsv sends KILL itself when ./run
//!   is still alive that long after the stop signal. 0 means never.
//! - `timeout-finish` (s6): milliseconds; ./finish is killed when it runs
//!   longer. Absent or 0: no limit (runit's behaviour; s6's default is 5 s).
//! - `stop-group` (ours): ./run and ./finish start in a process group of
//!   their own (`session` in the file: a session of their own); the stop
//!   signal, its CONT and every KILL go to the whole group, and once the
//!   group leader has exited what is left of the group gets KILL.
//! - `cgroup` (ours): ./run and ./finish run in a cgroup v2 of their own,
//!   named after the service, under the cgroup the file names (empty: the
//!   one runsv itself runs in). Every KILL is `cgroup.kill`, which reaches
//!   double-forked daemons too, and a process is over only when its cgroup
//!   is empty.
//!
//! [`Stop`] is the policy: it makes no system call and takes the time as
//! an argument, so its tests need no clock and no process. [`Stopper`] is
//! the small shell around it that runsv's loop calls: it reads the
//! settings, places the cgroup and sends what the policy decides.

use std::os::fd::OwnedFd;
use std::time::{Duration, Instant, SystemTime};

use rustix::process::{kill_process, kill_process_group, Pid, Signal};
use supervise_proto::spawn::Group;
use supervise_proto::svdir::{read_setting, SettingError};
use supervise_proto::xstatus::XStatus;
use supervise_proto::Tai64n;

use crate::cgroup::Cgroup;
use crate::msg::Messages;

/// Setting files are short; anything longer is not one of ours.
const SETTING_MAX: usize = 256;

/// The setting files, relative to the service (or log) directory.
pub const DOWN_SIGNAL: &str = "down-signal";
pub const TIMEOUT_KILL: &str = "timeout-kill";
pub const TIMEOUT_FINISH: &str = "timeout-finish";
pub const STOP_GROUP: &str = "stop-group";
pub const CGROUP: &str = "cgroup";
const FILES: [&str; 5] = [
    DOWN_SIGNAL,
    TIMEOUT_KILL,
    TIMEOUT_FINISH,
    STOP_GROUP,
    CGROUP,
];

/// Where ./run and ./finish sit among process groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// A process group of their own.
    Group,
    /// A session (and so a process group) of their own.
    Session,
}

/// The stop settings in force for one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub down_signal: Option<Signal>,
    pub timeout_kill: Option<Duration>,
    pub timeout_finish: Option<Duration>,
    pub grouping: Option<Grouping>,
    /// The parent cgroup (a path in the cgroup2 hierarchy; "" for runsv's
    /// own cgroup).
    pub cgroup: Option<String>,
}

impl Settings {
    /// Whether anything differs from runit.
    pub fn any(&self) -> bool {
        *self != Settings::default()
    }

    /// Reads the settings from directory `base` ("" or "log/"). A file
    /// that cannot be used is a warning and that setting is ignored.
    pub fn read(base: &str, msg: &Messages) -> Settings {
        Settings {
            down_signal: setting(base, DOWN_SIGNAL, "not a signal", parse_signal, msg),
            timeout_kill: setting(base, TIMEOUT_KILL, "not milliseconds", parse_ms, msg).flatten(),
            timeout_finish: setting(base, TIMEOUT_FINISH, "not milliseconds", parse_ms, msg)
                .flatten(),
            grouping: setting(
                base,
                STOP_GROUP,
                "neither group nor session",
                parse_grouping,
                msg,
            ),
            cgroup: setting(
                base,
                CGROUP,
                "not an absolute cgroup path",
                parse_cgroup,
                msg,
            ),
        }
    }

    /// The settings in force as `(file name, value)` pairs, for the
    /// `setting.NAME=VALUE` lines of supervise/xstatus.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut v = Vec::new();
        let mut put = |k: &str, val: String| v.push((k.to_string(), val));
        if let Some(sig) = self.down_signal {
            put(DOWN_SIGNAL, signal_name(sig));
        }
        if let Some(d) = self.timeout_kill {
            put(TIMEOUT_KILL, d.as_millis().to_string());
        }
        if let Some(d) = self.timeout_finish {
            put(TIMEOUT_FINISH, d.as_millis().to_string());
        }
        if let Some(g) = self.grouping {
            let name = match g {
                Grouping::Group => "group",
                Grouping::Session => "session",
            };
            put(STOP_GROUP, name.to_string());
        }
        if let Some(c) = &self.cgroup {
            put(CGROUP, c.clone());
        }
        v
    }
}

/// Reads and parses setting file `base` + `name`: `None` when it is
/// absent, or unusable (with a warning saying why; `what` words a value
/// `parse` rejects).
fn setting<T>(
    base: &str,
    name: &str,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
    msg: &Messages,
) -> Option<T> {
    let path = format!("{base}{name}");
    if crate::settings::known_absent(&path) {
        return None;
    }
    let bytes = match read_setting(&path, SETTING_MAX) {
        Ok(Some(v)) => v,
        Ok(None) => {
            crate::settings::saw_absent(&path);
            return None;
        }
        Err(SettingError::Io(e)) => {
            msg.warn(&format!("unable to read {path}"), e);
            return None;
        }
        Err(SettingError::NotRegular) => {
            msg.warnx(&format!("ignoring {path}: not a regular file"));
            return None;
        }
        Err(SettingError::TooLarge) => {
            msg.warnx(&format!("ignoring {path}: longer than {SETTING_MAX} bytes"));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let value = first_line(&text);
    let got = parse(value);
    if got.is_none() {
        msg.warnx(&format!("ignoring {path}: {what}: {value}"));
    }
    got
}

/// The value of a setting file: its first line, without surrounding
/// blanks (s6's files end in a newline; an empty file is an empty value).
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// Signal names runsv accepts (without the `SIG` prefix), and numbers.
const SIGNALS: &[(&str, Signal)] = &[
    ("HUP", Signal::HUP),
    ("INT", Signal::INT),
    ("QUIT", Signal::QUIT),
    ("ILL", Signal::ILL),
    ("TRAP", Signal::TRAP),
    ("ABRT", Signal::ABORT),
    ("IOT", Signal::ABORT),
    ("BUS", Signal::BUS),
    ("FPE", Signal::FPE),
    ("KILL", Signal::KILL),
    ("USR1", Signal::USR1),
    ("SEGV", Signal::SEGV),
    ("USR2", Signal::USR2),
    ("PIPE", Signal::PIPE),
    ("ALRM", Signal::ALARM),
    ("TERM", Signal::TERM),
    ("STKFLT", Signal::STKFLT),
    ("CHLD", Signal::CHILD),
    ("CONT", Signal::CONT),
    ("STOP", Signal::STOP),
    ("TSTP", Signal::TSTP),
    ("TTIN", Signal::TTIN),
    ("TTOU", Signal::TTOU),
    ("URG", Signal::URG),
    ("XCPU", Signal::XCPU),
    ("XFSZ", Signal::XFSZ),
    ("VTALRM", Signal::VTALARM),
    ("PROF", Signal::PROF),
    ("WINCH", Signal::WINCH),
    ("IO", Signal::IO),
    ("POLL", Signal::IO),
    ("PWR", Signal::POWER),
    ("SYS", Signal::SYS),
];

/// `QUIT`, `SIGQUIT`, `quit` or `3`.
pub fn parse_signal(v: &str) -> Option<Signal> {
    if let Ok(n) = v.parse::<i32>() {
        return Signal::from_named_raw(n);
    }
    let upper = v.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    SIGNALS
        .iter()
        .find(|(s, _)| *s == name)
        .map(|&(_, sig)| sig)
}

/// The signal's name without `SIG` (its number when it has none here).
pub fn signal_name(sig: Signal) -> String {
    SIGNALS
        .iter()
        .find(|(_, s)| *s == sig)
        .map_or_else(|| sig.as_raw().to_string(), |(s, _)| s.to_string())
}

/// Decimal milliseconds; 0 means "no timeout" (`Some(None)`).
pub fn parse_ms(v: &str) -> Option<Option<Duration>> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = v.parse().ok()?;
    Some((n > 0).then(|| Duration::from_millis(n)))
}

/// An empty file or `group`: a process group; `session`: a session.
pub fn parse_grouping(v: &str) -> Option<Grouping> {
    match v {
        "" | "group" => Some(Grouping::Group),
        "session" => Some(Grouping::Session),
        _ => None,
    }
}

/// An empty file (runsv's own cgroup) or an absolute path in the cgroup2
/// hierarchy without `.` or `..` components.
pub fn parse_cgroup(v: &str) -> Option<String> {
    if v.is_empty() {
        return Some(String::new());
    }
    let ok = v.starts_with('/')
        && v.split('/')
            .skip(1)
            .all(|c| c != "." && c != ".." && !c.contains('\0'));
    // "/" is the root cgroup, not "" (runsv's own): keep one slash.
    ok.then(|| match v.trim_end_matches('/') {
        "" => "/".to_string(),
        t => t.to_string(),
    })
}

/// One thing to do to the service's processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deed {
    /// Send `sig` to `pid`, or to the process group `pid` leads.
    Signal { pid: u32, group: bool, sig: Signal },
    /// Write to the service's `cgroup.kill`.
    CgroupKill,
}

/// What is to become of a process that has just exited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Gone: carry on (after doing the deeds).
    Gone(Vec<Deed>),
    /// Its cgroup still holds processes: kill them and wait until
    /// cgroup.events says it is empty before counting the process gone.
    Drain(Vec<Deed>),
}

/// The stop policy of one service (or log): the settings of the current
/// run and the pending deadlines.
#[derive(Debug, Default)]
pub struct Stop {
    pub settings: Settings,
    /// ./run and ./finish are in the settings' cgroup (placement worked).
    pub in_cgroup: bool,
    /// KILL ./run at this instant (armed by the stop signal).
    pub kill_at: Option<Instant>,
    /// KILL ./finish at this instant (armed when it starts).
    pub finish_kill_at: Option<Instant>,
}

impl Stop {
    /// The new run's settings; pending deadlines are dropped.
    pub fn start_run(&mut self, settings: Settings, in_cgroup: bool) {
        self.settings = settings;
        self.in_cgroup = in_cgroup;
        self.kill_at = None;
        self.finish_kill_at = None;
    }

    fn grouped(&self) -> bool {
        self.settings.grouping.is_some()
    }

    fn to(&self, pid: u32, sig: Signal) -> Deed {
        Deed::Signal {
            pid,
            group: self.grouped(),
            sig,
        }
    }

    /// The signal a stop sends (down-signal, else TERM).
    pub fn stop_signal(&self) -> Signal {
        self.settings.down_signal.unwrap_or(Signal::TERM)
    }

    /// A stop was asked for ./run (`pid`) at `now`: the kill deadline is
    /// armed (an earlier one stays), and unless a control script handled
    /// the stop, the stop signal goes out.
    pub fn stop(&mut self, pid: u32, handled: bool, now: Instant) -> Vec<Deed> {
        if let Some(t) = self.settings.timeout_kill {
            self.kill_at = Some(self.kill_at.map_or(now + t, |k| k.min(now + t)));
        }
        if handled {
            return Vec::new();
        }
        vec![self.to(pid, self.stop_signal())]
    }

    /// A signal other than the stop signal, for the running process
    /// `pid`: CONT reaches the whole group (it follows the stop signal),
    /// KILL is a [`Stop::kill`], the rest go to `pid` alone, as runit's.
    pub fn signal(&self, pid: u32, sig: Signal) -> Vec<Deed> {
        match sig {
            Signal::KILL => self.kill(pid),
            Signal::CONT => vec![self.to(pid, sig)],
            _ => vec![Deed::Signal {
                pid,
                group: false,
                sig,
            }],
        }
    }

    /// Killing the running process `pid` (./run or ./finish): its cgroup,
    /// else its group, else the process.
    pub fn kill(&self, pid: u32) -> Vec<Deed> {
        if self.in_cgroup {
            vec![Deed::CgroupKill]
        } else {
            vec![self.to(pid, Signal::KILL)]
        }
    }

    /// ./finish started at `now`: its deadline is armed.
    pub fn start_finish(&mut self, now: Instant) {
        self.kill_at = None;
        self.finish_kill_at = self.settings.timeout_finish.map(|t| now + t);
    }

    /// The process `pid` (./run or ./finish) has exited; `populated`
    /// tells whether its cgroup (if it has one) still holds processes.
    /// Whatever is left of it is killed.
    pub fn ended(&mut self, pid: u32, populated: bool) -> Ended {
        self.kill_at = None;
        self.finish_kill_at = None;
        if self.in_cgroup {
            if populated {
                return Ended::Drain(vec![Deed::CgroupKill]);
            }
            return Ended::Gone(Vec::new());
        }
        if self.grouped() {
            return Ended::Gone(vec![self.to(pid, Signal::KILL)]);
        }
        Ended::Gone(Vec::new())
    }

    /// The next deadline, for the poll timeout; `None` leaves runsv idle.
    pub fn deadline(&self) -> Option<Instant> {
        match (self.kill_at, self.finish_kill_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The deeds due at `now` for the running process `pid`; `finishing`
    /// says whether it is ./finish. A deadline fires once.
    pub fn due(&mut self, pid: u32, finishing: bool, now: Instant) -> Vec<Deed> {
        let slot = if finishing {
            &mut self.finish_kill_at
        } else {
            &mut self.kill_at
        };
        match *slot {
            Some(t) if t <= now => {
                *slot = None;
                if pid == 0 {
                    return Vec::new();
                }
                self.kill(pid)
            }
            _ => Vec::new(),
        }
    }
}

/// Sends the signals among `deeds`; `cgroup_kill` does the cgroup's kill.
/// Errors are ignored: the process may be gone already (ESRCH).
pub fn perform(deeds: &[Deed], mut cgroup_kill: impl FnMut()) {
    for d in deeds {
        match *d {
            Deed::Signal { pid, group, sig } => {
                let Some(p) = Pid::from_raw(pid as i32) else {
                    continue;
                };
                let _ = if group {
                    kill_process_group(p, sig)
                } else {
                    kill_process(p, sig)
                };
            }
            Deed::CgroupKill => cgroup_kill(),
        }
    }
}

/// Where a child of the service starts: process group and cgroup.
#[derive(Clone, Copy, Default)]
pub struct Placement<'a> {
    pub group: Group,
    /// `cgroup.procs` of the cgroup the child joins.
    pub cgroup: Option<&'a OwnedFd>,
}

/// The stop policy of one service with what it acts on: the cgroup, and
/// the exit of ./run or ./finish held back while the cgroup empties.
#[derive(Debug)]
pub struct Stopper {
    is_log: bool,
    pub policy: Stop,
    cgroup: Option<(String, Cgroup)>,
    /// ./run or ./finish has exited with this wait status; its cgroup is
    /// being emptied.
    draining: Option<i32>,
}

impl Stopper {
    pub fn new(is_log: bool) -> Stopper {
        Stopper {
            is_log,
            policy: Stop::default(),
            cgroup: None,
            draining: None,
        }
    }

    /// At each start of ./run: reads the settings and makes (or keeps) the
    /// cgroup they name.
    pub fn prepare_run(&mut self, msg: &Messages) {
        let base = if self.is_log { "log/" } else { "" };
        let settings = Settings::read(base, msg);
        let same = matches!((&settings.cgroup, &self.cgroup), (Some(a), Some((b, _))) if a == b);
        if !same {
            if let Some((_, old)) = self.cgroup.take() {
                old.remove();
            }
            if let Some(parent) = &settings.cgroup {
                let name = self.cgroup_name();
                self.cgroup = Cgroup::place(parent, &name, msg).map(|c| (parent.clone(), c));
            }
        }
        self.policy.start_run(settings, self.cgroup.is_some());
    }

    /// The service directory's name (runsv works in it), `NAME.log` for
    /// the log.
    fn cgroup_name(&self) -> String {
        let dir = std::env::current_dir().ok();
        let name = dir
            .as_deref()
            .and_then(|d| d.file_name())
            .map_or_else(|| "service".into(), |n| n.to_string_lossy());
        if self.is_log {
            format!("{name}.log")
        } else {
            name.into_owned()
        }
    }

    pub fn placement(&self) -> Placement<'_> {
        Placement {
            group: match self.policy.settings.grouping {
                None => Group::Inherit,
                Some(Grouping::Group) => Group::NewGroup,
                Some(Grouping::Session) => Group::NewSession,
            },
            cgroup: self.cgroup.as_ref().map(|(_, c)| &c.procs),
        }
    }

    /// Whether the service has any stop setting (and so an xstatus).
    pub fn extended(&self) -> bool {
        self.policy.settings.any()
    }

    fn perform(&self, deeds: &[Deed], msg: &Messages) {
        perform(deeds, || {
            if let Some((_, c)) = &self.cgroup {
                c.kill(msg);
            }
        });
    }

    /// ./finish has started at `now`.
    pub fn finish_started(&mut self, now: Instant) {
        self.policy.start_finish(now);
    }

    /// A stop of ./run (`pid`); `handled`: control/t took care of it.
    pub fn stop(&mut self, pid: u32, handled: bool, now: Instant, msg: &Messages) {
        let deeds = self.policy.stop(pid, handled, now);
        self.perform(&deeds, msg);
    }

    /// Any other signal runsv sends to the running process `pid`.
    pub fn send(&self, pid: u32, sig: Signal, msg: &Messages) {
        let deeds = self.policy.signal(pid, sig);
        self.perform(&deeds, msg);
    }

    /// ./run or ./finish (`pid`) has exited with `wstat`. True when it is
    /// gone; false while its cgroup is being emptied ([`Stopper::drained`]
    /// then hands the status back).
    pub fn ended(&mut self, pid: u32, wstat: i32, msg: &Messages) -> bool {
        let populated = self.cgroup.as_ref().is_some_and(|(_, c)| c.populated());
        match self.policy.ended(pid, populated) {
            Ended::Gone(deeds) => {
                self.perform(&deeds, msg);
                true
            }
            Ended::Drain(deeds) => {
                self.perform(&deeds, msg);
                self.draining = Some(wstat);
                false
            }
        }
    }

    /// The held-back exit status, once the cgroup is empty. While it is
    /// not, its processes are killed again (a no-op with cgroup.kill; the
    /// next pass without it).
    pub fn drained(&mut self, msg: &Messages) -> Option<i32> {
        self.draining?;
        match &self.cgroup {
            Some((_, c)) if c.populated() => {
                c.kill(msg);
                None
            }
            _ => self.draining.take(),
        }
    }

    /// `cgroup.events`, to poll for POLLPRI while the cgroup empties.
    pub fn events_fd(&self) -> Option<&OwnedFd> {
        self.draining?;
        self.cgroup.as_ref().map(|(_, c)| &c.events)
    }

    /// Does what is due at `now` for the running `pid`; true when a
    /// deadline fired (xstatus changes).
    pub fn tick(&mut self, pid: u32, finishing: bool, now: Instant, msg: &Messages) -> bool {
        let before = self.policy.deadline();
        let deeds = self.policy.due(pid, finishing, now);
        self.perform(&deeds, msg);
        before != self.policy.deadline()
    }

    /// Puts what this module knows into the extended record; `pid` is the
    /// running process (0 when none).
    pub fn fill(&self, x: &mut XStatus, pid: u32) {
        let now = Instant::now();
        let wall = |t: Instant| {
            Tai64n::from_system_time(SystemTime::now() + t.saturating_duration_since(now))
        };
        x.kill_at = self.policy.kill_at.map(wall);
        x.finish_kill_at = self.policy.finish_kill_at.map(wall);
        x.pgid = (self.policy.settings.grouping.is_some() && pid != 0).then_some(pid);
        x.cgroup = self.cgroup.as_ref().map(|(_, c)| c.name.clone());
        x.settings.retain(|(k, _)| !FILES.contains(&k.as_str()));
        x.settings.extend(self.policy.settings.pairs());
    }
}

impl Drop for Stopper {
    /// runsv is done: its cgroup goes (when empty).
    fn drop(&mut self) {
        if let Some((_, c)) = self.cgroup.take() {
            c.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sig(pid: u32, group: bool, sig: Signal) -> Deed {
        Deed::Signal { pid, group, sig }
    }

    fn with(settings: Settings, in_cgroup: bool) -> Stop {
        let mut s = Stop::default();
        s.start_run(settings, in_cgroup);
        s
    }

    #[test]
    fn signals_by_name_and_number() {
        assert_eq!(parse_signal("QUIT"), Some(Signal::QUIT));
        assert_eq!(parse_signal("SIGQUIT"), Some(Signal::QUIT));
        assert_eq!(parse_signal("sigquit"), Some(Signal::QUIT));
        assert_eq!(parse_signal("hup"), Some(Signal::HUP));
        assert_eq!(parse_signal("3"), Some(Signal::QUIT));
        assert_eq!(parse_signal("15"), Some(Signal::TERM));
        for bad in ["", "0", "-1", "99", "SIG", "TERMX", "1.5"] {
            assert_eq!(parse_signal(bad), None, "{bad}");
        }
        assert_eq!(signal_name(Signal::QUIT), "QUIT");
        assert_eq!(signal_name(Signal::ALARM), "ALRM");
    }

    #[test]
    fn milliseconds_and_zero() {
        assert_eq!(parse_ms("300"), Some(Some(ms(300))));
        assert_eq!(parse_ms("0"), Some(None));
        for bad in ["", "-5", "1.5", "3s", " 1", "99999999999999999999999"] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn grouping_and_cgroup_values() {
        assert_eq!(parse_grouping(""), Some(Grouping::Group));
        assert_eq!(parse_grouping("group"), Some(Grouping::Group));
        assert_eq!(parse_grouping("session"), Some(Grouping::Session));
        assert_eq!(parse_grouping("yes"), None);
        assert_eq!(parse_cgroup(""), Some(String::new()));
        assert_eq!(parse_cgroup("/runit/"), Some("/runit".into()));
        assert_eq!(
            parse_cgroup("/"),
            Some("/".into()),
            "the root, not runsv's own"
        );
        assert_eq!(parse_cgroup("//"), Some("/".into()));
        assert_eq!(parse_cgroup("/a/b"), Some("/a/b".into()));
        for bad in ["runit", "/a/../b", "/./a"] {
            assert_eq!(parse_cgroup(bad), None, "{bad}");
        }
    }

    #[test]
    fn first_line_of_a_setting_file() {
        assert_eq!(first_line("QUIT\n"), "QUIT");
        assert_eq!(first_line("  300 \nrest\n"), "300");
        assert_eq!(first_line(""), "");
    }

    #[test]
    fn default_settings_are_runits_term_to_the_pid_and_no_deadline() {
        let mut s = with(Settings::default(), false);
        let t0 = Instant::now();
        assert_eq!(s.stop(7, false, t0), vec![sig(7, false, Signal::TERM)]);
        assert_eq!(s.signal(7, Signal::CONT), vec![sig(7, false, Signal::CONT)]);
        assert_eq!(s.deadline(), None);
        assert_eq!(s.signal(7, Signal::KILL), vec![sig(7, false, Signal::KILL)]);
        assert_eq!(s.ended(7, false), Ended::Gone(vec![]));
        s.start_finish(t0);
        assert_eq!(s.deadline(), None, "./finish has no limit, as runit");
    }

    #[test]
    fn down_signal_replaces_term_unless_control_t_handled_it() {
        let set = Settings {
            down_signal: Some(Signal::QUIT),
            ..Settings::default()
        };
        let mut s = with(set, false);
        let t0 = Instant::now();
        assert_eq!(s.stop(7, false, t0), vec![sig(7, false, Signal::QUIT)]);
        assert_eq!(s.stop(7, true, t0), vec![]);
        assert_eq!(s.signal(7, Signal::HUP), vec![sig(7, false, Signal::HUP)]);
    }

    #[test]
    fn kill_timeout_fires_once_at_its_deadline() {
        let set = Settings {
            timeout_kill: Some(ms(300)),
            ..Settings::default()
        };
        let mut s = with(set, false);
        let t0 = Instant::now();
        assert_eq!(s.stop(7, false, t0), vec![sig(7, false, Signal::TERM)]);
        assert_eq!(s.deadline(), Some(t0 + ms(300)));
        // A second stop does not push the deadline back.
        s.stop(7, false, t0 + ms(100));
        assert_eq!(s.deadline(), Some(t0 + ms(300)));
        assert_eq!(s.due(7, false, t0 + ms(299)), vec![]);
        assert_eq!(
            s.due(7, false, t0 + ms(300)),
            vec![sig(7, false, Signal::KILL)]
        );
        assert_eq!(s.deadline(), None);
        assert_eq!(s.due(7, false, t0 + ms(400)), vec![]);
        // control/t handled the stop: the deadline is armed all the same.
        s.stop(7, true, t0);
        assert_eq!(s.deadline(), Some(t0 + ms(300)));
        // ./run exited in time: nothing pending.
        assert_eq!(s.ended(7, false), Ended::Gone(vec![]));
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn finish_timeout_kills_finish_only() {
        let set = Settings {
            timeout_finish: Some(ms(50)),
            ..Settings::default()
        };
        let mut s = with(set, false);
        let t0 = Instant::now();
        s.start_finish(t0);
        assert_eq!(s.deadline(), Some(t0 + ms(50)));
        assert_eq!(s.due(9, false, t0 + ms(60)), vec![], "not ./run's deadline");
        assert_eq!(
            s.due(9, true, t0 + ms(60)),
            vec![sig(9, false, Signal::KILL)]
        );
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn group_stop_reaches_the_group_and_kills_what_is_left() {
        let set = Settings {
            grouping: Some(Grouping::Group),
            timeout_kill: Some(ms(10)),
            ..Settings::default()
        };
        let mut s = with(set, false);
        let t0 = Instant::now();
        assert_eq!(s.stop(7, false, t0), vec![sig(7, true, Signal::TERM)]);
        assert_eq!(s.signal(7, Signal::CONT), vec![sig(7, true, Signal::CONT)]);
        // Other signals are for the main process, as runit's.
        assert_eq!(s.signal(7, Signal::HUP), vec![sig(7, false, Signal::HUP)]);
        assert_eq!(
            s.due(7, false, t0 + ms(10)),
            vec![sig(7, true, Signal::KILL)]
        );
        assert_eq!(
            s.ended(7, false),
            Ended::Gone(vec![sig(7, true, Signal::KILL)])
        );
    }

    #[test]
    fn cgroup_kills_through_cgroup_kill_and_drains() {
        let set = Settings {
            cgroup: Some(String::new()),
            timeout_kill: Some(ms(10)),
            timeout_finish: Some(ms(20)),
            ..Settings::default()
        };
        let mut s = with(set.clone(), true);
        let t0 = Instant::now();
        assert_eq!(s.stop(7, false, t0), vec![sig(7, false, Signal::TERM)]);
        assert_eq!(s.due(7, false, t0 + ms(10)), vec![Deed::CgroupKill]);
        assert_eq!(s.signal(7, Signal::KILL), vec![Deed::CgroupKill]);
        assert_eq!(s.ended(7, true), Ended::Drain(vec![Deed::CgroupKill]));
        assert_eq!(s.ended(7, false), Ended::Gone(vec![]));
        s.start_finish(t0);
        assert_eq!(s.due(8, true, t0 + ms(20)), vec![Deed::CgroupKill]);
        // Placement failed (no cgroup2): as without the setting.
        let mut s = with(set, false);
        assert_eq!(s.ended(7, true), Ended::Gone(vec![]));
        assert_eq!(s.kill(7), vec![sig(7, false, Signal::KILL)]);
    }

    #[test]
    fn a_new_run_drops_old_deadlines() {
        let set = Settings {
            timeout_kill: Some(ms(10)),
            ..Settings::default()
        };
        let mut s = with(set.clone(), false);
        s.stop(7, false, Instant::now());
        s.start_run(set, false);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn settings_pairs_name_the_files() {
        let set = Settings {
            down_signal: Some(Signal::QUIT),
            timeout_kill: Some(ms(300)),
            timeout_finish: Some(ms(5000)),
            grouping: Some(Grouping::Session),
            cgroup: Some("/runit".into()),
        };
        assert!(set.any());
        assert!(!Settings::default().any());
        let p: Vec<String> = set
            .pairs()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(
            p,
            [
                "down-signal=QUIT",
                "timeout-kill=300",
                "timeout-finish=5000",
                "stop-group=session",
                "cgroup=/runit"
            ]
        );
    }

    #[test]
    fn reading_settings_from_a_directory() {
        let t = tempfile::tempdir().unwrap();
        let base = format!("{}/", t.path().display());
        let msg = Messages::new("test");
        assert_eq!(Settings::read(&base, &msg), Settings::default());
        std::fs::write(t.path().join(DOWN_SIGNAL), "SIGQUIT\n").unwrap();
        std::fs::write(t.path().join(TIMEOUT_KILL), "300\n").unwrap();
        std::fs::write(t.path().join(TIMEOUT_FINISH), "soon\n").unwrap();
        std::fs::write(t.path().join(STOP_GROUP), "").unwrap();
        std::fs::create_dir(t.path().join(CGROUP)).unwrap();
        let s = Settings::read(&base, &msg);
        assert_eq!(
            s,
            Settings {
                down_signal: Some(Signal::QUIT),
                timeout_kill: Some(ms(300)),
                timeout_finish: None,
                grouping: Some(Grouping::Group),
                cgroup: None,
            }
        );
    }
}
