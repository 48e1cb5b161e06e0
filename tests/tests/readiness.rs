//! Readiness notification end to end: services that say when they are
//! ready (s6's notification-fd, systemd's NOTIFY_SOCKET), what runsv
//! records, what sv shows and waits for; and that a service without the
//! files is byte for byte what runit makes of it.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use runit_tests::supervise_proto::exits::{ExitLog, FLAG_NEVER_READY, MAIN_EXITS};
use runit_tests::supervise_proto::svdir::send_control;
use runit_tests::supervise_proto::xstatus::{XStatus, LOG_XSTATUS, MAIN_XSTATUS};
use runit_tests::*;

/// `sv ARGS` with SVWAIT unset; returns the output and how long it took.
fn sv_timed(sb: &Sandbox, sv: &Path, args: &[&str]) -> (Output, Duration) {
    let mut c = sb.command(sv);
    c.args(args).env_remove("SVWAIT");
    let t = Instant::now();
    let out = sb.run(c);
    (out, t.elapsed())
}

fn sv_out(sb: &Sandbox, sv: &Path, args: &[&str]) -> String {
    let (out, _) = sv_timed(sb, sv, args);
    transcript(&out)
}

/// "stdout[stderr]rc=N", pids and seconds normalised.
fn transcript(out: &Output) -> String {
    normalize_sv(&format!(
        "{}[{}]rc={}\n",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code().map_or(-1, |c| c)
    ))
}

fn xstatus(dir: &Path, rel: &str) -> Option<XStatus> {
    XStatus::read(&dir.join(rel))
}

/// A normally-down service (so runsv starts it only when told) with the
/// given ./run and setting files.
fn notifying_service(sb: &Sandbox, name: &str, run: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = sb.join(name);
    make_service(&dir, run);
    std::fs::write(dir.join("down"), "").unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The transcript of one status line (DIR standing for `dir`) and exit code.
fn expect(dir: &Path, line: &str, code: i32) -> String {
    format!("{}\n[]rc={code}\n", line.replace("DIR", s(dir)))
}

#[test]
fn sv_start_waits_for_the_newline_on_notification_fd() {
    let mut sb = Sandbox::new();
    // Through chpst and an exec chain: the descriptor is inherited.
    let dir = notifying_service(
        &sb,
        "db",
        &format!(
            "#!/bin/sh\nexec {} -v sh -c 'sleep 2; echo >&3; exec sleep 1000'\n",
            bin("chpst").display()
        ),
        &[("notification-fd", "3\n")],
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let (out, took) = sv_timed(&sb, &bin("sv"), &["-w", "10", "start", s(&dir)]);
    assert_eq!(
        transcript(&out),
        expect(&dir, "ok: run: DIR: (pid N) Ns, normally down, ready Ns", 0)
    );
    assert!(
        took >= Duration::from_millis(1900),
        "sv returned after {took:?}, before the service said it was ready"
    );
    assert!(took < Duration::from_secs(8), "sv took {took:?}");
    assert_eq!(
        sv_out(&sb, &bin("sv"), &["status", s(&dir)]),
        expect(&dir, "run: DIR: (pid N) Ns, normally down, ready Ns", 0)
    );
    let x = xstatus(&dir, MAIN_XSTATUS).unwrap();
    let st = status_of(&dir).unwrap();
    assert!(x.notify && x.is_for_run(st.stamp) && x.ready.is_some());
    assert!(x.ready.unwrap() >= st.stamp);
    // svstat (daemontools' words) shows it too.
    let out = sb.run({
        let mut c = sb.command(bin("svstat"));
        c.arg(&dir);
        c
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("{}: up (pid ", s(&dir)))
            && text.contains(" seconds, normally down, ready ")
            && text.ends_with(" seconds\n"),
        "{text}"
    );
    // Already ready: up again returns at once.
    let (out, took) = sv_timed(&sb, &bin("sv"), &["-w", "10", "check", s(&dir)]);
    assert!(out.status.success() && took < Duration::from_secs(2));
    assert_eq!(
        stop_runsv(&mut sb, pid, &dir).map(|s| s.code()),
        Some(Some(0))
    );
    sb.assert_no_leaks();
}

#[test]
fn never_ready_times_out_as_runit_does() {
    let mut sb = Sandbox::new();
    let dir = notifying_service(
        &sb,
        "slow",
        "#!/bin/sh\nexec sleep 1000\n",
        &[("notification-fd", "4")],
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let (out, took) = sv_timed(&sb, &bin("sv"), &["-w", "1", "start", s(&dir)]);
    assert!(took >= Duration::from_millis(900), "{took:?}");
    let ours = transcript(&out);
    assert_eq!(
        ours,
        expect(
            &dir,
            "timeout: run: DIR: (pid N) Ns, normally down, not ready",
            1
        )
    );
    // The same wait in runit, for a ./check that never passes: the same
    // text, code and timing, without the readiness clause.
    if let Some(r) = reference() {
        let other = notifying_service(&sb, "slow-runit", "#!/bin/sh\nexec sleep 1000\n", &[]);
        write_script(other.join("check"), "#!/bin/sh\nexit 1\n");
        let rpid = start_runsv(&mut sb, &r.runit("runsv"), &other);
        let (out, _) = sv_timed(&sb, &r.runit("sv"), &["-w", "1", "start", s(&other)]);
        assert_eq!(
            transcript(&out).replace("slow-runit", "slow"),
            ours.replace(", not ready", "")
        );
        // LSB start and restart in the same situation.
        for args in [&["-w", "1", "restart"][..], &["-w", "1", "-v", "up"]] {
            let mut a = args.to_vec();
            a.push(s(&other));
            let theirs = sv_out(&sb, &r.runit("sv"), &a).replace("slow-runit", "slow");
            a.pop();
            a.push(s(&dir));
            assert_eq!(
                sv_out(&sb, &bin("sv"), &a).replace(", not ready", ""),
                theirs,
                "{args:?}"
            );
        }
        stop_runsv(&mut sb, rpid, &other);
    }
    // The service runs as usual all along.
    assert!(status_of(&dir).is_some_and(|s| s.pid != 0));
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

#[test]
fn a_restart_starts_readiness_over() {
    let mut sb = Sandbox::new();
    // First run: ready, then dies when the test says so. Later runs:
    // never ready.
    let dir = notifying_service(
        &sb,
        "flaky",
        "#!/bin/sh\nif [ ! -e ran ]; then : > ran; echo >&3; read x < die; exit 1; fi\nexec sleep 1000\n",
        &[("notification-fd", "3")],
    );
    let die = dir.join("die");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &die,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let (out, _) = sv_timed(&sb, &bin("sv"), &["-w", "10", "up", s(&dir)]);
    assert!(out.status.success());
    let first = wait_for("first run ready", WAIT, || {
        let st = status_of(&dir)?;
        let x = xstatus(&dir, MAIN_XSTATUS)?;
        (x.is_for_run(st.stamp) && x.ready.is_some()).then_some(st.pid)
    });
    std::fs::write(&die, "\n").unwrap();
    let second = wait_for("second run", WAIT, || {
        status_of(&dir)
            .filter(|s| s.pid != 0 && s.pid != first)
            .map(|s| s.pid)
    });
    assert_ne!(first, second);
    assert_eq!(
        sv_out(&sb, &bin("sv"), &["status", s(&dir)]),
        expect(&dir, "run: DIR: (pid N) Ns, normally down, not ready", 0)
    );
    let x = xstatus(&dir, MAIN_XSTATUS).unwrap();
    assert!(x.notify && x.ready.is_none());
    let (out, _) = sv_timed(&sb, &bin("sv"), &["-w", "1", "check", s(&dir)]);
    assert_eq!(out.status.code(), Some(1));
    // The exit records tell the run that was ready from the one that
    // died before it was.
    send_control(&dir, b"k").unwrap();
    wait_for("third run", WAIT, || {
        status_of(&dir)
            .filter(|s| s.pid != 0 && s.pid != second)
            .map(|s| s.pid)
    });
    let log = wait_for("two exit records", WAIT, || {
        let b = std::fs::read(dir.join(MAIN_EXITS)).ok()?;
        ExitLog::decode(&b).ok().filter(|l| l.records.len() == 2)
    });
    assert_eq!(log.records[0].flags & FLAG_NEVER_READY, 0, "{log:?}");
    assert_eq!(
        log.records[1].flags & FLAG_NEVER_READY,
        FLAG_NEVER_READY,
        "{log:?}"
    );
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

#[test]
fn a_systemd_style_daemon_becomes_ready() {
    let mut sb = Sandbox::new();
    // The message comes from a forked child: a descendant of ./run counts.
    let dir = notifying_service(
        &sb,
        "daemon",
        &format!(
            "#!/bin/sh\nexec {} sleep:500 fork send:STATUS=warming\\\\nRELOADING=1 send:READY=1\\\\nSTATUS=serving\n",
            bin("notify-test").display()
        ),
        &[("notify-socket", "")],
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let (out, took) = sv_timed(&sb, &bin("sv"), &["-w", "10", "start", s(&dir)]);
    assert_eq!(
        transcript(&out),
        expect(&dir, "ok: run: DIR: (pid N) Ns, normally down, ready Ns", 0)
    );
    assert!(took >= Duration::from_millis(450), "{took:?}");
    let x = xstatus(&dir, MAIN_XSTATUS).unwrap();
    assert_eq!(x.notify_status.as_deref(), Some("serving"));
    assert_eq!(x.notify_state, None);
    stop_runsv(&mut sb, pid, &dir);
    // The forked child is not ./run: runsv's TERM does not reach it.
    let child: u32 = read(dir.join("child-pid")).trim().parse().unwrap();
    kill(child, rustix::process::Signal::KILL);
    sb.assert_no_leaks();
}

#[test]
fn a_datagram_from_outside_the_service_is_ignored() {
    let mut sb = Sandbox::new();
    let dir = notifying_service(
        &sb,
        "guarded",
        &format!(
            "#!/bin/sh\nexec {} env:socket-name wait:go send:STATUS=checked wait:go2 send:READY=1\n",
            bin("notify-test").display()
        ),
        &[("notify-socket", "")],
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let (out, _) = sv_timed(&sb, &bin("sv"), &["up", s(&dir)]);
    assert!(out.status.success());
    let name = wait_for("socket name", WAIT, || {
        std::fs::read_to_string(dir.join("socket-name"))
            .ok()
            .filter(|s| !s.is_empty())
    });
    let name = name.strip_prefix('@').expect("an abstract address");
    // The test is no process of the service.
    let sock = UnixDatagram::unbound().unwrap();
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    sock.send_to_addr(b"READY=1\nSTATUS=forged\nMAINPID=1", &addr)
        .unwrap();
    // Datagrams are taken in order: once the service's own STATUS= is
    // recorded, the forged one has been seen and dropped.
    std::fs::write(dir.join("go"), "").unwrap();
    let x = wait_for("the service's STATUS=", WAIT, || {
        xstatus(&dir, MAIN_XSTATUS).filter(|x| x.notify_status.as_deref() == Some("checked"))
    });
    assert_eq!((x.ready, x.main_pid), (None, None));
    assert_eq!(
        sv_out(&sb, &bin("sv"), &["status", s(&dir)]),
        expect(&dir, "run: DIR: (pid N) Ns, normally down, not ready", 0)
    );
    std::fs::write(dir.join("go2"), "").unwrap();
    let (out, _) = sv_timed(&sb, &bin("sv"), &["-w", "10", "check", s(&dir)]);
    assert_eq!(
        transcript(&out),
        expect(&dir, "ok: run: DIR: (pid N) Ns, normally down, ready Ns", 0)
    );
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

#[test]
fn the_log_service_notifies_too() {
    let mut sb = Sandbox::new();
    let dir = sb.join("logged");
    make_service(&dir, "#!/bin/sh\nexec sleep 1000\n");
    write_script(
        dir.join("log/run"),
        "#!/bin/sh\necho >&5\nexec cat > /dev/null\n",
    );
    std::fs::write(dir.join("log/notification-fd"), "5").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    wait_until("log ready", WAIT, || {
        xstatus(&dir, LOG_XSTATUS).is_some_and(|x| x.ready.is_some())
    });
    wait_running(&dir);
    // The service itself did not opt in: its part is runit's.
    assert_eq!(
        sv_out(&sb, &bin("sv"), &["status", s(&dir)]),
        expect(
            &dir,
            "run: DIR: (pid N) Ns; run: log: (pid N) Ns, ready Ns",
            0
        )
    );
    assert!(!dir.join(MAIN_XSTATUS).exists());
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

#[test]
fn a_bad_setting_is_a_warning_and_the_service_runs_without_it() {
    let mut sb = Sandbox::new();
    for (i, (text, warning)) in [
        (
            "1\n",
            "notification-fd: descriptors 0, 1 and 2 are taken, ignored",
        ),
        ("three", "notification-fd: not a descriptor number, ignored"),
        (
            "99999999",
            "notification-fd: descriptor number too large, ignored",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = sb.join(format!("bad{i}"));
        make_service(&dir, "#!/bin/sh\nexec sleep 1000\n");
        std::fs::write(dir.join("notification-fd"), text).unwrap();
        let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
        wait_running(&dir);
        let expected = format!("runsv {}: warning: {warning}\n", s(&dir));
        wait_until("the warning", WAIT, || read(stderr_file(&dir)) == expected);
        assert_eq!(
            sv_out(&sb, &bin("sv"), &["status", s(&dir)]),
            expect(&dir, "run: DIR: (pid N) Ns", 0)
        );
        assert!(!dir.join(MAIN_XSTATUS).exists());
        stop_runsv(&mut sb, pid, &dir);
    }
    // A FIFO is never opened for reading in a way that could block runsv.
    let dir = sb.join("fifo");
    make_service(&dir, "#!/bin/sh\nexec sleep 1000\n");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        dir.join("notify-socket"),
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    wait_running(&dir);
    let expected = format!(
        "runsv {}: warning: notify-socket: not a regular file, ignored\n",
        s(&dir)
    );
    wait_until("the warning", WAIT, || read(stderr_file(&dir)) == expected);
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

/// What runsv leaves in supervise/ and sv prints for a plain service,
/// with everything that differs between runs masked.
fn plain_scenario(suite: &Suite) -> String {
    let mut sb = Sandbox::new();
    let dir = sb.join("plain");
    make_service(&dir, "#!/bin/sh\nexec sleep 1000\n");
    write_script(dir.join("log/run"), "#!/bin/sh\nexec cat > /dev/null\n");
    let pid = start_runsv(&mut sb, &suite.runsv, &dir);
    wait_running(&dir);
    wait_running(&dir.join("log"));
    let mut out = String::new();
    let files = |out: &mut String| {
        for sup in ["supervise", "log/supervise"] {
            let mut names: Vec<String> = std::fs::read_dir(dir.join(sup))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                // Exit records are kept for every service (a feature of
                // their own); readiness adds nothing here.
                .filter(|n| n != "exits")
                .collect();
            names.sort();
            out.push_str(&format!("{sup}: {}\n", names.join(" ")));
            out.push_str(&format!(
                "stat={:?} status={}\n",
                read(dir.join(sup).join("stat")),
                masked_status(dir.join(sup).parent().unwrap())
            ));
        }
    };
    files(&mut out);
    for args in [
        &["status"][..],
        &["-w", "3", "start"],
        &["-w", "3", "check"],
        &["-w", "5", "restart"],
        &["-v", "up"],
    ] {
        // runit's restart check compares whole seconds: begin each step
        // in a later second than the last start, so that it waits for
        // the new run in both suites.
        wait_until("a new second", WAIT, || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            status_of(&dir).is_some_and(|s| s.stamp.unix_secs() < now)
        });
        let mut a = args.to_vec();
        a.push(s(&dir));
        out.push_str(&format!("$ sv {}\n", args.join(" ")));
        out.push_str(&sv_out(&sb, &suite.sv, &a));
        wait_running(&dir);
    }
    files(&mut out);
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
    out.replace(s(&dir), "DIR")
}

#[test]
fn without_the_files_everything_is_runits() {
    let Some(r) = reference() else { return };
    let theirs = plain_scenario(&Suite::theirs(r));
    let ours = plain_scenario(&Suite::ours());
    assert_eq!(ours, theirs);
}

#[test]
fn runits_sv_reads_an_opted_in_service() {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let dir = notifying_service(
        &sb,
        "mixed",
        "#!/bin/sh\necho >&3\nexec sleep 1000\n",
        &[("notification-fd", "3")],
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let theirs = sv_out(&sb, &r.runit("sv"), &["-w", "5", "start", s(&dir)]);
    assert_eq!(
        theirs,
        expect(&dir, "ok: run: DIR: (pid N) Ns, normally down", 0)
    );
    wait_until("ready", WAIT, || {
        xstatus(&dir, MAIN_XSTATUS).is_some_and(|x| x.ready.is_some())
    });
    let theirs = sv_out(&sb, &r.runit("sv"), &["status", s(&dir)]);
    let ours = sv_out(&sb, &bin("sv"), &["status", s(&dir)]);
    assert_eq!(
        theirs,
        expect(&dir, "run: DIR: (pid N) Ns, normally down", 0)
    );
    assert_eq!(ours.replace(", ready Ns", ""), theirs);
    assert_ne!(ours, theirs);
    // daemontools' svstat too.
    let out = sb.run({
        let mut c = sb.command(r.daemontools("svstat"));
        c.arg(&dir);
        c
    });
    assert!(String::from_utf8_lossy(&out.stdout).contains(": up (pid "));
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

/// PostgreSQL as Debian builds it (with libsystemd) sends READY=1 once it
/// accepts connections: the database of docs/readiness.md, for real.
#[test]
fn postgresql_says_when_it_accepts_connections() {
    let Some(bindir) = std::fs::read_dir("/usr/lib/postgresql").ok().and_then(|d| {
        d.filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("postgres").exists())
    }) else {
        skip("PostgreSQL is not installed (apt-get install -y postgresql-15)");
        return;
    };
    let mut sb = Sandbox::new();
    let root = rustix::process::geteuid().is_root();
    // postgres refuses to run as root: as root, run it as postgres.
    let as_user = if root {
        format!("{} -u postgres ", bin("chpst").display())
    } else {
        String::new()
    };
    let pg = sb.join("pg");
    std::fs::create_dir(&pg).unwrap();
    if root {
        std::fs::set_permissions(
            sb.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let st = sb.run({
            let mut c = sb.command("chown");
            c.args(["postgres:", s(&pg)]);
            c
        });
        assert!(st.status.success());
    }
    let init = sb.run({
        let mut c = sb.command("sh");
        c.arg("-c").arg(format!(
            "{as_user}{}/initdb -D {}/data -A trust -U postgres --no-sync",
            bindir.display(),
            s(&pg)
        ));
        c
    });
    assert!(
        init.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let dir = notifying_service(
        &sb,
        "db",
        &format!(
            "#!/bin/sh\nexec 2>&1\nexec {as_user}{}/postgres -D {pg}/data -k {pg} -c listen_addresses= -p 5499\n",
            bindir.display(),
            pg = s(&pg)
        ),
        &[("notify-socket", "")],
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    let (out, _) = sv_timed(&sb, &bin("sv"), &["-w", "30", "start", s(&dir)]);
    assert_eq!(
        transcript(&out),
        expect(&dir, "ok: run: DIR: (pid N) Ns, normally down, ready Ns", 0)
    );
    // Ready means ready: the very next client gets in.
    let isready = sb.run({
        let mut c = sb.command(bindir.join("pg_isready"));
        c.args(["-h", s(&pg), "-p", "5499"]);
        c
    });
    assert!(
        isready.status.success(),
        "{}",
        String::from_utf8_lossy(&isready.stdout)
    );
    let x = xstatus(&dir, MAIN_XSTATUS).unwrap();
    assert!(x.ready.is_some());
    let (out, _) = sv_timed(&sb, &bin("sv"), &["-w", "30", "stop", s(&dir)]);
    assert!(out.status.success(), "{}", transcript(&out));
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}

/// runsv rings supervise/wake after each xstatus change, but never through
/// a symlink put in the FIFO's place (runsv runs as root).
#[test]
fn the_wake_fifo_is_never_followed_through_a_symlink() {
    let mut sb = Sandbox::new();
    let dir = notifying_service(
        &sb,
        "w",
        "#!/bin/sh\nread x < go\necho >&3\nexec sleep 1000\n",
        &[("notification-fd", "3")],
    );
    let go = dir.join("go");
    rustix::fs::mkfifoat(rustix::fs::CWD, &go, rustix::fs::Mode::from_raw_mode(0o600)).unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &dir);
    send_control(&dir, b"u").unwrap();
    let wake = dir.join("supervise/wake");
    wait_until("supervise/wake made", WAIT, || wake.exists());
    // A reader holds the target open, so a write through the link would
    // succeed if runsv followed it.
    let target = sb.join("target-fifo");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &target,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .unwrap();
    let reader = rustix::fs::open(
        &target,
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::NONBLOCK,
        rustix::fs::Mode::empty(),
    )
    .unwrap();
    std::fs::remove_file(&wake).unwrap();
    std::os::unix::fs::symlink(&target, &wake).unwrap();
    std::fs::write(&go, "\n").unwrap();
    wait_until("ready", WAIT, || {
        xstatus(&dir, MAIN_XSTATUS).is_some_and(|x| x.ready.is_some())
    });
    // Nothing to read: end of file (no writer) or would block, never a byte.
    let mut buf = [0u8; 8];
    let r = rustix::io::read(&reader, &mut buf);
    assert!(
        matches!(r, Ok(0) | Err(rustix::io::Errno::AGAIN)),
        "runsv wrote through the symlink: {r:?}"
    );
    stop_runsv(&mut sb, pid, &dir);
    sb.assert_no_leaks();
}
