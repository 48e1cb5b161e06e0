//! kill -9 faults (issue 16): runsv, runsvdir and svlogd killed under a
//! service that writes numbered lines, against this suite and runit 2.1.2.
//!
//! The rig: `runsvdir SVDIR` with one service whose `./run` is a shell
//! loop writing "PID N" lines (N counting from 1 in each ./run process)
//! and recording its last N in `count.PID` after each line, until a
//! `stop` file appears; then it writes `done.PID` and exits. The lines go
//! either to runsvdir's stdout, a file (`kill-runsv`), or through the
//! service's log/ to svlogd (the other cases).
//!
//! A round: start, let lines flow, kill -9 the target, time the recovery,
//! let lines flow again, create `stop`, wait until every ./run that ever
//! ran has written `done` (with a deadline), then until the log holds
//! every line (with a deadline). Expected lines are 1..=count.PID for
//! each PID; lost = expected lines not in the log (current and every
//! @*.s/@*.u), dup = lines seen more than once.
//!
//! Every process the rig starts carries `RUNIT_RS_SOAK_KILL=<tag>` in its
//! environment: after a kill its orphans (a ./run, an svlogd, a runsv)
//! are no longer our descendants, so they are found by that tag in
//! /proc/PID/environ and killed by PID when the round ends.
//!
//! What both suites do (found by this case, not assumed): runsv takes
//! supervise/lock close-on-exec, so after kill -9 of runsv the lock is
//! free and the new runsv starts a second ./run beside the orphaned one,
//! which keeps writing into the old log pipe read by the old svlogd. The
//! new svlogd cannot lock the log directory while the old one lives, so it
//! exits and is restarted each second; the new ./run's lines wait in the
//! new pipe (runsv holds both ends) until the orphan exits. Nothing is
//! lost; "./run at once" is the figure for the service running twice.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::Signal;

use super::probe::{self, Reaper};
use super::Soak;
use crate::bench::common::Scratch;

const TAG_VAR: &str = "RUNIT_RS_SOAK_KILL";

/// Which suite a round runs: the directory of its runsv, runsvdir, svlogd.
#[derive(Clone, Copy, PartialEq)]
enum Suite {
    Runit,
    Ours,
}

fn bin(s: &Soak, suite: Suite, name: &str) -> PathBuf {
    match suite {
        Suite::Runit => s.ctx.theirs(name),
        Suite::Ours => s.ctx.ours(name),
    }
}

/// A runsvdir over one service, `svc`, with or without a log.
struct Rig {
    root: PathBuf,
    svdir: PathBuf,
    tag: String,
    runsvdir: PathBuf,
    path: String,
    reaper: Reaper,
    runsvdir_pid: u32,
    _scratch: Scratch,
}

/// The writer: numbered lines, throttled so a round is thousands of lines
/// and not millions (one short sleep every 50 lines).
fn writer_script(root: &Path) -> String {
    format!(
        "#!/bin/sh\nexec 2>&1\nr='{}'\ni=0\necho 0 > $r/count.$$\n\
         while [ ! -e $r/stop ]; do\n  i=$((i+1))\n  echo \"$$ $i\"\n  echo $i > $r/count.$$\n  \
         [ $((i % 50)) -ne 0 ] || sleep 0.005\ndone\n: > $r/done.$$\n",
        root.display()
    )
}

fn write_exec(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

impl Rig {
    fn new(s: &Soak, suite: Suite, name: &str, with_log: bool) -> Rig {
        let scratch = Scratch::new(&format!("soak-kill.{name}"));
        let root = scratch.0.clone();
        let svdir = root.join("sv");
        let svc = svdir.join("svc");
        std::fs::create_dir_all(&svc).unwrap();
        write_exec(&svc.join("run"), &writer_script(&root));
        if with_log {
            std::fs::create_dir_all(svc.join("log/main")).unwrap();
            // Keep every rotated file: a deleted one would read as lost lines.
            std::fs::write(svc.join("log/main/config"), "n1000\n").unwrap();
            write_exec(
                &svc.join("log/run"),
                &format!(
                    "#!/bin/sh\nexec '{}' main\n",
                    bin(s, suite, "svlogd").display()
                ),
            );
        }
        let runsvdir = bin(s, suite, "runsvdir");
        // runsvdir runs `runsv` from PATH: the suite's own first.
        let dir = runsvdir.parent().unwrap().display().to_string();
        let path = format!(
            "{dir}:{}",
            std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".into())
        );
        let mut rig = Rig {
            tag: root.display().to_string(),
            root,
            svdir,
            runsvdir,
            path,
            reaper: Reaper::new(),
            runsvdir_pid: 0,
            _scratch: scratch,
        };
        rig.start_runsvdir();
        rig
    }

    /// Starts (or, after a kill, restarts as an init would) runsvdir;
    /// its stdout and stderr are appended to files in the scratch dir.
    fn start_runsvdir(&mut self) {
        let open = |n: &str| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.root.join(n))
                .unwrap()
        };
        let c = Command::new(&self.runsvdir)
            .arg(&self.svdir)
            .env("PATH", &self.path)
            .env(TAG_VAR, &self.tag)
            .stdin(Stdio::null())
            .stdout(open("out"))
            .stderr(open("err"))
            .spawn()
            .expect("spawn runsvdir");
        self.runsvdir_pid = self.reaper.child(c);
    }

    /// Every live process carrying this rig's tag.
    fn tagged(&self) -> Vec<u32> {
        let needle = format!("{TAG_VAR}={}\0", self.tag);
        let mut out = Vec::new();
        let Ok(d) = std::fs::read_dir("/proc") else {
            return out;
        };
        for e in d.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) {
                if contains(&env, needle.as_bytes()) && probe::alive(pid) {
                    out.push(pid);
                }
            }
        }
        out
    }

    /// Tagged processes whose program is `name` (argv[0]'s last part),
    /// leaving out a runsv's forked child before it execs (same argv as
    /// its parent).
    fn procs(&self, name: &str) -> Vec<u32> {
        let all = self.tagged();
        all.iter()
            .copied()
            .filter(|&p| prog(p).as_deref() == Some(name))
            .filter(|&p| probe::ppid(p).and_then(prog).as_deref() != Some(name))
            .collect()
    }

    /// The ./run processes that have started, by PID, with their counts.
    fn counts(&self) -> HashMap<u32, u64> {
        let mut m = HashMap::new();
        for e in std::fs::read_dir(&self.root).unwrap().flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(pid) = n.strip_prefix("count.").and_then(|p| p.parse().ok()) {
                let c = std::fs::read_to_string(e.path())
                    .ok()
                    .and_then(|t| t.trim().parse().ok())
                    .unwrap_or(0);
                m.insert(pid, c);
            }
        }
        m
    }

    /// ./run processes alive now (started, not done, still running).
    fn writers_alive(&self) -> Vec<u32> {
        self.counts()
            .into_keys()
            .filter(|&p| !self.root.join(format!("done.{p}")).exists() && probe::alive(p))
            .collect()
    }

    fn lines_written(&self) -> u64 {
        self.counts().values().sum()
    }

    /// Stops every writer (the orphans too) and waits for them to finish.
    fn stop_writers(&self) -> bool {
        std::fs::write(self.root.join("stop"), "").unwrap();
        probe::poll(Duration::from_secs(20), || self.writers_alive().is_empty())
    }

    fn err_count(&self, what: &str) -> usize {
        std::fs::read_to_string(self.root.join("err"))
            .unwrap_or_default()
            .matches(what)
            .count()
    }

    /// Kills every tagged process by PID until none is left.
    fn kill_all(&mut self) {
        probe::poll(Duration::from_secs(5), || {
            let left = self.tagged();
            for &p in &left {
                probe::signal(p, Signal::KILL);
                probe::signal(p, Signal::CONT);
            }
            left.is_empty()
        });
        self.reaper.kill_all();
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn cmdline(pid: u32) -> Option<Vec<String>> {
    let b = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        b.split(|&c| c == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

fn prog(pid: u32) -> Option<String> {
    let a = cmdline(pid)?;
    let first = a.first()?;
    Some(first.rsplit('/').next().unwrap_or(first).to_string())
}

/// What the log (or output file) holds against what the writers wrote.
#[derive(Default, Clone, Copy)]
struct Tally {
    expected: u64,
    lost: u64,
    dup: u64,
    garbled: u64,
}

impl Tally {
    fn add(&mut self, o: Tally) {
        self.expected += o.expected;
        self.lost += o.lost;
        self.dup += o.dup;
        self.garbled += o.garbled;
    }
}

/// Lines "PID N" in `texts` against `counts`.
fn tally(counts: &HashMap<u32, u64>, texts: &[String]) -> Tally {
    let mut seen: HashMap<(u32, u64), u64> = HashMap::new();
    let mut t = Tally::default();
    for text in texts {
        for l in text.lines() {
            let mut w = l.split(' ');
            match (
                w.next().and_then(|p| p.parse::<u32>().ok()),
                w.next().and_then(|n| n.parse::<u64>().ok()),
                w.next(),
            ) {
                (Some(p), Some(n), None) => *seen.entry((p, n)).or_default() += 1,
                _ => t.garbled += 1,
            }
        }
    }
    for (&pid, &c) in counts {
        t.expected += c;
        t.lost += (1..=c).filter(|n| !seen.contains_key(&(pid, *n))).count() as u64;
    }
    t.dup = seen.values().map(|&k| k - 1).sum();
    t
}

/// The contents of every file of the log directory `dir` that holds lines.
fn log_texts(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(d) = std::fs::read_dir(dir) {
        for e in d.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n == "current" || n.starts_with('@') {
                v.push(std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
    }
    v
}

impl Rig {
    fn log_dir(&self) -> PathBuf {
        self.svdir.join("svc/log/main")
    }

    fn texts(&self, with_log: bool) -> Vec<String> {
        if with_log {
            log_texts(&self.log_dir())
        } else {
            vec![std::fs::read_to_string(self.root.join("out")).unwrap_or_default()]
        }
    }

    /// Stops the writers, waits for the log to drain, and counts.
    fn finish(&self, with_log: bool) -> Tally {
        let stopped = self.stop_writers();
        let counts = self.counts();
        let mut t = tally(&counts, &self.texts(with_log));
        probe::poll(Duration::from_secs(10), || {
            t = tally(&counts, &self.texts(with_log));
            t.lost == 0
        });
        if !stopped {
            // A writer that never finished: its lines after the count
            // are unknown; count it as one garbled line so the row fails.
            t.garbled += 1;
        }
        t
    }

    /// Waits until `n` lines more than now are written (bounded).
    fn flow(&self, n: u64) -> bool {
        let start = self.lines_written();
        probe::poll(Duration::from_secs(20), || {
            self.lines_written() >= start + n
        })
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn lines(t: &Tally) -> String {
    let mut s = format!(
        "{} lost of {}; {} dup",
        t.lost,
        thousands(t.expected),
        t.dup
    );
    if t.garbled > 0 {
        s.push_str(&format!("; {} garbled", t.garbled));
    }
    s
}

fn clean(t: &Tally) -> bool {
    t.lost == 0 && t.dup == 0 && t.garbled == 0
}

/// Figures of one suite over all rounds.
#[derive(Default)]
struct Figures {
    tally: Tally,
    /// Recovery time per round; None when it did not recover.
    recover: Vec<Option<Duration>>,
    /// Most ./run processes alive at once.
    at_once: usize,
    /// Most supervising runsv processes for the service at once.
    runsv_at_once: usize,
    /// Refused starts (runsv's lock, svlogd's lock) seen over all rounds.
    refused: usize,
    /// Any other failure, in words.
    broken: Vec<String>,
    /// When each runsv was first seen: one refused by the lock lives for
    /// a moment, a supervising one stays.
    seen: HashMap<u32, Instant>,
}

impl Figures {
    fn recovered(&self) -> bool {
        self.recover.iter().all(Option::is_some)
    }

    fn recover_text(&self) -> String {
        let got: Vec<Duration> = self.recover.iter().flatten().copied().collect();
        if got.len() < self.recover.len() {
            return format!(
                "not recovered in {} of {} rounds",
                self.recover.len() - got.len(),
                self.recover.len()
            );
        }
        let max = got.iter().max().copied().unwrap_or_default();
        if got.len() == 1 {
            format!("recovered in {}", secs(max))
        } else {
            let med = crate::bench::common::median(got);
            format!("recovered in {} (max {})", secs(med), secs(max))
        }
    }
}

/// Samples the ./run and runsv counts while `f` has not returned true.
fn watch_until(
    rig: &Rig,
    fig: &mut Figures,
    limit: Duration,
    mut f: impl FnMut(&Rig) -> bool,
) -> bool {
    let t = Instant::now();
    loop {
        fig.at_once = fig.at_once.max(rig.writers_alive().len());
        let now = Instant::now();
        let lasting = rig
            .procs("runsv")
            .into_iter()
            .filter(|p| {
                let first = *fig.seen.entry(*p).or_insert(now);
                now - first > Duration::from_millis(300)
            })
            .count();
        fig.runsv_at_once = fig.runsv_at_once.max(lasting);
        if f(rig) {
            return true;
        }
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Lines per phase of a round.
fn phase(s: &Soak) -> u64 {
    s.count(4000, 1000)
}

fn rounds(s: &Soak) -> u64 {
    s.count(5, 1)
}

/// Waits for the rig to be steady: one ./run writing, one runsv, and (with
/// a log) one svlogd. Returns the runsv's PID.
fn steady(rig: &Rig, with_log: bool) -> Option<u32> {
    let ok = probe::poll(Duration::from_secs(20), || {
        rig.writers_alive().len() == 1
            && rig.procs("runsv").len() == 1
            && (!with_log || rig.procs("svlogd").len() == 1)
    });
    if !ok {
        return None;
    }
    rig.procs("runsv").first().copied()
}

/// Case 1 (kill-runsv) and 4 (kill-runsv-log): kill -9 the service's
/// runsv; recovery is a new ./run started under a new runsv.
fn kill_runsv_round(s: &Soak, suite: Suite, with_log: bool, fig: &mut Figures) {
    let rig = Rig::new(s, suite, "runsv", with_log);
    let Some(runsv) = steady(&rig, with_log) else {
        fig.broken.push("never steady".into());
        return;
    };
    rig.flow(phase(s));
    let before: Vec<u32> = rig.counts().into_keys().collect();
    let svlogd_refusals = rig.err_count("unable to lock directory");
    let t = Instant::now();
    probe::signal(runsv, Signal::KILL);
    let up = watch_until(&rig, fig, Duration::from_secs(20), |r| {
        r.procs("runsv").iter().any(|&p| p != runsv)
            && r.writers_alive().iter().any(|p| !before.contains(p))
    });
    fig.recover.push(up.then(|| t.elapsed()));
    // Let both ./run processes write for a while.
    let from = rig.lines_written();
    watch_until(&rig, fig, Duration::from_secs(20), |r| {
        r.lines_written() >= from + phase(s)
    });
    fig.refused += rig.err_count("unable to lock directory") - svlogd_refusals;
    fig.tally.add(rig.finish(with_log));
}

/// Case 2 (kill-runsvdir): kill -9 runsvdir, start it again as an init
/// would; the old runsv keeps the service and the new runsv is refused.
fn kill_runsvdir_round(s: &Soak, suite: Suite, fig: &mut Figures) {
    fig.seen.clear();
    let mut rig = Rig::new(s, suite, "runsvdir", true);
    let Some(runsv) = steady(&rig, true) else {
        fig.broken.push("never steady".into());
        return;
    };
    fig.seen.insert(runsv, Instant::now());
    rig.flow(phase(s));
    let writer = rig.writers_alive();
    probe::signal(rig.runsvdir_pid, Signal::KILL);
    let dead = probe::poll(Duration::from_secs(5), || !probe::alive(rig.runsvdir_pid));
    if !dead {
        fig.broken.push("runsvdir survived kill -9".into());
    }
    // What a kill leaves: the runsv and its ./run go on.
    if !probe::alive(runsv) || rig.writers_alive() != writer {
        fig.broken.push("service died with runsvdir".into());
    }
    rig.reaper.kill_all();
    let refused0 = rig.err_count("supervise/lock");
    let t = Instant::now();
    rig.start_runsvdir();
    // Steady: the new runsvdir has tried its runsv and the lock refused it.
    let up = watch_until(&rig, fig, Duration::from_secs(20), |r| {
        r.err_count("supervise/lock") > refused0
    });
    fig.recover.push(up.then(|| t.elapsed()));
    // Watch a while: runit's runsvdir tries again each second or so.
    let from = rig.lines_written();
    let t = Instant::now();
    let window = Duration::from_millis(s.count(5000, 1500));
    watch_until(&rig, fig, Duration::from_secs(20), |r| {
        r.lines_written() >= from + phase(s) && t.elapsed() >= window
    });
    if !probe::alive(runsv) {
        fig.broken.push("old runsv gone".into());
    }
    fig.refused += rig.err_count("supervise/lock") - refused0;
    fig.tally.add(rig.finish(true));
}

/// Case 3 (kill-svlogd): kill -9 the log's svlogd; runsv restarts it and
/// the lines written meanwhile wait in the pipe.
fn kill_svlogd_round(s: &Soak, suite: Suite, fig: &mut Figures) {
    let rig = Rig::new(s, suite, "svlogd", true);
    if steady(&rig, true).is_none() {
        fig.broken.push("never steady".into());
        return;
    }
    rig.flow(phase(s));
    let Some(&old) = rig.procs("svlogd").first() else {
        fig.broken.push("no svlogd".into());
        return;
    };
    let t = Instant::now();
    probe::signal(old, Signal::KILL);
    let size = |r: &Rig| -> u64 { r.texts(true).iter().map(|t| t.len() as u64).sum() };
    let mut at_new: Option<u64> = None;
    // Recovered: a new svlogd runs and the log grows under it.
    let up = watch_until(&rig, fig, Duration::from_secs(20), |r| match at_new {
        None => {
            if r.procs("svlogd").iter().any(|&p| p != old) {
                at_new = Some(size(r));
            }
            false
        }
        Some(n) => size(r) > n,
    });
    fig.recover.push(up.then(|| t.elapsed()));
    rig.flow(phase(s));
    fig.tally.add(rig.finish(true));
}

fn run_case(s: &mut Soak, case: &str, round: impl Fn(&Soak, Suite, &mut Figures)) -> [Figures; 2] {
    let mut figs = [Figures::default(), Figures::default()];
    for _ in 0..rounds(s) {
        for (i, suite) in [Suite::Runit, Suite::Ours].into_iter().enumerate() {
            round(s, suite, &mut figs[i]);
        }
    }
    let _ = case;
    figs
}

fn broken(f: &Figures) -> String {
    if f.broken.is_empty() {
        String::new()
    } else {
        format!("; {}", f.broken.join(", "))
    }
}

/// Rows shared by the runsv cases.
fn runsv_rows(s: &mut Soak, case: &str, with_log: bool) {
    let [r, o] = run_case(s, case, |s, suite, f| {
        kill_runsv_round(s, suite, with_log, f)
    });
    let text = |f: &Figures| {
        let mut t = format!("{}; {}", f.recover_text(), lines(&f.tally));
        if with_log {
            t.push_str(&format!("; new svlogd refused {}×", f.refused));
        }
        t + &broken(f)
    };
    let good = o.recovered() && clean(&o.tally) && o.broken.is_empty();
    s.check(
        case,
        text(&r),
        text(&o),
        good,
        "not recovered, or lines lost or doubled",
    );
    // The orphaned ./run goes on beside the new one in both suites: a
    // figure, since avoiding it would change what runit users see.
    let twice = |f: &Figures| format!("{} ./run at once", f.at_once);
    s.info(&format!("{case}: service ran twice"), twice(&r), twice(&o));
}

pub fn run_runsv(s: &mut Soak) {
    runsv_rows(s, "kill -9 runsv (no log)", false);
}

pub fn run_runsv_log(s: &mut Soak) {
    runsv_rows(s, "kill -9 runsv (with log)", true);
}

pub fn run_runsvdir(s: &mut Soak) {
    let case = "kill -9 runsvdir, restart it";
    let [r, o] = run_case(s, case, kill_runsvdir_round);
    let text = |f: &Figures| {
        format!(
            "{} (first runsv refused); {}; {} runsv, {} ./run at once; refused {}×{}",
            f.recover_text(),
            lines(&f.tally),
            f.runsv_at_once,
            f.at_once,
            f.refused,
            broken(f)
        )
    };
    let good = o.recovered()
        && clean(&o.tally)
        && o.broken.is_empty()
        && o.runsv_at_once == 1
        && o.at_once == 1;
    s.check(
        case,
        text(&r),
        text(&o),
        good,
        "a second runsv or ./run, or lines lost or doubled",
    );
}

pub fn run_svlogd(s: &mut Soak) {
    let case = "kill -9 svlogd";
    let [r, o] = run_case(s, case, kill_svlogd_round);
    let text = |f: &Figures| format!("{}; {}{}", f.recover_text(), lines(&f.tally), broken(f));
    let good = o.recovered() && clean(&o.tally) && o.broken.is_empty();
    s.check(
        case,
        text(&r),
        text(&o),
        good,
        "not recovered, or lines lost or doubled",
    );
}
