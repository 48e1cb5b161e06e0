//! Stopping services for real (docs/stopping.md): the stop settings in the
//! service directory (down-signal, timeout-kill, timeout-finish,
//! stop-group, cgroup), checked by pid and /proc. Without them runsv does
//! what runit's does, which the first test shows against the reference.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use runit_tests::*;
use supervise_proto::xstatus::XStatus;

/// ./run starts a grandchild that ignores TERM (it writes its pid to
/// `OUT/grandchild`), then becomes `sleep`.
fn grandchild_run(out: &Path) -> String {
    format!(
        "#!/bin/sh\nsh -c 'trap \"\" TERM; echo $$ > {}/grandchild.new; \
         mv {0}/grandchild.new {0}/grandchild; exec sleep 1000' &\nexec sleep 1000\n",
        out.display()
    )
}

/// Waits for a pid file the service writes (by rename, so never half
/// written).
fn pid_file(path: &Path) -> u32 {
    wait_for(&format!("{}", path.display()), WAIT, || {
        read(path).trim().parse().ok()
    })
}

/// What a script wrote to `path` (waiting for it: ./finish may still be
/// on its way), without the newline.
fn reported(path: &Path) -> String {
    wait_for(&format!("{}", path.display()), WAIT, || {
        Some(read(path)).filter(|t| t.ends_with('\n'))
    })
    .trim_end()
    .to_string()
}

/// The process group and session of `pid`, from /proc/PID/stat.
fn pgid_sid(pid: u32) -> (u32, u32) {
    let s = read(format!("/proc/{pid}/stat"));
    let f: Vec<u32> = s
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(2)
        .take(2)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    (f[0], f[1])
}

/// `sv ARGS` with the given sv binary; returns its exit code.
fn sv(sb: &Sandbox, sv: &Path, args: &[&str]) -> Option<i32> {
    let mut c = sb.command(sv);
    c.args(args);
    sb.run(c).status.code()
}

fn xstatus(dir: &Path) -> XStatus {
    XStatus::decode(&std::fs::read(dir.join("supervise/xstatus")).unwrap_or_default())
}

/// Names in a directory, sorted (to show runsv wrote nothing new there).
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A sandbox with a service `svc` and a directory `out` for what the
/// scripts report.
fn service(sb: &Sandbox, run: impl FnOnce(&Path) -> String) -> (PathBuf, PathBuf) {
    let out = sb.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let d = sb.join("svc");
    make_service(&d, &run(&out));
    (d, out)
}

#[test]
fn without_settings_a_term_ignoring_grandchild_survives_down_as_with_runit() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    for suite in suites {
        let mut sb = Sandbox::new();
        let (d, out) = service(&sb, grandchild_run);
        let runsv = start_runsv(&mut sb, &suite.runsv, &d);
        let main = wait_running(&d);
        let gc = pid_file(&out.join("grandchild"));
        assert_eq!(
            pgid_sid(main).0,
            pgid_sid(runsv).0,
            "{}: runsv's group",
            suite.name
        );
        assert_eq!(sv(&sb, &suite.sv, &["down", d.to_str().unwrap()]), Some(0));
        wait_down(&d);
        assert!(!alive(main));
        assert!(alive(gc), "{}: the grandchild outlives ./run", suite.name);
        assert!(
            !d.join("supervise/xstatus").exists(),
            "{}: no xstatus without settings",
            suite.name
        );
        kill(gc, rustix::process::Signal::KILL);
        stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
        sb.assert_no_leaks();
    }
}

#[test]
fn group_stop_leaves_nothing_of_the_service() {
    for (content, session) in [("", false), ("session\n", true)] {
        let mut sb = Sandbox::new();
        let (d, out) = service(&sb, grandchild_run);
        std::fs::write(d.join("stop-group"), content).unwrap();
        let before = names(&d);
        let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
        let main = wait_running(&d);
        let gc = pid_file(&out.join("grandchild"));
        let (pgid, sid) = pgid_sid(main);
        assert_eq!(pgid, main, "./run leads its own group");
        assert_eq!(pgid_sid(gc).0, main, "the grandchild is in it");
        assert_eq!(sid == main, session, "own session only when asked");
        let x = xstatus(&d);
        assert_eq!(x.pgid, Some(main));
        let want = if session { "session" } else { "group" };
        assert!(x
            .settings
            .contains(&("stop-group".to_string(), want.to_string())));
        assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
        wait_down(&d);
        wait_until("the grandchild to be gone", WAIT, || !alive(gc));
        stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
        // Settings are read, never written: the service directory holds
        // what it held (supervise/ aside, which existed before as well).
        let mut after = names(&d);
        after.retain(|n| n != "supervise");
        let mut before = before;
        before.retain(|n| n != "supervise");
        assert_eq!(before, after);
        sb.assert_no_leaks();
    }
}

/// A cgroup of the test's own under the cgroup2 mount, removed on drop
/// (with the service cgroups runsv made in it).
struct TestCgroup {
    dir: PathBuf,
    /// Its path within the hierarchy, for the `cgroup` file.
    name: String,
}

impl TestCgroup {
    /// None (after a loud note) where cgroup v2 cannot be delegated here.
    fn new(tag: &str) -> Option<TestCgroup> {
        let skip = |why: String| {
            let msg = format!("CGROUP V2 NOT USABLE: cgroup test skipped ({why})");
            if std::env::var_os("RUNIT_RS_REQUIRE_CGROUP").is_some_and(|v| v == "1") {
                panic!("{msg}");
            }
            eprintln!("\n*** {msg} ***\n");
            None
        };
        let info = read("/proc/self/mountinfo");
        let Some(mount) = info.lines().find_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            (right.split(' ').next()? == "cgroup2").then(|| left.split(' ').nth(4))?
        }) else {
            return skip("no cgroup2 mount".into());
        };
        let own = read("/proc/self/cgroup");
        let own = own
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .unwrap_or("/");
        let name = format!("{}/runit-rs-test-{tag}", own.trim_end_matches('/'));
        let dir = PathBuf::from(format!("{mount}{name}"));
        if let Err(e) = std::fs::create_dir(&dir) {
            return skip(format!("mkdir {}: {e}", dir.display()));
        }
        let cg = TestCgroup { dir, name };
        if !cg.dir.join("cgroup.kill").exists() {
            return skip("no cgroup.kill (kernel before 5.14)".into());
        }
        // A process must be able to move itself in (runsv's children do).
        let joined = std::process::Command::new("sh")
            .arg("-c")
            .arg("echo 0 > \"$1/cgroup.procs\"")
            .arg("sh")
            .arg(&cg.dir)
            .status()
            .is_ok_and(|st| st.success());
        if !joined {
            return skip(format!("cannot join {}", cg.dir.display()));
        }
        Some(cg)
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                if e.path().is_dir() {
                    let _ = std::fs::write(e.path().join("cgroup.kill"), "1");
                    let p = e.path();
                    wait_until("a test cgroup to empty", WAIT, || {
                        read(p.join("cgroup.events")).contains("populated 0")
                    });
                    let _ = std::fs::remove_dir(e.path());
                }
            }
        }
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// ./run starts a daemon that leaves its session and group (setsid -f:
/// fork, setsid, exec), which ignores TERM and writes its pid to
/// `OUT/daemon`, then becomes `sleep`.
fn daemon_run(out: &Path) -> String {
    format!(
        "#!/bin/sh\nsetsid -f sh -c 'trap \"\" TERM; echo $$ > {0}/daemon.new; \
         mv {0}/daemon.new {0}/daemon; exec sleep 1000' </dev/null\nexec sleep 1000\n",
        out.display()
    )
}

#[test]
fn cgroup_stop_leaves_nothing_of_a_double_forked_daemon() {
    let mut sb = Sandbox::new();
    let Some(cg) = TestCgroup::new(&sb.tag().replace(['/', ' '], "-")) else {
        return;
    };
    let (d, out) = service(&sb, daemon_run);
    std::fs::write(d.join("cgroup"), format!("{}\n", cg.name)).unwrap();
    // The group stop alone would not reach the daemon.
    std::fs::write(d.join("stop-group"), "").unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    let daemon = pid_file(&out.join("daemon"));
    let (pgid, sid) = pgid_sid(daemon);
    assert_ne!(pgid, main, "the daemon left ./run's group");
    assert_ne!(sid, pgid_sid(main).1, "and its session");
    let want = format!("{}/svc", cg.name);
    assert_eq!(
        read(format!("/proc/{daemon}/cgroup"))
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .unwrap_or(""),
        want,
        "the daemon is in the service's cgroup"
    );
    assert_eq!(xstatus(&d).cgroup.as_deref(), Some(want.as_str()));
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    wait_down(&d);
    // Down means the cgroup is empty: the daemon is gone already.
    assert!(!alive(daemon), "the daemon died with the service");
    assert!(read(cg.dir.join("svc/cgroup.events")).contains("populated 0"));
    // It comes back up in the same cgroup, and an exit removes it.
    assert_eq!(sv(&sb, &bin("sv"), &["up", d.to_str().unwrap()]), Some(0));
    wait_running(&d);
    let again = wait_for("a new daemon", WAIT, || {
        read(out.join("daemon"))
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|p| *p != daemon)
    });
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    assert!(!alive(again));
    assert!(
        !cg.dir.join("svc").exists(),
        "runsv removed its cgroup at exit"
    );
    sb.assert_no_leaks();
}

#[test]
fn cgroup_setting_without_cgroup2_is_a_warning_and_the_service_runs() {
    let mut sb = Sandbox::new();
    let (d, _) = service(&sb, |_| "#!/bin/sh\nexec sleep 1000\n".into());
    // A parent that does not exist (runsv creates only the service's
    // own cgroup), or no cgroup2 at all: either way a warning.
    let parent = format!("/runit-rs-test-absent-{}/parent", sb.tag());
    std::fs::write(d.join("cgroup"), format!("{parent}\n")).unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    let err = read(stderr_file(&d));
    assert!(
        err.contains("warning: cgroup: ") && err.contains("; running without a cgroup\n"),
        "{err}"
    );
    assert!(alive(main));
    assert_eq!(xstatus(&d).cgroup, None);
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

const IGNORE_TERM: &str = "#!/bin/sh\ntrap '' TERM\nexec sleep 1000\n";

/// A ./finish that reports its arguments to `OUT/finish`.
fn report_finish(d: &Path, out: &Path) {
    write_script(
        d.join("finish"),
        &format!("#!/bin/sh\necho \"$1 $2\" > {}/finish\n", out.display()),
    );
}

#[test]
fn kill_timeout_kills_a_service_ignoring_term_even_with_sv_not_waiting() {
    let mut sb = Sandbox::new();
    let (d, out) = service(&sb, |_| IGNORE_TERM.into());
    std::fs::write(d.join("timeout-kill"), "300\n").unwrap();
    report_finish(&d, &out);
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    wait_until("TERM ignored", WAIT, || {
        read(format!("/proc/{main}/status"))
            .lines()
            .find_map(|l| l.strip_prefix("SigIgn:"))
            .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
            .is_some_and(|m| m & (1 << 14) != 0)
    });
    let t0 = Instant::now();
    // sv returns at once (no -v): runsv kills on its own.
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    wait_until("./run to be gone", WAIT, || !alive(main));
    let took = t0.elapsed();
    eprintln!("timeout-kill 300: gone {took:?} after sv down");
    assert!(
        took >= Duration::from_millis(300),
        "killed before the timeout: {took:?}"
    );
    assert!(
        took < Duration::from_millis(300 + 1700),
        "killed late: {took:?}"
    );
    assert_eq!(reported(&out.join("finish")), "-1 9", "KILL ended it");
    wait_down(&d);
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

#[test]
fn a_pending_kill_shows_in_xstatus_and_goes_when_the_service_does() {
    let mut sb = Sandbox::new();
    let (d, _) = service(&sb, |_| IGNORE_TERM.into());
    std::fs::write(d.join("timeout-kill"), "60000").unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    let x = xstatus(&d);
    assert_eq!(x.kill_at, None);
    assert_eq!(x.started, status_of(&d).map(|s| s.stamp));
    assert!(x
        .settings
        .contains(&("timeout-kill".to_string(), "60000".to_string())));
    let before = supervise_proto::Tai64n::now();
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    let at = wait_for("kill-at in xstatus", WAIT, || xstatus(&d).kill_at);
    let secs = at.unix_secs() as i64 - before.unix_secs() as i64;
    assert!((59..=61).contains(&secs), "kill-at {secs} s ahead");
    // The machine-readable status shows the deadline and the settings.
    let o = std::process::Command::new(bin("sv"))
        .args(["-o", "kill_at,kill_at_tai64n,settings,cgroup", "status"])
        .arg(&d)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("{} {at} timeout-kill=60000 -\n", at.unix_secs())
    );
    // `sv kill` ends it sooner; the deadline is dropped with it.
    assert_eq!(sv(&sb, &bin("sv"), &["kill", d.to_str().unwrap()]), Some(0));
    wait_down(&d);
    assert!(!alive(main));
    wait_until("kill-at gone", WAIT, || xstatus(&d).kill_at.is_none());
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

#[test]
fn a_hanging_finish_is_killed_after_timeout_finish_and_the_state_moves_on() {
    let mut sb = Sandbox::new();
    let (d, out) = service(&sb, |_| "#!/bin/sh\nexec sleep 1000\n".into());
    write_script(
        d.join("finish"),
        &format!(
            "#!/bin/sh\necho $$ > {0}/finish.new; mv {0}/finish.new {0}/finish\nexec sleep 1000\n",
            out.display()
        ),
    );
    std::fs::write(d.join("timeout-finish"), "200\n").unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    let t0 = Instant::now();
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    let fin = pid_file(&out.join("finish"));
    wait_until("./finish to be gone", WAIT, || !alive(fin));
    let took = t0.elapsed();
    eprintln!("timeout-finish 200: ./finish gone {took:?} after sv down");
    assert!(took >= Duration::from_millis(200), "{took:?}");
    wait_down(&d);
    // Wanted up again, it runs again: the state machine moved on.
    assert_eq!(sv(&sb, &bin("sv"), &["up", d.to_str().unwrap()]), Some(0));
    wait_running(&d);
    // x stops ./run, and the next ./finish hangs as well: killed again,
    // so runsv gets to exit.
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

#[test]
fn down_signal_is_what_the_service_receives() {
    let mut sb = Sandbox::new();
    let (d, out) = service(&sb, |out| {
        format!(
            "#!/bin/sh\ntrap 'echo QUIT > {0}/got; kill $!; exit 0' QUIT\n\
             trap 'echo TERM > {0}/got; kill $!; exit 0' TERM\nsleep 1000 &\nwait\n",
            out.display()
        )
    });
    std::fs::write(d.join("down-signal"), "SIGQUIT\n").unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    wait_catching(main, rustix::process::Signal::QUIT, WAIT);
    wait_catching(main, rustix::process::Signal::TERM, WAIT);
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    wait_down(&d);
    assert_eq!(reported(&out.join("got")), "QUIT");
    assert!(xstatus(&d)
        .settings
        .contains(&("down-signal".to_string(), "QUIT".to_string())));
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

#[test]
fn bad_settings_are_warnings_and_runit_behaviour_stays() {
    let mut sb = Sandbox::new();
    let (d, out) = service(&sb, |out| {
        format!(
            "#!/bin/sh\ntrap 'echo TERM > {0}/got; kill $!; exit 0' TERM\nsleep 1000 &\nwait\n",
            out.display()
        )
    });
    std::fs::write(d.join("down-signal"), "BOGUS\n").unwrap();
    std::fs::write(d.join("timeout-kill"), "3s\n").unwrap();
    std::fs::write(d.join("stop-group"), "always\n").unwrap();
    // A FIFO is never opened for reading (it would block runsv).
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        d.join("timeout-finish"),
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    let err = read(stderr_file(&d));
    let name = d.display();
    for w in [
        format!("runsv {name}: warning: ignoring down-signal: not a signal: BOGUS\n"),
        format!("runsv {name}: warning: ignoring timeout-kill: not milliseconds: 3s\n"),
        format!("runsv {name}: warning: ignoring stop-group: neither group nor session: always\n"),
        format!("runsv {name}: warning: ignoring timeout-finish: not a regular file\n"),
    ] {
        assert!(err.contains(&w), "{w:?} in {err:?}");
    }
    assert_ne!(pgid_sid(main).0, main, "no group of its own");
    wait_catching(main, rustix::process::Signal::TERM, WAIT);
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    wait_down(&d);
    assert_eq!(reported(&out.join("got")), "TERM");
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

#[test]
fn the_log_service_reads_its_own_settings_in_log() {
    let mut sb = Sandbox::new();
    let (d, _) = service(&sb, |_| "#!/bin/sh\nexec sleep 1000\n".into());
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    std::fs::write(d.join("log/stop-group"), "").unwrap();
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let main = wait_running(&d);
    let log = wait_running(&d.join("log"));
    assert_eq!(pgid_sid(log).0, log, "log/run leads its own group");
    assert_ne!(pgid_sid(main).0, main, "./run does not");
    let x = XStatus::decode(&std::fs::read(d.join("log/supervise/xstatus")).unwrap());
    assert_eq!(x.pgid, Some(log));
    assert!(!d.join("supervise/xstatus").exists());
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}

/// The settings are read from a service directory mounted read-only (with
/// supervise/ a symlink to writable space, as on a read-only root): runsv
/// writes nothing there and warns of nothing, and the settings act.
#[test]
fn a_read_only_service_directory_works_with_settings() {
    if !need_root("a read-only bind mount in a mount namespace") {
        return;
    }
    let mut sb = Sandbox::new();
    let (d, out) = service(&sb, |out| {
        format!(
            "#!/bin/sh\nexec 2>/dev/null\ntrap 'echo QUIT > {}/sig.new; mv {0}/sig.new {0}/sig; exit 0' QUIT\n\
             while :; do sleep 0.1; done\n",
            out.display()
        )
    });
    std::fs::write(d.join("down-signal"), "QUIT\n").unwrap();
    std::fs::write(d.join("timeout-kill"), "5000\n").unwrap();
    std::fs::write(d.join("stop-group"), "").unwrap();
    let sup = sb.join("supervise-space");
    std::fs::create_dir_all(&sup).unwrap();
    std::os::unix::fs::symlink(&sup, d.join("supervise")).unwrap();
    let before = names(&d);
    // runsv in its own mount namespace, where the service directory is a
    // read-only bind mount of itself (unshare execs in the same process,
    // so the pid is runsv's).
    let wrapper = sb.join("ro-runsv");
    write_script(
        &wrapper,
        &format!(
            "#!/bin/sh\nexec unshare --mount --propagation private sh -c \
             'mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" && exec {} \"$1\"' ro-runsv \"$1\"\n",
            bin("runsv").display()
        ),
    );
    let runsv = start_runsv(&mut sb, &wrapper, &d);
    let mounts = read(format!("/proc/{runsv}/mountinfo"));
    let dir = d.to_str().unwrap();
    assert!(
        mounts.lines().any(|l| l.split(' ').nth(4) == Some(dir)
            && l.split(' ').nth(5).is_some_and(|o| o.starts_with("ro"))),
        "the service directory is read-only for runsv:\n{mounts}"
    );
    let main = wait_running(&d);
    assert_eq!(
        pgid_sid(main).0,
        main,
        "stop-group read from the read-only directory"
    );
    assert_eq!(sv(&sb, &bin("sv"), &["down", dir]), Some(0));
    assert_eq!(reported(&out.join("sig")), "QUIT");
    wait_down(&d);
    assert_eq!(
        names(&d),
        before,
        "nothing written in the service directory"
    );
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    // The service's own stderr is /dev/null: what is here is runsv's.
    assert_eq!(read(stderr_file(&d)), "", "runsv warned");
    sb.assert_no_leaks();
}

/// runsv looks up absent setting files again only when the service
/// directory changed (docs/stopping.md): one added while ./run runs
/// counts from the next start, the cache notwithstanding.
#[test]
fn a_setting_added_later_counts_from_the_next_start() {
    let mut sb = Sandbox::new();
    let (d, out) = service(&sb, |out| {
        format!(
            "#!/bin/sh\ntrap 'echo QUIT > {0}/got; kill $!; exit 0' QUIT\n\
             trap 'echo TERM > {0}/got; kill $!; exit 0' TERM\n\
             trap 'kill $!; exit 0' USR1\nsleep 1000 &\nwait\n",
            out.display()
        )
    });
    let runsv = start_runsv(&mut sb, &bin("runsv"), &d);
    let first = wait_running(&d);
    // A directory changed in the last 100 ms is not trusted: let it
    // settle (and ./run pass its first second, so the restart comes at
    // once), then restart, which finds the settings absent and keeps that.
    wait_catching(first, rustix::process::Signal::USR1, WAIT);
    std::thread::sleep(Duration::from_millis(1200));
    kill(first, rustix::process::Signal::USR1);
    wait_status(&d, "the second ./run", |s| s.pid != 0 && s.pid != first);
    let second = wait_running(&d);
    wait_catching(second, rustix::process::Signal::USR1, WAIT);
    std::fs::write(d.join("down-signal"), "SIGQUIT\n").unwrap();
    kill(second, rustix::process::Signal::USR1);
    wait_status(&d, "the third ./run", |s| s.pid != 0 && s.pid != second);
    let third = wait_running(&d);
    wait_catching(third, rustix::process::Signal::QUIT, WAIT);
    wait_catching(third, rustix::process::Signal::TERM, WAIT);
    assert_eq!(sv(&sb, &bin("sv"), &["down", d.to_str().unwrap()]), Some(0));
    wait_down(&d);
    assert_eq!(reported(&out.join("got")), "QUIT");
    stop_runsv(&mut sb, runsv, &d).expect("runsv exits");
    sb.assert_no_leaks();
}
