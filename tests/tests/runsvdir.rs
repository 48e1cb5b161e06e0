//! runsvdir end to end: services added, removed, renamed, symlinked and
//! hidden while it runs; a killed runsv restarted; SIGHUP and SIGTERM; the
//! `log` status area in /proc/PID/cmdline; the warnings for a missing or
//! unusable services directory and a missing runsv; a scale run with
//! 2,000 services. Where runit 2.1.2 is the truth the same scenario runs
//! against the reference runsvdir (with the reference runsv) and the
//! outcomes are compared. Outcomes are asserted within runit's own
//! five-second bound, except where ours must not poll at all (the last
//! section): there a reaction must come before a five-second timer could
//! have fired, and an idle runsvdir must not wake up.

use std::collections::BTreeSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use runit_tests::*;
use rustix::process::Signal;

/// A run script that records its pid (the pid of the sleep it becomes).
const RUN: &str = "#!/bin/sh\necho $$ > started\nexec sleep 1000\n";

/// runit's scan bound plus slack for two busy cores.
const RUNIT_BOUND: Duration = Duration::from_secs(15);

/// One implementation: a runsvdir and the directory its runsv comes from.
struct Suite {
    name: &'static str,
    runsvdir: PathBuf,
    path: PathBuf,
}

impl Suite {
    fn ours() -> Suite {
        Suite {
            name: "ours",
            runsvdir: bin("runsvdir"),
            path: bin_dir(),
        }
    }
    fn theirs(r: &Reference) -> Suite {
        Suite {
            name: "runit",
            runsvdir: r.runit("runsvdir"),
            path: r.dir.join("runit"),
        }
    }
    /// Ours, and the reference when available.
    fn all() -> Vec<Suite> {
        let mut v = vec![Suite::ours()];
        if let Some(r) = reference() {
            v.push(Suite::theirs(r));
        }
        v
    }
    fn path_env(&self) -> std::ffi::OsString {
        let mut p = self.path.clone().into_os_string();
        p.push(":");
        p.push(std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()));
        p
    }
}

/// A running runsvdir of one suite, with stderr going to a file.
struct Running {
    pid: u32,
    err: PathBuf,
}

fn start(sb: &mut Sandbox, suite: &Suite, args: &[&str]) -> Running {
    start_with_path(sb, suite, args, &suite.path_env())
}

fn start_with_path(
    sb: &mut Sandbox,
    suite: &Suite,
    args: &[&str],
    path: &std::ffi::OsStr,
) -> Running {
    let err = sb.join(format!("err.{}", suite.name));
    let f = std::fs::File::create(&err).unwrap();
    let mut c = sb.command(&suite.runsvdir);
    c.args(args)
        .env("PATH", path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(f);
    let pid = sb.spawn(c);
    Running { pid, err }
}

/// The runsv children of `parent`: (pid, service name).
fn runsv_children(parent: u32) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rsplit_once(')').map(|r| r.1) else {
            continue;
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        if f.first() == Some(&"Z") || f.get(1).and_then(|p| p.parse::<u32>().ok()) != Some(parent) {
            continue;
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv: Vec<String> = cmd
            .split(|&b| b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if argv.len() == 2 && argv[0] == "runsv" {
            v.push((pid, argv[1].clone()));
        }
    }
    v.sort_by(|a, b| a.1.cmp(&b.1));
    v
}

fn names(v: &[(u32, String)]) -> Vec<String> {
    v.iter().map(|(_, n)| n.clone()).collect()
}

/// The pid recorded by a service's run script once it runs.
fn started(svc: &Path) -> Option<u32> {
    read(svc.join("started")).trim().parse().ok()
}

fn wait_started(svc: &Path, limit: Duration) -> u32 {
    wait_for(&format!("{} started", svc.display()), limit, || {
        started(svc).filter(|&p| alive(p))
    })
}

/// Waits until runsvdir's runsv children are exactly `want` (by name).
fn wait_children(pid: u32, want: &[&str], limit: Duration) -> Vec<(u32, String)> {
    let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    let start = Instant::now();
    loop {
        let now = runsv_children(pid);
        if names(&now) == want {
            return now;
        }
        if start.elapsed() > limit {
            panic!(
                "runsv children of {pid}: want {want:?}, have {:?}",
                names(&now)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends HUP (TERM to every runsv, exit 111) and waits for everything
/// the sandbox started to be gone.
fn hangup(sb: &mut Sandbox, r: &Running) -> i32 {
    wait_catching(r.pid, Signal::HUP, WAIT);
    kill(r.pid, Signal::HUP);
    let st = sb.wait_exit(r.pid, WAIT);
    st.code().unwrap_or(-1)
}

fn lines(path: &Path) -> Vec<String> {
    read(path).lines().map(str::to_string).collect()
}

fn unique_lines(path: &Path) -> BTreeSet<String> {
    lines(path).into_iter().collect()
}

/// The argument `index` of a process's command line.
fn cmdline_arg(pid: u32, index: usize) -> Vec<u8> {
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    cmd.split(|&b| b == 0)
        .nth(index)
        .unwrap_or_default()
        .to_vec()
}

// ---------------------------------------------------------------------
// Changes while running

/// The same scenario against ours and runit's; every outcome must match.
#[test]
fn add_remove_rename_symlink_and_dot_directories() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(&s.join("a"), RUN);
        make_service(&s.join("b"), RUN);
        make_service(&s.join(".hidden"), RUN);
        make_service(&sb.join("elsewhere/x"), RUN);
        std::fs::write(s.join("file"), "not a service").unwrap();
        let r = start(&mut sb, &suite, &["s"]);
        let first = wait_children(r.pid, &["a", "b"], RUNIT_BOUND);
        let a_sleep = wait_started(&s.join("a"), WAIT);
        wait_started(&s.join("b"), WAIT);

        // A new service and a symlink to a directory elsewhere.
        make_service(&s.join("c"), RUN);
        std::os::unix::fs::symlink(sb.join("elsewhere/x"), s.join("l")).unwrap();
        wait_children(r.pid, &["a", "b", "c", "l"], RUNIT_BOUND);
        wait_started(&s.join("c"), WAIT);
        wait_started(&sb.join("elsewhere/x"), WAIT);

        // Rename a: same directory, so the same runsv and the same ./run.
        std::fs::rename(s.join("a"), s.join("a2")).unwrap();
        // Take b out of the directory: its runsv gets TERM and goes.
        std::fs::rename(s.join("b"), sb.join("b-out")).unwrap();
        // A new dot directory is ignored like the first one.
        make_service(&s.join(".later"), RUN);
        // A service added last shows the scan after those changes is done.
        make_service(&s.join("d"), RUN);
        wait_started(&s.join("d"), RUNIT_BOUND);
        let after = wait_children(r.pid, &["a", "c", "d", "l"], RUNIT_BOUND);
        let a_pid = first.iter().find(|(_, n)| n == "a").unwrap().0;
        assert_eq!(
            after[0].0, a_pid,
            "{}: renamed service keeps its runsv",
            suite.name
        );
        assert_eq!(
            started(&s.join("a2")),
            Some(a_sleep),
            "{}: and its ./run",
            suite.name
        );
        assert!(alive(a_sleep));
        wait_until("b's runsv and ./run gone", WAIT, || {
            !alive(first[1].0) && !started(&sb.join("b-out")).is_some_and(alive)
        });
        assert!(!s.join(".hidden/supervise").exists() && !s.join(".later/supervise").exists());

        // A directory replaced by a new one (new inode) is a new service.
        let c_old = runsv_children(r.pid)
            .into_iter()
            .find(|(_, n)| n == "c")
            .unwrap()
            .0;
        std::fs::rename(s.join("c"), sb.join("c-old")).unwrap();
        make_service(&s.join("c"), RUN);
        wait_until("c replaced", RUNIT_BOUND, || {
            runsv_children(r.pid)
                .iter()
                .any(|(p, n)| n == "c" && *p != c_old)
                && !alive(c_old)
        });
        wait_started(&s.join("c"), WAIT);

        let code = hangup(&mut sb, &r);
        sb.assert_no_leaks();
        outcomes.push((code, unique_lines(&r.err)));
    }
    assert_eq!(outcomes[0].0, 111);
    assert!(outcomes[0].1.is_empty(), "ours printed {:?}", outcomes[0].1);
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn dangling_symlink_warns_and_duplicate_names_share_one_runsv() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(&s.join("a"), RUN);
        std::os::unix::fs::symlink("a", s.join("same")).unwrap();
        std::os::unix::fs::symlink("nowhere", s.join("dangling")).unwrap();
        let r = start(&mut sb, &suite, &["s"]);
        wait_started(&s.join("a"), RUNIT_BOUND);
        wait_until("warning", WAIT, || !read(&r.err).is_empty());
        let kids = runsv_children(r.pid);
        assert_eq!(
            kids.len(),
            1,
            "{}: one runsv for two names: {kids:?}",
            suite.name
        );
        let code = hangup(&mut sb, &r);
        sb.assert_no_leaks();
        outcomes.push((code, unique_lines(&r.err)));
    }
    let want: BTreeSet<String> =
        ["runsvdir s: warning: unable to stat dangling: file does not exist".to_string()].into();
    assert_eq!(outcomes[0], (111, want));
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn killed_runsv_is_restarted() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(&s.join("a"), RUN);
        let r = start(&mut sb, &suite, &["s"]);
        let old = wait_children(r.pid, &["a"], RUNIT_BOUND)[0].0;
        let old_sleep = wait_started(&s.join("a"), WAIT);
        kill(old, Signal::KILL);
        // The ./run of the killed runsv lives on; the new runsv cannot
        // know it. Remove its record so the new ./run is seen.
        wait_until("old runsv gone", WAIT, || !alive(old));
        std::fs::remove_file(s.join("a/started")).unwrap();
        let new = wait_for("runsv restarted", RUNIT_BOUND, || {
            runsv_children(r.pid)
                .into_iter()
                .find(|(p, n)| n == "a" && *p != old)
        });
        let new_sleep = wait_started(&s.join("a"), WAIT);
        assert_ne!(new_sleep, old_sleep);
        kill(old_sleep, Signal::KILL);
        let code = hangup(&mut sb, &r);
        wait_until("new runsv gone", WAIT, || !alive(new.0));
        sb.assert_no_leaks();
        outcomes.push((code, unique_lines(&r.err)));
    }
    assert_eq!(outcomes[0].0, 111);
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

/// With -P every runsv leads a session of its own; killed, it is still
/// reaped and started again (runsvdir waits for any child, not only the
/// ones in its process group).
#[test]
fn new_session_runsv_is_reaped_and_restarted() {
    let session = |pid: u32| {
        let stat = read(format!("/proc/{pid}/stat"));
        let rest = stat
            .rsplit_once(')')
            .map(|r| r.1.to_string())
            .unwrap_or_default();
        rest.split_whitespace()
            .nth(3)
            .and_then(|s| s.parse::<u32>().ok())
    };
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(&s.join("a"), RUN);
        let r = start(&mut sb, &suite, &["-P", "s"]);
        let old = wait_children(r.pid, &["a"], RUNIT_BOUND)[0].0;
        // The session is made between fork and exec: once runsv's run
        // script has started, runsv has long been exec'd.
        let old_sleep = wait_started(&s.join("a"), WAIT);
        assert_eq!(session(old), Some(old), "{}", suite.name);
        kill(old, Signal::KILL);
        wait_until("old runsv gone", WAIT, || !alive(old));
        std::fs::remove_file(s.join("a/started")).unwrap();
        let new = wait_for("runsv restarted", RUNIT_BOUND, || {
            runsv_children(r.pid)
                .into_iter()
                .find(|(p, n)| n == "a" && *p != old)
        });
        wait_started(&s.join("a"), WAIT);
        assert_eq!(session(new.0), Some(new.0), "{}", suite.name);
        kill(old_sleep, Signal::KILL);
        let code = hangup(&mut sb, &r);
        wait_until("new runsv gone", WAIT, || !alive(new.0));
        sb.assert_no_leaks();
        outcomes.push((code, unique_lines(&r.err)));
    }
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

// ---------------------------------------------------------------------
// Signals

#[test]
fn sighup_terminates_every_runsv_and_exits_111() {
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        for n in ["a", "b", "c"] {
            make_service(&s.join(n), RUN);
        }
        let r = start(&mut sb, &suite, &["s"]);
        let kids = wait_children(r.pid, &["a", "b", "c"], RUNIT_BOUND);
        let sleeps: Vec<u32> = ["a", "b", "c"]
            .iter()
            .map(|n| wait_started(&s.join(n), WAIT))
            .collect();
        assert_eq!(hangup(&mut sb, &r), 111, "{}", suite.name);
        wait_until("every runsv and ./run gone", WAIT, || {
            kids.iter().all(|(p, _)| !alive(*p)) && sleeps.iter().all(|p| !alive(*p))
        });
        sb.assert_no_leaks();
        assert_eq!(read(&r.err), "", "{}", suite.name);
    }
}

#[test]
fn sigterm_exits_0_and_leaves_runsv_running() {
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        for n in ["a", "b"] {
            make_service(&s.join(n), RUN);
        }
        let r = start(&mut sb, &suite, &["-P", "s"]);
        let kids = wait_children(r.pid, &["a", "b"], RUNIT_BOUND);
        let sleeps: Vec<u32> = ["a", "b"]
            .iter()
            .map(|n| wait_started(&s.join(n), WAIT))
            .collect();
        // -P: each runsv leads its own session.
        for (p, _) in &kids {
            let stat = read(format!("/proc/{p}/stat"));
            let f: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            assert_eq!(f[3], p.to_string(), "{}: session of runsv {p}", suite.name);
        }
        wait_catching(r.pid, Signal::TERM, WAIT);
        kill(r.pid, Signal::TERM);
        let st = sb.wait_exit(r.pid, WAIT);
        assert_eq!(st.code(), Some(0), "{}", suite.name);
        // Left running: neither runsv nor its service is signalled.
        assert_stays(
            &format!("{}: runsv left running", suite.name),
            QUIET,
            || kids.iter().all(|(p, _)| alive(*p)) && sleeps.iter().all(|p| alive(*p)),
        );
        // Clean up by pid: runsv stops its service on TERM.
        for (p, _) in &kids {
            kill(*p, Signal::TERM);
        }
        wait_until("runsv gone", WAIT, || kids.iter().all(|(p, _)| !alive(*p)));
        sb.assert_no_leaks();
    }
}

#[test]
fn sigalrm_forces_a_rescan_and_records_it() {
    // Debian's runsvdir rescans on SIGALRM and writes the time to
    // ./.forced-rescan; ours does the same.
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(&s.join("a"), RUN);
        let r = start(&mut sb, &suite, &["s"]);
        // Once a service runs, the signal handlers are in place.
        wait_started(&s.join("a"), RUNIT_BOUND);
        kill(r.pid, Signal::ALARM);
        let label = wait_for("forced-rescan written", WAIT, || {
            let t = read(s.join(".forced-rescan"));
            (t.len() == 25).then_some(t)
        });
        assert!(label.starts_with("@4000000"), "{}: {label:?}", suite.name);
        assert!(supervise_proto::Tai64n::parse(&label).is_some());
        let mode = std::fs::metadata(s.join(".forced-rescan")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(mode.permissions().mode() & 0o777, 0o644 & !current_umask());
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
    }
}

fn current_umask() -> u32 {
    let status = read("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Umask:"))
        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        .unwrap_or(0o022)
}

// ---------------------------------------------------------------------
// The log argument

#[test]
fn log_argument_status_area_matches_runit() {
    let log = format!("log: {}", ".".repeat(60));
    let mut shown = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        make_service(
            &s.join("a"),
            "#!/bin/sh\nwhile [ ! -e go ]; do sleep 0.02; done\necho hello-from-a >&2\nprintf 'x\\000y\\n' >&2\nexec sleep 1000\n",
        );
        let r = start(&mut sb, &suite, &["s", &log]);
        // The first dot comes with the first scan.
        wait_until("first dot", WAIT, || cmdline_arg(r.pid, 2).ends_with(b"."));
        assert_eq!(
            cmdline_arg(r.pid, 2),
            format!("log: {}", ".".repeat(60)).into_bytes(),
            "{}",
            suite.name
        );
        std::fs::write(s.join("a/go"), "").unwrap();
        wait_until("message in the status area", WAIT, || {
            cmdline_arg(r.pid, 2).ends_with(b"xy\n")
        });
        let area = cmdline_arg(r.pid, 2);
        assert_eq!(area.len(), log.len(), "{}: length kept", suite.name);
        assert_eq!(&area[..5], b"log: ");
        // Nothing reaches the real stderr.
        assert_eq!(read(&r.err), "", "{}", suite.name);
        // The whole command line keeps its shape for ps.
        let argv0 = cmdline_arg(r.pid, 0);
        assert_eq!(argv0, suite.runsvdir.as_os_str().as_bytes());
        shown.push(String::from_utf8_lossy(&area).into_owned());
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
    }
    let want = format!("log: {}hello-from-a\nxy\n", ".".repeat(60 - 16));
    assert_eq!(shown[0], want);
    if shown.len() == 2 {
        assert_eq!(shown[0], shown[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn short_log_argument_is_refused_with_runits_warnings() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        std::fs::create_dir_all(sb.join("s")).unwrap();
        let r = start(&mut sb, &suite, &["s", "123456"]);
        wait_until("warnings", WAIT, || lines(&r.err).len() >= 2);
        assert_eq!(cmdline_arg(r.pid, 2), b"123456");
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
        outcomes.push(read(&r.err));
    }
    assert_eq!(
        outcomes[0],
        "runsvdir s: warning: log must have at least seven characters.\nrunsvdir s: warning: log service disabled.\n"
    );
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

// ---------------------------------------------------------------------
// Problems: runit's warnings, retried, never a crash

#[test]
fn missing_services_directory_is_retried_until_it_appears() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let r = start(&mut sb, &suite, &["s"]);
        wait_until("two warnings (retried)", WAIT, || lines(&r.err).len() >= 2);
        assert!(
            sb.try_wait(r.pid).is_none(),
            "{}: still running",
            suite.name
        );
        make_service(&sb.join("s/a"), RUN);
        wait_started(&sb.join("s/a"), RUNIT_BOUND);
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
        outcomes.push(unique_lines(&r.err));
    }
    let want: BTreeSet<String> =
        ["runsvdir s: warning: unable to stat s: file does not exist".to_string()].into();
    assert_eq!(outcomes[0], want);
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn services_path_that_is_not_a_directory() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        std::fs::write(sb.join("s"), "").unwrap();
        let r = start(&mut sb, &suite, &["s"]);
        wait_until("warnings (retried)", WAIT, || lines(&r.err).len() >= 2);
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
        outcomes.push(unique_lines(&r.err));
    }
    let want: BTreeSet<String> =
        ["runsvdir s: warning: unable to change directory to s: not a directory".to_string()]
            .into();
    assert_eq!(outcomes[0], want);
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn runsv_missing_from_path_is_reported_and_retried() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        make_service(&sb.join("s/a"), RUN);
        let empty = sb.join("empty-bin");
        std::fs::create_dir_all(&empty).unwrap();
        let r = start_with_path(&mut sb, &suite, &["s"], empty.as_os_str());
        wait_until("retried", WAIT, || lines(&r.err).len() >= 2);
        assert!(
            sb.try_wait(r.pid).is_none(),
            "{}: still running",
            suite.name
        );
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
        outcomes.push(unique_lines(&r.err));
    }
    let want: BTreeSet<String> =
        ["runsvdir s: fatal: unable to start runsv a: file does not exist".to_string()].into();
    assert_eq!(outcomes[0], want);
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn unreadable_services_directory() {
    // As an unprivileged user: a directory that can be entered but not
    // listed. Needs setpriv and binaries the user may run.
    let Some(setpriv) = ["/usr/bin/setpriv", "/bin/setpriv"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    else {
        skip("needs setpriv (util-linux)");
        return;
    };
    if !need_root("to run runsvdir as another user") {
        return;
    }
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        use std::os::unix::fs::PermissionsExt;
        let bindir = sb.join("bin");
        std::fs::create_dir_all(&bindir).unwrap();
        for p in ["runsvdir", "runsv"] {
            let src = if p == "runsvdir" {
                suite.runsvdir.clone()
            } else {
                suite.path.join(p)
            };
            copy_program(&src, &bindir.join(p));
        }
        std::fs::set_permissions(sb.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir_all(sb.join("s")).unwrap();
        std::fs::set_permissions(sb.join("s"), std::fs::Permissions::from_mode(0o711)).unwrap();
        let err = sb.join("err");
        let mut c = sb.command(&setpriv);
        c.args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
            .arg(bindir.join("runsvdir"))
            .arg("s")
            .env("PATH", &bindir)
            .stdin(Stdio::null())
            .stderr(std::fs::File::create(&err).unwrap());
        let pid = sb.spawn(c);
        wait_until("warning", WAIT, || !read(&err).is_empty());
        wait_catching(pid, Signal::HUP, WAIT);
        kill(pid, Signal::HUP);
        let st = sb.wait_exit(pid, WAIT);
        assert_eq!(st.code(), Some(111));
        sb.assert_no_leaks();
        outcomes.push(read(&err));
    }
    assert_eq!(
        outcomes[0],
        "runsvdir s: warning: unable to open directory s: access denied\n"
    );
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn usage_texts_match_runit() {
    let Some(r) = reference() else { return };
    let ours = Suite::ours();
    let theirs = Suite::theirs(r);
    for args in [&[][..], &["-P"][..], &["--"][..], &["-Px"][..]] {
        let mut got = Vec::new();
        for suite in [&ours, &theirs] {
            let sb = Sandbox::new();
            let mut c = sb.command(&suite.runsvdir);
            c.args(args);
            let out = sb.run(c);
            let text = String::from_utf8_lossy(&out.stderr)
                .replace(suite.runsvdir.to_str().unwrap(), "PROG");
            got.push((out.status.code(), text, out.stdout));
        }
        assert_eq!(got[0], got[1], "args {args:?}");
        assert_eq!(got[0].0, Some(1));
        assert_eq!(got[0].1, "usage: PROG [-P] dir\n\n");
    }
}

// ---------------------------------------------------------------------
// Scale

/// 2,000 services (twice runit's limit): all start, one `sv status` sees
/// them all running, and SIGHUP takes everything down in bounded time.
/// Polls gently: the checks must not steal the CPU the services need.
#[test]
fn two_thousand_services() {
    const N: usize = 2000;
    let mut sb = Sandbox::new();
    let s = sb.join("s");
    for i in 0..N {
        make_service(&s.join(format!("s{i:04}")), "#!/bin/sh\nexec sleep 1000\n");
    }
    let t0 = Instant::now();
    let r = start(&mut sb, &Suite::ours(), &["s"]);
    let children = |pid: u32| -> Vec<u32> {
        read(format!("/proc/{pid}/task/{pid}/children"))
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let slow_wait = |what: &str, f: &mut dyn FnMut() -> bool| {
        let t = Instant::now();
        while !f() {
            assert!(
                t.elapsed() < Duration::from_secs(90),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    };
    slow_wait("2000 runsv", &mut || children(r.pid).len() == N);
    let runsv = children(r.pid);
    let args: Vec<String> = (0..N).map(|i| format!("./s/s{i:04}")).collect();
    let sv = bin("sv");
    let mut last = String::new();
    slow_wait("all running per sv status", &mut || {
        let mut c = sb.command(&sv);
        c.arg("status").args(&args);
        let out = sb.run(c);
        last = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success() && last.lines().filter(|l| l.starts_with("run: ")).count() == N
    });
    eprintln!("2000 services running after {:?}", t0.elapsed());
    assert_eq!(last.lines().count(), N, "{}", &last[..last.len().min(500)]);
    // No descriptor leaks: runsvdir holds a handful, whatever the count.
    let fds = std::fs::read_dir(format!("/proc/{}/fd", r.pid))
        .unwrap()
        .count();
    assert!(fds < 20, "runsvdir has {fds} descriptors open");
    let t1 = Instant::now();
    assert_eq!(hangup(&mut sb, &r), 111);
    slow_wait("every runsv gone", &mut || runsv.iter().all(|&p| !alive(p)));
    eprintln!("torn down in {:?}", t1.elapsed());
    sb.assert_no_leaks();
}

/// runsvchdir re-points the services path: runsvdir notices (runit at its
/// periodic check, ours by the watch on `current`'s directory), starts the
/// new level's services and stops the old level's.
#[test]
fn runlevel_switch_with_runsvchdir() {
    let mut outcomes = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let levels = sb.join("levels");
        make_service(&levels.join("default/a"), RUN);
        make_service(&levels.join("single/b"), RUN);
        std::os::unix::fs::symlink("default", levels.join("current")).unwrap();
        std::os::unix::fs::symlink(levels.join("current"), sb.join("service")).unwrap();
        let r = start(&mut sb, &suite, &["service"]);
        let a = wait_children(r.pid, &["a"], RUNIT_BOUND);
        wait_started(&levels.join("default/a"), WAIT);
        let mut c = sb.command(bin("runsvchdir"));
        c.arg("single").env("RUNSVDIR", &levels);
        let out = sb.run(c);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "runsvchdir: single: now current.\n"
        );
        wait_children(r.pid, &["b"], RUNIT_BOUND);
        wait_started(&levels.join("single/b"), WAIT);
        wait_until("a stopped", WAIT, || !alive(a[0].0));
        assert_eq!(hangup(&mut sb, &r), 111);
        sb.assert_no_leaks();
        outcomes.push(read(&r.err));
    }
    assert_eq!(outcomes[0], "");
    if outcomes.len() == 2 {
        assert_eq!(outcomes[0], outcomes[1], "ours vs runit 2.1.2");
    }
}

// ---------------------------------------------------------------------
// No polling: runit stats the services path every five seconds; ours
// watches everything that stat would notice (see crates/runsvdir/src/
// watch.rs) and sleeps until something happens. A reaction that comes
// within REACT of a change made right after one of runsvdir's wake-ups
// cannot have come from a five-second timer.

/// Under runit's five seconds (with a second's margin for a test thread
/// slow to see the wake-up it waits for), far over ours (milliseconds).
const REACT: Duration = Duration::from_secs(4);

/// How often a process has gone to sleep (each wake-up ends in one).
fn voluntary_switches(pid: u32) -> u64 {
    read(format!("/proc/{pid}/status"))
        .lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no voluntary_ctxt_switches for pid {pid}"))
}

/// Returns right after runsvdir went back to sleep from a wake-up, or
/// once it has slept for more than runit's interval: either way, a timer
/// of five seconds (reset by every check) is not due within REACT.
fn quiet_point(pid: u32) {
    let before = voluntary_switches(pid);
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(5500) {
        if voluntary_switches(pid) != before {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Waits until runsvdir has woken up and gone back to sleep, i.e. has
/// handled what just happened.
fn handled(pid: u32, before: u64) {
    wait_until("runsvdir to handle the event", REACT, || {
        voluntary_switches(pid) > before
    });
}

/// The runsv of service `name` under runsvdir `pid`, once there is one
/// other than `not`.
fn runsv_of(pid: u32, name: &str, not: Option<u32>) -> u32 {
    wait_for(&format!("a runsv for {name}"), REACT, || {
        runsv_children(pid)
            .into_iter()
            .find(|(p, n)| n == name && Some(*p) != not)
            .map(|(p, _)| p)
    })
}

/// Whether the mount table of this namespace changed since `fd` was
/// opened or last asked (the kernel flags /proc/self/mountinfo).
fn mounts_changed(fd: &std::fs::File) -> bool {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::new(fd, PollFlags::PRI)];
    let zero = rustix::time::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    poll(&mut fds, Some(&zero)).unwrap_or(0) > 0
}

/// An idle tree: ours does not wake up at all over more than runit's
/// interval, while runit's (measured the same way, at the same time)
/// does, which shows the count would see a periodic check.
#[test]
fn idle_runsvdir_never_wakes_up() {
    const WINDOW: Duration = Duration::from_secs(6);
    let mut runs = Vec::new();
    for suite in Suite::all() {
        let mut sb = Sandbox::new();
        let s = sb.join("s");
        for i in 0..20 {
            make_service(&s.join(format!("s{i:02}")), RUN);
        }
        // A dangling symlink and a symlinked path: more watches, still
        // no wake-ups.
        std::os::unix::fs::symlink("../nowhere/x", s.join("dangling")).unwrap();
        std::os::unix::fs::symlink("s", sb.join("service")).unwrap();
        let r = start(&mut sb, &suite, &["service"]);
        runs.push((suite, sb, r, s));
    }
    for (_, _, r, s) in &runs {
        for i in 0..20 {
            wait_started(&s.join(format!("s{i:02}")), RUNIT_BOUND);
        }
        wait_until("dangling warning", WAIT, || !read(&r.err).is_empty());
    }
    // A mount or unmount in this namespace (another program's) is a
    // reason to wake up: measure again then.
    let mounts = std::fs::File::open("/proc/self/mountinfo").unwrap();
    let mut woke = Vec::new();
    for _ in 0..3 {
        mounts_changed(&mounts);
        let before: Vec<u64> = runs
            .iter()
            .map(|(_, _, r, _)| voluntary_switches(r.pid))
            .collect();
        std::thread::sleep(WINDOW);
        woke = runs
            .iter()
            .zip(&before)
            .map(|((_, _, r, _), b)| voluntary_switches(r.pid) - b)
            .collect();
        if !mounts_changed(&mounts) {
            break;
        }
    }
    assert_eq!(woke[0], 0, "ours woke up {} times in {WINDOW:?}", woke[0]);
    if woke.len() == 2 {
        assert!(woke[1] >= 1, "runit's periodic check not seen: {woke:?}");
    }
    for (suite, mut sb, r, _) in runs {
        assert_eq!(hangup(&mut sb, &r), 111, "{}", suite.name);
        sb.assert_no_leaks();
        // runit warns again when its first scan fell in the second of
        // the directory's mtime (its one-second look again).
        let want: BTreeSet<String> =
            ["runsvdir service: warning: unable to stat dangling: file does not exist".into()]
                .into();
        assert_eq!(unique_lines(&r.err), want, "{}", suite.name);
    }
}

/// runsvchdir's swap of `current` (two renames in the directory above the
/// services directory) is acted on at once, and the moment between the
/// renames, when the path leads nowhere, gives no warning.
#[test]
fn runsvchdir_swap_is_seen_at_once() {
    let mut sb = Sandbox::new();
    let levels = sb.join("levels");
    make_service(&levels.join("default/a"), RUN);
    make_service(&levels.join("single/b"), RUN);
    std::os::unix::fs::symlink("default", levels.join("current")).unwrap();
    std::os::unix::fs::symlink(levels.join("current"), sb.join("service")).unwrap();
    let r = start(&mut sb, &Suite::ours(), &["service"]);
    wait_started(&levels.join("default/a"), WAIT);
    for (to, up, down) in [("single", "b", "a"), ("default", "a", "b")] {
        let old = runsv_of(r.pid, down, None);
        quiet_point(r.pid);
        let mut c = sb.command(bin("runsvchdir"));
        c.arg(to).env("RUNSVDIR", &levels);
        let out = sb.run(c);
        assert!(out.status.success(), "runsvchdir {to}: {out:?}");
        runsv_of(r.pid, up, None);
        wait_until(&format!("{to}: {down}'s runsv gone"), REACT, || !alive(old));
    }
    assert_stays("no warning", QUIET, || read(&r.err).is_empty());
    assert_eq!(hangup(&mut sb, &r), 111);
    sb.assert_no_leaks();
}

/// The services directory renamed away and another put in its place (and
/// back): the new one's services start at once, the old one's stop, and
/// the moment without a services directory gives no warning.
#[test]
fn services_directory_renamed_away_and_back() {
    let mut sb = Sandbox::new();
    let s = sb.join("s");
    make_service(&s.join("a"), RUN);
    make_service(&sb.join("other/b"), RUN);
    let r = start(&mut sb, &Suite::ours(), &["s"]);
    let a = runsv_of(r.pid, "a", None);
    wait_started(&s.join("a"), WAIT);
    let swap = |away: &str, into: &str| {
        quiet_point(r.pid);
        let before = voluntary_switches(r.pid);
        std::fs::rename(&s, sb.join(away)).unwrap();
        // runsvdir has found the path missing before it comes back.
        handled(r.pid, before);
        std::fs::rename(sb.join(into), &s).unwrap();
    };
    swap("away", "other");
    let b = runsv_of(r.pid, "b", None);
    wait_until("a's runsv gone", REACT, || !alive(a));
    swap("other", "away");
    let a2 = runsv_of(r.pid, "a", Some(a));
    wait_until("b's runsv gone", REACT, || !alive(b));
    assert_stays("no warning", QUIET, || read(&r.err).is_empty());
    // Gone for good: runit's warning after all, and the runsv stay.
    std::fs::rename(&s, sb.join("gone")).unwrap();
    wait_until("warning", WAIT, || !read(&r.err).is_empty());
    assert_eq!(
        unique_lines(&r.err),
        BTreeSet::from(["runsvdir s: warning: unable to stat s: file does not exist".to_string()])
    );
    assert!(alive(a2));
    assert_eq!(hangup(&mut sb, &r), 111);
    sb.assert_no_leaks();
}

/// A service symlink whose target does not exist yet: runit's warning at
/// the scan, and the service starts as soon as its target appears, even
/// two levels down (runit starts it only at a rescan some other change of
/// the directory brings).
#[test]
fn dangling_symlink_starts_when_its_target_appears() {
    let mut sb = Sandbox::new();
    let s = sb.join("s");
    make_service(&s.join("a"), RUN);
    std::os::unix::fs::symlink("../far/x", s.join("l")).unwrap();
    let r = start(&mut sb, &Suite::ours(), &["s"]);
    wait_started(&s.join("a"), WAIT);
    let warning = "runsvdir s: warning: unable to stat l: file does not exist";
    wait_until("warning", WAIT, || !read(&r.err).is_empty());
    quiet_point(r.pid);
    std::fs::create_dir(sb.join("far")).unwrap();
    make_service(&sb.join("far/x"), RUN);
    runsv_of(r.pid, "l", None);
    wait_started(&sb.join("far/x"), WAIT);
    assert_eq!(lines(&r.err), [warning]);
    assert_eq!(hangup(&mut sb, &r), 111);
    sb.assert_no_leaks();
}

/// A file system mounted over the services directory, then unmounted: its
/// services replace the old ones at once, and back. runsvdir runs in a
/// mount namespace of its own (unshare -m) so that the mount stays there.
#[test]
fn mount_over_the_services_directory_is_seen_at_once() {
    if !need_root("to mount a tmpfs") {
        return;
    }
    let mut sb = Sandbox::new();
    let s = sb.join("s");
    make_service(&s.join("a"), RUN);
    let mut try_mount = std::process::Command::new("unshare");
    try_mount
        .args([
            "-m",
            "--propagation",
            "private",
            "mount",
            "-t",
            "tmpfs",
            "tmpfs",
        ])
        .arg(&s);
    if let Err(e) = probe("make a mount namespace and mount in it", try_mount) {
        e.record();
        return;
    }
    let err = sb.join("err");
    let mut c = sb.command("unshare");
    c.args(["-m", "--propagation", "private"])
        .arg(bin("runsvdir"))
        .arg("s")
        .env("PATH", Suite::ours().path_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = sb.spawn(c);
    // unshare has exec'd runsvdir once a runsv is its child.
    let a = runsv_of(pid, "a", None);
    wait_started(&s.join("a"), WAIT);
    let nsenter = |args: &[&str]| {
        let out = std::process::Command::new("nsenter")
            .arg("-t")
            .arg(pid.to_string())
            .arg("-m")
            .args(args)
            .arg(&s)
            .output()
            .expect("run nsenter");
        assert!(out.status.success(), "nsenter {args:?}: {out:?}");
    };
    quiet_point(pid);
    nsenter(&["mount", "-t", "tmpfs", "tmpfs"]);
    wait_until("a's runsv gone", REACT, || !alive(a));
    // The tmpfs as runsvdir sees it, through its root.
    let inside = PathBuf::from(format!("/proc/{pid}/root")).join(s.strip_prefix("/").unwrap());
    make_service(&inside.join("b"), RUN);
    let b = runsv_of(pid, "b", None);
    wait_started(&inside.join("b"), WAIT);
    quiet_point(pid);
    // Lazily: b's runsv still has its directory there.
    nsenter(&["umount", "-l"]);
    runsv_of(pid, "a", Some(a));
    wait_until("b's runsv gone", REACT, || !alive(b));
    assert_eq!(read(&err), "");
    wait_catching(pid, Signal::HUP, WAIT);
    kill(pid, Signal::HUP);
    assert_eq!(sb.wait_exit(pid, WAIT).code(), Some(111));
    sb.assert_no_leaks();
}

/// Without /proc/self/mountinfo a mount over the path would go unseen, so
/// runsvdir keeps runit's periodic check: it wakes up within its interval.
/// (/proc is hidden by a tmpfs in a mount namespace of runsvdir's own.)
#[test]
fn without_the_mount_table_runsvdir_keeps_polling() {
    if !need_root("to mount over /proc") {
        return;
    }
    let mut try_mount = std::process::Command::new("unshare");
    try_mount.args([
        "-m",
        "--propagation",
        "private",
        "mount",
        "-t",
        "tmpfs",
        "tmpfs",
        "/proc",
    ]);
    if let Err(e) = probe("make a mount namespace and mount over /proc", try_mount) {
        e.record();
        return;
    }
    let mut sb = Sandbox::new();
    make_service(&sb.join("s/a"), RUN);
    let err = sb.join("err");
    let mut c = sb.command("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("mount -t tmpfs tmpfs /proc && exec \"$0\" s")
        .arg(bin("runsvdir"))
        .env("PATH", Suite::ours().path_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = sb.spawn(c);
    runsv_of(pid, "a", None);
    wait_started(&sb.join("s/a"), WAIT);
    // Past the moment it went to sleep, a wake-up must come by itself.
    quiet_point(pid);
    let before = voluntary_switches(pid);
    wait_until("a periodic wake-up", RUNIT_BOUND, || {
        voluntary_switches(pid) > before
    });
    assert_eq!(read(&err), "");
    wait_catching(pid, Signal::HUP, WAIT);
    kill(pid, Signal::HUP);
    assert_eq!(sb.wait_exit(pid, WAIT).code(), Some(111));
    sb.assert_no_leaks();
}
