//! Resource limits: fork failing (RLIMIT_NPROC) and descriptors
//! exhausted (RLIMIT_NOFILE) under runsv, runsvdir (many services) and
//! svlogd (many log directories), then the limit raised with `prlimit
//! --pid`: the message, the retries (no busy loop), and the recovery.
//!
//! Root ignores RLIMIT_NPROC, so runsv runs as `nobody` (setpriv). This
//! machine's root lacks CAP_SYS_RESOURCE, so only the soft limit is
//! lowered (the hard one stays), and the raise is done as `nobody` too
//! (prlimit on one's own processes needs no capability).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::probe::{self, Reaper};
use super::Soak;
use crate::bench::common::{status, Scratch};

const NOBODY: &str = "65534";

pub fn run(s: &mut Soak) {
    if Command::new("setpriv").arg("--help").output().is_err()
        || Command::new("prlimit").arg("--help").output().is_err()
    {
        s.info(
            "limits: skipped",
            "needs setpriv, prlimit",
            "needs setpriv, prlimit",
        );
        return;
    }
    nproc(s);
    nofile(s);
    runsvdir_nofile(s);
    svlogd_nofile(s);
}

/// The hard limit of `res` ("nproc", "nofile") of this process.
fn hard(res: &str) -> String {
    let out = Command::new("prlimit")
        .args([
            format!("--{res}"),
            "--raw".into(),
            "--noheadings".into(),
            "-o".into(),
            "HARD".into(),
        ])
        .arg(format!("--pid={}", std::process::id()))
        .output()
        .ok();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unlimited".into())
}

struct Outcome {
    warned: bool,
    recovered: Option<Duration>,
    alive: bool,
    fds: (usize, usize),
    first_line: String,
}

fn service(root: &Path, name: &str) -> PathBuf {
    let d = root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    let run = d.join("run");
    std::fs::write(&run, "#!/bin/sh\nexec sleep 1000\n").unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

fn chown_nobody(p: &Path) {
    let _ = Command::new("chown")
        .args(["-R", "65534:65534"])
        .arg(p)
        .status();
    let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755));
}

/// Starts `runsv DIR` with soft `res` = `low`; when it has warned, raises
/// the limit to `high` and times until ./run is up.
fn one(runsv: &Path, dir: &Path, res: &str, low: u64, high: u64, as_nobody: bool) -> Outcome {
    let mut reaper = Reaper::new();
    let err = dir.with_extension("err");
    let h = hard(res);
    let mut c = Command::new("prlimit");
    c.arg(format!("--{res}={low}:{h}"));
    if as_nobody {
        c.args([
            "setpriv",
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
        ]);
    }
    c.arg(runsv)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = reaper.child(c.spawn().expect("spawn runsv"));
    let read_err = || std::fs::read_to_string(&err).unwrap_or_default();
    let warned = probe::poll(Duration::from_secs(10), || {
        read_err().contains("unable to") || !probe::alive(pid)
    }) && probe::alive(pid);
    // Let it retry a little before the limit is raised.
    std::thread::sleep(Duration::from_millis(300));
    let fds_before = probe::fd_count(pid).unwrap_or(0);
    let mut p = if as_nobody {
        let mut q = Command::new("setpriv");
        q.args([
            "--reuid",
            NOBODY,
            "--regid",
            NOBODY,
            "--clear-groups",
            "prlimit",
        ]);
        q
    } else {
        Command::new("prlimit")
    };
    let _ = p
        .arg(format!("--pid={pid}"))
        .arg(format!("--{res}={high}:{h}"))
        .stderr(Stdio::null())
        .status();
    let t = Instant::now();
    let up = probe::poll(Duration::from_secs(15), || {
        status(dir).is_some_and(|st| st.pid != 0 && probe::alive(st.pid))
    });
    let recovered = up.then(|| t.elapsed());
    if let Some(st) = status(dir) {
        if st.pid != 0 {
            reaper.pid(st.pid);
        }
    }
    let first_line = read_err().lines().next().unwrap_or("").to_string();
    let alive = probe::alive(pid);
    // Settled: the descriptors of a runsv that has been through failures.
    std::thread::sleep(Duration::from_millis(200));
    let fds_after = probe::fd_count(pid).unwrap_or(0);
    reaper.kill_all();
    Outcome {
        warned,
        recovered,
        alive,
        fds: (fds_before, fds_after),
        first_line,
    }
}

fn short_msg(line: &str) -> String {
    // "runsv DIR: warning: unable to fork, sleeping: temporary failure" -> after DIR.
    match line.find(": ") {
        Some(i) => line[i + 2..].to_string(),
        None => line.to_string(),
    }
}

fn figure(o: &Outcome) -> String {
    format!(
        "\"{}\"; up {} after raise; runsv {}",
        short_msg(&o.first_line),
        o.recovered
            .map_or("never".to_string(), |d| format!("{:.1} s", d.as_secs_f64())),
        if o.alive { "alive" } else { "gone" }
    )
}

fn nproc(s: &mut Soak) {
    let sc = Scratch::new("soak-nproc");
    chown_nobody(&sc.0);
    let mk = |n: &str| {
        let d = service(&sc.0, n);
        chown_nobody(&d);
        d
    };
    let (a, b) = (mk("theirs"), mk("ours"));
    // One process of nobody's own (runsv) fits; its fork does not.
    let theirs = one(&s.ctx.theirs("runsv"), &a, "nproc", 1, 64, true);
    let ours = one(&s.ctx.ours("runsv"), &b, "nproc", 1, 64, true);
    let good = ours.warned && ours.alive && ours.recovered.is_some();
    s.check(
        "runsv: fork fails (NPROC 1, nobody), raised to 64",
        figure(&theirs),
        figure(&ours),
        good,
        "no warning, no recovery or runsv died",
    );
}

fn nofile(s: &mut Soak) {
    let sc = Scratch::new("soak-nofile");
    let (a, b) = (service(&sc.0, "theirs"), service(&sc.0, "ours"));
    // 9 descriptors: runsv starts, but status writes and ./run (sh
    // wants fd 10 for its script) fail until the limit is raised.
    let theirs = one(&s.ctx.theirs("runsv"), &a, "nofile", 9, 64, false);
    let ours = one(&s.ctx.ours("runsv"), &b, "nofile", 9, 64, false);
    let good = ours.warned && ours.alive && ours.recovered.is_some();
    s.check(
        "runsv: descriptors exhausted (NOFILE 9), raised to 64",
        figure(&theirs),
        figure(&ours),
        good,
        "no warning, no recovery or runsv died",
    );
    s.check(
        "runsv: fds while failing → after recovery",
        format!("{}→{}", theirs.fds.0, theirs.fds.1),
        format!("{}→{}", ours.fds.0, ours.fds.1),
        ours.fds.1 <= ours.fds.0.max(1) + 2,
        "descriptors leaked while failing",
    );
}

/// CPU time (user + system) of `pid` so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // utime and stime: fields 14 and 15, the first after ')' being 3.
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

/// Raises the soft RLIMIT_NOFILE of `pid` to `to` (the hard one stays).
fn raise_nofile(pid: u32, to: u64) {
    let _ = Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={to}:{}", hard("nofile")))
        .stderr(Stdio::null())
        .status();
}

/// Distinct messages of an error file, with their counts, the service
/// or directory names taken out ("runsv sN: ...", "...: dN: ...").
fn messages(err: &Path) -> String {
    let text = std::fs::read_to_string(err).unwrap_or_default();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for l in text.lines() {
        let l: String = l
            .split(' ')
            .map(|w| {
                let bare = w.trim_end_matches(':');
                let numbered = |p: char| {
                    bare.rsplit('/').next().is_some_and(|b| {
                        b.len() > 1
                            && b.starts_with(p)
                            && b[1..].bytes().all(|c| c.is_ascii_digit())
                    })
                };
                if bare.starts_with('/') || numbered('s') || numbered('d') {
                    w.replace(bare, "X")
                } else {
                    w.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        match seen.iter_mut().find(|(k, _)| *k == l) {
            Some((_, n)) => *n += 1,
            None => seen.push((l, 1)),
        }
    }
    if seen.is_empty() {
        return "no message".into();
    }
    seen.sort_by_key(|e| std::cmp::Reverse(e.1));
    seen.iter()
        .take(2)
        .map(|(l, n)| format!("{n}× \"{l}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

struct DirRun {
    text: String,
    good: bool,
}

/// runsvdir over `n` services under soft NOFILE `low`: after 3 s, its
/// CPU time over 2 s and what it said; then the limit raised to 1024
/// and the time until every service is up.
fn runsvdir_under(bins: &Path, tag: &str, n: usize, low: u64, short: bool) -> DirRun {
    let sc = Scratch::new(&format!("soak-rsd-nofile-{tag}-{low}"));
    let dir = sc.0.join("sv");
    for i in 0..n {
        service(&dir, &format!("s{i}"));
    }
    let err = sc.0.join("err");
    let mut reaper = Reaper::new();
    let mut c = Command::new("prlimit");
    c.arg(format!("--nofile={low}:{}", hard("nofile")))
        .arg(bins.join("runsvdir"))
        .arg(&dir)
        .env("PATH", format!("{}:/usr/bin:/bin", bins.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = reaper.child(c.spawn().expect("spawn runsvdir"));
    let up = |dir: &Path| {
        (0..n)
            .filter(|i| status(&dir.join(format!("s{i}"))).is_some_and(|st| st.pid != 0))
            .count()
    };
    // The faults show at the first scan; a while of them (3 s, short
    // form 1 s), then 2 s measured.
    std::thread::sleep(Duration::from_secs(if short { 1 } else { 3 }));
    let t0 = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let ticks = cpu_ticks(pid) - t0;
    let up_low = up(&dir);
    let alive_low = probe::alive(pid);
    let said = messages(&err);
    raise_nofile(pid, 1024);
    let t = Instant::now();
    // runsvdir looks at its directory every 5 s: two checks and a start.
    let wait = Duration::from_secs(if short { 12 } else { 20 });
    let all = probe::poll(wait, || up(&dir) == n);
    let took = t.elapsed().as_secs_f64();
    let up_after = up(&dir);
    // Every ./run is a descendant of runsvdir: the reaper kills them all.
    let alive = probe::alive(pid);
    let text = format!(
        "{said}; {up_low} of {n} up; cpu {ticks} ticks in 2 s; raised to 1024: {}; runsvdir {}",
        if all {
            format!("all up in {took:.1} s")
        } else {
            format!("{up_after} of {n} up after {} s", wait.as_secs())
        },
        if alive_low && alive { "alive" } else { "GONE" }
    );
    DirRun {
        text,
        // Not a busy loop: under a fifth of a CPU (100 ticks a second).
        good: alive_low && alive && all && ticks < 40,
    }
}

/// runsvdir with descriptors too few for itself (4: its self-pipe, 6:
/// the services directory) or for the runsv it starts (8), then raised.
fn runsvdir_nofile(s: &mut Soak) {
    let n = s.count(100, 20) as usize;
    // The short form leaves out 8 (runsv failing is the runsv row's).
    let lows: &[u64] = if s.short { &[4, 6] } else { &[4, 6, 8] };
    for &low in lows {
        let theirs = runsvdir_under(&s.ctx.reference.join("runit"), "theirs", n, low, s.short);
        let ours = runsvdir_under(&s.ctx.ours, "ours", n, low, s.short);
        s.check(
            &format!("runsvdir: {n} services, NOFILE {low}, raised to 1024"),
            theirs.text,
            ours.text,
            ours.good,
            "runsvdir died, spun, or did not bring every service up once raised",
        );
    }
}

/// svlogd writing to `m` log directories under soft NOFILE `low`: the
/// directories it could not open are dropped with a warning, or it pauses
/// (retrying every 3 s) until the limit is raised. Every directory must
/// end with all the lines or none (dropped, with a warning), none partly.
fn svlogd_under(bin: &Path, tag: &str, m: usize, lines: u64, low: u64, short: bool) -> DirRun {
    let sc = Scratch::new(&format!("soak-svlogd-nofile-{tag}-{low}"));
    let dirs: Vec<PathBuf> = (0..m)
        .map(|i| {
            let d = sc.0.join(format!("d{i}"));
            std::fs::create_dir_all(&d).unwrap();
            d
        })
        .collect();
    let err = sc.0.join("err");
    let input = sc.0.join("input");
    let text: String = (0..lines).map(|i| format!("line {i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let mut reaper = Reaper::new();
    let mut c = Command::new("prlimit");
    c.arg(format!("--nofile={low}:{}", hard("nofile")))
        .arg(bin)
        .args(&dirs)
        .stdin(std::fs::File::open(&input).unwrap())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let mut child = c.spawn().expect("spawn svlogd");
    let pid = child.id();
    // Done by itself (dirs dropped), or paused: 3 s (short: 1.5 s) tell.
    let t = Instant::now();
    let mut code = None;
    let tell = Duration::from_millis(if short { 1500 } else { 3000 });
    while t.elapsed() < tell && code.is_none() {
        code = child.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(20));
    }
    let paused = code.is_none();
    let t0 = cpu_ticks(pid);
    if paused {
        std::thread::sleep(Duration::from_secs(2));
    }
    let ticks = if paused { cpu_ticks(pid) - t0 } else { 0 };
    raise_nofile(pid, 1024);
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) && code.is_none() {
        code = child.try_wait().ok().flatten();
        std::thread::sleep(Duration::from_millis(20));
    }
    reaper.child(child);
    let counts: Vec<u64> = dirs
        .iter()
        .map(|d| {
            std::fs::read(d.join("current"))
                .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
                .unwrap_or(0)
        })
        .collect();
    let full = counts.iter().filter(|&&c| c == lines).count();
    let none = counts.iter().filter(|&&c| c == 0).count();
    let partial = m - full - none;
    let said = messages(&err);
    let warned = std::fs::read_to_string(&err)
        .unwrap_or_default()
        .lines()
        .count();
    use std::os::unix::process::ExitStatusExt;
    let exit = match code {
        Some(st) => st.code().map_or_else(
            || format!("signal {}", st.signal().unwrap_or(0)),
            |c| c.to_string(),
        ),
        None => "none (hung)".into(),
    };
    let text = format!(
        "{said}; {} (cpu {ticks} ticks in 2 s); after raise: {full} dirs all {lines} lines, {none} none, {partial} partly; exit {exit}",
        if paused { "paused" } else { "finished alone" },
    );
    DirRun {
        text,
        good: code.is_some_and(|st| st.code() == Some(0))
            && partial == 0
            && full > 0
            && (none == 0 || warned > 0)
            && ticks < 40,
    }
}

/// svlogd with many log directories and few descriptors (3 a directory).
fn svlogd_nofile(s: &mut Soak) {
    let m = 20;
    let lines = s.count(10_000, 1_000);
    // The short form leaves out 30 (directories dropped, as at 10).
    let lows: &[u64] = if s.short { &[10, 16] } else { &[10, 16, 30] };
    for &low in lows {
        let theirs = svlogd_under(&s.ctx.theirs("svlogd"), "theirs", m, lines, low, s.short);
        let ours = svlogd_under(&s.ctx.ours("svlogd"), "ours", m, lines, low, s.short);
        s.check(
            &format!("svlogd: {m} log dirs, NOFILE {low}, raised to 1024"),
            theirs.text,
            ours.text,
            ours.good,
            "svlogd crashed, spun, hung, or a directory got part of the lines",
        );
    }
}
