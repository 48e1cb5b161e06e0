//! Where runit and runit-init find their files.
//!
//! Every location is a build-time setting, because distributions disagree:
//! upstream keeps the stop and reboot flags in /etc/runit, Debian compiles
//! them into /run (so a read-only /etc still allows `runit-init 0`), Void
//! symlinks them there. Set the environment variables below when building
//! (`RUNIT_STOPIT=/etc/runit/stopit cargo build ...`); the defaults are
//! Debian's, which is what the reference binaries use.
//!
//! Tests need the same programs to look elsewhere without being rebuilt, so
//! there is one run-time override, `RUNIT_RS_TEST_ROOT=DIR`, that puts every
//! path below DIR. It is honoured only when the process can positively tell
//! that it is NOT in the machine's initial PID namespace (see
//! [`crate::namespace`]): the init of a real machine never consults it, so a
//! stray variable on a kernel command line cannot redirect a real boot.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

macro_rules! setting {
    ($name:literal, $default:literal) => {
        match option_env!($name) {
            Some(v) => v,
            None => $default,
        }
    };
}

/// The directory holding the stages, `ctrlaltdel` and `nosync`.
pub const RUNIT_DIR: &str = setting!("RUNIT_DIR", "/etc/runit");
/// The stop flag: owner-executable means "SIGCONT shuts down".
pub const STOPIT: &str = setting!("RUNIT_STOPIT", "/run/runit.stopit");
/// The reboot flag: owner-executable means "reboot, not power off".
pub const REBOOT: &str = setting!("RUNIT_REBOOT", "/run/runit.reboot");
/// The stage init that runit-init execs when the kernel started it.
pub const RUNIT_BIN: &str = setting!("RUNIT_BIN", "/sbin/runit");
/// The system console.
pub const CONSOLE: &str = "/dev/console";

/// Name of the test-only override variable.
pub const TEST_ROOT_VAR: &str = "RUNIT_RS_TEST_ROOT";

/// The resolved set of paths one run uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub stages: [PathBuf; 3],
    pub ctrlaltdel: PathBuf,
    pub nosync: PathBuf,
    pub stopit: PathBuf,
    pub reboot: PathBuf,
    pub console: PathBuf,
    pub runit_bin: PathBuf,
}

impl Paths {
    /// The compiled-in locations.
    pub fn compiled() -> Paths {
        Paths::below(Path::new("/"))
    }

    /// Every compiled-in location re-rooted below `root`.
    pub fn below(root: &Path) -> Paths {
        let at = |p: &str| -> PathBuf {
            if root == Path::new("/") {
                PathBuf::from(p)
            } else {
                root.join(p.trim_start_matches('/'))
            }
        };
        let dir = at(RUNIT_DIR);
        Paths {
            stages: [dir.join("1"), dir.join("2"), dir.join("3")],
            ctrlaltdel: dir.join("ctrlaltdel"),
            nosync: dir.join("nosync"),
            stopit: at(STOPIT),
            reboot: at(REBOOT),
            console: at(CONSOLE),
            runit_bin: at(RUNIT_BIN),
        }
    }

    /// The paths to use: compiled-in ones, or the test root when
    /// `override_root` is set and `outside_initial_ns` is true.
    pub fn choose(override_root: Option<OsString>, outside_initial_ns: bool) -> Paths {
        match override_root {
            Some(r) if outside_initial_ns && Path::new(&r).is_absolute() => {
                Paths::below(Path::new(&r))
            }
            _ => Paths::compiled(),
        }
    }

    /// What this process should use (reads the environment and /proc).
    pub fn for_this_process() -> Paths {
        let root = std::env::var_os(TEST_ROOT_VAR).filter(|v| !v.is_empty());
        let outside = root.is_some() && crate::namespace::in_initial_pid_ns() == Some(false);
        Paths::choose(root, outside)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_defaults_are_debians() {
        // These hold unless the build overrides them.
        if option_env!("RUNIT_STOPIT").is_none() {
            assert_eq!(Paths::compiled().stopit, PathBuf::from("/run/runit.stopit"));
        }
        if option_env!("RUNIT_DIR").is_none() {
            let p = Paths::compiled();
            assert_eq!(p.stages[1], PathBuf::from("/etc/runit/2"));
            assert_eq!(p.nosync, PathBuf::from("/etc/runit/nosync"));
            assert_eq!(p.ctrlaltdel, PathBuf::from("/etc/runit/ctrlaltdel"));
        }
    }

    #[test]
    fn override_needs_a_foreign_namespace_and_an_absolute_root() {
        let root = Some(OsString::from("/tmp/t"));
        assert_eq!(Paths::choose(root.clone(), false), Paths::compiled());
        assert_eq!(
            Paths::choose(Some(OsString::from("rel")), true),
            Paths::compiled()
        );
        let p = Paths::choose(root, true);
        assert!(p.stages[0].starts_with("/tmp/t/"));
        assert!(p.stopit.starts_with("/tmp/t/"));
        assert_eq!(p.console, PathBuf::from("/tmp/t/dev/console"));
    }
}
