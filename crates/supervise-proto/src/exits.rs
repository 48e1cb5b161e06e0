//! `supervise/exits`: how each recent run of ./run ended.
//!
//! The one addition to supervise/ that every service gets (nobody opts in
//! before the crash they need to understand). runit's readers never open
//! it. runsv replaces it by rename once per death of ./run and never
//! otherwise, so a crash loop costs one small write per death and an idle
//! service none.
//!
//! Layout, all integers big-endian like TAI64N:
//!
//! ```text
//! header (16 bytes): "RSVX" | version 1 (u8) | record size 32 (u8) | 0 0 | total deaths (u64)
//! record (32 bytes): ended TAI64N (12) | started TAI64N (12) | wait status (i32) | flags (u8) | 0 0 0
//! ```
//!
//! Records are oldest first; runsv keeps the newest `max-death-tally`
//! (s6's file and meaning: default 100, at most 4096). The total counts
//! every death since this runsv started, including dropped records.

use crate::tai64::Tai64n;

pub const MAIN_EXITS: &str = "supervise/exits";
pub const MAIN_EXITS_NEW: &str = "supervise/exits.new";
pub const LOG_EXITS: &str = "log/supervise/exits";
pub const LOG_EXITS_NEW: &str = "log/supervise/exits.new";

pub const MAGIC: &[u8; 4] = b"RSVX";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 16;
pub const RECORD_LEN: usize = 32;
/// s6's default and ceiling for `max-death-tally`.
pub const DEFAULT_TALLY: usize = 100;
pub const MAX_TALLY: usize = 4096;

/// Set in [`ExitRecord::flags`] when the ./run process exited before it
/// ever became ready, for a service with readiness notification.
pub const FLAG_NEVER_READY: u8 = 1;
/// Set when ./finish exited 125 after this death ("do not restart").
pub const FLAG_FINISH_125: u8 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitRecord {
    pub ended: Tai64n,
    pub started: Tai64n,
    /// The raw wait status, as waitpid(2) gives it.
    pub wstatus: i32,
    pub flags: u8,
}

/// How a process ended, decoded from its wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Exited(u8),
    Signaled(u8),
}

impl ExitRecord {
    pub fn ending(&self) -> Ending {
        let w = self.wstatus;
        if w & 0x7f == 0 {
            Ending::Exited(((w >> 8) & 0xff) as u8)
        } else {
            Ending::Signaled((w & 0x7f) as u8)
        }
    }

    /// Seconds it ran (0 when the stamps are out of order).
    pub fn ran_secs(&self) -> f64 {
        // Subtract in integers first: the 2^62 offset leaves f64 no
        // precision for nanoseconds.
        let secs = self.ended.secs as i128 - self.started.secs as i128;
        let nanos = self.ended.nanos as i128 - self.started.nanos as i128;
        ((secs * 1_000_000_000 + nanos) as f64 / 1e9).max(0.0)
    }

    /// A short phrase: `exit 3` or `signal 9`.
    pub fn describe(&self) -> String {
        match self.ending() {
            Ending::Exited(c) => format!("exit {c}"),
            Ending::Signaled(s) => format!("signal {s}"),
        }
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ended.to_bytes());
        out.extend_from_slice(&self.started.to_bytes());
        out.extend_from_slice(&self.wstatus.to_be_bytes());
        out.extend_from_slice(&[self.flags, 0, 0, 0]);
    }

    fn decode(b: &[u8]) -> ExitRecord {
        let stamp = |s: &[u8]| {
            let mut a = [0u8; 12];
            a.copy_from_slice(s);
            Tai64n::from_bytes(&a)
        };
        let mut w = [0u8; 4];
        w.copy_from_slice(&b[24..28]);
        ExitRecord {
            ended: stamp(&b[..12]),
            started: stamp(&b[12..24]),
            wstatus: i32::from_be_bytes(w),
            flags: b[28],
        }
    }
}

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExitLog {
    /// Deaths since runsv started (may exceed `records.len()`).
    pub total: u64,
    /// Oldest first.
    pub records: Vec<ExitRecord>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadExitLog;

impl ExitLog {
    /// Appends a death, dropping the oldest records beyond `keep`.
    pub fn push(&mut self, r: ExitRecord, keep: usize) {
        // A decoded file may say anything, u64::MAX too.
        self.total = self.total.saturating_add(1);
        self.records.push(r);
        let keep = keep.clamp(1, MAX_TALLY);
        if self.records.len() > keep {
            let drop = self.records.len() - keep;
            self.records.drain(..drop);
        }
    }

    pub fn last(&self) -> Option<&ExitRecord> {
        self.records.last()
    }

    /// Deaths whose end lies within `secs` seconds before `now`.
    pub fn deaths_within(&self, now: Tai64n, secs: u64) -> usize {
        let from = now.secs.saturating_sub(secs);
        self.records.iter().filter(|r| r.ended.secs >= from).count()
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + RECORD_LEN * self.records.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[VERSION, RECORD_LEN as u8, 0, 0]);
        out.extend_from_slice(&self.total.to_be_bytes());
        for r in &self.records {
            r.encode_into(&mut out);
        }
        out
    }

    /// Parses the file. A header that is not ours, or a length that is not
    /// a whole number of records, is refused rather than half-read.
    pub fn decode(b: &[u8]) -> Result<ExitLog, BadExitLog> {
        if b.len() < HEADER_LEN
            || &b[..4] != MAGIC
            || b[4] != VERSION
            || b[5] as usize != RECORD_LEN
            || !(b.len() - HEADER_LEN).is_multiple_of(RECORD_LEN)
            || (b.len() - HEADER_LEN) / RECORD_LEN > MAX_TALLY
        {
            return Err(BadExitLog);
        }
        let mut t = [0u8; 8];
        t.copy_from_slice(&b[8..16]);
        let records = b[HEADER_LEN..]
            .chunks_exact(RECORD_LEN)
            .map(ExitRecord::decode)
            .collect();
        Ok(ExitLog {
            total: u64::from_be_bytes(t),
            records,
        })
    }
}

/// Parses a `max-death-tally` file's contents as s6 does: a decimal number,
/// capped at 4096. `None` for anything else (the caller warns and keeps
/// the default).
pub fn parse_tally(text: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(text).ok()?.trim();
    let n: usize = s.parse().ok()?;
    Some(n.min(MAX_TALLY))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(end: u64, w: i32) -> ExitRecord {
        ExitRecord {
            ended: Tai64n::from_unix(end, 500),
            started: Tai64n::from_unix(end - 2, 250),
            wstatus: w,
            flags: 0,
        }
    }

    #[test]
    fn round_trip_and_layout() {
        let mut l = ExitLog::default();
        l.push(rec(10, 3 << 8), 100);
        l.push(rec(20, 9), 100);
        let b = l.encode();
        assert_eq!(b.len(), HEADER_LEN + 2 * RECORD_LEN);
        assert_eq!(&b[..8], b"RSVX\x01\x20\x00\x00");
        assert_eq!(&b[8..16], &2u64.to_be_bytes());
        assert_eq!(ExitLog::decode(&b), Ok(l.clone()));
        assert_eq!(l.records[0].ending(), Ending::Exited(3));
        assert_eq!(l.records[1].ending(), Ending::Signaled(9));
        assert!((l.records[0].ran_secs() - 2.00000025).abs() < 1e-6);
    }

    #[test]
    fn bounded_oldest_dropped_total_kept() {
        let mut l = ExitLog::default();
        for i in 0..10 {
            l.push(rec(100 + i, 0), 3);
        }
        assert_eq!(l.total, 10);
        assert_eq!(l.records.len(), 3);
        assert_eq!(l.records[0].ended.unix_secs(), 107);
        assert_eq!(l.deaths_within(Tai64n::from_unix(109, 0), 1), 2);
    }

    #[test]
    fn refuses_what_is_not_whole() {
        let mut b = ExitLog::default().encode();
        assert!(ExitLog::decode(&b).is_ok());
        b.push(0);
        assert_eq!(ExitLog::decode(&b), Err(BadExitLog));
        assert_eq!(ExitLog::decode(b"RSVX"), Err(BadExitLog));
        assert_eq!(ExitLog::decode(&[0u8; 48]), Err(BadExitLog));
    }

    /// Found by the `exits` fuzz target: a death pushed onto a file whose
    /// total reads u64::MAX overflowed.
    #[test]
    fn total_saturates() {
        let mut b = ExitLog::default().encode();
        b[8..16].copy_from_slice(&u64::MAX.to_be_bytes());
        let mut l = ExitLog::decode(&b).unwrap();
        l.push(rec(10, 0), 5);
        assert_eq!((l.total, l.records.len()), (u64::MAX, 1));
    }

    #[test]
    fn tally_file() {
        assert_eq!(parse_tally(b"5\n"), Some(5));
        assert_eq!(parse_tally(b"99999"), Some(MAX_TALLY));
        assert_eq!(parse_tally(b"x"), None);
        assert_eq!(parse_tally(b"-1"), None);
    }
}
