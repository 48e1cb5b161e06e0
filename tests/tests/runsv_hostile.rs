//! runsv with something hostile where it expects one of its files: a FIFO,
//! a directory or a dangling symlink in place of each path in the service
//! directory that someone other than runsv can create (`down`, `run`,
//! `finish`, `control/X`, `log`, `log/down`, `log/run`, `supervise/` and its
//! files). A FIFO must never make runsv block in open(2); a symlink is
//! followed exactly where runit follows it.
//!
//! Each case runs the same scenario against the reference runsv and ours
//! and compares how runsv ended, whether ./run ran, its messages, the final
//! status bytes and whether a symlink's target was created. What runit
//! does is the expected behaviour.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use runit_tests::*;
use rustix::fs::{mkfifoat, open, Mode, OFlags, CWD};
use supervise_proto::svdir::send_control;
use supervise_proto::{RunState, Status};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fifo,
    Dir,
    Dangling,
}

const KINDS: [Kind; 3] = [Kind::Fifo, Kind::Dir, Kind::Dangling];

#[derive(Clone, Copy, Debug)]
struct Case {
    /// The path, relative to the service directory, that is replaced.
    path: &'static str,
    /// The service has a log (`log/run`).
    log: bool,
    /// Control bytes sent, one at a time, before the final `x`.
    cmds: &'static [u8],
}

/// What one run showed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Seen {
    /// runsv's exit code, "signal", or "hung" when it did not exit after `x`.
    end: String,
    /// ./run was started at least once.
    ran: bool,
    /// runsv's distinct stderr lines, sorted, the directory written DIR.
    stderr: Vec<String>,
    /// Final status of the service (and of its log), masked.
    status: String,
    /// The dangling symlink's target exists afterwards.
    target: bool,
}

/// How long runsv gets to exit after `x` before it counts as hung.
const EXIT_LIMIT: Duration = Duration::from_secs(10);

/// Reads a status record without ever blocking (a FIFO may be there).
fn status_now(path: &Path) -> Option<Status> {
    let fd = open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .ok()?;
    let mut buf = [0u8; 20];
    let n = rustix::io::read(&fd, &mut buf).ok()?;
    Status::decode(&buf[..n]).ok()
}

fn masked(path: &Path) -> String {
    match status_now(path) {
        Some(s) => format!(
            "pid={} paused={} want={} term={} state={}",
            if s.pid == 0 { "0" } else { "P" },
            s.paused as u8,
            s.want as char,
            s.got_term as u8,
            s.state as u8
        ),
        None => "unreadable".into(),
    }
}

/// Puts `kind` at `p`; a symlink points at `target`, in an existing
/// directory, so whoever follows it with O_CREAT creates it.
fn plant(p: &Path, kind: Kind, target: &Path) {
    if let Ok(m) = std::fs::symlink_metadata(p) {
        if m.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
    }
    match kind {
        // Executable, so runsv tries it as a control script too.
        Kind::Fifo => mkfifoat(CWD, p, Mode::from_raw_mode(0o700)).unwrap(),
        Kind::Dir => {
            std::fs::create_dir(p).unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Kind::Dangling => std::os::unix::fs::symlink(target, p).unwrap(),
    }
}

/// runit prints `control/?` for any control script it cannot run; ours
/// names the script (a deliberate difference): compare without the name.
fn normalize(line: &str, dir: &str) -> String {
    let line = line.replace(dir, "DIR");
    match line.find("unable to run control/") {
        Some(i) => {
            let at = i + "unable to run control/".len();
            format!("{}?{}", &line[..at], &line[at + 1..])
        }
        None => line,
    }
}

fn observe(runsv: &Path, case: Case, kind: Kind) -> Seen {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\necho $$ >> ../runs\nexec sleep 1000\n");
    if case.log {
        write_script(d.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    }
    let p = d.join(case.path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let target = sb.join("target");
    plant(&p, kind, &target);

    let errfile = sb.join("stderr");
    let mut c = sb.command(runsv);
    c.arg(&d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&errfile).unwrap());
    let pid = sb.spawn(c);
    let runs = sb.join("runs");
    let status = d.join("supervise/status");
    // Settled: runsv has exited, or has started ./run (or tried to), or
    // keeps it down as told. By then it reads its control FIFO.
    let start = Instant::now();
    let mut exited = None;
    while start.elapsed() < WAIT {
        exited = sb.try_wait(pid);
        let err = read(&errfile);
        let acted = runs.exists()
            || err.contains("unable to start ./run")
            || status_now(&status).is_some_and(|s| s.wants_down());
        // With a log, its start (or failure to start) must be behind us
        // too before `x` goes in: which of the two runsv does first is a
        // race, and the log's want in the status depends on it.
        let log_acted = !case.log
            || err.contains("log/./run")
            || status_now(&d.join("log/supervise/status"))
                .is_some_and(|s| s.pid != 0 || s.wants_down());
        let acted = acted && log_acted;
        if exited.is_some() || acted {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut end = None;
    if exited.is_none() {
        for &b in case.cmds {
            let _ = send_control(&d, &[b]);
            if b == b'd' {
                wait_until("service down", WAIT, || {
                    status_now(&status).is_some_and(|s| s.pid == 0 && s.state == RunState::Down)
                });
            }
        }
        let _ = send_control(&d, b"x");
        let t = Instant::now();
        while exited.is_none() && t.elapsed() < EXIT_LIMIT {
            std::thread::sleep(Duration::from_millis(10));
            exited = sb.try_wait(pid);
        }
        if exited.is_none() {
            end = Some("hung".to_string());
        }
    }
    let end = end.unwrap_or_else(|| match exited.and_then(|st| st.code()) {
        Some(code) => code.to_string(),
        None => "signal".into(),
    });
    sb.kill_all();
    sb.assert_no_leaks();
    let dir = d.display().to_string();
    let mut stderr: Vec<String> = read(&errfile).lines().map(|l| normalize(l, &dir)).collect();
    stderr.sort();
    stderr.dedup();
    let mut status = masked(&status);
    if case.log {
        status = format!("{status}; log {}", masked(&d.join("log/supervise/status")));
    }
    Seen {
        end,
        ran: runs.exists(),
        stderr,
        status,
        target: std::fs::symlink_metadata(&target).is_ok(),
    }
}

/// Cases where the reference runsv hangs; ours must not, and so differs.
/// (None found: runit opens everything here without blocking too.)
const RUNIT_HANGS: &[(&str, Kind)] = &[];

/// Cases where only how runsv ended and whether ./run ran must agree; the
/// messages or final status differ by choice:
/// - runit checks the type of `supervise/control` where it means
///   `log/supervise/control`, then fails opening the log's; ours checks the
///   log's own and words it as for the service's;
/// - runit keeps one "pid changed" flag for both services, so when the
///   log's pid file cannot be replaced, the service's next write clears it
///   and the log's status is then written beside a stale pid file; ours
///   keeps the flag per service and writes no status the pid file
///   contradicts.
const OWN_CHOICE: &[(&str, Kind)] = &[
    ("log/supervise/control", Kind::Dir),
    ("log/supervise/control", Kind::Dangling),
    ("log/supervise/pid", Kind::Dir),
];

fn check(case: Case) {
    let r = reference();
    let threads: Vec<_> = KINDS
        .iter()
        .map(|&kind| {
            let ours = std::thread::spawn(move || observe(&bin("runsv"), case, kind));
            let theirs = r.map(|r| {
                let runsv = r.runit("runsv");
                std::thread::spawn(move || observe(&runsv, case, kind))
            });
            (kind, ours, theirs)
        })
        .collect();
    for (kind, ours, theirs) in threads {
        let ours = ours.join().unwrap();
        // The table in docs/compat/runsv-sv.md comes from these lines.
        eprintln!("{} as {kind:?}: {ours:?}", case.path);
        assert_ne!(ours.end, "hung", "{} as {kind:?}: {ours:?}", case.path);
        let Some(theirs) = theirs.map(|t| t.join().unwrap()) else {
            continue;
        };
        if RUNIT_HANGS.contains(&(case.path, kind)) {
            assert_eq!(theirs.end, "hung", "{} as {kind:?}", case.path);
        } else if OWN_CHOICE.contains(&(case.path, kind)) {
            assert_eq!(
                (&ours.end, ours.ran),
                (&theirs.end, theirs.ran),
                "{} as {kind:?}: {ours:?} vs {theirs:?}",
                case.path
            );
        } else {
            assert_eq!(
                ours, theirs,
                "{} as {kind:?}: ours (left) vs runit 2.1.2",
                case.path
            );
        }
    }
}

macro_rules! cases {
    ($($name:ident: $path:expr, log: $log:expr, cmds: $cmds:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(Case { path: $path, log: $log, cmds: $cmds });
            }
        )*
    };
}

cases! {
    down: "down", log: false, cmds: b"";
    run: "run", log: false, cmds: b"";
    finish: "finish", log: false, cmds: b"";
    control_u: "control/u", log: false, cmds: b"";
    control_t: "control/t", log: false, cmds: b"";
    control_d: "control/d", log: false, cmds: b"d";
    control_x: "control/x", log: false, cmds: b"";
    control_h: "control/h", log: false, cmds: b"h";
    log: "log", log: false, cmds: b"";
    log_down: "log/down", log: true, cmds: b"";
    log_run: "log/run", log: true, cmds: b"";
    log_supervise: "log/supervise", log: true, cmds: b"";
    log_supervise_lock: "log/supervise/lock", log: true, cmds: b"";
    log_supervise_control: "log/supervise/control", log: true, cmds: b"";
    log_supervise_ok: "log/supervise/ok", log: true, cmds: b"";
    log_supervise_pid: "log/supervise/pid", log: true, cmds: b"";
    log_supervise_stat_new: "log/supervise/stat.new", log: true, cmds: b"";
    supervise: "supervise", log: false, cmds: b"";
    supervise_control: "supervise/control", log: false, cmds: b"";
    supervise_ok: "supervise/ok", log: false, cmds: b"";
    supervise_lock: "supervise/lock", log: false, cmds: b"";
    supervise_status: "supervise/status", log: false, cmds: b"";
    supervise_status_new: "supervise/status.new", log: false, cmds: b"";
    supervise_stat: "supervise/stat", log: false, cmds: b"";
    supervise_stat_new: "supervise/stat.new", log: false, cmds: b"";
    supervise_pid: "supervise/pid", log: false, cmds: b"";
    supervise_pid_new: "supervise/pid.new", log: false, cmds: b"";
}
