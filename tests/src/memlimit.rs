//! A tight address-space limit (RLIMIT_AS) for a program under test, and
//! lifting it later, for the out-of-memory tests and the soak.

use std::os::unix::process::CommandExt;
use std::process::Command;

use rustix::process::{Pid, Resource, Rlimit};

/// Makes `cmd` start with at most `soft` bytes of address space. `hard`
/// None leaves the hard limit unlimited, so [`lift`] can raise it again.
pub fn limit(cmd: &mut Command, soft: u64, hard: Option<u64>) {
    // SAFETY: setrlimit is a plain system call, safe between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let l = Rlimit {
                current: Some(soft),
                maximum: hard,
            };
            rustix::process::setrlimit(Resource::As, l)?;
            Ok(())
        });
    }
}

/// Lifts the soft limit [`limit`] gave the running process `pid`.
pub fn lift(pid: u32) -> std::io::Result<()> {
    let unlimited = Rlimit {
        current: None,
        maximum: None,
    };
    let pid = Pid::from_raw(pid as i32).ok_or(std::io::ErrorKind::InvalidInput)?;
    rustix::process::prlimit(Some(pid), Resource::As, unlimited)?;
    Ok(())
}
