//! inotify on everything runit's five-second stat of the services path
//! would notice, so that runsvdir acts on a change at once and never wakes
//! up on an idle tree.
//!
//! runit rescans when the services path's (device, inode, mtime) changes.
//! That triple changes when:
//! - an entry of the services directory is created, removed or renamed,
//!   or the directory's times are set: a watch on the directory itself;
//! - the path comes to name another directory (the directory, or one of
//!   the directories or symlinks on the way to it, renamed, removed or
//!   replaced, as runsvchdir does with `current`): a watch on every
//!   directory the path walks through, for the name taken next;
//! - something is mounted over, or unmounted from, a point on the path:
//!   /proc/self/mountinfo, watched by the daemon (see daemon.rs).
//!
//! Where these cannot be trusted (no inotify, a watch refused, a network
//! or FUSE file system whose other clients' changes raise no event, the
//! path not walkable to a directory) the daemon keeps runit's periodic
//! stat; [`Watcher::trusted`] tells.
//!
//! Beyond runit: for a service symlink whose target does not exist yet,
//! the target's nearest existing ancestor is watched, so the service
//! starts as soon as its target appears (runit starts it only at its next
//! rescan, which needs some other change of the directory).

use rustix::fd::OwnedFd;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::fs::{self, FileType};
use rustix::io::Errno;
use std::mem::MaybeUninit;

/// What the events read so far call for.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Wakeup {
    /// An entry that may be a service changed: rescan.
    pub rescan: bool,
    /// The services path may name another directory now (or none): stat
    /// it again and walk it again.
    pub recheck: bool,
    /// The target of a dangling service symlink may have appeared.
    pub dangling: bool,
}

/// At most this many dangling symlinks get a watch of their own; past
/// that they are found as runit finds them, at the next rescan.
pub const MAX_DANGLING: usize = 256;

/// A watch on a directory of the services path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PathWatch {
    wd: i32,
    /// The entry the path takes next; None for the services directory
    /// itself, where every entry counts.
    next: Option<Vec<u8>>,
}

/// A dangling service symlink and the watch on its target's nearest
/// existing ancestor.
#[derive(Debug)]
struct Dangling {
    /// The symlink, as a path from where runsvdir was started.
    link: Vec<u8>,
    /// The watch and the name in it that would bring the target closer.
    at: Option<(i32, Vec<u8>)>,
}

pub struct Watcher {
    fd: OwnedFd,
    path: Vec<PathWatch>,
    /// The last walk reached a directory, every watch on the way was set
    /// up, and none is on a file system whose events can be missed.
    trusted: bool,
    dangling: Vec<Dangling>,
    buf: Vec<MaybeUninit<u8>>,
}

/// One mask for every watch: inotify keeps one mask per inode and
/// instance, and a directory can be both on the path and a dangling
/// target's ancestor.
const EVENTS: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::ATTRIB)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF)
    .union(WatchFlags::ONLYDIR);

/// Symlinks followed in one walk before giving up, as the kernel does.
const MAX_LINKS: usize = 40;

impl Watcher {
    /// A non-blocking, close-on-exec inotify instance; None where the
    /// kernel has none or the per-user limit is reached (polling remains).
    pub fn new() -> Option<Watcher> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
        Some(Watcher {
            fd,
            path: Vec::new(),
            trusted: false,
            dangling: Vec::new(),
            // One page: room for 15 events with the longest names, and
            // drain reads until none is left. It stays resident for the
            // daemon's life, so it is no larger.
            buf: vec![MaybeUninit::uninit(); 4096],
        })
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Whether events alone show every change of the services path (as of
    /// the last [`Watcher::watch_path`]).
    pub fn trusted(&self) -> bool {
        self.trusted
    }

    /// Walks `path` (relative to the current directory), watching each
    /// directory on the way before looking at its next entry, so that no
    /// change can slip in between the look and the watch. Returns true
    /// when the services directory's watch is new: events may have been
    /// missed before it.
    pub fn watch_path(&mut self, path: &[u8]) -> bool {
        let old = std::mem::take(&mut self.path);
        let fd = &self.fd;
        let mut new = Vec::new();
        let mut ok = true;
        let complete = walk(path, |dir, next| {
            match inotify::add_watch(fd, dir, EVENTS) {
                Ok(wd) => {
                    ok &= trusted_fs(dir);
                    new.push(PathWatch {
                        wd,
                        next: next.map(<[u8]>::to_vec),
                    });
                    true
                }
                // ENOSPC (out of watches), EACCES...: poll instead.
                Err(_) => {
                    ok = false;
                    false
                }
            }
        });
        let services = |v: &[PathWatch]| v.last().filter(|w| w.next.is_none()).map(|w| w.wd);
        let fresh = complete && services(&new) != services(&old);
        self.path = new;
        self.trusted = ok && complete;
        self.prune(old.iter().map(|w| w.wd));
        fresh
    }

    /// Watches the targets of these dangling symlinks (paths from the
    /// current directory), replacing the previous set.
    pub fn watch_dangling(&mut self, links: Vec<Vec<u8>>) {
        let old: Vec<i32> = self
            .dangling
            .iter()
            .filter_map(|d| d.at.as_ref())
            .map(|a| a.0)
            .collect();
        self.dangling = links
            .into_iter()
            .take(MAX_DANGLING)
            .map(|link| {
                let at = place(&self.fd, &link);
                Dangling { link, at }
            })
            .collect();
        self.prune(old.into_iter());
    }

    /// After an event near a dangling target: true when one of the links
    /// now leads to a directory (rescan, which also renews these
    /// watches); otherwise the watches move to the new nearest ancestors.
    pub fn refresh_dangling(&mut self) -> bool {
        let resolved = self.dangling.iter().any(|d| {
            fs::stat(d.link.as_slice())
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory)
        });
        if !resolved {
            let links = self.dangling.iter().map(|d| d.link.clone()).collect();
            self.watch_dangling(links);
        }
        resolved
    }

    /// Reads every pending event.
    pub fn drain(&mut self) -> Wakeup {
        let mut w = Wakeup::default();
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
                w.dangling = true;
                continue;
            }
            let wd = ev.wd();
            // The watched directory itself moved, went, or its file
            // system was unmounted (the watch is gone then).
            let itself = flags.intersects(
                ReadFlags::IGNORED
                    | ReadFlags::DELETE_SELF
                    | ReadFlags::MOVE_SELF
                    | ReadFlags::UNMOUNT,
            );
            let name = ev.file_name().map(|n| n.to_bytes());
            for p in self.path.iter().filter(|p| p.wd == wd) {
                if itself {
                    w.recheck = true;
                    continue;
                }
                match (name, &p.next) {
                    // The directory's own attributes: the path may have
                    // become usable, the services directory readable.
                    (None, next) => {
                        w.recheck = true;
                        w.rescan |= next.is_none();
                    }
                    // Dot names are never services (runsvdir's own
                    // .forced-rescan among them); an entry's own
                    // attributes change nothing runit looks at.
                    (Some(n), None) => {
                        if n.first() != Some(&b'.') && !flags.contains(ReadFlags::ATTRIB) {
                            w.rescan = true;
                        }
                    }
                    // The next step of the path changed.
                    (Some(n), Some(next)) => w.recheck |= n == next.as_slice(),
                }
            }
            for d in &self.dangling {
                if let Some((dwd, dname)) = &d.at {
                    if *dwd == wd && (itself || name.is_none_or(|n| n == dname.as_slice())) {
                        w.dangling = true;
                    }
                }
            }
        }
        w
    }

    /// Every watch descriptor in use.
    fn in_use(&self) -> Vec<i32> {
        self.path
            .iter()
            .map(|w| w.wd)
            .chain(
                self.dangling
                    .iter()
                    .filter_map(|d| d.at.as_ref())
                    .map(|a| a.0),
            )
            .collect()
    }

    /// Removes those of `old` that no watch uses any longer.
    fn prune(&mut self, old: impl Iterator<Item = i32>) {
        let used = self.in_use();
        let mut gone: Vec<i32> = old.filter(|wd| !used.contains(wd)).collect();
        gone.sort_unstable();
        gone.dedup();
        for wd in gone {
            let _ = inotify::remove_watch(&self.fd, wd);
        }
    }
}

/// Calls `watch(dir, Some(name))` for each directory the kernel would walk
/// through to resolve `path` (from the current directory), following
/// symlinks, before looking at `name` in it, and `watch(dir, None)` for the
/// directory reached. Stops when `watch` returns false. True when the path
/// led to a directory.
fn walk(path: &[u8], mut watch: impl FnMut(&[u8], Option<&[u8]>) -> bool) -> bool {
    let mut cur: Vec<u8> = if path.starts_with(b"/") {
        b"/".to_vec()
    } else {
        b".".to_vec()
    };
    // What is left to walk, the next component last.
    let mut todo: Vec<Vec<u8>> = components(path).rev().collect();
    let mut links = 0;
    while let Some(c) = todo.pop() {
        if !watch(&cur, Some(&c)) {
            return false;
        }
        let next = join(&cur, &c);
        if c == b".." {
            cur = next;
            continue;
        }
        let Ok(st) = fs::lstat(next.as_slice()) else {
            return false;
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => cur = next,
            FileType::Symlink => {
                links += 1;
                if links > MAX_LINKS {
                    return false;
                }
                let Ok(target) = fs::readlink(next.as_slice(), Vec::new()) else {
                    return false;
                };
                let target = target.as_bytes();
                if target.starts_with(b"/") {
                    cur = b"/".to_vec();
                }
                todo.extend(components(target).rev());
            }
            _ => return false,
        }
    }
    watch(&cur, None)
}

/// The names of a path, without empty ones and `.`.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = dir.to_vec();
    if !p.ends_with(b"/") {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

/// `path` split at its last slash: (directory, name).
fn split_last(path: &[u8]) -> (Vec<u8>, Vec<u8>) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(0) => (b"/".to_vec(), path[1..].to_vec()),
        Some(i) => (path[..i].to_vec(), path[i + 1..].to_vec()),
        None => (b".".to_vec(), path.to_vec()),
    }
}

/// Watches the nearest existing ancestor of where the symlink `link`
/// leads (through a few more dangling symlinks at most), for the name
/// that would bring the target closer.
fn place(fd: &OwnedFd, link: &[u8]) -> Option<(i32, Vec<u8>)> {
    let mut target = link.to_vec();
    for _ in 0..8 {
        let Ok(to) = fs::readlink(target.as_slice(), Vec::new()) else {
            break;
        };
        let to = to.as_bytes();
        target = if to.starts_with(b"/") {
            to.to_vec()
        } else {
            join(&split_last(&target).0, to)
        };
    }
    for _ in 0..64 {
        let (dir, name) = split_last(&target);
        if name.is_empty() || name == b"." || name == b".." {
            // `x/..` missing means `x` is.
            if dir == target {
                return None;
            }
            target = dir;
            continue;
        }
        let is_dir = fs::stat(dir.as_slice())
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory);
        if is_dir {
            return inotify::add_watch(fd, dir.as_slice(), EVENTS)
                .ok()
                .map(|wd| (wd, name));
        }
        if dir == b"/" || dir == b"." {
            return None;
        }
        target = dir;
    }
    None
}

/// False for file systems where a change can come from elsewhere (another
/// NFS client, a FUSE daemon) without raising an inotify event.
fn trusted_fs(dir: &[u8]) -> bool {
    const UNTRUSTED: &[u32] = &[
        0x6969,      // NFS
        0x517b,      // SMB
        0xff53_4d42, // CIFS
        0xfe53_4d42, // SMB2
        0x6573_5546, // FUSE (sshfs, virtiofs, ...)
        0x7375_7245, // Coda
        0x5346_414f, // AFS
        0x6b41_4653, // kAFS
        0x0102_1997, // 9p
        0x00c3_6400, // Ceph
        0x564c,      // NCP
        0x7461_636f, // OCFS2
        0x0116_1970, // GFS2
        0x0bd0_0bd0, // Lustre
        0x4750_4653, // GPFS
        0x2003_0528, // OrangeFS
        0x786f_4256, // vboxsf
    ];
    match fs::statfs(dir) {
        Ok(st) => !UNTRUSTED.contains(&(st.f_type as u64 as u32)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::symlink;

    fn b(p: &std::path::Path) -> Vec<u8> {
        p.as_os_str().as_bytes().to_vec()
    }

    #[test]
    fn the_walk_follows_symlinks_and_names_each_step() {
        let d = tempfile::tempdir().unwrap();
        let root = b(d.path());
        std::fs::create_dir_all(d.path().join("levels/default")).unwrap();
        symlink("default", d.path().join("levels/current")).unwrap();
        symlink(d.path().join("levels/current"), d.path().join("service")).unwrap();
        let mut steps = Vec::new();
        let path = join(&root, b"service");
        assert!(walk(&path, |dir, next| {
            steps.push((dir.to_vec(), next.map(<[u8]>::to_vec)));
            true
        }));
        let levels = join(&root, b"levels");
        assert!(steps.contains(&(root.clone(), Some(b"service".to_vec()))));
        assert!(steps.contains(&(levels.clone(), Some(b"current".to_vec()))));
        assert!(steps.contains(&(levels.clone(), Some(b"default".to_vec()))));
        assert_eq!(steps.last(), Some(&(join(&levels, b"default"), None)));
        // Missing, or stopped by the caller: not complete.
        assert!(!walk(&join(&root, b"nothing/here"), |_, _| true));
        assert!(!walk(&path, |_, _| false));
    }

    #[test]
    fn events_on_the_path_and_in_the_services_directory() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("s");
        std::fs::create_dir(&s).unwrap();
        let mut w = Watcher::new().unwrap();
        assert!(w.watch_path(&b(&s)));
        assert!(!w.watch_path(&b(&s)), "the same directory again");
        assert!(w.trusted());
        assert_eq!(w.drain(), Wakeup::default());
        // Another name beside the path: nothing to do.
        std::fs::create_dir(d.path().join("unrelated")).unwrap();
        assert_eq!(w.drain(), Wakeup::default());
        // An entry, and a dot entry.
        std::fs::create_dir(s.join(".dot")).unwrap();
        assert_eq!(w.drain(), Wakeup::default());
        std::fs::create_dir(s.join("svc")).unwrap();
        assert!(w.drain().rescan);
        // The directory renamed away and another put in its place.
        std::fs::rename(&s, d.path().join("old")).unwrap();
        assert!(w.drain().recheck);
        assert!(!w.watch_path(&b(&s)));
        assert!(!w.trusted(), "the path leads nowhere");
        std::fs::create_dir(&s).unwrap();
        assert!(w.drain().recheck);
        assert!(w.watch_path(&b(&s)), "a new services directory");
        assert!(w.trusted());
    }

    #[test]
    fn a_dangling_targets_nearest_ancestor_is_watched() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("s");
        std::fs::create_dir(&s).unwrap();
        symlink("../far/x", s.join("l")).unwrap();
        let mut w = Watcher::new().unwrap();
        w.watch_dangling(vec![b(&s.join("l"))]);
        std::fs::create_dir(d.path().join("other")).unwrap();
        assert_eq!(w.drain(), Wakeup::default());
        std::fs::create_dir(d.path().join("far")).unwrap();
        assert!(w.drain().dangling);
        assert!(!w.refresh_dangling(), "still dangling");
        std::fs::create_dir(d.path().join("far/y")).unwrap();
        assert_eq!(w.drain(), Wakeup::default());
        std::fs::create_dir(d.path().join("far/x")).unwrap();
        assert!(w.drain().dangling);
        assert!(w.refresh_dangling());
    }

    #[test]
    fn at_most_so_many_dangling_watches() {
        let d = tempfile::tempdir().unwrap();
        let mut w = Watcher::new().unwrap();
        let links: Vec<Vec<u8>> = (0..MAX_DANGLING + 10)
            .map(|i| {
                let l = d.path().join(format!("l{i}"));
                symlink(format!("t{i}"), &l).unwrap();
                b(&l)
            })
            .collect();
        w.watch_dangling(links);
        assert_eq!(w.dangling.len(), MAX_DANGLING);
    }
}
