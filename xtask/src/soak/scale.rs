//! Scale: N services under one runsvdir on tmpfs (5,000; 300 in the
//! short form), all brought up, then half removed. Times are figures;
//! the verdict is all running, the removed half's runsv gone, no zombies
//! and runsvdir's descriptors back where they were.
//!
//! runit 2.1.2's runsvdir stops at 1,000 services ("too many services"),
//! so its row shows how far it got.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::probe::{self, Reaper};
use super::Soak;
use crate::bench::common::{status, Scratch};

struct Figures {
    up: usize,
    up_time: Option<Duration>,
    stopped: usize,
    stop_time: Option<Duration>,
    still_up: usize,
    rss: u64,
    pss: u64,
    fds: (usize, usize),
    zombies: usize,
}

fn running(dir: &Path) -> bool {
    status(dir).is_some_and(|st| st.pid != 0 && st.state == supervise_proto::RunState::Run)
}

fn one(bin_dir: &Path, root: &Path, n: usize) -> Figures {
    let svdir = root.join("service");
    std::fs::create_dir_all(&svdir).unwrap();
    // Built beside the directory and moved in, so runsvdir sees whole services.
    let stage = root.join("stage");
    std::fs::create_dir_all(&stage).unwrap();
    let names: Vec<String> = (0..n).map(|i| format!("s{i:05}")).collect();
    for name in &names {
        let d = stage.join(name);
        std::fs::create_dir_all(&d).unwrap();
        let run = d.join("run");
        std::fs::write(&run, "#!/bin/sh\nexec sleep 100000\n").unwrap();
        std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // Processes orphaned while the tree is killed (a ./run forked just
    // then) come to us, so the sweep at the end finds them by PID.
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    let mut reaper = Reaper::new();
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    let child = Command::new(bin_dir.join("runsvdir"))
        .arg(&svdir)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn runsvdir");
    let pid = reaper.child(child);
    probe::poll(Duration::from_secs(5), || probe::fd_count(pid).is_some());
    std::thread::sleep(Duration::from_millis(100));
    let fds0 = probe::fd_count(pid).unwrap_or(0);
    let t = Instant::now();
    for name in &names {
        std::fs::rename(stage.join(name), svdir.join(name)).unwrap();
    }
    let limit = Duration::from_secs(30 + n as u64 / 20);
    let count_up = || names.iter().filter(|nm| running(&svdir.join(nm))).count();
    // Until all are up, or no progress for 15 s (runit's 1,000 cap).
    let (mut up, mut last, mut since) = (0, 0, Instant::now());
    let all = probe::poll(limit, || {
        up = count_up();
        if up != last {
            (last, since) = (up, Instant::now());
        }
        up == n || since.elapsed() > Duration::from_secs(15)
    }) && up == n;
    let up_time = all.then(|| t.elapsed());
    let rss = probe::rss_kb(pid).unwrap_or(0);
    let pss = probe::pss_kb(pid).unwrap_or(0);
    // Remove the second half: their runsv must exit (runsvdir TERMs them).
    let removed: Vec<(String, u32)> = names[n / 2..]
        .iter()
        .filter_map(|nm| runsv_of(pid, nm).map(|p| (nm.clone(), p)))
        .collect();
    let kept: Vec<&String> = names[..n / 2].iter().collect();
    let t = Instant::now();
    let grave = root.join("grave");
    std::fs::create_dir_all(&grave).unwrap();
    for nm in &names[n / 2..] {
        let _ = std::fs::rename(svdir.join(nm), grave.join(nm));
    }
    let gone = probe::poll(limit, || removed.iter().all(|(_, p)| !probe::alive(*p)));
    let stop_time = gone.then(|| t.elapsed());
    let stopped = removed.iter().filter(|(_, p)| !probe::alive(*p)).count();
    let still_up = kept.iter().filter(|nm| running(&svdir.join(nm))).count();
    // The removed runsv are reaped by runsvdir; give it a scan.
    let mut zombies = 0;
    probe::poll(Duration::from_secs(10), || {
        zombies = probe::children(pid)
            .into_iter()
            .filter(|&p| probe::state(p) == Some('Z'))
            .count();
        zombies == 0
    });
    let fds1 = probe::fd_count(pid).unwrap_or(0);
    reaper.kill_all();
    sweep();
    Figures {
        up,
        up_time,
        stopped,
        stop_time,
        still_up,
        rss,
        pss,
        fds: (fds0, fds1),
        zombies,
    }
}

/// Kills and reaps what was left of the tree under this process (the
/// case's own orphans, given to it as subreaper), until none are left.
fn sweep() {
    use rustix::process::{waitpid, Signal, WaitOptions};
    let me = std::process::id();
    probe::poll(Duration::from_secs(10), || {
        let left = probe::descendants(me);
        for &p in &left {
            probe::signal(p, Signal::KILL);
        }
        while let Ok(Some(_)) = waitpid(None, WaitOptions::NOHANG) {}
        left.is_empty()
    });
}

/// The runsv child of runsvdir `dir_pid` supervising `name`.
fn runsv_of(dir_pid: u32, name: &str) -> Option<u32> {
    probe::children(dir_pid).into_iter().find(|&p| {
        std::fs::read(format!("/proc/{p}/cmdline"))
            .map(|c| c.split(|&b| b == 0).nth(1) == Some(name.as_bytes()))
            .unwrap_or(false)
    })
}

fn secs(d: Option<Duration>) -> String {
    d.map_or("—".into(), |d| format!("{:.1} s", d.as_secs_f64()))
}

/// Raises this process's soft NOFILE to its hard limit (runsvdir and the
/// probes inherit it) and says what the machine allows.
fn limits(n: usize) -> String {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut l = getrlimit(Resource::Nofile);
    l.current = l.maximum;
    let _ = setrlimit(Resource::Nofile, l);
    let nofile = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let read = |f: &str| {
        std::fs::read_to_string(f)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let need = 2 * n as u64 + 100;
    format!(
        "nofile {nofile}, pid_max {}, threads-max {} (need ~{need} processes)",
        read("/proc/sys/kernel/pid_max"),
        read("/proc/sys/kernel/threads-max")
    )
}

pub fn run(s: &mut Soak) {
    let n = s.count(5000, 300) as usize;
    let lim = limits(n);
    let a = Scratch::shm("scale-theirs");
    let theirs = one(&s.ctx.reference.join("runit"), &a.0, n);
    drop(a);
    let b = Scratch::shm("scale-ours");
    let ours = one(&s.ctx.ours, &b.0, n);
    drop(b);
    let half = n - n / 2;
    s.info("scale: limits", lim.clone(), lim);
    s.check(
        &format!("scale: {n} services up"),
        format!("{} of {n} up in {}", theirs.up, secs(theirs.up_time)),
        format!("{} of {n} up in {}", ours.up, secs(ours.up_time)),
        ours.up == n,
        "not all services up",
    );
    s.check(
        &format!("scale: {half} removed"),
        format!(
            "{} runsv gone in {}, {} kept up",
            theirs.stopped,
            secs(theirs.stop_time),
            theirs.still_up
        ),
        format!(
            "{} runsv gone in {}, {} kept up",
            ours.stopped,
            secs(ours.stop_time),
            ours.still_up
        ),
        ours.stopped == half && ours.still_up == n / 2,
        "removed runsv not stopped or kept ones down",
    );
    s.check(
        "scale: runsvdir fds, zombies",
        format!(
            "fds {}→{}, {} zombies",
            theirs.fds.0, theirs.fds.1, theirs.zombies
        ),
        format!(
            "fds {}→{}, {} zombies",
            ours.fds.0, ours.fds.1, ours.zombies
        ),
        ours.fds.1 <= ours.fds.0 && ours.zombies == 0,
        "runsvdir leaked descriptors or zombies",
    );
    s.info(
        "scale: runsvdir memory at full size",
        format!("rss {} kB, pss {} kB", theirs.rss, theirs.pss),
        format!("rss {} kB, pss {} kB", ours.rss, ours.pss),
    );
}
