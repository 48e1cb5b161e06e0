//! The event loop: one poll(2) over the signal self-pipe, the inotify
//! descriptor and (with `log`) the stderr pipe, with a timer for runit's
//! periodic stat of the services directory, for restarts that wait out
//! their one-second pause, and for the log's dot every 15 minutes.
//!
//! As in runit, a scan runs with the services directory as the current
//! directory (so runsv is started as `runsv NAME` right there and error
//! texts match chdir's and opendir's), and runsvdir returns to where it
//! was started afterwards, so a relative services path keeps working.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{self, Dir, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::process::{kill_process, Pid, Signal};

use supervise_proto::selfpipe::{self, Signals};

use crate::msg::Messages;
use crate::proctitle::Title;
use crate::table::{Key, Seen, Table};
use crate::watch::Watcher;

/// runit's rule: look at the services directory at least this often.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// How soon to look again after a failure or a same-second change.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// A dot goes to the log every 15 minutes so old messages scroll away.
pub const DOT_INTERVAL: Duration = Duration::from_secs(900);

/// What the services directory looked like at the last scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    mtime: i64,
    mtime_nsec: i64,
}

pub struct Config {
    pub dir: Vec<u8>,
    pub new_session: bool,
    /// The stderr pipe's read end and the title it scrolls into.
    pub log: Option<(OwnedFd, Title)>,
}

pub struct Daemon {
    cfg: Config,
    msgs: Messages,
    /// Where runsvdir was started: relative services paths mean this.
    home: OwnedFd,
    table: Table,
    signals: Signals,
    watcher: Option<Watcher>,
    stamp: Option<Stamp>,
    next_check: Instant,
    /// Check as soon as the loop comes round (an event arrived).
    check_now: bool,
    /// Rescan at the next successful check even if the stamp did not
    /// change (a runsv died, inotify saw a change, SIGALRM).
    rescan: bool,
    /// SIGALRM asked for a rescan: Debian's runsvdir confirms it in
    /// ./.forced-rescan.
    alarm: bool,
    next_dot: Instant,
}

/// Why the loop ended: runsvdir's exit code.
pub type Exit = i32;

impl Daemon {
    pub fn new(cfg: Config, msgs: Messages, home: OwnedFd) -> std::io::Result<Daemon> {
        let now = Instant::now();
        Ok(Daemon {
            cfg,
            msgs,
            home,
            table: Table::new(),
            signals: Signals::install(&[
                Signal::CHILD.as_raw(),
                Signal::TERM.as_raw(),
                Signal::HUP.as_raw(),
                Signal::ALARM.as_raw(),
            ])?,
            watcher: Watcher::new(),
            stamp: None,
            next_check: now,
            check_now: true,
            rescan: true,
            alarm: false,
            next_dot: now,
        })
    }

    pub fn run(&mut self) -> Exit {
        // Children inherited through exec (a stage-2 script's background
        // jobs) may have exited before the handler was installed.
        self.reap();
        loop {
            if selfpipe::TERM.load(std::sync::atomic::Ordering::SeqCst) {
                // runit: TERM ends runsvdir at once; the runsv processes
                // stay.
                return 0;
            }
            if selfpipe::HUP.load(std::sync::atomic::Ordering::SeqCst) {
                for pid in self.table.pids() {
                    signal(pid, Signal::TERM);
                }
                return 111;
            }
            if selfpipe::take(&selfpipe::ALRM) {
                self.rescan = true;
                self.check_now = true;
                self.alarm = true;
            }
            // wait4 walks the list of every child (a thousand runsv), so
            // it runs only after SIGCHLD, not on each five-second wake-up.
            // The flag is set before the handler writes the self-pipe, and
            // taken before reaping: no exit can be missed in between.
            if selfpipe::take(&selfpipe::CHLD) {
                self.reap();
            }
            let now = Instant::now();
            if self.check_now || now >= self.next_check {
                self.check(now);
            }
            if self.cfg.log.is_some() && now >= self.next_dot {
                crate::msg::write_stderr(b".");
                self.next_dot = now + DOT_INTERVAL;
            }
            self.wait();
        }
    }

    /// Collects every exited child (as runsvdir may be process 1's only
    /// child, orphans are reaped too); a dead runsv makes a rescan due.
    fn reap(&mut self) {
        while let Some((pid, _)) = supervise_proto::wait::reap() {
            if self.table.reaped(pid) {
                self.rescan = true;
                self.check_now = true;
            }
        }
    }

    /// runit's check: stat the services directory; rescan when it changed
    /// (or a rescan is due for another reason).
    fn check(&mut self, now: Instant) {
        self.check_now = false;
        self.next_check = now + CHECK_INTERVAL;
        let st = match fs::stat(self.cfg.dir.as_slice()) {
            Ok(st) => st,
            Err(e) => {
                self.msgs
                    .warn_errno(&[b"unable to stat ", &self.cfg.dir], e);
                self.next_check = now + RETRY_INTERVAL;
                return;
            }
        };
        let stamp = Stamp {
            dev: st.st_dev,
            ino: st.st_ino,
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec as i64,
        };
        if let Some(w) = self.watcher.as_mut() {
            if w.ensure(&self.cfg.dir, (stamp.dev, stamp.ino)) && self.stamp.is_some() {
                // A new directory (or the first watch after losing one):
                // events may have been missed in between.
                self.rescan = true;
            }
        }
        let restart_due = self.table.pending().is_some_and(|t| t <= now);
        if !(self.rescan || restart_due || self.stamp != Some(stamp)) {
            return;
        }
        if let Err(e) = rustix::process::chdir(self.cfg.dir.as_slice()) {
            self.msgs
                .warn_errno(&[b"unable to change directory to ", &self.cfg.dir], e);
            self.next_check = now + RETRY_INTERVAL;
            return;
        }
        self.stamp = Some(stamp);
        self.rescan = false;
        // A change later in the same second would leave mtime as it is on
        // file systems with one-second timestamps: look once more.
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if stamp.mtime >= wall {
            self.next_check = self.next_check.min(now + RETRY_INTERVAL);
        }
        self.scan();
        if self.alarm {
            self.alarm = false;
            self.confirm_forced_rescan();
        }
        if let Some(t) = self.table.pending() {
            self.next_check = self.next_check.min(t);
        }
        if let Err(e) = rustix::process::fchdir(&self.home) {
            self.msgs
                .warn_errno(&[b"unable to change directory, pausing"], e);
        }
    }

    /// One pass over the services directory (the current directory).
    fn scan(&mut self) {
        let fd = match fs::openat(
            CWD,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(e) => {
                self.msgs
                    .warn_errno(&[b"unable to open directory ", &self.cfg.dir], e);
                return;
            }
        };
        let dir = match Dir::new(fd) {
            Ok(d) => d,
            Err(e) => {
                self.msgs
                    .warn_errno(&[b"unable to read directory ", &self.cfg.dir], e);
                return;
            }
        };
        let before = self.table.len();
        self.table.begin_scan();
        for entry in dir {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // Without a complete listing nothing may be stopped.
                    self.msgs
                        .warn_errno(&[b"unable to read directory ", &self.cfg.dir], e);
                    return;
                }
            };
            let name = entry.file_name().to_bytes();
            if name.first() == Some(&b'.') {
                continue;
            }
            // Only directories and symlinks (to directories) can be
            // services; skip the stat for anything else.
            if !matches!(
                entry.file_type(),
                FileType::Directory | FileType::Symlink | FileType::Unknown
            ) {
                continue;
            }
            let st = match fs::stat(name) {
                Ok(st) => st,
                Err(e) => {
                    self.msgs.warn_errno(&[b"unable to stat ", name], e);
                    continue;
                }
            };
            if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
                continue;
            }
            let key: Key = (st.st_dev, st.st_ino);
            let now = Instant::now();
            if self.table.saw(key, now) == Seen::Start {
                let pid = self.start(name);
                self.table.started(key, pid, now);
            }
        }
        for pid in self.table.end_scan() {
            signal(pid, Signal::TERM);
        }
        if self.table.len() > before + 64 {
            trim_heap();
        }
    }

    /// `runsv NAME`, found through $PATH, in the services directory.
    fn start(&self, name: &[u8]) -> Option<u32> {
        match crate::spawn::runsv(&self.cfg.dir, name, self.cfg.new_session) {
            Ok(pid) => Some(pid),
            Err(e) => {
                self.msgs.warn_errno(&[b"unable to fork for ", name], e);
                None
            }
        }
    }

    /// Debian's runsvdir writes the time of a SIGALRM-forced rescan to
    /// ./.forced-rescan, so whoever sent the signal can see it was done.
    fn confirm_forced_rescan(&self) {
        let label = supervise_proto::Tai64n::now().to_string();
        let file = "./.forced-rescan";
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::TRUNC | OFlags::NONBLOCK | OFlags::CLOEXEC;
        match fs::openat(CWD, file, flags, Mode::from_raw_mode(0o644)) {
            Ok(fd) => {
                if rustix::io::write(&fd, label.as_bytes()) != Ok(label.len()) {
                    self.msgs
                        .warn(&[b"failed to write", file.as_bytes(), label.as_bytes()]);
                }
            }
            Err(_) => self
                .msgs
                .warn(&[b"failed to open", file.as_bytes(), label.as_bytes()]),
        }
    }

    /// Sleeps in poll(2) until a signal, an inotify event, log input or
    /// the next deadline.
    fn wait(&mut self) {
        let now = Instant::now();
        let mut deadline = self.next_check;
        if self.cfg.log.is_some() {
            deadline = deadline.min(self.next_dot);
        }
        if self.check_now {
            deadline = now;
        }
        let timeout = deadline.saturating_duration_since(now);
        // Round up so a wake-up never comes a hair before its deadline.
        let ts = rustix::time::Timespec {
            tv_sec: timeout.as_secs() as i64,
            tv_nsec: i64::from(timeout.subsec_nanos().div_ceil(1_000_000) * 1_000_000)
                .min(999_999_999),
        };
        let mut fds = Vec::with_capacity(3);
        fds.push(PollFd::new(&self.signals.pipe, PollFlags::IN));
        let watch_fd = self.watcher.as_ref().map(|w| w.fd().as_fd());
        if let Some(fd) = watch_fd {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        let log_fd = self.cfg.log.as_ref().map(|(fd, _)| fd.as_fd());
        if let Some(fd) = log_fd {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        if poll(&mut fds, Some(&ts)).is_err() {
            return;
        }
        let ready: Vec<bool> = fds.iter().map(|f| !f.revents().is_empty()).collect();
        drop(fds);
        let mut i = 1;
        if ready[0] {
            self.signals.drain();
        }
        if let Some(watcher) = self.watcher.as_mut() {
            if ready[i] {
                let w = watcher.drain();
                if w.rescan || w.recheck {
                    self.rescan = true;
                    self.check_now = true;
                }
            }
            i += 1;
        }
        if self.cfg.log.is_some() && ready[i] {
            self.read_log();
        }
    }

    /// Moves what arrived on stderr into the command line.
    fn read_log(&mut self) {
        let Some((fd, title)) = self.cfg.log.as_mut() else {
            return;
        };
        let mut buf = [0u8; 4096];
        loop {
            match rustix::io::read(&*fd, &mut buf) {
                Ok(0) => return,
                Ok(n) => title.push(&buf[..n]),
                Err(Errno::INTR) => continue,
                Err(_) => return,
            }
        }
    }
}

/// The table grew by doubling and left the smaller copies behind as holes
/// in the heap: give those pages back, as runsvdir keeps what it holds for
/// the machine's whole life. (musl's allocator returns them by itself.)
fn trim_heap() {
    // SAFETY: malloc_trim only releases free memory.
    #[cfg(target_env = "gnu")]
    unsafe {
        libc::malloc_trim(0);
    }
}

fn signal(pid: u32, sig: Signal) {
    if let Some(p) = Pid::from_raw(pid as i32) {
        let _ = kill_process(p, sig);
    }
}
