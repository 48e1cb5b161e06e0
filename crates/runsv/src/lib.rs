//! runsv: supervise one service directory (and its `log/` service).
//!
//! The work splits into: [`setup`] (the supervise/ directories, locks and
//! FIFOs), [`access`] (the groups that may read the status or control the
//! service), [`plan`] (what a control byte means: a pure function, unit
//! tested), [`service`] (one supervised process and its status files) and
//! [`supervisor`] (the single poll loop that ties them together).

mod access;
pub mod backoff;
mod cgroup;
mod deaths;
mod exits;
mod msg;
pub mod plan;
mod readiness;
mod service;
mod settings;
mod setup;
mod spawn;
pub mod stop;
mod supervisor;

use std::ffi::OsString;

/// Runs runsv with its command line; returns the exit code.
pub fn run(args: &[OsString]) -> i32 {
    let prog = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "runsv".into());
    if args.len() != 2 {
        msg::say(format_args!("usage: {prog} dir\n\n"));
        return 1;
    }
    let dir = args[1].to_string_lossy().into_owned();
    let msg = msg::Messages::new(&dir);
    match supervisor::Supervisor::start(&args[1], msg) {
        Ok(mut s) => s.run(),
        Err(code) => code,
    }
}
