//! Starting ./run, ./finish, log/run and control scripts, wired to the
//! log pipe as runit wires them. The forking is supervise_proto's
//! [`Spawn`]: the parent records the pid at once, and a child that cannot
//! exec prints runit's fatal message itself and exits 111, which the
//! supervisor handles like any other quick exit.

use std::os::fd::OwnedFd;

use rustix::io::Errno;
use supervise_proto::spawn::Spawn;

/// Where a child's standard input and output go.
pub enum Wiring<'a> {
    /// Inherit runsv's.
    Inherit,
    /// Standard output into the log pipe.
    ToLog(&'a OwnedFd),
    /// Standard input from the log pipe, in directory `log/`.
    FromLog(&'a OwnedFd),
}

/// Starts `prog` (`./run`, `./finish`, `control/x`) with `args`; `fail`
/// is the message the child prints, followed by the error text, when it
/// cannot exec. Returns the pid, or fork's error.
pub fn spawn(prog: &str, args: &[String], wiring: Wiring, fail: &str) -> Result<u32, Errno> {
    let s = Spawn::new(prog)
        .args(args)
        .failure_message(format!("{fail}: "));
    let s = match wiring {
        Wiring::Inherit => s,
        Wiring::ToLog(w) => s.fd(w, 1),
        Wiring::FromLog(r) => s.fd(r, 0).chdir("log"),
    };
    s.spawn()
}
