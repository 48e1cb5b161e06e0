//! Setting files in the service directory (`max-death-tally`,
//! `restart-limit`, ...), read at each start of ./run as s6-supervise reads
//! its own: without blocking, regular files only, bounded. A file that
//! cannot be used is a warning in runsv's words and the setting is left
//! out; the service starts anyway.

use std::sync::{Mutex, MutexGuard};

use rustix::fs::{lstat, stat, FileType, Stat};
use rustix::io::Errno;
use supervise_proto::svdir::{read_setting, SettingError};

use crate::msg::Messages;

/// Setting files known to be absent, per directory (the service's and
/// log/): each start of ./run asks for a dozen, mostly absent, which costs
/// a path lookup each. A name added to or removed from a directory
/// changes its ctime, so while the directory's stamp stays what it was
/// when a name was missing, the name is still missing. Present files are
/// read every time (a changed content does not show in the directory).
struct Absent {
    /// The directory's stamp at the last [`refresh`], when trustworthy.
    stamp: Option<DirStamp>,
    names: Vec<String>,
}

/// What changes when a directory gains or loses a name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct DirStamp {
    dev: u64,
    ino: u64,
    ctime: (i64, i64),
    mtime: (i64, i64),
}

/// A change within this long of a look at the directory may carry the
/// same coarse timestamp as the one seen (the kernel stamps files with a
/// clock that moves in ticks of a few milliseconds): then the stamp
/// proves nothing and nothing is cached.
const SETTLED_NS: i128 = 100_000_000;

impl Absent {
    const NONE: Absent = Absent {
        stamp: None,
        names: Vec::new(),
    };
}

/// Index 0: the service directory, 1: log/. A static rather than a
/// thread-local (runsv has one thread): with musl, thread-locals beyond
/// libc's small built-in block are mapped before main without a check,
/// which a tight RLIMIT_AS turns into a crash (the multicall binary
/// carries every program's).
static ABSENT: Mutex<[Absent; 2]> = Mutex::new([Absent::NONE, Absent::NONE]);

fn absent() -> MutexGuard<'static, [Absent; 2]> {
    ABSENT.lock().unwrap_or_else(|e| e.into_inner())
}

fn slot(path: &str) -> usize {
    usize::from(path.starts_with("log/"))
}

fn stamp_of(st: &Stat) -> DirStamp {
    DirStamp {
        dev: st.st_dev,
        ino: st.st_ino,
        ctime: (st.st_ctime, st.st_ctime_nsec as i64),
        mtime: (st.st_mtime, st.st_mtime_nsec as i64),
    }
}

/// Whether `stamp` is old enough, at wall time `now` (seconds, nanos),
/// for a later change to get a different one.
fn settled(stamp: &DirStamp, now: (i64, i64)) -> bool {
    let ns = |(s, n): (i64, i64)| i128::from(s) * 1_000_000_000 + i128::from(n);
    let newest = ns(stamp.ctime).max(ns(stamp.mtime));
    ns(now) - newest >= SETTLED_NS
}

/// Before the settings of a start are read: looks at the directory
/// (`prefix` "" or "log/") and forgets what was absent if it changed.
pub fn refresh(prefix: &str) {
    let dir = if prefix.is_empty() { "." } else { "log" };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or((0, 0), |d| {
            (d.as_secs() as i64, i64::from(d.subsec_nanos()))
        });
    let stamp = stat(dir)
        .ok()
        .map(|st| stamp_of(&st))
        .filter(|s| settled(s, now));
    let a = &mut absent()[slot(prefix)];
    if a.stamp != stamp || stamp.is_none() {
        a.names.clear();
    }
    a.stamp = stamp;
}

/// Whether setting file `path` was absent under the directory's current
/// stamp (so need not be looked up again).
pub fn known_absent(path: &str) -> bool {
    let a = &absent()[slot(path)];
    a.stamp.is_some() && a.names.iter().any(|n| n == path)
}

/// Setting file `path` was not found. It is remembered only when there
/// is no name at all (a dangling symlink's target may appear without the
/// directory changing).
pub fn saw_absent(path: &str) {
    let trusted = absent()[slot(path)].stamp.is_some();
    if !trusted || known_absent(path) || !matches!(lstat(path), Err(Errno::NOENT)) {
        return;
    }
    absent()[slot(path)].names.push(path.to_string());
}

/// The contents of setting file `name` (a path relative to the service
/// directory), `None` when it is absent or unusable (after a warning).
pub fn read(name: &str, max: usize, msg: &Messages) -> Option<Vec<u8>> {
    if known_absent(name) {
        return None;
    }
    match read_setting(name, max) {
        Ok(Some(b)) => Some(b),
        Ok(None) => {
            saw_absent(name);
            None
        }
        Err(SettingError::Io(e)) => {
            msg.warn(&format!("unable to read {name}"), e);
            None
        }
        Err(SettingError::NotRegular) => {
            not_regular(name, msg);
            None
        }
        Err(SettingError::TooLarge) => {
            msg.warnx(&format!("{name}: longer than {max} bytes, ignored"));
            None
        }
    }
}

/// Whether flag file `name` is present: its contents do not matter, but
/// it must be a regular file (anything else is a warning and no flag).
pub fn flag(name: &str, msg: &Messages) -> bool {
    if known_absent(name) {
        return false;
    }
    match stat(name) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile => true,
        Ok(_) => {
            not_regular(name, msg);
            false
        }
        Err(Errno::NOENT) => {
            saw_absent(name);
            false
        }
        Err(e) => {
            msg.warn(&format!("unable to stat {name}"), e);
            false
        }
    }
}

/// The warning for a value that does not parse: `NAME: not WHAT, ignored`.
pub fn bad_value(name: &str, what: &str, msg: &Messages) {
    msg.warnx(&format!("{name}: not {what}, ignored"));
}

fn not_regular(name: &str, msg: &Messages) {
    msg.warnx(&format!("{name}: not a regular file, ignored"));
}

/// `name` for the service (`prefix` "") or its log (`prefix` "log/").
pub fn path(prefix: &str, name: &str) -> String {
    format!("{prefix}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(ctime: (i64, i64), mtime: (i64, i64)) -> DirStamp {
        DirStamp {
            dev: 1,
            ino: 2,
            ctime,
            mtime,
        }
    }

    #[test]
    fn a_stamp_is_trusted_only_once_settled() {
        let s = stamp((100, 950_000_000), (100, 900_000_000));
        assert!(!settled(&s, (101, 0)), "50 ms after the change");
        assert!(!settled(&s, (101, 49_999_999)));
        assert!(settled(&s, (101, 50_000_000)), "100 ms after");
        assert!(settled(&s, (200, 0)));
        // A clock set back before the change: not trusted.
        assert!(!settled(&s, (90, 0)));
        // The newer of the two counts.
        assert!(!settled(&stamp((10, 0), (100, 950_000_000)), (101, 0)));
    }
}
