//! -l / -L and setlock: hold an exclusive flock on a file for the life of
//! the program. The descriptor is deliberately left open across exec
//! (the program holds the lock) and carries runit's open flags
//! (write-only, append, non-blocking; created mode 0600).

use std::ffi::CString;
use std::io;

/// Which step failed.
#[derive(Debug)]
pub enum LockError {
    Open(io::Error),
    Lock(io::Error),
}

/// Opens `path` and takes the lock, waiting for it when `wait`.
pub fn take(path: &[u8], wait: bool) -> Result<(), LockError> {
    let c = CString::new(path)
        .map_err(|_| LockError::Open(io::Error::from_raw_os_error(libc::ENOENT)))?;
    // SAFETY: a valid C string; the descriptor is intentionally leaked.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_WRONLY | libc::O_NONBLOCK | libc::O_APPEND | libc::O_CREAT,
            0o600 as libc::c_uint,
        )
    };
    if fd == -1 {
        return Err(LockError::Open(io::Error::last_os_error()));
    }
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    loop {
        // SAFETY: fd is open.
        if unsafe { libc::flock(fd, op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(LockError::Lock(e));
        }
    }
}
