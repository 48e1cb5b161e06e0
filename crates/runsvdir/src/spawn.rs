//! Starting `runsv NAME`, found through $PATH, as runit's runsvdir does:
//! a plain fork and exec (supervise_proto's [`Spawn`]), so runsvdir goes
//! on at once and a child that cannot exec reports that itself, in
//! runit's words, and exits 111.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use rustix::io::Errno;
use supervise_proto::spawn::{Group, Mask, Spawn};

/// Forks; the child execs `runsv NAME` in the current directory, in a
/// session of its own with `new_session` (-P). Returns the pid, or fork's
/// error.
pub fn runsv(dir: &[u8], name: &[u8], new_session: bool) -> Result<u32, Errno> {
    Spawn::new("runsv")
        .arg(OsStr::from_bytes(name))
        .search_path()
        .group(if new_session {
            Group::NewSession
        } else {
            Group::Inherit
        })
        // runsv starts with nothing blocked, whatever runsvdir inherited.
        .mask(Mask::Empty)
        .failure_message(failure_text(dir, name))
        .spawn()
}

/// `runsvdir DIR: fatal: unable to start runsv NAME: `
fn failure_text(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut failure = b"runsvdir ".to_vec();
    failure.extend_from_slice(dir);
    failure.extend_from_slice(b": fatal: unable to start runsv ");
    failure.extend_from_slice(name);
    failure.extend_from_slice(b": ");
    failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepares_the_failure_text() {
        assert_eq!(
            failure_text(b"/etc/service", b"getty-5"),
            b"runsvdir /etc/service: fatal: unable to start runsv getty-5: "
        );
        assert_eq!(runsv(b"d", b"a\0b", false), Err(Errno::INVAL));
    }
}
