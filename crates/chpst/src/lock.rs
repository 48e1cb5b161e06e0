//! -l / -L and setlock: hold an exclusive flock on a file for the life of
//! the program. The descriptor is deliberately left open across exec
//! (the program holds the lock) and carries runit's open flags
//! (write-only, append, non-blocking; created mode 0600).

use std::io;

use rustix::fs::{flock, open, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

/// Which step failed.
#[derive(Debug)]
pub enum LockError {
    Open(io::Error),
    Lock(io::Error),
}

/// Opens `path` and takes the lock, waiting for it when `wait`.
pub fn take(path: &[u8], wait: bool) -> Result<(), LockError> {
    // No CLOEXEC: the program chpst runs inherits the descriptor.
    let flags = OFlags::WRONLY | OFlags::NONBLOCK | OFlags::APPEND | OFlags::CREATE;
    let fd =
        open(path, flags, Mode::from_raw_mode(0o600)).map_err(|e| LockError::Open(e.into()))?;
    let op = if wait {
        FlockOperation::LockExclusive
    } else {
        FlockOperation::NonBlockingLockExclusive
    };
    loop {
        match flock(&fd, op) {
            Ok(()) => break,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(LockError::Lock(e.into())),
        }
    }
    // Kept open for good: the lock lasts as long as the program runs.
    std::mem::forget(fd);
    Ok(())
}
