//! Looking at one service directory: the system calls, in daemontools'
//! order, each failure stopping the inspection where it happened.

use std::ffi::OsStr;
use std::path::Path;

use rustix::fs::{open, Mode, OFlags};
use rustix::io::Errno;
use supervise_proto::status::DAEMONTOOLS_STATUS_LEN;
use supervise_proto::svdir::{read_status_file, StatusReadError, DOWN, MAIN_FILES};
use supervise_proto::xstatus::{Readiness, XStatus, MAIN_XSTATUS};
use supervise_proto::Status;

/// What was learned about one directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    /// A supervisor runs; its record, whether `./down` exists, and the
    /// readiness of a service that opted in to notification.
    Supervised {
        status: Status,
        normally_up: bool,
        readiness: Readiness,
    },
    /// `supervise/ok` has no reader.
    NotRunning,
    /// Something could not be done; the step and its errno.
    Failed(Step, Errno),
    /// The status file is shorter than daemontools' 18 bytes.
    BadFormat,
}

/// The step that failed, named as the message names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Chdir,
    StatDown,
    OpenOk,
    OpenStatus,
    ReadStatus,
}

/// Changes into `dir` and inspects it. The caller changes back.
pub fn inspect(dir: &OsStr) -> Finding {
    if let Err(e) = rustix::process::chdir(dir) {
        return Finding::Failed(Step::Chdir, e);
    }
    // Only existence matters; a dangling symlink counts as absent.
    let normally_up = match rustix::fs::stat(DOWN) {
        Ok(_) => false,
        Err(Errno::NOENT) => true,
        Err(e) => return Finding::Failed(Step::StatDown, e),
    };
    match open(
        MAIN_FILES.ok,
        OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(_fd) => {}
        Err(Errno::NXIO) => return Finding::NotRunning,
        Err(e) => return Finding::Failed(Step::OpenOk, e),
    }
    let bytes = match read_status_file(Path::new(MAIN_FILES.status)) {
        Ok(b) => b,
        Err(StatusReadError::Open(e)) => return Finding::Failed(Step::OpenStatus, e),
        Err(StatusReadError::Read(e)) => return Finding::Failed(Step::ReadStatus, e),
    };
    let mut finding = decode(&bytes, normally_up);
    if let Finding::Supervised { readiness, .. } = &mut finding {
        // Judged on runit's whole record where there is one: a service
        // in ./finish is no longer "ready".
        if let Ok(full) = Status::decode(&bytes) {
            let x = XStatus::read(Path::new(MAIN_XSTATUS));
            *readiness = XStatus::readiness(x.as_ref(), &full);
        }
    }
    finding
}

/// daemontools reads 18 bytes and looks at nothing beyond them, so runit's
/// 20-byte record (and anything longer) is judged by its first 18 bytes:
/// a runsv in ./finish therefore shows as "up", exactly as with
/// daemontools' own svstat.
pub fn decode(bytes: &[u8], normally_up: bool) -> Finding {
    if bytes.len() < DAEMONTOOLS_STATUS_LEN {
        return Finding::BadFormat;
    }
    match Status::decode(&bytes[..DAEMONTOOLS_STATUS_LEN]) {
        Ok(status) => Finding::Supervised {
            status,
            normally_up,
            readiness: Readiness::NotNotifying,
        },
        // Cannot happen for 18 bytes; kept total rather than panicking.
        Err(_) => Finding::BadFormat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use supervise_proto::RunState;

    #[test]
    fn short_records_are_bad_format() {
        assert_eq!(decode(&[0; 17], true), Finding::BadFormat);
        assert_eq!(decode(&[], true), Finding::BadFormat);
    }

    #[test]
    fn runit_finish_reads_as_up() {
        // runsv in ./finish: pid of finish, state byte 2.
        let mut b = [0u8; 20];
        b[..8].copy_from_slice(&0x4000_0000_6b01_41ceu64.to_be_bytes());
        b[12..16].copy_from_slice(&4242u32.to_le_bytes());
        b[17] = b'd';
        b[19] = 2;
        match decode(&b, true) {
            Finding::Supervised { status, .. } => {
                assert_eq!(status.pid, 4242);
                assert_eq!(status.state, RunState::Run);
            }
            other => panic!("{other:?}"),
        }
        // Even a state byte runit never writes does not matter.
        b[19] = 9;
        assert!(matches!(decode(&b, true), Finding::Supervised { .. }));
    }
}
