//! svc's command line: option letters become control bytes.
//!
//! Each letter is itself the byte runsv and supervise understand. The
//! letters are sent in the order first given, each once (`-udu` sends
//! `ud`), and all of them to every directory.

use std::ffi::OsString;

use supervise_proto::getopt::{GetOpt, OptError};

/// The option letters of daemontools 0.76's svc.
pub const LETTERS: &str = "udopchaitkx";

/// The line printed after an option error.
pub const USAGE: &str = "svc options: u up, d down, o once, x exit, p pause, c continue, \
                         h hup, a alarm, i interrupt, t term, k kill";

/// Control bytes (deduplicated, in first-seen order) and the directories.
pub fn parse(args: &[OsString]) -> Result<(Vec<u8>, &[OsString]), OptError> {
    let mut opts = GetOpt::new(args, LETTERS);
    let mut bytes = Vec::with_capacity(LETTERS.len());
    for opt in opts.by_ref() {
        let (c, _) = opt?;
        if !bytes.contains(&c) {
            bytes.push(c);
        }
    }
    Ok((bytes, opts.rest()))
}

/// The name getopt's diagnostics use: argv[0] without its directory.
pub fn program_name(argv0: &[u8]) -> String {
    let base = match argv0.iter().rposition(|&b| b == b'/') {
        Some(i) => &argv0[i + 1..],
        None => argv0,
    };
    String::from_utf8_lossy(base).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn letters_in_first_seen_order_once() {
        let a = args(&["-udu", "-x", "-kt", "-udopchaitkx", "s1", "s2"]);
        let (bytes, dirs) = parse(&a).unwrap();
        assert_eq!(bytes, b"udxktopchai");
        assert_eq!(dirs, &a[4..]);
    }

    #[test]
    fn operands_end_options() {
        let a = args(&["-d", "svc", "-u"]);
        let (bytes, dirs) = parse(&a).unwrap();
        assert_eq!(bytes, b"d");
        assert_eq!(dirs.len(), 2);
        let a = args(&["--", "-u"]);
        let (bytes, dirs) = parse(&a).unwrap();
        assert!(bytes.is_empty());
        assert_eq!(dirs, &a[1..]);
        // djb's getopt: any word starting with "--" ends options, dropped.
        let a = args(&["-u", "--d", "s"]);
        let (bytes, dirs) = parse(&a).unwrap();
        assert_eq!(bytes, b"u");
        assert_eq!(dirs, &a[2..]);
    }

    #[test]
    fn bad_letters() {
        // runit's q, 1 and 2 are not daemontools' svc options.
        for bad in ["-q", "-1", "-2", "-uz"] {
            let a = args(&[bad, "s"]);
            assert!(parse(&a).is_err(), "{bad}");
        }
        let a = args(&["-uz"]);
        assert_eq!(
            parse(&a).unwrap_err().message("svc"),
            "svc: illegal option -- z"
        );
    }

    #[test]
    fn names() {
        assert_eq!(program_name(b"/usr/bin/svc"), "svc");
        assert_eq!(program_name(b"svc"), "svc");
        assert_eq!(program_name(b"a/b/"), "");
    }
}
