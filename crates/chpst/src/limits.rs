//! Resource limits, soft only, as runit sets them.
//!
//! Each value is kept as runit keeps it, a C `long`: -2 means "leave
//! alone", -1 (softlimit's `=`) means "raise to the hard limit", anything
//! else is the wanted soft limit, clamped to the hard limit. Values are
//! unsigned decimals that wrap like runit's scanner, so a huge number may
//! land on one of the special values; that is runit's behaviour too.

use rustix::process::{getrlimit, setrlimit, Resource};

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
            (Resource::Data, self.data),
            (Resource::Stack, self.stack),
            (Resource::Memlock, self.memlock),
            (Resource::As, self.address_space),
            (Resource::Nofile, self.files),
            (Resource::Nproc, self.processes),
            (Resource::Fsize, self.file_size),
            (Resource::Core, self.core),
            (Resource::Rss, self.rss),
            (Resource::Cpu, self.cpu),
        ];
        for (resource, value) in order {
            if value >= TO_HARD {
                set_soft(resource, value)?;
            }
        }
        Ok(())
    }
}

/// The soft limit runit sets for `value` under hard limit `hard`
/// (RLIM_INFINITY is u64::MAX).
pub fn soft_for(value: i64, hard: u64) -> u64 {
    if value < 0 || value as u64 > hard {
        hard
    } else {
        value as u64
    }
}

fn set_soft(resource: Resource, value: i64) -> Result<(), Die> {
    // getrlimit cannot fail for a valid resource; rustix says so by
    // returning no error. None is RLIM_INFINITY.
    let mut r = getrlimit(resource);
    let hard = r.maximum.unwrap_or(u64::MAX);
    let soft = soft_for(value, hard);
    r.current = (soft != u64::MAX).then_some(soft);
    setrlimit(resource, r).map_err(|e| Die::sys("unable to setrlimit()", &e.into()))
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
