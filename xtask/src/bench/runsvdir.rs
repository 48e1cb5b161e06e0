//! runsvdir: fan-out of 1,000 services, pickup of a new service, idle CPU
//! of the whole tree, and runsv memory per service. Each implementation
//! runs with its own runsv (reference runsvdir + reference runsv, ours +
//! ours). The services live on a tmpfs (/dev/shm), so the figures measure
//! the supervisors, not the disk.
//!
//! Settings (environment):
//!   RUNSVDIR_BENCH_N=1000          services for fan-out, idle CPU, memory
//!   RUNSVDIR_BENCH_FANOUTS=3       fan-out repetitions (median reported)
//!   RUNSVDIR_BENCH_PICKUPS=50      pickups (median reported; runit's take
//!                                  1-6 s each)
//!   RUNSVDIR_BENCH_IDLE_SECS=60    idle CPU window
//!   RUNSVDIR_BENCH_DIR=/dev/shm    where the services live (e.g. /var/tmp
//!                                  for a disk file system: then runsv's
//!                                  status files are part of the figures;
//!                                  each fan-out then gets a fresh tree
//!                                  and a 6 s settle, see `settle`)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{median, pss_kb, row, Ctx, Scratch};

pub(super) fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A service whose ./run records its pid in `marks/NAME` (outside the
/// services directory, so runit sees no extra directory changes).
fn make_service(dir: &Path, marks: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("run");
    let run = format!(
        "#!/bin/sh\necho $$ > {}/{name}\nexec sleep 100000\n",
        marks.display()
    );
    std::fs::write(&p, run).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

pub(super) fn count_entries(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

pub(super) fn wait(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while !f() {
        if t.elapsed() > limit {
            println!("bench: timed out waiting for {what}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    true
}

fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !matches!(
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next()),
            Some("Z") | None
        ),
        Err(_) => false,
    }
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Signals one process by pid (kill(1): xtask keeps its dependencies
/// to supervise-proto).
fn send(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// CPU time in ns (schedstat) and context switches of one process.
fn cpu_and_switches(pid: u32) -> (u64, u64) {
    let ns = std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let sw: u64 = status
        .lines()
        .filter(|l| l.contains("ctxt_switches:"))
        .filter_map(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum();
    (ns, sw)
}

/// One implementation's programs.
pub(super) struct Impl {
    runsvdir: PathBuf,
    path: std::ffi::OsString,
}

impl Impl {
    pub(super) fn new(runsvdir: PathBuf, runsv_dir: &Path) -> Impl {
        let mut path = runsv_dir.as_os_str().to_owned();
        path.push(":");
        path.push(std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()));
        Impl { runsvdir, path }
    }
}

/// A running runsvdir with its services; torn down (HUP, then KILL by
/// pid for anything left) on drop.
pub(super) struct Tree {
    child: Child,
    marks: PathBuf,
}

impl Tree {
    pub(super) fn start(imp: &Impl, services: &Path, marks: &Path) -> Tree {
        let child = Command::new(&imp.runsvdir)
            .arg(services)
            .env("PATH", &imp.path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn runsvdir");
        Tree {
            child,
            marks: marks.to_path_buf(),
        }
    }

    pub(super) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// runsvdir, every runsv and every ./run.
    fn all_pids(&self) -> Vec<u32> {
        let mut v = vec![self.pid()];
        for r in children(self.pid()) {
            v.push(r);
            v.extend(children(r));
        }
        v
    }

    fn runsv_pids(&self) -> Vec<u32> {
        children(self.pid())
    }

    fn run_pids(&self) -> Vec<u32> {
        std::fs::read_dir(&self.marks)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok()?.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let mut pids = self.runsv_pids();
        pids.extend(self.run_pids());
        send(self.pid(), "HUP");
        let _ = self.child.wait();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) && pids.iter().any(|&p| alive(p)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        for p in pids {
            if alive(p) {
                send(p, "KILL");
            }
        }
    }
}

/// Builds `n` services plus a marks directory under `root`.
pub(super) fn build(root: &Path, n: usize) -> (PathBuf, PathBuf) {
    let services = root.join("service");
    let marks = root.join("marks");
    std::fs::create_dir_all(&services).unwrap();
    std::fs::create_dir_all(&marks).unwrap();
    for i in 0..n {
        let name = format!("s{i:04}");
        make_service(&services.join(&name), &marks, &name);
    }
    (services, marks)
}

/// Clears what a previous run left in the services (supervise/) and marks.
fn reset(services: &Path, marks: &Path) {
    for e in std::fs::read_dir(services).unwrap().flatten() {
        let _ = std::fs::remove_dir_all(e.path().join("supervise"));
    }
    let _ = std::fs::remove_dir_all(marks);
    std::fs::create_dir_all(marks).unwrap();
}

/// Writes everything out and waits until inodes freed before are no
/// longer "recently deleted" for ext4 (5 s once written).
fn settle() {
    let _ = Command::new("sync").status();
    std::thread::sleep(Duration::from_secs(6));
}

struct Figures {
    fanout: Duration,
    idle_cpu_ms: f64,
    idle_switches: u64,
    runsv_pss_kb: f64,
    runsvdir_pss_kb: f64,
    pickup: Duration,
    pickup_max: Duration,
}

fn measure(
    imp: &Impl,
    tag: &str,
    n: usize,
    fanouts: usize,
    pickups: usize,
    idle: Duration,
) -> Option<Figures> {
    let name = format!("runsvdir-{tag}");
    let scratch = match std::env::var_os("RUNSVDIR_BENCH_DIR") {
        Some(d) => Scratch::under(Path::new(&d), &name),
        None => Scratch::shm(&name),
    };
    let (services, marks) = build(&scratch.0, n);
    // On a disk, each round gets a tree of its own, made before the first
    // round, and the file system is let settle (sync, 6 s) before each:
    // ext4 without a journal skips inodes freed in the last 5 s (35 s
    // while unwritten) on every creation, so removing the last round's
    // supervise/ directories (8,000 inodes) just before a round made
    // that round measure the harness's deletions more than runsv.
    let on_disk = std::env::var_os("RUNSVDIR_BENCH_DIR").is_some();
    let trees: Vec<(PathBuf, PathBuf)> = (0..fanouts)
        .map(|r| {
            if on_disk && r > 0 {
                build(&scratch.0.join(format!("round{r}")), n)
            } else {
                (services.clone(), marks.clone())
            }
        })
        .collect();

    // Fan-out: start of runsvdir to every ./run started.
    let mut times = Vec::new();
    let mut last_tree = None;
    for (round, (services, marks)) in trees.iter().enumerate() {
        drop(last_tree.take());
        if on_disk {
            settle();
        } else {
            reset(services, marks);
        }
        let t = Instant::now();
        let tree = Tree::start(imp, services, marks);
        if !wait("fan-out", Duration::from_secs(120), || {
            count_entries(marks) >= n
        }) {
            return None;
        }
        times.push(t.elapsed());
        // Keep the last tree for the idle and memory readings.
        if round + 1 == fanouts {
            last_tree = Some(tree);
        }
    }
    let tree = last_tree.unwrap();
    // Let every run script finish its exec into sleep and settle.
    std::thread::sleep(Duration::from_secs(2));

    // Memory: PSS of every runsv, per service.
    let runsv = tree.runsv_pids();
    let pss: u64 = runsv.iter().filter_map(|&p| pss_kb(p)).sum();
    let runsv_pss_kb = pss as f64 / runsv.len().max(1) as f64;
    let runsvdir_pss_kb = pss_kb(tree.pid()).unwrap_or(0) as f64;

    // Idle CPU of the whole tree.
    let pids = tree.all_pids();
    let before: Vec<(u64, u64)> = pids.iter().map(|&p| cpu_and_switches(p)).collect();
    std::thread::sleep(idle);
    let after: Vec<(u64, u64)> = pids.iter().map(|&p| cpu_and_switches(p)).collect();
    let cpu_ns: u64 = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a.0.saturating_sub(b.0))
        .sum();
    let idle_switches: u64 = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a.1.saturating_sub(b.1))
        .sum();
    drop(tree);

    // Pickup: a symlink to a new service directory into a small running
    // tree, to its ./run started; the link is removed again each time.
    reset(&services, &marks);
    let small = scratch.0.join("small");
    std::fs::create_dir_all(&small).unwrap();
    for i in 0..10 {
        let name = format!("base{i}");
        make_service(&small.join(&name), &marks, &name);
    }
    let extra = scratch.0.join("extra");
    for i in 0..pickups {
        let name = format!("p{i:02}");
        make_service(&extra.join(&name), &marks, &name);
    }
    let tree = Tree::start(imp, &small, &marks);
    if !wait("base services", Duration::from_secs(60), || {
        count_entries(&marks) >= 10
    }) {
        return None;
    }
    let mut picks = Vec::new();
    for i in 0..pickups {
        let name = format!("p{i:02}");
        let mark = marks.join(&name);
        let t = Instant::now();
        std::os::unix::fs::symlink(extra.join(&name), small.join(&name)).unwrap();
        if !wait("pickup", Duration::from_secs(30), || mark.exists()) {
            return None;
        }
        picks.push(t.elapsed());
        // Stop it again (TERM from runsvdir) before the next one.
        let pid: Option<u32> = std::fs::read_to_string(&mark)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        std::fs::remove_file(small.join(&name)).unwrap();
        if let Some(p) = pid {
            wait("service stopped", Duration::from_secs(30), || !alive(p));
        }
    }
    drop(tree);
    let pickup_max = picks.iter().max().copied().unwrap_or_default();
    Some(Figures {
        fanout: median(times),
        idle_cpu_ms: cpu_ns as f64 / 1e6,
        idle_switches,
        runsv_pss_kb,
        runsvdir_pss_kb,
        pickup: median(picks),
        pickup_max,
    })
}

/// An engineer's own target directory when set (cargo run keeps
/// CARGO_TARGET_DIR in the environment); target/release otherwise.
pub(super) fn ours_dir(ctx: &Ctx) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("release"))
        .filter(|d| d.join("runsvdir").exists() && d.join("runsv").exists())
        .unwrap_or_else(|| ctx.ours.clone())
}

pub fn run(ctx: &Ctx) {
    let n = env_num("RUNSVDIR_BENCH_N", 1000) as usize;
    let fanouts = env_num("RUNSVDIR_BENCH_FANOUTS", 3).max(1) as usize;
    let pickups = env_num("RUNSVDIR_BENCH_PICKUPS", 50).max(1) as usize;
    let idle = Duration::from_secs(env_num("RUNSVDIR_BENCH_IDLE_SECS", 60));
    if n > 1000 {
        println!("note: runit's runsvdir stops at 1000 services; its figures cover only those");
    }
    println!(
        "{n} services in {}; fan-out median of {fanouts}; pickup median of {pickups}; idle window {}s",
        std::env::var("RUNSVDIR_BENCH_DIR").unwrap_or_else(|_| "/dev/shm (tmpfs)".into()),
        idle.as_secs()
    );
    let reference = Impl::new(ctx.theirs("runsvdir"), &ctx.reference.join("runit"));
    let ours_dir = ours_dir(ctx);
    println!("ours: {}", ours_dir.display());
    let ours = Impl::new(ours_dir.join("runsvdir"), &ours_dir);
    let Some(t) = measure(&reference, "ref", n, fanouts, pickups, idle) else {
        println!("reference run failed");
        return;
    };
    let Some(o) = measure(&ours, "ours", n, fanouts, pickups, idle) else {
        println!("our run failed");
        return;
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    row(
        &format!("fan-out: {n} services to all ./run started"),
        ms(t.fanout),
        ms(o.fanout),
        "ms",
    );
    row(
        "pickup: ln -s to ./run started (median)",
        ms(t.pickup),
        ms(o.pickup),
        "ms",
    );
    row("pickup: slowest", ms(t.pickup_max), ms(o.pickup_max), "ms");
    row(
        &format!("idle CPU of the tree over {}s", idle.as_secs()),
        t.idle_cpu_ms,
        o.idle_cpu_ms,
        "ms",
    );
    row(
        &format!("idle context switches over {}s", idle.as_secs()),
        t.idle_switches as f64,
        o.idle_switches as f64,
        "",
    );
    row(
        "runsv PSS per service",
        t.runsv_pss_kb,
        o.runsv_pss_kb,
        "kB",
    );
    row(
        &format!("runsvdir PSS with {n} services"),
        t.runsvdir_pss_kb,
        o.runsvdir_pss_kb,
        "kB",
    );
}
