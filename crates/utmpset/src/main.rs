//! utmpset [-w] line: mark LINE logged out in utmp (and, with -w, in
//! wtmp), as getty replacements need. See utmpset(8).
#![forbid(unsafe_code)]
#![cfg_attr(not(test), no_main)]
// The test build has no C main, so nothing calls run() there.
#![cfg_attr(test, allow(dead_code))]

mod logout;
mod record;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use logout::Failure;
use supervise_proto::errno_str;
use supervise_proto::getopt::GetOpt;

/// Build-time settings: the C library's _PATH_UTMP and _PATH_WTMP.
const UTMP: &str = match option_env!("RUNIT_UTMP") {
    Some(p) => p,
    None => "/var/run/utmp",
};
const WTMP: &str = match option_env!("RUNIT_WTMP") {
    Some(p) => p,
    None => "/var/log/wtmp",
};

const FATAL: &str = "utmpset: fatal: ";
const WARNING: &str = "utmpset: warning: ";

fn eprint(s: &str) {
    supervise_proto::fdio::eprint(s.as_bytes());
}

fn usage(prog: &str) -> i32 {
    eprint(&format!("usage: {prog} [-w] line\n\n"));
    1
}

fn run(args: &[OsString]) -> i32 {
    let prog = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "utmpset".into());
    // getopt's diagnostics name the program by its base name.
    let base = prog.rsplit('/').next().unwrap_or("utmpset").to_string();
    let rest = args.get(1..).unwrap_or(&[]);
    let mut opts = GetOpt::new(rest, "wV");
    let mut wtmp = false;
    for o in opts.by_ref() {
        match o {
            Ok((b'w', _)) => wtmp = true,
            Ok((b'V', _)) => {
                eprint(&format!("{}\n", supervise_proto::VERSION_ID));
                return usage(&prog);
            }
            Ok(_) => return usage(&prog),
            Err(e) => {
                eprint(&format!("{}\n", e.message(&base)));
                return usage(&prog);
            }
        }
    }
    let Some(line) = opts.rest().first() else {
        return usage(&prog);
    };
    let shown = line.to_string_lossy();
    let line = line.as_bytes();

    match logout::utmp_logout(Path::new(UTMP), line) {
        Ok(()) => {}
        Err(Failure::NameTooLong) => {
            eprint(&format!(
                "{FATAL}unable to logout line {shown} in utmp: name too long\n"
            ));
            return 111;
        }
        Err(Failure::Open(e)) => {
            eprint(&format!("{FATAL}unable to open {UTMP}: {}\n", errno_str(e)));
            return 111;
        }
        Err(Failure::Lock(e)) => {
            eprint(&format!(
                "{FATAL}unable to lock: {UTMP}: {}\n",
                errno_str(e)
            ));
            return 111;
        }
        Err(Failure::NoEntry | Failure::Write(_)) => {
            eprint(&format!(
                "{WARNING}unable to logout line {shown} in utmp: no such entry\n"
            ));
            return 111;
        }
    }
    if wtmp {
        match logout::wtmp_logout(Path::new(WTMP), line) {
            Ok(()) => {}
            Err(Failure::Open(e)) => {
                eprint(&format!("{FATAL}unable to open {WTMP}: {}\n", errno_str(e)));
                return 111;
            }
            Err(Failure::Lock(e)) => {
                eprint(&format!("{FATAL}unable to lock {WTMP}: {}\n", errno_str(e)));
                return 111;
            }
            Err(Failure::Write(e)) => {
                eprint(&format!(
                    "{WARNING}unable to logout line {shown} in wtmp: {}\n",
                    errno_str(e)
                ));
                return 111;
            }
            Err(Failure::NameTooLong | Failure::NoEntry) => return 111,
        }
    }
    0
}

// Entered from C's main like every program of the suite (see
// supervise_proto::start); the unsafe argv read is inside the macro.
supervise_proto::c_main!(supervise_proto::start::SigPipe::Default, |args| run(&args));
