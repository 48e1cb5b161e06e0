//! One log directory: opening it (lock, config, `current`), closing it,
//! and routing each line to it. The rest of its work is in the
//! submodules: `write` (queueing and writing `current`), `rotate`
//! (rotation and pruning on disk), `processor` (the `!` processor) and
//! `udp` (the `u`/`U` copies).
//!
//! Every file operation goes through the directory's descriptor (the
//! *at() calls), so we never change the working directory and names given
//! relative to the starting directory keep working.
//!
//! Failures that runit retries ("svlogd: pausing: ...") are retried here
//! too, every three seconds, and the bytes waiting for `current` stay
//! queued meanwhile: a line read from standard input is never dropped
//! because a write failed.

mod processor;
mod rotate;
mod udp;
mod write;

use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use rustix::fs::{self as rfs, AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::config::{self, Config, Pattern};
use crate::msg;
use crate::pmatch::pmatch;
use crate::rotation::Limits;

use processor::Job;
use rotate::{fresh_name, list_old};
use udp::udp_socket;
use write::open_current;

/// Write `current` once this much is queued (and at the end of each
/// input batch). A 32 KiB read of 100-byte lines grows to about 42 KiB
/// with `-tt` stamps, so this is one write per read for typical lines.
/// Measured (2026-11-21, 2-core EPYC): 64/64 KiB read/queue 8.7 system
/// calls per 1,000 lines, 32/48 KiB 11.7, same throughput; the smaller
/// pair keeps about 55 kB less resident.
pub const FLUSH_AT: usize = 48 * 1024;

const CURRENT: &str = "current";

/// A rotated file's name: `@` + 24 hex digits + `.` + `s`/`u`/`t`.
type SavedName = [u8; 27];

fn saved_with(name: &SavedName, suffix: u8) -> SavedName {
    let mut n = *name;
    n[26] = suffix;
    n
}

fn as_os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

struct Open {
    dir: OwnedFd,
    /// Held for the flock; closing it releases the directory.
    _lock: OwnedFd,
    cur: OwnedFd,
}

pub struct LogDir {
    /// The name as given on the command line; used in every message.
    pub name: Vec<u8>,
    open: Option<Open>,
    cfg: Config,
    limits: Limits,
    line_max: u64,
    /// Bytes in `current`, including those still queued in `out`.
    size: u64,
    out: Vec<u8>,
    /// Next rotation by the `t` setting (monotonic, so clock steps do not
    /// matter).
    deadline: Option<Instant>,
    job: Option<Job>,
    udp: Option<OwnedFd>,
    /// For the line in progress: whether it goes to this directory.
    pub line_selected: bool,
    /// Bytes written to `current` since writeback was last started.
    unsynced: usize,
}

impl LogDir {
    pub fn new(name: &OsString, line_max: usize) -> LogDir {
        LogDir {
            name: name.as_bytes().to_vec(),
            open: None,
            cfg: Config::default(),
            limits: Limits {
                size_max: 1_000_000,
                line_max: line_max as u64,
            },
            line_max: line_max as u64,
            size: 0,
            out: Vec::new(),
            deadline: None,
            job: None,
            udp: None,
            line_selected: false,
            unsynced: 0,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    pub fn prefix(&self) -> &[u8] {
        &self.cfg.prefix
    }

    pub fn udp_only(&self) -> bool {
        self.cfg.udp_only
    }

    pub fn has_patterns(&self) -> bool {
        self.cfg.has_patterns()
    }

    pub fn deadline(&self) -> Option<Instant> {
        if self.is_open() {
            self.deadline
        } else {
            None
        }
    }

    /// Opens (or re-opens after HUP) the directory: lock, config,
    /// `current`. Prints runit's warning and returns false when the
    /// directory cannot be used.
    /// `first`: at start-up, when a failure to allocate the output buffer
    /// ends svlogd (no input is taken yet) instead of being lived with.
    pub fn open(&mut self, first: bool) -> bool {
        let name = self.name.clone();
        // Non-blocking, as runit opens every file: a FIFO in the
        // directory's place must not block us here.
        let dir = match rfs::open(
            as_os(&name),
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(d) => d,
            Err(e) => {
                msg::warn2("unable to open log directory", &name, e);
                return false;
            }
        };
        // runit opens the name and then changes into it; a non-directory
        // fails at that second step, with that message.
        match rfs::fstat(&dir) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
            Ok(_) => {
                msg::warn2("unable to change directory", &name, Errno::NOTDIR);
                return false;
            }
            Err(e) => {
                msg::warn2("unable to change directory", &name, e);
                return false;
            }
        }
        let lock = match rfs::openat(
            &dir,
            "lock",
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .and_then(|l| rfs::flock(&l, FlockOperation::NonBlockingLockExclusive).map(|_| l))
        {
            Ok(l) => l,
            Err(e) => {
                msg::warn2("unable to lock directory", &name, e);
                return false;
            }
        };

        self.cfg = self.read_config(&dir);
        self.limits = Limits {
            size_max: self.cfg.size_max,
            line_max: self.line_max,
        };
        self.deadline = (self.cfg.tmax > 0).then(|| Instant::now() + secs(self.cfg.tmax));
        self.udp = if self.cfg.udp_port != 0 {
            udp_socket()
        } else {
            None
        };

        // A non-empty current without the owner's x bit was not closed
        // cleanly (svlogd died): keep it as an unprocessed old file.
        let mut appending = false;
        self.size = 0;
        match rfs::statat(&dir, CURRENT, AtFlags::empty()) {
            Ok(st) => {
                if st.st_size > 0 && st.st_mode & 0o100 == 0 {
                    let saved = fresh_name(&dir, b'u');
                    let rename = || rfs::renameat(&dir, CURRENT, &dir, as_os(&saved));
                    if msg::retry("unable to rename current", &name, rename).is_err() {
                        return false;
                    }
                    self.prune(&dir, &saved);
                } else {
                    self.size = st.st_size as u64;
                    appending = true;
                }
            }
            Err(Errno::NOENT) => {}
            Err(e) => {
                msg::warn2("unable to stat current", &name, e);
                return false;
            }
        }
        // Nothing is queued for this directory yet, so a `current` that
        // cannot be opened (a FIFO, a directory, a symlink into nowhere)
        // may be given up when svlogd is asked to stop.
        let Some(cur) = open_current(&dir, &name, "unable to open current", true) else {
            return false;
        };
        self.out.clear();
        // One allocation, sized so that queueing up to FLUSH_AT plus one
        // line never reallocates; for a huge -l the buffer grows instead
        // with the lines that come. At start-up at least FLUSH_AT must be
        // had; later, a buffer that cannot grow is written out sooner
        // (`write::queue`).
        let want = (self.line_max as usize)
            .checked_mul(2)
            .and_then(|n| n.checked_add(FLUSH_AT + 1024));
        let reserve = |out: &mut Vec<u8>, n: usize| {
            out.capacity() >= n
                || supervise_proto::start::fallibly(|| out.try_reserve_exact(n)).is_ok()
        };
        if !want.is_some_and(|n| reserve(&mut self.out, n))
            && !reserve(&mut self.out, FLUSH_AT + 1024)
            && first
        {
            msg::fatalx("out of memory.");
        }
        self.open = Some(Open {
            dir,
            _lock: lock,
            cur,
        });
        if appending {
            msg::info(&[b"append: ", &name, b"/current"]);
        } else {
            msg::info(&[b"new: ", &name, b"/current"]);
        }
        true
    }

    fn read_config(&self, dir: &OwnedFd) -> Config {
        // Non-blocking: a FIFO reads as empty (no writer) instead of
        // blocking, as with runit.
        let text = match rfs::openat(
            dir,
            "config",
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Err(Errno::NOENT) => return Config::default(),
            Err(e) => {
                msg::warn2("unable to read config", &self.name, e);
                Err(())
            }
            Ok(fd) => match read_all(&fd) {
                Ok(t) => Ok(t),
                Err(e) => {
                    msg::warn2("unable to read config", &self.name, e);
                    Err(())
                }
            },
        };
        msg::info(&[b"read: ", &self.name, b"/config"]);
        match text {
            Ok(t) => config::parse(&t, msg::warnx),
            Err(()) => Config::default(),
        }
    }

    /// Flushes and closes `current` (marking it complete with mode 0744)
    /// and releases the lock. A running processor is kept and finished
    /// later.
    pub fn close(&mut self) {
        if self.open.is_none() {
            return;
        }
        msg::info(&[b"close: ", &self.name]);
        self.flush();
        let Some(o) = self.open.take() else { return };
        // Everything is written by now: when stopping, these may fail
        // for good (a FIFO has no fsync) without losing a line.
        let _ = msg::retry("unable to fsync current logfile", &self.name, || {
            rfs::fsync(&o.cur)
        });
        let _ = msg::retry("unable to set mode of current", &self.name, || {
            rfs::fchmod(&o.cur, Mode::from_raw_mode(0o744))
        });
        self.udp = None;
    }

    /// Which way the line goes: (to the log, to standard error). The last
    /// matching pattern of each kind decides.
    pub fn select(&self, line: &[u8]) -> (bool, bool) {
        let mut log = true;
        let mut err = false;
        for p in &self.cfg.patterns {
            match p {
                Pattern::Select(pat) if pmatch(pat, line) => log = true,
                Pattern::Deselect(pat) if pmatch(pat, line) => log = false,
                Pattern::ErrSelect(pat) if pmatch(pat, line) => err = true,
                Pattern::ErrDeselect(pat) if pmatch(pat, line) => err = false,
                _ => {}
            }
        }
        (log, err)
    }

    /// Queues a line's stamp, prefix and head for `current`, with the
    /// newline when the line is complete.
    #[inline]
    pub fn write_head(&mut self, stamp: &[u8], head: &[u8], complete: bool) {
        // The prefix is lent out so `append` can borrow self mutably.
        let prefix = std::mem::take(&mut self.cfg.prefix);
        if complete {
            self.append(&[stamp, &prefix, head, b"\n"], true);
        } else {
            self.append(&[stamp, &prefix, head], false);
        }
        self.cfg.prefix = prefix;
    }

    /// `t` rotation: rotate when the deadline has passed.
    pub fn check_deadline(&mut self, now: Instant) {
        if let Some(d) = self.deadline {
            if self.is_open() && d <= now {
                self.rotate();
            }
        }
    }
}

/// `n` in decimal, written into the end of `buf` (the formatting
/// machinery is not needed for one number).
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n.min(100 * 365 * 86_400))
}

fn read_all(fd: &OwnedFd) -> Result<Vec<u8>, Errno> {
    let mut v = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match rustix::io::read(fd, &mut buf) {
            Ok(0) => return Ok(v),
            Ok(n) => v.extend_from_slice(&buf[..n]),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_numbers() {
        for n in [0, 7, 10, 999_999, 1_000_000, u64::MAX] {
            assert_eq!(decimal(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }
}
