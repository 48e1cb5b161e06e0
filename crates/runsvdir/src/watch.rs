//! inotify on the services directory, so that a service added, removed or
//! renamed is acted on at once instead of at runit's next five-second poll.
//!
//! inotify is only a hint to rescan now: the directory is still stat'ed at
//! least every five seconds, which catches what inotify cannot see (the
//! services path re-pointed by a symlink swap, network file systems,
//! a kernel without inotify or out of watches).

use rustix::fd::OwnedFd;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;
use std::mem::MaybeUninit;

use crate::table::Key;

/// What the events read so far call for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Wakeup {
    /// An entry that may be a service changed: rescan.
    pub rescan: bool,
    /// The directory itself was moved, deleted or changed its
    /// attributes: stat it again (and re-watch).
    pub recheck: bool,
}

pub struct Watcher {
    fd: OwnedFd,
    /// The watch descriptor and the directory it is on.
    current: Option<(i32, Key)>,
    buf: Vec<MaybeUninit<u8>>,
}

const DIR_EVENTS: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF)
    .union(WatchFlags::ONLYDIR);

impl Watcher {
    /// A non-blocking, close-on-exec inotify instance; None where the
    /// kernel has none or the per-user limit is reached (polling remains).
    pub fn new() -> Option<Watcher> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
        Some(Watcher {
            fd,
            current: None,
            buf: vec![MaybeUninit::uninit(); 16384],
        })
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Makes sure the directory at `path` (identity `key`) is watched.
    /// Returns true when a new watch was set up.
    pub fn ensure(&mut self, path: &[u8], key: Key) -> bool {
        if let Some((wd, k)) = self.current {
            if k == key {
                return false;
            }
            let _ = inotify::remove_watch(&self.fd, wd);
            self.current = None;
        }
        match inotify::add_watch(&self.fd, path, DIR_EVENTS) {
            Ok(wd) => {
                self.current = Some((wd, key));
                true
            }
            Err(_) => false,
        }
    }

    /// Reads every pending event.
    pub fn drain(&mut self) -> Wakeup {
        let mut w = Wakeup::default();
        let current = self.current.map(|c| c.0);
        let mut gone = false;
        let mut reader = inotify::Reader::new(&self.fd, &mut self.buf);
        loop {
            let ev = match reader.next() {
                Ok(ev) => ev,
                Err(Errno::INTR) => continue,
                Err(_) => break,
            };
            let flags = ev.events();
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                w.rescan = true;
                w.recheck = true;
                continue;
            }
            if Some(ev.wd()) != current {
                continue;
            }
            if flags.intersects(ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF)
            {
                gone = true;
                w.recheck = true;
                continue;
            }
            match ev.file_name().map(|n| n.to_bytes()) {
                // The directory's own attributes (it may have become
                // readable): look again.
                None => {
                    w.recheck = true;
                    w.rescan = true;
                }
                // Dot names are never services (runsvdir's own
                // .forced-rescan among them).
                Some(n) if n.first() == Some(&b'.') => {}
                Some(_) if flags.contains(ReadFlags::ATTRIB) => {}
                Some(_) => w.rescan = true,
            }
        }
        if gone {
            if let Some((wd, _)) = self.current.take() {
                let _ = inotify::remove_watch(&self.fd, wd);
            }
        }
        w
    }
}
