//! The `supervise/status` record runsv writes on every change, and the
//! human-readable `supervise/stat` and `supervise/pid` files beside it.
//!
//! runit's record is 20 bytes:
//!
//! | bytes | field |
//! |---|---|
//! | 0..12 | TAI64N of the last change (start of ./run, or when it went down) |
//! | 12..16 | pid of ./run or ./finish, little-endian, 0 when none |
//! | 16 | 1 when paused |
//! | 17 | `u` when the service is wanted up, else `d` (also for "exit" and "once") |
//! | 18 | 1 when runsv sent TERM and the process has not exited yet |
//! | 19 | 0 down, 1 run, 2 finish |
//!
//! daemontools' supervise writes the first 18 bytes only (and a want byte of
//! 0 after `svc -o`); [`Status::decode`] reads both.
//!
//! [`write_files`] is runsv's side: it replaces the three files by rename.

use rustix::fs::{open, rename, Mode, OFlags};
use rustix::io::Errno;

use crate::fdio::write_all;
use crate::svdir::SuperviseFiles;
use crate::tai64::Tai64n;

/// Size of runit's status record.
pub const RUNIT_STATUS_LEN: usize = 20;
/// Size of daemontools' status record.
pub const DAEMONTOOLS_STATUS_LEN: usize = 18;

/// What the supervised process is doing (byte 19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Down = 0,
    Run = 1,
    Finish = 2,
}

/// What the supervisor has been told to aim for. Only runsv knows `Exit`;
/// on disk it is written as `d`, but the `stat` text says "want exit".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Up,
    Down,
    Exit,
}

/// A decoded status record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Time of the last change.
    pub stamp: Tai64n,
    /// Pid of ./run or ./finish; 0 when neither runs.
    pub pid: u32,
    /// The process was sent STOP by `p` (and not CONT since).
    pub paused: bool,
    /// The want byte as stored: `b'u'`, `b'd'`, or (daemontools after
    /// `svc -o`) 0.
    pub want: u8,
    /// runsv sent TERM and the process has not exited yet.
    pub got_term: bool,
    /// Run state; daemontools' record has none, so it is derived from the pid.
    pub state: RunState,
}

/// Why a status file could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Neither 20 nor 18 bytes.
    BadLength(usize),
    /// Byte 19 outside 0..=2.
    BadState(u8),
}

impl Status {
    /// The record runsv writes for the given supervisor state.
    pub fn new(
        stamp: Tai64n,
        pid: u32,
        paused: bool,
        want: Want,
        got_term: bool,
        state: RunState,
    ) -> Status {
        Status {
            stamp,
            pid,
            paused,
            want: if want == Want::Up { b'u' } else { b'd' },
            got_term,
            state,
        }
    }

    /// Packs runit's 20-byte record.
    pub fn encode(&self) -> [u8; RUNIT_STATUS_LEN] {
        let mut b = [0u8; RUNIT_STATUS_LEN];
        b[..12].copy_from_slice(&self.stamp.to_bytes());
        b[12..16].copy_from_slice(&self.pid.to_le_bytes());
        b[16] = self.paused as u8;
        b[17] = self.want;
        b[18] = self.got_term as u8;
        b[19] = self.state as u8;
        b
    }

    /// Decodes runit's 20-byte or daemontools' 18-byte record.
    pub fn decode(b: &[u8]) -> Result<Status, FormatError> {
        if b.len() != RUNIT_STATUS_LEN && b.len() != DAEMONTOOLS_STATUS_LEN {
            return Err(FormatError::BadLength(b.len()));
        }
        let mut stamp = [0u8; 12];
        stamp.copy_from_slice(&b[..12]);
        let pid = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
        let (got_term, state) = if b.len() == RUNIT_STATUS_LEN {
            let state = match b[19] {
                0 => RunState::Down,
                1 => RunState::Run,
                2 => RunState::Finish,
                other => return Err(FormatError::BadState(other)),
            };
            (b[18] != 0, state)
        } else if pid != 0 {
            (false, RunState::Run)
        } else {
            (false, RunState::Down)
        };
        Ok(Status {
            stamp: Tai64n::from_bytes(&stamp),
            pid,
            paused: b[16] != 0,
            want: b[17],
            got_term,
            state,
        })
    }

    /// Wanted up (`u`).
    pub fn wants_up(&self) -> bool {
        self.want == b'u'
    }

    /// Wanted down (`d`, which also covers "exit" and "once").
    pub fn wants_down(&self) -> bool {
        self.want == b'd'
    }
}

/// The text of `supervise/stat`: "run", "down" or "finish", then
/// ", paused", ", got TERM", and (unless down) ", want down" or
/// ", want exit"; one line.
pub fn stat_text(state: RunState, paused: bool, got_term: bool, want: Want) -> String {
    let mut s = String::with_capacity(40);
    s.push_str(match state {
        RunState::Down => "down",
        RunState::Run => "run",
        RunState::Finish => "finish",
    });
    if paused {
        s.push_str(", paused");
    }
    if got_term {
        s.push_str(", got TERM");
    }
    if state != RunState::Down {
        match want {
            Want::Down => s.push_str(", want down"),
            Want::Exit => s.push_str(", want exit"),
            Want::Up => {}
        }
    }
    s.push('\n');
    s
}

/// The text of `supervise/pid`: the pid and a newline, or nothing at all
/// when no process runs.
pub fn pid_text(pid: u32) -> String {
    if pid == 0 {
        String::new()
    } else {
        format!("{pid}\n")
    }
}

/// What runsv records about one service: the fields of all three files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub stamp: Tai64n,
    pub pid: u32,
    pub paused: bool,
    pub want: Want,
    pub got_term: bool,
    pub state: RunState,
}

impl Record {
    /// The 20-byte `status` record.
    pub fn status(&self) -> Status {
        Status::new(
            self.stamp,
            self.pid,
            self.paused,
            self.want,
            self.got_term,
            self.state,
        )
    }

    /// The `stat` line.
    pub fn stat_text(&self) -> String {
        stat_text(self.state, self.paused, self.got_term, self.want)
    }
}

/// The step of replacing a file that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteStep {
    /// Creating `tmp` (runit: "unable to open TMP").
    Open,
    /// Writing `tmp`; it has been removed again ("unable to write TMP").
    Write,
    /// Renaming `tmp` over `path` ("unable to rename NAME.new to PATH",
    /// with the bare name of `tmp`).
    Rename,
}

/// A failure to replace one of the status files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteError {
    pub step: WriteStep,
    /// The `.new` file written first.
    pub tmp: &'static str,
    /// The file it replaces.
    pub path: &'static str,
    pub errno: Errno,
}

/// Replaces `pid` (only when `pid_changed`), `stat` and `status` of
/// `files` with what `rec` says. Each is written to its `.new` file (mode
/// 0644 less the umask, never blocking on a FIFO put in its place) and
/// renamed over the old one, so a reader never sees half a file.
///
/// Every failure goes to `failed`, and runit's order of giving up is kept:
/// when the pid file cannot be replaced nothing else is written and false
/// is returned, so the caller tries the pid file again next time; when
/// `stat.new` cannot be created, `status` is not written either.
pub fn write_files(
    files: &SuperviseFiles,
    rec: &Record,
    pid_changed: bool,
    mut failed: impl FnMut(WriteError),
) -> bool {
    if pid_changed {
        if let Err(e) = replace(files.pid_new, files.pid, pid_text(rec.pid).as_bytes()) {
            failed(e);
            return false;
        }
    }
    if let Err(e) = replace(files.stat_new, files.stat, rec.stat_text().as_bytes()) {
        failed(e);
        if e.step == WriteStep::Open {
            return true;
        }
    }
    if let Err(e) = replace(files.status_new, files.status, &rec.status().encode()) {
        failed(e);
    }
    true
}

/// Writes `data` to `tmp` and renames it to `path` (runsv's other files
/// in supervise/ are replaced the same way).
pub fn replace(tmp: &'static str, path: &'static str, data: &[u8]) -> Result<(), WriteError> {
    let err = |step, errno| WriteError {
        step,
        tmp,
        path,
        errno,
    };
    let fd = open(
        tmp,
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|e| err(WriteStep::Open, e))?;
    if let Err(e) = write_all(&fd, data) {
        drop(fd);
        let _ = rustix::fs::unlink(tmp);
        return Err(err(WriteStep::Write, e));
    }
    drop(fd);
    rename(tmp, path).map_err(|e| err(WriteStep::Rename, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Records written by the reference runsv (runit 2.1.2, Debian), with
    /// the matching `stat` text, captured on this machine.
    const GOLDEN: &[(&str, &str, Want)] = &[
        (
            "400000006b0141ce07921e34b407000000750001",
            "run\n",
            Want::Up,
        ),
        (
            "400000006b0141ce07921e34b407000001750001",
            "run, paused\n",
            Want::Up,
        ),
        (
            "400000006b0141cf32e0603c0000000000640000",
            "down\n",
            Want::Down,
        ),
        (
            "400000006b0141d015a94bb4cd07000000640001",
            "run, want down\n",
            Want::Down,
        ),
        (
            "400000006b012baa1f45e9ac4340000000640101",
            "run, got TERM, want down\n",
            Want::Down,
        ),
        (
            "400000006b0141ce07921e34c207000000640002",
            "finish, want down\n",
            Want::Down,
        ),
    ];

    #[test]
    fn golden_records_round_trip() {
        for (h, stat, want) in GOLDEN {
            let bytes = hex(h);
            let st = Status::decode(&bytes).unwrap();
            assert_eq!(st.encode().to_vec(), bytes, "{h}");
            assert_eq!(stat_text(st.state, st.paused, st.got_term, *want), *stat);
            let again = Status::new(st.stamp, st.pid, st.paused, *want, st.got_term, st.state);
            assert_eq!(again.encode().to_vec(), bytes, "{h}");
        }
    }

    #[test]
    fn golden_fields() {
        let run = Status::decode(&hex(GOLDEN[0].0)).unwrap();
        assert_eq!(run.pid, 1972);
        assert_eq!(run.state, RunState::Run);
        assert!(run.wants_up() && !run.paused && !run.got_term);
        assert_eq!(run.stamp.unix_secs(), 0x6b0141ce - 10);
        let paused = Status::decode(&hex(GOLDEN[1].0)).unwrap();
        assert!(paused.paused);
        let down = Status::decode(&hex(GOLDEN[2].0)).unwrap();
        assert_eq!((down.pid, down.state), (0, RunState::Down));
        assert!(down.wants_down());
        let term = Status::decode(&hex(GOLDEN[4].0)).unwrap();
        assert!(term.got_term);
        assert_eq!(term.pid, 0x4043);
        let fin = Status::decode(&hex(GOLDEN[5].0)).unwrap();
        assert_eq!(fin.state, RunState::Finish);
    }

    #[test]
    fn want_exit_is_stored_as_d() {
        let st = Status::new(
            Tai64n::default(),
            0,
            false,
            Want::Exit,
            false,
            RunState::Run,
        );
        assert_eq!(st.encode()[17], b'd');
        assert_eq!(
            stat_text(RunState::Run, false, false, Want::Exit),
            "run, want exit\n"
        );
        assert_eq!(
            stat_text(RunState::Down, false, false, Want::Exit),
            "down\n"
        );
    }

    #[test]
    fn daemontools_records() {
        // supervise's 18 bytes: up, then after svc -o (want byte 0), paused.
        let mut up = hex("400000006b0141ce07921e34b4070000");
        up.extend_from_slice(&[0, b'u']);
        let st = Status::decode(&up).unwrap();
        assert_eq!((st.state, st.pid), (RunState::Run, 1972));
        let mut once = up.clone();
        once[17] = 0;
        let st = Status::decode(&once).unwrap();
        assert!(!st.wants_up() && !st.wants_down());
        let mut down = up.clone();
        down[12..16].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(Status::decode(&down).unwrap().state, RunState::Down);
    }

    #[test]
    fn bad_records() {
        assert_eq!(Status::decode(&[0; 19]), Err(FormatError::BadLength(19)));
        assert_eq!(Status::decode(&[]), Err(FormatError::BadLength(0)));
        let mut b = [0u8; 20];
        b[19] = 7;
        assert_eq!(Status::decode(&b), Err(FormatError::BadState(7)));
    }

    #[test]
    fn pid_file_text() {
        assert_eq!(pid_text(0), "");
        assert_eq!(pid_text(1972), "1972\n");
    }

    /// `SuperviseFiles` under a temporary directory (runsv's own are
    /// relative to the service directory it works in).
    fn files_in(dir: &std::path::Path) -> SuperviseFiles {
        let p = |n: &str| -> &'static str {
            Box::leak(dir.join(n).to_string_lossy().into_owned().into_boxed_str())
        };
        SuperviseFiles {
            dir: p(""),
            control: p("control"),
            ok: p("ok"),
            lock: p("lock"),
            status: p("status"),
            status_new: p("status.new"),
            stat: p("stat"),
            stat_new: p("stat.new"),
            pid: p("pid"),
            pid_new: p("pid.new"),
        }
    }

    const REC: Record = Record {
        stamp: Tai64n {
            secs: 0x4000_0000_6b01_41ce,
            nanos: 0x0792_1e34,
        },
        pid: 1972,
        paused: false,
        want: Want::Up,
        got_term: false,
        state: RunState::Run,
    };

    #[test]
    fn files_are_written_by_rename() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let f = files_in(t.path());
        let mut errors = Vec::new();
        assert!(write_files(&f, &REC, true, |e| errors.push(e)));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(std::fs::read(f.status).unwrap(), hex(GOLDEN[0].0));
        assert_eq!(std::fs::read_to_string(f.stat).unwrap(), "run\n");
        assert_eq!(std::fs::read_to_string(f.pid).unwrap(), "1972\n");
        for p in [f.status_new, f.stat_new, f.pid_new] {
            assert!(!std::path::Path::new(p).exists(), "{p}");
        }
        let mode = std::fs::metadata(f.status).unwrap().permissions().mode();
        assert_eq!(mode & 0o7133, 0, "at most 0644: {mode:o}");
        // The pid file is rewritten only when the pid changed.
        let down = Record {
            pid: 0,
            state: RunState::Down,
            ..REC
        };
        assert!(write_files(&f, &down, false, |e| errors.push(e)));
        assert_eq!(std::fs::read_to_string(f.pid).unwrap(), "1972\n");
        assert_eq!(std::fs::read_to_string(f.stat).unwrap(), "down\n");
        assert!(write_files(&f, &down, true, |e| errors.push(e)));
        assert_eq!(std::fs::read_to_string(f.pid).unwrap(), "");
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn failures_name_their_step_and_never_block() {
        use rustix::fs::{mkfifoat, CWD};
        let t = tempfile::tempdir().unwrap();
        let f = files_in(t.path());
        // A FIFO nobody reads where status.new goes: no wait, ENXIO.
        mkfifoat(CWD, f.status_new, Mode::from_raw_mode(0o600)).unwrap();
        // A directory where stat is: the rename fails.
        std::fs::create_dir(f.stat).unwrap();
        let mut errors = Vec::new();
        assert!(write_files(&f, &REC, true, |e| errors.push(e)));
        assert_eq!(
            errors,
            vec![
                WriteError {
                    step: WriteStep::Rename,
                    tmp: f.stat_new,
                    path: f.stat,
                    errno: Errno::ISDIR
                },
                WriteError {
                    step: WriteStep::Open,
                    tmp: f.status_new,
                    path: f.status,
                    errno: Errno::NXIO
                },
            ]
        );
        // stat.new that cannot be created stops before status.
        std::fs::remove_dir(f.stat).unwrap();
        std::fs::remove_file(f.stat_new).unwrap();
        std::fs::create_dir(f.stat_new).unwrap();
        std::fs::remove_file(f.status_new).unwrap();
        errors.clear();
        assert!(write_files(&f, &REC, false, |e| errors.push(e)));
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].step, errors[0].tmp),
            (WriteStep::Open, f.stat_new)
        );
        assert!(!std::path::Path::new(f.status).exists());
        // A pid file that cannot be written stops the rest.
        std::fs::create_dir(f.pid_new).unwrap();
        errors.clear();
        assert!(!write_files(&f, &REC, true, |e| errors.push(e)));
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].step, errors[0].errno),
            (WriteStep::Open, Errno::ISDIR)
        );
    }
}
