//! Resource limits, soft only, as runit sets them.
//!
//! Each value is kept as runit keeps it, a C `long`: -2 means "leave
//! alone", -1 (softlimit's `=`) means "raise to the hard limit", anything
//! else is the wanted soft limit, clamped to the hard limit. Values are
//! unsigned decimals that wrap like runit's scanner, so a huge number may
//! land on one of the special values; that is runit's behaviour too.

use std::io;

use crate::die::Die;
use crate::ids::scan_ulong;

pub const UNSET: i64 = -2;
pub const TO_HARD: i64 = -1;

/// A limit value, or None when it is not a plain unsigned decimal.
pub fn parse(arg: &[u8]) -> Option<i64> {
    let (v, n) = scan_ulong(arg);
    (n == arg.len()).then_some(v as i64)
}

/// The limits to set; [`UNSET`] for those left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub data: i64,
    pub stack: i64,
    pub memlock: i64,
    pub address_space: i64,
    pub files: i64,
    pub processes: i64,
    pub file_size: i64,
    pub core: i64,
    pub rss: i64,
    pub cpu: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            data: UNSET,
            stack: UNSET,
            memlock: UNSET,
            address_space: UNSET,
            files: UNSET,
            processes: UNSET,
            file_size: UNSET,
            core: UNSET,
            rss: UNSET,
            cpu: UNSET,
        }
    }
}

impl Limits {
    /// `-m`: data, stack, locked memory and address space together.
    pub fn set_memory(&mut self, v: i64) {
        self.data = v;
        self.stack = v;
        self.memlock = v;
        self.address_space = v;
    }

    /// Applies every limit that was given, in runit's order.
    pub fn apply(&self) -> Result<(), Die> {
        let order = [
            (libc::RLIMIT_DATA, self.data),
            (libc::RLIMIT_STACK, self.stack),
            (libc::RLIMIT_MEMLOCK, self.memlock),
            (libc::RLIMIT_AS, self.address_space),
            (libc::RLIMIT_NOFILE, self.files),
            (libc::RLIMIT_NPROC, self.processes),
            (libc::RLIMIT_FSIZE, self.file_size),
            (libc::RLIMIT_CORE, self.core),
            (libc::RLIMIT_RSS, self.rss),
            (libc::RLIMIT_CPU, self.cpu),
        ];
        for (resource, value) in order {
            if value >= TO_HARD {
                set_soft(resource, value)?;
            }
        }
        Ok(())
    }
}

/// The soft limit runit sets for `value` under hard limit `hard`.
pub fn soft_for(value: i64, hard: u64) -> u64 {
    if value < 0 || value as u64 > hard {
        hard
    } else {
        value as u64
    }
}

fn set_soft(resource: libc::__rlimit_resource_t, value: i64) -> Result<(), Die> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: an out-pointer to a local rlimit.
    if unsafe { libc::getrlimit(resource, &mut r) } == -1 {
        return Err(Die::sys(
            "unable to getrlimit()",
            &io::Error::last_os_error(),
        ));
    }
    r.rlim_cur = soft_for(value, r.rlim_max);
    // SAFETY: a pointer to a local rlimit.
    if unsafe { libc::setrlimit(resource, &r) } == -1 {
        return Err(Die::sys(
            "unable to setrlimit()",
            &io::Error::last_os_error(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_wraps_like_runit() {
        assert_eq!(parse(b"100"), Some(100));
        assert_eq!(parse(b""), Some(0));
        assert_eq!(parse(b"x"), None);
        assert_eq!(parse(b"10k"), None);
        assert_eq!(parse(b"18446744073709551615"), Some(-1));
        assert_eq!(parse(b"18446744073709551614"), Some(-2));
        assert_eq!(parse(b"18446744073709551617"), Some(1));
    }

    #[test]
    fn clamping() {
        assert_eq!(soft_for(5, 10), 5);
        assert_eq!(soft_for(50, 10), 10);
        assert_eq!(soft_for(-1, 10), 10);
        assert_eq!(soft_for(i64::MAX, u64::MAX), i64::MAX as u64);
    }
}
