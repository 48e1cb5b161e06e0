//! The cost to runsv of one crash-loop death: a ./run that exits after 0.1 s,
//! restarted a second later (runit's rule; ours with `restart-delay-max`
//! 1000 keeps that pace while writing supervise/xstatus each death).
//!
//! Counted over `BENCH_DEATHS` cycles (default 8) between two quiet
//! moments (the service held down after a death, every file of that death
//! written): write calls and bytes written by the runsv process itself
//! (/proc/PID/io), files it replaced (inotify IN_MOVED_TO in supervise/),
//! and its CPU time (/proc/PID/schedstat, nanoseconds). The shell run as
//! ./run is another process and is not counted.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use rustix::fs::inotify;

use super::common::{row, spawn_runsv, Ctx, Scratch};

const RUN: &str = "#!/bin/sh\necho >> starts\nsleep 0.1\nexit 1\n";

fn write_exec(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while !f() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "bench: timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What runsv has done so far, cumulatively.
#[derive(Clone, Copy, Default)]
struct Counters {
    write_calls: u64,
    bytes: u64,
    cpu_ns: u64,
}

fn counters(pid: u32) -> Counters {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    let field = |name: &str| {
        io.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let cpu_ns = std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    Counters {
        write_calls: field("syscw:"),
        bytes: field("wchar:"),
        cpu_ns,
    }
}

/// Renames onto files of the watched directory since the last call.
fn renames(fd: &OwnedFd) -> u64 {
    let mut buf = [std::mem::MaybeUninit::uninit(); 8192];
    let mut r = inotify::Reader::new(fd, &mut buf);
    let mut n = 0;
    while r.next().is_ok() {
        n += 1;
    }
    n
}

/// Per-death figures: (write calls, bytes, files replaced, CPU µs).
fn per_death(runsv: &Path, tag: &str, opt_in: bool, deaths: u64) -> [f64; 4] {
    let s = Scratch::new(&format!("crashloop-{tag}"));
    let dir = s.0.join("svc");
    std::fs::create_dir_all(&dir).unwrap();
    write_exec(&dir.join("run"), RUN);
    if opt_in {
        std::fs::write(dir.join("restart-delay-max"), "1000\n").unwrap();
    }
    let mut child: Child = spawn_runsv(runsv, &dir);
    let starts = || {
        std::fs::read(dir.join("starts"))
            .map(|b| b.len() as u64)
            .unwrap_or(0)
    };
    let pid_of = || {
        supervise_proto::svdir::read_status_bytes(&dir)
            .ok()
            .and_then(|b| supervise_proto::Status::decode(&b).ok())
            .map(|st| st.pid)
    };
    // Quiet: held down after the n-th death, its files written (./run
    // lives 0.1 s, so its run is seen before its death).
    let quiet = |n: u64| {
        wait("the n-th run", || {
            starts() == n && pid_of().is_some_and(|p| p != 0)
        });
        wait("the service held down", || pid_of() == Some(0));
    };
    quiet(2);
    let ino = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)
        .expect("inotify");
    inotify::add_watch(&ino, dir.join("supervise"), inotify::WatchFlags::MOVED_TO)
        .expect("watch supervise/");
    let a = counters(child.id());
    quiet(2 + deaths);
    let b = counters(child.id());
    let replaced = renames(&ino);
    let _ = supervise_proto::svdir::send_control(&dir, b"x");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    let n = deaths as f64;
    [
        (b.write_calls - a.write_calls) as f64 / n,
        (b.bytes - a.bytes) as f64 / n,
        replaced as f64 / n,
        (b.cpu_ns - a.cpu_ns) as f64 / n / 1000.0,
    ]
}

pub fn run(ctx: &Ctx) {
    let deaths: u64 = std::env::var("BENCH_DEATHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let theirs = per_death(&ctx.theirs("runsv"), "ref", false, deaths);
    let ours = per_death(&ctx.ours("runsv"), "ours", false, deaths);
    let opted = per_death(&ctx.ours("runsv"), "ours-delay", true, deaths);
    let names = [
        ("write calls", ""),
        ("bytes written", "B"),
        ("files replaced", ""),
        ("runsv CPU", "us"),
    ];
    for (i, (name, unit)) in names.iter().enumerate() {
        row(
            &format!("crash-loop death: {name} (mean of {deaths})"),
            theirs[i],
            ours[i],
            unit,
        );
    }
    println!(
        "  (supervise/exits grows 32 B a record up to max-death-tally: {} B per death at the default 100)",
        supervise_proto::exits::HEADER_LEN + 100 * supervise_proto::exits::RECORD_LEN
    );
    for (i, (name, unit)) in names.iter().enumerate() {
        row(
            &format!("  with restart-delay-max: {name}"),
            theirs[i],
            opted[i],
            unit,
        );
    }
}
