//! runit's option scanner, reproduced exactly.
//!
//! supervise-proto's GetOpt covers the common cases, but runit's scanner
//! has one rule it does not: ANY word that begins with `--` ends the
//! options and is consumed (`chpst --x prog` runs prog). chpst sits in
//! run scripts, where such command lines do occur, so it carries its own
//! copy of the rule. Messages are the same: `PROG: illegal option -- c`
//! and `PROG: option requires an argument -- c`.

/// What went wrong while scanning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptError {
    Illegal(u8),
    MissingArgument(u8),
}

impl OptError {
    /// The diagnostic line, with newline, for `prog`.
    pub fn message(&self, prog: &[u8]) -> Vec<u8> {
        let (what, c) = match *self {
            OptError::Illegal(c) => (": illegal option -- ", c),
            OptError::MissingArgument(c) => (": option requires an argument -- ", c),
        };
        let mut m = prog.to_vec();
        m.extend_from_slice(what.as_bytes());
        m.push(c);
        m.push(b'\n');
        m
    }
}

/// Scans `args` (argv without argv[0]) against `spec` (a letter followed
/// by `:` takes an argument).
pub struct Scanner<'a> {
    args: &'a [Vec<u8>],
    spec: &'a [u8],
    index: usize,
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(args: &'a [Vec<u8>], spec: &'a str) -> Scanner<'a> {
        Scanner {
            args,
            spec: spec.as_bytes(),
            index: 0,
            pos: 0,
        }
    }

    /// The operands once scanning has stopped.
    pub fn rest(&self) -> &'a [Vec<u8>] {
        &self.args[self.index.min(self.args.len())..]
    }

    /// Some(takes_argument) when `c` is an option letter.
    fn lookup(&self, c: u8) -> Option<bool> {
        let mut i = 0;
        while i < self.spec.len() {
            let takes = self.spec.get(i + 1) == Some(&b':');
            if self.spec[i] == c {
                return Some(takes);
            }
            i += 1 + usize::from(takes);
        }
        None
    }
}

impl<'a> Iterator for Scanner<'a> {
    type Item = Result<(u8, Option<&'a [u8]>), OptError>;

    fn next(&mut self) -> Option<Self::Item> {
        let args: &'a [Vec<u8>] = self.args;
        if self.index >= args.len() {
            return None;
        }
        if self.pos > 0 && self.pos >= args[self.index].len() {
            self.index += 1;
            self.pos = 0;
            if self.index >= args.len() {
                return None;
            }
        }
        let word: &'a [u8] = &args[self.index];
        if self.pos == 0 {
            if word.first() != Some(&b'-') {
                return None;
            }
            match word.get(1) {
                // A lone "-" is an operand; "--" and anything starting
                // with it end the options and are consumed.
                None => return None,
                Some(b'-') => {
                    self.index += 1;
                    return None;
                }
                Some(_) => self.pos = 1,
            }
        }
        let c = word[self.pos];
        self.pos += 1;
        match self.lookup(c) {
            None => Some(Err(OptError::Illegal(c))),
            Some(false) => Some(Ok((c, None))),
            Some(true) => {
                let attached = &word[self.pos..];
                self.index += 1;
                self.pos = 0;
                if !attached.is_empty() {
                    return Some(Ok((c, Some(attached))));
                }
                match args.get(self.index) {
                    Some(a) => {
                        self.index += 1;
                        Some(Ok((c, Some(a.as_slice()))))
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

    fn scan(v: &[&str], spec: &str) -> (Vec<String>, Vec<String>) {
        let a: Vec<Vec<u8>> = v.iter().map(|s| s.as_bytes().to_vec()).collect();
        let mut g = Scanner::new(&a, spec);
        let mut seen = Vec::new();
        for r in g.by_ref() {
            seen.push(match r {
                Ok((c, None)) => format!("{}", c as char),
                Ok((c, Some(v))) => format!("{}={}", c as char, String::from_utf8_lossy(v)),
                Err(e) => String::from_utf8(e.message(b"p")).unwrap(),
            });
            if seen.last().unwrap().starts_with("p:") {
                break;
            }
        }
        let rest = g
            .rest()
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        (seen, rest)
    }

    #[test]
    fn clusters_and_arguments() {
        let (o, r) = scan(&["-vPu", "nobody", "-e/x", "prog", "-v"], "u:e:vP");
        assert_eq!(o, ["v", "P", "u=nobody", "e=/x"]);
        assert_eq!(r, ["prog", "-v"]);
    }

    #[test]
    fn double_dash_words_end_options() {
        assert_eq!(scan(&["-v", "--", "-x"], "v").1, ["-x"]);
        let (o, r) = scan(&["--x", "echo"], "v");
        assert!(o.is_empty());
        assert_eq!(r, ["echo"]);
        let (o, r) = scan(&["-", "echo"], "v");
        assert!(o.is_empty());
        assert_eq!(r, ["-", "echo"]);
        assert_eq!(scan(&["", "x"], "v").1, ["", "x"]);
    }

    #[test]
    fn errors() {
        assert_eq!(scan(&["-z"], "v").0, ["p: illegal option -- z\n"]);
        assert_eq!(
            scan(&["-vu"], "u:v").0,
            ["v", "p: option requires an argument -- u\n"]
        );
        assert_eq!(scan(&["-v-"], "v").0, ["v", "p: illegal option -- -\n"]);
        assert_eq!(scan(&["-:"], "u:").0, ["p: illegal option -- :\n"]);
    }

    #[test]
    fn argument_may_be_empty_word() {
        let (o, r) = scan(&["-u", "", "prog"], "u:");
        assert_eq!(o, ["u="]);
        assert_eq!(r, ["prog"]);
    }
}
