//! What the machine-readable forms know about one service: its status
//! record, the extended record (`supervise/xstatus`) and its exit records
//! (`supervise/exits`), read without changing directory.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use supervise_proto::exits::{ExitLog, HEADER_LEN, MAX_TALLY, RECORD_LEN};
use supervise_proto::fdio::read_small_file;
use supervise_proto::svdir::{self, StatusReadError};
use supervise_proto::xstatus::{Readiness, XStatus};
use supervise_proto::{errno_str, RunState, Status, Tai64n};

/// The state a part is in, as the machine forms name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Run,
    Finish,
    Down,
    /// Down, and runsv gave up restarting it (xstatus `failed`).
    Failed,
    /// The directory exists but no runsv answers on supervise/ok.
    Unsupervised,
    /// No such service directory.
    Missing,
    /// The status could not be read (permissions, a damaged file).
    Unknown,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Run,
        State::Finish,
        State::Down,
        State::Failed,
        State::Unsupervised,
        State::Missing,
        State::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Run => "run",
            State::Finish => "finish",
            State::Down => "down",
            State::Failed => "failed",
            State::Unsupervised => "unsupervised",
            State::Missing => "missing",
            State::Unknown => "unknown",
        }
    }

    /// The exit code of `sv -o json|FIELDS status` when this is the worst
    /// state among the services named (documented in sv(8)).
    pub fn exit_code(self) -> i32 {
        match self {
            State::Run => 0,
            State::Finish | State::Down => 3,
            State::Failed => 4,
            State::Unsupervised => 5,
            State::Missing => 6,
            State::Unknown => 7,
        }
    }
}

/// The facts of a part whose status could be read.
#[derive(Clone, Debug)]
pub struct Known {
    pub status: Status,
    /// `None` when the `down` file could not be checked.
    pub normally_up: Option<bool>,
    /// The extended record; empty when the service has none.
    pub x: XStatus,
    /// `None` when there is no (readable) exit record file, e.g. under
    /// runit's own runsv.
    pub exits: Option<ExitLog>,
    pub pgid: Option<u32>,
}

/// The service, or its log service.
#[derive(Clone, Debug)]
pub struct Part {
    pub state: State,
    /// Why the status is not known, in sv's words.
    pub error: Option<String>,
    pub known: Option<Known>,
}

impl Part {
    fn without_status(state: State, error: String) -> Part {
        Part {
            state,
            error: Some(error),
            known: None,
        }
    }
}

impl Known {
    /// ./run runs (not ./finish).
    pub fn running(&self) -> bool {
        self.status.pid != 0 && self.status.state == RunState::Run
    }

    /// Ready: up, and for a service with readiness notification, said so
    /// in this run. Without notification "up" is all runit knows.
    pub fn ready(&self) -> bool {
        self.ready_since().is_some()
    }

    pub fn ready_since(&self) -> Option<Tai64n> {
        match XStatus::readiness(Some(&self.x), &self.status) {
            Readiness::Ready(t) => Some(t),
            Readiness::NotReady => None,
            Readiness::NotNotifying => self.running().then_some(self.status.stamp),
        }
    }

    /// When runsv gave up, while the service stays down.
    pub fn failed_since(&self) -> Option<Tai64n> {
        self.x.failed.filter(|_| self.status.pid == 0)
    }

    /// A delayed restart pending (down, wanted up).
    pub fn restart_at(&self) -> Option<Tai64n> {
        self.x
            .restart_at
            .filter(|_| self.status.pid == 0 && self.status.wants_up())
    }
}

/// The directory sv means by `name`: names without a leading `/` or `.`
/// and without a trailing `/` are looked up in $SVDIR, as runit does.
pub fn service_dir(svdir: &OsStr, name: &OsStr) -> PathBuf {
    let b = name.as_bytes();
    let lookup = !b.is_empty() && b[0] != b'/' && b[0] != b'.' && !b.ends_with(b"/");
    if lookup {
        Path::new(svdir).join(name)
    } else {
        PathBuf::from(name)
    }
}

/// Reads the service in `dir` and its log service (`None` when it has no
/// `log/` directory).
pub fn read_service(dir: &Path) -> (Part, Option<Part>) {
    match rustix::fs::stat(dir) {
        Err(e @ (Errno::NOENT | Errno::NOTDIR)) => return (unenterable(State::Missing, e), None),
        Err(e) => return (unenterable(State::Unknown, e), None),
        Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir() => {}
        Ok(_) => return (unenterable(State::Missing, Errno::NOTDIR), None),
    }
    let main = read_part(dir);
    let log_dir = dir.join(svdir::LOG);
    let log = match rustix::fs::stat(&log_dir) {
        Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode).is_dir() => {
            Some(read_part(&log_dir))
        }
        Ok(_) | Err(Errno::NOENT) => None,
        Err(e) => Some(Part::without_status(
            State::Unknown,
            format!("unable to change directory: {}", errno_str(e)),
        )),
    };
    (main, log)
}

/// The service directory cannot be entered (sv's words for it).
fn unenterable(state: State, e: Errno) -> Part {
    Part::without_status(
        state,
        format!("unable to change to service directory: {}", errno_str(e)),
    )
}

/// One supervised directory: the service's or its log's.
fn read_part(base: &Path) -> Part {
    match svdir::supervisor_running(base) {
        Ok(true) => {}
        Ok(false) => return Part::without_status(State::Unsupervised, "runsv not running".into()),
        // No supervise/ok: runsv never ran here.
        Err(e @ Errno::NOENT) => {
            return Part::without_status(
                State::Unsupervised,
                format!("unable to open supervise/ok: {}", errno_str(e)),
            )
        }
        Err(e) => {
            return Part::without_status(
                State::Unknown,
                format!("unable to open supervise/ok: {}", errno_str(e)),
            )
        }
    }
    let status = match svdir::read_status_bytes(base) {
        Ok(b) => match Status::decode(&b) {
            Ok(s) => s,
            Err(_) => {
                return Part::without_status(
                    State::Unknown,
                    "unable to read supervise/status: bad format".into(),
                )
            }
        },
        Err(StatusReadError::Open(e)) => {
            return Part::without_status(
                State::Unknown,
                format!("unable to open supervise/status: {}", errno_str(e)),
            )
        }
        Err(StatusReadError::Read(e)) => {
            return Part::without_status(
                State::Unknown,
                format!("unable to read supervise/status: {}", errno_str(e)),
            )
        }
    };
    let normally_up = match rustix::fs::stat(base.join(svdir::DOWN)) {
        Ok(_) => Some(false),
        Err(Errno::NOENT) => Some(true),
        Err(_) => None,
    };
    // Absent, unreadable or damaged extra files leave their fields null.
    let small = |rel: &str, limit: usize| read_small_file(&base.join(rel), limit).ok().flatten();
    let x = small(supervise_proto::xstatus::MAIN_XSTATUS, 64 * 1024)
        .map(|b| XStatus::decode(&b))
        .unwrap_or_default();
    let exits = small(
        supervise_proto::exits::MAIN_EXITS,
        HEADER_LEN + MAX_TALLY * RECORD_LEN,
    )
    .and_then(|b| ExitLog::decode(&b).ok());
    let pgid = match x.pgid {
        Some(g) if status.pid != 0 && x.is_for_run(status.stamp) => Some(g),
        _ => process_group(status.pid),
    };
    let known = Known {
        status,
        normally_up,
        x,
        exits,
        pgid,
    };
    // runsv records the finish state a moment before it starts ./finish,
    // with no pid yet (runit's sv prints "down" then): it is finish.
    let state = match (status.pid != 0, status.state) {
        (_, RunState::Finish) => State::Finish,
        (true, _) => State::Run,
        (false, _) if known.failed_since().is_some() => State::Failed,
        (false, _) => State::Down,
    };
    Part {
        state,
        error: None,
        known: Some(known),
    }
}

/// The process group of a running process, from the kernel.
fn process_group(pid: u32) -> Option<u32> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::process::getpgid(Some(pid))
        .ok()
        .map(|g| g.as_raw_nonzero().get() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_rule_is_runits() {
        let sv = OsStr::new("/etc/service");
        assert_eq!(
            service_dir(sv, OsStr::new("a")),
            Path::new("/etc/service/a")
        );
        assert_eq!(
            service_dir(sv, OsStr::new("a/b")),
            Path::new("/etc/service/a/b")
        );
        assert_eq!(service_dir(sv, OsStr::new("./a")), Path::new("./a"));
        assert_eq!(service_dir(sv, OsStr::new("/x/a")), Path::new("/x/a"));
        assert_eq!(service_dir(sv, OsStr::new("a/")), Path::new("a/"));
    }

    #[test]
    fn exit_codes_grow_with_the_trouble() {
        let codes: Vec<i32> = State::ALL.iter().map(|s| s.exit_code()).collect();
        assert_eq!(codes, [0, 3, 3, 4, 5, 6, 7]);
    }
}
