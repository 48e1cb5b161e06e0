// A toolbox: not every case uses every helper.
#![allow(dead_code)]
//! Readings of a running process for the fault matrix (descriptors,
//! memory, children, zombies), and a reaper that kills by PID what a case
//! started, also when the case panics.

use std::time::{Duration, Instant};

/// Open descriptors of `pid`.
pub fn fd_count(pid: u32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count())
}

/// Resident set size of `pid` in kB.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    crate::bench::common::field_kb(&s, "VmRSS:")
}

/// Proportional set size of `pid` in kB.
pub fn pss_kb(pid: u32) -> Option<u64> {
    crate::bench::common::pss_kb(pid)
}

/// The state letter of `pid` (R, S, Z, ...), None when it is gone.
pub fn state(pid: u32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit(')')
        .next()?
        .split_whitespace()
        .next()?
        .chars()
        .next()
}

/// The parent PID of `pid`.
pub fn ppid(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub fn alive(pid: u32) -> bool {
    matches!(state(pid), Some(c) if c != 'Z' && c != 'X')
}

/// Direct children of `pid` (all its threads).
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    out
}

/// Every descendant of `pid`, depth first.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = children(pid);
    while let Some(p) = todo.pop() {
        out.push(p);
        todo.extend(children(p));
    }
    out
}

/// Descendants of `pid` that are zombies.
pub fn zombies(pid: u32) -> Vec<u32> {
    descendants(pid)
        .into_iter()
        .filter(|&p| state(p) == Some('Z'))
        .collect()
}

/// Polls `f` every 2 ms until it holds or `limit` passes; true if it held.
pub fn poll(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    loop {
        if f() {
            return true;
        }
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Sends `sig` to `pid`.
pub fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(p, sig);
    }
}

/// Kills, on drop, every PID it was given and every descendant of them
/// still alive then (SIGKILL, after a SIGCONT in case one was stopped),
/// and reaps the ones that are its own children. Cases register each
/// process they start (runsvdir, runsv, svlogd) right after spawning it.
#[derive(Default)]
pub struct Reaper {
    pids: Vec<u32>,
    children: Vec<std::process::Child>,
}

impl Reaper {
    pub fn new() -> Reaper {
        Reaper::default()
    }

    /// A child this process spawned: killed and waited for on drop.
    pub fn child(&mut self, c: std::process::Child) -> u32 {
        let pid = c.id();
        self.children.push(c);
        pid
    }

    /// Any other process the case made (a grandchild, a re-spawned runsv).
    pub fn pid(&mut self, pid: u32) {
        self.pids.push(pid);
    }

    /// Kills everything now (the drop does the same).
    pub fn kill_all(&mut self) {
        use rustix::process::Signal;
        let mut all: Vec<u32> = self.children.iter().map(|c| c.id()).collect();
        all.extend(self.pids.iter().copied());
        let mut everyone = Vec::new();
        for &p in &all {
            everyone.extend(descendants(p));
            everyone.push(p);
        }
        for &p in &everyone {
            signal(p, Signal::KILL);
            signal(p, Signal::CONT);
        }
        for c in &mut self.children {
            let _ = c.wait();
        }
        self.children.clear();
        self.pids.clear();
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.kill_all();
    }
}
