//! One utmp/wtmp record, as the C library lays it out on this platform
//! (384 bytes on x86_64 glibc, 400 with musl). utmpset edits the files
//! directly, record by record, as runit's does, rather than through
//! getutent(3): that keeps the file locking and the exact bytes written
//! under our control.
//!
//! The record is kept as bytes; only the C structure's layout is taken
//! from the libc crate (sizes and offsets, read without touching memory), so
//! the same code serves glibc and musl.

use std::mem::{offset_of, size_of};

#[cfg(not(feature = "glibc-utmp"))]
use libc::utmpx;

/// glibc's x86_64 record, for a musl build (the multicall binary, `make
/// static`) that edits the files of a glibc system: the files are laid out
/// by whatever C library the system's login programs use, not by the one
/// utmpset happens to be linked with.
#[cfg(feature = "glibc-utmp")]
#[allow(non_camel_case_types, dead_code)]
#[repr(C)]
struct utmpx {
    ut_type: i16,
    ut_pid: i32,
    ut_line: [u8; 32],
    ut_id: [u8; 4],
    ut_user: [u8; 32],
    ut_host: [u8; 256],
    ut_exit: [i16; 2],
    ut_session: i32,
    ut_tv: Timeval32,
    ut_addr_v6: [i32; 4],
    unused: [u8; 20],
}

/// glibc keeps ut_tv 32-bit wide in the files on x86_64.
#[cfg(feature = "glibc-utmp")]
#[allow(dead_code)]
#[repr(C)]
struct Timeval32 {
    tv_sec: i32,
    tv_usec: i32,
}

#[cfg(all(feature = "glibc-utmp", not(target_arch = "x86_64")))]
compile_error!("feature glibc-utmp describes x86_64's layout only");

/// `ut_type` of a logged-out entry (the same number in every Linux libc).
pub const DEAD_PROCESS: i16 = 8;
/// `ut_type` of a logged-in user.
#[cfg(test)]
pub const USER_PROCESS: i16 = 7;

/// Size of one record in the files.
pub const SIZE: usize = size_of::<utmpx>();

/// The size of a field, named by a projection that is never called.
const fn size_of_field<F>(_: fn(&utmpx) -> &F) -> usize {
    size_of::<F>()
}

/// Where a field lies in the record.
struct Field {
    at: usize,
    len: usize,
}

impl Field {
    const fn range(&self) -> std::ops::Range<usize> {
        self.at..self.at + self.len
    }
}

const TYPE: Field = Field {
    at: offset_of!(utmpx, ut_type),
    len: size_of_field(|u| &u.ut_type),
};
#[cfg(test)]
const PID: Field = Field {
    at: offset_of!(utmpx, ut_pid),
    len: size_of_field(|u| &u.ut_pid),
};
const LINE: Field = Field {
    at: offset_of!(utmpx, ut_line),
    len: size_of_field(|u| &u.ut_line),
};
const USER: Field = Field {
    at: offset_of!(utmpx, ut_user),
    len: size_of_field(|u| &u.ut_user),
};
const HOST: Field = Field {
    at: offset_of!(utmpx, ut_host),
    len: size_of_field(|u| &u.ut_host),
};
/// The seconds of `ut_tv`: the first member of its timeval, 4 bytes wide
/// in glibc's x86_64 files, 8 with musl.
const SECONDS: Field = Field {
    at: offset_of!(utmpx, ut_tv),
    len: size_of_field(|u| &u.ut_tv.tv_sec),
};

/// Length of the `ut_line` field: the longest line name that fits.
pub const LINE_SIZE: usize = LINE.len;

/// A record as it is stored.
#[derive(Clone)]
pub struct Record([u8; SIZE]);

fn until_nul(b: &[u8]) -> &[u8] {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

impl Record {
    /// An all-zero record.
    pub fn zeroed() -> Record {
        Record([0; SIZE])
    }

    pub fn from_bytes(b: &[u8; SIZE]) -> Record {
        Record(*b)
    }

    pub fn to_bytes(&self) -> [u8; SIZE] {
        self.0
    }

    fn field(&self, f: Field) -> &[u8] {
        &self.0[f.range()]
    }

    fn field_mut(&mut self, f: Field) -> &mut [u8] {
        &mut self.0[f.range()]
    }

    /// The line name, up to its first NUL.
    pub fn line(&self) -> &[u8] {
        until_nul(self.field(LINE))
    }

    /// Whether a user is recorded (the first byte of the name is set).
    pub fn has_user(&self) -> bool {
        self.field(USER)[0] != 0
    }

    /// Sets the line name; runit copies at most the field's size.
    pub fn set_line(&mut self, line: &[u8]) {
        let n = line.len().min(LINE_SIZE);
        self.field_mut(LINE)[..n].copy_from_slice(&line[..n]);
    }

    /// The logout runit writes: no user, no host, DEAD_PROCESS, the time
    /// (seconds; the microseconds are left as they were).
    pub fn log_out(&mut self, now: i64) {
        self.field_mut(USER).fill(0);
        self.field_mut(HOST).fill(0);
        self.set_dead(now);
    }

    /// DEAD_PROCESS at `now`.
    pub fn set_dead(&mut self, now: i64) {
        self.set_kind(DEAD_PROCESS);
        // As C's assignment to a narrower field does: the low bytes.
        let now = now.to_ne_bytes();
        let len = SECONDS.len;
        let low = if cfg!(target_endian = "little") {
            &now[..len]
        } else {
            &now[now.len() - len..]
        };
        self.field_mut(SECONDS).copy_from_slice(low);
    }

    fn set_kind(&mut self, kind: i16) {
        self.field_mut(TYPE).copy_from_slice(&kind.to_ne_bytes());
    }
}

#[cfg(test)]
impl Record {
    pub fn kind(&self) -> i16 {
        i16::from_ne_bytes(self.field(TYPE).try_into().unwrap())
    }

    pub fn seconds(&self) -> i64 {
        match *self.field(SECONDS) {
            [a, b, c, d] => i64::from(i32::from_ne_bytes([a, b, c, d])),
            ref s => i64::from_ne_bytes(s.try_into().unwrap()),
        }
    }

    pub fn pid(&self) -> i32 {
        i32::from_ne_bytes(self.field(PID).try_into().unwrap())
    }

    pub fn host(&self) -> &[u8] {
        until_nul(self.field(HOST))
    }

    /// A logged-in entry for tests: `user` and host "h" (an empty user
    /// leaves the name unset).
    pub fn user_entry(line: &[u8], user: &[u8], pid: i32) -> Record {
        let mut r = Record::zeroed();
        r.set_line(line);
        r.set_kind(USER_PROCESS);
        r.field_mut(PID).copy_from_slice(&pid.to_ne_bytes());
        r.field_mut(USER)[..user.len()].copy_from_slice(user);
        r.field_mut(HOST)[0] = b'h';
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(
        target_arch = "x86_64",
        any(target_env = "gnu", feature = "glibc-utmp")
    ))]
    fn x86_64_glibc_layout() {
        assert_eq!(SIZE, 384);
        assert_eq!(LINE_SIZE, 32);
        let mut r = Record::zeroed();
        r.set_line(b"pts/0");
        r.set_dead(0x6b01_42e8);
        let b = r.to_bytes();
        assert_eq!(&b[0..2], &[8, 0]);
        assert_eq!(&b[8..13], b"pts/0");
        assert_eq!(&b[340..344], &[0xe8, 0x42, 0x01, 0x6b]);
        assert!(b.iter().enumerate().all(|(i, &x)| x == 0
            || (0..2).contains(&i)
            || (8..13).contains(&i)
            || (340..344).contains(&i)));
    }

    #[test]
    #[cfg(all(
        target_arch = "x86_64",
        target_env = "musl",
        not(feature = "glibc-utmp")
    ))]
    fn x86_64_musl_layout() {
        assert_eq!(SIZE, 400);
        assert_eq!(LINE_SIZE, 32);
        assert_eq!((SECONDS.at, SECONDS.len), (344, 8));
    }

    #[test]
    fn logout_keeps_pid_and_id() {
        let r = Record::user_entry(b"tty1", b"a", 42);
        let mut r = Record::from_bytes(&r.to_bytes());
        assert!(r.has_user());
        assert_eq!(r.host(), b"h");
        assert_eq!(r.kind(), USER_PROCESS);
        r.log_out(1000);
        assert!(!r.has_user());
        assert_eq!(r.host(), b"");
        assert_eq!(r.pid(), 42);
        assert_eq!(r.kind(), DEAD_PROCESS);
        assert_eq!(r.seconds(), 1000);
        assert_eq!(r.line(), b"tty1");
    }

    #[test]
    fn full_length_line() {
        let mut r = Record::zeroed();
        let long = vec![b'x'; LINE_SIZE + 5];
        r.set_line(&long);
        assert_eq!(r.line(), &long[..LINE_SIZE]);
    }
}
