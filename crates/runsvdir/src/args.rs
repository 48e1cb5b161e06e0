//! runsvdir's command line: `runsvdir [-P] dir [log]`.
//!
//! runit does not use getopt here: it looks at the first argument only,
//! and only at its second character. `-P...` turns on -P and `--...` just
//! ends the options (either way that one word is consumed); any other
//! word, even `-x` or `-`, is the directory. Words after `log` are
//! ignored.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// -P: each runsv in a new session and process group.
    pub new_session: bool,
    /// The services directory, as given.
    pub dir: Vec<u8>,
    /// The readproctitle-style log argument and its index in argv.
    pub log: Option<(usize, Vec<u8>)>,
}

/// Parses the whole argv (argv[0] included). None means "print usage".
pub fn parse(argv: &[OsString]) -> Option<Options> {
    let mut i = 1;
    let mut new_session = false;
    if let Some(first) = argv.get(1).map(|a| a.as_bytes()) {
        if first.first() == Some(&b'-') {
            match first.get(1) {
                Some(b'P') => {
                    new_session = true;
                    i += 1;
                }
                Some(b'-') => i += 1,
                _ => {}
            }
        }
    }
    let dir = argv.get(i)?.as_bytes().to_vec();
    let log = argv.get(i + 1).map(|l| (i + 1, l.as_bytes().to_vec()));
    Some(Options {
        new_session,
        dir,
        log,
    })
}

/// runit ignores a log argument shorter than this.
pub const MIN_LOG_LEN: usize = 7;

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Option<Options> {
        let mut a: Vec<OsString> = vec!["runsvdir".into()];
        a.extend(v.iter().map(OsString::from));
        parse(&a)
    }

    #[test]
    fn runit_quirks() {
        assert_eq!(p(&[]), None);
        assert_eq!(p(&["-P"]), None);
        assert_eq!(p(&["--"]), None);
        assert_eq!(p(&["-Px"]), None);
        let o = p(&["-P", "d"]).unwrap();
        assert!(o.new_session);
        assert_eq!(o.dir, b"d");
        assert_eq!(o.log, None);
        // Only one word is ever consumed as an option.
        let o = p(&["-P", "--", "d"]).unwrap();
        assert_eq!(o.dir, b"--");
        assert_eq!(o.log, Some((3, b"d".to_vec())));
        let o = p(&["-x", "log: ....."]).unwrap();
        assert!(!o.new_session);
        assert_eq!(o.dir, b"-x");
        let o = p(&["--x", "d"]).unwrap();
        assert_eq!(o.dir, b"d");
        let o = p(&["-", "d"]).unwrap();
        assert_eq!(o.dir, b"-");
        let o = p(&["d", "log: ....", "extra"]).unwrap();
        assert_eq!(o.log, Some((2, b"log: ....".to_vec())));
    }
}
