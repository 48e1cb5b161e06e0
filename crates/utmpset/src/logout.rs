//! Logging a line out: the utmp record is rewritten in place, and with
//! `-w` a logout record is appended to wtmp. Both files are locked with
//! flock(2) while they are changed, as runit does.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::record::{Record, LINE_SIZE, SIZE};

/// Why a logout did not happen; main.rs turns these into runit's texts.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The line name does not fit `ut_line` (upstream 2.3.0's check).
    NameTooLong,
    /// open(2) failed, with errno.
    Open(i32),
    /// flock(2) failed, with errno.
    Lock(i32),
    /// No utmp record for the line with a user in it.
    NoEntry,
    /// The wtmp record could not be written, with errno.
    Write(i32),
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn cpath(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap_or_default()
}

/// A descriptor closed on drop.
struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own the descriptor.
        unsafe { libc::close(self.0) };
    }
}

fn open_locked(path: &Path, flags: i32, mode: libc::c_uint) -> Result<Fd, Failure> {
    let c = cpath(path);
    // SAFETY: valid C string.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    if fd == -1 {
        return Err(Failure::Open(errno()));
    }
    let fd = Fd(fd);
    // SAFETY: valid descriptor.
    if unsafe { libc::flock(fd.0, libc::LOCK_EX) } == -1 {
        return Err(Failure::Lock(errno()));
    }
    Ok(fd)
}

fn now() -> Option<i64> {
    // SAFETY: time(NULL).
    let t = unsafe { libc::time(std::ptr::null_mut()) };
    (t != -1).then_some(t as i64)
}

/// Clears the first utmp record for `line` that names a user.
pub fn utmp_logout(utmp: &Path, line: &[u8]) -> Result<(), Failure> {
    if line.len() > LINE_SIZE {
        return Err(Failure::NameTooLong);
    }
    let fd = open_locked(utmp, libc::O_RDWR, 0)?;
    let mut buf = [0u8; SIZE];
    loop {
        // SAFETY: reads into a buffer of SIZE bytes.
        let n = unsafe { libc::read(fd.0, buf.as_mut_ptr().cast(), SIZE) };
        if n != SIZE as isize {
            return Err(Failure::NoEntry);
        }
        let mut rec = Record::from_bytes(&buf);
        if !rec.has_user() || rec.line() != line {
            continue;
        }
        let Some(t) = now() else {
            return Err(Failure::NoEntry);
        };
        rec.log_out(t);
        let bytes = rec.to_bytes();
        // SAFETY: plain descriptor calls on a buffer of SIZE bytes.
        let ok = unsafe {
            libc::lseek(fd.0, -(SIZE as libc::off_t), libc::SEEK_CUR) != -1
                && libc::write(fd.0, bytes.as_ptr().cast(), SIZE) == SIZE as isize
        };
        // runit reports any failure here as "no such entry".
        return if ok { Ok(()) } else { Err(Failure::NoEntry) };
    }
}

/// Appends a DEAD_PROCESS record for `line` to wtmp (created 0600 if
/// missing); a partial write is cut off again.
pub fn wtmp_logout(wtmp: &Path, line: &[u8]) -> Result<(), Failure> {
    let fd = open_locked(
        wtmp,
        libc::O_WRONLY | libc::O_NONBLOCK | libc::O_APPEND | libc::O_CREAT,
        0o600,
    )?;
    // SAFETY: plain data, valid descriptor.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(fd.0, &mut st) } == -1 {
        return Err(Failure::Write(errno()));
    }
    let mut rec = Record::zeroed();
    rec.set_line(line);
    let Some(t) = now() else {
        return Err(Failure::Write(errno()));
    };
    rec.set_dead(t);
    let bytes = rec.to_bytes();
    // SAFETY: writes SIZE bytes from a live buffer.
    if unsafe { libc::write(fd.0, bytes.as_ptr().cast(), SIZE) } != SIZE as isize {
        let e = errno();
        unsafe { libc::ftruncate(fd.0, st.st_size) };
        return Err(Failure::Write(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_rec(line: &[u8], user: u8, pid: i32) -> [u8; SIZE] {
        let mut r = Record::zeroed();
        r.set_line(line);
        r.inner_mut().ut_type = libc::USER_PROCESS;
        r.inner_mut().ut_pid = pid;
        r.inner_mut().ut_user[0] = user as libc::c_char;
        r.inner_mut().ut_host[0] = b'h' as libc::c_char;
        r.to_bytes()
    }

    #[test]
    fn clears_first_matching_user_record() {
        let d = tempfile::tempdir().unwrap();
        let u = d.path().join("utmp");
        let mut data = Vec::new();
        data.extend_from_slice(&user_rec(b"tty1", 0, 1)); // no user: skipped
        data.extend_from_slice(&user_rec(b"tty11", b'x', 2)); // other line
        data.extend_from_slice(&user_rec(b"tty1", b'a', 3));
        data.extend_from_slice(&user_rec(b"tty1", b'b', 4));
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
            Err(Failure::Open(libc::ENOENT))
        );
        assert_eq!(
            utmp_logout(d.path(), b"x"),
            Err(Failure::Open(libc::EISDIR))
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
