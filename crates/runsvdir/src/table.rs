//! The set of supervised services and the decisions about them, with no
//! system calls: a scan reports what it saw, the table says which runsv to
//! start and which to send TERM.
//!
//! A service is identified by the (device, inode) of its directory, as in
//! runit: renaming a service leaves its runsv alone, replacing the
//! directory by another one starts a new runsv and stops the old one. Two
//! names for one directory (a symlink to a sibling) share one runsv.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// (st_dev, st_ino) of a service directory.
pub type Key = (u64, u64);

/// The least time between two starts of one service's runsv, so that a
/// runsv that cannot start does not make runsvdir spin.
pub const RESTART_PAUSE: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Service {
    /// The name it was last seen under (runsv's argument).
    name: Vec<u8>,
    pid: Option<u32>,
    last_start: Option<Instant>,
    /// The scan that last saw it.
    generation: u64,
}

#[derive(Debug, Default)]
pub struct Table {
    services: HashMap<Key, Service>,
    by_pid: HashMap<u32, Key>,
    generation: u64,
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

    /// Starts a scan.
    pub fn begin_scan(&mut self) {
        self.generation += 1;
        self.pending = None;
    }

    /// A directory entry `name` that is a directory with identity `key`.
    pub fn saw(&mut self, name: &[u8], key: Key, now: Instant) -> Seen {
        let generation = self.generation;
        let svc = self.services.entry(key).or_insert_with(|| Service {
            name: name.to_vec(),
            pid: None,
            last_start: None,
            generation,
        });
        if svc.generation == generation && svc.name != name {
            // A second name for a directory already seen in this scan.
            return Seen::Nothing;
        }
        svc.generation = generation;
        svc.name = name.to_vec();
        if svc.pid.is_some() {
            return Seen::Nothing;
        }
        match svc.last_start {
            Some(t) if now < t + RESTART_PAUSE => {
                let at = t + RESTART_PAUSE;
                self.pending = Some(self.pending.map_or(at, |p| p.min(at)));
                Seen::Nothing
            }
            _ => Seen::Start,
        }
    }

    /// Records a start attempt (`pid` None when it failed).
    pub fn started(&mut self, key: Key, pid: Option<u32>, now: Instant) {
        if let Some(svc) = self.services.get_mut(&key) {
            svc.last_start = Some(now);
            svc.pid = pid;
            if let Some(p) = pid {
                self.by_pid.insert(p, key);
            } else {
                let at = now + RESTART_PAUSE;
                self.pending = Some(self.pending.map_or(at, |p| p.min(at)));
            }
        }
    }

    /// Ends a scan: forgets services not seen in it and returns the pids
    /// of their runsv processes, to be sent TERM.
    pub fn end_scan(&mut self) -> Vec<u32> {
        let generation = self.generation;
        let mut term = Vec::new();
        let by_pid = &mut self.by_pid;
        self.services.retain(|_, svc| {
            if svc.generation == generation {
                return true;
            }
            if let Some(p) = svc.pid {
                by_pid.remove(&p);
                term.push(p);
            }
            false
        });
        term
    }

    /// A child exited. True when it was one of our runsv processes (which
    /// makes a rescan due).
    pub fn reaped(&mut self, pid: u32) -> bool {
        match self.by_pid.remove(&pid) {
            Some(key) => {
                if let Some(svc) = self.services.get_mut(&key) {
                    svc.pid = None;
                }
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
        self.by_pid.keys().copied()
    }

    /// The name a service is known by, for messages.
    pub fn name(&self, key: Key) -> Option<&[u8]> {
        self.services.get(&key).map(|s| s.name.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(t: &mut Table, now: Instant, entries: &[(&str, Key)]) -> (Vec<String>, Vec<u32>) {
        t.begin_scan();
        let mut start = Vec::new();
        for (n, k) in entries {
            if t.saw(n.as_bytes(), *k, now) == Seen::Start {
                start.push(n.to_string());
                // Pretend the pid is the inode.
                t.started(*k, Some(k.1 as u32), now);
            }
        }
        (start, t.end_scan())
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
        assert_eq!(t.name((1, 11)), Some(&b"c"[..]));
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
    fn two_names_one_directory() {
        let mut t = Table::new();
        let t0 = Instant::now();
        let (s, _) = scan(&mut t, t0, &[("lnk", (1, 10)), ("a", (1, 10))]);
        assert_eq!(s, vec!["lnk".to_string()]);
        assert_eq!(t.name((1, 10)), Some(&b"lnk"[..]));
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
        assert_eq!(t.pending(), Some(t0 + RESTART_PAUSE));
        let (s, _) = scan(&mut t, t0 + RESTART_PAUSE, &[("a", (1, 10))]);
        assert_eq!(s, vec!["a".to_string()]);
        assert_eq!(t.pending(), None);
    }

    #[test]
    fn failed_start_is_retried_after_the_pause() {
        let mut t = Table::new();
        let t0 = Instant::now();
        t.begin_scan();
        assert_eq!(t.saw(b"a", (1, 1), t0), Seen::Start);
        t.started((1, 1), None, t0);
        assert!(t.end_scan().is_empty());
        assert_eq!(t.pending(), Some(t0 + RESTART_PAUSE));
        assert_eq!(t.pids().count(), 0);
    }
}
