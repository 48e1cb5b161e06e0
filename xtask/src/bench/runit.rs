//! runit as PID 1: how long a whole boot-to-halt cycle takes (three empty
//! stages, then the namespace's reboot(2)), and how much memory PID 1 uses
//! while stage 2 runs. Each run is a fresh PID namespace whose compiled-in
//! paths (/etc/runit, /run, /dev/console) are supplied by a private mount
//! namespace, so the reference binary and ours see identical set-ups.
//! Needs root (unshare) and overlayfs; says so and skips otherwise.
//!
//! `RUNIT_RS_BENCH_OURS=DIR` takes our binaries from DIR instead of
//! target/release.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{median, pss_kb, row, Ctx, Scratch};

const RUNS: usize = 15;

fn ours(ctx: &Ctx) -> PathBuf {
    match std::env::var_os("RUNIT_RS_BENCH_OURS") {
        Some(d) => PathBuf::from(d).join("runit"),
        None => ctx.ours("runit"),
    }
}

/// Writes the stages and a boot script that mounts the paths and execs
/// `runit`; `stage2` is the body of /etc/runit/2.
fn setup(dir: &Path, runit: &Path, stage2: &str) -> PathBuf {
    for d in ["upper", "work", "etcrunit"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let script = |p: PathBuf, body: &str| {
        std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
        Command::new("chmod").arg("755").arg(&p).status().unwrap();
    };
    script(dir.join("etcrunit/1"), "exit 0\n");
    script(dir.join("etcrunit/2"), stage2);
    script(dir.join("etcrunit/3"), "exit 0\n");
    std::fs::write(dir.join("etcrunit/nosync"), "").unwrap();
    std::fs::write(dir.join("console"), "").unwrap();
    let d = dir.display();
    let boot = dir.join("boot");
    script(
        boot.clone(),
        &format!(
            "mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/upper,workdir={d}/work /etc || exit 97\n\
             mkdir -p /etc/runit && mount --bind {d}/etcrunit /etc/runit || exit 97\n\
             mount -t tmpfs tmpfs /run || exit 97\n\
             mount --bind /dev/null /dev/console || exit 97\n\
             exec {}\n",
            runit.display()
        ),
    );
    boot
}

fn start(boot: &Path) -> Child {
    Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .arg(boot)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("unshare")
}

/// One boot-to-halt cycle; None when the set-up was refused.
fn cycle(boot: &Path) -> Option<Duration> {
    let t = Instant::now();
    let st = start(boot).wait().ok()?;
    let d = t.elapsed();
    (st.code() != Some(97) && st.code() != Some(1)).then_some(d)
}

/// PSS of PID 1 once stage 2 is running.
fn idle_pss(boot: &Path) -> Option<u64> {
    let mut child = start(boot);
    let unshare = child.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut pss = None;
    while Instant::now() < deadline {
        let kids = std::fs::read_to_string(format!("/proc/{unshare}/task/{unshare}/children"))
            .unwrap_or_default();
        if let Some(init) = kids
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<u32>().ok())
        {
            // Stage 2 is up once PID 1 has a child running `sleep`.
            let grandkids = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
                .unwrap_or_default();
            let sleeping = grandkids.split_whitespace().any(|g| {
                std::fs::read_to_string(format!("/proc/{g}/comm"))
                    .is_ok_and(|c| c.trim() == "sleep")
            });
            if sleeping {
                pss = pss_kb(init);
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // --kill-child: killing unshare kills the namespace's PID 1, and with
    // it the namespace.
    let _ = child.kill();
    let _ = child.wait();
    pss
}

pub fn run(ctx: &Ctx) {
    let (theirs, ours) = (ctx.theirs("runit"), ours(ctx));
    let s = Scratch::new("runit");
    let tb = setup(&s.0.join("ref-cycle"), &theirs, "exit 0\n");
    let ob = setup(&s.0.join("ours-cycle"), &ours, "exit 0\n");
    if cycle(&tb).is_none() {
        println!("skipped: unshare --pid --mount or overlayfs refused (needs root)");
        return;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        b.extend(cycle(&tb));
        a.extend(cycle(&ob));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    row(
        &format!("boot to halt, 3 empty stages (median of {RUNS})"),
        ms(median(b)),
        ms(median(a)),
        "ms",
    );
    let tb = setup(&s.0.join("ref-idle"), &theirs, "exec sleep 1000\n");
    let ob = setup(&s.0.join("ours-idle"), &ours, "exec sleep 1000\n");
    if let (Some(t), Some(o)) = (idle_pss(&tb), idle_pss(&ob)) {
        row(
            "PID 1 PSS during stage 2 (lower is better)",
            t as f64,
            o as f64,
            "kB",
        );
    }
}
