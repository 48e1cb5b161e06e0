//! runit-init: what the kernel starts as `init`, and how an administrator
//! asks runit to halt (`runit-init 0`) or reboot (`runit-init 6`).
//!
//! As PID 1 it simply becomes runit. Otherwise it sets the flag files runit
//! reads (stopit owner-executable; reboot owner-executable for 6, mode 0
//! for 0) and sends SIGCONT to PID 1. Only the first character of the
//! argument counts; anything else prints the usage and, as in runit,
//! exits 0.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::process::{Pid, Signal};
use supervise_proto::errno_str;
use supervise_proto::spawn::Spawn;

use crate::msg::write_stderr;
use crate::paths::Paths;

const FATAL: &str = "init: fatal: ";

/// What the argument asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Halt,
    Reboot,
    Usage,
}

/// runit-init looks at the first character of its first argument only.
pub fn parse(args: &[OsString]) -> Request {
    match args.get(1).and_then(|a| a.as_bytes().first()) {
        Some(b'0') => Request::Halt,
        Some(b'6') => Request::Reboot,
        _ => Request::Usage,
    }
}

fn fatal(msg: String) -> i32 {
    write_stderr(format!("{FATAL}{msg}\n").as_bytes());
    111
}

/// Creates (or truncates) a flag file with mode 0644 and then sets its
/// mode to owner-execute only.
fn set_flag(path: &Path) -> Result<(), String> {
    let flags =
        OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NONBLOCK | OFlags::CLOEXEC;
    // Closed at once: only the file and its mode matter.
    rustix::fs::open(path, flags, Mode::from_raw_mode(0o644))
        .map_err(|e| format!("unable to create {}: {}", path.display(), errno_str(e)))?;
    rustix::fs::chmod(path, Mode::from_raw_mode(0o100))
        .map_err(|e| format!("unable to chmod {}: {}", path.display(), errno_str(e)))
}

/// Takes the reboot flag away (a missing file is fine).
fn clear_flag(path: &Path) -> Result<(), String> {
    match rustix::fs::chmod(path, Mode::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(format!(
            "unable to chmod {}: {}",
            path.display(),
            errno_str(e)
        )),
    }
}

/// The whole program; returns the exit code.
pub fn main(args: &[OsString]) -> i32 {
    let paths = Paths::for_this_process();
    if std::process::id() == 1 {
        let e = Spawn::new(&paths.runit_bin).argv0("runit").exec();
        return fatal(format!("unable to start runit: {}", errno_str(e)));
    }
    let result = match parse(args) {
        Request::Usage => {
            let prog = args
                .first()
                .map(|a| a.to_string_lossy().into_owned())
                .unwrap_or_else(|| "runit-init".into());
            write_stderr(format!("usage: {prog} 0|6\n\n").as_bytes());
            return 0;
        }
        Request::Halt => set_flag(&paths.stopit).and_then(|()| clear_flag(&paths.reboot)),
        Request::Reboot => set_flag(&paths.stopit).and_then(|()| set_flag(&paths.reboot)),
    };
    if let Err(msg) = result {
        return fatal(msg);
    }
    // runit-init does not report a failed signal; runit may not be PID 1.
    let _ = rustix::process::kill_process(Pid::INIT, Signal::CONT);
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn a(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn first_character_decides() {
        assert_eq!(parse(&a(&["runit-init", "0"])), Request::Halt);
        assert_eq!(parse(&a(&["runit-init", "06"])), Request::Halt);
        assert_eq!(parse(&a(&["runit-init", "6x", "y"])), Request::Reboot);
        assert_eq!(parse(&a(&["runit-init", "-0"])), Request::Usage);
        assert_eq!(parse(&a(&["runit-init", ""])), Request::Usage);
        assert_eq!(parse(&a(&["runit-init"])), Request::Usage);
    }

    #[test]
    fn flags_get_runits_modes() {
        let d = tempfile::tempdir().unwrap();
        let stopit = d.path().join("stopit");
        let reboot = d.path().join("reboot");
        std::fs::write(&stopit, "old").unwrap();
        set_flag(&stopit).unwrap();
        let m = std::fs::metadata(&stopit).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0o100);
        assert_eq!(m.len(), 0);
        clear_flag(&reboot).unwrap();
        set_flag(&reboot).unwrap();
        clear_flag(&reboot).unwrap();
        let m = std::fs::metadata(&reboot).unwrap();
        assert_eq!(m.permissions().mode() & 0o7777, 0);
        let e = set_flag(&d.path().join("no/such")).unwrap_err();
        assert!(e.ends_with("no/such: file does not exist"), "{e}");
    }
}
