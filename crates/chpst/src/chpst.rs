//! chpst proper: parse the options into a [`Plan`], then carry it out in
//! runit's order and exec the program.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use rustix::io::Errno;
use supervise_proto::getopt::GetOpt;

use crate::die::{opt_complaint, Die};
use crate::env::Changes;
use crate::ids::{scan_ulong, Ids, LibcDb};
use crate::limits::{self, Limits};
use crate::{envdir, exec, lock, privs, resolve_or_die, sys, Spec};

/// runit 2.3.0's usage text (2.1.2's plus -C, which we implement).
pub const USAGE: &str = " [-vVP012] [-u user[:group]] [-U user[:group]] [-b argv0] [-e dir] [-/ root] [-C pwd] [-n nice] [-l|-L lock] [-m n] [-d n] [-o n] [-p n] [-f n] [-c n] [-t n] prog";

/// 2.1.2's option letters plus 2.2.0's -C.
pub const OPTIONS: &str = "u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012V";

/// Everything the command line asks for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub set_user: Option<Vec<u8>>,
    pub env_user: Option<Vec<u8>>,
    pub argv0: Option<OsString>,
    pub env_dir: Option<Vec<u8>>,
    pub root: Option<Vec<u8>>,
    pub chdir: Option<Vec<u8>>,
    pub nice: i64,
    /// The lock file and whether to wait for it (-l) or not (-L).
    pub lock: Option<(Vec<u8>, bool)>,
    pub limits: Limits,
    pub verbose: bool,
    pub new_session: bool,
    pub close: [bool; 3],
    /// The program and its arguments (never empty).
    pub prog: Vec<OsString>,
}

/// Why the command line was refused: the scanner's complaint (possibly
/// empty) or -V's version line, to print before the usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage(pub Vec<u8>);

/// The -n argument: an optional sign and digits.
fn parse_nice(arg: &[u8]) -> Option<i64> {
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    let (v, n) = scan_ulong(digits);
    if n != digits.len() {
        return None;
    }
    let v = v as i64;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Parses chpst's arguments (without argv[0]); `optprog` names the
/// program in the scanner's complaints.
pub fn parse(args: &[OsString], optprog: &[u8]) -> Result<Plan, Usage> {
    let mut plan = Plan::default();
    let mut scan = GetOpt::new(args, OPTIONS);
    let num = |v: &[u8]| limits::parse(v).ok_or_else(|| Usage(Vec::new()));
    for item in scan.by_ref() {
        let (c, arg) = item.map_err(|e| Usage(opt_complaint(&e, optprog)))?;
        let a = arg.map(OsStr::as_bytes).unwrap_or_default();
        match c {
            b'u' => plan.set_user = Some(a.to_vec()),
            b'U' => plan.env_user = Some(a.to_vec()),
            b'b' => plan.argv0 = arg.map(OsStr::to_os_string),
            b'e' => plan.env_dir = Some(a.to_vec()),
            b'm' => plan.limits.set_memory(num(a)?),
            b'd' => plan.limits.data = num(a)?,
            b'o' => plan.limits.files = num(a)?,
            b'p' => plan.limits.processes = num(a)?,
            b'f' => plan.limits.file_size = num(a)?,
            b'c' => plan.limits.core = num(a)?,
            b'r' => plan.limits.rss = num(a)?,
            b't' => plan.limits.cpu = num(a)?,
            b'/' => plan.root = Some(a.to_vec()),
            b'C' => plan.chdir = Some(a.to_vec()),
            b'n' => plan.nice = parse_nice(a).ok_or_else(|| Usage(Vec::new()))?,
            b'l' | b'L' => {
                // -l and -L exclude each other, and either may appear once.
                if plan.lock.is_some() {
                    return Err(Usage(Vec::new()));
                }
                plan.lock = Some((a.to_vec(), c == b'l'));
            }
            b'v' => plan.verbose = true,
            b'P' => plan.new_session = true,
            b'0' => plan.close[0] = true,
            b'1' => plan.close[1] = true,
            b'2' => plan.close[2] = true,
            // -V: the version line, then the usage.
            _ => return Err(Usage(version_line())),
        }
    }
    plan.prog = scan.rest().to_vec();
    if plan.prog.is_empty() {
        return Err(Usage(Vec::new()));
    }
    Ok(plan)
}

/// What -V prints before the usage: the suite's `$Id: ... $` line.
pub fn version_line() -> Vec<u8> {
    format!("{}\n", supervise_proto::VERSION_ID).into_bytes()
}

/// nice(3) as the C library computes it: the current value plus `inc`
/// (wrapping like C's int), which the kernel clamps; EACCES is reported
/// as EPERM.
fn nice(inc: i32) -> Result<(), Errno> {
    let current = rustix::process::getpriority_process(None)?;
    rustix::process::setpriority_process(None, current.wrapping_add(inc)).map_err(|e| {
        if e == Errno::ACCESS {
            Errno::PERM
        } else {
            e
        }
    })
}

/// Sets the UID and GID variables for an account.
pub fn export_ids(ids: &Ids, changes: &mut Changes) {
    changes.set(b"GID", Some(ids.gids[0].to_string().as_bytes()));
    changes.set(b"UID", Some(ids.uid.to_string().as_bytes()));
}

/// Takes a lock with runit's messages; `quiet` (setlock -x) exits 0
/// silently instead.
pub fn lock_or_die(path: &[u8], wait: bool, quiet: bool) -> Result<(), Die> {
    lock::take(path, wait).map_err(|e| {
        if quiet {
            return Die::silent(0);
        }
        match e {
            lock::LockError::Open(e) => Die::sys2("unable to open lock", path, &e),
            lock::LockError::Lock(e) => Die::sys2("unable to lock", path, &e),
        }
    })
}

/// Execs `prog` with the changed environment; returns runit's message
/// when that fails. argv[0] may differ from the file run (-b).
pub fn run_program(file: &OsStr, argv: &[OsString], changes: &Changes) -> Die {
    let inherited = sys::environment();
    let path = crate::env::lookup(&inherited, b"PATH").map(<[u8]>::to_vec);
    let envp = changes.apply(inherited);
    let e = exec::exec(file.as_bytes(), argv, &envp, path.as_deref());
    Die::sys2("unable to run", argv[0].as_bytes(), &e)
}

/// Carries out a plan. Returns only on failure.
pub fn execute(plan: &Plan) -> Die {
    match apply(plan) {
        Ok(changes) => {
            let mut argv = plan.prog.clone();
            if let Some(a0) = &plan.argv0 {
                argv[0] = a0.clone();
            }
            run_program(&plan.prog[0], &argv, &changes)
        }
        Err(d) => d,
    }
}

/// Every change before exec, in runit's order.
fn apply(plan: &Plan) -> Result<Changes, Die> {
    let mut changes = Changes::default();
    if plan.new_session {
        // runit ignores failure (a group leader stays in its session).
        let _ = rustix::process::setsid();
    }
    if let Some(dir) = &plan.env_dir {
        // Read relative to the original root and working directory.
        envdir::read_into(dir, true, plan.verbose, &mut changes)?;
    }
    let chdir = |dir: &[u8]| {
        rustix::process::chdir(dir)
            .map_err(|e| Die::sys2("unable to change directory", dir, &e.into()))
    };
    if let Some(root) = &plan.root {
        chdir(root)?;
        rustix::process::chroot(".")
            .map_err(|e| Die::sys("unable to change root directory", &e.into()))?;
    }
    if let Some(dir) = &plan.chdir {
        chdir(dir)?;
    }
    if plan.nice != 0 {
        // runit passes its long to nice(int): truncated, as here.
        nice(plan.nice as i32).map_err(|e| Die::sys("unable to set nice level", &e.into()))?;
    }
    // User lookups happen here, after chroot: the new root's user
    // database is the one that counts, as in runit.
    if let Some(spec) = &plan.env_user {
        let ids = resolve_or_die(Spec::Ext(spec), &LibcDb)?;
        export_ids(&ids, &mut changes);
    }
    if let Some(spec) = &plan.set_user {
        let ids = resolve_or_die(Spec::Ext(spec), &LibcDb)?;
        privs::become_user(&ids)?;
    }
    if let Some((path, wait)) = &plan.lock {
        // As the new user, inside the new root.
        lock_or_die(path, *wait, false)?;
    }
    for (fd, name) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        if plan.close[fd] {
            sys::close_standard(fd as u8)
                .map_err(|e| Die::sys(&format!("unable to close {name}"), &e))?;
        }
    }
    plan.limits.apply()?;
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Plan, Usage> {
        let a: Vec<OsString> = v.iter().map(OsString::from).collect();
        parse(&a, b"chpst")
    }

    #[test]
    fn options() {
        let plan = p(&[
            "-vP012", "-u", "nobody", "-U:1:2", "-b", "x", "-e", "d", "-/", "/r", "-C", "/w", "-n",
            "-3", "-L", "lk", "-m", "5", "-o", "7", "prog", "-a",
        ])
        .unwrap();
        assert!(plan.verbose && plan.new_session && plan.close == [true; 3]);
        assert_eq!(plan.set_user.as_deref(), Some(&b"nobody"[..]));
        assert_eq!(plan.env_user.as_deref(), Some(&b":1:2"[..]));
        assert_eq!(plan.nice, -3);
        assert_eq!(plan.lock, Some((b"lk".to_vec(), false)));
        assert_eq!(plan.limits.stack, 5);
        assert_eq!(plan.limits.files, 7);
        assert_eq!(plan.limits.cpu, limits::UNSET);
        assert_eq!(plan.argv0.as_deref(), Some(OsStr::new("x")));
        assert_eq!(plan.prog, ["prog", "-a"]);
    }

    #[test]
    fn nice_forms() {
        assert_eq!(p(&["-n", "+2", "x"]).unwrap().nice, 2);
        assert_eq!(p(&["-n", "-", "x"]).unwrap().nice, 0);
        assert!(p(&["-n", "-+3", "x"]).is_err());
        assert!(p(&["-n", "x", "x"]).is_err());
    }

    #[test]
    fn usage_cases() {
        assert_eq!(p(&[]), Err(Usage(vec![])));
        assert_eq!(p(&["-v"]), Err(Usage(vec![])));
        assert_eq!(p(&["-l", "a", "-L", "b", "x"]), Err(Usage(vec![])));
        assert_eq!(p(&["-l", "a", "-l", "b", "x"]), Err(Usage(vec![])));
        assert_eq!(p(&["-m", "1k", "x"]), Err(Usage(vec![])));
        assert_eq!(
            p(&["-z", "x"]),
            Err(Usage(b"chpst: illegal option -- z\n".to_vec()))
        );
        assert_eq!(
            p(&["-u"]),
            Err(Usage(b"chpst: option requires an argument -- u\n".to_vec()))
        );
        assert_eq!(p(&["-V", "x"]), Err(Usage(version_line())));
        let v = version_line();
        assert!(v.starts_with(b"$Id: runit-rs ") && v.ends_with(b" $\n"));
        // Any word starting with "--" ends the options and is dropped.
        assert_eq!(p(&["--x", "prog"]).unwrap().prog, ["prog"]);
        assert_eq!(p(&["-", "prog"]).unwrap().prog, ["-", "prog"]);
    }
}
