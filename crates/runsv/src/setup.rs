//! Preparing a service directory for supervision: `supervise/` (following
//! a dangling symlink one level, as distributions rely on), the lock, and
//! the control and ok FIFOs, with runit's modes and messages; and the
//! group access a service's settings ask for.

use std::os::fd::OwnedFd;

use rustix::fs::{
    chmod, chown, mkdir, mkfifoat, open, readlink, stat, FileType, Gid, Mode, OFlags, CWD,
};
use rustix::io::Errno;
use supervise_proto::svdir::{lock_wait, open_lock, try_lock, SuperviseFiles};

use crate::access::Access;
use crate::msg::Messages;
use crate::service::Service;

/// Creates `supervise/` (or `log/supervise/`). When it is a symlink that
/// points nowhere, the target directory is created instead; a relative
/// target is resolved in the directory holding the link.
pub fn make_supervise_dir(files: &SuperviseFiles, msg: &Messages) -> Result<(), i32> {
    let name = files.dir;
    // "" for the service, "log/" for its log.
    let base = name.rsplit_once('/').map_or("", |(b, _)| &name[..=b.len()]);
    if mkdir(name, Mode::from_raw_mode(0o700)).is_ok() {
        return Ok(());
    }
    match readlink(name, Vec::new()) {
        Ok(target) => {
            let target = target.to_bytes();
            if target.len() >= 256 {
                return Err(msg.fatalx(&format!("unable to readlink ./{name}: name too long")));
            }
            let t = String::from_utf8_lossy(target).into_owned();
            // A relative target is relative to the directory holding the link.
            let path = if t.starts_with('/') {
                t
            } else {
                format!("{base}{t}")
            };
            let _ = mkdir(path.as_str(), Mode::from_raw_mode(0o700));
            Ok(())
        }
        Err(Errno::NOENT) | Err(Errno::INVAL) => Ok(()),
        Err(e) => Err(msg.fatal(&format!("unable to readlink ./{name}"), e)),
    }
}

/// Opens and locks `supervise/lock`. The service's lock is tried once (a
/// second runsv fails at once); the log's is waited for, as runit does.
pub fn lock(files: &SuperviseFiles, wait: bool, msg: &Messages) -> Result<OwnedFd, i32> {
    let fd = open_lock(files.lock.as_ref())
        .map_err(|e| msg.fatal(&format!("unable to open {}", files.lock), e))?;
    let r = if wait {
        loop {
            match lock_wait(&fd) {
                Err(Errno::INTR) => continue,
                other => break other,
            }
        }
    } else {
        try_lock(&fd)
    };
    r.map_err(|e| msg.fatal(&format!("unable to lock {}", files.lock), e))?;
    Ok(fd)
}

/// Makes a FIFO (mode 0600) unless it exists; refuses a non-FIFO.
fn make_fifo(path: &str, msg: &Messages) -> Result<(), i32> {
    match mkfifoat(CWD, path, Mode::from_raw_mode(0o600)) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => match stat(path) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Fifo => Ok(()),
            Ok(_) => Err(msg.fatalx(&format!("{path} exists but is not a fifo"))),
            Err(e) => Err(msg.fatal(&format!("unable to stat {path}"), e)),
        },
        Err(e) => Err(msg.fatal(&format!("unable to create {path}"), e)),
    }
}

fn open_fifo(path: &str, flags: OFlags, msg: &Messages) -> Result<OwnedFd, i32> {
    open(
        path,
        flags | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| msg.fatal(&format!("unable to open {path}"), e))
}

/// The control FIFO, opened for reading and (so it never reports
/// end-of-file) for writing.
pub fn control_fifo(svc: &mut Service, msg: &Messages) -> Result<(), i32> {
    make_fifo(svc.files.control, msg)?;
    svc.control_fd = Some(open_fifo(svc.files.control, OFlags::RDONLY, msg)?);
    svc.control_write_fd = Some(open_fifo(svc.files.control, OFlags::WRONLY, msg)?);
    Ok(())
}

/// The ok FIFO, held open for reading so clients can tell runsv is here.
/// As in runit, whatever is there is opened (a directory too, which only
/// makes runsv unreachable for clients); only a failed open is fatal.
/// Makes the ok FIFO unless it exists (as in runit, a failure here shows
/// only when it is opened). With no reader yet, clients still find runsv
/// not running.
///
/// runit opens ok before it starts anything, and ends (111) when that
/// fails; ours opens it for reading after the first status write, so the
/// name is checked now with O_PATH, which resolves it as the open would
/// (a dangling symlink, too few descriptors) without counting as the
/// FIFO's reader.
pub fn make_ok(files: &SuperviseFiles, msg: &Messages) -> Result<(), i32> {
    let _ = mkfifoat(CWD, files.ok, Mode::from_raw_mode(0o600));
    match open(files.ok, OFlags::PATH | OFlags::CLOEXEC, Mode::empty()) {
        Ok(_) => Ok(()),
        Err(e) => Err(msg.fatal(&format!("unable to read {}", files.ok), e)),
    }
}

/// Opens the ok FIFO made by [`make_ok`]. A failure is fatal when
/// `fatal` (the error is runit's exit code 111), else a warning (the
/// error is None).
pub fn ok_fifo(svc: &mut Service, fatal: bool, msg: &Messages) -> Result<(), Option<i32>> {
    if svc.ok_fd.is_some() {
        return Ok(());
    }
    let path = svc.files.ok;
    let fd = open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| {
        let what = format!("unable to read {path}");
        if fatal {
            Some(msg.fatal(&what, e))
        } else {
            msg.warn(&what, e);
            None
        }
    })?;
    svc.ok_fd = Some(fd);
    Ok(())
}

/// Gives the groups of a `status-group` / `control-group` setting access
/// to `supervise/` (see [`crate::access`]): the directory and ok go to
/// the readers' group with g=rx and g=w, control to the controllers'
/// group with g=w. Only the group and the group bits change. Nothing is
/// touched without a setting, so runit's modes (and owners a configuration
/// tool gave the FIFOs) stay.
pub fn grant(files: &SuperviseFiles, access: &Access, msg: &Messages) {
    if let Some(g) = access.readers() {
        set_group(files.dir, g, 0o050, msg);
        set_group(files.ok, g, 0o020, msg);
    }
    if let Some(g) = access.control {
        set_group(files.control, g, 0o020, msg);
    }
}

fn set_group(path: &str, group: Gid, bits: u32, msg: &Messages) {
    let st = match stat(path) {
        Ok(st) => st,
        Err(e) => return msg.warn(&format!("unable to stat {path}"), e),
    };
    if let Err(e) = chown(path, None, Some(group)) {
        return msg.warn(&format!("unable to change group of {path}"), e);
    }
    // chown may clear set-id bits: take the mode from before it.
    let mode = (st.st_mode & 0o7707) | bits;
    if let Err(e) = chmod(path, Mode::from_raw_mode(mode)) {
        msg.warn(&format!("unable to change mode of {path}"), e);
    }
}
