//! Starting ./run, ./finish, log/run and control scripts, wired to the
//! log pipe as runit wires them. The forking is supervise_proto's
//! [`Spawn`]: the parent records the pid at once, and a child that cannot
//! exec prints runit's fatal message itself and exits 111, which the
//! supervisor handles like any other quick exit.

use std::os::fd::OwnedFd;

use rustix::io::Errno;
use supervise_proto::notify::NOTIFY_SOCKET_VAR;
use supervise_proto::selfpipe;
use supervise_proto::spawn::Spawn;

use crate::readiness::Handoff;
use crate::stop::Placement;

/// Where a child's standard input and output go.
pub enum Wiring<'a> {
    /// Inherit runsv's.
    Inherit,
    /// Standard output into the log pipe.
    ToLog(&'a OwnedFd),
    /// Standard input from the log pipe, in directory `log/`.
    FromLog(&'a OwnedFd),
}

/// Starts `prog` (`./run`, `./finish`, `control/x`) with `args`, in the
/// process group and cgroup `place` names (the stop settings); `fail` is
/// the message the child prints, followed by the error text, when it
/// cannot exec. `notify` is what ./run gets for readiness notification
/// (nothing for the others). Returns the pid, or fork's error.
pub fn spawn(
    prog: &str,
    args: &[String],
    wiring: Wiring,
    place: Placement,
    fail: &str,
    notify: &Handoff,
) -> Result<u32, Errno> {
    let s = Spawn::new(prog)
        .args(args)
        .group(place.group)
        .handlers_only(&selfpipe::handlers())
        .until_exec()
        .failure_message(format!("{fail}: "));
    let s = match place.cgroup {
        Some(procs) => s.join_cgroup(procs),
        None => s,
    };
    let s = match wiring {
        Wiring::Inherit => s,
        Wiring::ToLog(w) => s.fd(w, 1),
        Wiring::FromLog(r) => s.fd(r, 0).chdir("log"),
    };
    let s = match &notify.fd {
        Some((w, n)) => s.fd(w, *n),
        None => s,
    };
    let s = match &notify.socket {
        Some(addr) => s.env_var(NOTIFY_SOCKET_VAR, addr),
        None => s,
    };
    s.spawn()
}
