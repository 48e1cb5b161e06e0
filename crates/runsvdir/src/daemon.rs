//! The event loop: one poll(2) over the signal self-pipe, the inotify
//! descriptor, /proc/self/mountinfo and (with `log`) the stderr pipe, with
//! a timer for restarts that wait out their one-second pause, for the
//! log's dot every 15 minutes, and for runit's periodic stat of the
//! services path where events cannot be trusted to show every change
//! (see watch.rs). An idle tree wakes runsvdir only for the log's dot.
//!
//! As in runit, a scan runs with the services directory as the current
//! directory (so runsv is started as `runsv NAME` right there and error
//! texts match chdir's and opendir's), and runsvdir returns to where it
//! was started afterwards, so a relative services path keeps working.

use std::ffi::CStr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fd::{AsFd, BorrowedFd, OwnedFd};
use rustix::fs::{self, AtFlags, Dir, FileType, Mode, OFlags, CWD};
use rustix::io::Errno;
use rustix::process::{kill_process, Pid, Signal};

use supervise_proto::selfpipe::{self, Signals};

use crate::msg::Messages;
use crate::proctitle::Title;
use crate::table::{Key, Seen, Table};
use crate::watch::Watcher;

/// runit's rule: look at the services directory at least this often
/// (kept only where events cannot be trusted).
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
    /// /proc/self/mountinfo: the kernel flags it (POLLPRI) when the mount
    /// table changes, so a mount over the services path is seen.
    mounts: Option<OwnedFd>,
    stamp: Option<Stamp>,
    /// When to check without an event; None: only on events.
    next_check: Option<Instant>,
    /// Check as soon as the loop comes round.
    check_now: bool,
    /// That check is for an inotify or mount event.
    evented: bool,
    /// An event-triggered check found the path unusable: until then,
    /// failures are not reported (runsvchdir's two renames leave
    /// `current` missing for a moment, and the second raises an event).
    doubt: Option<Instant>,
    /// An event near a dangling symlink's target.
    dangling_due: bool,
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
        let signals = install_signals(&msgs)?;
        let now = Instant::now();
        Ok(Daemon {
            cfg,
            msgs,
            home,
            table: Table::new(),
            signals,
            watcher: Watcher::new(),
            mounts: fs::open(
                "/proc/self/mountinfo",
                OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK,
                Mode::empty(),
            )
            .ok(),
            stamp: None,
            next_check: Some(now),
            check_now: true,
            evented: false,
            doubt: None,
            dangling_due: false,
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
            // it runs only after SIGCHLD, not on every wake-up.
            // The flag is set before the handler writes the self-pipe, and
            // taken before reaping: no exit can be missed in between.
            if selfpipe::take(&selfpipe::CHLD) {
                self.reap();
            }
            if std::mem::take(&mut self.dangling_due)
                && self.watcher.as_mut().is_some_and(|w| w.refresh_dangling())
            {
                self.rescan = true;
                self.check_now = true;
            }
            let now = Instant::now();
            if self.check_now || self.next_check.is_some_and(|t| now >= t) {
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
        let evented = std::mem::take(&mut self.evented);
        // Watch the path before looking at it, so a change right after the
        // look raises an event.
        let fresh_watch = self
            .watcher
            .as_mut()
            .is_some_and(|w| w.watch_path(&self.cfg.dir));
        let trusted = self.mounts.is_some() && self.watcher.as_ref().is_some_and(|w| w.trusted());
        self.next_check = (!trusted).then(|| now + CHECK_INTERVAL);
        // A restart waiting out its pause keeps its time.
        if let Some(t) = self.table.pending() {
            self.soon(t);
        }
        let st = match fs::stat(self.cfg.dir.as_slice()) {
            Ok(st) => st,
            Err(e) => {
                self.unusable(now, evented, b"unable to stat ", e);
                return;
            }
        };
        let stamp = Stamp {
            dev: st.st_dev,
            ino: st.st_ino,
            mtime: st.st_mtime,
            mtime_nsec: st.st_mtime_nsec as i64,
        };
        if fresh_watch && self.stamp.is_some() {
            // A new watch on the services directory: events may have been
            // missed before it.
            self.rescan = true;
        }
        let restart_due = self.table.pending().is_some_and(|t| t <= now);
        if !(self.rescan || restart_due || self.stamp != Some(stamp)) {
            self.doubt = None;
            return;
        }
        if let Err(e) = rustix::process::chdir(self.cfg.dir.as_slice()) {
            self.unusable(now, evented, b"unable to change directory to ", e);
            return;
        }
        self.doubt = None;
        self.stamp = Some(stamp);
        self.rescan = false;
        let dangling = self.scan();
        if dangling.is_none() {
            // Not listed (too few descriptors, say): look again at the
            // next check's pace, changed or not. runit waits for the
            // directory to change, so it never recovered once the limit
            // was raised.
            self.rescan = true;
            self.soon(now + CHECK_INTERVAL);
        }
        // Polling only: a change later in the same second would leave
        // mtime as it is on file systems with one-second timestamps, so
        // rescan in a second, as runit does. (An event shows such a
        // change.)
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if !trusted && stamp.mtime >= wall {
            self.rescan = true;
            self.soon(now + RETRY_INTERVAL);
        }
        if self.alarm {
            self.alarm = false;
            self.confirm_forced_rescan();
        }
        if let Some(t) = self.table.pending() {
            self.soon(t);
        }
        if let Err(e) = rustix::process::fchdir(&self.home) {
            self.msgs
                .warn_errno(&[b"unable to change directory, pausing"], e);
        }
        // Back where the services path is relative to.
        if let (Some(w), Some(links)) = (self.watcher.as_mut(), dangling) {
            let dir = &self.cfg.dir;
            w.watch_dangling(
                links
                    .into_iter()
                    .map(|l| {
                        let mut p = dir.clone();
                        p.push(b'/');
                        p.extend_from_slice(&l);
                        p
                    })
                    .collect(),
            );
        }
    }

    /// Check again by `t` at the latest.
    fn soon(&mut self, t: Instant) {
        self.next_check = Some(self.next_check.map_or(t, |n| n.min(t)));
    }

    /// The services path cannot be used: runit's warning, and a look again
    /// in a second. After an event, the first second is given to the
    /// change to complete before anything is said.
    fn unusable(&mut self, now: Instant, evented: bool, what: &[u8], e: Errno) {
        if evented {
            let until = *self.doubt.get_or_insert(now + RETRY_INTERVAL);
            if now < until {
                self.soon(until);
                return;
            }
        }
        self.msgs.warn_errno(&[what, &self.cfg.dir], e);
        self.soon(now + RETRY_INTERVAL);
    }

    /// One pass over the services directory (the current directory).
    /// Returns the names of its dangling symlinks, unless the listing
    /// could not be read.
    fn scan(&mut self) -> Option<Vec<Vec<u8>>> {
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
                return None;
            }
        };
        let mut dir = match Dir::new(fd) {
            Ok(d) => d,
            Err(e) => {
                self.msgs
                    .warn_errno(&[b"unable to read directory ", &self.cfg.dir], e);
                return None;
            }
        };
        let before = self.table.len();
        let listed_at = dir.stat().ok().map(|st| change_time(&st));
        self.table.begin_scan();
        // Whether the listing shows the directory as it is: a name renamed
        // or removed while it was read may be missing under its new name,
        // and a service missing from the listing must not be stopped.
        let mut complete = true;
        let mut dangling = Vec::new();
        for entry in dir.by_ref() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    // Without a complete listing nothing may be stopped.
                    self.msgs
                        .warn_errno(&[b"unable to read directory ", &self.cfg.dir], e);
                    self.table.end_scan(false);
                    return None;
                }
            };
            let name = entry.file_name();
            let key = match examine(CWD, name, entry.file_type()) {
                Entry::Service(key) => key,
                Entry::NotService => continue,
                Entry::Gone => {
                    complete = false;
                    continue;
                }
                Entry::Unstatable(e) => {
                    self.msgs
                        .warn_errno(&[b"unable to stat ", name.to_bytes()], e);
                    if e == Errno::NOENT {
                        dangling.push(name.to_bytes().to_vec());
                    }
                    continue;
                }
            };
            let now = Instant::now();
            if self.table.saw(key, now) == Seen::Start {
                let pid = self.start(name.to_bytes());
                self.table.started(key, pid, now);
            }
        }
        // A large directory is read in several calls, and a rename between
        // them can leave a name out without any stat failing: the times
        // tell (to the file system's clock tick, so this is the lesser
        // net; the names found gone above are the sure one).
        if listed_at.is_none() || dir.stat().ok().map(|st| change_time(&st)) != listed_at {
            complete = false;
        }
        if !complete {
            // Look again soon (inotify has most likely asked already).
            self.rescan = true;
            self.soon(Instant::now() + RETRY_INTERVAL);
        }
        for pid in self.table.end_scan(complete) {
            signal(pid, Signal::TERM);
        }
        if self.table.len() > before + 64 {
            trim_heap();
        }
        Some(dangling)
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

    /// Sleeps in poll(2) until a signal, an inotify event, a change of
    /// the mount table, log input or the next deadline.
    fn wait(&mut self) {
        let now = Instant::now();
        let mut deadline = self.next_check;
        if self.cfg.log.is_some() {
            deadline = Some(deadline.map_or(self.next_dot, |d| d.min(self.next_dot)));
        }
        if self.check_now {
            deadline = Some(now);
        }
        // Round up so a wake-up never comes a hair before its deadline.
        let ts = deadline.map(|d| {
            let timeout = d.saturating_duration_since(now);
            rustix::time::Timespec {
                tv_sec: timeout.as_secs() as i64,
                tv_nsec: i64::from(timeout.subsec_nanos().div_ceil(1_000_000) * 1_000_000)
                    .min(999_999_999),
            }
        });
        let mut fds = Vec::with_capacity(4);
        fds.push(PollFd::new(&self.signals.pipe, PollFlags::IN));
        let watch_fd = self.watcher.as_ref().map(|w| w.fd().as_fd());
        if let Some(fd) = watch_fd {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        // mountinfo always reads as readable; only PRI tells of a change
        // (and polling it takes the change as seen).
        let mounts_fd = self.mounts.as_ref().map(|fd| fd.as_fd());
        if let Some(fd) = mounts_fd {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::PRI));
        }
        let log_fd = self.cfg.log.as_ref().map(|(fd, _)| fd.as_fd());
        if let Some(fd) = log_fd {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        if poll(&mut fds, ts.as_ref()).is_err() {
            return;
        }
        let ready: Vec<PollFlags> = fds.iter().map(|f| f.revents()).collect();
        drop(fds);
        let mut i = 1;
        if !ready[0].is_empty() {
            self.signals.drain();
        }
        if let Some(watcher) = self.watcher.as_mut() {
            if !ready[i].is_empty() {
                let w = watcher.drain();
                if w.rescan || w.recheck {
                    self.rescan |= w.rescan;
                    self.check_now = true;
                    self.evented = true;
                }
                self.dangling_due |= w.dangling;
            }
            i += 1;
        }
        if self.mounts.is_some() {
            if ready[i].contains(PollFlags::NVAL) {
                // Cannot happen with our own descriptor; poll instead of
                // spinning if it does (the number is not ours to close).
                if let Some(fd) = self.mounts.take() {
                    std::mem::forget(fd);
                }
                self.check_now = true;
            } else if !ready[i].is_empty() {
                // Something was mounted or unmounted somewhere: the path
                // may lead elsewhere now, and a dangling target may be
                // there.
                self.check_now = true;
                self.evented = true;
                self.dangling_due = true;
            }
            i += 1;
        }
        if self.cfg.log.is_some() && !ready[i].is_empty() {
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

/// What one name of the listing turned out to be.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    /// A directory, or a symlink to one: a service.
    Service(Key),
    /// A dot name, or anything that is not a directory.
    NotService,
    /// Listed, but gone by the time it was looked at (renamed or removed
    /// meanwhile). runit, which lists and stats at once, never sees such
    /// a name, so it is no warning.
    Gone,
    /// stat(2) failed on a name that is there (a dangling symlink):
    /// runit's warning.
    Unstatable(Errno),
}

/// Looks at the name `name` in directory `at`, of type `listed` by the
/// listing. stat(2) opens nothing, so a FIFO in the directory cannot
/// block it.
fn examine(at: BorrowedFd<'_>, name: &CStr, listed: FileType) -> Entry {
    classify(name, listed, |flags| fs::statat(at, name, flags))
}

/// [`examine`] with the stat calls given (`stat(flags)`), so that tests
/// can make the directory change between them.
fn classify(
    name: &CStr,
    listed: FileType,
    stat: impl Fn(AtFlags) -> Result<fs::Stat, Errno>,
) -> Entry {
    if name.to_bytes().first() == Some(&b'.') {
        return Entry::NotService;
    }
    // Only directories and symlinks (to directories) can be services;
    // skip the stat for anything else.
    if !matches!(
        listed,
        FileType::Directory | FileType::Symlink | FileType::Unknown
    ) {
        return Entry::NotService;
    }
    let service = |st: fs::Stat| match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => Entry::Service((st.st_dev, st.st_ino)),
        _ => Entry::NotService,
    };
    match stat(AtFlags::empty()) {
        Ok(st) => service(st),
        // Is the name itself there? Only then it is a symlink to nowhere.
        Err(Errno::NOENT) => match stat(AtFlags::SYMLINK_NOFOLLOW) {
            Err(Errno::NOENT) => Entry::Gone,
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Symlink => {
                // Renamed back in between: what is there now counts.
                service(st)
            }
            _ => Entry::Unstatable(Errno::NOENT),
        },
        Err(e) => Entry::Unstatable(e),
    }
}

/// When a directory's entries last changed, as far as stat(2) tells.
/// The self-pipe for the signal handlers takes two descriptors. With none
/// left (a tiny RLIMIT_NOFILE) runsvdir warns and tries again every check
/// interval rather than exiting: runit's runsvdir, which needs no pipe,
/// starts there, and under runit a runsvdir that exits ends stage 2.
fn install_signals(msgs: &Messages) -> std::io::Result<Signals> {
    loop {
        match Signals::install(&[
            Signal::CHILD.as_raw(),
            Signal::TERM.as_raw(),
            Signal::HUP.as_raw(),
            Signal::ALARM.as_raw(),
        ]) {
            Ok(s) => return Ok(s),
            Err(e) if e == Errno::MFILE || e == Errno::NFILE => {
                msgs.warn_errno(&[b"unable to install signal handlers, pausing"], e);
                std::thread::sleep(CHECK_INTERVAL);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn change_time(st: &fs::Stat) -> (i64, i64, i64, i64) {
    (
        st.st_mtime,
        st.st_mtime_nsec as i64,
        st.st_ctime,
        st.st_ctime_nsec as i64,
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::path::Path;

    fn look(dir: &tempfile::TempDir, name: &CStr, listed: FileType) -> Entry {
        let fd = fs::open(
            dir.path(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        examine(fd.as_fd(), name, listed)
    }

    #[test]
    fn a_listed_name_gone_before_its_stat_is_no_warning() {
        // The listing said "b, a directory"; it was renamed away before
        // the stat. runit's scan would not have listed it.
        let d = tempfile::tempdir().unwrap();
        assert_eq!(look(&d, c"b", FileType::Directory), Entry::Gone);
        assert_eq!(look(&d, c"b", FileType::Symlink), Entry::Gone);
        assert_eq!(look(&d, c"b", FileType::Unknown), Entry::Gone);
    }

    /// What stat (`follow`) and lstat (`nofollow`) say, in that order.
    fn injected(
        listed: FileType,
        follow: Result<&Path, Errno>,
        nofollow: Result<&Path, Errno>,
    ) -> Entry {
        let at = |r: Result<&Path, Errno>| r.map(|p| fs::lstat(p).unwrap());
        classify(c"b", listed, |flags| {
            if flags.contains(AtFlags::SYMLINK_NOFOLLOW) {
                at(nofollow)
            } else {
                at(follow)
            }
        })
    }

    #[test]
    fn the_directory_changing_between_the_two_stats() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("dir");
        let lnk = d.path().join("lnk");
        std::fs::create_dir(&dir).unwrap();
        symlink("nowhere", &lnk).unwrap();
        let st = fs::stat(&dir).unwrap();
        let key = (st.st_dev, st.st_ino);
        let gone = Err(Errno::NOENT);
        // Gone, then back under its name: the directory counts.
        assert_eq!(
            injected(FileType::Directory, gone, Ok(&dir)),
            Entry::Service(key)
        );
        // Gone for good.
        assert_eq!(injected(FileType::Directory, gone, gone), Entry::Gone);
        // Replaced by a dangling symlink: runit's warning.
        assert_eq!(
            injected(FileType::Directory, gone, Ok(&lnk)),
            Entry::Unstatable(Errno::NOENT)
        );
        // Other errors are warnings as they are.
        assert_eq!(
            injected(FileType::Symlink, Err(Errno::ACCESS), Ok(&lnk)),
            Entry::Unstatable(Errno::ACCESS)
        );
    }

    #[test]
    fn a_dangling_symlink_is_runits_warning() {
        let d = tempfile::tempdir().unwrap();
        symlink("nowhere", d.path().join("l")).unwrap();
        assert_eq!(
            look(&d, c"l", FileType::Symlink),
            Entry::Unstatable(Errno::NOENT)
        );
        symlink("l", d.path().join("loop1")).unwrap();
        std::fs::remove_file(d.path().join("l")).unwrap();
        symlink("loop1", d.path().join("l")).unwrap();
        assert_eq!(
            look(&d, c"l", FileType::Symlink),
            Entry::Unstatable(Errno::LOOP)
        );
    }

    #[test]
    fn only_directories_are_services_and_fifos_are_not_opened() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("svc")).unwrap();
        std::fs::write(d.path().join("file"), "").unwrap();
        fs::mkfifoat(CWD, d.path().join("fifo"), Mode::from_raw_mode(0o600)).unwrap();
        symlink("svc", d.path().join("to-svc")).unwrap();
        symlink("fifo", d.path().join("to-fifo")).unwrap();
        std::fs::create_dir(d.path().join(".dot")).unwrap();
        let st = fs::stat(d.path().join("svc")).unwrap();
        let key = (st.st_dev, st.st_ino);
        assert_eq!(look(&d, c"svc", FileType::Directory), Entry::Service(key));
        assert_eq!(look(&d, c"to-svc", FileType::Symlink), Entry::Service(key));
        assert_eq!(look(&d, c"svc", FileType::Unknown), Entry::Service(key));
        assert_eq!(look(&d, c"file", FileType::Unknown), Entry::NotService);
        assert_eq!(look(&d, c"fifo", FileType::Fifo), Entry::NotService);
        assert_eq!(look(&d, c"fifo", FileType::Unknown), Entry::NotService);
        assert_eq!(look(&d, c"to-fifo", FileType::Symlink), Entry::NotService);
        assert_eq!(look(&d, c".dot", FileType::Directory), Entry::NotService);
    }
}
