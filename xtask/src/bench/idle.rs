//! Idle wake-ups of runsvdir: a tree of services where nothing happens,
//! and how often runsvdir wakes up anyway, counted as its voluntary
//! context switches (each sleep in poll(2) that ends is one), ours and
//! runit's side by side. runit stats the services directory every five
//! seconds (12 a minute); ours has nothing to poll for (the log's dot
//! every 15 minutes aside, and no `log` argument is given here).
//!
//! Settings (environment):
//!   BENCH_IDLE_SECONDS=60     the window
//!   BENCH_IDLE_SERVICES=1000  services in the tree (on tmpfs)

use std::time::{Duration, Instant};

use super::common::{row, Ctx, Scratch};
use super::runsvdir::{build, count_entries, env_num, ours_dir, wait, Impl, Tree};

/// (voluntary context switches, CPU time in ns) of one process.
fn switches_and_cpu(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let sw = status
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let ns = std::fs::read_to_string(format!("/proc/{pid}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    (sw, ns)
}

/// Whether the mount table changed since `fd` was last polled: a mount
/// anywhere in this namespace is a reason for ours to wake up, so the
/// figure is then marked.
fn mounts_changed(fd: &std::fs::File) -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::new(fd, PollFlags::PRI)];
    let zero = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&zero)).unwrap_or(0) > 0
}

pub fn run(ctx: &Ctx) {
    let secs = env_num("BENCH_IDLE_SECONDS", 60);
    let n = env_num("BENCH_IDLE_SERVICES", 1000) as usize;
    let window = Duration::from_secs(secs);
    println!("{n} services on tmpfs, both trees idle side by side for {secs}s");
    if n > 1000 {
        println!("note: runit's runsvdir stops at 1000 services");
    }
    let ours_dir = ours_dir(ctx);
    println!("ours: {}", ours_dir.display());
    let imps = [
        (
            "ref",
            Impl::new(ctx.theirs("runsvdir"), &ctx.reference.join("runit")),
        ),
        ("ours", Impl::new(ours_dir.join("runsvdir"), &ours_dir)),
    ];
    let mut trees = Vec::new();
    for (tag, imp) in &imps {
        let scratch = Scratch::shm(&format!("idle-{tag}"));
        let (services, marks) = build(&scratch.0, n);
        let tree = Tree::start(imp, &services, &marks);
        trees.push((tree, marks, scratch));
    }
    for (_, marks, _) in &trees {
        if !wait("every ./run started", Duration::from_secs(300), || {
            count_entries(marks) >= n.min(1000)
        }) {
            return;
        }
    }
    // Let the last ./run scripts exec into sleep and runsvdir settle.
    std::thread::sleep(Duration::from_secs(2));
    let mounts = std::fs::File::open("/proc/self/mountinfo").ok();
    if let Some(m) = &mounts {
        mounts_changed(m);
    }
    let before: Vec<(u64, u64)> = trees
        .iter()
        .map(|(t, _, _)| switches_and_cpu(t.pid()))
        .collect();
    let t0 = Instant::now();
    std::thread::sleep(window);
    let elapsed = t0.elapsed().as_secs_f64();
    let after: Vec<(u64, u64)> = trees
        .iter()
        .map(|(t, _, _)| switches_and_cpu(t.pid()))
        .collect();
    let moved = mounts.as_ref().is_some_and(mounts_changed);
    let d: Vec<(f64, f64)> = before
        .iter()
        .zip(&after)
        .map(|(b, a)| ((a.0 - b.0) as f64, (a.1 - b.1) as f64 / 1e6))
        .collect();
    row(&format!("runsvdir wake-ups in {secs}s"), d[0].0, d[1].0, "");
    row(
        "runsvdir wake-ups per minute",
        d[0].0 * 60.0 / elapsed,
        d[1].0 * 60.0 / elapsed,
        "",
    );
    row(&format!("runsvdir CPU in {secs}s"), d[0].1, d[1].1, "ms");
    if moved {
        println!("note: the mount table changed during the window (ours wakes up for that)");
    }
    // The trees go before their scratch directories.
    drop(trees);
}
