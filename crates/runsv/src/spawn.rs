//! Starting ./run, ./finish, log/run and control scripts.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use rustix::io::Errno;
use supervise_proto::svdir::errno_of;

/// Where a child's standard input and output go.
pub enum Wiring<'a> {
    /// Inherit runsv's.
    Inherit,
    /// Standard output into the log pipe.
    ToLog(&'a OwnedFd),
    /// Standard input from the log pipe, in directory `log/`.
    FromLog(&'a OwnedFd),
}

/// Why a child could not be started.
pub enum SpawnError {
    /// fork itself failed (runit sleeps and retries).
    Fork(Errno),
    /// The program could not be executed (runit's child prints a fatal
    /// message and exits 111).
    Exec(Errno),
}

/// Starts `prog` (`./run`, `./finish`, `control/x`) with `args`.
pub fn spawn(prog: &str, args: &[String], wiring: Wiring) -> Result<u32, SpawnError> {
    let mut cmd = Command::new(prog);
    cmd.args(args);
    match wiring {
        Wiring::Inherit => {}
        Wiring::ToLog(w) => {
            cmd.stdout(stdio_dup(w)?);
        }
        Wiring::FromLog(r) => {
            cmd.stdin(stdio_dup(r)?).current_dir("log");
        }
    }
    // argv[0] is the program as runit passes it.
    cmd.arg0(prog);
    match cmd.spawn() {
        Ok(child) => Ok(child.id()),
        Err(e) => {
            let errno = errno_of(&e);
            if errno == Errno::AGAIN || errno == Errno::NOMEM {
                Err(SpawnError::Fork(errno))
            } else {
                Err(SpawnError::Exec(errno))
            }
        }
    }
}

fn stdio_dup(fd: &OwnedFd) -> Result<Stdio, SpawnError> {
    fd.as_fd()
        .try_clone_to_owned()
        .map(Stdio::from)
        .map_err(|e| SpawnError::Fork(errno_of(&e)))
}
