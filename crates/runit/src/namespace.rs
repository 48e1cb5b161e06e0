//! Telling a real machine's init from the init of a PID namespace
//! (a container, or a test).
//!
//! The kernel gives the initial PID namespace a fixed inode number
//! (PROC_PID_INIT_INO, 0xEFFFFFFC); every other PID namespace gets a fresh
//! one. Reading it needs /proc, which is often not mounted when a real
//! machine's init starts, so the answer is three-valued and callers treat
//! "unknown" like "initial": the safe side.

use std::os::unix::fs::MetadataExt;

const PROC_PID_INIT_INO: u64 = 0xEFFF_FFFC;

/// `Some(true)` in the machine's initial PID namespace, `Some(false)` in
/// another one, `None` when /proc cannot tell.
pub fn in_initial_pid_ns() -> Option<bool> {
    let md = std::fs::metadata("/proc/self/ns/pid").ok()?;
    Some(md.ino() == PROC_PID_INIT_INO)
}

/// Whether this process is PID 1 of a PID namespace other than the
/// machine's: a container's init.
pub fn is_container_init() -> bool {
    std::process::id() == 1 && in_initial_pid_ns() == Some(false)
}
