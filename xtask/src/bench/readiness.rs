//! Readiness latency: from the moment a service says it is ready to the
//! moment a waiting `sv -w 10 start` returns.
//!
//! Ours: the service has `notification-fd` and writes a newline to it.
//! runit: the same service creates a file, and a `./check` that tests for
//! the file is what runit's sv polls (every 420 ms). Our sv with the same
//! ./check is shown too, for what polling costs without notification.
//!
//! One round: the service is restarted (after runsv's one-second pause),
//! `sv -w 10 start` is started and waits; ./run blocks opening a FIFO; the
//! bench opens it (so ./run is surely running and past its start), takes
//! the time, and writes the line that lets ./run say "ready".

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::common::{row, spawn_runsv, status, wait, Ctx, Scratch};

const RUN: &str = "#!/bin/sh\nread x < go\nREADY\nexec sleep 100000\n";

fn write_exec(p: &Path, text: &str) {
    std::fs::write(p, text).unwrap();
    std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

/// One service under one runsv, and the sv that waits for it.
struct Case {
    label: &'static str,
    runsv: Child,
    dir: std::path::PathBuf,
    sv: std::path::PathBuf,
    times: Vec<Duration>,
    _scratch: Scratch,
}

impl Case {
    /// `notify`: say ready on the notification pipe (else with a file
    /// that ./check tests).
    fn new(label: &'static str, runsv: &Path, sv: &Path, notify: bool) -> Case {
        let s = Scratch::new(&format!("ready-{label}"));
        let dir = s.0.join("svc");
        std::fs::create_dir_all(&dir).unwrap();
        let say = if notify { "echo >&3" } else { ": > ready" };
        write_exec(&dir.join("run"), &RUN.replace("READY", say));
        if notify {
            std::fs::write(dir.join("notification-fd"), "3\n").unwrap();
        } else {
            write_exec(&dir.join("check"), "#!/bin/sh\ntest -e ready\n");
        }
        let fifo = dir.join("go");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        std::fs::write(dir.join("down"), "").unwrap();
        let child = spawn_runsv(runsv, &dir);
        wait("runsv", || {
            supervise_proto::svdir::supervisor_running(&dir) == Ok(true)
        });
        Case {
            label,
            runsv: child,
            dir,
            sv: sv.to_path_buf(),
            times: Vec::new(),
            _scratch: s,
        }
    }

    fn round(&mut self) {
        let mut sv = Command::new(&self.sv)
            .args(["-w", "10", "start"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        // Blocks until ./run has opened the FIFO for reading.
        let mut go = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("go"))
            .unwrap();
        let t = Instant::now();
        go.write_all(b"\n").unwrap();
        drop(go);
        let st = sv.wait().unwrap();
        self.times.push(t.elapsed());
        assert!(st.success(), "{}: sv start failed", self.label);
        let _ = Command::new(&self.sv)
            .arg("down")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .status();
        wait("down", || status(&self.dir).is_some_and(|s| s.pid == 0));
        // Removed while nothing runs: a ./check polled before the next
        // ./run got going must not find the last round's file.
        let _ = std::fs::remove_file(self.dir.join("ready"));
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = supervise_proto::svdir::send_control(&self.dir, b"x");
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.runsv.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.runsv.kill();
        let _ = self.runsv.wait();
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median, 10th and 90th percentile, min and max, in ms.
fn spread(mut v: Vec<Duration>) -> (f64, f64, f64, f64, f64) {
    v.sort();
    let at = |q: f64| ms(v[((v.len() - 1) as f64 * q).round() as usize]);
    (at(0.5), at(0.1), at(0.9), at(0.0), at(1.0))
}

pub fn run(ctx: &Ctx) {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut cases = [
        Case::new(
            "runit sv, ./check",
            &ctx.theirs("runsv"),
            &ctx.theirs("sv"),
            false,
        ),
        Case::new(
            "ours, notification-fd",
            &ctx.ours("runsv"),
            &ctx.ours("sv"),
            true,
        ),
        Case::new("ours, ./check", &ctx.ours("runsv"), &ctx.ours("sv"), false),
    ];
    for round in 0..rounds {
        // Keep clear of runsv's one-second pause before a restart.
        std::thread::sleep(Duration::from_millis(1100));
        let n = cases.len();
        for k in 0..n {
            cases[(k + round) % n].round();
        }
    }
    let figures: Vec<_> = cases
        .iter_mut()
        .map(|c| (c.label, spread(std::mem::take(&mut c.times))))
        .collect();
    let (theirs, ours) = (figures[0].1 .0, figures[1].1 .0);
    row(
        &format!("ready -> sv -w start returns (median of {rounds})"),
        theirs,
        ours,
        "ms",
    );
    for (label, (med, p10, p90, min, max)) in figures {
        println!(
            "  {label:<24} median {med:>8.3} ms  p10 {p10:>8.3}  p90 {p90:>8.3}  min {min:>8.3}  max {max:>8.3}"
        );
    }
}
