//! Readiness notification of one supervised process (the service or its
//! log), for services that opt in with a file in their directory:
//!
//! - `notification-fd` (s6's convention): ./run gets the write end of a
//!   pipe as that descriptor; the first newline written to it means ready.
//! - `notify-socket` (systemd's protocol): ./run gets `NOTIFY_SOCKET`, the
//!   abstract address of a datagram socket of its own; `READY=1` from one
//!   of the service's processes means ready, `STATUS=`, `RELOADING=1`,
//!   `STOPPING=1` and `MAINPID=` are recorded.
//!
//! The settings are read at every start of ./run, and readiness starts
//! over then. What is learned goes to supervise/xstatus, never to runit's
//! status files. The pipe and the socket are more descriptors in runsv's
//! one poll: nothing here waits, and an idle runsv does not wake.

use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{stat, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::net::{
    bind, socket_with, sockopt, AddressFamily, SocketAddrUnix, SocketFlags, SocketType,
};
use rustix::pipe::{pipe_with, PipeFlags};
use supervise_proto::fdio::read_small_file;
use supervise_proto::notify::{
    parse_datagram, parse_notification_fd, receive, NOTIFICATION_FD, NOTIFY_SOCKET,
};
use supervise_proto::xstatus::{
    NotifyState, XStatus, LOG_WAKE, LOG_XSTATUS, MAIN_WAKE, MAIN_XSTATUS,
};
use supervise_proto::Tai64n;

use crate::msg::Messages;
use crate::settings;

/// A notification-fd file longer than this is not a number anyway.
const FD_FILE_MAX: usize = 64;
/// How far up the parent chain a sender is looked for (a service's
/// process tree is not deeper than this in practice; the walk must end).
const ANCESTRY_MAX: usize = 64;
/// Reads of the pipe, and datagrams, taken per wake-up: a service (or,
/// for the socket, anyone) sending without pause cannot hold the loop.
const READS_PER_WAKE: usize = 64;

/// The readiness state of one supervised process.
pub struct Readiness {
    is_log: bool,
    /// runsv's end of the notification pipe, until a newline or EOF.
    pipe: Option<OwnedFd>,
    /// The notify socket of the current run.
    socket: Option<OwnedFd>,
    /// ./run's pid while it runs.
    run_pid: u32,
    /// A run has been started by this runsv (before that, a record on
    /// disk may be a previous runsv's).
    started_once: bool,
}

/// What ./run is given, held until it has been started.
#[derive(Default)]
pub struct Handoff {
    /// The pipe's write end and the descriptor number it becomes.
    pub fd: Option<(OwnedFd, i32)>,
    /// The value of NOTIFY_SOCKET.
    pub socket: Option<String>,
}

impl Handoff {
    pub fn notifies(&self) -> bool {
        self.fd.is_some() || self.socket.is_some()
    }
}

impl Readiness {
    pub fn new(is_log: bool) -> Readiness {
        Readiness {
            is_log,
            pipe: None,
            socket: None,
            run_pid: 0,
            started_once: false,
        }
    }

    fn xstatus_path(&self) -> &'static str {
        if self.is_log {
            LOG_XSTATUS
        } else {
            MAIN_XSTATUS
        }
    }

    fn wake_path(&self) -> &'static str {
        if self.is_log {
            LOG_WAKE
        } else {
            MAIN_WAKE
        }
    }

    /// Tells waiters (sv) that xstatus was just replaced: a byte into the
    /// wake FIFO, if anyone holds it open for reading (never through a
    /// symlink planted in its place).
    pub fn ring(&self) {
        if let Ok(fd) = rustix::fs::open(
            self.wake_path(),
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            let _ = rustix::io::write(&fd, b"x");
        }
    }

    fn setting(&self, name: &str) -> String {
        if self.is_log {
            format!("log/{name}")
        } else {
            name.to_string()
        }
    }

    /// Before ./run starts: reads the settings and makes the pipe and the
    /// socket it asks for. A bad setting is a warning; the service then
    /// starts without it.
    pub fn prepare(&mut self, msg: &Messages) -> Handoff {
        self.stopped();
        let mut h = Handoff::default();
        if let Some(n) = self.notification_fd(msg) {
            match pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK) {
                Ok((r, w)) => {
                    self.pipe = Some(r);
                    h.fd = Some((w, n as i32));
                }
                Err(e) => msg.warn("unable to create notification pipe", e),
            }
        }
        let opt_in = self.setting(NOTIFY_SOCKET);
        let found = if settings::known_absent(&opt_in) {
            Err(Errno::NOENT)
        } else {
            stat(opt_in.as_str())
        };
        match found {
            Err(Errno::NOENT) => settings::saw_absent(&opt_in),
            Err(e) => msg.warn(&format!("unable to stat {opt_in}"), e),
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
                msg.warnx(&format!("{opt_in}: not a regular file, ignored"))
            }
            Ok(_) => match self.notify_socket() {
                Ok((fd, name)) => {
                    self.socket = Some(fd);
                    h.socket = Some(name);
                }
                Err(e) => msg.warn("unable to create notify socket", e),
            },
        }
        h
    }

    /// The descriptor number in notification-fd, if the file is there
    /// and good.
    fn notification_fd(&self, msg: &Messages) -> Option<u32> {
        let name = self.setting(NOTIFICATION_FD);
        if settings::known_absent(&name) {
            return None;
        }
        let bytes = match read_small_file(Path::new(&name), FD_FILE_MAX) {
            Ok(Some(b)) => b,
            Ok(None) => {
                settings::saw_absent(&name);
                return None;
            }
            Err(Errno::INVAL) => {
                msg.warnx(&format!("{name}: not a regular file, ignored"));
                return None;
            }
            Err(Errno::FBIG) => {
                msg.warnx(&format!("{name}: not a descriptor number, ignored"));
                return None;
            }
            Err(e) => {
                msg.warn(&format!("unable to read {name}"), e);
                return None;
            }
        };
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        match parse_notification_fd(&bytes, limit) {
            Ok(n) => Some(n),
            Err(bad) => {
                msg.warnx(&format!("{name}: {}, ignored", bad.text()));
                None
            }
        }
    }

    /// A datagram socket in the abstract namespace (no file, no path
    /// length limit, nothing to clean up), named after this runsv so two
    /// never collide, that receives its senders' credentials.
    fn notify_socket(&self) -> Result<(OwnedFd, String), Errno> {
        let fd = socket_with(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )?;
        sockopt::set_socket_passcred(&fd, true)?;
        let name = format!(
            "runsv/{}/{}",
            rustix::process::getpid().as_raw_nonzero(),
            if self.is_log { "log" } else { "main" }
        );
        bind(&fd, &SocketAddrUnix::new_abstract_name(name.as_bytes())?)?;
        Ok((fd, format!("@{name}")))
    }

    /// ./run was started as `pid` at `stamp`: the record of the new run.
    /// `notifies` is what the hand-off held. Returns whether the record
    /// must be written now (before the new status, so that a reader of the
    /// status never finds the previous run's record under it): when the
    /// run notifies, or the record left says the previous one did.
    pub fn started(&mut self, x: &mut XStatus, pid: u32, stamp: Tai64n, notifies: bool) -> bool {
        self.run_pid = pid;
        let left_on_disk =
            !self.started_once && std::path::Path::new(&self.xstatus_path()).exists();
        self.started_once = true;
        if notifies {
            // For sv to wait on (readable by all, like the status files).
            let _ = rustix::fs::mkfifoat(CWD, self.wake_path(), Mode::from_raw_mode(0o644));
        }
        let write = notifies || x.notify || left_on_disk;
        x.started = Some(stamp);
        x.notify = notifies;
        x.ready = None;
        x.notify_status = None;
        x.notify_state = None;
        x.main_pid = None;
        write
    }

    /// ./run has exited (or is about to be started again): stop listening.
    /// The record keeps what the run said; it describes that run.
    pub fn stopped(&mut self) {
        self.pipe = None;
        self.socket = None;
        self.run_pid = 0;
    }

    /// The descriptors to poll for reading.
    pub fn fds(&self) -> impl Iterator<Item = &OwnedFd> {
        self.pipe.iter().chain(self.socket.iter())
    }

    /// Takes in whatever the service has sent; returns whether the record
    /// changed (and so must be written).
    pub fn events(&mut self, x: &mut XStatus) -> bool {
        let mut changed = false;
        if let Some(fd) = self.pipe.as_ref() {
            let mut buf = [0u8; 512];
            for _ in 0..READS_PER_WAKE {
                match rustix::io::read(fd, &mut buf) {
                    Ok(n) if n > 0 && buf[..n].contains(&b'\n') => {
                        changed |= mark_ready(x);
                        self.pipe = None;
                        break;
                    }
                    Ok(n) if n > 0 => {}
                    Err(Errno::INTR) => continue,
                    Err(Errno::AGAIN) => break,
                    // End of file (every writer closed it) or an error: the
                    // service did not say it was ready and will not now.
                    _ => {
                        self.pipe = None;
                        break;
                    }
                }
            }
        }
        for _ in 0..READS_PER_WAKE {
            let Some(fd) = self.socket.as_ref() else {
                break;
            };
            match receive(fd) {
                Ok(Some((pid, bytes))) => changed |= self.datagram(x, pid, &bytes),
                Ok(None) => break,
                Err(_) => self.socket = None,
            }
        }
        changed
    }

    /// One datagram from `pid` (0: unknown sender).
    fn datagram(&self, x: &mut XStatus, pid: u32, bytes: &[u8]) -> bool {
        let roots = [self.run_pid, x.main_pid.unwrap_or(0)];
        if pid == 0 || !of_service(pid, &roots) {
            return false;
        }
        let before = x.clone();
        let n = parse_datagram(bytes);
        if let Some(s) = n.status {
            x.notify_status = Some(s);
        }
        if let Some(m) = n.main_pid.filter(|&m| of_service(m, &roots)) {
            x.main_pid = Some(m);
        }
        if n.ready {
            mark_ready(x);
            x.notify_state = None;
        }
        if n.reloading {
            x.notify_state = Some(NotifyState::Reloading);
        }
        if n.stopping {
            x.notify_state = Some(NotifyState::Stopping);
        }
        *x != before
    }
}

/// The first "ready" of a run counts; later ones change nothing.
fn mark_ready(x: &mut XStatus) -> bool {
    if x.ready.is_some() {
        return false;
    }
    x.ready = Some(Tai64n::now());
    true
}

/// Is `pid` one of `roots` (0s ignored) or a descendant of one? Walks the
/// parent chain in /proc; a process gone meanwhile cannot be placed and
/// does not count.
fn of_service(pid: u32, roots: &[u32]) -> bool {
    let mut p = pid;
    for _ in 0..ANCESTRY_MAX {
        if roots.iter().any(|&r| r != 0 && r == p) {
            return true;
        }
        if p <= 1 {
            return false;
        }
        match parent_of(p) {
            Some(pp) => p = pp,
            None => return false,
        }
    }
    false
}

/// The parent pid from /proc/PID/stat (the field after the state, which
/// follows the parenthesised command name, itself free to hold anything).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read(format!("/proc/{pid}/stat")).ok()?;
    parse_ppid(&stat)
}

fn parse_ppid(stat: &[u8]) -> Option<u32> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(&stat[close + 1..]).ok()?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppid_field() {
        assert_eq!(parse_ppid(b"12 (sh) S 7 12 12 0"), Some(7));
        assert_eq!(parse_ppid(b"12 (a) b) S 1 0"), Some(1));
        assert_eq!(parse_ppid(b"12 (x"), None);
        assert_eq!(parse_ppid(b""), None);
    }

    #[test]
    fn this_process_is_of_its_parent() {
        let me = std::process::id();
        let parent = rustix::process::getppid().map_or(0, |p| p.as_raw_nonzero().get() as u32);
        assert!(of_service(me, &[me, 0]));
        assert!(of_service(me, &[parent, 0]));
        assert!(!of_service(parent, &[me, 0]));
        assert!(!of_service(me, &[0, 0]));
    }

    #[test]
    fn a_datagram_counts_from_the_service_only() {
        let mut r = Readiness::new(false);
        let mut x = XStatus::default();
        r.started(&mut x, std::process::id(), Tai64n::now(), true);
        assert!(!r.datagram(&mut x, 1, b"READY=1"));
        assert!(!r.datagram(&mut x, 0, b"READY=1"));
        assert_eq!(x.ready, None);
        assert!(r.datagram(
            &mut x,
            std::process::id(),
            b"STATUS=warming up\nRELOADING=1"
        ));
        assert_eq!(x.notify_state, Some(NotifyState::Reloading));
        assert!(r.datagram(&mut x, std::process::id(), b"READY=1\nMAINPID=1"));
        assert!(x.ready.is_some());
        assert_eq!(x.notify_state, None);
        // MAINPID=1 names no process of the service.
        assert_eq!(x.main_pid, None);
        assert_eq!(x.notify_status.as_deref(), Some("warming up"));
        assert!(!r.datagram(&mut x, std::process::id(), b"READY=1"));
    }
}
