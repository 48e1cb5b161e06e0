//! Waking sv's wait loop as soon as a waited-for service's extended
//! status changes (readiness), instead of at the end of its pause.
//!
//! runsv makes `supervise/wake` (a FIFO) for services that report
//! readiness and writes to it each time it replaces supervise/xstatus
//! (see supervise_proto::xstatus::MAIN_WAKE). sv holds it open for reading
//! while it waits and polls it together with its pause. Nothing depends
//! on it: without the FIFO (runit's runsv, a service that does not
//! notify) the pause just runs out, as before; ./check is still polled.
//!
//! Not inotify: closing an inotify descriptor with a watch waits for the
//! kernel's mark reaper (8-20 ms on a virtual machine), and that would be
//! on the path to sv's exit, where a script waits for it.

use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::{open, Mode, OFlags};
use supervise_proto::xstatus::MAIN_WAKE;

pub struct Watch {
    /// The open wake FIFO of each service (by index), while it waits.
    fifos: Vec<Option<OwnedFd>>,
}

impl Watch {
    pub fn new() -> Watch {
        Watch { fifos: Vec::new() }
    }

    /// Before service `i` (the current directory) is looked at: opens
    /// its wake FIFO if it is not open, so that any change after the look
    /// rings.
    pub fn arm(&mut self, i: usize) {
        if self.fifos.len() <= i {
            self.fifos.resize_with(i + 1, || None);
        }
        if self.fifos[i].is_none() {
            self.fifos[i] = open(
                MAIN_WAKE,
                OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .ok();
        }
    }

    /// Service `i` is no longer waited for.
    pub fn disarm(&mut self, i: usize) {
        if let Some(f) = self.fifos.get_mut(i) {
            *f = None;
        }
    }

    /// Waits `max`, or until a waited service's FIFO rings.
    pub fn pause(&mut self, max: Duration) {
        let ts = Timespec {
            tv_sec: max.as_secs() as i64,
            tv_nsec: max.subsec_nanos() as i64,
        };
        let mut fds: Vec<PollFd> = self
            .fifos
            .iter()
            .flatten()
            .map(|f| PollFd::new(f, PollFlags::IN))
            .collect();
        if fds.is_empty() {
            std::thread::sleep(max);
            return;
        }
        if !matches!(poll(&mut fds, Some(&ts)), Ok(n) if n > 0) {
            return;
        }
        let rang: Vec<bool> = fds.iter().map(|p| !p.revents().is_empty()).collect();
        drop(fds);
        let open = self.fifos.iter_mut().filter(|f| f.is_some());
        for (slot, rang) in open.zip(rang) {
            if rang {
                // Drain and close: reopened (with HUP cleared) before the
                // service is looked at again.
                if let Some(fd) = slot.as_ref() {
                    let mut buf = [0u8; 64];
                    while matches!(rustix::io::read(fd, &mut buf), Ok(n) if n > 0) {}
                }
                *slot = None;
            }
        }
    }
}
