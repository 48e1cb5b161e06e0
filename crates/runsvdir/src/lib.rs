//! runsvdir: start and monitor a runsv(8) for every service directory in a
//! services directory, as runit 2.1.2's runsvdir does, but acting on a
//! change at once (inotify) and with no limit on the number of services.

pub mod args;
pub mod daemon;
pub mod msg;
pub mod proctitle;
pub mod spawn;
pub mod table;
pub mod watch;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{Mode, OFlags, CWD};
use rustix::pipe::{pipe_with, PipeFlags};

use crate::msg::Messages;
use crate::proctitle::Title;

/// Runs runsvdir with a full argv; returns the exit code.
pub fn run(argv: &[OsString]) -> i32 {
    let prog = argv.first().map_or(&b"runsvdir"[..], |a| a.as_bytes());
    let Some(opts) = args::parse(argv) else {
        return msg::usage(prog);
    };
    let msgs = Messages::new(&opts.dir);

    let mut log = None;
    if let Some((index, text)) = &opts.log {
        if text.len() < args::MIN_LOG_LEN {
            msgs.warn(&[b"log must have at least seven characters."]);
            msgs.warn(&[b"log service disabled."]);
        } else {
            log = setup_log(&msgs).map(|fd| (fd, Title::new(*index, text)));
        }
    }

    // Relative services paths are resolved from here at every check.
    let home = match rustix::fs::openat(
        CWD,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) => {
            msgs.fatal_errno(&[b"unable to open current directory"], e);
            return msg::FATAL;
        }
    };
    let cfg = daemon::Config {
        dir: opts.dir.clone(),
        new_session: opts.new_session,
        log,
    };
    match daemon::Daemon::new(cfg, msgs.clone(), home) {
        Ok(mut d) => d.run(),
        Err(e) => {
            msgs.fatal_errno(
                &[b"unable to install signal handlers"],
                supervise_proto::svdir::errno_of(&e),
            );
            msg::FATAL
        }
    }
}

/// Makes stderr a non-blocking pipe that runsvdir reads itself (children
/// inherit it, so their messages land in the status area too). Returns
/// the read end, close-on-exec.
fn setup_log(msgs: &Messages) -> Option<rustix::fd::OwnedFd> {
    let Ok((r, w)) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK) else {
        msgs.warn(&[b"unable to create pipe for log."]);
        msgs.warn(&[b"log service disabled."]);
        return None;
    };
    // dup2 clears close-on-exec on fd 2: runsv and ./run inherit it.
    if rustix::stdio::dup2_stderr(&w).is_err() {
        msgs.warn(&[b"unable to set filedescriptor for log."]);
        msgs.warn(&[b"log service disabled."]);
        return None;
    }
    Some(r)
}
