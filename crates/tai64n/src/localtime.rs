//! tai64nlocal: `@`-stamps at line starts become local time.
//!
//! daemontools' rules, kept exactly: a stamp is `@` followed by any number
//! of lowercase hex digits, ending at the first other byte (which is kept:
//! `@...94mark` becomes `... .787492500mark`). The digits form one number;
//! its low 32 bits are the nanoseconds (printed with at least 9 digits),
//! the bits above them the TAI64 seconds, from which `2^62 + 10` is taken
//! to get Unix time. Lines not starting with `@` pass unchanged.
//!
//! Where daemontools crashes (a stamp so far from now that the C library
//! cannot convert it: `@`, `@4000 short`, uppercase digits) the line is
//! passed on unchanged instead. Where daemontools drops a stamp cut short
//! by end of input, it is converted and written.

use crate::filter::Transform;

/// `2^62 + 10`, the TAI64 label of the Unix epoch.
const EPOCH_LABEL: i64 = 4_611_686_018_427_387_914;

/// Broken-down local time, as far as the output needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// Converts Unix time to local time; `None` when the C library cannot.
pub trait Zone {
    fn local(&mut self, unix: i64) -> Option<LocalTime>;
}

/// The process's time zone (`TZ`, else /etc/localtime), via localtime_r.
pub struct SystemZone;

impl SystemZone {
    pub fn new() -> SystemZone {
        extern "C" {
            fn tzset();
        }
        // SAFETY: tzset only reads TZ and the zone files into the C
        // library's zone state; the process has one thread.
        unsafe { tzset() };
        SystemZone
    }
}

impl Default for SystemZone {
    fn default() -> Self {
        Self::new()
    }
}

impl Zone for SystemZone {
    fn local(&mut self, unix: i64) -> Option<LocalTime> {
        // time_t is 64 bits on every target this suite supports (its
        // name is deprecated on musl, so the cast infers it).
        let t = unix as _;
        // SAFETY: `tm` is plain data that localtime_r fills; it reads only
        // `t` and the zone state tzset loaded.
        let tm = unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            if libc::localtime_r(&t, &mut tm).is_null() {
                return None;
            }
            tm
        };
        Some(LocalTime {
            year: 1900 + tm.tm_year as i64,
            month: (tm.tm_mon + 1) as u32,
            day: tm.tm_mday as u32,
            hour: tm.tm_hour as u32,
            minute: tm.tm_min as u32,
            second: tm.tm_sec as u32,
        })
    }
}

enum State {
    /// The next byte starts a line.
    LineStart,
    /// Inside a line: copy up to and including the newline.
    InLine,
    /// Reading a stamp's digits.
    Stamp { secs: i64, nanos: u64 },
}

/// The converter; `raw` holds the stamp's text while it is being read, in
/// case it cannot be converted.
pub struct Localizer<Z: Zone> {
    zone: Z,
    state: State,
    raw: Vec<u8>,
}

impl<Z: Zone> Localizer<Z> {
    pub fn new(zone: Z) -> Self {
        Localizer {
            zone,
            state: State::LineStart,
            raw: Vec::new(),
        }
    }

    fn end_stamp(&mut self, secs: i64, nanos: u64, out: &mut Vec<u8>) {
        let unix = secs.wrapping_sub(EPOCH_LABEL);
        match self.zone.local(unix) {
            Some(t) => write_local(out, &t, nanos),
            None => out.extend_from_slice(&self.raw),
        }
        self.raw.clear();
    }
}

fn hex_digit(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u64),
        b'a'..=b'f' => Some((b - b'a' + 10) as u64),
        _ => None,
    }
}

/// `YYYY-MM-DD HH:MM:SS.nnnnnnnnn`; the year as daemontools prints it
/// (an unsigned conversion, so years before 0 come out huge).
pub fn write_local(out: &mut Vec<u8>, t: &LocalTime, nanos: u64) {
    let s = format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}.{:09}",
        t.year as u64, t.month, t.day, t.hour, t.minute, t.second, nanos
    );
    out.extend_from_slice(s.as_bytes());
}

impl<Z: Zone> Transform for Localizer<Z> {
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::LineStart => {
                    if input[i] == b'@' {
                        self.raw.push(b'@');
                        self.state = State::Stamp { secs: 0, nanos: 0 };
                        i += 1;
                    } else {
                        self.state = State::InLine;
                    }
                }
                State::InLine => {
                    let rest = &input[i..];
                    match rest.iter().position(|&b| b == b'\n') {
                        Some(p) => {
                            out.extend_from_slice(&rest[..=p]);
                            i += p + 1;
                            self.state = State::LineStart;
                        }
                        None => {
                            out.extend_from_slice(rest);
                            i = input.len();
                        }
                    }
                }
                State::Stamp { secs, nanos } => {
                    let b = input[i];
                    match hex_digit(b) {
                        // The digits shift through one 96-bit-wide number,
                        // of which secs keeps the top 64 bits (wrapping)
                        // and nanos the low 32, as daemontools computes.
                        Some(u) => {
                            self.raw.push(b);
                            self.state = State::Stamp {
                                secs: secs.wrapping_shl(4).wrapping_add((nanos >> 28) as i64),
                                nanos: ((nanos & 0xfff_ffff) << 4) + u,
                            };
                            i += 1;
                        }
                        None => {
                            self.end_stamp(secs, nanos, out);
                            self.state = State::InLine;
                        }
                    }
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if let State::Stamp { secs, nanos } = self.state {
            self.end_stamp(secs, nanos, out);
        }
        self.state = State::LineStart;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// UTC, computed here, failing outside years 0..=9999 like a C
    /// library that cannot represent the year.
    struct Utc;

    impl Zone for Utc {
        fn local(&mut self, unix: i64) -> Option<LocalTime> {
            let days = unix.div_euclid(86400);
            let secs = unix.rem_euclid(86400) as u32;
            let (year, month, day) = supervise_proto::tai64::civil_from_days(days);
            if !(0..=9999).contains(&year) {
                return None;
            }
            Some(LocalTime {
                year,
                month,
                day,
                hour: secs / 3600,
                minute: secs / 60 % 60,
                second: secs % 60,
            })
        }
    }

    fn conv(chunks: &[&[u8]]) -> String {
        let mut l = Localizer::new(Utc);
        let mut out = Vec::new();
        for c in chunks {
            l.feed(c, &mut out);
        }
        l.finish(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn man_page_example_in_utc() {
        assert_eq!(
            conv(&[b"@4000000037c219bf2ef02e94 mark\n"]),
            "1999-08-24 04:04:05.787492500 mark\n"
        );
    }

    #[test]
    fn split_anywhere_gives_the_same() {
        let input: &[u8] = b"x\n@4000000037c219bf2ef02e94 mark\nplain @400000000000000a00000000\n";
        let whole = conv(&[input]);
        for cut in 0..input.len() {
            assert_eq!(conv(&[&input[..cut], &input[cut..]]), whole, "cut {cut}");
        }
    }

    #[test]
    fn daemontools_digit_rules() {
        // The terminating byte is kept, whatever it is.
        assert_eq!(
            conv(&[b"@4000000037c219bf2ef02e94mark\n"]),
            "1999-08-24 04:04:05.787492500mark\n"
        );
        // Nanoseconds are the low 32 bits, at least 9 digits.
        assert_eq!(
            conv(&[b"@400000000000000affffffff x\n"]),
            "1970-01-01 00:00:00.4294967295 x\n"
        );
        // Extra leading digits shift out of the seconds.
        assert_eq!(
            conv(&[b"@00400000000000000a00000001\r\n"]),
            "1970-01-01 00:00:00.000000001\r\n"
        );
        assert_eq!(
            conv(&[b"\n@400000000000000a00000000\n"]),
            "\n1970-01-01 00:00:00.000000000\n"
        );
    }

    #[test]
    fn unconvertible_stamps_pass_unchanged() {
        assert_eq!(conv(&[b"@\n"]), "@\n");
        assert_eq!(conv(&[b"@4000 short\n"]), "@4000 short\n");
        assert_eq!(conv(&[b"@4000000037C219BF up\n"]), "@4000000037C219BF up\n");
    }

    #[test]
    fn stamp_cut_by_end_of_input_is_kept() {
        assert_eq!(
            conv(&[b"a\n@400000000000000a00000000"]),
            "a\n1970-01-01 00:00:00.000000000"
        );
        assert_eq!(conv(&[b"abc"]), "abc");
        assert_eq!(conv(&[b"@"]), "@");
    }
}
