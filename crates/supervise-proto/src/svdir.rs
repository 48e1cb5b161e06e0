//! The service directory as runit lays it out, and the handshakes clients
//! use on it: the `ok` FIFO probe ("is a runsv here?"), the lock, the
//! control FIFO and the status file.
//!
//! ```text
//! SERVICE/run  finish  down  check  control/X  log/
//! SERVICE/supervise/{control,ok,lock,status,stat,pid}   (or a symlink)
//! SERVICE/log/supervise/...                             (same files)
//! ```
//!
//! Paths are relative to the service directory; tools chdir into it first,
//! as runit's do.

use std::fs::File;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{flock, open, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::status::RUNIT_STATUS_LEN;

/// The program runsv starts.
pub const RUN: &str = "run";
/// Started after ./run exits, with its exit code and status byte.
pub const FINISH: &str = "finish";
/// argv[0] of the two, as runsv spells it (and the path it executes).
pub const RUN_ARGV0: &str = "./run";
pub const FINISH_ARGV0: &str = "./finish";
/// Its presence means "normally down": runsv does not start ./run itself.
pub const DOWN: &str = "down";
/// sv runs it to decide whether a service is available.
pub const CHECK: &str = "check";
/// The log service's directory.
pub const LOG: &str = "log";
/// `down` of the log service: the log is normally down too.
pub const LOG_DOWN: &str = "log/down";
/// Custom control scripts live here, one per control byte.
pub const CONTROL_DIR: &str = "control";
/// The supervisor's state directory (may be a symlink).
pub const SUPERVISE: &str = "supervise";

/// The files inside `supervise/` of the main service or of its log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SuperviseFiles {
    pub dir: &'static str,
    pub control: &'static str,
    pub ok: &'static str,
    pub lock: &'static str,
    pub status: &'static str,
    pub status_new: &'static str,
    pub stat: &'static str,
    pub stat_new: &'static str,
    pub pid: &'static str,
    pub pid_new: &'static str,
}

/// `supervise/...` of the service itself.
pub const MAIN_FILES: SuperviseFiles = SuperviseFiles {
    dir: "supervise",
    control: "supervise/control",
    ok: "supervise/ok",
    lock: "supervise/lock",
    status: "supervise/status",
    status_new: "supervise/status.new",
    stat: "supervise/stat",
    stat_new: "supervise/stat.new",
    pid: "supervise/pid",
    pid_new: "supervise/pid.new",
};

/// `log/supervise/...` of its log service.
pub const LOG_FILES: SuperviseFiles = SuperviseFiles {
    dir: "log/supervise",
    control: "log/supervise/control",
    ok: "log/supervise/ok",
    lock: "log/supervise/lock",
    status: "log/supervise/status",
    status_new: "log/supervise/status.new",
    stat: "log/supervise/stat",
    stat_new: "log/supervise/stat.new",
    pid: "log/supervise/pid",
    pid_new: "log/supervise/pid.new",
};

/// The path of custom control script `control/X` for control byte `c`.
pub fn control_script(c: u8) -> PathBuf {
    let mut p = PathBuf::from(CONTROL_DIR);
    p.push(std::str::from_utf8(&[c]).unwrap_or("?"));
    p
}

/// Asks whether a supervisor holds `base/supervise/ok` open for reading.
///
/// Opening a FIFO for writing without blocking succeeds only while some
/// process has it open for reading, and runsv (like daemontools' supervise)
/// keeps it so for its whole life. `Ok(false)` means nobody is there
/// (ENXIO); other failures (no `supervise/`, no permission) are errors for
/// the caller to word.
pub fn supervisor_running(base: &Path) -> Result<bool, Errno> {
    match in_dir(base, MAIN_FILES.ok, |p| {
        open(
            p,
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
    }) {
        Ok(_fd) => Ok(true),
        Err(Errno::NXIO) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes control bytes to `base/supervise/control` without blocking.
/// ENXIO from the open means no supervisor is reading it.
pub fn send_control(base: &Path, bytes: &[u8]) -> Result<(), ControlError> {
    let fd = in_dir(base, MAIN_FILES.control, |p| {
        open(
            p,
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
    })
    .map_err(ControlError::Open)?;
    match rustix::io::write(&fd, bytes) {
        Ok(n) if n == bytes.len() => Ok(()),
        Ok(_) => Err(ControlError::Write(Errno::AGAIN)),
        Err(e) => Err(ControlError::Write(e)),
    }
}

/// Why control bytes could not be delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlError {
    Open(Errno),
    Write(Errno),
}

/// Why a status file could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusReadError {
    /// `unable to open supervise/status`
    Open(Errno),
    /// `unable to read supervise/status`
    Read(Errno),
}

/// Reads the first bytes of `base/supervise/status` (at most 20) with one
/// read, as runit's tools do; the caller decides which lengths it accepts.
/// runsv replaces the file by rename, so a read never sees half a record.
pub fn read_status_bytes(base: &Path) -> Result<Vec<u8>, StatusReadError> {
    in_dir(base, MAIN_FILES.status, read_status_file)
}

/// Calls `f` with `base/rel`. sv and svstat work from inside the service
/// directory (base "."), where `rel` itself will do: no path is built, so
/// a status over a thousand services allocates nothing for it.
fn in_dir<T>(base: &Path, rel: &str, f: impl FnOnce(&Path) -> T) -> T {
    if base == Path::new(".") {
        f(Path::new(rel))
    } else {
        f(&base.join(rel))
    }
}

/// As [`read_status_bytes`] for an explicit status file path.
pub fn read_status_file(path: &Path) -> Result<Vec<u8>, StatusReadError> {
    // Without blocking, as runit opens it: a FIFO in its place then reads
    // as empty (bad format) instead of hanging the tool.
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let mut f = File::from(open(path, flags, Mode::empty()).map_err(StatusReadError::Open)?);
    let mut buf = vec![0u8; RUNIT_STATUS_LEN];
    let n = loop {
        match f.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StatusReadError::Read(errno_of(&e))),
        }
    };
    buf.truncate(n);
    Ok(buf)
}

/// Why a setting file in the service directory was not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingError {
    /// open, fstat or read failed.
    Io(Errno),
    /// A FIFO, directory, device...: never read (a FIFO could block).
    NotRegular,
    /// Longer than the setting allows.
    TooLarge,
}

/// Reads a setting file of the service directory (`notification-fd`,
/// `log/notify-socket`, ...), as runsv does at each start of ./run:
/// `Ok(None)` when it does not exist. It is opened without blocking and
/// read only when it is a regular file of at most `max` bytes.
pub fn read_setting(path: &str, max: usize) -> Result<Option<Vec<u8>>, SettingError> {
    crate::fdio::read_small_file(Path::new(path), max).map_err(|e| match e {
        Errno::INVAL => SettingError::NotRegular,
        Errno::FBIG => SettingError::TooLarge,
        e => SettingError::Io(e),
    })
}

/// Opens (creating, mode 0600) a supervisor lock file for appending, as
/// runit does, close-on-exec.
pub fn open_lock(path: &Path) -> Result<OwnedFd, Errno> {
    open(
        path,
        OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o600),
    )
}

/// Takes the exclusive lock without waiting; EWOULDBLOCK means another
/// supervisor holds it.
pub fn try_lock(fd: &OwnedFd) -> Result<(), Errno> {
    flock(fd, FlockOperation::NonBlockingLockExclusive)
}

/// Takes the exclusive lock, waiting for it.
pub fn lock_wait(fd: &OwnedFd) -> Result<(), Errno> {
    flock(fd, FlockOperation::LockExclusive)
}

/// The errno of an I/O error (EIO when it has none).
pub fn errno_of(e: &std::io::Error) -> Errno {
    e.raw_os_error()
        .map(Errno::from_raw_os_error)
        .unwrap_or(Errno::IO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::fs::{mkfifoat, CWD};

    fn mkfifo(p: std::path::PathBuf, m: Mode) -> Result<(), Errno> {
        mkfifoat(CWD, &p, m)
    }

    #[test]
    fn probe_without_reader_is_not_running() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(supervisor_running(t.path()), Err(Errno::NOENT));
        std::fs::create_dir(t.path().join("supervise")).unwrap();
        mkfifo(t.path().join(MAIN_FILES.ok), Mode::from_raw_mode(0o600)).unwrap();
        assert_eq!(supervisor_running(t.path()), Ok(false));
        let _reader = open(
            t.path().join(MAIN_FILES.ok),
            OFlags::RDONLY | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .unwrap();
        assert_eq!(supervisor_running(t.path()), Ok(true));
    }

    #[test]
    fn control_bytes_arrive_in_order() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir(t.path().join("supervise")).unwrap();
        mkfifo(
            t.path().join(MAIN_FILES.control),
            Mode::from_raw_mode(0o600),
        )
        .unwrap();
        assert_eq!(
            send_control(t.path(), b"x"),
            Err(ControlError::Open(Errno::NXIO))
        );
        let reader = open(
            t.path().join(MAIN_FILES.control),
            OFlags::RDONLY | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .unwrap();
        send_control(t.path(), b"tcu").unwrap();
        let mut buf = [0u8; 8];
        let n = rustix::io::read(&reader, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"tcu");
    }

    #[test]
    fn status_reads() {
        let t = tempfile::tempdir().unwrap();
        assert!(matches!(
            read_status_bytes(t.path()),
            Err(StatusReadError::Open(Errno::NOENT))
        ));
        std::fs::create_dir(t.path().join("supervise")).unwrap();
        std::fs::write(t.path().join(MAIN_FILES.status), [7u8; 25]).unwrap();
        assert_eq!(read_status_bytes(t.path()).unwrap(), vec![7u8; 20]);
        std::fs::write(t.path().join(MAIN_FILES.status), [7u8; 18]).unwrap();
        assert_eq!(read_status_bytes(t.path()).unwrap().len(), 18);
        std::fs::create_dir(t.path().join("dir")).unwrap();
        assert!(matches!(
            read_status_file(&t.path().join("dir")),
            Err(StatusReadError::Read(Errno::ISDIR))
        ));
        // A FIFO with no writer: empty, at once.
        mkfifo(t.path().join("fifo"), Mode::from_raw_mode(0o600)).unwrap();
        assert_eq!(read_status_file(&t.path().join("fifo")).unwrap(), b"");
    }

    #[test]
    fn lock_is_exclusive() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("lock");
        let a = open_lock(&p).unwrap();
        try_lock(&a).unwrap();
        let b = open_lock(&p).unwrap();
        assert_eq!(try_lock(&b), Err(Errno::WOULDBLOCK));
        drop(a);
        try_lock(&b).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn setting_files() {
        let t = tempfile::tempdir().unwrap();
        let p = |n: &str| t.path().join(n).to_str().unwrap().to_string();
        assert_eq!(read_setting(&p("absent"), 8), Ok(None));
        std::fs::write(p("small"), b"12\n").unwrap();
        assert_eq!(read_setting(&p("small"), 8), Ok(Some(b"12\n".to_vec())));
        std::fs::write(p("big"), [b'1'; 9]).unwrap();
        assert_eq!(read_setting(&p("big"), 8), Err(SettingError::TooLarge));
        assert_eq!(read_setting(&p("big"), 9).unwrap().unwrap().len(), 9);
        std::fs::create_dir(p("dir")).unwrap();
        assert_eq!(read_setting(&p("dir"), 8), Err(SettingError::NotRegular));
        // A FIFO with no writer: refused without blocking.
        mkfifo(t.path().join("fifo"), Mode::from_raw_mode(0o600)).unwrap();
        assert_eq!(read_setting(&p("fifo"), 8), Err(SettingError::NotRegular));
        std::os::unix::fs::symlink("nowhere", p("dangling")).unwrap();
        assert_eq!(read_setting(&p("dangling"), 8), Ok(None));
    }

    #[test]
    fn layout_names() {
        assert_eq!(control_script(b't'), PathBuf::from("control/t"));
        assert_eq!(LOG_FILES.status, format!("{}/{}", LOG, MAIN_FILES.status));
        assert_eq!(LOG_DOWN, format!("{LOG}/{DOWN}"));
        assert_eq!((RUN_ARGV0, FINISH_ARGV0), ("./run", "./finish"));
        assert!(RUN_ARGV0.ends_with(RUN) && FINISH_ARGV0.ends_with(FINISH));
    }
}
