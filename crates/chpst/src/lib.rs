//! chpst: run a program with a changed process state, as runit 2.1.2's
//! chpst does; called as envdir, envuidgid, pgrphack, setlock, setuidgid
//! or softlimit it behaves as that daemontools program.
//!
//! Everything returns a [`die::Die`] instead of exiting, so the whole
//! flow can be driven from tests; only `main` exits.

pub mod chpst;
pub mod die;
pub mod env;
pub mod envdir;
pub mod exec;
pub mod ids;
pub mod limits;
pub mod lock;
pub mod personality;
pub mod privs;
pub mod sys;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use die::Die;
use ids::{IdError, Ids, UserDb};

/// How an account was given.
pub enum Spec<'a> {
    /// `[:]user[:group...]` (chpst -u / -U): failures say "user/group".
    Ext(&'a [u8]),
    /// A plain name (setuidgid, envuidgid): failures say "account".
    Account(&'a [u8]),
}

/// Resolves an account with runit's failure messages.
pub fn resolve_or_die(spec: Spec, db: &impl UserDb) -> Result<Ids, Die> {
    match spec {
        Spec::Ext(s) => ids::resolve_ext(s, db).map_err(|e| match e {
            IdError::Invalid => Die::x2("invalid uid/gids", &s[1..]),
            IdError::Unknown => Die::x2("unknown user/group", s),
            IdError::Lookup(e) => Die::sys("unable to get password/group file entry", &e),
        }),
        Spec::Account(s) => ids::resolve_account(s, db).map_err(|e| match e {
            IdError::Lookup(e) => Die::sys("unable to get password file entry", &e),
            _ => Die::x2("unknown account", s),
        }),
    }
}

/// The basename of argv[0].
fn basename(arg0: &[u8]) -> &[u8] {
    match arg0.iter().rposition(|&b| b == b'/') {
        Some(i) => &arg0[i + 1..],
        None => arg0,
    }
}

/// Runs chpst (or a personality) with the full argv; returns only on
/// failure, with what to print and the exit code.
pub fn run(argv: &[OsString]) -> Die {
    let optprog = argv
        .first()
        .map_or(&b"chpst"[..], |a| basename(a.as_bytes()));
    // runit drops one leading 'd' before matching the name.
    let prog = optprog.strip_prefix(b"d").unwrap_or(optprog);
    let args = argv.get(1..).unwrap_or_default();
    let names = personality::Names { prog, optprog };
    if let Some(which) = personality::NAMES.iter().find(|n| n.as_bytes() == prog) {
        return personality::run(which, &names, args);
    }
    match chpst::parse(args, optprog) {
        Ok(plan) => chpst::execute(&plan),
        Err(chpst::Usage(prefix)) => Die::usage(&prefix, prog, chpst::USAGE),
    }
}
