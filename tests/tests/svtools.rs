//! svok, svstat, svc, tai64n and tai64nlocal: differential tests against
//! daemontools 0.76's own binaries (same inputs, outputs and exit codes
//! compared), the tools driving live supervisors (daemontools' supervise,
//! runit's runsv and ours), and the svscan.rc stop sequence from the
//! busybox/daemontools notes run end to end.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use runit_tests::*;
use rustix::fs::{mkfifoat, open, Mode, OFlags, CWD};

/// One run's observable result.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

fn outcome(o: std::process::Output) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    Outcome {
        code: o.status.code(),
        signal: o.status.signal(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Runs `prog args` in `cwd` with stdin from `input`.
fn run_with(sb: &Sandbox, prog: &Path, args: &[&OsStr], cwd: &Path, input: &[u8]) -> Outcome {
    let mut c = sb.command(prog);
    c.args(args).current_dir(cwd);
    outcome(feed(c, input))
}

fn feed(mut c: Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    out
}

fn run(sb: &Sandbox, prog: &Path, args: &[&str], cwd: &Path) -> Outcome {
    let a: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    run_with(sb, prog, &a, cwd, b"")
}

/// `NN seconds` -> `N seconds`: two runs a moment apart may see different
/// ages.
fn norm_seconds(s: &str) -> String {
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        let mut words: Vec<String> = line.split(' ').map(str::to_string).collect();
        for i in 1..words.len() {
            if words[i].starts_with("seconds") && words[i - 1].bytes().all(|b| b.is_ascii_digit()) {
                words[i - 1] = "N".into();
            }
        }
        out.push_str(&words.join(" "));
    }
    out
}

/// Our tool and daemontools' of the same name.
fn pair(name: &str) -> Option<(PathBuf, PathBuf)> {
    let r = reference()?;
    Some((bin(name), r.daemontools(name)))
}

fn mkfifo(p: &Path) {
    mkfifoat(CWD, p, Mode::from_raw_mode(0o600)).unwrap();
}

/// Opens a FIFO for reading without blocking: while the fd is held, the
/// FIFO has a reader, as if a supervisor ran.
fn hold(p: &Path) -> OwnedFd {
    open(
        p,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap()
}

/// Everything queued in a held FIFO.
fn drain(fd: &OwnedFd) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n) = rustix::io::read(fd, &mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    all
}

fn now_tai() -> u64 {
    let s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    supervise_proto::tai64::TAI64_UNIX_OFFSET + s
}

/// A status record: stamp `age` seconds ago (negative: in the future),
/// little-endian pid, paused, want, and runit's two extra bytes if given.
fn record(age: i64, pid: u32, paused: u8, want: u8, runit: Option<(u8, u8)>) -> Vec<u8> {
    let secs = (now_tai() as i64 - age) as u64;
    let mut b = secs.to_be_bytes().to_vec();
    b.extend_from_slice(&123_456_500u32.to_be_bytes());
    b.extend_from_slice(&pid.to_le_bytes());
    b.push(paused);
    b.push(want);
    if let Some((term, state)) = runit {
        b.push(term);
        b.push(state);
    }
    b
}

/// A service directory that looks supervised: `supervise/ok` (held open
/// unless `running` is false), `supervise/control`, and a status file.
fn fake_service(dir: &Path, status: Option<&[u8]>, running: bool, held: &mut Vec<OwnedFd>) {
    std::fs::create_dir_all(dir.join("supervise")).unwrap();
    mkfifo(&dir.join("supervise/ok"));
    mkfifo(&dir.join("supervise/control"));
    if running {
        held.push(hold(&dir.join("supervise/ok")));
    }
    if let Some(s) = status {
        std::fs::write(dir.join("supervise/status"), s).unwrap();
    }
}

#[test]
fn svok_exit_codes_match_daemontools() {
    let Some((ours, theirs)) = pair("svok") else {
        return;
    };
    let sb = Sandbox::new();
    let mut held = Vec::new();
    let d = sb.path();
    std::fs::create_dir(d.join("empty")).unwrap();
    std::fs::create_dir_all(d.join("okdir/supervise/ok")).unwrap();
    std::fs::create_dir(d.join("supfile")).unwrap();
    std::fs::write(d.join("supfile/supervise"), "").unwrap();
    std::fs::write(d.join("plainfile"), "").unwrap();
    fake_service(&d.join("running"), None, true, &mut held);
    fake_service(&d.join("stopped"), None, false, &mut held);
    let cases: &[&[&str]] = &[
        &[],
        &["/nonexistent/dir"],
        &["empty"],
        &["okdir"],
        &["supfile"],
        &["plainfile"],
        &["running"],
        &["stopped"],
        &["running", "stopped"],
        &["-x"],
        &["."],
        &[""],
    ];
    let mut codes = Vec::new();
    for args in cases {
        let a = run(&sb, &ours, args, d);
        let b = run(&sb, &theirs, args, d);
        assert_eq!(a, b, "svok {args:?}");
        codes.push(a.code.unwrap());
    }
    assert_eq!(
        codes,
        [100, 111, 100, 111, 111, 111, 0, 100, 0, 111, 100, 111]
    );
    drop(held);
}

#[test]
fn svstat_lines_match_daemontools() {
    let Some((ours, theirs)) = pair("svstat") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    // (name, status bytes, supervisor running, ./down present)
    let future = -1000;
    let cases: Vec<(&str, Option<Vec<u8>>, bool, bool)> = vec![
        ("up", Some(record(future, 4242, 0, b'u', None)), true, false),
        (
            "up-normally-down",
            Some(record(future, 4242, 0, b'u', None)),
            true,
            true,
        ),
        (
            "up-paused",
            Some(record(future, 4242, 1, b'u', None)),
            true,
            false,
        ),
        (
            "up-want-down",
            Some(record(future, 4242, 0, b'd', None)),
            true,
            false,
        ),
        (
            "up-once-dt",
            Some(record(future, 4242, 0, 0, None)),
            true,
            false,
        ),
        (
            "up-everything",
            Some(record(future, 4242, 1, b'd', None)),
            true,
            true,
        ),
        ("down", Some(record(future, 0, 0, b'd', None)), true, true),
        (
            "down-normally-up",
            Some(record(future, 0, 0, b'd', None)),
            true,
            false,
        ),
        (
            "down-want-up",
            Some(record(future, 0, 0, b'u', None)),
            true,
            false,
        ),
        (
            "down-want-up-normally-down",
            Some(record(future, 0, 0, b'u', None)),
            true,
            true,
        ),
        (
            "down-paused",
            Some(record(future, 0, 1, b'd', None)),
            true,
            true,
        ),
        ("old", Some(record(100_000, 7, 0, b'u', None)), true, false),
        (
            "runit-run",
            Some(record(future, 99, 0, b'u', Some((0, 1)))),
            true,
            false,
        ),
        (
            "runit-finish",
            Some(record(future, 98, 0, b'd', Some((0, 2)))),
            true,
            false,
        ),
        (
            "runit-got-term",
            Some(record(future, 97, 0, b'd', Some((1, 1)))),
            true,
            false,
        ),
        (
            "runit-down",
            Some(record(future, 0, 0, b'd', Some((0, 0)))),
            true,
            false,
        ),
        (
            "runit-bad-state",
            Some(record(future, 5, 0, b'u', Some((0, 9)))),
            true,
            false,
        ),
        (
            "nineteen",
            Some(record(future, 5, 0, b'u', Some((0, 1)))[..19].to_vec()),
            true,
            false,
        ),
        (
            "long",
            Some([record(future, 5, 0, b'u', Some((0, 1))), vec![7; 30]].concat()),
            true,
            false,
        ),
        (
            "short",
            Some(record(future, 5, 0, b'u', None)[..17].to_vec()),
            true,
            false,
        ),
        ("empty-status", Some(Vec::new()), true, false),
        ("no-status", None, true, false),
        (
            "not-running",
            Some(record(future, 5, 0, b'u', None)),
            false,
            false,
        ),
    ];
    for (name, status, running, down) in &cases {
        let dir = d.join(name);
        fake_service(&dir, status.as_deref(), *running, &mut held);
        if *down {
            std::fs::write(dir.join("down"), "").unwrap();
        }
    }
    std::fs::create_dir_all(d.join("status-dir/supervise/status")).unwrap();
    mkfifo(&d.join("status-dir/supervise/ok"));
    held.push(hold(&d.join("status-dir/supervise/ok")));
    std::fs::create_dir_all(d.join("down-loop/supervise")).unwrap();
    std::os::unix::fs::symlink("down", d.join("down-loop/down")).unwrap();
    std::fs::create_dir_all(d.join("down-dangling/supervise")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join("down-dangling/down")).unwrap();
    mkfifo(&d.join("down-dangling/supervise/ok"));
    std::fs::create_dir_all(d.join("ok-dir/supervise/ok")).unwrap();
    std::fs::create_dir(d.join("unsupervised")).unwrap();
    std::fs::write(d.join("plainfile"), "").unwrap();

    let mut args: Vec<String> = cases.iter().map(|c| c.0.to_string()).collect();
    for extra in [
        "down-loop",
        "down-dangling",
        "ok-dir",
        "unsupervised",
        "plainfile",
        "/nonexistent",
        "-x",
        "up",
        ".",
        "",
    ] {
        args.push(extra.into());
    }
    args.push(d.join("up").to_string_lossy().into_owned());
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let mine = run(&sb, &ours, &a, d);
    let ref_ = run(&sb, &theirs, &a, d);
    assert_eq!(mine.code, Some(0));
    assert_eq!(mine.stderr, "");
    assert_eq!(
        (norm_seconds(&mine.stdout), &mine.stderr, mine.code),
        (norm_seconds(&ref_.stdout), &ref_.stderr, ref_.code)
    );
    // Deterministic lines (stamps in the future read as 0 seconds).
    let lines: Vec<&str> = mine.stdout.lines().collect();
    for want in [
        "up: up (pid 4242) 0 seconds",
        "up-everything: up (pid 4242) 0 seconds, normally down, paused, want down",
        "up-once-dt: up (pid 4242) 0 seconds",
        "down-want-up: down 0 seconds, normally up, want up",
        "down-paused: down 0 seconds",
        "runit-finish: up (pid 98) 0 seconds, want down",
        "short: unable to read supervise/status: bad format",
        "no-status: unable to open supervise/status: file does not exist",
        "not-running: supervise not running",
        "down-loop: unable to stat down: symbolic link loop",
        "down-dangling: supervise not running",
        "ok-dir: unable to open supervise/ok: is a directory",
        "unsupervised: unable to open supervise/ok: file does not exist",
        "plainfile: unable to chdir: not a directory",
        "/nonexistent: unable to chdir: file does not exist",
        "-x: unable to chdir: file does not exist",
    ] {
        assert!(
            lines.contains(&want),
            "missing {want:?} in\n{}",
            mine.stdout
        );
    }
    assert!(
        lines.contains(&"old: up (pid 7) 100000 seconds")
            || lines.contains(&"old: up (pid 7) 100001 seconds")
    );
    // No arguments: nothing, status 0.
    assert_eq!(run(&sb, &ours, &[], d), run(&sb, &theirs, &[], d));
    // Deliberate difference: daemontools compares read(2)'s -1 with an
    // unsigned size, so a failed read passes as success and the line shows
    // the previous directory's record (or zeros). Ours says what happened.
    let ref_ = run(&sb, &theirs, &["up-paused", "status-dir"], d);
    assert_eq!(
        norm_seconds(&ref_.stdout),
        "up-paused: up (pid 4242) N seconds, paused\nstatus-dir: up (pid 4242) N seconds, paused\n"
    );
    let mine = run(&sb, &ours, &["up-paused", "status-dir"], d);
    assert_eq!(
        norm_seconds(&mine.stdout),
        "up-paused: up (pid 4242) N seconds, paused\n\
         status-dir: unable to read supervise/status: is a directory\n"
    );
    drop(held);
}

#[test]
fn svc_bytes_and_messages_match_daemontools() {
    let Some((ours, theirs)) = pair("svc") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let mut held = Vec::new();
    fake_service(&d.join("s1"), None, true, &mut held);
    fake_service(&d.join("s2"), None, true, &mut held);
    fake_service(&d.join("stopped"), None, false, &mut held);
    let c1 = hold(&d.join("s1/supervise/control"));
    let c2 = hold(&d.join("s2/supervise/control"));
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
        let a = run(&sb, &ours, args, d);
        let got_a = (drain(&c1), drain(&c2));
        let b = run(&sb, &theirs, args, d);
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

#[test]
fn tai64nlocal_matches_daemontools() {
    let Some((ours, theirs)) = pair("tai64nlocal") else {
        return;
    };
    let sb = Sandbox::new();
    let inputs: &[&[u8]] = &[
        b"@4000000037c219bf2ef02e94 mark\nplain\n",
        b"@4000000037c219bf2ef02e94mark\nx@4000000037c219bf2ef02e94\n",
        b"@4000000037c219bf2ef02e94\n@4000000037c219bf2ef02e94 \n",
        b"abc",
        b"",
        b"\n\n@400000000000000a00000000 x\n",
        b"@400000000000000affffffff x\n@00400000000000000a00000001 x\n",
        b"@400000000000000a00000001\r\n@3fffffffffffffff00000000 pre\n",
        b"@3ffffffff0000000000000ab pre\n",
        b"@400000006b01427a2544e6b4 up\n@400000006b01427a2544e6b4\tbinary \x00\xff\n",
        b"@4000000037c219bf2ef02e94 no newline at the end",
    ];
    for tz in ["UTC", "US/Pacific", "Europe/Berlin", "Asia/Kolkata"] {
        for input in inputs {
            let mut c = sb.command(&ours);
            c.env("TZ", tz);
            let a = outcome(feed(c, input));
            let mut c = sb.command(&theirs);
            c.env("TZ", tz);
            let b = outcome(feed(c, input));
            assert_eq!(a, b, "TZ={tz} input {:?}", String::from_utf8_lossy(input));
        }
    }
    // Where daemontools crashes (SIGSEGV: localtime fails) or drops a
    // stamp cut short by end of input, ours passes the text on.
    for (input, want) in [
        (&b"@\n"[..], &b"@\n"[..]),
        (b"@4000 short\n", b"@4000 short\n"),
        (
            b"@4000000037C219BF2EF02E94 upper\n",
            b"@4000000037C219BF2EF02E94 upper\n",
        ),
        (
            b"a\n@400000000000000a00000000",
            b"a\n1970-01-01 00:00:00.000000000",
        ),
    ] {
        let mut c = sb.command(&ours);
        c.env("TZ", "UTC");
        let a = outcome(feed(c, input));
        assert_eq!(a.code, Some(0));
        assert_eq!(a.stdout.as_bytes(), want);
    }
}

/// Replaces the 24 hex digits after each line's `@`.
fn norm_stamps(s: &str) -> String {
    s.split_inclusive('\n')
        .map(|l| match l.strip_prefix('@') {
            Some(rest) if rest.len() >= 24 && rest[..24].bytes().all(|b| b.is_ascii_hexdigit()) => {
                format!("@STAMP{}", &rest[24..])
            }
            _ => l.to_string(),
        })
        .collect()
}

#[test]
fn tai64n_matches_daemontools() {
    let Some((ours, theirs)) = pair("tai64n") else {
        return;
    };
    let sb = Sandbox::new();
    let d = sb.path();
    let inputs: &[&[u8]] = &[
        b"a\n\nb\n",
        b"",
        b"no newline",
        b"\x00\xff\r\n@x\n",
        &[b'y'; 20000],
    ];
    for input in inputs {
        let before = now_tai();
        let a = run_with(&sb, &ours, &[], d, input);
        let after = now_tai();
        let b = run_with(&sb, &theirs, &[], d, input);
        assert_eq!(
            (norm_stamps(&a.stdout), &a.stderr, a.code),
            (norm_stamps(&b.stdout), &b.stderr, b.code)
        );
        for line in a.stdout.split_inclusive('\n') {
            let t = supervise_proto::Tai64n::parse(&line[..25]).expect("stamp");
            assert!(t.secs >= before && t.secs <= after, "{line}");
            assert_eq!(t.nanos % 1000, 500);
            assert_eq!(&line[25..26], " ");
        }
    }
    // Trouble reading stdin or writing stdout: 111, silently.
    for prog in [&ours, &theirs] {
        let mut c = sb.command(prog);
        c.stdin(std::fs::File::open(d).unwrap());
        let o = outcome(c.output().unwrap());
        assert_eq!((o.code, o.stderr.as_str()), (Some(111), ""));
        let mut c = sb.command(prog);
        c.stdin(
            std::fs::File::open("/etc/hostname")
                .or_else(|_| std::fs::File::open("/proc/self/stat"))
                .unwrap(),
        );
        c.stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        );
        let o = outcome(c.output().unwrap());
        assert_eq!((o.code, o.stderr.as_str()), (Some(111), ""));
    }
    // Round trip through both tai64nlocals gives the same local times.
    let stamped = run_with(&sb, &ours, &[], d, b"one\ntwo\n").stdout;
    let mut c = sb.command(bin("tai64nlocal"));
    c.env("TZ", "UTC");
    let a = outcome(feed(c, stamped.as_bytes()));
    let mut c = sb.command(reference().unwrap().daemontools("tai64nlocal"));
    c.env("TZ", "UTC");
    let b = outcome(feed(c, stamped.as_bytes()));
    assert_eq!(a, b);
    assert!(a.stdout.lines().nth(1).unwrap().ends_with(" two"));
}

/// A run script that notes the signals it gets, so that svc's signal
/// options can be seen to arrive.
const SIGNAL_RUN: &str = "#!/bin/sh
for s in HUP ALRM INT; do trap \"echo $s >> ../signals\" $s; done
trap 'exit 0' TERM
while :; do sleep 0.05; done
";

/// Polls our svstat until its line for `dir` satisfies `ok`.
fn wait_status(sb: &Sandbox, dir: &Path, what: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for(what, WAIT, || {
        let o = run(sb, &bin("svstat"), &[dir.to_str().unwrap()], sb.path());
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
    let (svstat, their_svstat) = pair("svstat").unwrap();
    let (svok, their_svok) = pair("svok").unwrap();
    let a = run(sb, &svstat, &[d], sb.path());
    let b = run(sb, &their_svstat, &[d], sb.path());
    assert_eq!(norm_seconds(&a.stdout), norm_seconds(&b.stdout));
    assert_eq!((a.code, a.stderr), (b.code, b.stderr));
    assert_eq!(
        run(sb, &svok, &[d], sb.path()),
        run(sb, &their_svok, &[d], sb.path())
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
    assert_eq!(run(&sb, &bin("svok"), &[&sv], sb.path()).code, Some(100));
    let mut c = sb.command(supervisor);
    c.arg(&svc_dir).stdin(Stdio::null());
    let sup = sb.spawn(c);
    let svc_run = |opts: &str| {
        let o = run(&sb, &svc, &[opts, &sv], sb.path());
        assert_eq!((o.code, o.stderr.as_str()), (Some(0), ""), "svc {opts}");
    };

    let up = wait_status(&sb, &svc_dir, "up", |s| s.contains(": up (pid "));
    assert_eq!(run(&sb, &bin("svok"), &[&sv], sb.path()).code, Some(0));
    agree(&sb, &svc_dir);
    let first = pid_of(&up);

    svc_run("-p");
    wait_status(&sb, &svc_dir, "paused", |s| s.ends_with(", paused\n"));
    agree(&sb, &svc_dir);
    svc_run("-c");
    wait_status(&sb, &svc_dir, "continued", |s| s.ends_with(" seconds\n"));

    for (opt, sig) in [("-h", "HUP"), ("-a", "ALRM"), ("-i", "INT")] {
        svc_run(opt);
        wait_until(sig, WAIT, || read(sb.join("signals")).contains(sig));
    }

    svc_run("-t");
    let line = wait_status(&sb, &svc_dir, "restart after -t", |s| {
        s.contains("(pid ") && pid_of(s) != first
    });
    let second = pid_of(&line);
    svc_run("-k");
    wait_status(&sb, &svc_dir, "restart after -k", |s| {
        s.contains("(pid ") && pid_of(s) != second
    });

    svc_run("-o");
    if daemontools {
        // supervise stores want 0 for "once": no text for it.
        wait_until("want byte 0", WAIT, || {
            std::fs::read(svc_dir.join("supervise/status")).is_ok_and(|b| b.get(17) == Some(&0))
        });
    } else {
        wait_status(&sb, &svc_dir, "want down", |s| s.ends_with(", want down\n"));
    }
    agree(&sb, &svc_dir);
    svc_run("-u");
    wait_status(&sb, &svc_dir, "want up", |s| s.ends_with(" seconds\n"));

    svc_run("-d");
    wait_status(&sb, &svc_dir, "down", |s| {
        s.contains(": down ") && s.ends_with(", normally up\n")
    });
    agree(&sb, &svc_dir);
    svc_run("-u");
    wait_status(&sb, &svc_dir, "up again", |s| s.contains(": up (pid "));

    // Several options and directories at once: down and exit.
    let o = run(&sb, &svc, &["-dx", &sv, "/nonexistent"], sb.path());
    assert_eq!(o.code, Some(0));
    assert_eq!(
        o.stderr,
        "svc: warning: unable to chdir to /nonexistent: file does not exist\n"
    );
    let st = sb.wait_exit(sup, WAIT);
    assert!(st.success(), "supervisor exit {st:?}");
    assert_eq!(run(&sb, &bin("svok"), &[&sv], sb.path()).code, Some(100));
    assert_eq!(
        run(&sb, &bin("svstat"), &[&sv], sb.path()).stdout,
        format!("{sv}: supervise not running\n")
    );
    agree(&sb, &svc_dir);
    let o = run(&sb, &svc, &["-u", &sv], sb.path());
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

/// The stop half of the svscan.rc script quoted in the seed notes
/// (loggers told to exit once their service is gone, then services downed
/// and their supervisors told to exit), verbatim but for its PATH.
const SVSCAN_RC: &str = r#"#!/bin/sh
PATH=$TOOLS:/bin:/sbin:/usr/bin:/usr/sbin
SERVICES=${2:-"/service"}
exec </dev/null >/dev/null 2>&1
for log_dir in "$SERVICES"/*/log "$SERVICES"/.svscan/log; do
if [ -d "$log_dir" ] \
&& svok "$log_dir" \
&& svstat "$log_dir" | grep -q ": up"
then
svc -ox "$log_dir"
fi
done
svc -dx "$SERVICES"/*
"#;

/// A service that writes numbered lines (paced so that svlogd never
/// rotates within the test), and a last line when told to stop.
const CHATTY_RUN: &str = r#"#!/bin/sh
i=0
trap 'echo "last line after $i"; exit 0' TERM
while :; do i=$((i+1)); echo "line $i"; sleep 0.002; done
"#;

/// Which runsvdir and runsv supervise the tree.
#[derive(Clone, Copy)]
enum Tree {
    /// Our runsvdir starting our runsv.
    Ours,
    /// runit's runsvdir starting our runsv.
    TheirRunsvdir,
    /// runit's runsvdir and runsv: the script works there too.
    Runit,
}

#[test]
fn svscan_rc_stop_loses_no_log_line() {
    svscan_rc_stop(Tree::Ours);
}

#[test]
fn svscan_rc_stop_under_runit_runsvdir_with_our_runsv() {
    svscan_rc_stop(Tree::TheirRunsvdir);
}

#[test]
fn svscan_rc_stop_under_runit() {
    svscan_rc_stop(Tree::Runit);
}

fn svscan_rc_stop(tree: Tree) {
    let Some(r) = reference() else { return };
    let mut sb = Sandbox::new();
    let services = sb.join("service");
    let names = ["alpha", "beta", "gamma"];
    for n in names {
        make_service(&services.join(n), CHATTY_RUN);
        std::fs::create_dir_all(services.join(n).join("log/main")).unwrap();
        write_script(
            services.join(n).join("log/run"),
            &format!("#!/bin/sh\nexec {} ./main\n", r.runit("svlogd").display()),
        );
    }
    // A logged service that is normally down, and one without a log.
    make_service(&services.join("idle"), "#!/bin/sh\nexec sleep 1000\n");
    std::fs::write(services.join("idle/down"), "").unwrap();
    std::fs::create_dir_all(services.join("idle/log/main")).unwrap();
    write_script(
        services.join("idle/log/run"),
        &format!("#!/bin/sh\nexec {} ./main\n", r.runit("svlogd").display()),
    );
    make_service(&services.join("nolog"), "#!/bin/sh\nexec sleep 1000\n");

    // Supervision tree: runsvdir finds runsv on PATH.
    let (runsvdir, runsv_dir) = supervision_tree(r, tree);
    let path = format!("{}:/bin:/usr/bin", runsv_dir.display());
    let mut c = sb.command(&runsvdir);
    c.arg(&services).env("PATH", &path).stdin(Stdio::null());
    let rsd = sb.spawn(c);

    let svok = bin("svok");
    for n in names {
        let dir = services.join(n);
        wait_until("service and log supervised", WAIT, || {
            run(&sb, &svok, &[dir.to_str().unwrap()], sb.path()).code == Some(0)
                && run(&sb, &svok, &[dir.join("log").to_str().unwrap()], sb.path()).code == Some(0)
        });
        wait_until("some lines logged", WAIT, || {
            read(dir.join("log/main/current")).lines().count() > 50
        });
    }
    // The supervisors are the runsv we meant to test.
    let supervisors = wait_for("five runsv", WAIT, || {
        let exes: Vec<PathBuf> = sb
            .live_processes()
            .into_iter()
            .filter(|p| read(format!("/proc/{p}/cmdline")).starts_with("runsv\0"))
            .filter_map(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok())
            .collect();
        (exes.len() == 5).then_some(exes)
    });
    for exe in supervisors {
        assert_eq!(exe, runsv_dir.join("runsv").canonicalize().unwrap());
    }
    // As the script's notes say, the scanner must be gone first.
    kill(rsd, rustix::process::Signal::TERM);
    sb.wait_exit(rsd, WAIT);

    // The script finds our tools through wrappers that note each call.
    let tools = sb.join("tools");
    let trace = sb.join("trace");
    for t in ["svok", "svstat", "svc"] {
        write_script(
            tools.join(t),
            &format!(
                "#!/bin/sh\necho \"{t} $*\" >> {}\nexec {} \"$@\"\n",
                trace.display(),
                bin(t).display()
            ),
        );
    }
    write_script(sb.join("svscan.rc"), SVSCAN_RC);
    let mut c = sb.command("/bin/sh");
    c.arg(sb.join("svscan.rc"))
        .arg("stop")
        .arg(&services)
        .env("TOOLS", &tools);
    let o = sb.run(c);
    assert!(o.status.success(), "svscan.rc: {o:?}");
    let calls = read(&trace);
    let s = services.display();
    for n in ["alpha", "beta", "gamma", "idle"] {
        for call in [
            format!("svok {s}/{n}/log"),
            format!("svstat {s}/{n}/log"),
            format!("svc -ox {s}/{n}/log"),
        ] {
            assert!(calls.lines().any(|l| l == call), "no `{call}` in\n{calls}");
        }
    }
    let all = format!("svc -dx {s}/alpha {s}/beta {s}/gamma {s}/idle {s}/nolog");
    assert_eq!(calls.lines().last(), Some(all.as_str()), "{calls}");

    // Every supervisor and logger exits by itself.
    wait_until("tree gone", WAIT, || sb.live_processes().is_empty());
    for n in names {
        let log = read(services.join(n).join("log/main/current"));
        let mut expect = 1u64;
        let mut last = None;
        for line in log.lines() {
            if let Some(rest) = line.strip_prefix("line ") {
                assert_eq!(rest.parse::<u64>().unwrap(), expect, "{n}: gap in the log");
                expect += 1;
            } else if let Some(rest) = line.strip_prefix("last line after ") {
                last = Some(rest.parse::<u64>().unwrap());
            } else {
                panic!("{n}: unexpected log line {line:?}");
            }
        }
        assert_eq!(
            last,
            Some(expect - 1),
            "{n}: the service's last line is in the log"
        );
    }
    // svok and svstat now see no supervisor anywhere.
    for n in names {
        let dir = services.join(n);
        assert_eq!(
            run(&sb, &svok, &[dir.to_str().unwrap()], sb.path()).code,
            Some(100)
        );
        assert_eq!(
            run(&sb, &svok, &[dir.join("log").to_str().unwrap()], sb.path()).code,
            Some(100)
        );
    }
    sb.assert_no_leaks();
}

/// The runsvdir and the directory holding the runsv it will find on PATH.
/// `Tree::Ours` falls back to runit's runsvdir (still with our runsv) only
/// in a checkout that has no runsvdir crate to build.
fn supervision_tree(r: &Reference, tree: Tree) -> (PathBuf, PathBuf) {
    match tree {
        Tree::Ours if workspace_root().join("crates/runsvdir").exists() => {
            (bin("runsvdir"), bin_dir())
        }
        Tree::Ours | Tree::TheirRunsvdir => {
            if matches!(tree, Tree::Ours) {
                eprintln!("svtools: no runsvdir crate here; using runit's runsvdir with our runsv");
            }
            (r.runit("runsvdir"), bin_dir())
        }
        Tree::Runit => (r.runit("runsvdir"), r.dir.join("runit")),
    }
}
