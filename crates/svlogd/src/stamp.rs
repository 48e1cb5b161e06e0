//! The timestamps svlogd puts in front of lines (-t, -tt, -ttt). Every
//! form is 26 bytes including the trailing space:
//!
//! * `-t`:   `@` + TAI64N label in 24 lowercase hex digits, e.g.
//!   `@400000006b0142f03b522a34 `
//! * `-tt`:  UTC `2026-11-21_07:06:14.98968 ` (five fraction digits)
//! * `-ttt`: UTC `2026-11-21T07:06:14.98968 `
//!
//! runit reads the clock with microsecond resolution, so the TAI64N
//! nanoseconds are `micros * 1000 + 500` and the five human digits are
//! the microseconds divided by ten. The date and time of day only change
//! once a second, so that part is formatted once per second and reused.

use supervise_proto::tai64::civil_from_days;
use supervise_proto::Tai64n;

/// Length of every stamp, trailing space included.
pub const STAMP_LEN: usize = 26;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    None,
    Tai64n,
    Human,
    Iso8601,
}

impl Kind {
    /// From the number of `-t` options given (more than three count as three).
    pub fn from_count(n: u32) -> Kind {
        match n {
            0 => Kind::None,
            1 => Kind::Tai64n,
            2 => Kind::Human,
            _ => Kind::Iso8601,
        }
    }
}

/// A wall-clock reading: seconds since the Unix epoch and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Clock {
    pub secs: u64,
    pub micros: u32,
}

impl Clock {
    pub fn now() -> Clock {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
        Clock {
            secs: u64::try_from(t.tv_sec).unwrap_or(0),
            micros: (t.tv_nsec / 1000) as u32,
        }
    }

    /// The TAI64N label runit would give this moment.
    pub fn tai64n(&self) -> Tai64n {
        Tai64n::from_unix(self.secs, self.micros * 1000 + 500)
    }
}

/// Formats stamps, caching the part that only changes once a second.
pub struct Stamper {
    kind: Kind,
    cached_secs: Option<u64>,
    buf: [u8; STAMP_LEN],
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Stamper {
    pub fn new(kind: Kind) -> Stamper {
        Stamper {
            kind,
            cached_secs: None,
            buf: [b' '; STAMP_LEN],
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The stamp for `t` (empty when no -t was given).
    pub fn stamp(&mut self, t: Clock) -> &[u8] {
        match self.kind {
            Kind::None => return &[],
            Kind::Tai64n => {
                if self.cached_secs != Some(t.secs) {
                    self.buf[0] = b'@';
                    let s = t.tai64n().secs;
                    for i in 0..16 {
                        self.buf[1 + i] = HEX[((s >> (60 - 4 * i)) & 15) as usize];
                    }
                    self.cached_secs = Some(t.secs);
                }
                let n = t.micros * 1000 + 500;
                for i in 0..8 {
                    self.buf[17 + i] = HEX[((n >> (28 - 4 * i)) & 15) as usize];
                }
            }
            Kind::Human | Kind::Iso8601 => {
                if self.cached_secs != Some(t.secs) {
                    let sep = if self.kind == Kind::Human { b'_' } else { b'T' };
                    format_civil(t.secs, sep, &mut self.buf);
                    self.cached_secs = Some(t.secs);
                }
                let mut f = t.micros / 10;
                for i in (20..25).rev() {
                    self.buf[i] = b'0' + (f % 10) as u8;
                    f /= 10;
                }
            }
        }
        self.buf[25] = b' ';
        &self.buf
    }
}

/// Writes `YYYY-MM-DD?HH:MM:SS.` (20 bytes) for Unix time `secs`, UTC.
fn format_civil(secs: u64, sep: u8, out: &mut [u8; STAMP_LEN]) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let two = |out: &mut [u8; STAMP_LEN], at: usize, v: u64| {
        out[at] = b'0' + (v / 10 % 10) as u8;
        out[at + 1] = b'0' + (v % 10) as u8;
    };
    let y = y.max(0) as u64;
    out[0] = b'0' + (y / 1000 % 10) as u8;
    out[1] = b'0' + (y / 100 % 10) as u8;
    two(out, 2, y % 100);
    out[4] = b'-';
    two(out, 5, m as u64);
    out[7] = b'-';
    two(out, 8, d as u64);
    out[10] = sep;
    two(out, 11, rem / 3600);
    out[13] = b':';
    two(out, 14, rem / 60 % 60);
    out[16] = b':';
    two(out, 17, rem % 60);
    out[19] = b'.';
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(kind: Kind, secs: u64, micros: u32) -> String {
        let mut st = Stamper::new(kind);
        String::from_utf8(st.stamp(Clock { secs, micros }).to_vec()).unwrap()
    }

    #[test]
    fn formats_match_reference_captures() {
        // Captured from the reference svlogd: unix 1795244774 was
        // 2026-11-21 07:06:14 UTC.
        assert_eq!(
            s(Kind::Human, 1_795_244_774, 989_689),
            "2026-11-21_07:06:14.98968 "
        );
        assert_eq!(
            s(Kind::Iso8601, 1_795_244_774, 989_689),
            "2026-11-21T07:06:14.98968 "
        );
        // The TAI64N label: seconds + 2^62 + 10, nanoseconds ending in 500.
        assert_eq!(
            s(Kind::Tai64n, 1_795_244_774, 995_240),
            "@400000006b0142f03b522a34 "
        );
        assert_eq!(s(Kind::None, 1, 2), "");
    }

    #[test]
    fn all_stamps_are_26_bytes() {
        for k in [Kind::Tai64n, Kind::Human, Kind::Iso8601] {
            assert_eq!(s(k, 0, 0).len(), STAMP_LEN);
            assert_eq!(s(k, 4_102_444_800, 999_999).len(), STAMP_LEN);
        }
        assert_eq!(s(Kind::Human, 0, 0), "1970-01-01_00:00:00.00000 ");
        assert_eq!(
            s(Kind::Human, 951_782_400, 123_456),
            "2000-02-29_00:00:00.12345 "
        );
        assert_eq!(
            s(Kind::Human, 4_102_444_799, 999_999),
            "2099-12-31_23:59:59.99999 "
        );
    }

    #[test]
    fn cache_follows_the_second() {
        let mut st = Stamper::new(Kind::Human);
        let a = String::from_utf8(
            st.stamp(Clock {
                secs: 59,
                micros: 10,
            })
            .to_vec(),
        )
        .unwrap();
        let b = String::from_utf8(
            st.stamp(Clock {
                secs: 60,
                micros: 20,
            })
            .to_vec(),
        )
        .unwrap();
        let c = String::from_utf8(
            st.stamp(Clock {
                secs: 60,
                micros: 30,
            })
            .to_vec(),
        )
        .unwrap();
        assert_eq!(a, "1970-01-01_00:00:59.00001 ");
        assert_eq!(b, "1970-01-01_00:01:00.00002 ");
        assert_eq!(c, "1970-01-01_00:01:00.00003 ");
        let mut t = Stamper::new(Kind::Tai64n);
        let x = String::from_utf8(t.stamp(Clock { secs: 1, micros: 1 }).to_vec()).unwrap();
        let y = String::from_utf8(t.stamp(Clock { secs: 2, micros: 1 }).to_vec()).unwrap();
        assert_eq!(x, "@400000000000000b000005dc ");
        assert_eq!(y, "@400000000000000c000005dc ");
    }

    #[test]
    fn civil_dates_against_a_day_by_day_walk() {
        // Walk day by day from 1970 and compare with a simple calendar.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for day in 0..80_000i64 {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            let dim = match m {
                2 if leap(y) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > dim {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
