//! Stopping a service with 10 worker processes: the time from `sv down`
//! until the last of its 11 processes is gone.
//!
//! - ours with `stop-group`: TERM to the whole group, so all 11 go;
//! - runit (and ours without settings): TERM to ./run only, so the
//!   workers stay; the time shown is until ./run is gone, and the workers
//!   left behind are counted (then killed by the bench);
//! - floor: no supervisor, the same 11 processes in a group of their own,
//!   and `kill -TERM -- -PGID` run as a command, as sv is.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{median, spawn_runsv, Ctx, Scratch};

const WORKERS: usize = 10;
const ROUNDS: usize = 15;

const RUN: &str =
    "#!/bin/sh\nfor i in 1 2 3 4 5 6 7 8 9 10; do sleep 100000 & done\nexec sleep 100000\n";

/// Whether a process exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !matches!(
            s.rsplit(')')
                .next()
                .and_then(|r| r.split_whitespace().next()),
            Some("Z") | Some("X") | None
        )
    })
}

/// The live children of `parent` (the workers of ./run, once it has
/// exec'd sleep).
fn children(parent: u32) -> Vec<u32> {
    let path = format!("/proc/{parent}/task/{parent}/children");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .filter(|p| alive(*p))
        .collect()
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "bench: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// ./run's pid once it has exec'd sleep and its workers are all up.
fn main_with_workers(main: impl Fn() -> Option<u32>) -> (u32, Vec<u32>) {
    let mut found = (0, Vec::new());
    until("./run and its workers", || {
        let Some(m) = main() else { return false };
        let comm = std::fs::read_to_string(format!("/proc/{m}/comm")).unwrap_or_default();
        let w = children(m);
        found = (m, w);
        comm.trim() == "sleep" && found.1.len() == WORKERS
    });
    found
}

fn run_pid(dir: &Path) -> Option<u32> {
    let b = supervise_proto::svdir::read_status_bytes(dir).ok()?;
    let s = supervise_proto::Status::decode(&b).ok()?;
    (s.pid != 0 && s.state == supervise_proto::RunState::Run).then_some(s.pid)
}

fn kill_all(pids: &[u32]) {
    for p in pids {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(p.to_string())
            .status();
    }
}

/// One supervisor: rounds of up, `sv down`, and the wait for the end.
/// Returns the median time and how many processes each round left.
fn supervised(runsv: &Path, sv: &Path, group: bool, tag: &str) -> (Duration, usize) {
    let s = Scratch::new(&format!("stop-{tag}"));
    let dir = s.0.join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    let run = dir.join("run");
    std::fs::write(&run, RUN).unwrap();
    std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("down"), "").unwrap();
    if group {
        std::fs::write(dir.join("stop-group"), "").unwrap();
    }
    let mut runsv: Child = spawn_runsv(runsv, &dir);
    until("runsv", || {
        supervise_proto::svdir::supervisor_running(&dir) == Ok(true)
    });
    let mut times = Vec::new();
    let mut left = 0;
    for _ in 0..ROUNDS {
        let _ = supervise_proto::svdir::send_control(&dir, b"u");
        let (main, workers) = main_with_workers(|| run_pid(&dir));
        let t = Instant::now();
        let st = Command::new(sv).arg("down").arg(&dir).status().unwrap();
        assert!(st.success());
        let everything: Vec<u32> = std::iter::once(main).chain(workers.clone()).collect();
        if group {
            until("every process gone", || {
                everything.iter().all(|p| !alive(*p))
            });
        } else {
            until("./run gone", || !alive(main));
        }
        times.push(t.elapsed());
        let alive_workers: Vec<u32> = workers.into_iter().filter(|p| alive(*p)).collect();
        left = alive_workers.len();
        kill_all(&alive_workers);
        until("service down", || run_pid(&dir).is_none());
    }
    let _ = supervise_proto::svdir::send_control(&dir, b"x");
    let _ = runsv.wait();
    (median(times), left)
}

/// The floor: the same processes without a supervisor, TERM to the group.
fn floor() -> Duration {
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let mut c = Command::new("setsid")
            .arg("sh")
            .arg("-c")
            .arg(RUN.trim_start_matches("#!/bin/sh\n"))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn setsid sh");
        let pgid = c.id();
        let (main, workers) = main_with_workers(|| Some(pgid));
        let t = Instant::now();
        let st = Command::new("kill")
            .arg("-TERM")
            .arg("--")
            .arg(format!("-{pgid}"))
            .status()
            .unwrap();
        assert!(st.success());
        let _ = c.wait();
        until("every process gone", || {
            !alive(main) && workers.iter().all(|p| !alive(*p))
        });
        times.push(t.elapsed());
    }
    median(times)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn run(ctx: &Ctx) {
    println!(
        "down of a service with {WORKERS} workers: median of {ROUNDS} rounds, from `sv down` \
         (or `kill`) until the last process is gone"
    );
    let (ours, ours_left) = supervised(&ctx.ours("runsv"), &ctx.ours("sv"), true, "ours-group");
    let (plain, plain_left) = supervised(&ctx.ours("runsv"), &ctx.ours("sv"), false, "ours-plain");
    let (theirs, theirs_left) = supervised(&ctx.theirs("runsv"), &ctx.theirs("sv"), false, "runit");
    let f = floor();
    let line = |what: &str, d: Duration, left: usize, note: &str| {
        println!(
            "{what:<44} {:>8.3} ms  left behind {left:>2}  {note}",
            ms(d)
        );
    };
    line("ours, stop-group", ours, ours_left, "(all 11 gone)");
    line(
        "ours, no settings (runit's behaviour)",
        plain,
        plain_left,
        "(until ./run gone)",
    );
    line("runit 2.1.2", theirs, theirs_left, "(until ./run gone)");
    line(
        "floor: kill -TERM -- -PGID, no supervisor",
        f,
        0,
        "(all 11 gone)",
    );
    println!(
        "ours with stop-group / floor: {:.2}x",
        ms(ours) / ms(f).max(f64::MIN_POSITIVE)
    );
}
