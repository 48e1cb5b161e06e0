//! runsvchdir: switch the services directory runsvdir watches, by
//! re-pointing the `current` symlink in runit's runsvdir directory and
//! keeping the old target as `previous`.
//!
//! Messages and exit codes are runit 2.1.2's (including its missing
//! separator in `NAMEnot a directory.`); like runit 2.3.0, `$RUNSVDIR`
//! overrides the compiled-in /etc/runit/runsvdir.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{self, FileType};
use rustix::io::Errno;
use supervise_proto::errno_str;

/// Where the runlevel directories live unless `$RUNSVDIR` says otherwise.
pub const DEFAULT_DIR: &str = "/etc/runit/runsvdir";

/// Exit code for every failure.
pub const FATAL: i32 = 111;

/// What the switch came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `current` already was NAME.
    AlreadyCurrent,
    /// `current` now points to NAME.
    Switched,
}

/// A failure, already in runit's words (without the `PROG: fatal: `).
#[derive(Debug, PartialEq, Eq)]
pub struct Failure(pub Vec<u8>);

fn fail(parts: &[&[u8]]) -> Failure {
    Failure(parts.concat())
}

fn fail_errno(parts: &[&[u8]], e: Errno) -> Failure {
    let mut v = parts.concat();
    v.extend_from_slice(b": ");
    v.extend_from_slice(errno_str(e).as_bytes());
    Failure(v)
}

/// The runlevel directory: `$RUNSVDIR` when set and not empty.
pub fn runsvdir_dir(env: Option<OsString>) -> Vec<u8> {
    match env {
        Some(d) if !d.is_empty() => d.as_bytes().to_vec(),
        _ => DEFAULT_DIR.as_bytes().to_vec(),
    }
}

/// Makes `current` in `dir` point to `name`, runit's way: `current.new`
/// is created beside it, the old `current` becomes `previous`, and
/// `current.new` is renamed over `current`.
pub fn switch(dir: &[u8], name: &[u8]) -> Result<Outcome, Failure> {
    if name.first() == Some(&b'.') {
        return Err(fail(&[name, b": must not start with a dot."]));
    }
    rustix::process::chdir(dir).map_err(|e| fail_errno(&[b"unable to chdir: ", dir], e))?;
    let target = fs::stat(name).map_err(|e| match e {
        Errno::NOENT => fail_errno(&[name], e),
        // A symlink loop, a component that is not a directory...
        _ => fail_errno(&[b"unable to stat: ", name], e),
    })?;
    if FileType::from_raw_mode(target.st_mode) != FileType::Directory {
        return Err(fail(&[name, b"not a directory."]));
    }
    let current = fs::stat("current").map_err(|e| fail_errno(&[b"unable to stat: current"], e))?;
    if (current.st_dev, current.st_ino) == (target.st_dev, target.st_ino) {
        return Ok(Outcome::AlreadyCurrent);
    }
    match fs::unlink("current.new") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(fail_errno(&[b"unable to unlink: current.new"], e)),
    }
    fs::symlink(name, "current.new")
        .map_err(|e| fail_errno(&[b"unable to create: current.new -> ", name], e))?;
    match fs::unlink("previous") {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(fail_errno(&[b"unable to unlink: previous"], e)),
    }
    fs::rename("current", "previous")
        .map_err(|e| fail_errno(&[b"unable to copy: current to previous"], e))?;
    if let Err(e) = fs::rename("current.new", "current") {
        // Put the old one back so runsvdir keeps a services directory;
        // if even that fails, that is the news.
        if let Err(e2) = fs::rename("previous", "current") {
            return Err(fail_errno(
                &[b"unable to move previous back to current"],
                e2,
            ));
        }
        return Err(fail_errno(&[b"unable to move: current.new to current"], e));
    }
    Ok(Outcome::Switched)
}

// Messages are best effort: nothing useful can be done if stderr fails.
fn write_all(fd: rustix::fd::BorrowedFd<'_>, b: &[u8]) {
    let _ = supervise_proto::fdio::write_all(fd, b);
}

/// Runs runsvchdir with a full argv; returns the exit code.
pub fn run(argv: &[OsString]) -> i32 {
    let prog = argv.first().map_or(&b"runsvchdir"[..], |a| a.as_bytes());
    let Some(name) = argv.get(1) else {
        write_all(
            rustix::stdio::stderr(),
            &[b"usage: ", prog, b" dir\n\n"].concat(),
        );
        return 1;
    };
    let name = name.as_bytes();
    let dir = runsvdir_dir(std::env::var_os("RUNSVDIR"));
    match switch(&dir, name) {
        Ok(outcome) => {
            let what: &[u8] = match outcome {
                Outcome::AlreadyCurrent => b": current.\n",
                Outcome::Switched => b": now current.\n",
            };
            write_all(
                rustix::stdio::stdout(),
                &[b"runsvchdir: ", name, what].concat(),
            );
            0
        }
        Err(Failure(msg)) => {
            write_all(
                rustix::stdio::stderr(),
                &[prog, b": fatal: ", &msg, b"\n"].concat(),
            );
            FATAL
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_override() {
        assert_eq!(runsvdir_dir(None), b"/etc/runit/runsvdir");
        assert_eq!(runsvdir_dir(Some("".into())), b"/etc/runit/runsvdir");
        assert_eq!(runsvdir_dir(Some("/x".into())), b"/x");
    }

    #[test]
    fn stat_failures_other_than_a_missing_name_say_so() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("loop", d.path().join("loop")).unwrap();
        let dir = d.path().as_os_str().as_bytes();
        assert_eq!(
            switch(dir, b"loop"),
            Err(Failure(
                b"unable to stat: loop: symbolic link loop".to_vec()
            ))
        );
        assert_eq!(
            switch(dir, b"gone"),
            Err(Failure(b"gone: file does not exist".to_vec()))
        );
    }

    #[test]
    fn dot_names_refused_before_anything_else() {
        assert_eq!(
            switch(b"/nonexistent-dir", b"../x"),
            Err(Failure(b"../x: must not start with a dot.".to_vec()))
        );
    }
}
