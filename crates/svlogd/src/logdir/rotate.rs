//! Rotating `current` on disk and pruning old files, carrying out what
//! `crate::rotation` decides.

use std::os::fd::OwnedFd;
use std::time::Instant;

use rustix::fs::{self as rfs, AtFlags, Mode, OFlags};
use rustix::io::Errno;

use super::processor::Job;
use super::write::open_current;
use super::{as_os, decimal, saved_with, secs, LogDir, SavedName, CURRENT};
use crate::msg;
use crate::rotation;
use crate::stamp::Clock;

impl LogDir {
    /// Files pruning must not touch: the running processor's input and
    /// output.
    pub(super) fn protected(&self) -> Vec<Vec<u8>> {
        match &self.job {
            Some(j) => vec![j.saved.to_vec(), saved_with(&j.saved, b't').to_vec()],
            None => Vec::new(),
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
        let Some(o) = self.open.as_mut() else { return };
        let saved = fresh_name(&o.dir, suffix);
        // Until the rename, giving up when stopping loses nothing: the
        // lines stay in `current`, which is then simply not rotated.
        let _ = msg::retry("unable to fsync current logfile", &self.name, || {
            rfs::fsync(&o.cur)
        });
        let _ = msg::retry("unable to set mode of current", &self.name, || {
            rfs::fchmod(&o.cur, Mode::from_raw_mode(0o744))
        });
        msg::info(&[
            b"rename: ",
            &self.name,
            b"/current ",
            &saved,
            b" ",
            decimal(self.size, &mut [0; 20]),
        ]);
        let rename = || rfs::renameat(&o.dir, CURRENT, &o.dir, as_os(&saved));
        if msg::retry("unable to rename current", &self.name, rename).is_err() {
            return;
        }
        // After the rename the rest of the line in progress needs a new
        // `current`: no giving up here (runit's behaviour).
        if let Some(cur) = open_current(&o.dir, &self.name, "unable to create new current", false) {
            o.cur = cur;
        }
        self.size = 0;
        let dir = o.dir.try_clone();
        if let Some(o) = &self.open {
            self.prune(&o.dir, &saved);
        }
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
    pub(super) fn prune(&self, dir: &OwnedFd, just_saved: &SavedName) {
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
}

/// A name `@<tai64n>.<suffix>` not yet present in `dir`.
pub(super) fn fresh_name(dir: &OwnedFd, suffix: u8) -> SavedName {
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

/// Every name in `dir`.
pub(super) fn read_names(dir: &OwnedFd) -> Result<Vec<Vec<u8>>, Errno> {
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
pub(super) fn list_old(dir: &OwnedFd) -> Result<Vec<Vec<u8>>, Errno> {
    Ok(read_names(dir)?
        .into_iter()
        .filter(|n| rotation::is_old_file(n))
        .collect())
}
