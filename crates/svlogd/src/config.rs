//! A log directory's `config` file. Each line's first byte says what it
//! sets, the rest is the value; empty lines, `#` comments and lines with
//! any other first byte are ignored, as runit ignores them. Numbers are
//! read like runit reads them: leading decimal digits, anything else
//! stops the number (no digits means 0), overflow wraps.

use std::net::{Ipv4Addr, SocketAddrV4};

/// What one line selects or deselects, in file order; the last pattern
/// that matches decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// `+pat`: write matching lines to the log.
    Select(Vec<u8>),
    /// `-pat`: do not write matching lines to the log.
    Deselect(Vec<u8>),
    /// `epat`: copy matching lines to standard error.
    ErrSelect(Vec<u8>),
    /// `Epat`: do not copy matching lines to standard error.
    ErrDeselect(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `s`: rotate when current reaches this size; 0 = never by size.
    pub size_max: u64,
    /// `n`: keep at most this many old files; 0 = keep all.
    pub nmax: u64,
    /// `N`: when the disk is full, delete old files down to this many.
    pub nmin: u64,
    /// `t`: rotate a non-empty current every this many seconds; 0 = off.
    pub tmax: u64,
    /// `!`: the processor command line for `sh -c`.
    pub processor: Option<Vec<u8>>,
    /// `u`/`U`: where selected lines are also sent; port 0 = no UDP.
    pub udp_ip: [u8; 4],
    pub udp_port: u16,
    /// `U`: lines go through UDP only, not to the directory.
    pub udp_only: bool,
    /// `p`: prefix for every line written anywhere.
    pub prefix: Vec<u8>,
    pub patterns: Vec<Pattern>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            size_max: 1_000_000,
            nmax: 10,
            nmin: 10,
            tmax: 0,
            processor: None,
            udp_ip: [0; 4],
            udp_port: 0,
            udp_only: false,
            prefix: Vec::new(),
            patterns: Vec::new(),
        }
    }
}

impl Config {
    /// The UDP destination, when one was configured.
    pub fn udp_addr(&self) -> Option<SocketAddrV4> {
        (self.udp_port != 0).then(|| SocketAddrV4::new(Ipv4Addr::from(self.udp_ip), self.udp_port))
    }

    /// Whether any `e`/`E` pattern exists (lines can reach stderr).
    pub fn has_patterns(&self) -> bool {
        !self.patterns.is_empty()
    }
}

pub use supervise_proto::scan::scan_ulong;

/// Up to the first NUL: runit keeps these values as C strings.
fn c_string(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == 0) {
        Some(i) => &s[..i],
        None => s,
    }
}

/// Reads a dotted quad into `ip` octet by octet (as runit does, so a
/// failed scan may leave some octets changed); returns the bytes used or
/// 0 on failure.
fn ip4_scan(s: &[u8], ip: &mut [u8; 4]) -> usize {
    let mut used = 0;
    for (k, octet) in ip.iter_mut().enumerate() {
        if k > 0 {
            if s.get(used) != Some(&b'.') {
                return 0;
            }
            used += 1;
        }
        let (v, n) = scan_ulong(&s[used..]);
        if n == 0 {
            return 0;
        }
        *octet = v as u8;
        used += n;
    }
    used
}

/// Parses a config file's bytes. `warn(what, value)` receives runit's
/// warnings for unusable `u`/`U` lines.
pub fn parse(text: &[u8], mut warn: impl FnMut(&str, &[u8])) -> Config {
    let mut c = Config::default();
    // runit walks the file with `i + 1 < len`: a final one-byte line with
    // no newline is never looked at.
    let mut i = 0;
    while i + 1 < text.len() {
        let len = text[i..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(text.len() - i);
        let line = &text[i..i + len];
        apply_line(&mut c, line, &mut warn);
        i += len + 1;
    }
    c
}

fn apply_line(c: &mut Config, line: &[u8], warn: &mut impl FnMut(&str, &[u8])) {
    let Some(&key) = line.first() else { return };
    let rest = &line[1..];
    match key {
        b'+' | b'-' | b'e' | b'E' => push_patterns(c, line),
        b's' => {
            let (v, n) = scan_ulong(rest);
            c.size_max = match rest.get(n) {
                Some(b'k') => v.wrapping_mul(1024),
                Some(b'm') => v.wrapping_mul(1024 * 1024),
                _ => v,
            };
        }
        b'n' => c.nmax = scan_ulong(rest).0,
        b'N' => c.nmin = scan_ulong(rest).0,
        b't' => {
            let (v, n) = scan_ulong(rest);
            c.tmax = match rest.get(n) {
                Some(b'h') => v.wrapping_mul(3600),
                Some(b'm') => v.wrapping_mul(60),
                _ => v,
            };
        }
        b'!' if !rest.is_empty() => c.processor = Some(c_string(rest).to_vec()),
        b'u' | b'U' => {
            if key == b'U' {
                // runit marks the directory UDP-only before checking the
                // address, so a bad `U` line still keeps lines out of it.
                c.udp_only = true;
            }
            let used = ip4_scan(rest, &mut c.udp_ip);
            if used == 0 {
                warn("unable to scan ip address", c_string(rest));
                return;
            }
            let port = if rest.get(used) == Some(&b':') {
                let p = scan_ulong(&rest[used + 1..]).0;
                if p == 0 {
                    warn("unable to scan port number", c_string(&rest[used + 1..]));
                    return;
                }
                p as u16
            } else {
                514
            };
            c.udp_port = port;
        }
        b'p' if !rest.is_empty() => c.prefix = c_string(rest).to_vec(),
        _ => {}
    }
}

/// A pattern line. runit stores patterns as NUL-terminated strings and
/// walks them NUL to NUL, so a NUL inside a line starts a new
/// instruction whose first byte is its key.
fn push_patterns(c: &mut Config, line: &[u8]) {
    for piece in line.split(|&b| b == 0) {
        let Some(&key) = piece.first() else { continue };
        let pat = piece[1..].to_vec();
        c.patterns.push(match key {
            b'+' => Pattern::Select(pat),
            b'-' => Pattern::Deselect(pat),
            b'e' => Pattern::ErrSelect(pat),
            b'E' => Pattern::ErrDeselect(pat),
            _ => continue,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (Config, Vec<String>) {
        let mut w = Vec::new();
        let c = parse(s.as_bytes(), |what, v| {
            w.push(format!("{what}: {}", String::from_utf8_lossy(v)))
        });
        (c, w)
    }

    #[test]
    fn defaults() {
        let (c, w) = p("");
        assert_eq!(c, Config::default());
        assert_eq!((c.size_max, c.nmax, c.nmin, c.tmax), (1_000_000, 10, 10, 0));
        assert!(w.is_empty());
        assert_eq!(c.udp_addr(), None);
    }

    #[test]
    fn every_line_type() {
        let (c, w) = p("# comment\n\ns4096\nn5\nN2\nt60\n!gzip\nu10.0.0.1:1234\npPFX: \n+a*\n-b*\nec*\nEd*\nxignored\n");
        assert!(w.is_empty());
        assert_eq!(c.size_max, 4096);
        assert_eq!(c.nmax, 5);
        assert_eq!(c.nmin, 2);
        assert_eq!(c.tmax, 60);
        assert_eq!(c.processor.as_deref(), Some(&b"gzip"[..]));
        assert_eq!(c.udp_addr().unwrap().to_string(), "10.0.0.1:1234");
        assert!(!c.udp_only);
        assert_eq!(c.prefix, b"PFX: ");
        assert_eq!(
            c.patterns,
            vec![
                Pattern::Select(b"a*".to_vec()),
                Pattern::Deselect(b"b*".to_vec()),
                Pattern::ErrSelect(b"c*".to_vec()),
                Pattern::ErrDeselect(b"d*".to_vec()),
            ]
        );
    }

    #[test]
    fn suffixes() {
        assert_eq!(p("s2k\n").0.size_max, 2048);
        assert_eq!(p("s3m\n").0.size_max, 3 * 1024 * 1024);
        assert_eq!(p("s3x\n").0.size_max, 3);
        assert_eq!(p("t2m\n").0.tmax, 120);
        assert_eq!(p("t2h\n").0.tmax, 7200);
        assert_eq!(p("t2s\n").0.tmax, 2);
    }

    #[test]
    fn bad_numbers_are_zero_or_wrap() {
        assert_eq!(p("sabc\n").0.size_max, 0);
        assert_eq!(p("n\n").0.nmax, 0);
        assert_eq!(p("nx\n").0.nmax, 0);
        assert_eq!(p("s18446744073709551617\n").0.size_max, 1);
    }

    #[test]
    fn last_line_without_newline() {
        assert_eq!(p("s100").0.size_max, 100);
        assert_eq!(
            p("n5\ns").0.size_max,
            1_000_000,
            "final one-byte line is skipped"
        );
        assert_eq!(p("n5\ns\n").0.size_max, 0);
    }

    #[test]
    fn empty_values_keep_defaults() {
        let (c, _) = p("!\np\n");
        assert_eq!(c.processor, None);
        assert!(c.prefix.is_empty());
        let (c, _) = p("!a\n!b\n");
        assert_eq!(c.processor.as_deref(), Some(&b"b"[..]));
    }

    #[test]
    fn udp_lines_and_warnings() {
        let (c, w) = p("uabc\nu1.2.3.4:0\nU1.2.3.4:abc\n");
        assert_eq!(
            w,
            [
                "unable to scan ip address: abc",
                "unable to scan port number: 0",
                "unable to scan port number: abc"
            ]
        );
        assert!(c.udp_only);
        assert_eq!(c.udp_addr(), None);
        let (c, w) = p("U127.0.0.1\n");
        assert!(w.is_empty());
        assert!(c.udp_only);
        assert_eq!(c.udp_addr().unwrap().to_string(), "127.0.0.1:514");
        // Octets wrap like runit's char store; a later bad port keeps the
        // earlier port with the new address.
        let (c, _) = p("u1.1.1.1:10\nu2.2.2.258:0\n");
        assert_eq!(c.udp_addr().unwrap().to_string(), "2.2.2.2:10");
        let (_, w) = p("u1.2.3\n");
        assert_eq!(w, ["unable to scan ip address: 1.2.3"]);
    }

    #[test]
    fn nul_bytes() {
        let (c, _) = p("+a\0-b\n!cmd\0rest\n");
        assert_eq!(
            c.patterns,
            vec![
                Pattern::Select(b"a".to_vec()),
                Pattern::Deselect(b"b".to_vec())
            ]
        );
        assert_eq!(c.processor.as_deref(), Some(&b"cmd"[..]));
    }

    #[test]
    fn scan() {
        assert_eq!(scan_ulong(b"123x"), (123, 3));
        assert_eq!(scan_ulong(b"x"), (0, 0));
        assert_eq!(scan_ulong(b""), (0, 0));
    }

    /// Property test: any bytes parse without panicking, and the result
    /// does not depend on text after a line that could not change it.
    #[test]
    fn fuzz_never_panics() {
        let mut rng = crate::testrng::Rng::new(0x5eed);
        let alphabet = b"sSnNtTuUpP!+-eE#*0123456789.:kmh \n\n\n\0\xff";
        for _ in 0..20_000 {
            let len = rng.below(60);
            let text: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let mut warnings = 0;
            let c = parse(&text, |_, _| warnings += 1);
            // Idempotent: parsing the same text again gives the same config.
            assert_eq!(c, parse(&text, |_, _| {}));
            // Appending a comment line never changes anything.
            let mut t2 = text.clone();
            if !t2.is_empty() && *t2.last().unwrap() != b'\n' {
                t2.push(b'\n');
            }
            let before = parse(&t2, |_, _| {});
            t2.extend_from_slice(b"# comment\n");
            assert_eq!(before, parse(&t2, |_, _| {}));
        }
    }
}
