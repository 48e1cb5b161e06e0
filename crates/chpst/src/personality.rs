//! The daemontools names chpst answers to. Each has its own syntax and
//! usage text, as in runit; failures still say "chpst: fatal:".

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use supervise_proto::getopt::GetOpt;

use crate::chpst::{export_ids, lock_or_die, run_program, USAGE};
use crate::die::{opt_complaint, Die};
use crate::env::Changes;
use crate::ids::LibcDb;
use crate::limits::{self, Limits};
use crate::{envdir, resolve_or_die, Spec};

pub const USAGE_SETUIDGID: &str = " account child";
pub const USAGE_ENVUIDGID: &str = " account child";
pub const USAGE_ENVDIR: &str = " dir child";
pub const USAGE_PGRPHACK: &str = " child";
pub const USAGE_SETLOCK: &str = " [ -nNxX ] file program [ arg ... ]";
pub const USAGE_SOFTLIMIT: &str = " [-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] [-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child";

/// The personalities by name: the one list (the Makefile's PERSONALITIES,
/// which installs the symlinks, is checked against it by a test).
pub const NAMES: [&str; 6] = [
    "envdir",
    "envuidgid",
    "pgrphack",
    "setlock",
    "setuidgid",
    "softlimit",
];

/// Names the program in messages: `prog` is argv[0]'s basename with a
/// leading 'd' removed (usage lines), `optprog` the plain basename (the
/// option scanner's complaints).
pub struct Names<'a> {
    pub prog: &'a [u8],
    pub optprog: &'a [u8],
}

/// Runs personality `which` with `args` (argv without argv[0]).
pub fn run(which: &str, names: &Names, args: &[OsString]) -> Die {
    let usage = |text: &str| Die::usage(b"", names.prog, text);
    match which {
        "setuidgid" | "envuidgid" => {
            let text = if which == "setuidgid" {
                USAGE_SETUIDGID
            } else {
                USAGE_ENVUIDGID
            };
            let [account, prog @ ..] = args else {
                return usage(text);
            };
            if prog.is_empty() {
                return usage(text);
            }
            let ids = match resolve_or_die(Spec::Account(account.as_bytes()), &LibcDb) {
                Ok(ids) => ids,
                Err(d) => return d,
            };
            let mut changes = Changes::default();
            if which == "setuidgid" {
                if let Err(d) = crate::privs::become_user(&ids) {
                    return d;
                }
            } else {
                export_ids(&ids, &mut changes);
            }
            run_program(&prog[0], prog, &changes)
        }
        "envdir" => {
            let [dir, prog @ ..] = args else {
                return usage(USAGE_ENVDIR);
            };
            if prog.is_empty() {
                return usage(USAGE_ENVDIR);
            }
            let mut changes = Changes::default();
            // As the envdir program a subdirectory is an error.
            if let Err(d) = envdir::read_into(dir.as_bytes(), false, false, &mut changes) {
                return d;
            }
            run_program(&prog[0], prog, &changes)
        }
        "pgrphack" => {
            if args.is_empty() {
                return usage(USAGE_PGRPHACK);
            }
            // Failure is ignored, as in runit.
            let _ = rustix::process::setsid();
            run_program(&args[0], args, &Changes::default())
        }
        "setlock" => setlock(names, args),
        _ => softlimit(names, args),
    }
}

/// setlock [-nNxX] file program...: runit's flags, which invert
/// daemontools': by default (and with -N) do NOT wait for the lock; -n
/// waits. -x turns both "cannot lock" and "cannot run" into a silent
/// exit 0.
fn setlock(names: &Names, args: &[OsString]) -> Die {
    let mut wait = false;
    let mut quiet = false;
    let mut scan = GetOpt::new(args, "nNxX");
    for item in scan.by_ref() {
        match item {
            Ok((b'n', _)) => wait = true,
            Ok((b'N', _)) => wait = false,
            Ok((b'x', _)) => quiet = true,
            Ok((b'X', _)) => quiet = false,
            Ok(_) => unreachable!("only letters of the option string"),
            Err(e) => {
                return Die::usage(&opt_complaint(&e, names.optprog), names.prog, USAGE_SETLOCK)
            }
        }
    }
    let [file, prog @ ..] = scan.rest() else {
        return Die::usage(b"", names.prog, USAGE_SETLOCK);
    };
    if prog.is_empty() {
        return Die::usage(b"", names.prog, USAGE_SETLOCK);
    }
    if let Err(d) = lock_or_die(file.as_bytes(), wait, quiet) {
        return d;
    }
    let d = run_program(&prog[0], prog, &Changes::default());
    if quiet {
        Die::silent(0)
    } else {
        d
    }
}

/// softlimit [-acdflmoprst n|=] program...: `=` raises the soft limit to
/// the hard one; -m sets data, stack, locked memory and address space.
fn softlimit(names: &Names, args: &[OsString]) -> Die {
    let mut l = Limits::default();
    let mut scan = GetOpt::new(args, "a:c:d:f:l:m:o:p:r:s:t:");
    for item in scan.by_ref() {
        let (c, arg) = match item {
            Ok(v) => v,
            Err(e) => {
                return Die::usage(
                    &opt_complaint(&e, names.optprog),
                    names.prog,
                    USAGE_SOFTLIMIT,
                )
            }
        };
        let arg = arg.map(|a| a.as_bytes()).unwrap_or_default();
        let v = if arg == b"=" {
            limits::TO_HARD
        } else {
            match limits::parse(arg) {
                Some(v) => v,
                // runit answers a bad number with chpst's own usage line.
                None => return Die::usage(b"", names.prog, USAGE),
            }
        };
        match c {
            b'a' => l.address_space = v,
            b'c' => l.core = v,
            b'd' => l.data = v,
            b'f' => l.file_size = v,
            b'l' => l.memlock = v,
            b'm' => l.set_memory(v),
            b'o' => l.files = v,
            b'p' => l.processes = v,
            b'r' => l.rss = v,
            b's' => l.stack = v,
            _ => l.cpu = v,
        }
    }
    let prog = scan.rest();
    if prog.is_empty() {
        return Die::usage(b"", names.prog, USAGE_SOFTLIMIT);
    }
    if let Err(d) = l.apply() {
        return d;
    }
    run_program(&prog[0], prog, &Changes::default())
}
