//! One utmp/wtmp record, as the C library lays it out on this platform
//! (384 bytes on x86_64 glibc). utmpset edits the files directly, record by
//! record, as runit's does, rather than through getutent(3): that keeps the
//! file locking and the exact bytes written under our control.

pub const DEAD_PROCESS: i16 = libc::DEAD_PROCESS;

/// Size of one record in the files.
pub const SIZE: usize = std::mem::size_of::<libc::utmpx>();

/// Length of the `ut_line` field: the longest line name that fits.
pub const LINE_SIZE: usize = std::mem::size_of::<[libc::c_char; libc::__UT_LINESIZE]>();

/// A record held as the C structure (plain data: every byte pattern is a
/// valid value).
#[derive(Clone)]
pub struct Record(libc::utmpx);

fn field_str(f: &[libc::c_char]) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and alignment.
    let b: &[u8] = unsafe { std::slice::from_raw_parts(f.as_ptr().cast(), f.len()) };
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    &b[..end]
}

impl Record {
    /// An all-zero record.
    pub fn zeroed() -> Record {
        // SAFETY: plain data.
        Record(unsafe { std::mem::zeroed() })
    }

    pub fn from_bytes(b: &[u8; SIZE]) -> Record {
        // SAFETY: `b` holds SIZE bytes; utmpx is plain data.
        Record(unsafe { std::ptr::read_unaligned(b.as_ptr().cast()) })
    }

    pub fn to_bytes(&self) -> [u8; SIZE] {
        let mut out = [0u8; SIZE];
        // SAFETY: writes exactly SIZE bytes into `out`.
        unsafe { std::ptr::write_unaligned(out.as_mut_ptr().cast(), self.0) };
        out
    }

    /// The line name, up to its first NUL.
    pub fn line(&self) -> &[u8] {
        field_str(&self.0.ut_line)
    }

    /// Whether a user is recorded (the first byte of the name is set).
    pub fn has_user(&self) -> bool {
        self.0.ut_user[0] != 0
    }

    /// Sets the line name; runit copies at most the field's size.
    pub fn set_line(&mut self, line: &[u8]) {
        for (d, &s) in self.0.ut_line.iter_mut().zip(line.iter()) {
            *d = s as libc::c_char;
        }
    }

    /// The logout runit writes: no user, no host, DEAD_PROCESS, the time
    /// (seconds; the microseconds are left as they were).
    pub fn log_out(&mut self, now: i64) {
        self.0.ut_user = [0; libc::__UT_NAMESIZE];
        self.0.ut_host = [0; libc::__UT_HOSTSIZE];
        self.set_dead(now);
    }

    /// DEAD_PROCESS at `now`.
    pub fn set_dead(&mut self, now: i64) {
        self.0.ut_type = DEAD_PROCESS;
        self.0.ut_tv.tv_sec = now as _;
    }

    #[cfg(test)]
    pub fn kind(&self) -> i16 {
        self.0.ut_type
    }

    #[cfg(test)]
    pub fn seconds(&self) -> i64 {
        self.0.ut_tv.tv_sec as i64
    }

    #[cfg(test)]
    pub fn pid(&self) -> i32 {
        self.0.ut_pid
    }

    #[cfg(test)]
    pub fn host(&self) -> &[u8] {
        field_str(&self.0.ut_host)
    }

    #[cfg(test)]
    pub fn inner_mut(&mut self) -> &mut libc::utmpx {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_arch = "x86_64", target_env = "gnu"))]
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
    fn logout_keeps_pid_and_id() {
        let mut r = Record::zeroed();
        r.inner_mut().ut_type = libc::USER_PROCESS;
        r.inner_mut().ut_pid = 42;
        r.inner_mut().ut_user[0] = b'a' as libc::c_char;
        r.inner_mut().ut_host[0] = b'h' as libc::c_char;
        r.set_line(b"tty1");
        let mut r = Record::from_bytes(&r.to_bytes());
        assert!(r.has_user());
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
