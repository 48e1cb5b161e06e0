//! runsv end to end: files and modes, lifecycle, control bytes, control
//! scripts, the log pipe, robustness. Where runit 2.1.2 is the truth, the
//! same scenario runs against the reference runsv and results are compared.

use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use runit_tests::*;
use supervise_proto::svdir::send_control;
use supervise_proto::RunState;

const SLEEP_RUN: &str = "#!/bin/sh\nexec sleep 1000\n";

/// Names, types and modes of a supervise directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let m = e.metadata().unwrap();
            let kind = if m.file_type().is_fifo() {
                "fifo"
            } else if m.is_dir() {
                "dir"
            } else {
                "file"
            };
            format!(
                "{} {} {:o}",
                e.file_name().to_string_lossy(),
                kind,
                m.mode() & 0o7777
            )
        })
        .collect();
    v.sort();
    v
}

fn logged_service(root: &Path) -> std::path::PathBuf {
    let d = root.join("svc");
    make_service(&d, SLEEP_RUN);
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat >> out\n");
    d
}

#[test]
fn supervise_files_and_modes_match_runit() {
    let mut results = Vec::new();
    let r = reference();
    let mut suites = vec![Suite::ours()];
    if let Some(r) = r {
        suites.push(Suite::theirs(r));
    }
    for suite in suites {
        let mut sb = Sandbox::new();
        let d = logged_service(sb.path());
        let pid = start_runsv(&mut sb, &suite.runsv, &d);
        let spid = wait_running(&d);
        wait_running(&d.join("log"));
        let main = listing(&d.join("supervise"));
        let log = listing(&d.join("log/supervise"));
        let stat = read(d.join("supervise/stat"));
        let pidfile = read(d.join("supervise/pid"));
        assert_eq!(pidfile, format!("{spid}\n"));
        results.push((main, log, stat, masked_status(&d)));
        stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
        assert_eq!(
            read(d.join("supervise/pid")),
            "",
            "pid file empty when down"
        );
        sb.assert_no_leaks();
    }
    // supervise/exits is ours alone (every service has it; see
    // crashloop.rs); the rest is runit's.
    let (main, log, ..) = &mut results[0];
    for list in [main, log] {
        let n = list.len();
        list.retain(|f| f != "exits file 644");
        assert_eq!(list.len() + 1, n, "exits file 644 in {list:?}");
    }
    let ours = &results[0];
    assert!(
        ours.0.contains(&"control fifo 600".to_string()),
        "{:?}",
        ours.0
    );
    assert!(ours.0.contains(&"ok fifo 600".to_string()));
    assert!(ours.0.contains(&"lock file 600".to_string()));
    assert!(ours.0.contains(&"status file 644".to_string()));
    assert_eq!(ours.2, "run\n");
    if results.len() == 2 {
        assert_eq!(results[0], results[1], "ours vs runit 2.1.2");
    }
}

#[test]
fn supervise_dir_mode_and_dangling_symlink() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, SLEEP_RUN);
    std::fs::create_dir(d.join("log")).unwrap();
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    // Distributions point supervise/ into /run with a dangling symlink.
    let state = sb.join("state");
    std::fs::create_dir(&state).unwrap();
    std::os::unix::fs::symlink(state.join("svc"), d.join("supervise")).unwrap();
    std::os::unix::fs::symlink("../logstate", d.join("log/supervise")).unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    assert!(state.join("svc/status").exists());
    assert!(
        d.join("logstate/status").exists(),
        "relative link target resolved in log/"
    );
    let m = std::fs::metadata(state.join("svc")).unwrap();
    assert_eq!(m.mode() & 0o777, 0o700);
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

/// Runs `runsv` with `args` to completion; returns (code, stderr).
fn runsv_once(sb: &Sandbox, runsv: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut c = sb.command(runsv);
    c.args(args);
    let out = sb.run(c);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn usage_and_fatal_messages_match_runit() {
    let Some(r) = reference() else { return };
    for runsv in [bin("runsv"), r.runit("runsv")] {
        let mut sb = Sandbox::new();
        let p = runsv.to_string_lossy().into_owned();
        assert_eq!(
            runsv_once(&sb, &runsv, &[]),
            (Some(1), format!("usage: {p} dir\n\n"))
        );
        assert_eq!(runsv_once(&sb, &runsv, &["a", "b"]).0, Some(1));
        assert_eq!(
            runsv_once(&sb, &runsv, &["nonexistent"]),
            (
                Some(111),
                "runsv nonexistent: fatal: unable to change to directory: file does not exist\n"
                    .into()
            )
        );
        // supervise/control that is not a FIFO.
        let d = sb.join("bad");
        make_service(&d, SLEEP_RUN);
        std::fs::create_dir(d.join("supervise")).unwrap();
        std::fs::write(d.join("supervise/control"), "").unwrap();
        assert_eq!(
            runsv_once(&sb, &runsv, &["bad"]),
            (
                Some(111),
                "runsv bad: fatal: supervise/control exists but is not a fifo\n".into()
            )
        );
        // A second runsv on the same directory.
        let d = sb.join("svc");
        make_service(&d, SLEEP_RUN);
        let pid = start_runsv(&mut sb, &runsv, &d);
        assert_eq!(
            runsv_once(&sb, &runsv, &["svc"]),
            (
                Some(111),
                "runsv svc: fatal: unable to lock supervise/lock: temporary failure\n".into()
            )
        );
        stop_runsv(&mut sb, pid, &d).unwrap();
        sb.assert_no_leaks();
    }
}

#[test]
fn log_that_is_not_a_directory_is_a_warning() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, SLEEP_RUN);
    std::fs::write(d.join("log"), "").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    assert_eq!(
        read(stderr_file(&d)),
        format!("runsv {}: warning: ./log: not a directory.\n", d.display())
    );
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn finish_gets_exit_code_and_signal() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    // Exits 3 the first time, then sleeps.
    make_service(
        &d,
        "#!/bin/sh\nif [ ! -e ran ]; then touch ran; exit 3; fi\nexec sleep 1000\n",
    );
    write_script(
        d.join("finish"),
        "#!/bin/sh\necho \"$0 $1 $2\" >> finish.log\n",
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_until("first finish", WAIT, || {
        read(d.join("finish.log")).lines().count() == 1
    });
    let p = wait_running(&d);
    kill(p, rustix::process::Signal::KILL);
    wait_until("second finish", WAIT, || {
        read(d.join("finish.log")).lines().count() == 2
    });
    let p = wait_running(&d);
    send_control(&d, b"d").unwrap();
    wait_down(&d);
    assert!(!alive(p));
    assert_eq!(
        read(d.join("finish.log")),
        "./finish 3 0\n./finish -1 9\n./finish -1 15\n"
    );
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn finish_state_is_reported_with_the_finish_pid() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, SLEEP_RUN);
    write_script(d.join("finish"), "#!/bin/sh\nexec sleep 1000\n");
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    let run_pid = wait_running(&d);
    let before = status_of(&d).unwrap().stamp;
    send_control(&d, b"d").unwrap();
    wait_status(&d, "finish", |s| s.state == RunState::Finish && s.pid != 0);
    let st = status_of(&d).unwrap();
    assert_ne!(st.pid, run_pid);
    assert_eq!(
        st.stamp, before,
        "stamp stays the start of ./run during finish"
    );
    assert_eq!(read(d.join("supervise/stat")), "finish, want down\n");
    assert_eq!(read(d.join("supervise/pid")), format!("{}\n", st.pid));
    // k reaches ./finish (a deliberate difference: runit ignores it).
    send_control(&d, b"k").unwrap();
    wait_down(&d);
    assert_eq!(read(d.join("supervise/stat")), "down\n");
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn restart_is_never_sooner_than_a_second_after_the_last_start() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\ndate +%s.%N >> starts\nexit 1\n");
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_until("four starts", WAIT, || {
        read(d.join("starts")).lines().count() >= 4
    });
    let t: Vec<f64> = read(d.join("starts"))
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    for w in t.windows(2) {
        assert!(
            w[1] - w[0] >= 0.95,
            "restarted after {:.3}s: {t:?}",
            w[1] - w[0]
        );
    }
    // The supervisor is not frozen during the pause: it answers at once.
    send_control(&d, b"d").unwrap();
    wait_status(&d, "want down", |s| s.wants_down());
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn down_file_once_and_up() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\necho x >> runs\nexec sleep 1000\n");
    std::fs::write(d.join("down"), "").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_status(&d, "initial status", |s| s.pid == 0);
    assert_eq!(masked_status(&d), "pid=0 paused=0 want=d term=0 state=0");
    assert!(!d.join("runs").exists());
    send_control(&d, b"o").unwrap();
    let p = wait_running(&d);
    assert_eq!(masked_status(&d), "pid=P paused=0 want=d term=0 state=1");
    assert_eq!(read(d.join("supervise/stat")), "run, want down\n");
    wait_until("./run got going", WAIT, || {
        read(d.join("runs")).lines().count() == 1
    });
    kill(p, rustix::process::Signal::TERM);
    wait_down(&d);
    // Once means once: no restart, however late runsv gets to it.
    assert_stays("./run started once", QUIET, || {
        read(d.join("runs")).lines().count() == 1
    });
    send_control(&d, b"u").unwrap();
    wait_running(&d);
    assert_eq!(masked_status(&d), "pid=P paused=0 want=u term=0 state=1");
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn signals_pause_and_term_flag() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(
        &d,
        "#!/bin/sh\ntrap 'echo HUP >> sigs' HUP\ntrap 'echo USR1 >> sigs' USR1\n\
         trap 'echo ALRM >> sigs' ALRM\ntrap 'echo INT >> sigs' INT\ntrap 'echo QUIT >> sigs' QUIT\n\
         trap 'echo USR2 >> sigs' USR2\ntrap 'echo TERM >> sigs' TERM\n\
         echo ready > ready\nwhile :; do sleep 0.05; done\n",
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    let p = wait_running(&d);
    wait_until("trap set", WAIT, || d.join("ready").exists());
    for (b, name) in [
        (b"h", "HUP"),
        (b"a", "ALRM"),
        (b"i", "INT"),
        (b"q", "QUIT"),
        (b"1", "USR1"),
        (b"2", "USR2"),
    ] {
        send_control(&d, b).unwrap();
        wait_until(name, WAIT, || read(d.join("sigs")).contains(name));
    }
    send_control(&d, b"p").unwrap();
    wait_status(&d, "paused", |s| s.paused);
    assert_eq!(read(d.join("supervise/stat")), "run, paused\n");
    wait_until("process stopped", WAIT, || {
        read(format!("/proc/{p}/stat"))
            .rsplit(')')
            .next()
            .is_some_and(|r| r.trim_start().starts_with('T'))
    });
    send_control(&d, b"c").unwrap();
    wait_status(&d, "continued", |s| !s.paused);
    // TERM is trapped: d leaves it running with "got TERM".
    send_control(&d, b"d").unwrap();
    wait_status(&d, "got TERM", |s| s.got_term && s.wants_down());
    assert_eq!(read(d.join("supervise/stat")), "run, got TERM, want down\n");
    assert_eq!(masked_status(&d), "pid=P paused=0 want=d term=1 state=1");
    send_control(&d, b"k").unwrap();
    wait_down(&d);
    assert_eq!(masked_status(&d), "pid=0 paused=0 want=d term=0 state=0");
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn custom_control_scripts() {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\ntrap 'echo TERM >> sigs; exit 0' TERM\ntrap 'echo HUP >> sigs' HUP\ntrap 'echo ALRM >> sigs' ALRM\necho ready > ready\nwhile :; do sleep 0.05; done\n");
    // control/h handles HUP itself; control/t declines (exit 1) so TERM
    // is still sent; control/u runs before every start; control/d after
    // the stop sequence.
    write_script(d.join("control/h"), "#!/bin/sh\necho h >> ctl\nexit 0\n");
    write_script(d.join("control/t"), "#!/bin/sh\necho t >> ctl\nexit 1\n");
    write_script(d.join("control/u"), "#!/bin/sh\necho u >> ctl\n");
    write_script(d.join("control/d"), "#!/bin/sh\necho d >> ctl\n");
    // Not executable: ignored.
    std::fs::write(d.join("control/a"), "#!/bin/sh\necho a >> ctl\nexit 0\n").unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    wait_until("ready", WAIT, || d.join("ready").exists());
    send_control(&d, b"h").unwrap();
    wait_until("control/h ran", WAIT, || read(d.join("ctl")).contains('h'));
    send_control(&d, b"d").unwrap();
    wait_down(&d);
    wait_until("control/d ran", WAIT, || read(d.join("ctl")).contains('d'));
    assert_eq!(read(d.join("ctl")), "u\nh\nt\nd\n");
    assert_eq!(
        read(d.join("sigs")),
        "TERM\n",
        "HUP was handled by control/h"
    );
    // control/t exiting 0 replaces the TERM.
    write_script(d.join("control/t"), "#!/bin/sh\necho t0 >> ctl\nexit 0\n");
    send_control(&d, b"u").unwrap();
    let p = wait_running(&d);
    send_control(&d, b"t").unwrap();
    wait_until("control/t ran", WAIT, || read(d.join("ctl")).contains("t0"));
    // A control script without the owner's execute bit is not run: the
    // signal goes out as usual.
    send_control(&d, b"a").unwrap();
    wait_until("ALRM delivered", WAIT, || {
        read(d.join("sigs")).contains("ALRM")
    });
    assert!(alive(p));
    assert_eq!(status_of(&d).unwrap().pid, p, "TERM replaced by control/t");
    assert!(!read(d.join("ctl")).contains('a'));
    kill(p, rustix::process::Signal::KILL);
    send_control(&d, b"d").unwrap();
    wait_down(&d);
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn sigterm_to_runsv_is_exit_and_waits_for_the_log() {
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    make_service(&d, "#!/bin/sh\necho started\nexec sleep 1000\n");
    write_script(d.join("finish"), "#!/bin/sh\necho finished\n");
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat >> out\n");
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    wait_until("log got output", WAIT, || {
        read(d.join("log/out")) == "started\n"
    });
    kill(pid, rustix::process::Signal::TERM);
    let st = sb.wait_exit(pid, WAIT);
    assert_eq!(st.code(), Some(0));
    // The log saw end of input only after ./finish had written.
    assert_eq!(read(d.join("log/out")), "started\nfinished\n");
    assert_eq!(read(d.join("log/supervise/stat")), "down\n");
    sb.assert_no_leaks();
}

#[test]
fn no_line_is_lost_while_the_logger_restarts() {
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    make_service(
        &d,
        "#!/bin/sh\ni=0\nwhile [ $i -lt 2000 ]; do echo line $i; i=$((i+1)); done\nexec sleep 1000\n",
    );
    // The logger takes 500 lines and exits (sh's read consumes no more
    // than one line), so it is restarted three times while the service's
    // output waits in the pipe runsv keeps open.
    write_script(
        d.join("log/run"),
        "#!/bin/sh\ni=0\nwhile [ $i -lt 500 ] && read -r l; do echo \"$l\"; i=$((i+1)); done >> out\necho restart >> restarts\n",
    );
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_until("all lines", WAIT * 2, || {
        read(d.join("log/out")).lines().count() >= 2000
    });
    let expect: String = (0..2000).map(|i| format!("line {i}\n")).collect();
    assert_eq!(read(d.join("log/out")), expect);
    assert!(read(d.join("log/restarts")).lines().count() >= 3);
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn missing_run_and_log_run_warn_and_retry_without_spinning() {
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    std::fs::create_dir_all(d.join("log")).unwrap();
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    let dn = d.display().to_string();
    wait_until("messages", WAIT, || {
        let e = read(stderr_file(&d));
        e.contains(&format!(
            "runsv {dn}: fatal: unable to start ./run: file does not exist"
        )) && e.contains(&format!(
            "runsv {dn}: fatal: unable to start log/./run: file does not exist"
        ))
    });
    // Retries are paced (about one a second), not a busy loop: watch two
    // more rounds of both (so runsv was seen retrying), then compare the
    // count with the time they took.
    let t0 = Instant::now();
    let before = read(stderr_file(&d)).lines().count();
    wait_until("two more rounds of retries", WAIT, || {
        read(stderr_file(&d)).lines().count() >= before + 4
    });
    let n = read(stderr_file(&d)).lines().count() - before;
    assert!(
        n <= 2 * 2 * (t0.elapsed().as_secs() as usize + 1),
        "{n} retries"
    );
    // Once ./run appears it is started.
    write_script(d.join("run"), "#!/bin/sh\nexec sleep 1000\n");
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat >/dev/null\n");
    wait_running(&d);
    wait_running(&d.join("log"));
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn garbage_on_the_control_fifo_is_ignored() {
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    make_service(&d, SLEEP_RUN);
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    let p = wait_running(&d);
    let junk: Vec<u8> = (0..20_000u32)
        .map(|i| (i * 7919 % 251) as u8)
        .filter(|b| !b"udoxtkpchaiq12".contains(b))
        .collect();
    for chunk in junk.chunks(4000) {
        send_control(&d, chunk).unwrap();
    }
    send_control(&d, b"\0\n\xff zzz").unwrap();
    // Still alive, still the same service, still obeying: a pause sent
    // after the junk takes effect, so all of it has been read.
    send_control(&d, b"p").unwrap();
    wait_status(&d, "paused after the junk", |s| s.paused);
    assert!(alive(pid));
    assert_eq!(status_of(&d).unwrap().pid, p);
    send_control(&d, b"d").unwrap();
    wait_down(&d);
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn deleted_status_files_are_recreated() {
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    make_service(&d, SLEEP_RUN);
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    for f in ["status", "stat", "pid"] {
        std::fs::remove_file(d.join("supervise").join(f)).unwrap();
    }
    send_control(&d, b"d").unwrap();
    wait_down(&d);
    assert_eq!(read(d.join("supervise/stat")), "down\n");
    assert!(d.join("supervise/pid").exists());
    // With supervise/ gone entirely runsv warns and carries on.
    std::fs::remove_dir_all(d.join("supervise")).unwrap();
    let mut c = sb.command("sh");
    c.arg("-c").arg("true");
    sb.run(c);
    kill(pid, rustix::process::Signal::TERM);
    assert_eq!(sb.wait_exit(pid, WAIT).code(), Some(0));
    sb.assert_no_leaks();
}

/// Voluntary context switches of a process.
fn switches(pid: u32) -> u64 {
    read(format!("/proc/{pid}/status"))
        .lines()
        .find(|l| l.starts_with("voluntary_ctxt_switches"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[test]
fn idle_runsv_does_not_wake_up() {
    let mut sb = Sandbox::new();
    let d = logged_service(sb.path());
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_running(&d);
    wait_running(&d.join("log"));
    std::thread::sleep(Duration::from_millis(200));
    let before = switches(pid);
    assert_stays("runsv asleep while idle", QUIET, || switches(pid) == before);
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

#[test]
fn services_stdout_goes_to_the_log_stderr_is_inherited() {
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    make_service(
        &d,
        "#!/bin/sh\necho to-log\necho to-stderr >&2\nexec sleep 1000\n",
    );
    write_script(d.join("log/run"), "#!/bin/sh\nexec cat >> out\n");
    let pid = start_runsv(&mut sb, &bin("runsv"), &d);
    wait_until("log line", WAIT, || read(d.join("log/out")) == "to-log\n");
    wait_until("stderr line", WAIT, || {
        read(stderr_file(&d)).contains("to-stderr")
    });
    let _ = Stdio::null();
    stop_runsv(&mut sb, pid, &d).unwrap();
    sb.assert_no_leaks();
}

/// What a child inherits from runsv: signal dispositions and mask, its
/// argv[0], its working directory and its open descriptors. runsv starts
/// children with a bare fork and exec, so each of these is set by hand;
/// compare with the reference runsv.
#[test]
fn children_inherit_what_runits_children_inherit() {
    let probe = "grep -E '^Sig(Ign|Blk)' /proc/self/status; echo \"argv0=$0 cwd=$(pwd -P | sed 's,.*/,,')\"; for f in /proc/$$/fd/*; do readlink $f; done | grep -c supervise";
    let mut results = Vec::new();
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    for suite in suites {
        let mut sb = Sandbox::new();
        let d = sb.path().join("svc");
        make_service(
            &d,
            &format!(
                "#!/bin/sh\n{{ {probe}; }} > probe.new; mv probe.new probe\nexec sleep 1000\n"
            ),
        );
        write_script(
            d.join("log/run"),
            &format!(
                "#!/bin/sh\n{{ {probe}; }} > probe.new; mv probe.new probe\nexec cat >/dev/null\n"
            ),
        );
        let pid = start_runsv(&mut sb, &suite.runsv, &d);
        wait_until("main probe", WAIT, || d.join("probe").exists());
        wait_until("log probe", WAIT, || d.join("log/probe").exists());
        results.push((read(d.join("probe")), read(d.join("log/probe"))));
        stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
        sb.assert_no_leaks();
    }
    let (main, log) = &results[0];
    // Rust ignores SIGPIPE at start-up; the service must not inherit that.
    let ignored = main
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:\t"))
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .expect("SigIgn line");
    assert_eq!(ignored & (1 << (13 - 1)), 0, "SIGPIPE ignored: {main}");
    assert!(main.contains("SigBlk:\t0000000000000000"), "{main}");
    assert!(main.contains("argv0=./run cwd=svc"), "{main}");
    assert!(log.contains("argv0=./run cwd=log"), "{log}");
    if results.len() == 2 {
        assert_eq!(results[0], results[1], "ours vs runit 2.1.2");
    }
}

/// runsv keeps supervising when nobody reads its standard error any more:
/// its warnings fail quietly instead of killing it. runit's runsv dies of
/// SIGPIPE there (a deliberate difference, checked against the reference).
#[test]
fn runsv_survives_a_closed_stderr_pipe() {
    let mut suites = vec![(Suite::ours(), true)];
    if let Some(r) = reference() {
        suites.push((Suite::theirs(r), false));
    }
    for (suite, survives) in suites {
        let mut sb = Sandbox::new();
        let d = sb.path().join("svc");
        make_service(&d, "#!/bin/sh\necho $$ >> ../pids\nexec sleep 1000\n");
        // Close-on-exec: a process another test starts meanwhile must not
        // inherit the read end and keep the pipe open.
        let (r, w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        let mut c = sb.command(&suite.runsv);
        c.arg(&d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(w));
        let pid = sb.spawn(c);
        drop(r);
        let pids = sb.path().join("pids");
        let count = || read(&pids).lines().count();
        let last = || -> u32 { read(&pids).lines().last().unwrap().parse().unwrap() };
        wait_until("first start", WAIT, || count() == 1);
        // With supervise/ gone, every status update is a warning on stderr.
        std::fs::rename(d.join("supervise"), d.join("supervise.gone")).unwrap();
        for n in 1..=2 {
            kill(last(), rustix::process::Signal::KILL);
            wait_until("a restart or runsv's death", WAIT, || {
                count() == n + 1 || !alive(pid)
            });
        }
        assert_eq!(alive(pid), survives, "{}", suite.runsv.display());
        std::fs::rename(d.join("supervise.gone"), d.join("supervise")).unwrap();
        if survives {
            stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
        } else {
            kill(last(), rustix::process::Signal::KILL);
            sb.kill_all();
        }
        sb.assert_no_leaks();
    }
}

/// ./run is forked before runsv opens supervise/ok, so an ok that cannot
/// be opened then is only a warning, retried at every status write; a
/// later failure must not end runsv either, not even in the second
/// between a quick death and the restart (it did: the retry counted as
/// runit's fatal "nothing started" case whenever the service was down).
/// A socket is such an ok: mkfifo leaves it, O_PATH opens it, a read
/// open fails. runit 2.1.2 opens ok before ./run and exits 111 on it.
#[test]
fn an_unopenable_ok_never_ends_runsv_once_run_started() {
    if let Some(r) = reference() {
        // The difference on purpose: runit's fails before ./run.
        let sb = Sandbox::new();
        let d = sb.join("svc");
        make_service(&d, SLEEP_RUN);
        std::fs::create_dir(d.join("supervise")).unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(d.join("supervise/ok")).unwrap();
        let (code, err) = runsv_once(&sb, &r.runit("runsv"), &["svc"]);
        assert_eq!(code, Some(111), "{err}");
        assert!(err.contains("fatal: unable to read supervise/ok"), "{err}");
    }
    let mut sb = Sandbox::new();
    let d = sb.path().join("svc");
    make_service(&d, "#!/bin/sh\necho $$ >> ../pids\nexec sleep 1000\n");
    std::fs::create_dir(d.join("supervise")).unwrap();
    let sock = std::os::unix::net::UnixListener::bind(d.join("supervise/ok")).unwrap();
    let err = sb.path().join("err");
    let mut c = sb.command(&Suite::ours().runsv);
    c.arg(&d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let pid = sb.spawn(c);
    let pids = sb.path().join("pids");
    let count = || read(&pids).lines().count();
    let last = || -> u32 { read(&pids).lines().last().unwrap().parse().unwrap() };
    wait_until("first start", WAIT, || count() == 1);
    for n in 1..=2 {
        // Within the first second of the run: the restart is held back a
        // second, and runsv writes the status (and retries ok) meanwhile.
        kill(last(), rustix::process::Signal::KILL);
        wait_until("a restart or runsv's death", WAIT, || {
            count() == n + 1 || !alive(pid)
        });
        assert!(alive(pid), "runsv died: {}", read(&err));
    }
    let text = read(&err);
    assert!(
        text.contains("warning: unable to read supervise/ok"),
        "{text}"
    );
    assert!(!text.contains("fatal"), "{text}");
    drop(sock);
    sb.kill_all();
    sb.assert_no_leaks();
}

/// Started with descriptors 0-2 closed (as some inits do), runsv gives
/// its service /dev/null there. runit's hands the service its own
/// self-pipe as standard input and leaves 1 and 2 closed (checked against
/// the reference).
#[test]
fn closed_standard_descriptors_become_dev_null() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    let mut seen = Vec::new();
    for suite in suites {
        let mut sb = Sandbox::new();
        let d = sb.path().join("svc");
        make_service(
            &d,
            "#!/bin/sh\nx=$(readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2)\necho \"$x\" > fds.new; mv fds.new fds\nexec sleep 1000\n",
        );
        let mut c = sb.command("sh");
        c.arg("-c")
            .arg("exec \"$0\" \"$1\" <&- >&- 2>&-")
            .arg(&suite.runsv)
            .arg(&d);
        let pid = sb.spawn(c);
        wait_until("fds", WAIT, || d.join("fds").exists());
        seen.push(read(d.join("fds")));
        stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
        sb.assert_no_leaks();
    }
    assert_eq!(seen[0], "/dev/null\n/dev/null\n/dev/null\n");
    if let Some(theirs) = seen.get(1) {
        assert!(theirs.starts_with("pipe:"), "runit 2.1.2: {theirs:?}");
    }
}

/// While ./finish runs, runit's runsv sends no signal for `h a i q 1 2 p c
/// t` and runs no control script for them; `p` and `c` only set and clear
/// the paused flag. Each letter is sent during ./finish to ours and to the
/// reference; what ./finish received, which scripts ran and the status
/// files must agree.
#[test]
fn finish_gets_no_signal_commands_like_runit() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    // One thread per suite and letter: each waits mostly on ./finish.
    let results: Vec<(&str, Vec<String>)> = suites
        .into_iter()
        .map(|suite| {
            let threads: Vec<_> = b"haiq12pct"
                .iter()
                .map(|&l| {
                    let suite = suite.clone();
                    std::thread::spawn(move || letter_during_finish(&suite, l))
                })
                .collect();
            (suite.name, threads)
        })
        .map(|(name, threads)| {
            (
                name,
                threads.into_iter().map(|h| h.join().unwrap()).collect(),
            )
        })
        .collect();
    for line in &results[0].1 {
        // ./finish got nothing; only control/t and control/d (of the `d` that
        // stopped ./run) ran.
        assert!(line.contains("fsigs=[done] ctl=[t,d]"), "ours: {line}");
    }
    assert!(
        results[0].1[6].contains("paused=1"),
        "{:?}",
        results[0].1[6]
    );
    if let Some((_, theirs)) = results.get(1) {
        assert_eq!(&results[0].1, theirs, "ours vs runit 2.1.2");
    }
}

/// One letter sent while ./finish runs; returns what was seen.
fn letter_during_finish(suite: &Suite, letter: u8) -> String {
    let mut sb = Sandbox::new();
    let d = sb.join("svc");
    make_service(&d, SLEEP_RUN);
    let traps: String = ["HUP", "ALRM", "INT", "QUIT", "USR1", "USR2", "TERM", "CONT"]
        .iter()
        .map(|s| format!("trap 'echo {s} >> fsigs' {s}\n"))
        .collect();
    write_script(
        d.join("finish"),
        &format!(
            "#!/bin/sh\n{traps}echo > fready\nwhile [ ! -e stopfin ]; do sleep 0.02; done\necho done >> fsigs\n"
        ),
    );
    for c in "haiq12pctd".chars() {
        write_script(
            d.join("control").join(c.to_string()),
            &format!("#!/bin/sh\necho {c} >> ctl\nexit 1\n"),
        );
    }
    let pid = start_runsv(&mut sb, &suite.runsv, &d);
    wait_running(&d);
    send_control(&d, b"d").unwrap();
    wait_until("./finish ready", WAIT, || d.join("fready").exists());
    send_control(&d, &[letter]).unwrap();
    // `u` then `d` behind the letter: once their wants show, the letter has
    // been acted on (bytes are taken in order).
    send_control(&d, b"u").unwrap();
    wait_status(&d, "want up", |s| s.wants_up());
    send_control(&d, b"d").unwrap();
    wait_status(&d, "want down", |s| s.wants_down());
    let during = format!("{} {:?}", masked_status(&d), read(d.join("supervise/stat")));
    // A signal sent meanwhile has been trapped by the time ./finish ends.
    std::fs::write(d.join("stopfin"), "").unwrap();
    wait_until("./finish done", WAIT, || {
        read(d.join("fsigs")).contains("done")
    });
    wait_down(&d);
    let after = format!("{} {:?}", masked_status(&d), read(d.join("supervise/stat")));
    let line = format!(
        "{}: during {during} after {after} fsigs=[{}] ctl=[{}]",
        letter as char,
        read(d.join("fsigs")).trim().replace('\n', ","),
        read(d.join("ctl")).trim().replace('\n', ","),
    );
    stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
    sb.assert_no_leaks();
    line
}

/// A service that records each start of ./run, normally down.
fn counting_service(sb: &Sandbox) -> std::path::PathBuf {
    let d = sb.join("svc");
    make_service(&d, "#!/bin/sh\necho $$ >> runs\nexec sleep 1000\n");
    std::fs::write(d.join("down"), "").unwrap();
    d
}

fn starts(d: &Path) -> usize {
    read(d.join("runs")).lines().count()
}

/// `o` (and `u`) sent right after a quick exit, inside runit's one-second
/// pause, start ./run when the pause is over; with the reference too.
#[test]
fn once_and_up_right_after_a_quick_exit_start_run() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    for suite in suites {
        for (cmd, want_up) in [(b"o", false), (b"u", true)] {
            let mut sb = Sandbox::new();
            let d = counting_service(&sb);
            let pid = start_runsv(&mut sb, &suite.runsv, &d);
            send_control(&d, b"u").unwrap();
            wait_running(&d);
            wait_until("first start", WAIT, || starts(&d) == 1);
            send_control(&d, b"d").unwrap();
            wait_down(&d);
            send_control(&d, cmd).unwrap();
            wait_until("./run started again", WAIT, || starts(&d) == 2);
            let p = wait_running(&d);
            let st = status_of(&d).unwrap();
            assert_eq!(st.wants_up(), want_up, "{} {}", suite.name, cmd[0] as char);
            kill(p, rustix::process::Signal::KILL);
            stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
            sb.assert_no_leaks();
        }
    }
}

/// `do` or `du` in one write: the `o` or `u` is read while ./run is still
/// going away after the `d`'s TERM. runit reaps between bytes and so (when
/// ./run dies at once) starts it again; ours must, always.
#[test]
fn once_behind_a_down_in_one_write_is_not_lost() {
    for bytes in [b"do", b"du"] {
        let mut sb = Sandbox::new();
        let d = counting_service(&sb);
        let pid = start_runsv(&mut sb, &bin("runsv"), &d);
        send_control(&d, b"u").unwrap();
        wait_running(&d);
        wait_until("first start", WAIT, || starts(&d) == 1);
        send_control(&d, bytes).unwrap();
        wait_until("./run started again", WAIT, || starts(&d) == 2);
        let p = wait_running(&d);
        kill(p, rustix::process::Signal::KILL);
        if bytes == b"do" {
            // Once means once: down now, and no restart after the pause.
            wait_down(&d);
            send_control(&d, b"x").unwrap();
            sb.wait_exit(pid, WAIT);
            assert_eq!(starts(&d), 2);
        } else {
            wait_until("restarted", WAIT, || starts(&d) == 3);
            kill(wait_running(&d), rustix::process::Signal::KILL);
            stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
        }
        sb.assert_no_leaks();
    }
}

/// A ./run that leaves runsv's process group (chpst -P: setsid) is still
/// reaped, and ./finish gets its exit code, as with runit (which waits
/// for any child). Ours used to wait only for its own process group, so
/// such a service stayed "run" forever.
#[test]
fn a_run_in_its_own_session_is_reaped() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    let chpst = bin("chpst");
    for suite in suites {
        let mut sb = Sandbox::new();
        let d = sb.path().join("svc");
        make_service(
            &d,
            &format!("#!/bin/sh\nexec {} -P sh -c 'exit 3'\n", chpst.display()),
        );
        write_script(
            d.join("finish"),
            "#!/bin/sh\necho \"$@\" > args.new; mv args.new args\n",
        );
        let pid = start_runsv(&mut sb, &suite.runsv, &d);
        wait_until("./finish with run's exit code", WAIT, || {
            read(d.join("args")) == "3 0\n"
        });
        stop_runsv(&mut sb, pid, &d).expect("runsv exits on x");
        sb.assert_no_leaks();
    }
}

/// A death and the restart right after it: ours writes the status files
/// once, after the fork, runit twice (down, then run). What is left on
/// disk is the same, written after the death; ./finish, which runs
/// between, still finds "finish" in supervise/stat under both.
#[test]
fn a_restart_after_a_death_leaves_runits_files() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    let mut seen = Vec::new();
    for suite in suites {
        let mut sb = Sandbox::new();
        let d = sb.join("svc");
        make_service(&d, SLEEP_RUN);
        write_script(
            d.join("finish"),
            "#!/bin/sh\ncat supervise/stat >> finish.log\n",
        );
        let runsv = start_runsv(&mut sb, &suite.runsv, &d);
        let first = wait_running(&d);
        // Up over a second: runit restarts it at once.
        std::thread::sleep(Duration::from_millis(1100));
        let killed = std::time::SystemTime::now();
        kill(first, rustix::process::Signal::KILL);
        wait_status(&d, "the next ./run", |s| {
            s.pid != 0 && s.pid != first && s.state == RunState::Run
        });
        let second = wait_running(&d);
        for f in ["pid", "stat", "status"] {
            let m = std::fs::metadata(d.join("supervise").join(f)).unwrap();
            assert!(
                m.modified().unwrap() >= killed - Duration::from_millis(20),
                "{}: supervise/{f} not rewritten after the death",
                suite.name
            );
        }
        assert_eq!(read(d.join("supervise/pid")), format!("{second}\n"));
        seen.push((
            read(d.join("supervise/stat")),
            masked_status(&d),
            read(d.join("finish.log")),
        ));
        stop_runsv(&mut sb, runsv, &d).expect("runsv exits on x");
        sb.assert_no_leaks();
    }
    assert_eq!(seen[0].0, "run\n");
    assert_eq!(seen[0].2, "finish\n");
    if seen.len() == 2 {
        assert_eq!(seen[0], seen[1], "ours, then runit's");
    }
}

/// runsv writes its first status after ./run's fork and opens
/// supervise/ok only after that write: a client that reaches runsv (opens
/// ok for writing, as sv does) must find the status record there, with
/// both a fresh supervise/ and one left by an earlier runsv (whose stale
/// record must not be what it reads). Runs against runit's runsv too.
#[test]
fn a_client_reaching_runsv_finds_its_status_written() {
    let mut suites = vec![Suite::ours()];
    if let Some(r) = reference() {
        suites.push(Suite::theirs(r));
    }
    for suite in suites {
        let mut sb = Sandbox::new();
        let d = sb.join("svc");
        make_service(&d, SLEEP_RUN);
        for round in 0..20 {
            // Every other round keeps the files of the round before.
            if round % 2 == 0 {
                let _ = std::fs::remove_dir_all(d.join("supervise"));
            }
            let before = std::time::SystemTime::now();
            let runsv = start_runsv(&mut sb, &suite.runsv, &d);
            let ok = d.join("supervise/ok");
            let t = Instant::now();
            let reached = loop {
                let open = std::fs::OpenOptions::new()
                    .write(true)
                    .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                    .open(&ok);
                if open.is_ok() {
                    break true;
                }
                if t.elapsed() > Duration::from_secs(10) {
                    break false;
                }
                std::hint::spin_loop();
            };
            assert!(reached, "{}: supervise/ok never opened", suite.name);
            let st = std::fs::metadata(d.join("supervise/status"));
            assert!(
                st.as_ref().is_ok_and(|m| m.len() == 20
                    && m.modified().unwrap() >= before - Duration::from_millis(20)),
                "{} round {round}: ok opened before this runsv's status was written: {st:?}",
                suite.name
            );
            wait_running(&d);
            stop_runsv(&mut sb, runsv, &d).expect("runsv exits on x");
        }
        sb.assert_no_leaks();
    }
}

/// supervise/ok that cannot be opened, with nothing to start (a `down`
/// file): runit's message and exit code, though ours opens ok only at its
/// first status write (compared with runit's runsv).
#[test]
fn an_ok_that_cannot_be_opened_is_fatal_before_any_start() {
    let Some(r) = reference() else { return };
    for runsv in [bin("runsv"), r.runit("runsv")] {
        let sb = Sandbox::new();
        let d = sb.join("svc");
        make_service(&d, SLEEP_RUN);
        std::fs::write(d.join("down"), "").unwrap();
        std::fs::create_dir(d.join("supervise")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("supervise/ok")).unwrap();
        assert_eq!(
            runsv_once(&sb, &runsv, &["svc"]),
            (
                Some(111),
                "runsv svc: fatal: unable to read supervise/ok: file does not exist\n".into()
            ),
            "{}",
            runsv.display()
        );
    }
}
