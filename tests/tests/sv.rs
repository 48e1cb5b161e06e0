//! sv end to end: every command against live runsv processes, the exact
//! texts and exit codes, LSB mode, and the differential scenario run with
//! runit's binaries, ours, and each controlling the other.

use std::path::{Path, PathBuf};
use std::process::Command;

use runit_tests::*;

/// Runs `sv ARGS` in `cwd` with SVDIR; returns "stdout[stderr]rc=N".
fn sv(sb: &Sandbox, sv: &Path, svdir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let mut c = sb.command(sv);
    c.args(args).env("SVDIR", svdir).env_remove("SVWAIT");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = sb.run(c);
    format!(
        "{}{}rc={}\n",
        String::from_utf8_lossy(&out.stdout),
        if out.stderr.is_empty() {
            String::new()
        } else {
            format!("[stderr] {}", String::from_utf8_lossy(&out.stderr))
        },
        out.status
            .code()
            .map_or("signal".to_string(), |c| c.to_string())
    )
}

struct Tree {
    root: PathBuf,
    a: PathBuf,
    b: PathBuf,
}

/// Service `a`: sleeps, has a log and a finish script. Service `b`: ignores
/// TERM and is normally down.
fn tree(sb: &Sandbox) -> Tree {
    let root = sb.join("service");
    let a = root.join("a");
    make_service(&a, "#!/bin/sh\necho start\nexec sleep 1000\n");
    write_script(a.join("finish"), "#!/bin/sh\necho finish $1 $2\n");
    write_script(a.join("log/run"), "#!/bin/sh\nexec cat >> out\n");
    let b = root.join("b");
    make_service(
        &b,
        "#!/bin/sh\ntrap '' TERM\necho ready > ready\nwhile :; do sleep 0.05; done\n",
    );
    std::fs::write(b.join("down"), "").unwrap();
    Tree { root, a, b }
}

/// The differential scenario. Each step waits for a stable state so the
/// transcript does not depend on timing; pids and seconds are normalised.
fn scenario(control: &Suite, supervise: &Suite) -> String {
    let mut sb = Sandbox::new();
    let t = tree(&sb);
    let pa = start_runsv(&mut sb, &supervise.runsv, &t.a);
    let pb = start_runsv(&mut sb, &supervise.runsv, &t.b);
    wait_running(&t.a);
    wait_running(&t.a.join("log"));
    wait_status(&t.b, "b initial", |s| s.pid == 0);
    let mut log = String::new();
    // Status checks compare whole seconds (as runit's do): start each
    // waiting step in a later second than the last change, so the outcome
    // does not depend on where in a second the step happens to fall.
    let settle = |d: &Path| {
        wait_until("a new second", WAIT, || {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            // An unreadable status is no answer: wait for one that says.
            status_of(d).is_some_and(|s| s.stamp.unix_secs() < now)
        })
    };
    let step = |log: &mut String, args: &[&str], sb: &Sandbox| {
        let out = sv(sb, &control.sv, &t.root, &[], args);
        log.push_str(&format!("$ sv {}\n{}", args.join(" "), normalize_sv(&out)));
    };
    let snap = |log: &mut String, d: &Path| {
        log.push_str(&format!(
            "  [{}] {} stat={:?} pidfile={}\n",
            d.file_name().unwrap().to_string_lossy(),
            masked_status(d),
            read(d.join("supervise/stat")),
            if read(d.join("supervise/pid")).is_empty() {
                "empty"
            } else {
                "pid"
            }
        ));
    };
    step(
        &mut log,
        &["status", "a", "b", "./nonexistent", "/nonexistent"],
        &sb,
    );
    snap(&mut log, &t.a);
    snap(&mut log, &t.b);
    step(&mut log, &["pause", "a"], &sb);
    wait_status(&t.a, "paused", |s| s.paused);
    step(&mut log, &["status", "a"], &sb);
    snap(&mut log, &t.a);
    settle(&t.a);
    step(&mut log, &["-v", "cont", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["-v", "down", "a"], &sb);
    snap(&mut log, &t.a);
    step(&mut log, &["status", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["-v", "once", "a"], &sb);
    snap(&mut log, &t.a);
    settle(&t.b);
    step(&mut log, &["-v", "up", "b"], &sb);
    wait_until("b ready", WAIT, || t.b.join("ready").exists());
    settle(&t.b);
    step(&mut log, &["-w", "1", "down", "b"], &sb);
    snap(&mut log, &t.b);
    step(&mut log, &["status", "b"], &sb);
    settle(&t.b);
    step(&mut log, &["-w", "1", "force-stop", "b"], &sb);
    wait_down(&t.b);
    snap(&mut log, &t.b);
    // `sv -v up` on a running service is done at once; which "want" its
    // line shows would depend on the supervisor's speed, so let the want
    // change land first.
    step(&mut log, &["up", "a"], &sb);
    wait_status(&t.a, "want up", |s| s.wants_up());
    step(&mut log, &["-v", "up", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["restart", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["-v", "term", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["check", "a"], &sb);
    step(&mut log, &["hup", "a"], &sb);
    // HUP ends sleep: ./finish runs and ./run comes back.
    wait_until("a back up", WAIT, || {
        status_of(&t.a).is_some_and(|s| s.state == supervise_proto::RunState::Run)
            && read(t.a.join("log/out")).matches("finish").count() >= 4
    });
    settle(&t.a);
    step(&mut log, &["stop", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["start", "a"], &sb);
    settle(&t.a);
    step(&mut log, &["try-restart", "a"], &sb);
    // sv counts a restart stamped in the second it started as done, so a
    // clock stepped back (a fresh VM syncing its time) lets it answer
    // before ./run is back; `x` must find the new ./run, not ./finish.
    wait_until("a restarted", WAIT, || {
        status_of(&t.a).is_some_and(|s| s.state == supervise_proto::RunState::Run)
            && read(t.a.join("log/out")).matches("start").count() >= 7
    });
    step(&mut log, &["status", "./service/a/", "service/a"], &sb);
    step(&mut log, &["-v", "exit", "a"], &sb);
    step(&mut log, &["-v", "exit", "b"], &sb);
    wait_until("runsv a gone", WAIT, || sb.try_wait(pa).is_some());
    wait_until("runsv b gone", WAIT, || sb.try_wait(pb).is_some());
    step(&mut log, &["status", "a", "b"], &sb);
    step(&mut log, &["exit", "a"], &sb);
    step(&mut log, &["up", "a"], &sb);
    log.push_str(&format!("a/log/out:\n{}", read(t.a.join("log/out"))));
    sb.assert_no_leaks();
    log
}

#[test]
fn differential_scenario_against_runit() {
    let Some(r) = reference() else { return };
    let theirs = Suite::theirs(r);
    let ours = Suite::ours();
    let pairs = [
        (theirs.clone(), theirs.clone()),
        (ours.clone(), ours.clone()),
        (theirs.clone(), ours.clone()),
        (ours.clone(), theirs.clone()),
    ];
    let handles: Vec<_> = pairs
        .into_iter()
        .map(|(c, s)| {
            std::thread::spawn(move || {
                (format!("sv={} runsv={}", c.name, s.name), scenario(&c, &s))
            })
        })
        .collect();
    let results: Vec<(String, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (base_name, base) = &results[0];
    for (name, t) in &results[1..] {
        if t != base {
            let diff: Vec<String> = base
                .lines()
                .zip(t.lines())
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("- {a}\n+ {b}"))
                .collect();
            panic!(
                "{name} differs from {base_name}:\n{}\n\n{name}:\n{t}\n\n{base_name}:\n{base}",
                diff.join("\n")
            );
        }
    }
    // Sanity: the transcript says what we think it says.
    assert!(base.contains("ok: run: a: (pid N) Ns"), "{base}");
    assert!(base.contains("timeout: run: b: (pid N) Ns, normally down, want down, got TERM"));
    assert!(base.contains("kill: run: b: (pid N) Ns, normally down, want down, got TERM"));
    assert!(base.contains(
        "fail: ./nonexistent: unable to change to service directory: file does not exist"
    ));
    assert!(base.contains("ok: a: runsv not running"));
}

#[test]
fn usage_and_exit_codes() {
    let sb = Sandbox::new();
    let ours = bin("sv");
    let d = sb.path();
    let usage = "[stderr] usage: sv [-v] [-w sec] command service ...\n\nrc=100\n";
    assert_eq!(sv(&sb, &ours, d, &[], &[]), usage);
    assert_eq!(sv(&sb, &ours, d, &[], &["status"]), usage);
    assert_eq!(sv(&sb, &ours, d, &[], &["bogus", "x"]), usage);
    assert_eq!(sv(&sb, &ours, d, &[], &["rx", "x"]), usage);
    assert_eq!(
        sv(&sb, &ours, d, &[], &["-z", "s", "x"]),
        format!("[stderr] sv: illegal option -- z\n{}", &usage[9..])
    );
    assert_eq!(
        sv(&sb, &ours, d, &[], &["-w"]),
        format!(
            "[stderr] sv: option requires an argument -- w\n{}",
            &usage[9..]
        )
    );
    // One failure per service, capped at 99.
    let names: Vec<String> = (0..120).map(|i| format!("/nonexistent/{i}")).collect();
    let mut args = vec!["status"];
    args.extend(names.iter().map(String::as_str));
    assert!(sv(&sb, &ours, d, &[], &args).ends_with("rc=99\n"));
    assert_eq!(
        sv(&sb, &ours, d, &[], &["s", "/x", "/y"]),
        "fail: /x: unable to change to service directory: file does not exist\n\
         fail: /y: unable to change to service directory: file does not exist\nrc=2\n"
    );
    if let Some(r) = reference() {
        for args in [
            &[][..],
            &["-V"][..],
            &["-z", "s", "x"][..],
            &["s", "/x", "/y"][..],
            &["--x", "s", "/x"][..],
            &["-w3x", "s", "/x"][..],
            &["u", "missing"][..],
            &["x", "missing"][..],
        ] {
            let a = sv(&sb, &r.runit("sv"), d, &[], args);
            let b = sv(&sb, &ours, d, &[], args);
            if args == ["-V"] {
                assert_eq!(
                    a.lines().skip(1).collect::<Vec<_>>(),
                    b.lines().skip(1).collect::<Vec<_>>()
                );
            } else {
                assert_eq!(a, b, "sv {args:?}");
            }
        }
    }
}

#[test]
fn svdir_svwait_and_name_resolution() {
    let mut sb = Sandbox::new();
    let t = tree(&sb);
    let ours = bin("sv");
    let pa = start_runsv(&mut sb, &bin("runsv"), &t.a);
    wait_running(&t.a);
    wait_running(&t.a.join("log"));
    // A name is looked up in $SVDIR; ./ and / and a trailing / are paths.
    let out = sv(&sb, &ours, &t.root, &[], &["s", "a"]);
    assert!(out.starts_with("run: a: (pid "), "{out}");
    let other = sb.join("elsewhere");
    std::fs::create_dir(&other).unwrap();
    let out = sv(&sb, &ours, &other, &[], &["s", "a"]);
    assert!(out.starts_with("fail: a: unable to change"), "{out}");
    let out = sv(&sb, &ours, &other, &[], &["s", "./service/a"]);
    assert!(out.starts_with("run: ./service/a: (pid "), "{out}");
    let out = sv(&sb, &ours, &other, &[], &["s", "service/a/"]);
    assert!(out.starts_with("run: service/a/: (pid "), "{out}");
    // Relative and absolute names and a relative $SVDIR mixed in one call:
    // each relative one is resolved from the directory sv started in.
    let abs = t.a.to_string_lossy().into_owned();
    let names = [
        "a",
        abs.as_str(),
        "./service/a",
        "a",
        "service/a/",
        abs.as_str(),
        "a",
    ];
    let mut args = vec!["s"];
    args.extend(names);
    let rel_svdir = Path::new("service");
    let out = sv(&sb, &ours, rel_svdir, &[], &args);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), names.len() + 1, "{out}");
    for (line, name) in lines.iter().zip(names) {
        assert!(line.starts_with(&format!("run: {name}: (pid ")), "{out}");
    }
    assert_eq!(lines[names.len()], "rc=0", "{out}");
    if let Some(r) = reference() {
        let theirs = sv(&sb, &r.runit("sv"), rel_svdir, &[], &args);
        assert_eq!(
            normalize_sv(&out),
            normalize_sv(&theirs),
            "ours vs runit 2.1.2"
        );
    }
    // SVWAIT sets the timeout; -w overrides it.
    let t0 = std::time::Instant::now();
    let out = sv(
        &sb,
        &ours,
        &t.root,
        &[("SVWAIT", "1")],
        &["-v", "once", "b"],
    );
    assert_eq!(
        out,
        "warning: b: unable to open supervise/ok: file does not exist\nrc=1\n"
    );
    assert!(t0.elapsed().as_secs() < 5);
    std::fs::write(t.a.join("check"), "#!/bin/sh\nexit 1\n").unwrap();
    std::fs::set_permissions(
        t.a.join("check"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let out = sv(&sb, &ours, &t.root, &[("SVWAIT", "1")], &["check", "a"]);
    assert!(out.starts_with("timeout: run: a: (pid "), "{out}");
    assert!(out.ends_with("rc=1\n"));
    std::fs::write(t.a.join("check"), "#!/bin/sh\nexit 0\n").unwrap();
    let out = sv(&sb, &ours, &t.root, &[], &["-w", "3", "check", "a"]);
    assert!(out.starts_with("ok: run: a: (pid "), "{out}");
    stop_runsv(&mut sb, pa, &t.a).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn check_waits_for_the_wanted_state() {
    // runit 2.3.0's meaning: check waits for up when wanted up, for down
    // when wanted down.
    let mut sb = Sandbox::new();
    let t = tree(&sb);
    let pb = start_runsv(&mut sb, &bin("runsv"), &t.b);
    wait_status(&t.b, "down", |s| s.pid == 0);
    let out = sv(&sb, &bin("sv"), &t.root, &[], &["check", "b"]);
    assert!(out.starts_with("ok: down: b: "), "{out}");
    stop_runsv(&mut sb, pb, &t.b).unwrap();
    sb.assert_no_leaks();
}

fn lsb_link(sb: &Sandbox, sv: &Path, name: &str) -> PathBuf {
    let dir = sb.join("init.d");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join(name);
    std::os::unix::fs::symlink(sv, &link).unwrap();
    link
}

#[test]
fn lsb_init_script_mode() {
    let mut sb = Sandbox::new();
    let t = tree(&sb);
    let init = lsb_link(&sb, &bin("sv"), "a");
    let run = |sb: &Sandbox, args: &[&str]| sv(sb, &init, &t.root, &[], args);
    assert_eq!(
        run(&sb, &[]),
        "[stderr] usage: a [-w sec] command\n\nrc=2\n"
    );
    assert_eq!(
        run(&sb, &["sxyz"]),
        "[stderr] usage: a [-w sec] command\n\nrc=2\n"
    );
    // Never supervised (no supervise/): status unreadable, 4.
    assert_eq!(
        run(&sb, &["status"]),
        "warning: a: unable to open supervise/ok: file does not exist\nrc=4\n"
    );
    let pa = start_runsv(&mut sb, &bin("runsv"), &t.a);
    wait_running(&t.a);
    wait_running(&t.a.join("log"));
    assert!(run(&sb, &["status"]).ends_with("rc=0\n"));
    let out = run(&sb, &["stop"]);
    assert!(out.starts_with("ok: down: a: "), "{out}");
    // Main down, log up: 3 (runit 2.3.0's fix; 2.1.2 said 0).
    let out = run(&sb, &["status"]);
    assert!(
        out.starts_with("down: a: ") && out.contains("; run: log: "),
        "{out}"
    );
    assert!(out.ends_with("rc=3\n"), "{out}");
    let out = run(&sb, &["start"]);
    assert!(out.starts_with("ok: run: a: "), "{out}");
    // Status unreadable: 4.
    std::fs::remove_file(t.a.join("supervise/status")).unwrap();
    let out = run(&sb, &["status"]);
    assert!(
        out.starts_with("warning: a: unable to open supervise/status: file does not exist"),
        "{out}"
    );
    assert!(out.ends_with("rc=4\n"), "{out}");
    supervise_proto::svdir::send_control(&t.a, b"d").unwrap();
    wait_down(&t.a);
    let out = run(&sb, &["shutdown"]);
    assert_eq!(out, "ok: a: runsv not running\nrc=0\n");
    sb.wait_exit(pa, WAIT);
    // runsv gone: 1, as runit 2.1.2 says.
    assert_eq!(run(&sb, &["status"]), "fail: a: runsv not running\nrc=1\n");
    sb.assert_no_leaks();
}

#[test]
fn lsb_status_codes_match_runit_where_runit_is_right() {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let t = tree(&sb);
    let ours = lsb_link(&sb, &bin("sv"), "b");
    let dir2 = sb.join("ref.d");
    std::fs::create_dir_all(&dir2).unwrap();
    let theirs = dir2.join("b");
    std::os::unix::fs::symlink(r.runit("sv"), &theirs).unwrap();
    let cmp = |sb: &Sandbox, args: &[&str]| {
        let a = normalize_sv(&sv(sb, &theirs, &t.root, &[], args));
        let b = normalize_sv(&sv(sb, &ours, &t.root, &[], args));
        assert_eq!(a, b, "{args:?}");
    };
    cmp(&sb, &["status"]);
    cmp(&sb, &[]);
    cmp(&sb, &["bogus"]);
    let pb = start_runsv(&mut sb, &r.runit("runsv"), &t.b);
    wait_status(&t.b, "down", |s| s.pid == 0);
    cmp(&sb, &["status"]);
    cmp(&sb, &["-w", "1", "stop"]);
    stop_runsv(&mut sb, pb, &t.b).unwrap();
    let _ = Command::new("true").status();
    sb.assert_no_leaks();
}

/// Like runit's sv, ours dies of SIGPIPE when its output has no reader
/// (`sv status ... | head -1` must not hang or complain).
#[test]
fn sv_dies_of_sigpipe_like_runit() {
    let mut sb = Sandbox::new();
    let t = tree(&sb);
    let pa = start_runsv(&mut sb, &bin("runsv"), &t.a);
    let mut suites = vec![bin("sv")];
    if let Some(r) = reference() {
        suites.push(r.runit("sv"));
    }
    for sv in suites {
        // Close-on-exec: a process another test starts meanwhile must not
        // inherit the read end and keep the pipe open.
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        drop(r);
        let mut c = sb.command(&sv);
        c.arg("status")
            .arg(&t.a)
            .stdout(std::process::Stdio::from(w))
            .stderr(std::process::Stdio::piped());
        let out = sb.run(c);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(13), "{}: {:?}", sv.display(), out);
        assert!(out.stderr.is_empty(), "{:?}", out);
    }
    stop_runsv(&mut sb, pa, &t.a).unwrap();
    sb.assert_no_leaks();
}

/// Service names are bytes: a name that is not UTF-8 is printed as given,
/// in status lines and messages alike, byte for byte as runit's sv does.
#[test]
fn names_that_are_not_utf8_are_printed_as_given() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let mut sb = Sandbox::new();
    let root = sb.join("service");
    let d = root.join(OsStr::from_bytes(b"caf\xe9"));
    make_service(&d, "#!/bin/sh\nexec sleep 1000\n");
    let p = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_until("service up", WAIT, || {
        status_of(&d).is_some_and(|s| s.pid != 0)
    });
    let missing = root.join(OsStr::from_bytes(b"gone\xff"));
    let mut suites = vec![bin("sv")];
    if let Some(r) = reference() {
        suites.push(r.runit("sv"));
    }
    let mut outs = Vec::new();
    for sv in suites {
        let mut c = sb.command(&sv);
        c.arg("status").arg(&d).arg(&missing);
        let out = sb.run(c);
        assert_eq!(out.status.code(), Some(1), "{}: {:?}", sv.display(), out);
        let text = normalize_sv(&String::from_utf8_lossy(&out.stdout));
        // The raw bytes themselves, not U+FFFD replacements.
        let mut want = b"run: ".to_vec();
        want.extend_from_slice(d.as_os_str().as_bytes());
        assert!(out.stdout.starts_with(&want), "{}: {:?}", sv.display(), out);
        let mut fail = b"fail: ".to_vec();
        fail.extend_from_slice(missing.as_os_str().as_bytes());
        assert!(
            out.stdout.windows(fail.len()).any(|w| w == fail.as_slice()),
            "{}: {:?}",
            sv.display(),
            out
        );
        outs.push((out.stdout.len(), text));
    }
    if outs.len() == 2 {
        assert_eq!(outs[0], outs[1], "ours vs runit 2.1.2");
    }
    stop_runsv(&mut sb, p, &d).unwrap();
    sb.assert_no_leaks();
}

/// A status record of runit's 20 bytes: this process's pid, running.
fn running_record() -> Vec<u8> {
    status_record(0, std::process::id(), 0, b'u', Some((0, 1)))
}

#[test]
fn log_warnings_count_in_the_exit_code_like_runit() {
    let Some(r) = reference() else { return };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    let rec = running_record();
    for name in ["logfile", "nosupervise", "notrunning", "nostatus", "fine"] {
        fake_service(&d.join(name), Some(&rec), true, &mut held);
    }
    // The log part only warns: a file, no supervise/ yet, no status yet.
    std::fs::write(d.join("logfile/log"), "").unwrap();
    std::fs::create_dir(d.join("nosupervise/log")).unwrap();
    fake_service(&d.join("nostatus/log"), None, true, &mut held);
    // Failures, for comparison: no runsv for the log.
    fake_service(&d.join("notrunning/log"), Some(&rec), false, &mut held);
    fake_service(&d.join("fine/log"), Some(&rec), true, &mut held);
    let cases: &[&[&str]] = &[
        &["./logfile"],
        &["./nosupervise"],
        &["./nostatus"],
        &["./notrunning"],
        &["./fine"],
        &[
            "./logfile",
            "./nosupervise",
            "./nostatus",
            "./fine",
            "./logfile",
        ],
    ];
    for names in cases {
        let args: Vec<&str> = std::iter::once("status")
            .chain(names.iter().copied())
            .collect();
        let ours = run_tool(&sb, &bin("sv"), &args, d);
        let theirs = run_tool(&sb, &r.runit("sv"), &args, d);
        assert_eq!(ours.code, theirs.code, "sv {args:?}: {ours:?}");
        // Deliberate difference: after a warning about the log, runit
        // prints the service's status again as if it were the log's.
        let theirs_text: String = theirs
            .stdout
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("run: log: "))
            .collect();
        assert_eq!(
            normalize_sv(&ours.stdout),
            normalize_sv(&theirs_text),
            "sv {args:?}"
        );
        assert_eq!(ours.stderr, theirs.stderr, "sv {args:?}");
    }
    let all = run_tool(
        &sb,
        &bin("sv"),
        &["status", "./logfile", "./nosupervise", "./nostatus"],
        d,
    );
    assert_eq!(all.code, Some(3), "{all:?}");
    drop(held);
}

#[test]
fn fifo_as_status_file_is_bad_format_not_a_hang() {
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    fake_service(&d.join("svc"), None, true, &mut held);
    mkfifo(&d.join("svc/supervise/status"));
    let mut suites = vec![bin("sv")];
    if let Some(r) = reference() {
        suites.push(r.runit("sv"));
    }
    for sv in &suites {
        for cmd in [&["status"][..], &["up"], &["-w", "1", "check"]] {
            let args: Vec<&str> = cmd.iter().copied().chain(["./svc"]).collect();
            let o = run_tool_within(&sb, sv, &args, d, WAIT);
            assert_eq!(
                (o.code, o.stdout.as_str(), o.stderr.as_str()),
                (
                    Some(1),
                    "warning: ./svc: unable to read supervise/status: bad format\n",
                    ""
                ),
                "{} {args:?}",
                sv.display()
            );
        }
    }
    drop(held);
}

#[test]
fn version_is_an_id_line_then_usage_like_runit() {
    let sb = Sandbox::new();
    let d = sb.path();
    let link = d.join("myservice");
    let mut progs = vec![bin("sv")];
    if let Some(r) = reference() {
        progs.push(r.runit("sv"));
    }
    let mut shapes = Vec::new();
    for sv in &progs {
        for (prog, lsb) in [(sv.clone(), false), (link.clone(), true)] {
            if lsb {
                let _ = std::fs::remove_file(&link);
                std::os::unix::fs::symlink(sv, &link).unwrap();
            }
            let o = run_tool(&sb, &prog, &["-V"], d);
            let (id, usage) = o.stderr.split_once('\n').expect("two lines");
            assert!(
                id.starts_with("$Id: ") && id.ends_with(" $"),
                "{}: {id:?}",
                sv.display()
            );
            shapes.push((lsb, o.code, o.stdout, usage.to_string()));
        }
    }
    let ours = &shapes[..2];
    assert_eq!(ours[0].1, Some(100));
    assert_eq!(ours[1].1, Some(2));
    if shapes.len() == 4 {
        assert_eq!(ours, &shapes[2..], "ours vs runit 2.1.2");
    }
    let o = run_tool(&sb, &bin("sv"), &["-V"], d);
    assert_eq!(o.stderr.lines().next(), Some(supervise_proto::VERSION_ID));
}

/// Records runsv never writes still read as runit's sv reads them: the
/// line's head follows the state byte (0 down without a pid, 1 run, 2
/// finish, any other byte no word but the pid), the clauses follow the
/// pid, a pid with the top bit set is printed sign-extended, a stamp in
/// the future is 0s and one before 1970 a great many seconds, and only
/// the first 20 bytes of a longer file count.
#[test]
fn odd_records_read_as_runit_reads_them() {
    let Some(r) = reference() else { return };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    fake_service(&d.join("svc"), None, true, &mut held);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let tai = |secs: u64| (1u64 << 62) + 10 + secs;
    let record = |stamp: u64, pid: u32, paused: u8, want: u8, term: u8, state: u8| {
        let mut b = Vec::with_capacity(20);
        b.extend_from_slice(&stamp.to_be_bytes());
        b.extend_from_slice(&[0, 0, 0x01, 0xf4]);
        b.extend_from_slice(&pid.to_le_bytes());
        b.extend_from_slice(&[paused, want, term, state]);
        b
    };
    let mut long = record(tai(now - 50), 4242, 1, b'd', 1, 0);
    long.extend_from_slice(b"tail");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "state byte 0xbc, no pid",
            record(tai(now - 100), 0, 0, b'u', 0, 0xbc),
        ),
        (
            "state byte 7 with a pid",
            record(tai(now - 100), 77, 1, b'd', 1, 7),
        ),
        (
            "down with a pid",
            record(tai(now - 100), 4242, 1, b'u', 1, 0),
        ),
        (
            "run without a pid",
            record(tai(now - 100), 0, 1, b'u', 1, 1),
        ),
        (
            "pid with the top bit",
            record(tai(now - 100), 0xd84b_9dc6, 0, b'd', 0, 1),
        ),
        (
            "finish, stamp ahead",
            record(tai(now + 5000), 99, 0, 0, 0, 2),
        ),
        (
            "stamp before 1970",
            record(0x1fae_a7a2_9bb7_5d2d, 5, 2, b'x', 3, 1),
        ),
        ("24 bytes", long),
    ];
    for (what, bytes) in &cases {
        std::fs::write(d.join("svc/supervise/status"), bytes).unwrap();
        let both = || {
            [bin("sv"), r.runit("sv")].map(|sv| {
                let o = run_tool_within(&sb, &sv, &["status", "./svc"], d, WAIT);
                (o.code, o.stdout, o.stderr)
            })
        };
        let mut outs = both();
        if outs[0] != outs[1] {
            // The ages count whole seconds: one may have ticked between
            // the two runs, and then the next pair agrees.
            outs = both();
        }
        assert_eq!(outs[0], outs[1], "{what}: ours, then runit's");
    }
    drop(held);
}
