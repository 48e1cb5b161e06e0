//! A service's cgroup v2 (the `cgroup` setting): where the cgroup2
//! hierarchy is mounted, creating the service's cgroup, the descriptor the
//! child writes itself into between fork and exec, `cgroup.kill`, and
//! `cgroup.events` (whose `populated` line says when the last process has
//! gone; the kernel wakes a poll for POLLPRI on it when that changes).
//!
//! Where no cgroup2 is mounted or it is not writable, runsv says so once
//! per start and runs the service without a cgroup.

use std::os::fd::OwnedFd;

use rustix::fs::{mkdir, open, rmdir, Mode, OFlags};
use rustix::io::{pread, write, Errno};

use crate::msg::Messages;

/// One service's cgroup, opened for a run.
#[derive(Debug)]
pub struct Cgroup {
    /// Its path in the hierarchy (`/runit/web`), as /proc/PID/cgroup shows.
    pub name: String,
    /// Its directory (the mount point joined with `name`).
    pub dir: String,
    /// `cgroup.procs`, open for writing: the child writes `0` to it.
    pub procs: OwnedFd,
    /// `cgroup.events`, polled for POLLPRI while runsv waits for it to empty.
    pub events: OwnedFd,
}

/// The cgroup2 mount point, from a mountinfo text: the fifth field of the
/// first line whose file system type (after ` - `) is `cgroup2`.
fn cgroup2_mount(mountinfo: &str) -> Option<String> {
    mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        if right.split(' ').next()? != "cgroup2" {
            return None;
        }
        left.split(' ').nth(4).map(unescape)
    })
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = |j: usize| b.get(j).is_some_and(|c| (b'0'..=b'7').contains(c));
        if b[i] == b'\\' && octal(i + 1) && octal(i + 2) && octal(i + 3) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The process's own cgroup v2 path, from a /proc/self/cgroup text (the
/// `0::PATH` line).
fn own_cgroup(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(|p| p.to_string())
}

/// The cgroup name for service `service` under `parent` ("" for runsv's
/// own cgroup, `own`).
fn child_name(parent: &str, own: &str, service: &str) -> String {
    let parent = if parent.is_empty() { own } else { parent };
    let parent = parent.trim_end_matches('/');
    format!("{parent}/{service}")
}

/// Whether a cgroup.events text says processes remain.
fn says_populated(text: &str) -> bool {
    text.lines().any(|l| l == "populated 1")
}

impl Cgroup {
    /// Creates (or reuses) cgroup `service` under `parent` and opens its
    /// files; on failure warns and returns None, and the service runs
    /// without a cgroup.
    pub fn place(parent: &str, service: &str, msg: &Messages) -> Option<Cgroup> {
        let warn = |what: &str| {
            msg.warnx(&format!("cgroup: {what}; running without a cgroup"));
        };
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let Some(mount) = cgroup2_mount(&mountinfo) else {
            warn("no cgroup2 file system is mounted");
            return None;
        };
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        let Some(own) = own_cgroup(&own) else {
            warn("runsv is in no cgroup2 cgroup");
            return None;
        };
        let name = child_name(parent, &own, service);
        let dir = format!("{}{}", mount.trim_end_matches('/'), name);
        let fail = |what: &str, e: Errno| {
            warn(&format!("{what} {dir}: {}", supervise_proto::errno_str(e)));
        };
        match mkdir(dir.as_str(), Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => {
                fail("unable to create", e);
                return None;
            }
        }
        let file = |f: &str, flags: OFlags| {
            open(
                format!("{dir}/{f}").as_str(),
                flags | OFlags::CLOEXEC | OFlags::NOCTTY,
                Mode::empty(),
            )
        };
        let procs = match file("cgroup.procs", OFlags::WRONLY) {
            Ok(fd) => fd,
            Err(e) => {
                fail("unable to open cgroup.procs of", e);
                return None;
            }
        };
        let events = match file("cgroup.events", OFlags::RDONLY) {
            Ok(fd) => fd,
            Err(e) => {
                fail("unable to open cgroup.events of", e);
                return None;
            }
        };
        Some(Cgroup {
            name,
            dir,
            procs,
            events,
        })
    }

    /// Whether processes remain in it. Reading also resets the poll
    /// notification, so a later change wakes the poll again. A read error
    /// counts as empty: runsv must not wait forever on a file it cannot
    /// read.
    pub fn populated(&self) -> bool {
        let mut buf = [0u8; 256];
        match pread(&self.events, &mut buf, 0) {
            Ok(n) => says_populated(&String::from_utf8_lossy(&buf[..n])),
            Err(_) => false,
        }
    }

    /// Kills every process in it. Kernels before 5.14 have no cgroup.kill:
    /// there each listed process gets KILL (one pass; runsv calls this
    /// again while the cgroup stays populated).
    pub fn kill(&self, msg: &Messages) {
        let path = format!("{}/cgroup.kill", self.dir);
        match open(
            path.as_str(),
            OFlags::WRONLY | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => {
                if let Err(e) = write(&fd, b"1") {
                    msg.warn(&format!("unable to write {path}"), e);
                }
            }
            Err(Errno::NOENT) => self.kill_listed(),
            Err(e) => msg.warn(&format!("unable to open {path}"), e),
        }
    }

    fn kill_listed(&self) {
        let procs =
            std::fs::read_to_string(format!("{}/cgroup.procs", self.dir)).unwrap_or_default();
        for pid in procs.lines().filter_map(|l| l.parse::<i32>().ok()) {
            if let Some(p) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
            }
        }
    }

    /// Removes the (empty) cgroup when runsv is done with it; a cgroup that
    /// still has processes or children stays (EBUSY).
    pub fn remove(self) {
        let Cgroup {
            dir, procs, events, ..
        } = self;
        drop(procs);
        drop(events);
        let _ = rmdir(dir.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 30 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
27 25 0:24 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn finds_the_cgroup2_mount() {
        assert_eq!(
            cgroup2_mount(HYBRID).as_deref(),
            Some("/sys/fs/cgroup/unified")
        );
        assert_eq!(
            cgroup2_mount("25 30 0:22 / /sys/fs/cgroup rw - tmpfs t rw\n"),
            None
        );
        assert_eq!(
            cgroup2_mount("1 2 0:3 / /a\\040b rw - cgroup2 none rw\n").as_deref(),
            Some("/a b")
        );
    }

    #[test]
    fn own_cgroup_and_names() {
        assert_eq!(
            own_cgroup("1:cpu:/\n0::/system.slice/runit.service\n").as_deref(),
            Some("/system.slice/runit.service")
        );
        assert_eq!(own_cgroup("4:memory:/x\n"), None);
        assert_eq!(child_name("", "/", "web"), "/web");
        assert_eq!(
            child_name("", "/runit.service", "web"),
            "/runit.service/web"
        );
        assert_eq!(child_name("/runit/", "/", "web"), "/runit/web");
        assert_eq!(child_name("/", "/runit.service", "web"), "/web");
    }

    #[test]
    fn populated_line() {
        assert!(says_populated("populated 1\nfrozen 0\n"));
        assert!(!says_populated("populated 0\nfrozen 0\n"));
        assert!(!says_populated(""));
    }
}
