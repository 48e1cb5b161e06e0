//! `supervise/xstatus`: what runsv knows beyond runit's 20-byte record, for
//! services that opted in to something runit does not have (readiness,
//! crash-loop control, stop settings).
//!
//! runit's readers never look at this file, and runsv writes it only for a
//! service with at least one such setting, so nothing changes for anyone
//! else. It is text, one `key=value` per line, replaced by rename like the
//! other status files; readers ignore keys they do not know, so later
//! versions can add keys. Time stamps are TAI64N labels in runit's
//! `@4000…` hex form.
//!
//! The record describes the run that started at `started`: a reader that
//! finds a different start stamp in supervise/status is looking at a
//! record left from an earlier run (runsv rewrites this file at each start
//! only when the previous run left something in it).

use std::path::Path;

use crate::status::{RunState, Status};
use crate::tai64::Tai64n;

/// `supervise/xstatus` of the service and of its log.
pub const MAIN_XSTATUS: &str = "supervise/xstatus";
pub const MAIN_XSTATUS_NEW: &str = "supervise/xstatus.new";
pub const LOG_XSTATUS: &str = "log/supervise/xstatus";
pub const LOG_XSTATUS_NEW: &str = "log/supervise/xstatus.new";

/// A FIFO beside xstatus, made by runsv for a service with xstatus: each
/// time runsv replaces xstatus it opens the FIFO for writing without
/// blocking (ENXIO: nobody waits), writes a byte and closes it. A waiter
/// (sv) holds it open for reading and polls it: new data, or POLLHUP (a
/// writer came and went since the waiter opened it), means "look again".
/// POLLHUP stays set for that open file, so a waiter reopens it before
/// looking again; no change is missed, whoever reads the byte.
pub const MAIN_WAKE: &str = "supervise/wake";
pub const LOG_WAKE: &str = "log/supervise/wake";

/// What a systemd-style service last said about itself besides READY=1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyState {
    Reloading,
    Stopping,
}

impl NotifyState {
    pub fn name(self) -> &'static str {
        match self {
            NotifyState::Reloading => "reloading",
            NotifyState::Stopping => "stopping",
        }
    }

    fn from_name(s: &str) -> Option<NotifyState> {
        match s {
            "reloading" => Some(NotifyState::Reloading),
            "stopping" => Some(NotifyState::Stopping),
            _ => None,
        }
    }
}

/// The extended record. Every field is optional; an absent key is `None`
/// (or `false`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XStatus {
    /// The start of ./run this record belongs to.
    pub started: Option<Tai64n>,
    /// The service uses readiness notification (notification-fd or the
    /// systemd socket), so "up" means ready.
    pub notify: bool,
    /// When the service said it was ready; `None` while not ready.
    pub ready: Option<Tai64n>,
    /// The last `STATUS=` text of a systemd-style service (one line).
    pub notify_status: Option<String>,
    /// `RELOADING=1` / `STOPPING=1` seen and not yet answered by READY=1.
    pub notify_state: Option<NotifyState>,
    /// The process a systemd-style service named with `MAINPID=` (one of
    /// its own).
    pub main_pid: Option<u32>,
    /// runsv gave up restarting (crash-loop limit reached, or ./finish
    /// exited 125): when it did.
    pub failed: Option<Tai64n>,
    /// A delayed restart is pending until then.
    pub restart_at: Option<Tai64n>,
    /// The current restart delay in milliseconds (crash-loop backoff).
    pub restart_delay_ms: Option<u64>,
    /// runsv sends KILL to ./run (or its group) at this time.
    pub kill_at: Option<Tai64n>,
    /// runsv kills ./finish at this time.
    pub finish_kill_at: Option<Tai64n>,
    /// The service's process group, when it runs in its own.
    pub pgid: Option<u32>,
    /// The service's cgroup (path below the cgroup2 mount), when it has one.
    pub cgroup: Option<String>,
    /// The settings in force, as `name=value` pairs in file-name terms
    /// (e.g. `down-signal=QUIT`, `timeout-kill=300`); written as
    /// `setting.NAME=VALUE` lines.
    pub settings: Vec<(String, String)>,
}

fn put_stamp(out: &mut String, key: &str, t: Option<Tai64n>) {
    if let Some(t) = t {
        out.push_str(key);
        out.push('=');
        out.push_str(&t.to_string());
        out.push('\n');
    }
}

fn put_num(out: &mut String, key: &str, n: Option<u64>) {
    if let Some(n) = n {
        out.push_str(&format!("{key}={n}\n"));
    }
}

/// Keeps a value on one line: newlines and other control bytes become
/// spaces, so a service's STATUS= text cannot forge keys.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl XStatus {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut o = String::with_capacity(256);
        put_stamp(&mut o, "started", self.started);
        if self.notify {
            o.push_str("notify=1\n");
        }
        put_stamp(&mut o, "ready", self.ready);
        if let Some(s) = &self.notify_status {
            o.push_str(&format!("notify-status={}\n", one_line(s)));
        }
        if let Some(s) = self.notify_state {
            o.push_str(&format!("notify-state={}\n", s.name()));
        }
        put_num(&mut o, "main-pid", self.main_pid.map(u64::from));
        put_stamp(&mut o, "failed", self.failed);
        put_stamp(&mut o, "restart-at", self.restart_at);
        put_num(&mut o, "restart-delay-ms", self.restart_delay_ms);
        put_stamp(&mut o, "kill-at", self.kill_at);
        put_stamp(&mut o, "finish-kill-at", self.finish_kill_at);
        put_num(&mut o, "pgid", self.pgid.map(u64::from));
        if let Some(c) = &self.cgroup {
            o.push_str(&format!("cgroup={}\n", one_line(c)));
        }
        for (k, v) in &self.settings {
            o.push_str(&format!("setting.{}={}\n", one_line(k), one_line(v)));
        }
        o.into_bytes()
    }

    /// Parses the file; lines it does not understand are skipped, so a
    /// damaged or newer file still yields what can be read.
    pub fn decode(bytes: &[u8]) -> XStatus {
        let mut x = XStatus::default();
        let text = String::from_utf8_lossy(bytes);
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let stamp = || Tai64n::parse(v);
            match k {
                "started" => x.started = stamp(),
                "notify" => x.notify = v == "1",
                "ready" => x.ready = stamp(),
                "notify-status" => x.notify_status = Some(v.to_string()),
                "notify-state" => x.notify_state = NotifyState::from_name(v),
                "main-pid" => x.main_pid = v.parse().ok(),
                "failed" => x.failed = stamp(),
                "restart-at" => x.restart_at = stamp(),
                "restart-delay-ms" => x.restart_delay_ms = v.parse().ok(),
                "kill-at" => x.kill_at = stamp(),
                "finish-kill-at" => x.finish_kill_at = stamp(),
                "pgid" => x.pgid = v.parse().ok(),
                "cgroup" => x.cgroup = Some(v.to_string()),
                _ => {
                    if let Some(name) = k.strip_prefix("setting.") {
                        x.settings.push((name.to_string(), v.to_string()));
                    }
                }
            }
        }
        x
    }

    /// Whether the record belongs to the run that started at `start` (the
    /// stamp of a `run` status record).
    pub fn is_for_run(&self, start: Tai64n) -> bool {
        self.started == Some(start)
    }

    /// Reads `path` (e.g. [`MAIN_XSTATUS`], relative to the service
    /// directory); `None` when it is absent or unreadable, which readers
    /// treat as "no extended record".
    pub fn read(path: &Path) -> Option<XStatus> {
        // Most services have no record. A failed open(2) costs about
        // three times a failed lstat(2) (the kernel sets up a file before
        // the lookup), and `sv status` of 1,000 services spent a tenth of
        // its time on it: look first, open only what is there.
        if matches!(rustix::fs::lstat(path), Err(rustix::io::Errno::NOENT)) {
            return None;
        }
        let bytes = crate::fdio::read_small_file(path, XSTATUS_MAX).ok()??;
        Some(XStatus::decode(&bytes))
    }

    /// Where the running ./run stands on readiness, judged against its
    /// status record: only a ready stamp of this very run counts. A
    /// notifying record of another run is "not ready": runsv writes this
    /// file before the status of a new run and rewrites a notifying record
    /// at every start, so that is a run that started between the two
    /// reads, or one whose record could not be written; waiting is the
    /// safe answer for both.
    pub fn readiness(x: Option<&XStatus>, st: &Status) -> Readiness {
        let Some(x) = x.filter(|x| x.notify) else {
            return Readiness::NotNotifying;
        };
        if st.pid == 0 || st.state != RunState::Run {
            return Readiness::NotNotifying;
        }
        match x.ready {
            Some(t) if x.is_for_run(st.stamp) => Readiness::Ready(t),
            _ => Readiness::NotReady,
        }
    }
}

/// A reader never takes in more than this of the file.
pub const XSTATUS_MAX: usize = 64 * 1024;

/// A running service's readiness, as sv and svstat show and wait for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// The service did not opt in to notification for this run (or is not
    /// running): "up" means what it means in runit.
    NotNotifying,
    /// It opted in and has not said it is ready.
    NotReady,
    /// It said so at this time.
    Ready(Tai64n),
}

impl Readiness {
    /// Whether "up" has been reached as far as readiness goes.
    pub fn counts_as_up(self) -> bool {
        !matches!(self, Readiness::NotReady)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> Tai64n {
        Tai64n::from_unix(s, 500)
    }

    #[test]
    fn round_trip_of_every_field() {
        let x = XStatus {
            started: Some(t(100)),
            notify: true,
            ready: Some(t(102)),
            notify_status: Some("serving".into()),
            notify_state: Some(NotifyState::Reloading),
            main_pid: Some(77),
            failed: Some(t(200)),
            restart_at: Some(t(300)),
            restart_delay_ms: Some(4000),
            kill_at: Some(t(400)),
            finish_kill_at: Some(t(500)),
            pgid: Some(1234),
            cgroup: Some("/runit/web".into()),
            settings: vec![("down-signal".into(), "QUIT".into())],
        };
        assert_eq!(XStatus::decode(&x.encode()), x);
        assert_eq!(
            XStatus::decode(&XStatus::default().encode()),
            XStatus::default()
        );
    }

    #[test]
    fn status_text_cannot_forge_keys() {
        let x = XStatus {
            notify_status: Some("a\nready=@4000000000000000\n".into()),
            ..XStatus::default()
        };
        let d = XStatus::decode(&x.encode());
        assert_eq!(d.ready, None);
        assert!(d.notify_status.unwrap().starts_with("a ready="));
    }

    #[test]
    fn garbage_and_unknown_keys_are_skipped() {
        let d = XStatus::decode(b"\xff\xfe\nnonsense\nfuture-key=1\nready=zz\npgid=7\n");
        assert_eq!(
            d,
            XStatus {
                pgid: Some(7),
                ..XStatus::default()
            }
        );
    }

    #[test]
    fn readiness_of_the_current_run_only() {
        let run = |stamp: Tai64n, pid: u32, state: RunState| Status {
            stamp,
            pid,
            paused: false,
            want: b'u',
            got_term: false,
            state,
        };
        let mut x = XStatus {
            started: Some(t(5)),
            notify: true,
            ..XStatus::default()
        };
        let st = run(t(5), 9, RunState::Run);
        assert_eq!(XStatus::readiness(Some(&x), &st), Readiness::NotReady);
        assert!(!Readiness::NotReady.counts_as_up());
        x.ready = Some(t(7));
        assert_eq!(XStatus::readiness(Some(&x), &st), Readiness::Ready(t(7)));
        // A record of another run (started after the status was read, or
        // not rewritten): not ready.
        for other in [t(4), t(6)] {
            assert_eq!(
                XStatus::readiness(Some(&x), &run(other, 9, RunState::Run)),
                Readiness::NotReady
            );
        }
        // A service not running or in ./finish, or one that does not
        // notify: runit's meaning of up.
        for (x, st) in [
            (Some(&x), run(t(5), 0, RunState::Down)),
            (Some(&x), run(t(5), 9, RunState::Finish)),
            (None, st),
        ] {
            assert_eq!(XStatus::readiness(x, &st), Readiness::NotNotifying);
        }
        x.notify = false;
        assert_eq!(XStatus::readiness(Some(&x), &st), Readiness::NotNotifying);
        assert!(Readiness::NotNotifying.counts_as_up());
    }

    #[test]
    fn reads_a_file_or_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("xstatus");
        assert_eq!(XStatus::read(&p), None);
        std::fs::write(&p, b"notify=1\n").unwrap();
        assert!(XStatus::read(&p).unwrap().notify);
        assert_eq!(XStatus::read(d.path()), None);
        // The lstat before the open only skips what has no name: a
        // symlink is still followed as before, a dangling one is nothing.
        let l = d.path().join("link");
        std::os::unix::fs::symlink(&p, &l).unwrap();
        assert!(XStatus::read(&l).unwrap().notify);
        std::fs::remove_file(&p).unwrap();
        assert_eq!(XStatus::read(&l), None);
    }

    #[test]
    fn belongs_to_its_run_only() {
        let x = XStatus {
            started: Some(t(5)),
            ..XStatus::default()
        };
        assert!(x.is_for_run(t(5)));
        assert!(!x.is_for_run(t(6)));
    }
}
