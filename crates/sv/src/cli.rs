//! sv's command line: options, the command word, and what it means.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use supervise_proto::getopt::GetOpt;
use supervise_proto::Control;

use crate::machine::Format;

/// What to do to each service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Commands to write, in order (none for `status` and `check`).
    pub controls: Vec<Control>,
    /// Print status instead of writing control bytes.
    pub status: bool,
    /// Write nothing, only wait (`check`).
    pub check_only: bool,
    /// Wait for the wanted state.
    pub wait: bool,
    /// On timeout, send `k` (the force-* commands).
    pub kill: bool,
}

/// A parsed command line.
#[derive(Clone, Debug)]
pub struct Config {
    /// Basename of argv[0]; anything but "sv" means LSB init-script mode.
    pub prog: String,
    pub lsb: bool,
    pub verbose: bool,
    /// Seconds to wait (-w, $SVWAIT, default 7).
    pub timeout: u64,
    pub command: Command,
    pub services: Vec<OsString>,
    /// `-o FORMAT`: the machine-readable status (an extension runit's sv
    /// rejects; `status` only, not in LSB mode).
    pub output: Option<Format>,
}

/// Why the command line was refused.
pub enum Refused {
    /// Print usage (and, for -V, the version first).
    Usage { version: bool },
}

impl Config {
    pub fn usage_text(prog: &str, lsb: bool) -> String {
        if lsb {
            format!("usage: {prog} [-w sec] command\n\n")
        } else {
            format!("usage: {prog} [-v] [-w sec] command service ...\n\n")
        }
    }
}

/// runit's scanner (wrapping on overflow); sv uses only the value.
fn scan_ulong(s: &[u8]) -> u64 {
    supervise_proto::scan::scan_ulong(s).0
}

pub fn parse(
    args: &[OsString],
    svwait: Option<OsString>,
) -> Result<Config, (String, bool, Refused)> {
    let argv0 = args
        .first()
        .map(|a| a.as_bytes().to_vec())
        .unwrap_or_else(|| b"sv".to_vec());
    let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or(b"sv");
    let prog = String::from_utf8_lossy(base).into_owned();
    let lsb = prog != "sv";
    let refuse = |r: Refused| (prog.clone(), lsb, r);

    let mut timeout = svwait.map(|v| scan_ulong(v.as_bytes())).unwrap_or(7);
    let mut verbose = false;
    let mut output = None;
    let rest_args = &args[1.min(args.len())..];
    // LSB mode keeps runit's options exactly: -o is "illegal" there.
    let mut opts = GetOpt::new(rest_args, if lsb { "w:vV" } else { "w:vVo:" });
    for o in opts.by_ref() {
        match o {
            Ok((b'o', Some(v))) => match Format::parse(v.as_bytes()) {
                Ok(f) => output = Some(f),
                Err(e) => {
                    eprintln!("{prog}: {e}");
                    return Err(refuse(Refused::Usage { version: false }));
                }
            },
            Ok((b'w', Some(v))) => {
                timeout = scan_ulong(v.as_bytes());
                verbose = true;
            }
            Ok((b'v', _)) => verbose = true,
            Ok((b'V', _)) => return Err(refuse(Refused::Usage { version: true })),
            Ok(_) => return Err(refuse(Refused::Usage { version: false })),
            Err(e) => {
                eprintln!("{}", e.message(&prog));
                return Err(refuse(Refused::Usage { version: false }));
            }
        }
    }
    let rest = opts.rest();
    let Some(action) = rest.first() else {
        return Err(refuse(Refused::Usage { version: false }));
    };
    let services: Vec<OsString> = if lsb {
        vec![OsString::from(prog.clone())]
    } else {
        rest[1..].to_vec()
    };
    if services.is_empty() {
        return Err(refuse(Refused::Usage { version: false }));
    }
    let command = match command(action.as_bytes(), lsb, verbose) {
        Some(c) => c,
        None => return Err(refuse(Refused::Usage { version: false })),
    };
    if output.is_some() && !command.status {
        return Err(refuse(Refused::Usage { version: false }));
    }
    Ok(Config {
        prog,
        lsb,
        verbose,
        timeout,
        command,
        services,
        output,
    })
}

/// Maps a command word to what it does, as runit 2.1.2 does: single
/// letters (and any word starting with one) by their first letter, the LSB
/// words by their full spelling.
pub fn command(word: &[u8], lsb: bool, verbose: bool) -> Option<Command> {
    use Control::{Cont, Down, Exit, Hup, Term, Up};
    let c = |controls: &[Control], wait: bool, kill: bool| Command {
        controls: controls.to_vec(),
        status: false,
        check_only: false,
        wait,
        kill,
    };
    let first = *word.first()?;
    Some(match first {
        b'x' | b'e' => c(&[Exit], verbose, false),
        b'X' | b'E' => c(&[Exit], true, true),
        b'D' => c(&[Down], true, true),
        b'T' => c(&[Term, Cont], true, true),
        b'c' if word == b"check" => Command {
            check_only: true,
            ..c(&[], true, false)
        },
        b't' if word == b"try-restart" => c(&[Term, Cont], true, false),
        b's' => match word {
            b"shutdown" => c(&[Exit], true, false),
            b"start" => c(&[Up], true, false),
            b"stop" => c(&[Down], true, false),
            _ if lsb && word != b"status" => return None,
            _ => Command {
                status: true,
                ..c(&[], false, false)
            },
        },
        b'r' => match word {
            b"restart" => c(&[Term, Cont, Up], true, false),
            b"reload" => c(&[Hup], true, false),
            _ => return None,
        },
        b'f' => match word {
            b"force-reload" => c(&[Term, Cont], true, true),
            b"force-restart" => c(&[Term, Cont, Up], true, true),
            b"force-shutdown" => c(&[Exit], true, true),
            b"force-stop" => c(&[Down], true, true),
            _ => return None,
        },
        // Any other word starting with a control letter is that command.
        _ => c(&[Control::from_byte(first)?], verbose, false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command's control bytes as text (`C` for check), wait, kill.
    fn cmd(w: &str) -> Option<(String, bool, bool)> {
        command(w.as_bytes(), false, false).map(|c| {
            let mut acts: String = c.controls.iter().map(|c| c.byte() as char).collect();
            if c.check_only {
                acts.push('C');
            }
            (acts, c.wait, c.kill)
        })
    }

    #[test]
    fn words_and_letters() {
        assert_eq!(cmd("up"), Some(("u".into(), false, false)));
        assert_eq!(cmd("uxyz"), Some(("u".into(), false, false)));
        assert_eq!(cmd("start"), Some(("u".into(), true, false)));
        assert_eq!(cmd("stop"), Some(("d".into(), true, false)));
        assert_eq!(cmd("restart"), Some(("tcu".into(), true, false)));
        assert_eq!(cmd("reload"), Some(("h".into(), true, false)));
        assert_eq!(cmd("rx"), None);
        assert_eq!(cmd("shutdown"), Some(("x".into(), true, false)));
        assert_eq!(cmd("try-restart"), Some(("tc".into(), true, false)));
        assert_eq!(cmd("term"), Some(("t".into(), false, false)));
        assert_eq!(cmd("force-stop"), Some(("d".into(), true, true)));
        assert_eq!(cmd("force-reload"), Some(("tc".into(), true, true)));
        assert_eq!(cmd("force-restart"), Some(("tcu".into(), true, true)));
        assert_eq!(cmd("force-shutdown"), Some(("x".into(), true, true)));
        assert_eq!(cmd("fx"), None);
        assert_eq!(cmd("exit"), Some(("x".into(), false, false)));
        assert_eq!(cmd("X"), Some(("x".into(), true, true)));
        assert_eq!(cmd("D"), Some(("d".into(), true, true)));
        assert_eq!(cmd("T"), Some(("tc".into(), true, true)));
        assert_eq!(cmd("check"), Some(("C".into(), true, false)));
        assert_eq!(cmd("cont"), Some(("c".into(), false, false)));
        assert_eq!(cmd("1"), Some(("1".into(), false, false)));
        assert_eq!(cmd("z"), None);
        assert_eq!(cmd(""), None);
        assert!(command(b"status", false, false).unwrap().status);
        assert!(command(b"sxyz", false, false).unwrap().status);
        assert!(command(b"sxyz", true, false).is_none());
        assert!(command(b"status", true, false).unwrap().status);
    }

    #[test]
    fn verbose_makes_letters_wait() {
        assert!(command(b"u", false, true).unwrap().wait);
        assert!(command(b"x", false, true).unwrap().wait);
    }

    #[test]
    fn scans_numbers_like_runit() {
        assert_eq!(scan_ulong(b"12"), 12);
        assert_eq!(scan_ulong(b"3x"), 3);
        assert_eq!(scan_ulong(b"x"), 0);
    }
}
