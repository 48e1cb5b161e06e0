//! Writing `current`: the bytes queued for it, one write per batch,
//! early writeback, and making room on a full disk.

use std::os::fd::{AsRawFd, OwnedFd};

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::{as_os, list_old, LogDir, CURRENT, FLUSH_AT};
use crate::msg;
use crate::rotation;

/// Start writeback of `current` after this many bytes (see
/// `start_writeback`).
const WRITEBACK_AT: usize = 256 * 1024;

impl LogDir {
    /// Queues bytes for `current`, rotating where runit would. `ends_line`
    /// when the last part ends with the line's newline.
    #[inline]
    pub fn append(&mut self, parts: &[&[u8]], ends_line: bool) {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if self.limits.fits_plainly(self.size, len, ends_line) {
            for p in parts {
                self.queue(p);
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
                self.queue(&p[..n]);
                self.size += n as u64;
                p = &p[n..];
                any = true;
            }
        }
        if ends_line && any && self.limits.rotate_after_line(self.size) {
            self.rotate();
        }
    }

    /// Adds `p` to the bytes queued for `current`. Where the buffer cannot
    /// grow (memory is short), what it holds is written first, and a part
    /// larger than the whole buffer is written directly: the lines go to
    /// disk sooner instead of svlogd waiting for memory.
    #[inline]
    fn queue(&mut self, p: &[u8]) {
        if self.out.capacity() - self.out.len() < p.len()
            && supervise_proto::start::fallibly(|| self.out.try_reserve(p.len())).is_err()
        {
            self.flush();
            if self.out.capacity() < p.len() {
                self.write_all(p);
                return;
            }
        }
        self.out.extend_from_slice(p);
    }

    /// Writes everything queued to `current`, retrying as runit does on
    /// failure (and deleting old files on a full disk when `N` < `n`).
    pub fn flush(&mut self) {
        if self.open.is_none() {
            // Nowhere to write (cannot happen: a closed directory gets no
            // lines); keep the bytes rather than lose them.
            return;
        }
        let out = std::mem::take(&mut self.out);
        self.write_all(&out);
        self.out = out;
        self.out.clear();
        if self.unsynced >= WRITEBACK_AT {
            self.start_writeback();
        }
        if self.out.capacity() > 4 * FLUSH_AT {
            // A new, smaller buffer rather than shrink_to: a failed
            // reallocation there would end the process; here it leaves a
            // buffer that `queue` lives without.
            self.out = Vec::new();
            let _ = supervise_proto::start::fallibly(|| self.out.try_reserve_exact(2 * FLUSH_AT));
        }
    }

    /// Writes `bytes` to `current`, pausing and retrying on failure.
    fn write_all(&mut self, bytes: &[u8]) {
        let mut done = 0;
        while done < bytes.len() {
            let Some(o) = &self.open else {
                return;
            };
            match rustix::io::write(&o.cur, &bytes[done..]) {
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
}

/// Opens `current` for appending with mode 0644, pausing and retrying on
/// failure. Non-blocking, as runit opens it: a FIFO there fails (ENXIO)
/// instead of blocking. `stoppable`: give up (None) once svlogd is
/// stopping (see `msg::retry`); otherwise retry for ever.
pub(super) fn open_current(
    dir: &OwnedFd,
    name: &[u8],
    what: &str,
    stoppable: bool,
) -> Option<OwnedFd> {
    let open = || {
        rfs::openat(
            dir,
            CURRENT,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
    };
    let cur = if stoppable {
        msg::retry(what, name, open).ok()?
    } else {
        msg::retry_forever(what, name, open)
    };
    let chmod = || rfs::fchmod(&cur, Mode::from_raw_mode(0o644));
    let what = "unable to set mode of current";
    if stoppable {
        msg::retry(what, name, chmod).ok()?;
    } else {
        msg::retry_forever(what, name, chmod);
    }
    Some(cur)
}
