//! One log directory: its lock, its `current`, its configuration, the
//! bytes queued for `current`, rotation, pruning and the processor.
//!
//! Every file operation goes through the directory's descriptor (the
//! *at() calls), so we never change the working directory and names given
//! relative to the starting directory keep working.
//!
//! Failures that runit retries ("svlogd: pausing: ...") are retried here
//! too, every three seconds, and the bytes waiting for `current` stay
//! queued meanwhile: a line read from standard input is never dropped
//! because a write failed.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use rustix::fs::{self as rfs, AtFlags, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

use crate::config::{self, Config, Pattern};
use crate::msg;
use crate::pmatch::pmatch;
use crate::rotation::{self, Limits};
use crate::stamp::Clock;

/// Write `current` once this much is queued (and at the end of each
/// input batch). A 32 KiB read of 100-byte lines grows to about 42 KiB
/// with `-tt` stamps, so this is one write per read for typical lines.
/// Measured (2026-11-21, 2-core EPYC): 64/64 KiB read/queue 8.7 system
/// calls per 1,000 lines, 32/48 KiB 11.7, same throughput; the smaller
/// pair keeps about 55 kB less resident.
pub const FLUSH_AT: usize = 48 * 1024;

/// Start writeback of `current` after this many bytes (see
/// `start_writeback`).
const WRITEBACK_AT: usize = 256 * 1024;

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

/// A processor run for one rotated file.
struct Job {
    /// The `.u` file it reads.
    saved: SavedName,
    cmd: Vec<u8>,
    /// Its own handle on the directory: the job outlives a HUP.
    dir: OwnedFd,
    /// The running processor's process id.
    child: Option<libc::pid_t>,
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
    pub fn open(&mut self) -> bool {
        let name = self.name.clone();
        let dir = match rfs::open(
            as_os(&name),
            OFlags::RDONLY | OFlags::CLOEXEC,
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
                    while let Err(e) = rfs::renameat(&dir, CURRENT, &dir, as_os(&saved)) {
                        msg::pause2("unable to rename current", &name, e);
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
        let cur = open_current(&dir, &name, "unable to open current");
        self.out.clear();
        // One allocation, sized so that queueing up to FLUSH_AT plus one
        // line never reallocates.
        self.out
            .reserve_exact(FLUSH_AT + 2 * self.line_max as usize + 1024);
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
        let text = match rfs::openat(
            dir,
            "config",
            OFlags::RDONLY | OFlags::CLOEXEC,
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
        let o = self.open.take().unwrap();
        while let Err(e) = rfs::fsync(&o.cur) {
            msg::pause2("unable to fsync current logfile", &self.name, e);
        }
        while let Err(e) = rfs::fchmod(&o.cur, Mode::from_raw_mode(0o744)) {
            msg::pause2("unable to set mode of current", &self.name, e);
        }
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

    /// The UDP copy of a selected line: stamp, prefix, head, `...` when
    /// the line was cut, newline.
    pub fn udp_line(&mut self, stamp: &[u8], head: &[u8], truncated: bool) {
        if self.cfg.udp_port == 0 {
            return;
        }
        let prefix = std::mem::take(&mut self.cfg.prefix);
        let dots: &[u8] = if truncated { b"..." } else { b"" };
        self.send_udp(&[stamp, &prefix, head, dots, b"\n"]);
        self.cfg.prefix = prefix;
    }

    /// Sends a selected line through UDP when configured; failures are
    /// reported into the log directory itself, as runit does.
    pub fn send_udp(&mut self, parts: &[&[u8]]) {
        let Some(addr) = self.cfg.udp_addr() else {
            return;
        };
        let msg: Vec<u8> = parts.concat();
        match &self.udp {
            None => {
                self.append(&[b"warning: no udp socket available: ", &msg], true);
            }
            Some(sock) => {
                if !udp_send(sock, &msg, addr) {
                    self.append(&[b"warning: failure sending through udp: ", &msg], true);
                }
            }
        }
    }

    /// Queues bytes for `current`, rotating where runit would. `ends_line`
    /// when the last part ends with the line's newline.
    #[inline]
    pub fn append(&mut self, parts: &[&[u8]], ends_line: bool) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if self.limits.fits_plainly(self.size, len, ends_line) {
            for p in parts {
                self.out.extend_from_slice(p);
            }
            self.size += len as u64;
        } else {
            self.append_slow(parts, ends_line);
        }
        if self.out.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn append_slow(&mut self, parts: &[&[u8]], ends_line: bool) {
        let mut any = false;
        for p in parts {
            let mut p: &[u8] = p;
            while !p.is_empty() {
                if self.limits.full(self.size) {
                    self.rotate();
                }
                let n = self.limits.room(self.size, p.len());
                self.out.extend_from_slice(&p[..n]);
                self.size += n as u64;
                p = &p[n..];
                any = true;
            }
        }
        if ends_line && any && self.limits.rotate_after_line(self.size) {
            self.rotate();
        }
    }

    /// Writes everything queued to `current`, retrying as runit does on
    /// failure (and deleting old files on a full disk when `N` < `n`).
    pub fn flush(&mut self) {
        let mut done = 0;
        while done < self.out.len() {
            let Some(o) = &self.open else {
                // Nowhere to write (cannot happen: a closed directory gets
                // no lines); keep the bytes rather than lose them.
                return;
            };
            match rustix::io::write(&o.cur, &self.out[done..]) {
                Ok(n) => {
                    done += n;
                    self.unsynced += n;
                }
                Err(Errno::INTR) => {}
                Err(Errno::NOSPC) if self.cfg.nmin < self.cfg.nmax => {
                    if !self.make_room() {
                        msg::pause2("unable to write to current", &self.name, Errno::NOSPC);
                    }
                }
                Err(e) => msg::pause2("unable to write to current", &self.name, e),
            }
        }
        self.out.clear();
        if self.unsynced >= WRITEBACK_AT {
            self.start_writeback();
        }
        if self.out.capacity() > 4 * FLUSH_AT {
            self.out.shrink_to(2 * FLUSH_AT);
        }
    }

    /// Asks the kernel to start writing `current`'s dirty pages to disk
    /// now, without waiting. The fsync at rotation (which runit does and
    /// we keep) then has little left to wait for, so disk writes overlap
    /// with reading input instead of stalling every rotation.
    fn start_writeback(&mut self) {
        self.unsynced = 0;
        if let Some(o) = &self.open {
            // SAFETY: a plain syscall on a descriptor we own.
            unsafe {
                libc::sync_file_range(o.cur.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
            }
        }
    }

    /// The disk is full: delete the oldest old file if more than `N`
    /// remain. Returns whether one was deleted (then retry at once).
    fn make_room(&mut self) -> bool {
        let Some(o) = &self.open else { return false };
        let names = match list_old(&o.dir) {
            Ok(n) => n,
            Err(e) => {
                msg::warn2(
                    "unable to read directory, want remove old logfile",
                    &self.name,
                    e,
                );
                return false;
            }
        };
        let keep = self.protected();
        let keep: Vec<&[u8]> = keep.iter().map(|k| k.as_slice()).collect();
        let Some(oldest) = rotation::disk_full_choice(&names, self.cfg.nmin, &keep) else {
            return false;
        };
        msg::line(&[
            b"svlogd: warning: out of disk space, delete: ",
            &self.name,
            b"/",
            oldest,
        ]);
        match rfs::unlinkat(&o.dir, as_os(oldest), AtFlags::empty()) {
            Ok(()) => true,
            Err(e) => {
                msg::warn2("unable to unlink oldest logfile", &self.name, e);
                false
            }
        }
    }

    /// Files pruning must not touch: the running processor's input and
    /// output.
    fn protected(&self) -> Vec<Vec<u8>> {
        match &self.job {
            Some(j) => vec![j.saved.to_vec(), saved_with(&j.saved, b't').to_vec()],
            None => Vec::new(),
        }
    }

    /// `t` rotation: rotate when the deadline has passed.
    pub fn check_deadline(&mut self, now: Instant) {
        if let Some(d) = self.deadline {
            if self.is_open() && d <= now {
                self.rotate();
            }
        }
    }

    /// Rotates `current` if it holds anything: runit's sequence (flush,
    /// fsync, mode 0744, rename to `@stamp.s` or `.u`, new `current` with
    /// mode 0644, prune, start the processor).
    pub fn rotate(&mut self) {
        if self.open.is_none() {
            return;
        }
        // A processor still working on the previous file must succeed
        // before the next one starts.
        self.wait_job();
        let suffix = if self.cfg.processor.is_some() {
            b'u'
        } else {
            b's'
        };
        let now = Instant::now();
        if let Some(d) = self.deadline {
            if d <= now {
                self.deadline = Some(now + secs(self.cfg.tmax));
            }
        }
        if self.size == 0 {
            return;
        }
        self.flush();
        let o = self.open.as_mut().unwrap();
        let saved = fresh_name(&o.dir, suffix);
        while let Err(e) = rfs::fsync(&o.cur) {
            msg::pause2("unable to fsync current logfile", &self.name, e);
        }
        while let Err(e) = rfs::fchmod(&o.cur, Mode::from_raw_mode(0o744)) {
            msg::pause2("unable to set mode of current", &self.name, e);
        }
        msg::info(&[
            b"rename: ",
            &self.name,
            b"/current ",
            &saved,
            b" ",
            decimal(self.size, &mut [0; 20]),
        ]);
        while let Err(e) = rfs::renameat(&o.dir, CURRENT, &o.dir, as_os(&saved)) {
            msg::pause2("unable to rename current", &self.name, e);
        }
        o.cur = open_current(&o.dir, &self.name, "unable to create new current");
        self.size = 0;
        let dir = o.dir.try_clone();
        self.prune(&self.open.as_ref().unwrap().dir, &saved);
        if let (Some(cmd), Ok(dir)) = (self.cfg.processor.clone(), dir) {
            self.job = Some(Job {
                saved,
                cmd,
                dir,
                child: None,
            });
            self.start_job();
        }
    }

    /// Deletes `.t` leftovers and, beyond `n` old files, the oldest one.
    fn prune(&self, dir: &OwnedFd, just_saved: &SavedName) {
        let protected = self.protected();
        let mut names = Vec::new();
        match read_names(dir) {
            Ok(all) => {
                for n in all {
                    if !rotation::is_old_file(&n) || protected.contains(&n) {
                        continue;
                    }
                    if n[26] == b't' {
                        if let Err(e) = rfs::unlinkat(dir, as_os(&n), AtFlags::empty()) {
                            msg::warn2("unable to unlink processor leftover", &n, e);
                        }
                    } else {
                        names.push(n);
                    }
                }
            }
            Err(e) => msg::warn2("unable to read directory", &self.name, e),
        }
        let mut keep: Vec<&[u8]> = vec![just_saved];
        keep.extend(protected.iter().map(|p| p.as_slice()));
        if let Some(oldest) = rotation::prune_choice(&names, self.cfg.nmax, &keep) {
            msg::info(&[b"delete: ", &self.name, b"/", oldest]);
            if let Err(e) = rfs::unlinkat(dir, as_os(oldest), AtFlags::empty()) {
                msg::warn2("unable to unlink oldest logfile", &self.name, e);
            }
        }
    }

    /// Starts (or restarts) the processor for the pending job.
    fn start_job(&mut self) {
        loop {
            let Some(job) = &mut self.job else { return };
            msg::info(&[b"processing: ", &self.name, b"/", &job.saved]);
            match spawn_processor(job) {
                Ok(child) => {
                    job.child = Some(child);
                    return;
                }
                Err((what, e)) => {
                    // runit's child prints this and exits 111, and runit
                    // restarts it; we pause between attempts instead of
                    // spinning, and give up when the input has vanished.
                    msg::fatal2_text(what, &self.name, e);
                    if matches!(
                        rfs::statat(&job.dir, as_os(&job.saved), AtFlags::empty()),
                        Err(Errno::NOENT)
                    ) {
                        msg::warnx("processor input gone, giving up", &self.name);
                        self.job = None;
                        return;
                    }
                    std::thread::sleep(msg::PAUSE);
                }
            }
        }
    }

    /// Called on SIGCHLD: finishes the job if its processor has exited.
    pub fn reap(&mut self) {
        let Some(pid) = self.job.as_ref().and_then(|j| j.child) else {
            return;
        };
        let mut status = 0;
        // SAFETY: waitpid on our own child, with a valid status pointer.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            self.job_done(status);
        }
    }

    /// Blocks until no processor is pending (restarting failed ones).
    pub fn wait_job(&mut self) {
        while let Some(pid) = self.job.as_ref().and_then(|j| j.child) {
            let status = loop {
                let mut status = 0;
                // SAFETY: waitpid on our own child, with a valid pointer.
                if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
                    break status;
                }
                match Errno::from_raw_os_error(unsafe { *libc::__errno_location() }) {
                    Errno::INTR => {}
                    e => msg::pause2("error waiting for processor", &self.name, e),
                }
            };
            self.job_done(status);
        }
    }

    /// `status` as waitpid(2) reports it.
    fn job_done(&mut self, status: libc::c_int) {
        let Some(job) = &mut self.job else { return };
        job.child = None;
        // runit takes a processor killed by a signal for a success and
        // loses the file; we take it for a failure and run it again.
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        let t = saved_with(&job.saved, b't');
        if !ok {
            msg::warnx("processor failed, restart", &self.name);
            let _ = rfs::unlinkat(&job.dir, as_os(&t), AtFlags::empty());
            if matches!(
                rfs::statat(&job.dir, as_os(&job.saved), AtFlags::empty()),
                Err(Errno::NOENT)
            ) {
                // The input is gone; running again could only fail.
                msg::warnx("processor input gone, giving up", &self.name);
                self.job = None;
                return;
            }
            self.start_job();
            return;
        }
        let s = saved_with(&job.saved, b's');
        while let Err(e) = rfs::renameat(&job.dir, as_os(&t), &job.dir, as_os(&s)) {
            msg::pause2("unable to rename processed", &self.name, e);
        }
        while let Err(e) = rfs::chmodat(
            &job.dir,
            as_os(&s),
            Mode::from_raw_mode(0o744),
            AtFlags::empty(),
        ) {
            msg::pause2("unable to set mode of processed", &self.name, e);
        }
        if rfs::unlinkat(&job.dir, as_os(&job.saved), AtFlags::empty()).is_err() {
            msg::line(&[
                b"svlogd: warning: unable to unlink: ",
                &self.name,
                b"/",
                &job.saved,
            ]);
        }
        while let Err(e) = rfs::renameat(&job.dir, "newstate", &job.dir, "state") {
            msg::pause2("unable to rename state", &self.name, e);
        }
        msg::info(&[b"processed: ", &self.name, b"/", &s]);
        self.job = None;
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

/// Opens `current` for appending with mode 0644, retrying on failure.
fn open_current(dir: &OwnedFd, name: &[u8], what: &str) -> OwnedFd {
    let cur = loop {
        match rfs::openat(
            dir,
            CURRENT,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        ) {
            Ok(f) => break f,
            Err(e) => msg::pause2(what, name, e),
        }
    };
    while let Err(e) = rfs::fchmod(&cur, Mode::from_raw_mode(0o644)) {
        msg::pause2("unable to set mode of current", name, e);
    }
    cur
}

/// A name `@<tai64n>.<suffix>` not yet present in `dir`.
fn fresh_name(dir: &OwnedFd, suffix: u8) -> SavedName {
    loop {
        let mut n = [0u8; 27];
        n[0] = b'@';
        let mut hex = [0u8; 24];
        Clock::now().tai64n().write_hex(&mut hex);
        n[1..25].copy_from_slice(&hex);
        n[25] = b'.';
        n[26] = suffix;
        if matches!(
            rfs::statat(dir, as_os(&n), AtFlags::SYMLINK_NOFOLLOW),
            Err(Errno::NOENT)
        ) {
            return n;
        }
    }
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

/// Every name in `dir`.
fn read_names(dir: &OwnedFd) -> Result<Vec<Vec<u8>>, Errno> {
    let fd = rfs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut d = rfs::Dir::new(fd)?;
    let mut names = Vec::new();
    while let Some(e) = d.read() {
        names.push(e?.file_name().to_bytes().to_vec());
    }
    Ok(names)
}

/// The old files (`@...`, 27 bytes, any suffix) in `dir`.
fn list_old(dir: &OwnedFd) -> Result<Vec<Vec<u8>>, Errno> {
    Ok(read_names(dir)?
        .into_iter()
        .filter(|n| rotation::is_old_file(n))
        .collect())
}

/// A non-blocking UDP socket for the `u`/`U` copies (None when the
/// system refuses one; lines then carry runit's warning instead).
fn udp_socket() -> Option<OwnedFd> {
    // SAFETY: socket(2) returns a new descriptor we then own.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends one datagram; whether all of it went.
fn udp_send(sock: &OwnedFd, msg: &[u8], addr: std::net::SocketAddrV4) -> bool {
    // SAFETY: a zeroed sockaddr_in is valid; the fields are then set.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes(addr.ip().octets());
    // SAFETY: msg and sa are valid for the lengths given.
    let n = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            libc::MSG_NOSIGNAL,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    n >= 0 && n as usize == msg.len()
}

/// Opens the processor's files and starts `sh -c CMD` in the directory:
/// stdin the `.u` file, stdout the `.t` file, fd 4 `state` (created empty
/// when missing), fd 5 `newstate` (truncated).
fn spawn_processor(job: &Job) -> Result<libc::pid_t, (&'static str, Errno)> {
    let rw = OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::CLOEXEC;
    let m644 = Mode::from_raw_mode(0o644);
    let input = rfs::openat(
        &job.dir,
        as_os(&job.saved),
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ("unable to open input for processor", e))?;
    let output = rfs::openat(&job.dir, as_os(&saved_with(&job.saved, b't')), rw, m644)
        .map_err(|e| ("unable to open output for processor", e))?;
    let state = match rfs::openat(
        &job.dir,
        "state",
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(f) => f,
        Err(Errno::NOENT) => {
            rfs::openat(&job.dir, "state", rw, m644)
                .map_err(|e| ("unable to create empty state for processor", e))?;
            rfs::openat(
                &job.dir,
                "state",
                OFlags::RDONLY | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| ("unable to open state for processor", e))?
        }
        Err(e) => return Err(("unable to open state for processor", e)),
    };
    let newstate = rfs::openat(&job.dir, "newstate", rw, m644)
        .map_err(|e| ("unable to open newstate for processor", e))?;
    // Park state and newstate above fd 9 so that moving them to 4 and 5 in
    // the child cannot overwrite one with the other.
    let mv = |fd: &OwnedFd| {
        rustix::io::fcntl_dupfd_cloexec(fd, 10)
            .map_err(|e| ("unable to move filedescriptor for processor", e))
    };
    let state_hi = mv(&state)?;
    let newstate_hi = mv(&newstate)?;
    let (s, n, d, i, o) = (
        state_hi.as_raw_fd(),
        newstate_hi.as_raw_fd(),
        job.dir.as_fd().as_raw_fd(),
        input.as_raw_fd(),
        output.as_raw_fd(),
    );
    let cmd =
        CString::new(job.cmd.clone()).map_err(|_| ("unable to run processor", Errno::INVAL))?;
    let argv: [*const libc::c_char; 4] = [
        c"sh".as_ptr(),
        c"-c".as_ptr(),
        cmd.as_ptr(),
        std::ptr::null(),
    ];
    // The child reports a failed exec through this pipe (closed on
    // exec, so an empty read means the processor is running).
    let (err_r, err_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| ("unable to run processor", e))?;
    // SAFETY: between fork and exec the child only makes
    // async-signal-safe system calls on values prepared before the fork.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe { exec_processor(i, o, d, s, n, &argv, err_w.as_raw_fd()) }
    }
    if pid < 0 {
        let e = Errno::from_raw_os_error(unsafe { *libc::__errno_location() });
        return Err(("unable to run processor", e));
    }
    drop(err_w);
    let mut buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match rustix::io::read(&err_r, &mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    if got == 4 {
        // exec failed: collect the child, report its errno.
        let mut status = 0;
        while unsafe { libc::waitpid(pid, &mut status, 0) } == -1
            && unsafe { *libc::__errno_location() } == libc::EINTR
        {}
        return Err((
            "unable to run processor",
            Errno::from_raw_os_error(i32::from_ne_bytes(buf)),
        ));
    }
    Ok(pid)
}

/// The processor's side of the fork: stdin the `.u` file, stdout the `.t`
/// file, the log directory as working directory, fd 4 state, fd 5
/// newstate, SIGPIPE back at its default; then `sh -c CMD`. On failure
/// the errno goes to `err` and the child exits 111.
unsafe fn exec_processor(
    input: libc::c_int,
    output: libc::c_int,
    dir: libc::c_int,
    state: libc::c_int,
    newstate: libc::c_int,
    argv: &[*const libc::c_char; 4],
    err: libc::c_int,
) -> ! {
    // state and newstate sit above fd 9, so moving them to 4 and 5
    // cannot overwrite one with the other or with input and output,
    // which are moved first.
    let ok = libc::dup2(input, 0) >= 0
        && libc::dup2(output, 1) >= 0
        && libc::fchdir(dir) == 0
        && libc::dup2(state, 4) >= 0
        && libc::dup2(newstate, 5) >= 0
        && libc::signal(libc::SIGPIPE, libc::SIG_DFL) != libc::SIG_ERR
        && {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) == 0
        };
    if ok {
        libc::execv(c"/bin/sh".as_ptr(), argv.as_ptr());
    }
    let e = (*libc::__errno_location()).to_ne_bytes();
    libc::write(err, e.as_ptr().cast(), 4);
    libc::_exit(111)
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
