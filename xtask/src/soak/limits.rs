//! Resource limits: fork failing (RLIMIT_NPROC) and descriptors
//! exhausted (RLIMIT_NOFILE) under runsv, then the limit raised with
//! `prlimit --pid`: the message, the retries, and the recovery.
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
