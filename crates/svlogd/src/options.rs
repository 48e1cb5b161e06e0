//! The command line: `svlogd [-tttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...`.
//! Every usage error exits 111 after runit's usage text.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use supervise_proto::getopt::GetOpt;
use supervise_proto::VERSION_ID;

use crate::config::scan_ulong;
use crate::stamp::Kind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub stamp: Kind,
    pub verbose: bool,
    /// -r / -R: the replacement byte, when replacing at all.
    pub repl: Option<u8>,
    /// -R: printable bytes replaced too.
    pub replace: Vec<u8>,
    /// -l: pattern matching and stderr/UDP copies see this many bytes.
    pub line_max: usize,
    /// -b: accepted and checked as runit does; our buffers are sized
    /// for throughput instead.
    pub buf_len: usize,
    pub dirs: Vec<OsString>,
}

/// Why the command line was refused: what to print before the usage
/// line (already newline-terminated), exit code 111.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub before: String,
}

impl Usage {
    /// The whole text for standard error; `argv0` as invoked.
    pub fn text(&self, argv0: &str) -> String {
        format!(
            "{}usage: {argv0} [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n",
            self.before
        )
    }
}

/// The basename of argv[0], as runit's getopt names itself in messages.
pub fn prog_name(argv0: &str) -> &str {
    argv0.rsplit('/').next().unwrap_or(argv0)
}

/// Parses the arguments after argv[0].
pub fn parse(argv0: &str, args: &[OsString]) -> Result<Options, Usage> {
    let mut o = Options {
        stamp: Kind::None,
        verbose: false,
        repl: None,
        replace: Vec::new(),
        line_max: 1000,
        buf_len: 1024,
        dirs: Vec::new(),
    };
    let mut t = 0u32;
    let mut g = GetOpt::new(args, "R:r:l:b:tvV");
    let usage = |before: String| Usage { before };
    for r in g.by_ref() {
        match r {
            Err(e) => return Err(usage(format!("{}\n", e.message(prog_name(argv0))))),
            Ok((c, arg)) => {
                let arg = arg.map(|a| a.as_bytes()).unwrap_or(b"");
                match c {
                    b'R' => {
                        o.replace = arg.to_vec();
                        if o.repl.is_none() {
                            o.repl = Some(b'_');
                        }
                    }
                    b'r' => {
                        if arg.len() != 1 || arg[0] == 0 {
                            return Err(usage(String::new()));
                        }
                        o.repl = Some(arg[0]);
                    }
                    b'l' => {
                        o.line_max = scan_ulong(arg).0 as usize;
                        if o.line_max == 0 {
                            o.line_max = 1000;
                        }
                    }
                    b'b' => {
                        o.buf_len = scan_ulong(arg).0 as usize;
                        if o.buf_len == 0 {
                            o.buf_len = 1024;
                        }
                    }
                    b't' => t = (t + 1).min(3),
                    b'v' => o.verbose = true,
                    // -V: runit prints its `$Id: ... $` line, then usage.
                    _ => return Err(usage(format!("{VERSION_ID}\n"))),
                }
            }
        }
    }
    o.stamp = Kind::from_count(t);
    o.dirs = g.rest().to_vec();
    if o.dirs.is_empty() || o.buf_len <= o.line_max {
        return Err(usage(String::new()));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Options, Usage> {
        let a: Vec<OsString> = v.iter().map(OsString::from).collect();
        parse("/x/svlogd", &a)
    }

    #[test]
    fn defaults_and_stamps() {
        let o = p(&["d"]).unwrap();
        assert_eq!(
            (o.stamp, o.verbose, o.repl, o.line_max, o.buf_len),
            (Kind::None, false, None, 1000, 1024)
        );
        assert_eq!(p(&["-t", "d"]).unwrap().stamp, Kind::Tai64n);
        assert_eq!(p(&["-tt", "d"]).unwrap().stamp, Kind::Human);
        assert_eq!(p(&["-ttt", "d"]).unwrap().stamp, Kind::Iso8601);
        assert_eq!(p(&["-tttt", "-t", "d"]).unwrap().stamp, Kind::Iso8601);
        assert_eq!(p(&["-v", "a", "b"]).unwrap().dirs.len(), 2);
    }

    #[test]
    fn replacement() {
        assert_eq!(p(&["-r", ".", "d"]).unwrap().repl, Some(b'.'));
        assert_eq!(p(&["-R", "ab", "d"]).unwrap().repl, Some(b'_'));
        let o = p(&["-r:", "-R", "fb", "d"]).unwrap();
        assert_eq!((o.repl, o.replace.as_slice()), (Some(b':'), &b"fb"[..]));
        assert_eq!(p(&["-R", "fb", "-r:", "d"]).unwrap().repl, Some(b':'));
        assert!(p(&["-r", "ab", "d"]).is_err());
        assert!(p(&["-r", "", "d"]).is_err());
    }

    #[test]
    fn lengths() {
        assert_eq!(p(&["-l", "0", "d"]).unwrap().line_max, 1000);
        assert_eq!(p(&["-l", "x", "d"]).unwrap().line_max, 1000);
        assert_eq!(p(&["-l", "20", "d"]).unwrap().line_max, 20);
        assert!(p(&["-l", "1024", "d"]).is_err());
        assert!(p(&["-l", "1023", "d"]).is_ok());
        assert!(p(&["-b", "1000", "d"]).is_err());
        assert_eq!(p(&["-b", "0", "-l", "5", "d"]).unwrap().buf_len, 1024);
    }

    #[test]
    fn usage_texts() {
        let u = p(&[]).unwrap_err();
        assert_eq!(
            u.text("/x/svlogd"),
            "usage: /x/svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n"
        );
        assert_eq!(
            p(&["-x", "d"]).unwrap_err().before,
            "svlogd: illegal option -- x\n"
        );
        assert_eq!(
            p(&["-b"]).unwrap_err().before,
            "svlogd: option requires an argument -- b\n"
        );
        assert_eq!(
            p(&["-V", "d"]).unwrap_err().before,
            format!("{VERSION_ID}\n")
        );
    }
}
