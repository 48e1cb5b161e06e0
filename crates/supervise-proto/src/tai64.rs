//! TAI64N labels: the 12-byte timestamps used in `supervise/status`, in
//! svlogd's `-t` line stamps and in rotated log file names.
//!
//! Like runit (and daemontools) we do not consult a leap-second table: the
//! TAI64 second is simply `2^62 + 10 + unix_seconds`.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2^62 + 10`: the TAI64 label of the Unix epoch as runit computes it.
pub const TAI64_UNIX_OFFSET: u64 = (1 << 62) + 10;

/// A TAI64N label: seconds (with the 2^62 offset applied) and nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tai64n {
    /// The TAI64 second, including the `2^62 + 10` offset.
    pub secs: u64,
    /// Nanoseconds within the second, `0..1_000_000_000`.
    pub nanos: u32,
}

impl Tai64n {
    /// The current time with runit's rounding: microseconds times 1000 plus
    /// 500, so the nanosecond field always ends in ...500 as runit's does.
    pub fn now() -> Tai64n {
        Tai64n::from_system_time(SystemTime::now())
    }

    /// Converts a system time, rounding to microseconds the way runit does.
    pub fn from_system_time(t: SystemTime) -> Tai64n {
        let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs(), d.subsec_micros() * 1000 + 500),
            Err(_) => (0, 500),
        };
        Tai64n {
            secs: TAI64_UNIX_OFFSET + secs,
            nanos,
        }
    }

    /// A label for whole Unix seconds and nanoseconds, without rounding.
    pub fn from_unix(secs: u64, nanos: u32) -> Tai64n {
        Tai64n {
            secs: TAI64_UNIX_OFFSET + secs,
            nanos,
        }
    }

    /// Unix seconds (0 for labels before the epoch).
    pub fn unix_secs(&self) -> u64 {
        self.secs.saturating_sub(TAI64_UNIX_OFFSET)
    }

    /// As a system time: the epoch for labels before it, and for labels
    /// beyond what the system can hold (a status file says what it likes)
    /// the latest second it can.
    pub fn to_system_time(&self) -> SystemTime {
        let d = Duration::new(self.unix_secs(), self.nanos.min(999_999_999));
        UNIX_EPOCH
            .checked_add(d)
            .unwrap_or_else(|| UNIX_EPOCH + Duration::from_secs(i64::MAX as u64))
    }

    /// The 12-byte packed form: big-endian seconds, big-endian nanoseconds.
    pub fn to_bytes(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.secs.to_be_bytes());
        b[8..].copy_from_slice(&self.nanos.to_be_bytes());
        b
    }

    /// Unpacks the 12-byte form.
    pub fn from_bytes(b: &[u8; 12]) -> Tai64n {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&b[8..]);
        Tai64n {
            secs: u64::from_be_bytes(s),
            nanos: u32::from_be_bytes(n),
        }
    }

    /// The 24 lowercase hex digits of the packed form, without the `@`.
    pub fn write_hex(&self, out: &mut [u8; 24]) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for (i, byte) in self.to_bytes().iter().enumerate() {
            out[2 * i] = HEX[(byte >> 4) as usize];
            out[2 * i + 1] = HEX[(byte & 15) as usize];
        }
    }

    /// Parses `@` followed by 24 hex digits (either case). Trailing bytes
    /// are not allowed; use [`Tai64n::parse_prefix`] to read a line stamp.
    pub fn parse(text: &str) -> Option<Tai64n> {
        match Tai64n::parse_prefix(text.as_bytes()) {
            Some((t, 25)) if text.len() == 25 => Some(t),
            _ => None,
        }
    }

    /// Parses a `@`-stamp at the start of `b`; returns the label and the
    /// number of bytes it used (always 25).
    pub fn parse_prefix(b: &[u8]) -> Option<(Tai64n, usize)> {
        if b.len() < 25 || b[0] != b'@' {
            return None;
        }
        let mut packed = [0u8; 12];
        for (i, p) in packed.iter_mut().enumerate() {
            let hi = hex_value(b[1 + 2 * i])?;
            let lo = hex_value(b[2 + 2 * i])?;
            *p = (hi << 4) | lo;
        }
        Some((Tai64n::from_bytes(&packed), 25))
    }
}

/// The proleptic Gregorian date (year, month 1..=12, day 1..=31) of a day
/// count since 1970-01-01, by 400-year eras of 146097 days. svlogd's -tt
/// stamps and tai64nlocal's UTC fallback both need it.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `@` and 24 hex digits, as svlogd -t and tai64n write it.
impl fmt::Display for Tai64n {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut hex = [0u8; 24];
        self.write_hex(&mut hex);
        f.write_str("@")?;
        f.write_str(std::str::from_utf8(&hex).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_778), (2026, 11, 21));
    }

    #[test]
    fn epoch_offset() {
        let t = Tai64n::from_unix(0, 0);
        assert_eq!(t.to_bytes()[..8], [0x40, 0, 0, 0, 0, 0, 0, 0x0a]);
    }

    #[test]
    fn golden_capture_from_reference_runsv() {
        // unix time 1795238807 was captured as 400000006b012ba1 by runit.
        let t = Tai64n::from_unix(1_795_238_807, 76_569_500);
        assert_eq!(
            t.to_bytes(),
            [0x40, 0, 0, 0, 0x6b, 0x01, 0x2b, 0xa1, 0x04, 0x90, 0x5b, 0x9c]
        );
        assert_eq!(t.to_string(), "@400000006b012ba104905b9c");
    }

    #[test]
    fn runit_rounding_ends_in_500() {
        let t = Tai64n::from_system_time(UNIX_EPOCH + Duration::new(5, 123_456_789));
        assert_eq!(t.nanos, 123_456_500);
        assert_eq!(t.unix_secs(), 5);
        assert!(Tai64n::now().nanos % 1000 == 500);
    }

    #[test]
    fn text_round_trip() {
        let t = Tai64n::from_unix(1_700_000_000, 999_999_999);
        let s = t.to_string();
        assert_eq!(s.len(), 25);
        assert_eq!(Tai64n::parse(&s), Some(t));
        assert_eq!(Tai64n::parse(&s.to_uppercase()), Some(t));
        assert_eq!(Tai64n::parse("@4000"), None);
        assert_eq!(Tai64n::parse("x400000006b012ba104905b9c"), None);
        assert_eq!(Tai64n::parse("@400000006b012ba104905b9g"), None);
        assert_eq!(Tai64n::parse("@400000006b012ba104905b9c "), None);
        let (p, n) = Tai64n::parse_prefix(b"@400000006b012ba104905b9c hello").unwrap();
        assert_eq!(n, 25);
        assert_eq!(p.unix_secs(), 1_795_238_807);
    }

    #[test]
    fn bytes_round_trip_and_order() {
        let a = Tai64n::from_unix(10, 5);
        let b = Tai64n::from_unix(10, 6);
        assert!(a < b);
        assert_eq!(Tai64n::from_bytes(&a.to_bytes()), a);
        assert_eq!(a.to_system_time(), UNIX_EPOCH + Duration::new(10, 5));
    }

    /// Found by the `status` fuzz target: a stamp far beyond 2^63
    /// seconds made the conversion panic.
    #[test]
    fn far_future_labels_saturate() {
        let far = Tai64n::from_bytes(&[0xff; 12]);
        let latest = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64);
        assert_eq!(far.to_system_time(), latest);
        assert_eq!(Tai64n::from_bytes(&[0; 12]).to_system_time(), UNIX_EPOCH);
    }
}
