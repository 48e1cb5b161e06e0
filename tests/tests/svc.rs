//! svc against daemontools 0.76's (the bytes written to supervise/control
//! and the messages), then our svc driving live supervisors (daemontools'
//! supervise, runit's runsv and ours) through every option, each effect
//! checked with our svstat and svok and compared with daemontools' tools.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;

use runit_tests::*;

#[test]
fn svc_bytes_and_messages_match_daemontools() {
    let Some((ours, theirs)) = daemontools_pair("svc") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    fake_service(&d.join("s1"), None, true, &mut held);
    fake_service(&d.join("s2"), None, true, &mut held);
    fake_service(&d.join("stopped"), None, false, &mut held);
    let c1 = hold_fifo(&d.join("s1/supervise/control"));
    let c2 = hold_fifo(&d.join("s2/supervise/control"));
    std::fs::create_dir(d.join("empty")).unwrap();
    std::fs::write(d.join("plainfile"), "").unwrap();
    std::fs::create_dir_all(d.join("ctl-dir/supervise/control")).unwrap();
    let cases: &[&[&str]] = &[
        &["-u", "s1"],
        &["-d", "s1", "s2"],
        &["-udu", "-x", "-kt", "-udopchaitkx", "s1", "s1", "s2"],
        &["-o", "-p", "-c", "-h", "-a", "-i", "-t", "-k", "-x", "s2"],
        &[
            "-dx",
            "s1",
            "empty",
            "stopped",
            "plainfile",
            "/nonexistent",
            "ctl-dir",
            "s2",
        ],
        &["s1", "stopped", "empty"],
        &["--", "-u", "s1"],
        &["-d", "s1", "-u", "s2"],
        &["-", "s1"],
        &[],
        &["-u"],
        &["-z", "s1"],
        &["-uz", "s1"],
        &["-q", "s1"],
        &["-1", "s1"],
        &["-2", "s2"],
        &["-u", "", "s1"],
        &["--u", "s1"],
        &["-u", "--d", "s1"],
    ];
    for args in cases {
        let a = run_tool(&sb, &ours, args, d);
        let got_a = (drain(&c1), drain(&c2));
        let b = run_tool(&sb, &theirs, args, d);
        let got_b = (drain(&c1), drain(&c2));
        assert_eq!(a, b, "svc {args:?}");
        assert_eq!(got_a, got_b, "bytes for svc {args:?}");
    }
    // getopt's complaint names the program as called, without directories.
    let mut c = sb.command(&ours);
    c.arg0("/some/where/mysvc").arg("-z").arg("s1");
    let a = outcome(sb.run(c));
    let mut c = sb.command(&theirs);
    c.arg0("/some/where/mysvc").arg("-z").arg("s1");
    let b = outcome(sb.run(c));
    assert_eq!(a, b);
    assert!(a
        .stderr
        .starts_with("mysvc: illegal option -- z\nsvc options: u up"));
    assert_eq!(a.code, Some(100));
    drop(held);
}

/// A run script that notes the signals it gets, so that svc's signal
/// options can be seen to arrive.
const SIGNAL_RUN: &str = "#!/bin/sh
for s in HUP ALRM INT; do trap \"echo $s >> ../signals\" $s; done
trap 'exit 0' TERM
while :; do sleep 0.05; done
";

/// Polls our svstat until its line for `dir` satisfies `ok`.
fn wait_svstat(sb: &Sandbox, dir: &Path, what: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for(what, WAIT, || {
        let o = run_tool(sb, &bin("svstat"), &[dir.to_str().unwrap()], sb.path());
        ok(&o.stdout).then_some(o.stdout)
    })
}

fn pid_of(line: &str) -> u32 {
    let p = line.find("(pid ").expect("up line") + 5;
    line[p..].split(')').next().unwrap().parse().unwrap()
}

/// Our svstat and svok agree with daemontools' about `dir` right now.
fn agree(sb: &Sandbox, dir: &Path) {
    let d = dir.to_str().unwrap();
    let (svstat, their_svstat) = daemontools_pair("svstat").unwrap();
    let (svok, their_svok) = daemontools_pair("svok").unwrap();
    let a = run_tool(sb, &svstat, &[d], sb.path());
    let b = run_tool(sb, &their_svstat, &[d], sb.path());
    assert_eq!(norm_seconds(&a.stdout), norm_seconds(&b.stdout));
    assert_eq!((a.code, a.stderr), (b.code, b.stderr));
    assert_eq!(
        run_tool(sb, &svok, &[d], sb.path()),
        run_tool(sb, &their_svok, &[d], sb.path())
    );
}

/// Drives one supervisor through every svc option with our svc, checking
/// each effect with our svstat and comparing with daemontools' tools.
fn drive_supervisor(supervisor: &Path, daemontools: bool) {
    let mut sb = Sandbox::new();
    let svc_dir = sb.join("svc");
    make_service(&svc_dir, SIGNAL_RUN);
    let svc = bin("svc");
    let sv = svc_dir.to_str().unwrap().to_string();
    assert_eq!(
        run_tool(&sb, &bin("svok"), &[&sv], sb.path()).code,
        Some(100)
    );
    let mut c = sb.command(supervisor);
    c.arg(&svc_dir).stdin(Stdio::null());
    let sup = sb.spawn(c);
    let svc_run = |opts: &str| {
        let o = run_tool(&sb, &svc, &[opts, &sv], sb.path());
        assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""), "svc {opts}");
    };

    let up = wait_svstat(&sb, &svc_dir, "up", |s| s.contains(": up (pid "));
    assert_eq!(run_tool(&sb, &bin("svok"), &[&sv], sb.path()).code, Some(0));
    agree(&sb, &svc_dir);
    let first = pid_of(&up);

    svc_run("-p");
    wait_svstat(&sb, &svc_dir, "paused", |s| s.ends_with(", paused\n"));
    agree(&sb, &svc_dir);
    svc_run("-c");
    wait_svstat(&sb, &svc_dir, "continued", |s| s.ends_with(" seconds\n"));

    for (opt, sig) in [("-h", "HUP"), ("-a", "ALRM"), ("-i", "INT")] {
        svc_run(opt);
        wait_until(sig, WAIT, || read(sb.join("signals")).contains(sig));
    }

    svc_run("-t");
    let line = wait_svstat(&sb, &svc_dir, "restart after -t", |s| {
        s.contains("(pid ") && pid_of(s) != first
    });
    let second = pid_of(&line);
    svc_run("-k");
    wait_svstat(&sb, &svc_dir, "restart after -k", |s| {
        s.contains("(pid ") && pid_of(s) != second
    });

    svc_run("-o");
    if daemontools {
        // supervise stores want 0 for "once": no text for it.
        wait_until("want byte 0", WAIT, || {
            std::fs::read(svc_dir.join("supervise/status")).is_ok_and(|b| b.get(17) == Some(&0))
        });
    } else {
        wait_svstat(&sb, &svc_dir, "want down", |s| s.ends_with(", want down\n"));
    }
    agree(&sb, &svc_dir);
    svc_run("-u");
    wait_svstat(&sb, &svc_dir, "want up", |s| s.ends_with(" seconds\n"));

    svc_run("-d");
    wait_svstat(&sb, &svc_dir, "down", |s| {
        s.contains(": down ") && s.ends_with(", normally up\n")
    });
    agree(&sb, &svc_dir);
    svc_run("-u");
    wait_svstat(&sb, &svc_dir, "up again", |s| s.contains(": up (pid "));

    // Several options and directories at once: down and exit.
    let o = run_tool(&sb, &svc, &["-dx", &sv, "/nonexistent"], sb.path());
    assert_eq!(o.code, Some(0));
    assert_eq!(
        o.stderr,
        "svc: warning: unable to chdir to /nonexistent: file does not exist\n"
    );
    let st = sb.wait_exit(sup, WAIT);
    assert!(st.success(), "supervisor exit {st:?}");
    assert_eq!(
        run_tool(&sb, &bin("svok"), &[&sv], sb.path()).code,
        Some(100)
    );
    assert_eq!(
        run_tool(&sb, &bin("svstat"), &[&sv], sb.path()).stdout,
        format!("{sv}: supervise not running\n")
    );
    agree(&sb, &svc_dir);
    let o = run_tool(&sb, &svc, &["-u", &sv], sb.path());
    assert_eq!(
        o.stderr,
        format!("svc: warning: unable to control {sv}: supervise not running\n")
    );
    sb.kill_all();
    sb.assert_no_leaks();
}

#[test]
fn drives_daemontools_supervise() {
    let Some(r) = reference() else { return };
    drive_supervisor(&r.daemontools("supervise"), true);
}

#[test]
fn drives_reference_runsv() {
    let Some(r) = reference() else { return };
    drive_supervisor(&r.runit("runsv"), false);
}

#[test]
fn drives_our_runsv() {
    // daemontools' svok and svstat are compared along the way.
    if reference().is_none() {
        return;
    }
    drive_supervisor(&bin("runsv"), false);
}
