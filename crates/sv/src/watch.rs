//! Waking sv's wait loop as soon as a waited-for service's status changes.
//!
//! runsv replaces supervise/status (and supervise/xstatus, where a service
//! reports readiness) by renaming a new file over it, so an inotify watch
//! on each waited service's supervise/ directory for IN_MOVED_TO tells sv
//! to look again now instead of at the end of its pause. Nothing depends
//! on it: without inotify (or past the watch limit) the pause just runs
//! out, as before. ./check's verdict is still polled.

use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use supervise_proto::svdir::SUPERVISE;

pub struct Watch {
    fd: Option<OwnedFd>,
    /// Which services (by index) have had their watch added.
    added: Vec<bool>,
}

impl Watch {
    pub fn new() -> Watch {
        Watch {
            fd: inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok(),
            added: Vec::new(),
        }
    }

    /// Watches supervise/ of the current directory, the first time
    /// service `i` is looked at.
    pub fn add_once(&mut self, i: usize) {
        let Some(fd) = self.fd.as_ref() else {
            return;
        };
        if self.added.len() <= i {
            self.added.resize(i + 1, false);
        }
        if !self.added[i] {
            self.added[i] = true;
            let _ = inotify::add_watch(fd, SUPERVISE, WatchFlags::MOVED_TO);
        }
    }

    /// Waits `max` or until a watched directory gets a new file.
    pub fn pause(&mut self, max: Duration) {
        let Some(fd) = self.fd.as_ref() else {
            std::thread::sleep(max);
            return;
        };
        let ts = Timespec {
            tv_sec: max.as_secs() as i64,
            tv_nsec: max.subsec_nanos() as i64,
        };
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        if let Ok(n) = poll(&mut fds, Some(&ts)) {
            if n > 0 {
                // Only "something changed" matters: drain and look again.
                let mut buf = [0u8; 4096];
                while matches!(rustix::io::read(fd, &mut buf), Ok(n) if n > 0) {}
            }
        }
    }
}
