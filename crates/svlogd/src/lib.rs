//! svlogd, runit's logger: reads log lines on standard input and writes
//! them to one or more automatically rotated log directories.
//!
//! Modules: `options` (command line), `config` (a directory's config
//! file), `pmatch` (the pattern language), `stamp` (timestamps), `lines`
//! (cutting input into lines), `rotation` (when to rotate and prune),
//! `logdir` (one directory: opening it and routing lines to it, with
//! `logdir::write`, `logdir::rotate`, `logdir::processor` and
//! `logdir::udp` for its jobs), `logger` (the event loop), `msg` (runit's
//! diagnostics). The binary is entered from C's main (see
//! `supervise_proto::start`).

pub mod config;
pub mod lines;
pub mod logdir;
pub mod logger;
pub mod msg;
pub mod options;
pub mod pmatch;
pub mod rotation;
pub mod stamp;
#[cfg(test)]
mod testrng;

use std::ffi::OsString;

use rustix::process::Signal;

/// What svlogd prints, exiting 111, when memory runs out (runit's words);
/// main.rs's allocator says it (see `supervise_proto::start::NomemExit`).
pub const NOMEM: &[u8] = b"svlogd: fatal: out of memory.\n";

/// What svlogd prints when memory runs out once it holds input: it
/// sleeps three seconds and tries again, as runit's does, so no line it
/// took from the pipe is lost with the process.
pub const NOMEM_PAUSE: &[u8] = b"svlogd: pausing: out of memory.\n";

/// Runs svlogd with `argv` (including argv[0]); returns the exit code.
pub fn main_with(argv: Vec<OsString>) -> i32 {
    let argv0 = argv
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "svlogd".into());
    let opts = match options::parse(&argv0, argv.get(1..).unwrap_or(&[])) {
        Ok(o) => o,
        Err(u) => {
            msg::line(&[u.text(&argv0).trim_end_matches('\n').as_bytes(), b"\n"]);
            return 111;
        }
    };
    msg::set_verbose(opts.verbose);
    // runit keeps a handle on the starting directory and fails without one.
    if let Err(e) = rustix::fs::open(
        ".",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    ) {
        msg::fatal("unable to open current working directory", e);
    }
    let signals = match supervise_proto::selfpipe::Signals::install(&[
        Signal::TERM.as_raw(),
        Signal::HUP.as_raw(),
        Signal::ALARM.as_raw(),
        Signal::CHILD.as_raw(),
    ]) {
        Ok(s) => s,
        Err(e) => msg::fatal("unable to install signal handlers", e),
    };
    logger::Logger::new(&opts, signals).run()
}
