//! runsv and sv: memory per supervised service, `sv up`/`sv down` latency,
//! `sv status` over many services, and idle wake-ups.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{median, pss_kb, row, status, wait, Ctx, Scratch};

fn make_service(dir: &Path, run: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("run");
    std::fs::write(&p, run).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

fn ok(dir: &Path) -> bool {
    supervise_proto::svdir::supervisor_running(dir) == Ok(true)
}

/// A set of runsv processes over `n` services, stopped on drop.
struct Fleet {
    children: Vec<Child>,
    dirs: Vec<PathBuf>,
}

impl Fleet {
    fn start(runsv: &Path, root: &Path, n: usize, run: &str) -> Fleet {
        let mut children = Vec::new();
        let mut dirs = Vec::new();
        for i in 0..n {
            let d = root.join(format!("s{i}"));
            make_service(&d, run);
            let c = Command::new(runsv)
                .arg(&d)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn runsv");
            children.push(c);
            dirs.push(d);
        }
        for d in &dirs {
            wait("runsv up", || ok(d));
        }
        Fleet { children, dirs }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for d in &self.dirs {
            let _ = supervise_proto::svdir::send_control(d, b"x");
        }
        for c in &mut self.children {
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn memory(runsv: &Path, tag: &str) -> f64 {
    let s = Scratch::new(&format!("mem-{tag}"));
    let f = Fleet::start(runsv, &s.0, 100, "#!/bin/sh\nexec sleep 100000\n");
    for d in &f.dirs {
        wait("service up", || status(d).is_some_and(|s| s.pid != 0));
    }
    let total: u64 = f.children.iter().filter_map(|c| pss_kb(c.id())).sum();
    total as f64 / f.children.len() as f64
}

/// One service under each implementation's runsv, controlled by that
/// implementation's sv. The rounds of the two take turns (and swap which
/// goes first every round), so that drift in the machine's state over the
/// minutes a run takes (writeback, other load) falls on both alike.
/// Returns (up, down) medians in ms for each of `suites`.
fn up_down(suites: &[(&Path, &Path, &str)], rounds: usize) -> Vec<(f64, f64)> {
    // Fields drop in order: the runsv processes are told to exit before
    // their directory is removed.
    struct One {
        _fleet: Fleet,
        _scratch: Scratch,
        dir: PathBuf,
        sv: PathBuf,
        ups: Vec<Duration>,
        downs: Vec<Duration>,
    }
    let mut all: Vec<One> = suites
        .iter()
        .map(|(runsv, sv, tag)| {
            let s = Scratch::new(&format!("updown-{tag}"));
            let f = Fleet::start(runsv, &s.0, 1, "#!/bin/sh\nexec sleep 100000\n");
            let dir = f.dirs[0].clone();
            wait("service up", || status(&dir).is_some_and(|s| s.pid != 0));
            One {
                _fleet: f,
                _scratch: s,
                dir,
                sv: sv.to_path_buf(),
                ups: Vec::new(),
                downs: Vec::new(),
            }
        })
        .collect();
    let sv = |sv: &Path, cmd: &str, d: &Path| {
        Command::new(sv)
            .arg(cmd)
            .arg(d)
            .stdout(Stdio::null())
            .status()
            .unwrap();
    };
    for round in 0..rounds {
        // Keep clear of the one-second restart pause: a service that ran
        // for less than a second is held down that long.
        std::thread::sleep(Duration::from_millis(1100));
        let n = all.len();
        for k in 0..n {
            let o = &mut all[(k + round) % n];
            let t = Instant::now();
            sv(&o.sv, "down", &o.dir);
            wait("down", || status(&o.dir).is_some_and(|s| s.pid == 0));
            o.downs.push(t.elapsed());
            let t = Instant::now();
            sv(&o.sv, "up", &o.dir);
            wait("up", || status(&o.dir).is_some_and(|s| s.pid != 0));
            o.ups.push(t.elapsed());
        }
    }
    all.into_iter()
        .map(|o| (ms(median(o.ups)), ms(median(o.downs))))
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `sv status` of 1,000 running services, for each program in `svs`
/// (each run given every directory), median of 21 rounds, the programs
/// taking turns.
fn status_many(runsv: &Path, svs: &[&Path], tag: &str) -> Vec<f64> {
    let s = Scratch::new(&format!("status-{tag}"));
    let f = Fleet::start(runsv, &s.0, 1000, "#!/bin/sh\nexec sleep 100000\n");
    for d in &f.dirs {
        wait("service up", || status(d).is_some_and(|s| s.pid != 0));
    }
    let names: Vec<String> = f
        .dirs
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); svs.len()];
    for _ in 0..21 {
        for (sv, v) in svs.iter().zip(times.iter_mut()) {
            let t = Instant::now();
            Command::new(sv)
                .arg("status")
                .args(&names)
                .stdout(Stdio::null())
                .status()
                .unwrap();
            v.push(t.elapsed());
        }
    }
    times.into_iter().map(|v| ms(median(v))).collect()
}

fn idle_wakeups(runsv: &Path, tag: &str, secs: u64) -> u64 {
    let s = Scratch::new(&format!("idle-{tag}"));
    let f = Fleet::start(runsv, &s.0, 100, "#!/bin/sh\nexec sleep 100000\n");
    for d in &f.dirs {
        wait("service up", || status(d).is_some_and(|s| s.pid != 0));
    }
    std::thread::sleep(Duration::from_millis(500));
    let sw = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .filter(|l| l.contains("ctxt_switches"))
                    .map(|l| {
                        l.split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0)
                    })
                    .reduce(|a, b| a + b)
            })
            .unwrap_or(0)
    };
    let before: u64 = f.children.iter().map(|c| sw(c.id())).sum();
    std::thread::sleep(Duration::from_secs(secs));
    let after: u64 = f.children.iter().map(|c| sw(c.id())).sum();
    after - before
}

pub fn run(ctx: &Ctx) {
    let (ours_runsv, ours_sv) = (ctx.ours("runsv"), ctx.ours("sv"));
    let (ref_runsv, ref_sv) = (ctx.theirs("runsv"), ctx.theirs("sv"));
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let idle: u64 = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);

    let (m_ref, m_ours) = (memory(&ref_runsv, "ref"), memory(&ours_runsv, "ours"));
    row("runsv PSS per service, 100 services", m_ref, m_ours, "kB");

    let ud = up_down(
        &[
            (&ref_runsv, &ref_sv, "ref"),
            (&ours_runsv, &ours_sv, "ours"),
        ],
        rounds,
    );
    let ((u_ref, d_ref), (u_ours, d_ours)) = (ud[0], ud[1]);
    row(
        &format!("sv up until ./run started (median of {rounds})"),
        u_ref,
        u_ours,
        "ms",
    );
    row(
        &format!("sv down until process gone (median of {rounds})"),
        d_ref,
        d_ours,
        "ms",
    );

    let scratch = Scratch::new("status-floor");
    let floors = [
        super::floor::sv_status(&scratch.0, false),
        super::floor::sv_status(&scratch.0, true),
    ];
    let mut svs = vec![ref_sv.as_path(), ours_sv.as_path()];
    svs.extend(floors.iter().flatten().map(|p| p.as_path()));
    let st = status_many(&ours_runsv, &svs, "ours");
    row("sv status over 1,000 running services", st[0], st[1], "ms");
    let mut rest = st[2..].iter();
    for (floor, what, how) in [
        (
            &floors[0],
            "sv status floor, same services",
            "C: open ok, read status",
        ),
        (
            &floors[1],
            "sv status floor with runit's checks",
            "C: and down, log/",
        ),
    ] {
        if floor.is_some() {
            let f = rest.next().copied().unwrap_or(f64::NAN);
            println!(
                "{what:<48} floor {f:>10.3} ms      ours/floor {:>5.2}  ({how})",
                st[1] / f
            );
        }
    }

    let (w_ref, w_ours) = (
        idle_wakeups(&ref_runsv, "ref", idle),
        idle_wakeups(&ours_runsv, "ours", idle),
    );
    println!(
        "{:<48} reference {:>10} wake-ups      ours {:>10} wake-ups  (100 services, {idle} s)",
        "idle runsv context switches", w_ref, w_ours
    );
}
