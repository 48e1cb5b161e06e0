//! Logging a line out: the utmp record is rewritten in place, and with
//! `-w` a logout record is appended to wtmp. Both files are locked with
//! flock(2) while they are changed, as runit does.

use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{flock, fstat, ftruncate, open, seek, FlockOperation, Mode, OFlags, SeekFrom};
use rustix::io::{read, write, Errno};
use rustix::time::{clock_gettime, ClockId};

use crate::record::{Record, LINE_SIZE, SIZE};

/// Why a logout did not happen; main.rs turns these into runit's texts.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The line name does not fit `ut_line` (upstream 2.3.0's check).
    NameTooLong,
    /// open(2) failed.
    Open(Errno),
    /// flock(2) failed.
    Lock(Errno),
    /// No utmp record for the line with a user in it.
    NoEntry,
    /// The wtmp record could not be written.
    Write(Errno),
}

fn open_locked(path: &Path, flags: OFlags, mode: u32) -> Result<OwnedFd, Failure> {
    let fd =
        open(path, flags | OFlags::CLOEXEC, Mode::from_raw_mode(mode)).map_err(Failure::Open)?;
    flock(&fd, FlockOperation::LockExclusive).map_err(Failure::Lock)?;
    Ok(fd)
}

/// time(2): the seconds of the real-time clock.
fn now() -> i64 {
    clock_gettime(ClockId::Realtime).tv_sec
}

/// Clears the first utmp record for `line` that names a user.
pub fn utmp_logout(utmp: &Path, line: &[u8]) -> Result<(), Failure> {
    if line.len() > LINE_SIZE {
        return Err(Failure::NameTooLong);
    }
    let fd = open_locked(utmp, OFlags::RDWR, 0)?;
    let mut buf = [0u8; SIZE];
    loop {
        if read(&fd, &mut buf) != Ok(SIZE) {
            return Err(Failure::NoEntry);
        }
        let mut rec = Record::from_bytes(&buf);
        if !rec.has_user() || rec.line() != line {
            continue;
        }
        rec.log_out(now());
        let ok = seek(&fd, SeekFrom::Current(-(SIZE as i64))).is_ok()
            && write(&fd, &rec.to_bytes()) == Ok(SIZE);
        // runit reports any failure here as "no such entry".
        return if ok { Ok(()) } else { Err(Failure::NoEntry) };
    }
}

/// Appends a DEAD_PROCESS record for `line` to wtmp (created 0600 if
/// missing); a partial write is cut off again.
pub fn wtmp_logout(wtmp: &Path, line: &[u8]) -> Result<(), Failure> {
    let fd = open_locked(
        wtmp,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::APPEND | OFlags::CREATE,
        0o600,
    )?;
    let size = fstat(&fd).map_err(Failure::Write)?.st_size;
    let mut rec = Record::zeroed();
    rec.set_line(line);
    rec.set_dead(now());
    match write(&fd, &rec.to_bytes()) {
        Ok(SIZE) => Ok(()),
        failed => {
            // A short write has no errno of its own: call it EIO.
            let _ = ftruncate(&fd, size as u64);
            Err(Failure::Write(failed.err().unwrap_or(Errno::IO)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_rec(line: &[u8], user: &[u8], pid: i32) -> [u8; SIZE] {
        Record::user_entry(line, user, pid).to_bytes()
    }

    #[test]
    fn clears_first_matching_user_record() {
        let d = tempfile::tempdir().unwrap();
        let u = d.path().join("utmp");
        let mut data = Vec::new();
        data.extend_from_slice(&user_rec(b"tty1", b"", 1)); // no user: skipped
        data.extend_from_slice(&user_rec(b"tty11", b"x", 2)); // other line
        data.extend_from_slice(&user_rec(b"tty1", b"a", 3));
        data.extend_from_slice(&user_rec(b"tty1", b"b", 4));
        std::fs::write(&u, &data).unwrap();
        utmp_logout(&u, b"tty1").unwrap();
        let after = std::fs::read(&u).unwrap();
        assert_eq!(after.len(), data.len());
        assert_eq!(&after[..2 * SIZE], &data[..2 * SIZE]);
        assert_eq!(&after[3 * SIZE..], &data[3 * SIZE..]);
        let r = Record::from_bytes(after[2 * SIZE..3 * SIZE].try_into().unwrap());
        assert!(!r.has_user());
        assert_eq!(r.pid(), 3);
        assert_eq!(r.kind(), crate::record::DEAD_PROCESS);
        // The second one is found next time; then none is left.
        utmp_logout(&u, b"tty1").unwrap();
        assert_eq!(utmp_logout(&u, b"tty1"), Err(Failure::NoEntry));
    }

    #[test]
    fn errors() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            utmp_logout(&d.path().join("none"), b"x"),
            Err(Failure::Open(Errno::NOENT))
        );
        assert_eq!(
            utmp_logout(d.path(), b"x"),
            Err(Failure::Open(Errno::ISDIR))
        );
        let long = vec![b'x'; LINE_SIZE + 1];
        assert_eq!(utmp_logout(d.path(), &long), Err(Failure::NameTooLong));
    }

    #[test]
    fn wtmp_appends_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let w = d.path().join("wtmp");
        wtmp_logout(&w, b"pts/3").unwrap();
        wtmp_logout(&w, b"pts/4").unwrap();
        let m = std::fs::metadata(&w).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        let b = std::fs::read(&w).unwrap();
        assert_eq!(b.len(), 2 * SIZE);
        let r = Record::from_bytes(b[SIZE..].try_into().unwrap());
        assert_eq!(r.line(), b"pts/4");
        assert_eq!(r.pid(), 0);
        assert!(r.seconds() > 0);
    }
}
