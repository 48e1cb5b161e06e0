//! A POSIX-style option scanner with runit's diagnostics.
//!
//! runit's tools parse options with a classic getopt: options end at the
//! first operand or at a word starting with `--`, an option's argument is the rest of its word
//! or the next word, and errors read `PROG: illegal option -- c` or
//! `PROG: option requires an argument -- c`. Usage texts and exit codes
//! differ from tool to tool, so the caller prints those.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// One problem found while scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptError {
    /// An option letter not in the option string.
    Illegal(u8),
    /// An option that takes an argument came last.
    MissingArgument(u8),
}

impl OptError {
    /// runit's diagnostic line (without newline) for `prog`.
    pub fn message(&self, prog: &str) -> String {
        match self {
            OptError::Illegal(c) => format!("{prog}: illegal option -- {}", *c as char),
            OptError::MissingArgument(c) => {
                format!("{prog}: option requires an argument -- {}", *c as char)
            }
        }
    }
}

/// Scans `args` (without argv[0]) against `spec`, where a letter followed
/// by `:` takes an argument.
pub struct GetOpt<'a> {
    args: &'a [OsString],
    spec: &'a [u8],
    index: usize,
    pos: usize,
}

impl<'a> GetOpt<'a> {
    pub fn new(args: &'a [OsString], spec: &'a str) -> GetOpt<'a> {
        GetOpt {
            args,
            spec: spec.as_bytes(),
            index: 0,
            pos: 0,
        }
    }

    /// The operands left once scanning has stopped.
    pub fn rest(&self) -> &'a [OsString] {
        &self.args[self.index.min(self.args.len())..]
    }

    fn takes_argument(&self, c: u8) -> Option<bool> {
        let i = self.spec.iter().position(|&s| s == c && s != b':')?;
        Some(self.spec.get(i + 1) == Some(&b':'))
    }
}

impl<'a> Iterator for GetOpt<'a> {
    type Item = Result<(u8, Option<&'a OsStr>), OptError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos == 0 {
            let word = self.args.get(self.index)?.as_bytes();
            if word.len() < 2 || word[0] != b'-' {
                return None;
            }
            // Like runit's scanner, any word starting with "--" ends the
            // options and is itself dropped ("--x" too).
            if word.starts_with(b"--") {
                self.index += 1;
                return None;
            }
            self.pos = 1;
        }
        let args: &'a [OsString] = self.args;
        let word = args[self.index].as_bytes();
        let c = word[self.pos];
        let after = self.pos + 1;
        // Move to the next letter, or to the next word when this one is used up.
        let advance = |this: &mut Self| {
            if after >= word.len() {
                this.index += 1;
                this.pos = 0;
            } else {
                this.pos = after;
            }
        };
        match self.takes_argument(c) {
            None => {
                advance(self);
                Some(Err(OptError::Illegal(c)))
            }
            Some(false) => {
                advance(self);
                Some(Ok((c, None)))
            }
            Some(true) => {
                self.pos = 0;
                self.index += 1;
                if after < word.len() {
                    return Some(Ok((c, Some(OsStr::from_bytes(&word[after..])))));
                }
                match args.get(self.index) {
                    Some(a) => {
                        self.index += 1;
                        Some(Ok((c, Some(a.as_os_str()))))
                    }
                    None => Some(Err(OptError::MissingArgument(c))),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn scan(v: &[&str], spec: &str) -> (Vec<String>, Vec<String>) {
        let a = args(v);
        let mut g = GetOpt::new(&a, spec);
        let mut seen = Vec::new();
        for r in g.by_ref() {
            seen.push(match r {
                Ok((c, None)) => format!("{}", c as char),
                Ok((c, Some(v))) => format!("{}={}", c as char, v.to_string_lossy()),
                Err(e) => e.message("p"),
            });
        }
        let rest = g
            .rest()
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        (seen, rest)
    }

    #[test]
    fn clusters_arguments_and_operands() {
        let (o, r) = scan(&["-vw3", "-w", "5", "status", "-v"], "w:vV");
        assert_eq!(o, ["v", "w=3", "w=5"]);
        assert_eq!(r, ["status", "-v"]);
    }

    #[test]
    fn double_dash_and_lone_dash() {
        let (o, r) = scan(&["-v", "--", "-w"], "w:v");
        assert_eq!((o, r), (vec!["v".to_string()], vec!["-w".to_string()]));
        let (o, r) = scan(&["--x", "-v"], "v");
        assert!(o.is_empty());
        assert_eq!(r, ["-v"]);
        let (o, r) = scan(&["-", "x"], "v");
        assert!(o.is_empty());
        assert_eq!(r, ["-", "x"]);
    }

    #[test]
    fn errors() {
        let (o, _) = scan(&["-z"], "w:v");
        assert_eq!(o, ["p: illegal option -- z"]);
        let (o, _) = scan(&["-vw"], "w:v");
        assert_eq!(o, ["v", "p: option requires an argument -- w"]);
        let (o, r) = scan(&["-xv", "op"], "v");
        assert_eq!(o, ["p: illegal option -- x", "v"]);
        assert_eq!(r, ["op"]);
        // ':' itself is never an option letter.
        let (o, _) = scan(&["-:"], "w:");
        assert_eq!(o, ["p: illegal option -- :"]);
    }
}
