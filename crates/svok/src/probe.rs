//! The one question svok asks: does some process hold `supervise/ok`
//! open for reading? runsv and daemontools' supervise both keep that FIFO
//! open for their whole life, so opening it for writing without blocking
//! succeeds exactly while one of them runs.

use std::ffi::OsStr;
use std::path::Path;

use rustix::io::Errno;
use supervise_proto::errno_str;
use supervise_proto::svdir::supervisor_running;

/// What svok found out about a directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A supervisor holds `supervise/ok` open.
    Running,
    /// Nobody reads `supervise/ok` (ENXIO), or it does not exist at all:
    /// a directory never supervised is simply "not running".
    NotRunning,
    /// The question could not be asked.
    Failed(Failure),
}

/// Why the question could not be asked.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    Chdir(Errno),
    OpenOk(Errno),
}

impl Failure {
    /// daemontools' fatal message, naming the directory as given.
    pub fn message(&self, dir: &[u8]) -> Vec<u8> {
        let (before, after, e) = match self {
            Failure::Chdir(e) => (&b"svok: fatal: unable to chdir to "[..], &b": "[..], e),
            Failure::OpenOk(e) => (
                &b"svok: fatal: unable to open "[..],
                &b"/supervise/ok: "[..],
                e,
            ),
        };
        let mut m = Vec::with_capacity(before.len() + dir.len() + 40);
        m.extend_from_slice(before);
        m.extend_from_slice(dir);
        m.extend_from_slice(after);
        m.extend_from_slice(errno_str(*e).as_bytes());
        m.push(b'\n');
        m
    }
}

/// Changes into `dir` (as daemontools does, so that a `dir` that is not a
/// directory reads as "unable to chdir") and probes `supervise/ok`.
pub fn check(dir: &OsStr) -> Verdict {
    if let Err(e) = rustix::process::chdir(dir) {
        return Verdict::Failed(Failure::Chdir(e));
    }
    classify(supervisor_running(Path::new(".")))
}

/// Maps the probe's result to svok's three answers.
fn classify(probe: Result<bool, Errno>) -> Verdict {
    match probe {
        Ok(true) => Verdict::Running,
        Ok(false) | Err(Errno::NOENT) => Verdict::NotRunning,
        Err(e) => Verdict::Failed(Failure::OpenOk(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(Ok(true)), Verdict::Running);
        assert_eq!(classify(Ok(false)), Verdict::NotRunning);
        assert_eq!(classify(Err(Errno::NOENT)), Verdict::NotRunning);
        assert_eq!(
            classify(Err(Errno::ISDIR)),
            Verdict::Failed(Failure::OpenOk(Errno::ISDIR))
        );
    }

    #[test]
    fn messages() {
        assert_eq!(
            Failure::Chdir(Errno::NOENT).message(b"/x"),
            b"svok: fatal: unable to chdir to /x: file does not exist\n"
        );
        assert_eq!(
            Failure::OpenOk(Errno::NOTDIR).message(b"g"),
            b"svok: fatal: unable to open g/supervise/ok: not a directory\n"
        );
    }
}
