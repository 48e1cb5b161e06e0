//! The set of supervised services and the decisions about them, with no
//! system calls: a scan reports what it saw, the table says which runsv to
//! start and which to send TERM.
//!
//! A service is identified by the (device, inode) of its directory, as in
//! runit: renaming a service leaves its runsv alone, replacing the
//! directory by another one starts a new runsv and stops the old one. Two
//! names for one directory (a symlink to a sibling) share one runsv.

use std::time::{Duration, Instant};

/// (st_dev, st_ino) of a service directory.
pub type Key = (u64, u64);

/// The least time between two starts of one service's runsv, so that a
/// runsv that cannot start does not make runsvdir spin.
pub const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// One service: 24 bytes, no allocation of its own. runsvdir may watch
/// thousands of them for the machine's whole life, so the table is a flat
/// vector sorted by key rather than hash maps (a quarter of the memory),
/// and the two flags share a word with the pid (the kernel's pids stay
/// below 2^22). The name is not kept: a runsv is only ever started during
/// a scan, where the name is at hand.
#[derive(Debug, Clone, Copy)]
struct Service {
    key: Key,
    /// The runsv's pid (0 when none runs), [`SEEN`] and [`EVER`].
    pid_flags: u32,
    /// When its runsv was last started, in milliseconds since the table's
    /// first start, wrapping every 49.7 days (see [`Table::pause_left`]).
    started_ms: u32,
}

/// Seen by the scan in progress.
const SEEN: u32 = 1 << 31;
/// Started at least once: `started_ms` means something.
const EVER: u32 = 1 << 30;
const PID: u32 = EVER - 1;

impl Service {
    fn pid(&self) -> u32 {
        self.pid_flags & PID
    }

    fn set_pid(&mut self, pid: u32) {
        self.pid_flags = (self.pid_flags & !PID) | (pid & PID);
    }
}

#[derive(Debug, Default)]
pub struct Table {
    /// Sorted by key, except for `fresh` entries at the end, added by the
    /// scan in progress and sorted in when it ends.
    services: Vec<Service>,
    fresh: usize,
    /// What `started_ms` counts from: the moment of the first start.
    epoch: Option<Instant>,
    /// Earliest moment a dead runsv may be started again, if one waits.
    pending: Option<Instant>,
}

/// What a scan entry asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// Start `runsv NAME` now and report the pid with [`Table::started`].
    Start,
    /// Nothing to do (running, or waiting out its restart pause).
    Nothing,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    pub fn len(&self) -> usize {
        self.services.len()
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    fn find(&self, key: Key) -> Option<usize> {
        let sorted = self.services.len() - self.fresh;
        if let Ok(i) = self.services[..sorted].binary_search_by_key(&key, |s| s.key) {
            return Some(i);
        }
        self.services[sorted..]
            .iter()
            .position(|s| s.key == key)
            .map(|i| sorted + i)
    }

    /// Starts a scan.
    pub fn begin_scan(&mut self) {
        for svc in &mut self.services {
            svc.pid_flags &= !SEEN;
        }
        self.pending = None;
    }

    /// `now` in the unit and origin of `started_ms`.
    fn ms(&mut self, now: Instant) -> u32 {
        let epoch = *self.epoch.get_or_insert(now);
        // Truncation wraps, as started_ms does.
        now.saturating_duration_since(epoch).as_millis() as u32
    }

    /// How long a service with no runsv must still wait before its runsv
    /// may start again, if at all. Both stamps are whole milliseconds
    /// rounded down, so only a difference over RESTART_PAUSE proves that
    /// the pause has passed. A start exactly a multiple of 49.7 days ago
    /// looks recent and costs at most one more pause.
    fn pause_left(&mut self, svc: Service, now: Instant) -> Option<Duration> {
        if svc.pid_flags & EVER == 0 {
            return None;
        }
        let pause = RESTART_PAUSE.as_millis() as u32;
        let since = self.ms(now).wrapping_sub(svc.started_ms);
        (since <= pause).then(|| Duration::from_millis(u64::from(pause + 1 - since)))
    }

    /// A directory entry that is a directory with identity `key`.
    pub fn saw(&mut self, key: Key, now: Instant) -> Seen {
        let i = match self.find(key) {
            Some(i) => i,
            None => {
                self.services.push(Service {
                    key,
                    pid_flags: 0,
                    started_ms: 0,
                });
                self.fresh += 1;
                self.services.len() - 1
            }
        };
        let svc = &mut self.services[i];
        if svc.pid_flags & SEEN != 0 {
            // A second name for a directory already seen in this scan.
            return Seen::Nothing;
        }
        svc.pid_flags |= SEEN;
        if svc.pid() != 0 {
            return Seen::Nothing;
        }
        let svc = *svc;
        match self.pause_left(svc, now) {
            Some(left) => {
                let at = now + left;
                self.pending = Some(self.pending.map_or(at, |p| p.min(at)));
                Seen::Nothing
            }
            None => Seen::Start,
        }
    }

    /// Records a start attempt (`pid` None when it failed).
    pub fn started(&mut self, key: Key, pid: Option<u32>, now: Instant) {
        if let Some(i) = self.find(key) {
            let ms = self.ms(now);
            let svc = &mut self.services[i];
            svc.started_ms = ms;
            svc.pid_flags |= EVER;
            svc.set_pid(pid.unwrap_or(0));
            if pid.is_none() {
                // The millisecond more that pause_left asks for.
                let at = now + RESTART_PAUSE + Duration::from_millis(1);
                self.pending = Some(self.pending.map_or(at, |p| p.min(at)));
            }
        }
    }

    /// Ends a scan: forgets services not seen in it and returns the pids
    /// of their runsv processes, to be sent TERM. When the listing was not
    /// `complete` (the directory changed while it was read, so a service
    /// may be missing only from the listing), every service is kept.
    pub fn end_scan(&mut self, complete: bool) -> Vec<u32> {
        let mut term = Vec::new();
        self.services.retain(|svc| {
            if svc.pid_flags & SEEN != 0 || !complete {
                return true;
            }
            if svc.pid() != 0 {
                term.push(svc.pid());
            }
            false
        });
        if self.fresh > 0 {
            self.services.sort_unstable_by_key(|s| s.key);
            self.fresh = 0;
        }
        // Give back what a large directory emptied out left behind.
        if self.services.capacity() > 2 * self.services.len() + 64 {
            self.services.shrink_to_fit();
        }
        term
    }

    /// A child exited. True when it was one of our runsv processes (which
    /// makes a rescan due).
    pub fn reaped(&mut self, pid: u32) -> bool {
        if pid == 0 {
            return false;
        }
        match self.services.iter_mut().find(|s| s.pid() == pid) {
            Some(svc) => {
                svc.set_pid(0);
                true
            }
            None => false,
        }
    }

    /// When a service waiting out its restart pause may start, if any.
    pub fn pending(&self) -> Option<Instant> {
        self.pending
    }

    /// Pids of every running runsv.
    pub fn pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.services.iter().map(|s| s.pid()).filter(|&p| p != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(t: &mut Table, now: Instant, entries: &[(&str, Key)]) -> (Vec<String>, Vec<u32>) {
        t.begin_scan();
        let mut start = Vec::new();
        for (n, k) in entries {
            if t.saw(*k, now) == Seen::Start {
                start.push(n.to_string());
                // Pretend the pid is the inode.
                t.started(*k, Some(k.1 as u32), now);
            }
        }
        (start, t.end_scan(true))
    }

    #[test]
    fn add_rename_remove_replace() {
        let mut t = Table::new();
        let t0 = Instant::now();
        let (s, k) = scan(&mut t, t0, &[("a", (1, 10)), ("b", (1, 11))]);
        assert_eq!((s, k), (vec!["a".into(), "b".into()], vec![]));
        // Rename b to c: same inode, nothing happens.
        let (s, k) = scan(&mut t, t0, &[("a", (1, 10)), ("c", (1, 11))]);
        assert!(s.is_empty() && k.is_empty());
        // Remove a: its runsv gets TERM.
        let (s, k) = scan(&mut t, t0, &[("c", (1, 11))]);
        assert!(s.is_empty());
        assert_eq!(k, vec![10]);
        // Replace c by a new directory: new runsv, old one TERMed.
        let (s, k) = scan(&mut t, t0, &[("c", (1, 12))]);
        assert_eq!((s, k), (vec!["c".into()], vec![11]));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn an_incomplete_listing_stops_nothing() {
        let mut t = Table::new();
        let t0 = Instant::now();
        scan(&mut t, t0, &[("a", (1, 10)), ("b", (1, 11))]);
        // b was renamed while the directory was read and the listing has
        // neither name: b's runsv stays, a new one is started.
        t.begin_scan();
        assert_eq!(t.saw((1, 10), t0), Seen::Nothing);
        assert_eq!(t.saw((1, 12), t0), Seen::Start);
        t.started((1, 12), Some(12), t0);
        assert!(t.end_scan(false).is_empty());
        assert_eq!(t.len(), 3);
        // The next complete listing decides.
        let (s, k) = scan(&mut t, t0, &[("a", (1, 10)), ("b2", (1, 11))]);
        assert!(s.is_empty());
        assert_eq!(k, vec![12]);
    }

    #[test]
    fn two_names_one_directory() {
        let mut t = Table::new();
        let t0 = Instant::now();
        let (s, _) = scan(&mut t, t0, &[("lnk", (1, 10)), ("a", (1, 10))]);
        assert_eq!(s, vec!["lnk".to_string()]);
        assert_eq!(t.len(), 1);
        // Next scan, the other order: still one runsv, nothing to do.
        let (s, k) = scan(&mut t, t0, &[("a", (1, 10)), ("lnk", (1, 10))]);
        assert!(s.is_empty() && k.is_empty());
    }

    #[test]
    fn dead_runsv_restarted_but_not_in_a_tight_loop() {
        let mut t = Table::new();
        let t0 = Instant::now();
        scan(&mut t, t0, &[("a", (1, 10))]);
        assert!(t.reaped(10));
        assert!(!t.reaped(10));
        assert!(!t.reaped(999));
        // Died at once: wait out the pause.
        let (s, _) = scan(&mut t, t0 + Duration::from_millis(10), &[("a", (1, 10))]);
        assert!(s.is_empty());
        let due = t0 + RESTART_PAUSE + Duration::from_millis(1);
        assert_eq!(t.pending(), Some(due));
        let (s, _) = scan(&mut t, due - Duration::from_millis(1), &[("a", (1, 10))]);
        assert!(s.is_empty());
        let (s, _) = scan(&mut t, due, &[("a", (1, 10))]);
        assert_eq!(s, vec!["a".to_string()]);
        assert_eq!(t.pending(), None);
    }

    #[test]
    fn a_start_long_ago_is_no_pause() {
        let mut t = Table::new();
        let t0 = Instant::now();
        scan(&mut t, t0, &[("a", (1, 10))]);
        assert!(t.reaped(10));
        // 30 days later: past half the millisecond counter's range.
        let later = t0 + Duration::from_secs(30 * 86_400);
        let (s, _) = scan(&mut t, later, &[("a", (1, 10))]);
        assert_eq!(s, vec!["a".to_string()]);
        assert!(t.reaped(10));
        // One wrap of the counter after that start: it looks recent and
        // waits out one pause at most.
        let wrap = later + Duration::from_millis(1 << 32) + Duration::from_millis(300);
        let (s, _) = scan(&mut t, wrap, &[("a", (1, 10))]);
        assert!(s.is_empty());
        assert_eq!(t.pending(), Some(wrap + Duration::from_millis(701)));
    }

    #[test]
    fn a_service_takes_24_bytes() {
        assert_eq!(std::mem::size_of::<Service>(), 24);
    }

    #[test]
    fn failed_start_is_retried_after_the_pause() {
        let mut t = Table::new();
        let t0 = Instant::now();
        t.begin_scan();
        assert_eq!(t.saw((1, 1), t0), Seen::Start);
        t.started((1, 1), None, t0);
        assert!(t.end_scan(true).is_empty());
        assert_eq!(
            t.pending(),
            Some(t0 + RESTART_PAUSE + Duration::from_millis(1))
        );
        assert_eq!(t.pids().count(), 0);
    }

    #[test]
    fn many_services_in_any_order_are_each_started_once() {
        let mut t = Table::new();
        let t0 = Instant::now();
        // A fixed permutation of 0..1000 (multiplying by a unit mod 1000).
        let keys: Vec<(String, Key)> = (0..1000u64)
            .map(|i| (i * 377) % 1000)
            .map(|i| (format!("s{i}"), (7, 1000 + i)))
            .collect();
        let entries: Vec<(&str, Key)> = keys.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        let (s, k) = scan(&mut t, t0, &entries);
        assert_eq!((s.len(), k.len(), t.len()), (1000, 0, 1000));
        // Again, reversed, with 10 gone and 1 new: only those act.
        let mut again: Vec<(&str, Key)> = entries[10..].iter().rev().copied().collect();
        again.push(("new", (7, 5)));
        let (s, k) = scan(&mut t, t0, &again);
        assert_eq!(s, vec!["new".to_string()]);
        let mut gone: Vec<u32> = entries[..10].iter().map(|(_, k)| k.1 as u32).collect();
        let mut k = k;
        gone.sort_unstable();
        k.sort_unstable();
        assert_eq!(k, gone);
        assert_eq!(t.pids().count(), 991);
        assert!(t.reaped(1500) && !t.reaped(1500));
    }
}
