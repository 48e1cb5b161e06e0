//! chpst sits in the start path of nearly every service
//! (`exec chpst -u user -e env daemon`), so its start-up cost is its
//! latency. Measures the wall time of a whole `chpst ... true` run
//! (fork, exec, user lookup, envdir, privilege drop, exec of true, exit),
//! ours and the reference interleaved, median of many runs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::common::{median, row, Ctx, Scratch};

const RUNS: usize = 400;

fn once(prog: &Path, args: &[&str], cwd: &Path) -> std::time::Duration {
    let t = Instant::now();
    let st = Command::new(prog)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .expect("run chpst");
    let d = t.elapsed();
    assert!(st.success(), "{} {args:?} failed: {st}", prog.display());
    d
}

fn compare(ctx: &Ctx, label: &str, args: &[&str], cwd: &Path) {
    let (ours, theirs) = (ctx.ours("chpst"), ctx.theirs("chpst"));
    // Warm caches (page cache, NSS) for both before measuring.
    for _ in 0..20 {
        once(&ours, args, cwd);
        once(&theirs, args, cwd);
    }
    let mut a = Vec::with_capacity(RUNS);
    let mut b = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        b.push(once(&theirs, args, cwd));
        a.push(once(&ours, args, cwd));
    }
    let us = |d: std::time::Duration| d.as_secs_f64() * 1e6;
    row(
        &format!("{label} (median of {RUNS})"),
        us(median(b)),
        us(median(a)),
        "us",
    );
}

pub fn run(ctx: &Ctx) {
    let s = Scratch::new("chpst");
    let env = s.0.join("env");
    std::fs::create_dir(&env).unwrap();
    // A typical service envdir: a handful of small files.
    for (k, v) in [
        ("HOME", "/var/lib/svc"),
        ("LANG", "C.UTF-8"),
        ("OPTS", "--verbose --port 8080"),
        ("TZ", "UTC"),
        ("UNSET", ""),
    ] {
        std::fs::write(env.join(k), v).unwrap();
    }
    let user = if is_root() { "nobody" } else { "" };
    if user.is_empty() {
        println!("(not root: -u nobody left out)");
        compare(ctx, "chpst -e env true", &["-e", "env", "true"], &s.0);
    } else {
        compare(
            ctx,
            "chpst -u nobody -e env true",
            &["-u", "nobody", "-e", "env", "true"],
            &s.0,
        );
    }
    compare(ctx, "chpst true", &["true"], &s.0);
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
