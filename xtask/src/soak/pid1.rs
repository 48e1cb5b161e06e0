//! runit as process 1 of a PID namespace (unshare --pid --fork
//! --kill-child --mount-proc), with the compiled-in paths made private to
//! the namespace: an overlay over /etc with /etc/runit bound in, a tmpfs
//! /run, a file bound over /dev/console (as tests/tests/runit_init.rs).
//!
//! Stage 2 first exits 111 (runit: kill its process group, sleep 5 s,
//! restart it), then runs a runsvdir with services each logging numbered
//! lines through svlogd, and asks for shutdown with `runit-init 0`
//! (stopit + SIGCONT, runit's shutdown path; runit 2.1.2 ignores SIGTERM
//! to process 1). Stage 3 stops and exits every service, then runit
//! KILLs all and powers off, which ends the namespace. Every line a
//! service wrote must be on disk afterwards.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::probe::{self, Reaper};
use super::Soak;
use crate::bench::common::Scratch;

fn script(p: &Path, body: &str) {
    std::fs::write(p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct Boot {
    secs: f64,
    restarts: usize,
    console: String,
    lost: u64,
    written: u64,
    dups: u64,
}

fn boot(dir: &Path, bins: &Path, runit_init: &Path, services: usize, run_ms: u64) -> Boot {
    for d in ["upper", "work", "etcrunit", "service"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    std::fs::write(dir.join("etcrunit/nosync"), "").unwrap();
    std::fs::write(dir.join("console"), "").unwrap();
    let d = dir.display();
    let b = bins.display();
    for i in 0..services {
        let s = dir.join(format!("service/s{i}"));
        std::fs::create_dir_all(s.join("log/main")).unwrap();
        // The producer says, on TERM, the last number it surely wrote
        // (the trap runs between commands: after the echo, or the +1).
        script(
            &s.join("run"),
            &format!(
                "i=1\ntrap 'echo $((i-1)) > {d}/last.s{i}; exit 0' TERM\n\
                 while :; do echo $i; i=$((i+1)); done\n"
            ),
        );
        // Big files, many kept: svlogd deletes nothing the check reads.
        std::fs::write(s.join("log/main/config"), "s100000000\nn100\n").unwrap();
        script(&s.join("log/run"), &format!("exec {b}/svlogd main\n"));
    }
    script(&dir.join("etcrunit/1"), "exit 0\n");
    script(
        &dir.join("etcrunit/2"),
        &format!(
            "PATH={b}:/usr/bin:/bin; export PATH\n\
             n=$(cat {d}/count 2>/dev/null || echo 0); n=$((n+1)); echo $n > {d}/count\n\
             [ $n = 1 ] && {{ sleep 1000 & exit 111; }}\n\
             ( sleep {}; {} 0 ) &\n\
             exec runsvdir -P {d}/service\n",
            run_ms as f64 / 1000.0,
            runit_init.display()
        ),
    );
    script(
        &dir.join("etcrunit/3"),
        &format!(
            "PATH={b}:/usr/bin:/bin; export PATH\n\
             sv -w 30 force-stop {d}/service/* >/dev/null\n\
             sv exit {d}/service/* >/dev/null\n\
             for s in {d}/service/*; do\n\
               while sv status $s >/dev/null 2>&1; do sleep 0.05; done\n\
             done\n"
        ),
    );
    script(
        &dir.join("boot"),
        &format!(
            "mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/upper,workdir={d}/work /etc || exit 97\n\
             mkdir -p /etc/runit && mount --bind {d}/etcrunit /etc/runit || exit 97\n\
             mount -t tmpfs tmpfs /run || exit 97\n\
             mount --bind {d}/console /dev/console || exit 97\n\
             exec {b}/runit\n"
        ),
    );
    let mut reaper = Reaper::new();
    let t = Instant::now();
    let child = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .arg(dir.join("boot"))
        .env_remove("RUNIT_RS_TEST_ROOT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn unshare");
    let pid = reaper.child(child);
    probe::poll(Duration::from_secs(60), || !probe::alive(pid));
    let secs = t.elapsed().as_secs_f64();
    reaper.kill_all();
    let console = std::fs::read_to_string(dir.join("console")).unwrap_or_default();
    let restarts = console.matches("restarting").count();
    let (mut lost, mut written, mut dups) = (0, 0, 0);
    for i in 0..services {
        let last: u64 = std::fs::read_to_string(dir.join(format!("last.s{i}")))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        // current and every rotated file (@....s) of the log.
        let mut text = String::new();
        if let Ok(rd) = std::fs::read_dir(dir.join(format!("service/s{i}/log/main"))) {
            for e in rd.flatten() {
                let n = e.file_name();
                let n = n.to_string_lossy();
                if n == "current" || (n.starts_with('@') && n.ends_with(".s")) {
                    text += &std::fs::read_to_string(e.path()).unwrap_or_default();
                }
            }
        }
        let mut seen = vec![false; last as usize + 1];
        for l in text.lines() {
            if let Ok(n) = l.parse::<usize>() {
                if n < seen.len() {
                    if seen[n] {
                        dups += 1;
                    }
                    seen[n] = true;
                }
            }
        }
        written += last;
        lost += seen.iter().skip(1).filter(|&&s| !s).count() as u64;
    }
    Boot {
        secs,
        restarts,
        console,
        lost,
        written,
        dups,
    }
}

fn figure(b: &Boot) -> String {
    format!(
        "{} lost of {}; {} dup; stage 2 restarted {}×; done in {:.1} s",
        b.lost, b.written, b.dups, b.restarts, b.secs
    )
}

pub fn run(s: &mut Soak) {
    let ok = Command::new("unshare")
        .args(["--pid", "--fork", "--kill-child", "--mount-proc", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|st| st.success());
    if !ok {
        s.info("pid1: skipped", "no PID namespaces", "no PID namespaces");
        return;
    }
    let services = s.count(5, 3) as usize;
    let run_ms = s.count(5000, 1000);
    let sc = Scratch::new("soak-pid1");
    let (a, b) = (sc.0.join("theirs"), sc.0.join("ours"));
    let theirs = boot(
        &a,
        &s.ctx.reference.join("runit"),
        &s.ctx.reference.join("root/lib/runit/runit-init"),
        services,
        run_ms,
    );
    let ours = boot(&b, &s.ctx.ours, &s.ctx.ours("runit-init"), services, run_ms);
    let good = ours.lost == 0
        && ours.dups == 0
        && ours.written > 0
        && ours.restarts == 1
        && ours.console.contains("power off");
    if !good {
        eprintln!("pid1: our console:\n{}", ours.console);
    }
    s.check(
        &format!("pid1: stage 2 exits 111, then {services} logged services, runit-init 0"),
        figure(&theirs),
        figure(&ours),
        good,
        "lines lost or stage 2 not restarted or no power off",
    );
}
