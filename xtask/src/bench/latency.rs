//! Latency of runsv's three reactions, side by side with runit's runsv and
//! with the floor (the harness doing the same without a supervisor):
//!
//! - kill -9 of ./run until the replacement ./run has started (runit's
//!   runsv, ours; floor: the harness reaps its own child and spawns ./run
//!   again). ./run has been up over a second each round, so neither
//!   runsv holds the restart back.
//! - `sv up` until ./run has started (floor: the harness spawns ./run).
//! - `sv down` until the process is gone (floor: a bare SIGTERM).
//!
//! "Started" is the first line of the run script: it writes a byte to a
//! FIFO the harness reads with poll, so no polling interval enters the
//! figures. "Gone" is the pidfd of ./run turning readable. The rounds of
//! runit, ours and the floor take turns, so drift of the machine falls on
//! all alike. The services live in a scratch directory on the file system
//! of `LATENCY_BENCH_DIR` (default /var/tmp: disk, where runsv's status
//! files cost most); `BENCH_ROUNDS` rounds (default 100).

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags};
use rustix::fs::{Mode, OFlags};
use rustix::process::{pidfd_open, Pid, PidfdFlags};

use super::common::{median, spawn_runsv, status, wait, Ctx, Scratch};

/// The FIFO ./run announces itself on, held open for reading and writing
/// (so it never reports end-of-file between rounds).
struct Started(OwnedFd);

impl Started {
    fn new(path: &Path) -> Started {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        let fd = rustix::fs::open(
            path,
            OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .expect("open fifo");
        Started(fd)
    }

    /// Drops what earlier starts wrote.
    fn drain(&self) {
        let mut b = [0u8; 64];
        while matches!(rustix::io::read(&self.0, &mut b), Ok(n) if n > 0) {}
    }

    /// Waits (up to a minute) for the next start.
    fn wait(&self) {
        let mut fds = [PollFd::new(&self.0, PollFlags::IN)];
        let t = rustix::fs::Timespec {
            tv_sec: 60,
            tv_nsec: 0,
        };
        match poll(&mut fds, Some(&t)) {
            Ok(1) => self.drain(),
            _ => panic!("bench: ./run did not start within a minute"),
        }
    }
}

/// Waits (up to a minute) until the process behind `pidfd` has exited.
fn wait_gone(pidfd: &OwnedFd) {
    let mut fds = [PollFd::new(pidfd, PollFlags::IN)];
    let t = rustix::fs::Timespec {
        tv_sec: 60,
        tv_nsec: 0,
    };
    if poll(&mut fds, Some(&t)) != Ok(1) {
        panic!("bench: process did not go within a minute");
    }
}

fn pidfd(pid: u32) -> OwnedFd {
    pidfd_open(Pid::from_raw(pid as i32).unwrap(), PidfdFlags::empty()).expect("pidfd_open")
}

/// One service dir with its FIFO; ./run writes to the FIFO and execs sleep.
fn service(root: &Path) -> (PathBuf, Started) {
    let d = root.join("svc");
    std::fs::create_dir_all(&d).unwrap();
    let fifo = root.join("started");
    let run = format!("#!/bin/sh\necho >{}\nexec sleep 100000\n", fifo.display());
    let p = d.join("run");
    std::fs::write(&p, run).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let s = Started::new(&fifo);
    (d, s)
}

/// What [`Subject::new`] sets up.
enum Kind<'a> {
    /// A runsv and its sv.
    Runsv(&'a Path, &'a Path),
    /// The least restarter's program.
    Restarter(&'a Path),
    Floor,
}

/// Who does the supervising in a round.
enum Who {
    /// A runsv (runit's or ours) with its sv.
    Runsv { child: Child, sv: PathBuf },
    /// The harness: ./run is its own child.
    Floor { run: Option<Child> },
    /// The least restarter in C (bench::floor::restarter): kill rounds
    /// only.
    Restarter { child: Child },
}

struct Subject {
    who: Who,
    dir: PathBuf,
    started: Started,
    _scratch: Scratch,
    kill: Vec<Duration>,
    up: Vec<Duration>,
    down: Vec<Duration>,
}

impl Subject {
    fn new(base: &Path, tag: &str, kind: Kind) -> Subject {
        let scratch = Scratch::under(base, &format!("latency-{tag}"));
        let (dir, started) = service(&scratch.0);
        let who = match kind {
            Kind::Runsv(runsv, sv) => Who::Runsv {
                child: spawn_runsv(runsv, &dir),
                sv: sv.to_path_buf(),
            },
            Kind::Restarter(bin) => Who::Restarter {
                child: spawn_runsv(bin, &dir),
            },
            Kind::Floor => Who::Floor { run: None },
        };
        let mut s = Subject {
            who,
            dir,
            started,
            _scratch: scratch,
            kill: Vec::new(),
            up: Vec::new(),
            down: Vec::new(),
        };
        if let Who::Floor { .. } = s.who {
            s.spawn_run();
        }
        s.started.wait();
        s
    }

    fn spawn_run(&mut self) {
        let Who::Floor { run } = &mut self.who else {
            return;
        };
        let c = Command::new("./run")
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ./run");
        *run = Some(c);
    }

    fn sv(&self, cmd: &str) {
        if let Who::Runsv { sv, .. } = &self.who {
            Command::new(sv)
                .arg(cmd)
                .arg(&self.dir)
                .stdout(Stdio::null())
                .status()
                .unwrap();
        }
    }

    /// The pid of the running ./run.
    fn run_pid(&self) -> u32 {
        match &self.who {
            Who::Runsv { .. } | Who::Restarter { .. } => {
                let mut pid = 0;
                wait("pid in status", || {
                    pid = status(&self.dir).map_or(0, |s| s.pid);
                    pid != 0
                });
                pid
            }
            Who::Floor { run } => run.as_ref().unwrap().id(),
        }
    }

    /// kill -9 of a ./run up for over a second, until its replacement
    /// has started.
    fn kill_round(&mut self) {
        let pid = self.run_pid();
        self.started.drain();
        let t = Instant::now();
        match &mut self.who {
            Who::Runsv { .. } | Who::Restarter { .. } => {
                rustix::process::kill_process(
                    Pid::from_raw(pid as i32).unwrap(),
                    rustix::process::Signal::KILL,
                )
                .unwrap();
            }
            Who::Floor { run } => {
                let mut c = run.take().unwrap();
                c.kill().unwrap();
                c.wait().unwrap();
                self.spawn_run();
            }
        }
        self.started.wait();
        self.kill.push(t.elapsed());
    }

    /// `sv down` until ./run is gone, then `sv up` until it has started.
    fn down_up_round(&mut self) {
        let pid = self.run_pid();
        let fd = pidfd(pid);
        let t = Instant::now();
        match &mut self.who {
            Who::Runsv { .. } | Who::Restarter { .. } => self.sv("down"),
            Who::Floor { .. } => {
                rustix::process::kill_process(
                    Pid::from_raw(pid as i32).unwrap(),
                    rustix::process::Signal::TERM,
                )
                .unwrap();
            }
        }
        wait_gone(&fd);
        self.down.push(t.elapsed());
        drop(fd);
        match &mut self.who {
            Who::Runsv { .. } | Who::Restarter { .. } => wait("status down", || {
                status(&self.dir).is_some_and(|s| s.pid == 0)
            }),
            Who::Floor { run } => {
                run.take().unwrap().wait().unwrap();
            }
        }
        self.started.drain();
        let t = Instant::now();
        match &self.who {
            Who::Runsv { .. } | Who::Restarter { .. } => self.sv("up"),
            Who::Floor { .. } => self.spawn_run(),
        }
        self.started.wait();
        self.up.push(t.elapsed());
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        match &mut self.who {
            Who::Runsv { child, .. } => {
                let pid = status(&self.dir).map_or(0, |s| s.pid);
                let _ = supervise_proto::svdir::send_control(&self.dir, b"dx");
                let t = Instant::now();
                while t.elapsed() < Duration::from_secs(10) {
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                let _ = child.kill();
                let _ = child.wait();
                if pid != 0 {
                    if let Some(p) = Pid::from_raw(pid as i32) {
                        let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
                    }
                }
            }
            Who::Floor { run } => {
                if let Some(mut c) = run.take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
            }
            Who::Restarter { child } => {
                // The restarter first, so that it does not start another.
                let pid = status(&self.dir).map_or(0, |s| s.pid);
                let _ = child.kill();
                let _ = child.wait();
                if let Some(p) = Pid::from_raw(pid as i32) {
                    let _ = rustix::process::kill_process(p, rustix::process::Signal::KILL);
                }
            }
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fs_of(dir: &Path) -> String {
    let out = Command::new("findmnt")
        .args(["-n", "-o", "FSTYPE", "-T"])
        .arg(dir)
        .output();
    out.ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "?".into())
}

pub fn run(ctx: &Ctx) {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let base = std::env::var_os("LATENCY_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp"));
    println!(
        "services in {} ({}); median of {rounds} rounds, runit / ours / floor taking turns",
        base.display(),
        fs_of(&base)
    );
    let (rr, rs) = (ctx.theirs("runsv"), ctx.theirs("sv"));
    let (or, os) = (ctx.ours("runsv"), ctx.ours("sv"));
    let build = Scratch::new("latency-restarter-build");
    let mut subjects = vec![
        Subject::new(&base, "ref", Kind::Runsv(&rr, &rs)),
        Subject::new(&base, "ours", Kind::Runsv(&or, &os)),
        Subject::new(&base, "floor", Kind::Floor),
    ];
    if let Some(bin) = super::floor::restarter(&build.0) {
        subjects.push(Subject::new(&base, "restarter", Kind::Restarter(&bin)));
    }
    for round in 0..rounds {
        // ./run must have been up over a second (runit holds back the
        // restart of one that ran for less).
        std::thread::sleep(Duration::from_millis(1100));
        let n = subjects.len();
        for k in 0..n {
            subjects[(k + round) % n].kill_round();
        }
        std::thread::sleep(Duration::from_millis(1100));
        for k in 0..3 {
            subjects[(k + round) % 3].down_up_round();
        }
    }
    let restarter = subjects
        .get_mut(3)
        .map(|s| ms(median(std::mem::take(&mut s.kill))));
    let [r, o, f, ..] = &mut subjects[..] else {
        unreachable!("three subjects at least")
    };
    let o_kill = ms(median(o.kill.clone()));
    let line = |what: &str, a: &mut Vec<Duration>, b: &mut Vec<Duration>, c: &mut Vec<Duration>| {
        let (a, b, c) = (
            ms(median(std::mem::take(a))),
            ms(median(std::mem::take(b))),
            ms(median(std::mem::take(c))),
        );
        println!(
            "{what:<34} runit {a:>7.2} ms  ours {b:>7.2} ms  floor {c:>7.2} ms  ours/floor {:>5.2}  runit/ours {:>5.2}",
            b / c,
            a / b
        );
    };
    line(
        "kill -9 -> replacement started",
        &mut r.kill,
        &mut o.kill,
        &mut f.kill,
    );
    line("sv up -> ./run started", &mut r.up, &mut o.up, &mut f.up);
    line(
        "sv down -> process gone",
        &mut r.down,
        &mut o.down,
        &mut f.down,
    );
    if let Some(m) = restarter {
        println!(
            "{:<34} {m:>7.2} ms  ours/restarter {:>5.2}  (C: sigwaitinfo, waitpid, vfork+exec)",
            "kill -9 -> least restarter",
            o_kill / m
        );
    }
}
